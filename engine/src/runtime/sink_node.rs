//! The node around a [`SinkWriter`]: counts records, records end-to-end latency, takes
//! part in checkpoints (pre-commit at the barrier, commit when the checkpoint is
//! written) and turns writer errors into a failed run that names the sink.

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::build::BuildContext;
use super::coordinator::{Coordinator, FINAL};
use super::node::NodeId;
use super::Input;
use crate::checkpoint::StateKey;
use crate::connector::SinkWriter;
use crate::error::Result;
use crate::metrics::{LatencyRecorder, OperatorCounters};
use crate::operator::Control;
use crate::record::Batch;

struct SinkCheckpoint {
    coordinator: Arc<Coordinator>,
    key: StateKey,
    index: usize,
    committed: u64,
}

pub(crate) struct SinkNode<T, W> {
    writer: W,
    id: NodeId,
    counters: Arc<OperatorCounters>,
    latency: Arc<LatencyRecorder>,
    ingest: Rc<Cell<Instant>>,
    checkpoint: Option<SinkCheckpoint>,
    _types: PhantomData<fn(T)>,
}

impl<T, W: SinkWriter<T>> SinkNode<T, W> {
    /// Wires `writer` as a sink; when checkpointing, registers it with the coordinator
    /// and lets it recover what the resumed checkpoint pre-committed.
    pub fn build(
        mut writer: W,
        name: Arc<str>,
        ctx: &BuildContext,
        counters: Arc<OperatorCounters>,
    ) -> Result<Self> {
        let id = NodeId::new(ctx, name.clone());
        let checkpoint = match &ctx.coordinator {
            Some(coordinator) => {
                let recovered = ctx.recovered("sink", &name);
                writer
                    .recover(recovered.as_deref().filter(|b| !b.is_empty()))
                    .map_err(|e| id.wrap(e))?;
                Some(SinkCheckpoint {
                    coordinator: coordinator.clone(),
                    key: ctx.state_key("sink", &name),
                    index: coordinator.register_sink(),
                    committed: coordinator.committed(),
                })
            }
            None => None,
        };
        Ok(SinkNode {
            writer,
            id,
            counters,
            latency: ctx.metrics.latency.clone(),
            ingest: ctx.ingest.clone(),
            checkpoint,
            _types: PhantomData,
        })
    }

    /// Commits everything up to the newest written checkpoint.
    fn commit_written(&mut self) -> Result<()> {
        let Some(cp) = self.checkpoint.as_mut() else {
            return Ok(());
        };
        let written = cp.coordinator.committed();
        if written > cp.committed {
            cp.committed = written;
            let writer = &mut self.writer;
            self.id.guard(|| writer.commit(written))?;
        }
        Ok(())
    }

    /// Phase one for checkpoint `id`: pre-commit, store the description, acknowledge.
    fn pre_commit(&mut self, id: u64) -> Result<()> {
        let writer = &mut self.writer;
        let pre = self.id.guard(|| writer.pre_commit(id))?;
        if let Some(cp) = &self.checkpoint {
            cp.coordinator
                .report(id, cp.key.clone(), pre.unwrap_or_default());
        }
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        if let Some(index) = self.checkpoint.as_ref().map(|cp| cp.index) {
            self.pre_commit(FINAL)?;
            let coordinator = self.checkpoint.as_ref().map(|cp| cp.coordinator.clone());
            if let Some(coordinator) = coordinator {
                let final_id = coordinator.sink_finished(index);
                coordinator
                    .wait_for(final_id)
                    .map_err(|e| self.id.wrap(e))?;
                // The final checkpoint covers everything this sink pre-committed.
                let writer = &mut self.writer;
                self.id.guard(|| writer.commit(FINAL))?;
                if let Some(cp) = self.checkpoint.as_mut() {
                    cp.committed = final_id;
                }
            }
        }
        let writer = &mut self.writer;
        self.id.guard(|| writer.finish())
    }
}

impl<T, W: SinkWriter<T>> Input<T> for SinkNode<T, W> {
    fn push(&mut self, batch: Batch<T>) -> Result<()> {
        let n = batch.len();
        if n == 0 {
            return Ok(());
        }
        self.counters.add_in(n);
        self.latency.record(self.ingest.get().elapsed(), n as u64);
        let writer = &mut self.writer;
        self.id.guard(|| writer.write_batch(batch))?;
        self.commit_written()
    }

    fn control(&mut self, control: Control) -> Result<()> {
        match control {
            Control::Watermark(wm) => {
                self.counters.set_watermark(wm);
                let writer = &mut self.writer;
                self.id.guard(|| writer.on_watermark(wm))?;
            }
            Control::Barrier(id) => {
                // A sink that could not pre-commit must not acknowledge: the checkpoint
                // would be stored without its transaction.
                self.pre_commit(id)?;
                if let Some(cp) = &self.checkpoint {
                    cp.coordinator.ack(id, cp.index);
                }
            }
            Control::EndOfInput => {
                self.counters.set_ended();
                self.end()?;
            }
            _ => {}
        }
        self.commit_written()
    }
}
