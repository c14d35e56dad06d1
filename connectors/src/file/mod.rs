//! Files: a sink writing JSON lines or CSV part files, transactional (two-phase commit
//! for exactly-once) or direct.

mod sink;

pub use sink::{FileSink, FileSinkMode};
