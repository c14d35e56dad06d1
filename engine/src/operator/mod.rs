//! Operators: one file per operator, each a small struct implementing [`Operator`].
//!
//! An operator is pure logic over a batch: it reads input records and appends output
//! records to a buffer, and returns an error as a value when it cannot. The runtime
//! wraps it in a node (`runtime/node.rs`) that counts records, catches panics, names
//! the pipeline and node in errors and forwards output and control messages
//! downstream, so operators never know who consumes them. Nothing here depends on the
//! runtime.

mod dedup;
mod filter;
mod flat_map;
mod inspect;
mod keyed_process;
mod map;

pub(crate) use dedup::DeduplicateOperator;
pub use dedup::Deduplication;
pub use filter::Filter;
pub use flat_map::FlatMap;
pub use inspect::Inspect;
pub(crate) use keyed_process::KeyedProcessOperator;
pub use keyed_process::{KeyedContext, KeyedProcessFunction};
pub use map::Map;

use crate::error::Result;
use crate::record::Batch;
use crate::time::Timestamp;

/// In-band control messages that travel with the data, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Control {
    /// No record with an earlier event time will follow.
    Watermark(Timestamp),
    /// The input produced nothing for its idle timeout; it no longer holds back the
    /// watermark of operators with several inputs until it produces again.
    Idle,
    /// Processing time (epoch ms) while a source had nothing to read; drives idle
    /// detection. Not forwarded across a hash exchange.
    Tick(i64),
    /// The input is exhausted (or the pipeline is being stopped gracefully).
    EndOfInput,
    /// Checkpoint barrier: everything before it belongs to checkpoint `n`. Operators
    /// snapshot their state when it has arrived on all their inputs, then forward it.
    Barrier(u64),
}

/// A batch-at-a-time operator with one input and one output.
///
/// One required method, [`process_batch`](Operator::process_batch); the hooks have
/// defaults that forward control messages unchanged.
pub trait Operator: 'static {
    /// Input record type.
    type In;
    /// Output record type.
    type Out;

    /// Processes one input batch, appending results to `output`. An error fails the
    /// run, naming this operator.
    fn process_batch(
        &mut self,
        input: Batch<Self::In>,
        output: &mut Batch<Self::Out>,
    ) -> Result<()>;

    /// The watermark advanced. Returns the watermark to forward (None: swallow it).
    fn on_watermark(
        &mut self,
        watermark: Timestamp,
        output: &mut Batch<Self::Out>,
    ) -> Result<Option<Timestamp>> {
        let _ = output;
        Ok(Some(watermark))
    }

    /// Any other control message (idle, tick). Returns the message to forward.
    fn on_control(
        &mut self,
        control: Control,
        output: &mut Batch<Self::Out>,
    ) -> Result<Option<Control>> {
        let _ = output;
        Ok(Some(control))
    }

    /// The input ended; flush what is left.
    fn on_end_of_input(&mut self, output: &mut Batch<Self::Out>) -> Result<()> {
        let _ = output;
        Ok(())
    }

    /// Checkpoint barrier `id` arrived, before the state is taken: an operator may
    /// emit what it holds instead of checkpointing it (the local half of two-phase
    /// aggregation sends its partials, as Flink's mini-batch flushes its bundle).
    fn before_barrier(&mut self, id: u64, output: &mut Batch<Self::Out>) -> Result<()> {
        let _ = (id, output);
        Ok(())
    }

    /// Checkpoint barrier `id` passes this operator, after its state was taken: an
    /// operator with side outputs (which are sinks of their own) forwards it there.
    fn on_barrier(&mut self, id: u64) -> Result<()> {
        let _ = id;
        Ok(())
    }

    /// The operator's state for a checkpoint (`None`: stateless).
    fn snapshot_state(&self) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    /// Replaces the state with one taken by [`snapshot_state`](Self::snapshot_state).
    fn restore_state(&mut self, bytes: &[u8]) -> Result<()> {
        let _ = bytes;
        Ok(())
    }

    /// Replaces the state with the keys `owner` owns of the states every worker of a
    /// run at another parallelism took (one entry per old worker; see
    /// [`crate::state::KeyOwner`]). Operators whose state is not split by key refuse
    /// (the default); with no entries there is nothing to restore.
    fn restore_rescaled(&mut self, parts: &[Vec<u8>], owner: crate::state::KeyOwner) -> Result<()> {
        if parts.is_empty() {
            return Ok(());
        }
        Err(crate::error::EngineError::invalid(
            "checkpointing",
            "parallelism",
            "the parallelism the checkpoint was taken at (this operator's state is not split by key)",
            owner.parallelism.to_string(),
        ))
    }
}
