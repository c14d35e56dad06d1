//! Dynamic rows: named fields of a small [`Value`] enum, with a [`Schema`].
//!
//! Rows serve declarative pipelines and name-based aggregation
//! (`group_by(["page"])`, `agg([count("*").alias("n")])`), and convert to and from any
//! serde type.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tidewater_engine::prelude::*;
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Order { user: String, amount: f64 }
//!
//! let row = Row::from_serde(&Order { user: "ann".into(), amount: 12.5 }).unwrap();
//! assert_eq!(row.get("amount"), Some(&Value::Float(12.5)));
//! let back: Order = row.to_serde().unwrap();
//! assert_eq!(back, Order { user: "ann".into(), amount: 12.5 });
//! ```

pub mod agg;
mod event_time;
mod require_fields;
mod schema;
mod stream;
mod value;

pub use agg::{AggExpr, AggFunc, RowAggregate};
pub use schema::{DataType, Field, Schema};
pub use stream::{GroupKey, RowStreamExt, RowWindowedExt};
pub use value::Value;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};

use crate::error::{EngineError, Result};

/// A record of named fields. Rows of one source usually share one `Arc<Schema>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    schema: Arc<Schema>,
    values: Vec<Value>,
}

impl Row {
    /// A row with the given schema and values (one per field; missing ones are null).
    pub fn new(schema: Arc<Schema>, mut values: Vec<Value>) -> Self {
        values.resize(schema.len(), Value::Null);
        Row { schema, values }
    }

    /// A row from (name, value) pairs; the types come from the values.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let row = Row::from_pairs([("page", Value::from("/home")), ("ms", Value::from(250))]);
    /// assert_eq!(row.get("ms").and_then(Value::as_i64), Some(250));
    /// ```
    pub fn from_pairs<S: Into<String>>(pairs: impl IntoIterator<Item = (S, Value)>) -> Self {
        let (names, values): (Vec<String>, Vec<Value>) =
            pairs.into_iter().map(|(n, v)| (n.into(), v)).unzip();
        let schema = Schema::new(names.into_iter().zip(values.iter().map(DataType::of)));
        Row {
            schema: Arc::new(schema),
            values,
        }
    }

    /// The row's schema.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The values in field order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The (name, value) pairs in field order.
    pub fn to_pairs(&self) -> Vec<(String, Value)> {
        self.schema
            .names()
            .map(String::from)
            .zip(self.values.iter().cloned())
            .collect()
    }

    /// A copy with each named field set to its new value; a field the row lacks is
    /// appended. The types come from the values, as in [`Row::from_pairs`].
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let row = Row::from_pairs([("page", Value::from("/home"))]);
    /// let row = row.with_fields([("page", Value::from("/cart")), ("ms", Value::from(9))]);
    /// assert_eq!(row.get("page"), Some(&Value::from("/cart")));
    /// assert_eq!(row.get("ms"), Some(&Value::from(9)));
    /// ```
    pub fn with_fields<'a>(&self, updates: impl IntoIterator<Item = (&'a str, Value)>) -> Row {
        let mut pairs = self.to_pairs();
        for (name, value) in updates {
            match pairs.iter_mut().find(|(n, _)| n == name) {
                Some(pair) => pair.1 = value,
                None => pairs.push((name.to_string(), value)),
            }
        }
        Row::from_pairs(pairs)
    }

    /// The value of the field called `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.schema.index_of(name).map(|i| &self.values[i])
    }

    /// The event time in field `name`: epoch milliseconds, or an RFC 3339 / ISO-8601
    /// string (see [`crate::time::event_time_of`]).
    pub fn timestamp(&self, name: &str) -> Result<i64> {
        event_time::field_time(self, name, crate::time::TimeUnit::Millis)
            .map_err(EngineError::RowConversion)
    }

    /// Converts a serde value that serializes as a map or struct into a row. A nested
    /// struct, map or list becomes its JSON text (a row's values are flat), so any
    /// serializable record can be written by the row-based sinks.
    ///
    /// ```
    /// use tidewater_engine::row::{Row, Value};
    /// #[derive(serde::Serialize)]
    /// struct Alert { id: u32, tags: Vec<&'static str> }
    /// let row = Row::from_serde(&Alert { id: 7, tags: vec!["hot", "new"] }).unwrap();
    /// assert_eq!(row.get("tags"), Some(&Value::from(r#"["hot","new"]"#)));
    /// ```
    pub fn from_serde<T: Serialize>(value: &T) -> Result<Row> {
        let json =
            serde_json::to_value(value).map_err(|e| EngineError::RowConversion(e.to_string()))?;
        let serde_json::Value::Object(map) = json else {
            return Err(EngineError::RowConversion(format!(
                "expected a struct or map, found {}",
                json_type(&json)
            )));
        };
        let pairs: Result<Vec<(String, Value)>> = map
            .into_iter()
            .map(|(k, v)| {
                let value = match v {
                    nested @ (serde_json::Value::Object(_) | serde_json::Value::Array(_)) => {
                        Value::Str(nested.to_string())
                    }
                    flat => serde_json::from_value(flat)
                        .map_err(|e| EngineError::RowConversion(format!("field `{k}`: {e}")))?,
                };
                Ok((k, value))
            })
            .collect();
        Ok(Row::from_pairs(pairs?))
    }

    /// Converts the row into a serde type, by field name.
    pub fn to_serde<T: DeserializeOwned>(&self) -> Result<T> {
        let json =
            serde_json::to_value(self).map_err(|e| EngineError::RowConversion(e.to_string()))?;
        serde_json::from_value(json).map_err(|e| EngineError::RowConversion(e.to_string()))
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a bool",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A row serializes as a map from field name to value, in field order.
impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (name, value) in self.schema.names().zip(&self.values) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_serialize_as_ordered_maps() {
        let row = Row::from_pairs([("b", Value::from(1)), ("a", Value::from("x"))]);
        assert_eq!(serde_json::to_string(&row).unwrap(), r#"{"b":1,"a":"x"}"#);
    }

    #[test]
    fn conversion_errors_name_the_field() {
        let row = Row::from_pairs([("ts", Value::from("noon"))]);
        assert_eq!(
            row.timestamp("ts").unwrap_err().to_string(),
            "row conversion failed: field `ts`: `noon` is not an RFC 3339 / ISO-8601 time (such as 2024-01-01T12:00:00Z)"
        );
        assert_eq!(
            row.timestamp("time").unwrap_err().to_string(),
            "row conversion failed: field `time` is missing (the row has [ts])"
        );
        let iso = Row::from_pairs([("ts", Value::from("1970-01-01T00:00:03Z"))]);
        assert_eq!(iso.timestamp("ts").unwrap(), 3_000);
        assert!(Row::from_serde(&5)
            .unwrap_err()
            .to_string()
            .contains("a number"));
    }
}
