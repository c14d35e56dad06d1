//! # tidewater-connectors
//!
//! Sources and sinks that talk to the outside world, one folder per system:
//!
//! * [`kafka`] (feature `kafka`, on in the `tidewater` facade): a partitioned source with
//!   Spark's offset options, per-partition watermarks and dead letters, and a sink with
//!   end-to-end exactly-once through Kafka transactions; a test broker for your tests.
//! * [`file`](mod@file): a source reading JSON lines, CSV or Parquet from a folder (once or
//!   watching it; Hive partition columns; writers' completion rules; bad lines as dead
//!   letters), and a JSON-lines/CSV/Parquet sink, exactly-once by two-phase commit of
//!   part files, into Hive partition folders, rolled by size, rows or time.
//! * `delta` (feature `delta`, on in the facade): Delta Lake tables through delta-rs, a
//!   sink making one commit per checkpoint (exactly-once through Delta's application
//!   transactions) and a source reading a snapshot then following new commits.
//! * [`rate`], [`socket`], [`console`], [`memory`]: Spark's test connectors.
//! * [`rows`]: rows of a declared schema from JSON objects and CSV cells.
//!
//! Declarative pipelines are not here yet. The engine's in-process
//! connectors (vectors, channels, memory, console) live in `tidewater_engine::connector`.
//!
//! ```
//! // The in-process connectors are re-exported here for convenience.
//! use tidewater_connectors::engine::MemorySink;
//! let sink: MemorySink<u32> = MemorySink::new();
//! assert!(sink.is_empty());
//! ```
#![deny(missing_docs)]

pub mod console;
#[cfg(feature = "delta")]
pub mod delta;
pub mod file;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod memory;
pub mod rate;
pub mod rows;
mod run_id;
pub mod socket;
mod stable_hash;
pub mod testing;

/// The engine's built-in connectors.
pub use tidewater_engine::connector as engine;
