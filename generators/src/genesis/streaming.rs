//! Fitted rows in batches: [`StreamingGenerator`] (paced batches with metadata and
//! statistics), [`BatchIterator`] (a fixed total in fixed batches) and
//! [`generate_to_channel`] (batches into a channel, then an end marker).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use crossbeam_channel::Sender;
use tidewater_engine::row::{DataType, Row, Schema, Value};

use super::condition::Conditions;
use super::error::{GenesisError, Result};
use super::fitted::FittedGenerator;
use super::sampler::ConditionalSampler;

/// How a [`StreamingGenerator`] batches (the reference's `StreamingConfig`).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamingConfig {
    /// Rows per batch (default 1000).
    pub batch_size: usize,
    /// Stop after this many batches (`None`: never).
    pub max_batches: Option<u64>,
    /// Pause between batches (default none).
    pub delay_between_batches: Duration,
    /// Add `_generated_at` (RFC 3339, wall clock) and `_batch_id` (`batch-001`, ...) to
    /// every row (default true).
    pub include_metadata: bool,
}

impl Default for StreamingConfig {
    fn default() -> Self {
        StreamingConfig {
            batch_size: 1000,
            max_batches: None,
            delay_between_batches: Duration::ZERO,
            include_metadata: true,
        }
    }
}

impl StreamingConfig {
    fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(GenesisError::InvalidParameter {
                field: "batch_size".into(),
                expected: "at least 1".into(),
                found: "0".into(),
            });
        }
        Ok(())
    }
}

/// Generation statistics: rows and batches so far, and the time they took.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GenerationStats {
    /// Rows generated.
    pub total_samples: u64,
    /// Batches generated.
    pub total_batches: u64,
    /// Time since the first batch was asked for.
    pub elapsed: Duration,
}

impl GenerationStats {
    /// Rows per second of elapsed time (0 before any time passed).
    pub fn samples_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.total_samples as f64 / secs
        } else {
            0.0
        }
    }
}

/// The `_batch_id` of batch `n` (counted from 1): `batch-001`.
pub fn batch_id(n: u64) -> String {
    format!("batch-{n:03}")
}

/// The schema of `schema` with the metadata columns after its own.
pub fn with_metadata_columns(schema: &Schema) -> Arc<Schema> {
    let fields = schema
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.data_type))
        .chain([
            ("_generated_at".to_string(), DataType::Str),
            ("_batch_id".to_string(), DataType::Str),
        ]);
    Arc::new(Schema::new(fields))
}

/// Adds `_generated_at` and `_batch_id` to rows of one batch.
pub fn add_metadata(rows: Vec<Row>, schema: &Arc<Schema>, batch: u64) -> Vec<Row> {
    let generated_at = Value::Str(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true));
    let id = Value::Str(batch_id(batch));
    rows.into_iter()
        .map(|row| {
            let mut values = row.values().to_vec();
            values.push(generated_at.clone());
            values.push(id.clone());
            Row::new(schema.clone(), values)
        })
        .collect()
}

/// A fitted generator delivering batches, as the reference's `StreamingGenerator`.
///
/// ```
/// use tidewater_engine::row::{Row, Value};
/// use tidewater_generators::genesis::{FittedGenerator, Method, StreamingConfig, StreamingGenerator};
///
/// let training: Vec<Row> = (0..50).map(|i| Row::from_pairs([("x", Value::Int(i))])).collect();
/// let fitted = FittedGenerator::fit(&training, Method::GaussianCopula)?;
/// let config = StreamingConfig { batch_size: 10, max_batches: Some(3), ..Default::default() };
/// let mut streaming = StreamingGenerator::new(fitted, config)?;
/// let batches: Vec<Vec<Row>> = streaming.generate_stream().collect::<Result<_, _>>()?;
/// assert_eq!(batches.len(), 3);
/// assert_eq!(batches[2][0].get("_batch_id"), Some(&Value::from("batch-003")));
/// assert_eq!(streaming.stats().total_samples, 30);
/// # Ok::<(), tidewater_generators::genesis::GenesisError>(())
/// ```
#[derive(Debug)]
pub struct StreamingGenerator {
    generator: FittedGenerator,
    config: StreamingConfig,
    sampler: Option<ConditionalSampler>,
    schema: Arc<Schema>,
    next_index: u64,
    stats: GenerationStats,
    started: Option<Instant>,
}

impl StreamingGenerator {
    /// Streams `generator`'s rows as `config` says.
    pub fn new(generator: FittedGenerator, config: StreamingConfig) -> Result<StreamingGenerator> {
        config.validate()?;
        let schema = if config.include_metadata {
            with_metadata_columns(generator.schema())
        } else {
            generator.schema().clone()
        };
        Ok(StreamingGenerator {
            generator,
            config,
            sampler: None,
            schema,
            next_index: 0,
            stats: GenerationStats::default(),
            started: None,
        })
    }

    /// Only rows that meet `conditions`.
    pub fn with_conditions(mut self, conditions: &Conditions) -> Result<StreamingGenerator> {
        self.sampler = if conditions.is_empty() {
            None
        } else {
            Some(self.generator.sampler(conditions)?)
        };
        Ok(self)
    }

    /// The schema of the delivered rows.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The statistics so far.
    pub fn stats(&self) -> GenerationStats {
        self.stats
    }

    /// The next batch, or `None` after `max_batches`.
    pub fn next_batch(&mut self) -> Option<Result<Vec<Row>>> {
        if self
            .config
            .max_batches
            .is_some_and(|max| self.stats.total_batches >= max)
        {
            return None;
        }
        let started = *self.started.get_or_insert_with(Instant::now);
        if self.stats.total_batches > 0 && !self.config.delay_between_batches.is_zero() {
            std::thread::sleep(self.config.delay_between_batches);
        }
        let n = self.config.batch_size as u64;
        let range = self.next_index..self.next_index + n;
        let rows = match &mut self.sampler {
            None => Ok(range.map(|i| self.generator.row(i)).collect()),
            Some(sampler) => range.map(|i| sampler.row(i)).collect::<Result<Vec<Row>>>(),
        };
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => return Some(Err(e)),
        };
        self.next_index += n;
        self.stats.total_batches += 1;
        self.stats.total_samples += rows.len() as u64;
        self.stats.elapsed = started.elapsed();
        Some(Ok(if self.config.include_metadata {
            add_metadata(rows, &self.schema, self.stats.total_batches)
        } else {
            rows
        }))
    }

    /// The batches, one after another (endless without `max_batches`).
    pub fn generate_stream(&mut self) -> impl Iterator<Item = Result<Vec<Row>>> + '_ {
        std::iter::from_fn(move || self.next_batch())
    }
}

/// A fixed number of rows in fixed-size batches (the last one may be shorter).
///
/// ```
/// use tidewater_engine::row::{Row, Value};
/// use tidewater_generators::genesis::{BatchIterator, FittedGenerator, Method};
///
/// let training: Vec<Row> = (0..50).map(|i| Row::from_pairs([("x", Value::Int(i))])).collect();
/// let fitted = FittedGenerator::fit(&training, Method::GaussianCopula)?;
/// let iterator = BatchIterator::new(fitted, 12_000, 5_000)?;
/// assert_eq!(iterator.len(), 3);
/// let sizes: Vec<usize> = iterator.map(|b| b.len()).collect();
/// assert_eq!(sizes, vec![5_000, 5_000, 2_000]);
/// # Ok::<(), tidewater_generators::genesis::GenesisError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchIterator {
    generator: FittedGenerator,
    total_samples: u64,
    batch_size: u64,
    next_index: u64,
}

impl BatchIterator {
    /// `total_samples` rows of `generator` in batches of `batch_size`.
    pub fn new(generator: FittedGenerator, total_samples: u64, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(GenesisError::InvalidParameter {
                field: "batch_size".into(),
                expected: "at least 1".into(),
                found: "0".into(),
            });
        }
        Ok(BatchIterator {
            generator,
            total_samples,
            batch_size: batch_size as u64,
            next_index: 0,
        })
    }

    /// The total number of rows.
    pub fn total_samples(&self) -> u64 {
        self.total_samples
    }
}

impl Iterator for BatchIterator {
    type Item = Vec<Row>;

    fn next(&mut self) -> Option<Vec<Row>> {
        if self.next_index >= self.total_samples {
            return None;
        }
        let n = self.batch_size.min(self.total_samples - self.next_index);
        let rows = self.generator.sample_range(self.next_index, n as usize);
        self.next_index += n;
        Some(rows)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.total_samples - self.next_index;
        let batches = left.div_ceil(self.batch_size) as usize;
        (batches, Some(batches))
    }
}

impl ExactSizeIterator for BatchIterator {}

/// Sends `total_samples` rows in batches of `batch_size` into `sender`, then `None` as
/// the end marker; returns the number of batches sent.
///
/// ```
/// use tidewater_engine::row::{Row, Value};
/// use tidewater_generators::genesis::{generate_to_channel, FittedGenerator, Method};
///
/// let training: Vec<Row> = (0..50).map(|i| Row::from_pairs([("x", Value::Int(i))])).collect();
/// let fitted = FittedGenerator::fit(&training, Method::GaussianCopula)?;
/// let (tx, rx) = crossbeam_channel::bounded(4);
/// let producer = std::thread::spawn(move || generate_to_channel(&fitted, &tx, 1_000, 300));
/// let mut rows = 0;
/// while let Some(batch) = rx.recv().unwrap() {
///     rows += batch.len();
/// }
/// assert_eq!(rows, 1_000);
/// assert_eq!(producer.join().unwrap()?, 4);
/// # Ok::<(), tidewater_generators::genesis::GenesisError>(())
/// ```
pub fn generate_to_channel(
    generator: &FittedGenerator,
    sender: &Sender<Option<Vec<Row>>>,
    total_samples: u64,
    batch_size: usize,
) -> Result<u64> {
    let mut sent = 0;
    for batch in BatchIterator::new(generator.clone(), total_samples, batch_size)? {
        sender
            .send(Some(batch))
            .map_err(|_| GenesisError::ChannelClosed { sent })?;
        sent += 1;
    }
    sender
        .send(None)
        .map_err(|_| GenesisError::ChannelClosed { sent })?;
    Ok(sent)
}
