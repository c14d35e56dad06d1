//! Rows built from (name, value) pairs with shared schemas.

use std::sync::Arc;

use tidewater_engine::row::{DataType, Row, Schema, Value};

/// Builds rows from (name, value) pairs, sharing one schema between consecutive rows
/// with the same fields and types (the common case) instead of allocating one per row.
/// A row's types are its values' types, as with [`Row::from_pairs`], so the rows equal
/// rows built that way.
///
/// ```
/// use tidewater_engine::row::{Row, Value};
/// use tidewater_formats::RowBuilder;
///
/// let mut rows = RowBuilder::default();
/// let a = rows.build(vec![("n".to_string(), Value::Int(1))]);
/// let b = rows.build(vec![("n".to_string(), Value::Int(2))]);
/// assert!(std::sync::Arc::ptr_eq(a.schema(), b.schema()));
/// assert_eq!(b, Row::from_pairs([("n", Value::Int(2))]));
/// ```
#[derive(Debug, Default)]
pub struct RowBuilder {
    last: Option<Arc<Schema>>,
}

impl RowBuilder {
    /// The row of these fields, in this order.
    pub fn build(&mut self, pairs: Vec<(String, Value)>) -> Row {
        if let Some(schema) = &self.last {
            let same = schema.fields.len() == pairs.len()
                && schema.fields.iter().zip(&pairs).all(|(f, (name, value))| {
                    f.name == *name && f.data_type == DataType::of(value)
                });
            if same {
                return Row::new(schema.clone(), pairs.into_iter().map(|(_, v)| v).collect());
            }
        }
        let row = Row::from_pairs(pairs);
        self.last = Some(row.schema().clone());
        row
    }
}
