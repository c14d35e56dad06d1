//! Kafka source and sink (rdkafka over a vendored librdkafka), behind the `kafka`
//! feature.
//!
//! * [`KafkaSource`] reads topics chosen by `subscribe`, `subscribe_pattern` or
//!   `assign`, splits their partitions across workers, and keeps its offsets in the
//!   checkpoint (never in the consumer group, which it only informs). Values arrive as
//!   [`KafkaRecord`]s, JSON into serde types ([`KafkaSource::json`]) or rows of a
//!   declared schema ([`KafkaSource::rows`]); one that does not decode is a
//!   [`DeadLetter`](tidewater_engine::dead_letter::DeadLetter) with its topic,
//!   partition and offset. Watermarks are kept per partition ([`watermarks`]).
//! * [`KafkaSink`] writes JSON values. Exactly-once uses one transaction per
//!   checkpoint per subtask; the crash between "checkpoint stored" and "transaction
//!   committed" is resolved on recovery by a marker committed inside each transaction:
//!   see [`transaction`] for the protocol.
//! * [`test_broker`] starts a throwaway broker (noida-db) for tests.
//!
//! Settings are serde structs that reject unknown keys ([`KafkaSourceConfig`],
//! [`KafkaSinkConfig`]), validated when the pipeline is built with every problem
//! reported.

pub mod assignment;
mod client;
mod config;
pub mod group;
mod offsets;
mod partitions;
mod publisher;
mod record;
pub mod shuffle;
pub(crate) mod sink;
mod source;
pub mod test_broker;
pub mod transaction;
pub mod watermarks;

/// The Kafka client the connector is built on, for programs that need it directly.
pub use rdkafka;

pub use client::QuietEof;
pub use config::{KafkaSinkConfig, KafkaSourceConfig, Topics};
pub use offsets::{EndingOffsets, PartitionStart, StartingOffsets};
pub use record::{Decode, Json, JsonRows, KafkaColumns, KafkaRecord, RecordView, Records};
pub use sink::{KafkaSink, KafkaWriter};
pub use source::{KafkaReader, KafkaSource};
