//! The unit of data that flows between operators.

use crate::time::Timestamp;

/// A value with its event time. Operators receive and emit `Vec<Record<T>>` batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Record<T> {
    /// Event time in epoch milliseconds ([`crate::time::NO_TIMESTAMP`] when unknown).
    pub ts: Timestamp,
    /// The payload.
    pub value: T,
}

impl<T> Record<T> {
    /// A record with the given event time.
    pub fn new(ts: Timestamp, value: T) -> Self {
        Record { ts, value }
    }
}

/// A batch of records: work moves a batch at a time, never a record per call.
pub type Batch<T> = Vec<Record<T>>;
