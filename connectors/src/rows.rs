//! Rows of a declared schema from outside data: JSON objects and CSV cells, with the
//! field and what was found named when a value does not fit.

use std::sync::Arc;

use tidewater_engine::row::{DataType, Row, Schema, Value};

/// The value as a JSON object, read into a [`Row`] of a declared schema: each field
/// of the schema is taken from the object (missing or `null`: [`Value::Null`]; an
/// integer where a float is declared is widened); other keys are ignored, as Spark's
/// `from_json` does. A field of another type is an error naming it.
///
/// ```
/// use tidewater_connectors::rows::JsonRows;
/// use tidewater_engine::row::{DataType, Schema, Value};
/// let rows = JsonRows::new(Schema::new([("key", DataType::Str), ("value", DataType::Float)]));
/// let row = rows.parse(br#"{"key": "a", "value": 2, "extra": true}"#).unwrap();
/// assert_eq!(row.get("value"), Some(&Value::Float(2.0)));
/// assert_eq!(
///     rows.parse(br#"{"key": 7}"#).unwrap_err(),
///     "field `key`: expected str, found 7"
/// );
/// ```
#[derive(Debug, Clone)]
pub struct JsonRows {
    schema: Arc<Schema>,
}

impl JsonRows {
    /// Rows of `schema`.
    pub fn new(schema: Schema) -> Self {
        JsonRows {
            schema: Arc::new(schema),
        }
    }

    /// Reads one JSON object into a row.
    pub fn parse(&self, bytes: &[u8]) -> Result<Row, String> {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let values = self
            .schema
            .fields
            .iter()
            .map(|f| {
                let json = object.get(&f.name).unwrap_or(&serde_json::Value::Null);
                convert(json, f.data_type).ok_or_else(|| {
                    format!(
                        "field `{}`: expected {}, found {json}",
                        f.name,
                        type_name(f.data_type)
                    )
                })
            })
            .collect::<Result<Vec<Value>, String>>()?;
        Ok(Row::new(self.schema.clone(), values))
    }
}

fn type_name(t: DataType) -> &'static str {
    match t {
        DataType::Bool => "bool",
        DataType::Int => "int",
        DataType::Float => "float",
        DataType::Str => "str",
        DataType::Null => "null",
    }
}

fn convert(json: &serde_json::Value, t: DataType) -> Option<Value> {
    use serde_json::Value as J;
    Some(match (json, t) {
        (J::Null, _) => Value::Null,
        (J::Bool(b), DataType::Bool) => Value::Bool(*b),
        (J::Number(n), DataType::Int) => Value::Int(n.as_i64()?),
        (J::Number(n), DataType::Float) => Value::Float(n.as_f64()?),
        (J::String(s), DataType::Str) => Value::Str(s.clone()),
        _ => return None,
    })
}

/// A CSV cell as a value of type `t`: empty is null; a cell that does not parse as
/// the type is an error naming it.
///
/// ```
/// use tidewater_connectors::rows::typed_cell;
/// use tidewater_engine::row::{DataType, Value};
/// assert_eq!(typed_cell("42", DataType::Float), Ok(Value::Float(42.0)));
/// assert_eq!(typed_cell("", DataType::Int), Ok(Value::Null));
/// assert_eq!(typed_cell("4x", DataType::Int).unwrap_err(), "expected int, found `4x`");
/// ```
pub fn typed_cell(s: &str, t: DataType) -> Result<Value, String> {
    if s.is_empty() {
        return Ok(Value::Null);
    }
    let parsed = match t {
        DataType::Int => s.parse().ok().map(Value::Int),
        DataType::Float => s.parse().ok().map(Value::Float),
        DataType::Bool => s.parse().ok().map(Value::Bool),
        DataType::Str => Some(Value::Str(s.to_string())),
        DataType::Null => Some(Value::Null),
    };
    parsed.ok_or_else(|| format!("expected {}, found `{s}`", type_name(t)))
}

/// A batch's records as rows: rows are taken as they are, other records go through
/// serde (structs and maps become rows; nested values become JSON text).
pub(crate) fn into_rows<T: serde::Serialize + 'static>(
    mut batch: tidewater_engine::record::Batch<T>,
) -> tidewater_engine::error::Result<Vec<Row>> {
    match (&mut batch as &mut dyn std::any::Any)
        .downcast_mut::<tidewater_engine::record::Batch<Row>>()
    {
        Some(records) => Ok(std::mem::take(records)
            .into_iter()
            .map(|r| r.value)
            .collect()),
        None => batch.iter().map(|r| Row::from_serde(&r.value)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_take_declared_fields_and_name_the_wrong_one() {
        let rows = JsonRows::new(Schema::new([
            ("k", DataType::Str),
            ("n", DataType::Int),
            ("x", DataType::Float),
            ("b", DataType::Bool),
        ]));
        type Case<'a> = (&'a [u8], Result<Vec<Value>, &'a str>);
        // (input, values or error)
        let cases: [Case; 5] = [
            (
                br#"{"k":"a","n":3,"x":1.5,"b":true}"#,
                Ok(vec![
                    Value::Str("a".into()),
                    Value::Int(3),
                    Value::Float(1.5),
                    Value::Bool(true),
                ]),
            ),
            (
                br#"{"k":null,"x":2}"#,
                Ok(vec![
                    Value::Null,
                    Value::Null,
                    Value::Float(2.0),
                    Value::Null,
                ]),
            ),
            (br#"{"n":1.5}"#, Err("field `n`: expected int, found 1.5")),
            (
                br#"{"b":"yes"}"#,
                Err("field `b`: expected bool, found \"yes\""),
            ),
            (
                b"[1]",
                Err("invalid type: sequence, expected a map at line 1 column 0"),
            ),
        ];
        for (input, expected) in cases {
            let got = rows.parse(input).map(|r| r.values().to_vec());
            assert_eq!(
                got,
                expected.map_err(String::from),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
