//! What a Kafka source yields: the record itself ([`KafkaRecord`]), or its value
//! decoded ([`Json`] into a serde type, [`JsonRows`] into a [`Row`] of a declared
//! schema). A value that does not decode becomes a dead letter, never a crash.

use std::marker::PhantomData;

use rdkafka::message::{BorrowedMessage, Headers, Message};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tidewater_engine::row::Row;

pub use crate::rows::JsonRows;

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
    /// The message, for its headers (copied only when asked for).
    message: &'a BorrowedMessage<'a>,
}

impl<'a> RecordView<'a> {
    /// A view of `message`.
    pub fn of(message: &'a BorrowedMessage<'a>) -> Self {
        RecordView {
            topic: message.topic(),
            partition: message.partition(),
            offset: message.offset(),
            timestamp: message.timestamp().to_millis(),
            key: message.key(),
            value: message.payload(),
            message,
        }
    }

    /// The headers, copied out.
    pub fn headers(&self) -> Vec<(String, Option<Vec<u8>>)> {
        self.message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The record, copied out.
    pub fn to_owned_record(&self) -> KafkaRecord {
        KafkaRecord {
            topic: self.topic.to_string(),
            partition: self.partition,
            offset: self.offset,
            timestamp: self.timestamp,
            key: self.key.map(<[u8]>::to_vec),
            value: self.value.map(<[u8]>::to_vec),
            headers: self.headers(),
        }
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
        Ok(r.to_owned_record())
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

impl Decode for JsonRows {
    type Value = Row;

    fn decode(&self, r: &RecordView<'_>) -> Result<Row, String> {
        self.parse(r.value.ok_or("the record has no value")?)
    }
}

/// The record as a row of Spark's Kafka source columns: `key`, `value` (UTF-8 text),
/// `topic`, `partition`, `offset`, `timestamp` (epoch ms) and, with headers included
/// (Spark's `includeHeaders`), `headers` as a JSON list of `{"key", "value"}` objects
/// (header values as text, bytes that are not UTF-8 replaced).
/// A key or value that is not UTF-8 text makes the record a dead letter.
#[derive(Debug, Clone, Copy, Default)]
pub struct KafkaColumns {
    /// Adds the `headers` column.
    pub include_headers: bool,
}

impl Decode for KafkaColumns {
    type Value = Row;

    fn decode(&self, r: &RecordView<'_>) -> Result<Row, String> {
        use tidewater_engine::row::Value;
        let text = |what: &str, bytes: Option<&[u8]>| -> Result<Value, String> {
            match bytes {
                None => Ok(Value::Null),
                Some(b) => std::str::from_utf8(b)
                    .map(|s| Value::Str(s.to_string()))
                    .map_err(|e| format!("the record's {what} is not UTF-8 text ({e})")),
            }
        };
        let mut pairs = vec![
            ("key".to_string(), text("key", r.key)?),
            ("value".to_string(), text("value", r.value)?),
            ("topic".to_string(), Value::Str(r.topic.to_string())),
            ("partition".to_string(), Value::Int(i64::from(r.partition))),
            ("offset".to_string(), Value::Int(r.offset)),
            (
                "timestamp".to_string(),
                r.timestamp.map_or(Value::Null, Value::Int),
            ),
        ];
        if self.include_headers {
            let headers: Vec<serde_json::Value> = r
                .headers()
                .into_iter()
                .map(|(key, value)| {
                    let value = value.map(|v| String::from_utf8_lossy(&v).into_owned());
                    serde_json::json!({"key": key, "value": value})
                })
                .collect();
            pairs.push((
                "headers".to_string(),
                Value::Str(serde_json::Value::Array(headers).to_string()),
            ));
        }
        Ok(Row::from_pairs(pairs))
    }
}
