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
/// events the source asks for (`enable.partition.eof`), which are not errors. With
/// gauges (the source's), it also reports each partition's lag from librdkafka's
/// statistics (`statistics.interval.ms`).
#[derive(Debug, Default, Clone)]
pub struct QuietEof {
    gauges: Option<tidewater_engine::metrics::SourceGauges>,
}

impl QuietEof {
    /// A context that reports partition lag through `gauges`.
    pub fn with_gauges(gauges: tidewater_engine::metrics::SourceGauges) -> Self {
        QuietEof {
            gauges: Some(gauges),
        }
    }
}

impl rdkafka::ClientContext for QuietEof {
    fn error(&self, error: KafkaError, reason: &str) {
        // librdkafka reports the end of a partition as a partition event or, from the
        // fetcher, as a global error with the same code: neither is an error here.
        let end_of_partition = matches!(error, KafkaError::PartitionEOF(_))
            || error.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::PartitionEOF);
        if !end_of_partition {
            tracing::error!(target: "librdkafka", "{error}: {reason}");
        }
    }

    /// Read as plain JSON: rdkafka's typed statistics refuse fields some librdkafka
    /// versions leave out, and only the partitions' lag is needed.
    fn stats_raw(&self, statistics: &[u8]) {
        let Some(gauges) = &self.gauges else { return };
        let Ok(stats) = serde_json::from_slice::<serde_json::Value>(statistics) else {
            tracing::debug!("unreadable librdkafka statistics");
            return;
        };
        let Some(topics) = stats.get("topics").and_then(|t| t.as_object()) else {
            return;
        };
        for (topic, t) in topics {
            let Some(partitions) = t.get("partitions").and_then(|p| p.as_object()) else {
                continue;
            };
            for (partition, p) in partitions {
                if let (Ok(partition @ 0..), Some(lag)) = (partition.parse::<i32>(), lag_of(p)) {
                    gauges.set_partition_lag(topic, partition, lag);
                }
            }
        }
    }
}

/// Records between a partition's end and the reader's position, from its statistics:
/// librdkafka's own `consumer_lag` counts from the committed offset, which the source
/// does not use (positions live in checkpoints), so it is the last stable offset (the
/// end a `read_committed` reader can reach) minus the application's position. `None`
/// for partitions this consumer does not read, or before both are known.
fn lag_of(partition: &serde_json::Value) -> Option<i64> {
    let field = |name: &str| partition.get(name).and_then(|v| v.as_i64());
    let desired = partition.get("desired").and_then(|v| v.as_bool());
    match (desired, field("ls_offset"), field("app_offset")) {
        (Some(true), Some(end @ 0..), Some(position @ 0..)) => Some((end - position).max(0)),
        _ => None,
    }
}

impl rdkafka::consumer::ConsumerContext for QuietEof {}

/// A consumer with the [`QuietEof`] context.
pub(crate) type EofConsumer = rdkafka::consumer::BaseConsumer<QuietEof>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_the_stable_end_minus_the_position_of_a_partition_read() {
        let cases = [
            (
                r#"{"desired": true, "ls_offset": 40, "app_offset": 15}"#,
                Some(25),
            ),
            (
                r#"{"desired": true, "ls_offset": 40, "app_offset": 40}"#,
                Some(0),
            ),
            (
                r#"{"desired": true, "ls_offset": -1001, "app_offset": 0}"#,
                None,
            ),
            (
                r#"{"desired": true, "ls_offset": 40, "app_offset": -1001}"#,
                None,
            ),
            (
                r#"{"desired": false, "ls_offset": 40, "app_offset": 0}"#,
                None,
            ),
        ];
        for (json, expected) in cases {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(lag_of(&value), expected, "{json}");
        }
    }
}
