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
