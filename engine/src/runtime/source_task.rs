//! Drives one source reader on a worker: polls a batch, stamps its ingestion time and
//! pushes it down the fused chain.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::build::BuildContext;
use super::coordinator::{Coordinator, FINAL};
use crate::checkpoint::StateKey;
use crate::config::DeliveryGuarantee;
use crate::connector::{SourcePoll, SourceReader};
use crate::error::EngineError;
use crate::operator::node::{fail, guarded};
use crate::operator::{Control, Downstream};
use crate::processor::metrics::OperatorCounters;
use crate::time::Clock;

/// What a poll achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskPoll {
    Progress,
    Idle,
    Finished,
}

/// Type-erased source driver for the worker loop.
pub(crate) trait SourceTask {
    fn poll(&mut self) -> TaskPoll;
    /// Ends the source early (graceful stop): downstream sees end of input.
    fn finish(&mut self);
    fn is_finished(&self) -> bool;
}

pub(crate) struct SourceDriver<R: SourceReader> {
    reader: R,
    name: Arc<str>,
    worker: usize,
    batch_size: usize,
    down: Downstream<R::Item>,
    counters: Arc<OperatorCounters>,
    ingest: Rc<Cell<Instant>>,
    clock: Arc<dyn Clock>,
    finished: bool,
    checkpoint: Option<(Arc<Coordinator>, StateKey)>,
    last_barrier: Option<u64>,
}

impl<R: SourceReader> SourceDriver<R> {
    /// Wires `reader` to the chain; when the run resumed, repositions it first.
    pub fn build(
        mut reader: R,
        name: Arc<str>,
        ctx: &BuildContext,
        down: Downstream<R::Item>,
        counters: Arc<OperatorCounters>,
    ) -> crate::error::Result<Self> {
        let key = ctx.state_key("source", &name);
        let position = match &ctx.coordinator {
            Some(c) if c.delivery() == DeliveryGuarantee::AtMostOnce => c.position_ahead(&key)?,
            Some(_) => ctx.recovered("source", &name),
            None => None,
        };
        if let Some(bytes) = position.filter(|b| !b.is_empty()) {
            reader.restore_position(&bytes)?;
        }
        Ok(SourceDriver {
            reader,
            name,
            worker: ctx.worker.index,
            batch_size: ctx.worker.batch_size,
            down,
            counters,
            ingest: ctx.ingest.clone(),
            clock: ctx.config.clock.clone(),
            finished: false,
            checkpoint: ctx.coordinator.clone().map(|c| (c, key)),
            last_barrier: None,
        })
    }

    /// Injects every barrier that is due, each after snapshotting the position.
    fn inject_barriers(&mut self) {
        let Some((coordinator, key)) = &self.checkpoint else {
            return;
        };
        while let Some(id) = coordinator.barrier_due(self.last_barrier) {
            coordinator.report(
                id,
                key.clone(),
                self.reader.snapshot_position().unwrap_or_default(),
            );
            self.last_barrier = Some(id);
            self.down.control(Control::Barrier(id));
        }
    }

    /// At-most-once: the position after this batch is durable before the batch is
    /// processed, so a restart never reads it again.
    fn write_ahead(&self) {
        if let Some((coordinator, key)) = &self.checkpoint {
            if coordinator.delivery() == DeliveryGuarantee::AtMostOnce {
                let position = self.reader.snapshot_position().unwrap_or_default();
                if let Err(e) = coordinator.save_position_ahead(key, &position) {
                    fail(e);
                }
            }
        }
    }
}

impl<R: SourceReader> SourceTask for SourceDriver<R> {
    fn poll(&mut self) -> TaskPoll {
        if self.finished {
            return TaskPoll::Finished;
        }
        self.inject_barriers();
        let mut batch = Vec::with_capacity(self.batch_size);
        let reader = &mut self.reader;
        let status = guarded(&self.name, self.worker, || reader.poll_batch(&mut batch));
        let status = match status {
            Ok(s) => s,
            Err(e) => fail(match e {
                EngineError::Source { .. } => e,
                other => EngineError::Source {
                    source_name: self.name.to_string(),
                    message: other.to_string(),
                },
            }),
        };
        let had_data = !batch.is_empty();
        if had_data {
            self.write_ahead();
            self.ingest.set(Instant::now());
            self.counters.add_out(batch.len());
            self.down.push(batch);
        }
        match status {
            SourcePoll::Ready if had_data => TaskPoll::Progress,
            SourcePoll::Ready | SourcePoll::Pending => {
                self.down.control(Control::Tick(self.clock.now_ms()));
                TaskPoll::Idle
            }
            SourcePoll::Watermark(wm) => {
                self.counters.set_watermark(wm);
                self.down.control(Control::Watermark(wm));
                TaskPoll::Progress
            }
            SourcePoll::Finished => {
                self.finish();
                TaskPoll::Finished
            }
        }
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            if let Some((coordinator, key)) = &self.checkpoint {
                let position = self.reader.snapshot_position().unwrap_or_default();
                coordinator.report(FINAL, key.clone(), position);
            }
            self.down.control(Control::EndOfInput);
        }
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}
