//! The thin loop around an [`Operator`]: counts records, catches panics and forwards
//! output and control downstream.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::{Control, Downstream, Input, Operator};
use crate::checkpoint::StateKey;
use crate::error::EngineError;
use crate::processor::metrics::OperatorCounters;
use crate::record::Batch;
use crate::runtime::build::BuildContext;
use crate::runtime::coordinator::Coordinator;

/// Panic payload that carries the failing operator's name up to the worker.
#[derive(Debug)]
pub(crate) struct RunFailure(pub EngineError);

/// Runs `f`; if it panics, re-raises the panic as a [`RunFailure`] naming `operator`.
#[inline]
pub(crate) fn guarded<R>(operator: &str, worker: usize, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => resume_unwind(into_failure(payload, operator, worker)),
    }
}

/// Aborts the current worker with `error` (caught by the worker loop).
pub(crate) fn fail(error: EngineError) -> ! {
    resume_unwind(Box::new(RunFailure(error)))
}

pub(crate) fn into_failure(
    payload: Box<dyn Any + Send>,
    operator: &str,
    worker: usize,
) -> Box<dyn Any + Send> {
    if payload.is::<RunFailure>() {
        return payload;
    }
    Box::new(RunFailure(EngineError::OperatorPanicked {
        operator: operator.to_string(),
        worker,
        message: panic_message(payload.as_ref()),
    }))
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
    name: Arc<str>,
    worker: usize,
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
    ) -> crate::error::Result<Self> {
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
    ) -> crate::error::Result<Self> {
        if let Some(bytes) = ctx.recovered(state_kind, &name) {
            op.restore_state(&bytes)?;
        }
        let checkpoint = ctx
            .coordinator
            .clone()
            .map(|c| (c, ctx.state_key(state_kind, &name)));
        Ok(OperatorNode {
            op,
            name,
            worker: ctx.worker.index,
            down,
            buffer: Vec::new(),
            counters,
            counting,
            checkpoint,
        })
    }

    fn flush(&mut self) {
        if !self.buffer.is_empty() {
            if self.counting != Counting::Input {
                self.counters.add_out(self.buffer.len());
            }
            let out = std::mem::take(&mut self.buffer);
            self.down.push(out);
        }
    }
}

impl<O: Operator> Input<O::In> for OperatorNode<O> {
    fn push(&mut self, batch: Batch<O::In>) {
        if self.counting != Counting::Output {
            self.counters.add_in(batch.len());
        }
        let (op, buffer) = (&mut self.op, &mut self.buffer);
        guarded(&self.name, self.worker, || op.process_batch(batch, buffer));
        self.flush();
    }

    fn control(&mut self, control: Control) {
        if let Control::Barrier(id) = control {
            if let Some((coordinator, key)) = &self.checkpoint {
                match self.op.snapshot_state() {
                    Ok(Some(bytes)) => coordinator.report(id, key.clone(), bytes),
                    Ok(None) => {}
                    Err(e) => fail(e),
                }
            }
            self.down.control(control);
            return;
        }
        let (op, buffer) = (&mut self.op, &mut self.buffer);
        let forward = guarded(&self.name, self.worker, || match control {
            Control::Watermark(wm) => op.on_watermark(wm, buffer).map(Control::Watermark),
            Control::EndOfInput => {
                op.on_end_of_input(buffer);
                Some(Control::EndOfInput)
            }
            other => op.on_control(other, buffer),
        });
        self.flush();
        if self.counting != Counting::Input {
            if control == Control::EndOfInput {
                self.counters.set_ended();
            }
            if let Some(Control::Watermark(wm)) = forward {
                self.counters.set_watermark(wm);
            }
        }
        if let Some(c) = forward {
            self.down.control(c);
        }
    }
}
