//! Complete jobs built from the engine, the generators and the connectors, ready to
//! run from a program, an example or a test.
//!
//! * [`auction_bid_counts`]: Nexmark bids -> 1 s tumbling bid counts per auction ->
//!   files, checkpointed with a chosen delivery guarantee; the job the crash tests kill
//!   and restart.

//! * [`file_counts`]: a folder of JSON-lines events (watched or read once) -> 1 s
//!   tumbling count and sum per key -> exactly-once Parquet; the file crash tests kill it.
//! * [`kafka_counts`]: JSON events from a Kafka topic -> 1 s tumbling count and sum per
//!   key -> another topic, checkpointed; the job the Kafka crash tests kill.

pub mod auction_bid_counts;
pub mod file_counts;
#[cfg(feature = "kafka")]
pub mod kafka_counts;
