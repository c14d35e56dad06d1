//! `require_fields`: fails the run, naming the field and the nearest existing one,
//! when a row lacks a field a later operator reads by name (`group_by(["pgae"])` would
//! otherwise group every row under null).

use std::sync::Arc;

use super::{Row, Schema};
use crate::error::{nearest_name, EngineError, Result};
use crate::operator::Operator;
use crate::record::Batch;

/// Checks each row's schema for `fields`; a schema already checked (the same `Arc`) is
/// not checked again, so rows that share their schema cost one pointer compare.
pub(crate) struct RequireFields {
    operator: String,
    fields: Arc<[String]>,
    checked: Option<Arc<Schema>>,
}

impl RequireFields {
    /// Rows must hold every one of `fields`, which `operator` reads.
    pub fn new(operator: impl Into<String>, fields: Arc<[String]>) -> Self {
        RequireFields {
            operator: operator.into(),
            fields,
            checked: None,
        }
    }

    fn check(&self, schema: &Schema) -> Result<()> {
        match self.fields.iter().find(|f| schema.index_of(f).is_none()) {
            None => Ok(()),
            Some(missing) => Err(EngineError::UnknownField {
                operator: self.operator.clone(),
                field: missing.clone(),
                suggestion: nearest_name(missing, schema.names()),
                available: schema.names().collect::<Vec<_>>().join(", "),
            }),
        }
    }
}

impl Operator for RequireFields {
    type In = Row;
    type Out = Row;

    fn process_batch(&mut self, input: Batch<Row>, output: &mut Batch<Row>) -> Result<()> {
        for r in &input {
            let schema = r.value.schema();
            if self
                .checked
                .as_ref()
                .is_some_and(|c| Arc::ptr_eq(c, schema))
            {
                continue;
            }
            self.check(schema)?;
            self.checked = Some(schema.clone());
        }
        output.extend(input);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;
    use crate::row::Value;

    #[test]
    fn a_missing_field_is_named_with_the_nearest_existing_one() {
        let row = Row::from_pairs([("page", Value::from("/home")), ("ts", Value::from(1))]);
        let mut op = RequireFields::new("group_by#2", Arc::from(vec!["pgae".to_string()]));
        let e = op
            .process_batch(vec![Record::new(0, row.clone())], &mut Vec::new())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`group_by#2`: unknown field `pgae` (did you mean `page`?); the schema has [page, ts]"
        );
        let mut ok = RequireFields::new("group_by#2", Arc::from(vec!["page".to_string()]));
        let mut out = Vec::new();
        ok.process_batch(vec![Record::new(0, row)], &mut out)
            .unwrap();
        assert_eq!(out.len(), 1);
    }
}
