//! Fitted rows to a Kafka topic as JSON messages (the reference's
//! `KafkaStreamingGenerator`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tidewater_engine::row::{Row, Value};
use tidewater_generators::genesis::{
    add_metadata, with_metadata_columns, Conditions, FittedGenerator, GenerationStats,
    GenesisError, Result,
};

use crate::kafka_json::JsonProducer;

/// Where and how fitted rows are produced (the reference's parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaGeneratorConfig {
    /// Broker addresses, comma separated.
    pub bootstrap_servers: String,
    /// The topic written to.
    pub topic: String,
    /// Rows generated and handed to the producer at a time (default 100).
    pub batch_size: usize,
    /// A column whose value becomes the message key (none: no key).
    pub key_column: Option<String>,
    /// Producer settings, passed through: librdkafka names (`linger.ms`) or the Python
    /// client's (`linger_ms`, `compression_type`, `buffer_memory` in bytes). `max_block_ms`
    /// bounds the wait while the producer's queue is full (default 60 000).
    pub producer_config: BTreeMap<String, String>,
    /// Add `_generated_at` and `_batch_id` to every message (default true).
    pub include_metadata: bool,
}

impl KafkaGeneratorConfig {
    /// A config with the reference's defaults.
    pub fn new(bootstrap_servers: impl Into<String>, topic: impl Into<String>) -> Self {
        KafkaGeneratorConfig {
            bootstrap_servers: bootstrap_servers.into(),
            topic: topic.into(),
            batch_size: 100,
            key_column: None,
            producer_config: BTreeMap::new(),
            include_metadata: true,
        }
    }

    /// Keys messages by `column`.
    pub fn key_column(mut self, column: impl Into<String>) -> Self {
        self.key_column = Some(column.into());
        self
    }

    /// Rows per batch.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// One producer setting.
    pub fn producer(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.producer_config.insert(key.into(), value.to_string());
        self
    }
}

/// The librdkafka setting for a producer setting given in either spelling; `None` for
/// the settings this generator handles itself.
fn librdkafka_setting(key: &str, value: &str) -> Option<(String, String)> {
    match key {
        "max_block_ms" => None,
        "buffer_memory" => {
            let kbytes = value
                .parse::<u64>()
                .map_or(value.to_string(), |b| (b / 1024).max(1).to_string());
            Some(("queue.buffering.max.kbytes".into(), kbytes))
        }
        "retries" | "acks" => Some((key.into(), value.into())),
        k if k.contains('_') && !k.contains('.') => Some((k.replace('_', "."), value.into())),
        k => Some((k.into(), value.into())),
    }
}

/// Stops a running [`KafkaStreamingGenerator::start_streaming`] from another thread.
#[derive(Debug, Clone, Default)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Asks the generator to stop after the batch it is producing.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Produces a fitted generator's rows to a Kafka topic as JSON objects.
///
/// ```no_run
/// use tidewater::genesis::{FittedGenerator, KafkaGeneratorConfig, KafkaStreamingGenerator, Method};
/// let fitted = FittedGenerator::fit_file("customers.csv", Method::GaussianCopula)?;
/// let config = KafkaGeneratorConfig::new("localhost:9092", "synthetic-data")
///     .batch_size(500)
///     .key_column("customer_id")
///     .producer("linger_ms", 10);
/// let mut generator = KafkaStreamingGenerator::new(fitted, config)?;
/// let stats = generator.start_streaming(Some(1_000.0), Some(1_000_000))?;
/// println!("{} rows at {:.0}/s", stats.total_samples, stats.samples_per_second());
/// # Ok::<(), tidewater::genesis::GenesisError>(())
/// ```
pub struct KafkaStreamingGenerator {
    generator: FittedGenerator,
    config: KafkaGeneratorConfig,
    conditions: Conditions,
    key_index: Option<usize>,
    stop: StopHandle,
    stats: GenerationStats,
}

impl std::fmt::Debug for KafkaStreamingGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaStreamingGenerator")
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish()
    }
}

fn invalid(field: &str, expected: &str, found: impl ToString) -> GenesisError {
    GenesisError::InvalidParameter {
        field: field.into(),
        expected: expected.into(),
        found: found.to_string(),
    }
}

impl KafkaStreamingGenerator {
    /// Checks the config against the model: a topic, servers, a batch size, a key column
    /// the model has.
    pub fn new(generator: FittedGenerator, config: KafkaGeneratorConfig) -> Result<Self> {
        if config.bootstrap_servers.trim().is_empty() {
            return Err(invalid(
                "bootstrap_servers",
                "host:port[,host:port...]",
                "nothing",
            ));
        }
        if config.topic.trim().is_empty() {
            return Err(invalid("topic", "a topic name", "nothing"));
        }
        if config.batch_size == 0 {
            return Err(invalid("batch_size", "at least 1", 0));
        }
        let key_index = match &config.key_column {
            Some(column) => Some(generator.column_index(column)?),
            None => None,
        };
        Ok(KafkaStreamingGenerator {
            generator,
            config,
            conditions: Conditions::none(),
            key_index,
            stop: StopHandle::default(),
            stats: GenerationStats::default(),
        })
    }

    /// Only rows that meet `conditions`.
    pub fn with_conditions(mut self, conditions: Conditions) -> Result<Self> {
        self.generator.sampler(&conditions)?;
        self.conditions = conditions;
        Ok(self)
    }

    /// A handle that stops streaming from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// The statistics of the last run.
    pub fn stats(&self) -> GenerationStats {
        self.stats
    }

    fn producer(&self) -> Result<JsonProducer> {
        let mut max_block = Duration::from_millis(60_000);
        let mut settings = Vec::new();
        for (key, value) in &self.config.producer_config {
            if key == "max_block_ms" {
                let ms = value
                    .parse::<u64>()
                    .map_err(|_| invalid("producer_config.max_block_ms", "milliseconds", value))?;
                max_block = Duration::from_millis(ms);
            }
            settings.extend(librdkafka_setting(key, value));
        }
        JsonProducer::new(
            &self.config.bootstrap_servers,
            settings.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            max_block,
        )
        .map_err(|e| invalid("producer_config", "settings librdkafka accepts", e))
    }

    /// Produces rows until `max_samples` (or [`StopHandle::stop`]), at most
    /// `samples_per_second` when given, then waits until every message is acknowledged.
    pub fn start_streaming(
        &mut self,
        samples_per_second: Option<f64>,
        max_samples: Option<u64>,
    ) -> Result<GenerationStats> {
        if let Some(rate) = samples_per_second {
            if rate.is_nan() || rate <= 0.0 {
                return Err(invalid("samples_per_second", "a positive rate", rate));
            }
        }
        let producer = self.producer()?;
        let mut sampler = if self.conditions.is_empty() {
            None
        } else {
            Some(self.generator.sampler(&self.conditions)?)
        };
        let schema = with_metadata_columns(self.generator.schema());
        let started = Instant::now();
        self.stats = GenerationStats::default();
        let mut next_index = 0u64;
        while !self.stop.0.load(Ordering::Relaxed) {
            let left = max_samples.map_or(u64::MAX, |max| max - self.stats.total_samples);
            if left == 0 {
                break;
            }
            let n = (self.config.batch_size as u64).min(left);
            let rows: Vec<Row> = match &mut sampler {
                None => self.generator.sample_range(next_index, n as usize),
                Some(s) => (next_index..next_index + n)
                    .map(|i| s.row(i))
                    .collect::<Result<_>>()?,
            };
            next_index += n;
            let batch = self.stats.total_batches + 1;
            let rows = if self.config.include_metadata {
                add_metadata(rows, &schema, batch)
            } else {
                rows
            };
            for row in &rows {
                self.send(&producer, row)?;
            }
            self.stats.total_batches = batch;
            self.stats.total_samples += n;
            self.stats.elapsed = started.elapsed();
            if let Some(rate) = samples_per_second {
                // Pace by the batch: the n-th row is due at n / rate seconds.
                let due = Duration::from_secs_f64(self.stats.total_samples as f64 / rate);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
        producer.flush().map_err(|message| GenesisError::Io {
            path: format!("kafka topic `{}`", self.config.topic),
            message,
        })?;
        self.stats.elapsed = started.elapsed();
        Ok(self.stats)
    }

    fn send(&self, producer: &JsonProducer, row: &Row) -> Result<()> {
        let topic = &self.config.topic;
        let io = |message: String| GenesisError::Io {
            path: format!("kafka topic `{topic}`"),
            message,
        };
        let payload = serde_json::to_vec(row).map_err(|e| io(format!("encoding a row: {e}")))?;
        let key = self.key_index.and_then(|i| match &row.values()[i] {
            Value::Null => None,
            Value::Str(s) => Some(s.clone()),
            other => Some(serde_json::to_string(other).unwrap_or_default()),
        });
        producer.send(topic, key.as_deref(), &payload).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_settings_take_either_spelling() {
        let table = [
            ("linger_ms", "10", Some(("linger.ms", "10"))),
            ("linger.ms", "10", Some(("linger.ms", "10"))),
            (
                "compression_type",
                "gzip",
                Some(("compression.type", "gzip")),
            ),
            (
                "buffer_memory",
                "67108864",
                Some(("queue.buffering.max.kbytes", "65536")),
            ),
            ("acks", "all", Some(("acks", "all"))),
            ("max_block_ms", "60000", None),
        ];
        for (key, value, expected) in table {
            let got = librdkafka_setting(key, value);
            let expected = expected.map(|(k, v)| (k.to_string(), v.to_string()));
            assert_eq!(got, expected, "{key}");
        }
    }
}
