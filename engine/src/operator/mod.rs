//! Operators: one file per operator, each a small struct implementing [`Operator`].
//!
//! An operator is pure logic over a batch: it reads input records and appends output
//! records to a buffer. The runtime wraps it in a node that counts records, catches
//! panics (naming the operator) and forwards the output and control messages
//! downstream, so operators never know who consumes them.

mod barrier_align;
pub(crate) mod exchange;
mod filter;
mod flat_map;
mod inspect;
mod keyed_process;
mod map;
pub(crate) mod node;
pub(crate) mod sink;
pub(crate) mod union;
mod watermark;

pub use filter::Filter;
pub use flat_map::FlatMap;
pub use inspect::Inspect;
pub(crate) use keyed_process::KeyedProcessOperator;
pub use keyed_process::{KeyedContext, KeyedProcessFunction};
pub use map::Map;
pub(crate) use watermark::{SparkWatermarkAssigner, WatermarkAssigner};

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

    /// Processes one input batch, appending results to `output`.
    fn process_batch(&mut self, input: Batch<Self::In>, output: &mut Batch<Self::Out>);

    /// The watermark advanced. Returns the watermark to forward (None: swallow it).
    fn on_watermark(
        &mut self,
        watermark: Timestamp,
        output: &mut Batch<Self::Out>,
    ) -> Option<Timestamp> {
        let _ = output;
        Some(watermark)
    }

    /// Any other control message (idle, tick). Returns the message to forward.
    fn on_control(&mut self, control: Control, output: &mut Batch<Self::Out>) -> Option<Control> {
        let _ = output;
        Some(control)
    }

    /// The input ended; flush what is left.
    fn on_end_of_input(&mut self, output: &mut Batch<Self::Out>) {
        let _ = output;
    }

    /// The operator's state for a checkpoint (`None`: stateless).
    fn snapshot_state(&self) -> crate::error::Result<Option<Vec<u8>>> {
        Ok(None)
    }

    /// Replaces the state with one taken by [`snapshot_state`](Self::snapshot_state).
    fn restore_state(&mut self, bytes: &[u8]) -> crate::error::Result<()> {
        let _ = bytes;
        Ok(())
    }
}

/// The receiving end of a stream inside one worker: operators, exchanges and sinks.
pub(crate) trait Input<T> {
    fn push(&mut self, batch: Batch<T>);
    fn control(&mut self, control: Control);
}

/// Boxed downstream of a node: one virtual call per batch.
pub(crate) type Downstream<T> = Box<dyn Input<T>>;
