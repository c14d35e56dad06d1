//! Delta Lake tables (through delta-rs, without DataFusion): [`DeltaSink`] appends
//! one commit per checkpoint, exactly-once through Delta's application transaction
//! ids; [`DeltaSource`] reads a table's snapshot and then follows its commits.

mod committer;
mod ledger;
mod sink;
mod source;
mod table;

pub use sink::{DeltaSink, DeltaTableWriter};
pub use source::{DeltaSource, DeltaSourceConfig, StartingVersion};
