//! Genesis fitted generators with their delivery to the outside: everything of
//! [`tidewater_generators::genesis`] (fit, conditions, batches, the WebSocket server)
//! plus [`KafkaStreamingGenerator`], which needs the Kafka connector.

pub use tidewater_generators::genesis::*;

#[cfg(feature = "kafka")]
mod kafka;
#[cfg(feature = "kafka")]
pub use kafka::{KafkaGeneratorConfig, KafkaStreamingGenerator, StopHandle};
