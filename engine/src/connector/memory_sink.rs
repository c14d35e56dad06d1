//! A sink that collects values in memory, for tests and programs that read results.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{Sink, SinkWriter, WorkerInfo};
use crate::error::Result;
use crate::record::Batch;

/// Collects every value it receives; clones share the same storage, so keep a clone to
/// read the results after (or while) the pipeline runs.
///
/// With parallelism > 1 the workers' outputs interleave in arrival order.
#[derive(Debug)]
pub struct MemorySink<T> {
    values: Arc<Mutex<Vec<T>>>,
}

impl<T> Clone for MemorySink<T> {
    fn clone(&self) -> Self {
        MemorySink {
            values: self.values.clone(),
        }
    }
}

impl<T> Default for MemorySink<T> {
    fn default() -> Self {
        MemorySink {
            values: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl<T> MemorySink<T> {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<T>> {
        // A writer that panicked mid-append leaves a consistent Vec; keep reading it.
        self.values
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A copy of the values collected so far.
    pub fn values(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.lock().clone()
    }

    /// Removes and returns the values collected so far.
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.lock())
    }

    /// Number of values collected so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True if nothing was collected yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Send + 'static> Sink<T> for MemorySink<T> {
    type Writer = MemorySink<T>;

    fn name(&self) -> String {
        "memory_sink".to_string()
    }

    fn create_writer(&self, _worker: &WorkerInfo) -> Result<MemorySink<T>> {
        Ok(self.clone())
    }
}

impl<T: Send + 'static> SinkWriter<T> for MemorySink<T> {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        self.lock().extend(batch.into_iter().map(|r| r.value));
        Ok(())
    }
}
