//! A bounded source over an in-memory vector.

use std::sync::Arc;

use super::{Restart, Source, SourcePoll, SourceReader, WorkerInfo};
use crate::error::{EngineError, Result};
use crate::record::{Batch, Record};
use crate::time::NO_TIMESTAMP;

/// Replays a vector of values. Worker `i` of `n` reads the `i`-th contiguous slice, in
/// order, in batches of the pipeline's batch size (or [`with_batch_size`](Self::with_batch_size)).
///
/// ```
/// use tidewater_engine::prelude::*;
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default().with_parallelism(1));
/// p.source(VecSource::new(vec![1, 2, 3])).map(|x| x * 2).sink(out.clone());
/// p.run().unwrap();
/// assert_eq!(out.values(), vec![2, 4, 6]);
/// ```
pub struct VecSource<T> {
    records: Arc<Vec<Record<T>>>,
    batch_size: Option<usize>,
}

impl<T: Clone + Send + Sync + 'static> VecSource<T> {
    /// Values without event time (assign it with `with_watermark`).
    pub fn new(values: Vec<T>) -> Self {
        Self::from_records(
            values
                .into_iter()
                .map(|v| Record::new(NO_TIMESTAMP, v))
                .collect(),
        )
    }

    /// Records that already carry their event time.
    pub fn from_records(records: Vec<Record<T>>) -> Self {
        VecSource {
            records: Arc::new(records),
            batch_size: None,
        }
    }

    /// Emits batches of exactly `n` records (the last may be shorter): one batch is one
    /// micro-batch in the Spark-compatible mode.
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = Some(n);
        self
    }
}

impl<T: Clone + Send + Sync + 'static> Source for VecSource<T> {
    type Item = T;
    type Reader = VecReader<T>;

    fn restart(&self) -> Restart {
        Restart::FromPosition
    }

    fn name(&self) -> String {
        "vec_source".to_string()
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<VecReader<T>> {
        let batch_size = self.batch_size.unwrap_or(worker.batch_size);
        if batch_size == 0 {
            return Err(EngineError::invalid(
                "vec_source",
                "batch_size",
                "at least 1",
                "0",
            ));
        }
        let len = self.records.len();
        let start = len * worker.index / worker.parallelism;
        let end = len * (worker.index + 1) / worker.parallelism;
        Ok(VecReader {
            records: self.records.clone(),
            next: start,
            end,
            batch_size,
        })
    }
}

/// One worker's slice of a [`VecSource`].
pub struct VecReader<T> {
    records: Arc<Vec<Record<T>>>,
    next: usize,
    end: usize,
    batch_size: usize,
}

impl<T: Clone + 'static> SourceReader for VecReader<T> {
    type Item = T;

    fn snapshot_position(&self) -> Result<Option<Vec<u8>>> {
        Ok(Some((self.next as u64).to_le_bytes().to_vec()))
    }

    fn restore_position(&mut self, bytes: &[u8]) -> Result<()> {
        let raw: [u8; 8] = bytes.try_into().map_err(|_| EngineError::Source {
            source_name: "vec_source".into(),
            message: format!("position has {} bytes, expected 8", bytes.len()),
        })?;
        self.next = (u64::from_le_bytes(raw) as usize).min(self.end);
        Ok(())
    }

    fn poll_batch(&mut self, out: &mut Batch<T>) -> Result<SourcePoll> {
        let stop = (self.next + self.batch_size).min(self.end);
        out.extend_from_slice(&self.records[self.next..stop]);
        self.next = stop;
        Ok(if self.next >= self.end {
            SourcePoll::Finished
        } else {
            SourcePoll::Ready
        })
    }
}
