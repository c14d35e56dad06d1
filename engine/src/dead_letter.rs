//! Records that could not be read: where they came from, what was wrong, and the raw
//! bytes, so that they can be inspected and replayed.
//!
//! A source that decodes outside data (JSON from Kafka, lines of a file) yields
//! `Result<T, DeadLetter>`; [`Stream::dead_letters`](crate::stream::Stream::dead_letters)
//! sends the errors to a sink of their own (counted in
//! [`Metrics::dead_letters`](crate::metrics::Metrics::dead_letters)) and the good records
//! on. A bad record is never dropped silently and never ends the run.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a dead letter was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Origin {
    /// A Kafka record.
    Kafka {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// Offset in the partition.
        offset: i64,
    },
    /// A line (1-based) of a file.
    File {
        /// Path of the file.
        path: String,
        /// Line number, from 1.
        line: u64,
    },
    /// Anything else, described in words.
    Other {
        /// Description of the place.
        description: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Kafka {
                topic,
                partition,
                offset,
            } => write!(f, "topic `{topic}` partition {partition} offset {offset}"),
            Origin::File { path, line } => write!(f, "{path}:{line}"),
            Origin::Other { description } => f.write_str(description),
        }
    }
}

/// A record that could not be read.
///
/// ```
/// use tidewater_engine::dead_letter::{DeadLetter, Origin};
/// let letter = DeadLetter::new(
///     Origin::Kafka { topic: "events".into(), partition: 2, offset: 17 },
///     "expected value at line 1 column 1",
///     b"not json".to_vec(),
/// );
/// assert_eq!(
///     letter.to_string(),
///     "topic `events` partition 2 offset 17: expected value at line 1 column 1 (8 bytes)"
/// );
/// let json = serde_json::to_string(&letter).unwrap();
/// assert_eq!(
///     json,
///     r#"{"origin":{"kind":"kafka","topic":"events","partition":2,"offset":17},"error":"expected value at line 1 column 1","payload":"not json"}"#
/// );
/// assert_eq!(serde_json::from_str::<DeadLetter>(&json).unwrap(), letter);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Where it was read.
    pub origin: Origin,
    /// What was wrong with it.
    pub error: String,
    /// The raw bytes as read (written as a string when they are UTF-8, which they
    /// usually are, else as an array of bytes).
    #[serde(with = "payload")]
    pub payload: Vec<u8>,
}

/// Payload bytes as text when they are UTF-8 (readable in a dead-letter topic or
/// file), as numbers otherwise; both read back.
mod payload {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(bytes) {
            Ok(text) => s.serialize_str(text),
            Err(_) => bytes.serialize(s),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Bytes(Vec<u8>),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(match Either::deserialize(d)? {
            Either::Text(t) => t.into_bytes(),
            Either::Bytes(b) => b,
        })
    }
}

impl DeadLetter {
    /// A dead letter read at `origin`, refused for `error`.
    pub fn new(origin: Origin, error: impl Into<String>, payload: Vec<u8>) -> Self {
        DeadLetter {
            origin,
            error: error.into(),
            payload,
        }
    }
}

impl fmt::Display for DeadLetter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({} bytes)",
            self.origin,
            self.error,
            self.payload.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_that_are_not_text_round_trip_as_bytes() {
        let letter = DeadLetter::new(
            Origin::File {
                path: "a.csv".into(),
                line: 3,
            },
            "bad",
            vec![0xff, 0, 7],
        );
        let json = serde_json::to_string(&letter).unwrap();
        assert_eq!(
            json,
            r#"{"origin":{"kind":"file","path":"a.csv","line":3},"error":"bad","payload":[255,0,7]}"#
        );
        assert_eq!(serde_json::from_str::<DeadLetter>(&json).unwrap(), letter);
    }
}
