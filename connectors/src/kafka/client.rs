//! What the source and sink share about talking to a cluster: client configs and
//! errors that say what was being done.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::ClientConfig;
use tidewater_engine::error::EngineError;

/// How long a metadata or offset request may take before the run fails.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client config: the connector's own settings first, then the user's properties
/// (which may override the defaults, but not the managed keys, refused by `validate`).
pub(crate) fn client_config(
    bootstrap: &str,
    defaults: &[(&str, &str)],
    properties: &BTreeMap<String, String>,
) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    // librdkafka logs through its own callback; keep it quiet unless asked.
    config.set("log_level", "3");
    for (k, v) in defaults {
        config.set(*k, *v);
    }
    for (k, v) in properties {
        config.set(k, v);
    }
    config
}

/// A Kafka error while `doing` something, at node `node`.
pub(crate) fn kafka_error(node: &str, doing: impl std::fmt::Display, e: KafkaError) -> EngineError {
    EngineError::external(format!("`{node}`: {doing}"), e)
}

/// A consumer context that logs librdkafka's global errors, except the end-of-partition
/// events the source asks for (`enable.partition.eof`), which are not errors.
#[derive(Debug, Default, Clone, Copy)]
pub struct QuietEof;

impl rdkafka::ClientContext for QuietEof {
    fn error(&self, error: KafkaError, reason: &str) {
        if !matches!(error, KafkaError::PartitionEOF(_)) {
            tracing::error!(target: "librdkafka", "{error}: {reason}");
        }
    }
}

impl rdkafka::consumer::ConsumerContext for QuietEof {}

/// A consumer with the [`QuietEof`] context.
pub(crate) type EofConsumer = rdkafka::consumer::BaseConsumer<QuietEof>;
