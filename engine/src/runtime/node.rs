//! The thin loop around an [`Operator`]: counts records, catches panics, names the
//! pipeline and node in errors and forwards output and control downstream.
//!
//! This file holds the only `catch_unwind` of the engine's data path ([`guarded`]): a
//! panicking user closure becomes [`EngineError::OperatorPanicked`], a value like any
//! other error.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::build::BuildContext;
use super::coordinator::{Coordinator, FINAL};
use super::{Downstream, Input};
use crate::checkpoint::StateKey;
use crate::error::{EngineError, Result};
use crate::metrics::OperatorCounters;
use crate::operator::{Control, Operator};
use crate::record::Batch;

/// Where a node runs: its pipeline, its name and its worker, for error messages.
#[derive(Debug, Clone)]
pub(crate) struct NodeId {
    pub pipeline: Arc<str>,
    pub name: Arc<str>,
    pub worker: usize,
}

impl NodeId {
    pub fn new(ctx: &BuildContext, name: Arc<str>) -> Self {
        NodeId {
            pipeline: ctx.pipeline.clone(),
            name,
            worker: ctx.worker.index,
        }
    }

    /// Places `error` at this node (errors that already name a node keep theirs).
    pub fn wrap(&self, error: EngineError) -> EngineError {
        error.in_node(&self.pipeline, &self.name, self.worker)
    }

    /// Runs `f`, turning a panic into an error naming this node.
    #[inline]
    pub fn guard<R>(&self, f: impl FnOnce() -> Result<R>) -> Result<R> {
        guarded(&self.name, self.worker, f).map_err(|e| self.wrap(e))
    }
}

/// Runs `f`; a panic becomes [`EngineError::OperatorPanicked`] naming `operator`.
#[inline]
pub(crate) fn guarded<R>(
    operator: &str,
    worker: usize,
    f: impl FnOnce() -> Result<R>,
) -> Result<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(EngineError::OperatorPanicked {
            operator: operator.to_string(),
            worker,
            message: panic_message(payload.as_ref()),
        }),
    }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// What a node reports to its operator's counters. A logical operator that runs as two
/// nodes (the local and global halves of a two-phase aggregation) reports its input from
/// the first and its output, watermark and end from the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counting {
    /// Records in and out, watermark, end of input.
    All,
    /// Records in only.
    Input,
    /// Everything but records in.
    Output,
}

/// An operator wired to its downstream inside one worker.
pub(crate) struct OperatorNode<O: Operator> {
    op: O,
    id: NodeId,
    down: Downstream<O::Out>,
    buffer: Batch<O::Out>,
    counters: Arc<OperatorCounters>,
    counting: Counting,
    checkpoint: Option<(Arc<Coordinator>, StateKey)>,
}

impl<O: Operator> OperatorNode<O> {
    /// Wires `op` into this worker's chain, restoring its state when the run resumed
    /// from a checkpoint.
    pub fn build(
        op: O,
        name: Arc<str>,
        ctx: &BuildContext,
        down: Downstream<O::Out>,
        counters: Arc<OperatorCounters>,
    ) -> Result<Self> {
        Self::build_part(op, name, "operator", ctx, down, counters, Counting::All)
    }

    /// Like [`build`](Self::build) for one of several nodes of one logical operator:
    /// `state_kind` keeps its checkpointed state apart from the others', `counting`
    /// says what it reports.
    pub fn build_part(
        mut op: O,
        name: Arc<str>,
        state_kind: &str,
        ctx: &BuildContext,
        down: Downstream<O::Out>,
        counters: Arc<OperatorCounters>,
        counting: Counting,
    ) -> Result<Self> {
        let id = NodeId::new(ctx, name.clone());
        if let Some(bytes) = ctx.recovered(state_kind, &name) {
            op.restore_state(&bytes).map_err(|e| id.wrap(e))?;
        } else if let Some(parts) = ctx.recovered_rescaled(state_kind, &name) {
            // Old workers that stored nothing have nothing to give.
            let parts: Vec<Vec<u8>> = parts.into_iter().filter(|p| !p.is_empty()).collect();
            let owner = crate::state::KeyOwner::new(ctx.worker.index, ctx.worker.parallelism);
            op.restore_rescaled(&parts, owner).map_err(|e| id.wrap(e))?;
        }
        let checkpoint = ctx
            .coordinator
            .clone()
            .map(|c| (c, ctx.state_key(state_kind, &name)));
        Ok(OperatorNode {
            op,
            id,
            down,
            buffer: Vec::new(),
            counters,
            counting,
            checkpoint,
        })
    }

    fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        if self.counting != Counting::Input {
            self.counters.add_out(self.buffer.len());
        }
        let out = std::mem::take(&mut self.buffer);
        self.down.push(out)
    }

    fn snapshot_final(&mut self) -> Result<()> {
        if let Some((coordinator, key)) = &self.checkpoint {
            let op = &self.op;
            if let Some(bytes) = self.id.guard(|| op.snapshot_state())? {
                coordinator.report(FINAL, key.clone(), bytes);
            }
        }
        Ok(())
    }

    fn snapshot(&mut self, id: u64) -> Result<()> {
        if let Some((coordinator, key)) = &self.checkpoint {
            let op = &self.op;
            if let Some(bytes) = self.id.guard(|| op.snapshot_state())? {
                coordinator.report(id, key.clone(), bytes);
            }
        }
        let op = &mut self.op;
        self.id.guard(|| op.on_barrier(id))
    }
}

impl<O: Operator> Input<O::In> for OperatorNode<O> {
    fn push(&mut self, batch: Batch<O::In>) -> Result<()> {
        if self.counting != Counting::Output {
            self.counters.add_in(batch.len());
        }
        let (op, buffer) = (&mut self.op, &mut self.buffer);
        self.id.guard(|| op.process_batch(batch, buffer))?;
        self.flush()
    }

    fn control(&mut self, control: Control) -> Result<()> {
        if let Control::Barrier(id) = control {
            let (op, buffer) = (&mut self.op, &mut self.buffer);
            self.id.guard(|| op.before_barrier(id, buffer))?;
            self.flush()?;
            self.snapshot(id)?;
            return self.down.control(control);
        }
        let (op, buffer) = (&mut self.op, &mut self.buffer);
        let forward = self.id.guard(|| match control {
            Control::Watermark(wm) => Ok(op.on_watermark(wm, buffer)?.map(Control::Watermark)),
            Control::EndOfInput => {
                op.on_end_of_input(buffer)?;
                Ok(Some(Control::EndOfInput))
            }
            other => op.on_control(other, buffer),
        })?;
        self.flush()?;
        if control == Control::EndOfInput {
            // The state left at the end (open windows of the Spark-compatible mode,
            // keyed state) goes into the final checkpoint, so that a later run on the
            // same checkpoint continues from it.
            self.snapshot_final()?;
        }
        if self.counting != Counting::Input {
            if control == Control::EndOfInput {
                self.counters.set_ended();
            }
            if let Some(Control::Watermark(wm)) = forward {
                self.counters.set_watermark(wm);
            }
        }
        match forward {
            Some(c) => self.down.control(c),
            None => Ok(()),
        }
    }
}
