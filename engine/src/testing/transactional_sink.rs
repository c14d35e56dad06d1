//! [`TransactionalSink`]: an in-memory two-phase-commit sink whose "disk" outlives a
//! simulated crash, for exactly-once tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::connector::{Commit, Sink, SinkWriter, WorkerInfo};
use crate::error::Result;
use crate::record::Batch;

/// Each worker's rows since the last barrier are pre-committed under the checkpoint
/// id and published when the checkpoint is stored; a restart publishes what the
/// restored checkpoint pre-committed and drops later transactions, which are replayed.
/// Clones share the disk, so a sink given to a pipeline before a crash shows, after
/// the restart, exactly what an exactly-once sink would have published.
pub struct TransactionalSink<T> {
    disk: Arc<Mutex<Disk<T>>>,
}

struct Disk<T> {
    pending: BTreeMap<(usize, u64), Vec<T>>,
    published: Vec<T>,
}

impl<T> Default for TransactionalSink<T> {
    fn default() -> Self {
        TransactionalSink {
            disk: Arc::new(Mutex::new(Disk {
                pending: BTreeMap::new(),
                published: Vec::new(),
            })),
        }
    }
}

impl<T> Clone for TransactionalSink<T> {
    fn clone(&self) -> Self {
        TransactionalSink {
            disk: self.disk.clone(),
        }
    }
}

fn lock<T>(disk: &Mutex<Disk<T>>) -> MutexGuard<'_, Disk<T>> {
    disk.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T: Clone> TransactionalSink<T> {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The rows published so far (committed checkpoints), in commit order.
    pub fn published(&self) -> Vec<T> {
        lock(&self.disk).published.clone()
    }
}

/// One worker's writer of a [`TransactionalSink`].
pub struct TransactionalWriter<T> {
    worker: usize,
    buffer: Vec<T>,
    disk: Arc<Mutex<Disk<T>>>,
}

impl<T: Clone + Send + 'static> Sink<T> for TransactionalSink<T> {
    type Writer = TransactionalWriter<T>;

    fn name(&self) -> String {
        "transactional_sink".into()
    }

    fn commit(&self) -> Commit {
        Commit::Transactional
    }

    fn create_writer(&self, worker: &WorkerInfo) -> Result<TransactionalWriter<T>> {
        Ok(TransactionalWriter {
            worker: worker.index,
            buffer: Vec::new(),
            disk: self.disk.clone(),
        })
    }
}

impl<T> TransactionalWriter<T> {
    /// Publishes what worker `worker` pre-committed up to the restored checkpoint and
    /// drops its later transactions, which the run replays.
    fn recover_as(&self, worker: usize, pre_committed: Option<&[u8]>) {
        let restored = pre_committed
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes);
        self.publish_until(worker, restored);
        lock(&self.disk)
            .pending
            .retain(|(w, c), _| *w != worker || *c <= restored);
    }

    /// Publishes worker `worker`'s pending rows of checkpoints up to `checkpoint`.
    fn publish_until(&self, worker: usize, checkpoint: u64) {
        let mut disk = lock(&self.disk);
        let keys: Vec<(usize, u64)> = disk
            .pending
            .keys()
            .filter(|(w, c)| *w == worker && *c <= checkpoint)
            .copied()
            .collect();
        for key in keys {
            if let Some(rows) = disk.pending.remove(&key) {
                disk.published.extend(rows);
            }
        }
    }
}

impl<T: 'static> SinkWriter<T> for TransactionalWriter<T> {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        self.buffer.extend(batch.into_iter().map(|r| r.value));
        Ok(())
    }

    fn pre_commit(&mut self, checkpoint: u64) -> Result<Option<Vec<u8>>> {
        let rows = std::mem::take(&mut self.buffer);
        lock(&self.disk)
            .pending
            .entry((self.worker, checkpoint))
            .or_default()
            .extend(rows);
        Ok(Some(checkpoint.to_le_bytes().to_vec()))
    }

    fn commit(&mut self, checkpoint: u64) -> Result<()> {
        self.publish_until(self.worker, checkpoint);
        Ok(())
    }

    fn recover(&mut self, pre_committed: Option<&[u8]>) -> Result<()> {
        self.recover_as(self.worker, pre_committed);
        Ok(())
    }

    fn recover_rescaled(&mut self, assigned: &[(usize, Vec<u8>)]) -> Result<()> {
        for (old, bytes) in assigned {
            self.recover_as(*old, Some(bytes.as_slice()).filter(|b| !b.is_empty()));
        }
        Ok(())
    }
}
