//! What a Kafka source yields: the record itself ([`KafkaRecord`]), or its value
//! decoded ([`Json`] into a serde type, [`JsonRows`] into a [`Row`] of a declared
//! schema). A value that does not decode becomes a dead letter, never a crash.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tidewater_engine::row::{DataType, Row, Schema, Value};

/// A record as read, owned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaRecord {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Kafka timestamp (epoch ms), if the record has one.
    pub timestamp: Option<i64>,
    /// Key bytes.
    pub key: Option<Vec<u8>>,
    /// Value bytes.
    pub value: Option<Vec<u8>>,
    /// Headers in order (a header may have no value).
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// A record being read: borrowed from the consumer's buffer.
#[derive(Clone, Copy)]
pub struct RecordView<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Kafka timestamp (epoch ms).
    pub timestamp: Option<i64>,
    /// Key bytes.
    pub key: Option<&'a [u8]>,
    /// Value bytes.
    pub value: Option<&'a [u8]>,
    /// The message, for headers.
    pub(crate) headers: &'a dyn Fn() -> Vec<(String, Option<Vec<u8>>)>,
}

impl RecordView<'_> {
    /// The headers, copied out.
    pub fn headers(&self) -> Vec<(String, Option<Vec<u8>>)> {
        (self.headers)()
    }
}

/// Turns a record into a value; an `Err` (what was wrong) makes it a dead letter.
pub trait Decode: Send + Sync + 'static {
    /// The decoded value.
    type Value: Send + 'static;
    /// Decodes one record.
    fn decode(&self, record: &RecordView<'_>) -> Result<Self::Value, String>;
}

/// The records themselves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Records;

impl Decode for Records {
    type Value = KafkaRecord;

    fn decode(&self, r: &RecordView<'_>) -> Result<KafkaRecord, String> {
        Ok(KafkaRecord {
            topic: r.topic.to_string(),
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key.map(<[u8]>::to_vec),
            value: r.value.map(<[u8]>::to_vec),
            headers: (r.headers)(),
        })
    }
}

/// The value as JSON, deserialized into `T`.
pub struct Json<T>(PhantomData<fn() -> T>);

impl<T> Default for Json<T> {
    fn default() -> Self {
        Json(PhantomData)
    }
}

impl<T: DeserializeOwned + Send + 'static> Decode for Json<T> {
    type Value = T;

    fn decode(&self, r: &RecordView<'_>) -> Result<T, String> {
        let bytes = r.value.ok_or("the record has no value")?;
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// The value as a JSON object, read into a [`Row`] of a declared schema: each field
/// of the schema is taken from the object (missing or `null`: [`Value::Null`]; an
/// integer where a float is declared is widened); other keys are ignored, as Spark's
/// `from_json` does. A field of another type is an error naming it.
///
/// ```
/// use tidewater_connectors::kafka::JsonRows;
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

impl Decode for JsonRows {
    type Value = Row;

    fn decode(&self, r: &RecordView<'_>) -> Result<Row, String> {
        self.parse(r.value.ok_or("the record has no value")?)
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
