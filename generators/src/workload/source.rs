//! The workloads as an engine source: worker `w` of `n` generates the batch-sized
//! blocks `b` with `b % n == w`, so all workers advance through event time together.

use tidewater_engine::connector::{Source, SourcePoll, SourceReader, WorkerInfo};
use tidewater_engine::error::Result;
use tidewater_engine::record::{Batch, Record};

use super::{Workload, WorkloadEvent};

/// A bounded source of `events` events of a workload.
///
/// ```
/// use tidewater_engine::prelude::*;
/// use tidewater_generators::workload::{Workload, WorkloadSource};
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default().with_parallelism(2));
/// p.source(WorkloadSource::new(Workload::W1, 300_000))
///     .with_watermark(Watermark::bounded("1 second", |e: &tidewater_generators::workload::WorkloadEvent| e.ts))
///     .key_by(|e: &tidewater_generators::workload::WorkloadEvent| e.key)
///     .window(TumblingWindow::of("1 second"))
///     .aggregate(Count)
///     .sink(out.clone());
/// p.run().unwrap();
/// let rows = out.values();
/// assert_eq!(rows.len(), 3_000);
/// assert_eq!(rows.iter().map(|r| r.value).sum::<u64>(), 300_000);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct WorkloadSource {
    workload: Workload,
    events: u64,
    keys: u64,
}

impl WorkloadSource {
    /// `events` events of `workload` with its default number of keys.
    pub fn new(workload: Workload, events: u64) -> Self {
        WorkloadSource {
            workload,
            events,
            keys: workload.keys(),
        }
    }

    /// Uses `keys` keys instead of the default (1 to `u32::MAX`; any other number
    /// fails the pipeline when it starts, naming the source).
    pub fn with_keys(mut self, keys: u64) -> Self {
        self.keys = keys;
        self
    }
}

impl Source for WorkloadSource {
    type Item = WorkloadEvent;
    type Reader = WorkloadReader;

    fn restart(&self) -> tidewater_engine::connector::Restart {
        tidewater_engine::connector::Restart::FromPosition
    }

    fn name(&self) -> String {
        format!("workload_{}", self.workload.query())
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<WorkloadReader> {
        if !(1..=u32::MAX as u64).contains(&self.keys) {
            return Err(tidewater_engine::error::EngineError::invalid(
                self.name(),
                "keys",
                format!("1 to {}", u32::MAX),
                self.keys.to_string(),
            ));
        }
        let block = worker.batch_size.max(1) as u64;
        Ok(WorkloadReader {
            workload: self.workload,
            keys: self.keys,
            events: self.events,
            block,
            stride: block * worker.parallelism as u64,
            next_block: block * worker.index as u64,
        })
    }
}

/// One worker's share of a [`WorkloadSource`].
pub struct WorkloadReader {
    workload: Workload,
    keys: u64,
    events: u64,
    block: u64,
    stride: u64,
    next_block: u64,
}

impl SourceReader for WorkloadReader {
    type Item = WorkloadEvent;

    fn snapshot_position(&self) -> Result<Option<Vec<u8>>> {
        Ok(Some(self.next_block.to_le_bytes().to_vec()))
    }

    fn restore_position(&mut self, bytes: &[u8]) -> Result<()> {
        let raw: [u8; 8] =
            bytes
                .try_into()
                .map_err(|_| tidewater_engine::error::EngineError::Source {
                    source_name: "workload".into(),
                    message: format!("position has {} bytes, expected 8", bytes.len()),
                })?;
        self.next_block = u64::from_le_bytes(raw);
        Ok(())
    }

    fn poll_batch(&mut self, out: &mut Batch<WorkloadEvent>) -> Result<SourcePoll> {
        let start = self.next_block;
        let end = (start + self.block).min(self.events);
        let (workload, keys) = (self.workload, self.keys);
        out.extend((start..end).map(|i| {
            let e = workload.event_with_keys(i, keys);
            Record::new(e.ts, e)
        }));
        self.next_block += self.stride;
        Ok(if self.next_block >= self.events {
            SourcePoll::Finished
        } else {
            SourcePoll::Ready
        })
    }
}
