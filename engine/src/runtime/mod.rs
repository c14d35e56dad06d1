//! The physical runtime: each worker thread builds its own copy of the plan (one
//! subtask of every operator, source to sink) and runs it cooperatively. Records cross
//! threads only at hash exchanges.
//!
//! Layering: `stream` (the builder) wires `operator`s (pure logic) into the nodes of
//! this module; nothing in `operator` or `window` knows about threads, channels or
//! checkpoints. Every path here returns [`Result`]: a node adds its pipeline and node
//! name to an error and the worker loop ends the run with it.

pub(crate) mod barrier_align;
pub(crate) mod build;
pub(crate) mod coordinator;
pub(crate) mod exchange;
pub(crate) mod exchange_registry;
mod local;
pub(crate) mod node;
pub(crate) mod processing_time;
pub(crate) mod simulation;
pub(crate) mod sink_node;
pub(crate) mod source_task;
pub(crate) mod split;
pub(crate) mod union;
pub(crate) mod watermark;
pub(crate) mod worker;

pub use local::LocalExecutor;
pub use simulation::{Simulation, SimulationReport};

use crate::error::Result;
use crate::operator::Control;
use crate::record::Batch;

/// The receiving end of a stream inside one worker: operators, exchanges and sinks.
pub(crate) trait Input<T> {
    fn push(&mut self, batch: Batch<T>) -> Result<()>;
    fn control(&mut self, control: Control) -> Result<()>;
}

/// Boxed downstream of a node: one virtual call per batch.
pub(crate) type Downstream<T> = Box<dyn Input<T>>;
