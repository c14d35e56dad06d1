//! The node around a [`SinkWriter`]: counts records, records end-to-end latency, takes
//! part in checkpoints (pre-commit at the barrier, commit when the checkpoint is
//! written) and turns writer errors into a failed run that names the sink.
//!
//! At end of input a checkpointed sink does not wait for the final checkpoint on its
//! thread: other nodes of the same worker (another sink, an exchange the peers still
//! need drained) must keep running. It registers a [`Finisher`] that the worker loop
//! polls; the final commit and `finish` happen there once the checkpoint is stored.

use std::cell::{Cell, RefCell};
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
    /// The sink reached its end of input and waits for the final checkpoint.
    ended: bool,
}

/// The writer and its checkpoint bookkeeping, shared by the node and its finisher.
struct SinkCore<T, W> {
    writer: W,
    id: NodeId,
    checkpoint: Option<SinkCheckpoint>,
    finished: bool,
    _types: PhantomData<fn(T)>,
}

pub(crate) struct SinkNode<T, W> {
    core: Rc<RefCell<SinkCore<T, W>>>,
    counters: Arc<OperatorCounters>,
    latency: Arc<LatencyRecorder>,
    ingest: Rc<Cell<Instant>>,
}

/// What the worker loop polls for a sink that ended and waits for the final checkpoint.
pub(crate) trait Finisher {
    /// Commits and finishes the sink if its final checkpoint is stored; returns true if
    /// it did.
    fn poll(&mut self) -> Result<bool>;
    /// True once the sink has finished (or never needs to).
    fn is_finished(&self) -> bool;
}

struct SinkFinisher<T, W>(Rc<RefCell<SinkCore<T, W>>>);

impl<T: 'static, W: SinkWriter<T>> Finisher for SinkFinisher<T, W> {
    fn poll(&mut self) -> Result<bool> {
        self.0.borrow_mut().complete_final()
    }

    fn is_finished(&self) -> bool {
        self.0.borrow().finished
    }
}

impl<T: 'static, W: SinkWriter<T>> SinkNode<T, W> {
    /// Wires `writer` as a sink; when checkpointing, registers it with the coordinator
    /// (and its finisher with the worker) and lets it recover what the resumed
    /// checkpoint pre-committed.
    pub fn build(
        mut writer: W,
        name: Arc<str>,
        ctx: &mut BuildContext,
        counters: Arc<OperatorCounters>,
    ) -> Result<Self> {
        let id = NodeId::new(ctx, name.clone());
        let checkpoint = match &ctx.coordinator {
            Some(coordinator) => {
                match ctx.recovered_rescaled("sink", &name) {
                    Some(parts) => {
                        // Old worker `w` is recovered by new worker `w % parallelism`.
                        let workers = ctx.worker.parallelism.max(1);
                        let assigned: Vec<(usize, Vec<u8>)> = parts
                            .into_iter()
                            .enumerate()
                            .filter(|(old, _)| old % workers == ctx.worker.index)
                            .collect();
                        writer.recover_rescaled(&assigned)
                    }
                    None => {
                        let recovered = ctx.recovered("sink", &name);
                        writer.recover(recovered.as_deref().filter(|b| !b.is_empty()))
                    }
                }
                .map_err(|e| id.wrap(e))?;
                Some(SinkCheckpoint {
                    coordinator: coordinator.clone(),
                    key: ctx.state_key("sink", &name),
                    index: coordinator.register_sink(),
                    committed: coordinator.committed(),
                    ended: false,
                })
            }
            None => None,
        };
        let checkpointed = checkpoint.is_some();
        let core = Rc::new(RefCell::new(SinkCore {
            writer,
            id,
            checkpoint,
            finished: false,
            _types: PhantomData,
        }));
        if checkpointed {
            ctx.finishers.push(Box::new(SinkFinisher(core.clone())));
        }
        Ok(SinkNode {
            core,
            counters,
            latency: ctx.metrics.latency.clone(),
            ingest: ctx.ingest.clone(),
        })
    }
}

impl<T, W: SinkWriter<T>> SinkCore<T, W> {
    /// Commits everything up to the newest written checkpoint.
    fn commit_written(&mut self) -> Result<()> {
        let Some(cp) = self.checkpoint.as_mut() else {
            return Ok(());
        };
        let written = cp.coordinator.committed();
        if written > cp.committed && !cp.ended {
            cp.committed = written;
            crate::fault::point("sink.commit");
            let writer = &mut self.writer;
            self.id.guard(|| writer.commit(written))?;
        }
        Ok(())
    }

    /// Phase one for checkpoint `id`: pre-commit, store the description.
    fn pre_commit(&mut self, id: u64) -> Result<()> {
        crate::fault::point("sink.pre_commit");
        let writer = &mut self.writer;
        let pre = self.id.guard(|| writer.pre_commit(id))?;
        if let Some(cp) = &self.checkpoint {
            cp.coordinator
                .report(id, cp.key.clone(), pre.unwrap_or_default());
        }
        Ok(())
    }

    /// End of input: without checkpoints, finish now; with them, pre-commit the last
    /// transaction and leave the commit to the finisher.
    fn end(&mut self) -> Result<()> {
        if self.checkpoint.is_none() {
            self.finished = true;
            let writer = &mut self.writer;
            return self.id.guard(|| writer.finish());
        }
        self.pre_commit(FINAL)?;
        if let Some(cp) = self.checkpoint.as_mut() {
            cp.ended = true;
            cp.coordinator.sink_finished(cp.index);
        }
        self.complete_final().map(|_| ())
    }

    /// Once the final checkpoint is stored, commits what it covers and finishes.
    fn complete_final(&mut self) -> Result<bool> {
        let Some(cp) = self.checkpoint.as_mut() else {
            return Ok(false);
        };
        if !cp.ended || self.finished {
            return Ok(false);
        }
        let stored = cp.coordinator.final_stored().map_err(|e| self.id.wrap(e))?;
        if !stored {
            return Ok(false);
        }
        cp.committed = cp.coordinator.committed();
        self.finished = true;
        crate::fault::point("sink.commit");
        let writer = &mut self.writer;
        // The final checkpoint covers everything this sink pre-committed.
        self.id.guard(|| writer.commit(FINAL))?;
        self.id.guard(|| writer.finish())?;
        Ok(true)
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
        let mut core = self.core.borrow_mut();
        let core = &mut *core;
        let writer = &mut core.writer;
        core.id.guard(|| writer.write_batch(batch))?;
        core.commit_written()
    }

    fn control(&mut self, control: Control) -> Result<()> {
        let mut core = self.core.borrow_mut();
        let core = &mut *core;
        match control {
            Control::Watermark(wm) => {
                self.counters.set_watermark(wm);
                let writer = &mut core.writer;
                core.id.guard(|| writer.on_watermark(wm))?;
            }
            Control::Barrier(id) => {
                // A sink that could not pre-commit must not acknowledge: the checkpoint
                // would be stored without its transaction.
                core.pre_commit(id)?;
                if let Some(cp) = &core.checkpoint {
                    cp.coordinator.ack(id, cp.index);
                }
            }
            Control::EndOfInput => {
                self.counters.set_ended();
                core.end()?;
            }
            _ => {}
        }
        core.commit_written()
    }
}
