//! The Spindle streamer and stream emitter writing where their configuration says:
//! [`open_writer`] turns a sink type and its connection settings into a
//! [`StreamWriter`] (console, one JSON-lines file, Kafka, or Azure Event Hubs through
//! its Kafka endpoint), and [`emit`] runs a [`StreamEmitter`] into it.
//!
//! ```
//! use std::collections::BTreeMap;
//! use tidewater::generators::emitter::{SinkType, StreamEmitConfig};
//! use tidewater::generators::retail::{RetailDomain, Scale};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("envelopes.jsonl");
//! let tables = RetailDomain::new(Scale::Small, 1).generate();
//! let config = StreamEmitConfig {
//!     max_events: Some(100),
//!     sink_type: SinkType::File,
//!     sink_connection: BTreeMap::from([("path".to_string(), path.display().to_string())]),
//!     ..Default::default()
//! };
//! let result = tidewater::spindle::emit(&tables, config)?;
//! assert_eq!(result.events_sent, 100);
//! assert_eq!(std::fs::read_to_string(&path)?.lines().count(), 100);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use tidewater_generators::core::{GeneratorError, GeneratorErrors};
use tidewater_generators::emitter::{SinkType, StreamEmitConfig, StreamEmitResult, StreamEmitter};
use tidewater_generators::retail::Tables;
pub use tidewater_generators::streamer::SpindleStreamer;
pub use tidewater_generators::writer::{
    ConsoleWriter, FileMode, FileWriter, MemoryWriter, StreamWriter,
};

fn setting_error(field: &str, expected: &str, found: impl ToString) -> GeneratorError {
    GeneratorError::InvalidParameter {
        field: format!("sink_connection.{field}"),
        expected: expected.into(),
        found: found.to_string(),
    }
}

/// Kafka settings from a sink connection: `bootstrap_servers`, an optional `topic`
/// sending every event there, and librdkafka settings passed through.
#[cfg(feature = "kafka")]
fn kafka_settings(connection: &BTreeMap<String, String>) -> Result<KafkaTarget, GeneratorError> {
    let mut bootstrap = None;
    let mut topic = None;
    let mut settings = Vec::new();
    for (key, value) in connection {
        match key.as_str() {
            "bootstrap_servers" | "bootstrap.servers" => bootstrap = Some(value.clone()),
            "topic" | "eventhub_name" => topic = Some(value.clone()),
            "connection_string" => {
                // Event Hubs speaks Kafka on port 9093 with SASL PLAIN, the connection
                // string as the password.
                let namespace = value
                    .split(';')
                    .find_map(|part| part.strip_prefix("Endpoint=sb://"))
                    .map(|host| host.trim_end_matches('/').to_string())
                    .ok_or_else(|| {
                        setting_error(
                            "connection_string",
                            "an Event Hubs connection string (Endpoint=sb://NAMESPACE.servicebus.windows.net/;...)",
                            "no Endpoint",
                        )
                    })?;
                bootstrap = Some(format!("{namespace}:9093"));
                settings.extend([
                    ("security.protocol".to_string(), "SASL_SSL".to_string()),
                    ("sasl.mechanism".to_string(), "PLAIN".to_string()),
                    ("sasl.username".to_string(), "$ConnectionString".to_string()),
                    ("sasl.password".to_string(), value.clone()),
                ]);
            }
            other => settings.push((other.to_string(), value.clone())),
        }
    }
    let bootstrap = bootstrap.ok_or_else(|| {
        setting_error(
            "bootstrap_servers",
            "host:port of the brokers (or an Event Hubs connection_string)",
            "nothing",
        )
    })?;
    Ok(KafkaTarget {
        bootstrap,
        topic,
        settings,
    })
}

/// Brokers, an optional fixed topic and librdkafka settings.
#[cfg(feature = "kafka")]
struct KafkaTarget {
    bootstrap: String,
    topic: Option<String>,
    settings: Vec<(String, String)>,
}

/// Events as JSON messages on Kafka: each on its own topic (the envelope's, or the
/// streamed table's) unless a fixed `topic` is set.
#[cfg(feature = "kafka")]
pub struct KafkaWriter {
    producer: crate::kafka_json::JsonProducer,
    topic: Option<String>,
}

#[cfg(feature = "kafka")]
impl KafkaWriter {
    /// A writer from sink connection settings: `bootstrap_servers` (or an Event Hubs
    /// `connection_string`), optional `topic` (or `eventhub_name`), and librdkafka
    /// settings (`linger.ms`, `acks`, ...) passed through.
    pub fn open(connection: &BTreeMap<String, String>) -> Result<KafkaWriter, GeneratorError> {
        let KafkaTarget {
            bootstrap,
            topic,
            settings,
        } = kafka_settings(connection)?;
        let producer = crate::kafka_json::JsonProducer::new(
            &bootstrap,
            settings.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            std::time::Duration::from_secs(60),
        )
        .map_err(|e| setting_error("(kafka)", "settings librdkafka accepts", e))?;
        Ok(KafkaWriter { producer, topic })
    }
}

#[cfg(feature = "kafka")]
impl StreamWriter for KafkaWriter {
    fn write(
        &mut self,
        topic: &str,
        key: Option<&str>,
        event: &serde_json::Value,
    ) -> Result<(), GeneratorError> {
        let topic = self.topic.as_deref().unwrap_or(topic);
        let payload = event.to_string();
        self.producer
            .send(topic, key, payload.as_bytes())
            .map_err(|message| GeneratorError::Output {
                path: format!("kafka topic `{topic}`"),
                message,
            })
    }

    fn flush(&mut self) -> Result<(), GeneratorError> {
        self.producer
            .flush()
            .map_err(|message| GeneratorError::Output {
                path: "kafka".into(),
                message,
            })
    }
}

/// The writer a sink type and its connection settings name: `console` (stdout),
/// `file` (`path`, `mode` `w` or `a`), `kafka` (`bootstrap_servers`, optional `topic`,
/// librdkafka settings), `eventhub`/`eventstream` (Event Hubs' Kafka endpoint from a
/// `connection_string`, `eventhub_name` as the topic).
pub fn open_writer(
    sink_type: SinkType,
    connection: &BTreeMap<String, String>,
) -> Result<Box<dyn StreamWriter>, GeneratorError> {
    match sink_type {
        SinkType::Console => Ok(Box::new(ConsoleWriter::stdout())),
        SinkType::File => {
            let path = connection
                .get("path")
                .ok_or_else(|| setting_error("path", "the file to write", "nothing"))?;
            let mode = match connection.get("mode") {
                Some(mode) => mode.parse()?,
                None => FileMode::Write,
            };
            Ok(Box::new(FileWriter::open(path, mode)?))
        }
        #[cfg(feature = "kafka")]
        SinkType::Kafka | SinkType::Eventhub | SinkType::Eventstream => {
            Ok(Box::new(KafkaWriter::open(connection)?))
        }
        #[cfg(not(feature = "kafka"))]
        _ => Err(setting_error(
            "(kafka)",
            "a build with the `kafka` feature",
            "none",
        )),
    }
}

/// Runs the stream emitter over `tables` into the sink its config names.
pub fn emit(
    tables: &Tables,
    config: StreamEmitConfig,
) -> Result<StreamEmitResult, GeneratorErrors> {
    let mut writer = open_writer(config.sink_type, &config.sink_connection)?;
    let emitter = StreamEmitter::new(tables, config)?;
    Ok(emitter.emit_to(&mut *writer)?)
}

#[cfg(all(test, feature = "kafka"))]
mod tests {
    use super::*;

    #[test]
    fn an_event_hubs_connection_string_becomes_kafka_settings() {
        let connection = BTreeMap::from([
            (
                "connection_string".to_string(),
                "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=k".to_string(),
            ),
            ("eventhub_name".to_string(), "orders".to_string()),
        ]);
        let KafkaTarget {
            bootstrap,
            topic,
            settings,
        } = kafka_settings(&connection).unwrap();
        assert_eq!(bootstrap, "acme.servicebus.windows.net:9093");
        assert_eq!(topic.as_deref(), Some("orders"));
        assert!(settings.contains(&("sasl.username".into(), "$ConnectionString".into())));
        let missing = kafka_settings(&BTreeMap::new()).err().unwrap().to_string();
        assert_eq!(
            missing,
            "`sink_connection.bootstrap_servers`: expected host:port of the brokers (or an Event Hubs connection_string), found nothing"
        );
    }
}
