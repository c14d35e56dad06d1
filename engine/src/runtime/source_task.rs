//! Drives one source reader on a worker: polls a batch, stamps its ingestion time and
//! pushes it down the fused chain; injects checkpoint barriers with the reader's
//! position.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::build::BuildContext;
use super::coordinator::{Coordinator, FINAL};
use super::node::NodeId;
use super::Downstream;
use crate::checkpoint::StateKey;
use crate::config::DeliveryGuarantee;
use crate::connector::{Restart, SourcePoll, SourceReader};
use crate::error::{EngineError, Result};
use crate::metrics::OperatorCounters;
use crate::operator::Control;
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
    fn poll(&mut self) -> Result<TaskPoll>;
    /// Ends the source early (graceful stop): downstream sees end of input.
    fn finish(&mut self) -> Result<()>;
    fn is_finished(&self) -> bool;
}

pub(crate) struct SourceDriver<R: SourceReader> {
    reader: R,
    id: NodeId,
    restart: Restart,
    batch_size: usize,
    down: Downstream<R::Item>,
    counters: Arc<OperatorCounters>,
    ingest: Rc<Cell<Instant>>,
    clock: Arc<dyn Clock>,
    finished: bool,
    checkpoint: Option<(Arc<Coordinator>, StateKey)>,
    last_barrier: Option<u64>,
    /// Processing time of the last tick sent downstream.
    last_tick_ms: i64,
}

/// A source that keeps producing still ticks this often: idle detection downstream
/// must see time pass even when every record it reads is filtered out before the
/// watermark (otherwise that input would hold a union's watermark back for ever).
const TICK_PERIOD_MS: i64 = 10;

impl<R: SourceReader> SourceDriver<R> {
    /// Wires `reader` to the chain; when the run resumed, repositions it first.
    pub fn build(
        mut reader: R,
        name: Arc<str>,
        restart: Restart,
        ctx: &BuildContext,
        down: Downstream<R::Item>,
        counters: Arc<OperatorCounters>,
    ) -> Result<Self> {
        let id = NodeId::new(ctx, name.clone());
        let key = ctx.state_key("source", &name);
        let position = match &ctx.coordinator {
            Some(c) if c.delivery() == DeliveryGuarantee::AtMostOnce => {
                c.position_ahead(&key).map_err(|e| id.wrap(e))?
            }
            Some(_) => ctx.recovered("source", &name),
            None => None,
        };
        if let Some(bytes) = position.filter(|b| !b.is_empty()) {
            id.guard(|| reader.restore_position(&bytes))?;
        } else if let Some(parts) = ctx.recovered_rescaled("source", &name) {
            let worker = &ctx.worker;
            id.guard(|| reader.restore_rescaled(&parts, worker))?;
        }
        Ok(SourceDriver {
            reader,
            id,
            restart,
            batch_size: ctx.worker.batch_size,
            down,
            counters,
            ingest: ctx.ingest.clone(),
            clock: ctx.config.clock.clone(),
            finished: false,
            checkpoint: ctx.coordinator.clone().map(|c| (c, key)),
            last_barrier: None,
            last_tick_ms: i64::MIN,
        })
    }

    /// The reader's position (empty for a source without positions); a source that
    /// declares positions must have one.
    fn position(&self) -> Result<Vec<u8>> {
        let reader = &self.reader;
        match self.id.guard(|| reader.snapshot_position())? {
            Some(bytes) => Ok(bytes),
            None if self.restart != Restart::FromPosition => Ok(Vec::new()),
            None => Err(self.id.wrap(EngineError::State {
                operator: self.id.name.to_string(),
                message: "the source declares `Restart::FromPosition` but its reader \
                          returned no position"
                    .into(),
            })),
        }
    }

    /// Injects every barrier that is due, each after snapshotting the position.
    fn inject_barriers(&mut self) -> Result<()> {
        let Some((coordinator, key)) = &self.checkpoint else {
            return Ok(());
        };
        let coordinator = coordinator.clone();
        let key = key.clone();
        while let Some(id) = coordinator.barrier_due(self.last_barrier) {
            coordinator.report(id, key.clone(), self.position()?);
            self.last_barrier = Some(id);
            self.down.control(Control::Barrier(id))?;
        }
        Ok(())
    }

    /// At-most-once: the position after this batch is durable before the batch is
    /// processed, so a restart never reads it again.
    fn write_ahead(&self) -> Result<()> {
        if let Some((coordinator, key)) = &self.checkpoint {
            if coordinator.delivery() == DeliveryGuarantee::AtMostOnce
                && self.restart == Restart::FromPosition
            {
                let position = self.position()?;
                coordinator
                    .save_position_ahead(key, &position)
                    .map_err(|e| self.id.wrap(e))?;
            }
        }
        Ok(())
    }
}

impl<R: SourceReader> SourceTask for SourceDriver<R> {
    fn poll(&mut self) -> Result<TaskPoll> {
        if self.finished {
            return Ok(TaskPoll::Finished);
        }
        self.inject_barriers()?;
        let mut batch = Vec::with_capacity(self.batch_size);
        let reader = &mut self.reader;
        let status = self.id.guard(|| reader.poll_batch(&mut batch))?;
        let had_data = !batch.is_empty();
        if had_data {
            self.counters.set_idle(false);
            self.write_ahead()?;
            self.ingest.set(Instant::now());
            self.counters.add_out(batch.len());
            self.down.push(batch)?;
            let now = self.clock.now_ms();
            if now.saturating_sub(self.last_tick_ms) >= TICK_PERIOD_MS {
                self.last_tick_ms = now;
                self.down.control(Control::Tick(now))?;
            }
        }
        Ok(match status {
            SourcePoll::Ready if had_data => TaskPoll::Progress,
            SourcePoll::Ready | SourcePoll::Pending => {
                self.down.control(Control::Tick(self.clock.now_ms()))?;
                TaskPoll::Idle
            }
            SourcePoll::Watermark(wm) => {
                self.counters.set_watermark(wm);
                self.down.control(Control::Watermark(wm))?;
                TaskPoll::Progress
            }
            SourcePoll::Idle => {
                self.counters.set_idle(true);
                self.down.control(Control::Idle)?;
                self.down.control(Control::Tick(self.clock.now_ms()))?;
                TaskPoll::Idle
            }
            SourcePoll::Finished => {
                self.finish()?;
                TaskPoll::Finished
            }
        })
    }

    fn finish(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if let Some((coordinator, key)) = &self.checkpoint {
            coordinator.report(FINAL, key.clone(), self.position()?);
        }
        self.down.control(Control::EndOfInput)
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}
