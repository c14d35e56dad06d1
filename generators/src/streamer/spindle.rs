//! The Spindle streamer: tables' rows, stamped and anomaly-injected by
//! [`TableStream`], written one event at a time through a [`StreamWriter`] with the
//! stream options (pacing, out-of-order and late delivery, `max_events`), returning the
//! run's statistics.

use tidewater_engine::config::Config;
use tidewater_engine::connector::{Source, SourcePoll, SourceReader, WorkerInfo};
use tidewater_engine::record::Batch;

use super::{AnomalyRegistry, EventTimes, TableStream};
use crate::core::{GeneratorError, GeneratorErrors, GeneratorSource, StreamOptions, StreamResult};
use crate::retail::Tables;
use crate::writer::StreamWriter;

/// Streams tables through a writer (the reference's `SpindleStreamer`).
///
/// ```
/// use tidewater_generators::core::StreamOptions;
/// use tidewater_generators::retail::{RetailDomain, Scale};
/// use tidewater_generators::streamer::SpindleStreamer;
/// use tidewater_generators::writer::MemoryWriter;
///
/// let tables = RetailDomain::new(Scale::Small, 42).generate();
/// let options = StreamOptions { max_events: Some(500), ..Default::default() };
/// let mut streamer = SpindleStreamer::new(tables, MemoryWriter::default()).with_options(options);
/// let result = streamer.stream("orders", None)?;
/// assert_eq!(result.events_sent, 500);
/// assert_eq!(streamer.writer().events[0].2["_spindle_table"], "orders");
/// # Ok::<(), tidewater_generators::core::GeneratorErrors>(())
/// ```
pub struct SpindleStreamer<W> {
    tables: Tables,
    writer: W,
    options: StreamOptions,
    anomalies: AnomalyRegistry,
    seed: u64,
}

impl<W: StreamWriter> SpindleStreamer<W> {
    /// Streams `tables` into `writer`, as fast as possible, no anomalies, seed 42.
    pub fn new(tables: Tables, writer: W) -> Self {
        SpindleStreamer {
            tables,
            writer,
            options: StreamOptions::default(),
            anomalies: AnomalyRegistry::new(),
            seed: 42,
        }
    }

    /// Pacing, disorder and `max_events` (per table).
    pub fn with_options(mut self, options: StreamOptions) -> Self {
        self.options = options;
        self
    }

    /// Anomalies injected into every table.
    pub fn with_anomalies(mut self, anomalies: AnomalyRegistry) -> Self {
        self.anomalies = anomalies;
        self
    }

    /// The seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The writer (to read back what a memory writer holds).
    pub fn writer(&self) -> &W {
        &self.writer
    }

    /// Streams every row of `table`; event time from `timestamp_column`, or the first
    /// column of timestamps.
    pub fn stream(
        &mut self,
        table: &str,
        timestamp_column: Option<&str>,
    ) -> Result<StreamResult, GeneratorErrors> {
        let stream = TableStream::with_times(
            &self.tables,
            table,
            EventTimes::Column(timestamp_column),
            self.anomalies.clone(),
            self.seed,
        )?;
        self.stream_one(stream)
    }

    /// Streams every table in generation order; tables without a timestamp column are
    /// errors (all named) unless `fallback` (start ms, rows per second) gives them
    /// evenly spaced times.
    pub fn stream_all(
        &mut self,
        fallback: Option<(i64, f64)>,
    ) -> Result<Vec<StreamResult>, GeneratorErrors> {
        let streams = TableStream::all(&self.tables, fallback, self.anomalies.clone(), self.seed)?;
        streams.into_iter().map(|s| self.stream_one(s)).collect()
    }

    fn stream_one(&mut self, stream: TableStream) -> Result<StreamResult, GeneratorErrors> {
        let table = stream.table().to_string();
        let source = GeneratorSource::new(stream).with_options(self.options.clone());
        let stats = source.stats();
        let engine = |e: tidewater_engine::error::EngineError| {
            GeneratorErrors::from(GeneratorError::Output {
                path: table.clone(),
                message: e.to_string(),
            })
        };
        let mut reader = source
            .create_reader(&WorkerInfo::new(&Config::default(), 0, 1))
            .map_err(engine)?;
        let mut batch = Batch::new();
        loop {
            batch.clear();
            let poll = reader.poll_batch(&mut batch).map_err(engine)?;
            for record in batch.iter() {
                let json =
                    serde_json::to_value(&record.value).map_err(|e| GeneratorError::Output {
                        path: table.clone(),
                        message: e.to_string(),
                    })?;
                self.writer.write(&table, None, &json)?;
            }
            match poll {
                SourcePoll::Finished => break,
                // Paced: the next event is not due yet.
                SourcePoll::Pending if batch.is_empty() => {
                    std::thread::sleep(std::time::Duration::from_millis(1))
                }
                _ => {}
            }
        }
        self.writer.flush()?;
        Ok(stats.result(&table))
    }
}
