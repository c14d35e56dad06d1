//! # tidewater-connectors
//!
//! Sources and sinks that talk to the outside world: Kafka (rdkafka), files (JSON lines,
//! CSV, Parquet), sockets and WebSockets, and declarative pipelines from config files.
//! The engine's in-process connectors (vectors, channels, memory, console) live in
//! `tidewater_engine::connector`; this crate is where external systems plug in.
//!
//! ```
//! // The in-process connectors are re-exported here for convenience.
//! use tidewater_connectors::engine::MemorySink;
//! let sink: MemorySink<u32> = MemorySink::new();
//! assert!(sink.is_empty());
//! ```
#![deny(missing_docs)]

pub mod file;
#[cfg(feature = "kafka")]
pub mod kafka;

/// The engine's built-in connectors.
pub use tidewater_engine::connector as engine;
