//! The physical runtime: each worker thread builds its own copy of the plan (one
//! subtask of every operator, source to sink) and runs it cooperatively. Records cross
//! threads only at hash exchanges.

pub(crate) mod build;
pub(crate) mod coordinator;
pub(crate) mod exchange_registry;
mod local;
pub(crate) mod source_task;
pub(crate) mod worker;

pub use local::LocalExecutor;
