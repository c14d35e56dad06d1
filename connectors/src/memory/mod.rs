//! Spark's `memory` sink: a named in-memory table that programs and tests query while
//! or after a pipeline runs.

mod table;

pub use table::{drop_table, table, MemoryTableSink, TableMode};
