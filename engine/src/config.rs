//! Pipeline configuration.

use std::sync::Arc;

use crate::time::{Clock, SystemClock};

/// How event time and watermarks behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeSemantics {
    /// Flink-style continuous processing: the watermark follows the data after every
    /// batch, and the end of a bounded input closes every window.
    #[default]
    Continuous,
    /// Spark Structured Streaming's micro-batch semantics: each source batch is a
    /// micro-batch, the watermark moves only between micro-batches (one batch behind
    /// the data), touching sessions merge, and windows still open when the input ends
    /// are not emitted. Results match Spark row for row.
    SparkMicroBatch {
        /// Spark's `spark.sql.streaming.statefulOperator.allowMultiple=false`: rows are
        /// checked for lateness against the current batch's watermark instead of the
        /// previous one.
        single_watermark: bool,
    },
}

/// What a crash may do to the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryGuarantee {
    /// Nothing is replayed after a crash: records in flight may be lost, none repeated.
    #[serde(alias = "at_most_once", alias = "AT_MOST_ONCE")]
    AtMostOnce,
    /// Replay from the last checkpoint: nothing is lost, sinks may repeat records.
    #[default]
    #[serde(alias = "at_least_once", alias = "AT_LEAST_ONCE")]
    AtLeastOnce,
    /// Replay plus two-phase-commit sinks: the committed output equals a run that never
    /// crashed.
    #[serde(alias = "exactly_once", alias = "EXACTLY_ONCE")]
    ExactlyOnce,
}

impl std::str::FromStr for DeliveryGuarantee {
    type Err = crate::error::EngineError;

    fn from_str(s: &str) -> crate::error::Result<Self> {
        match s {
            "at-most-once" | "at_most_once" | "AT_MOST_ONCE" => Ok(DeliveryGuarantee::AtMostOnce),
            "at-least-once" | "at_least_once" | "AT_LEAST_ONCE" => {
                Ok(DeliveryGuarantee::AtLeastOnce)
            }
            "exactly-once" | "exactly_once" | "EXACTLY_ONCE" => Ok(DeliveryGuarantee::ExactlyOnce),
            other => Err(crate::error::EngineError::invalid(
                "checkpointing",
                "delivery",
                "at-most-once, at-least-once or exactly-once",
                other,
            )),
        }
    }
}

/// Checkpointing settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointConfig {
    /// The sled directory holding the checkpoints.
    pub dir: std::path::PathBuf,
    /// Processing time between checkpoints.
    pub interval: std::time::Duration,
    /// Complete checkpoints kept.
    pub retain: usize,
    /// Delivery guarantee.
    pub delivery: DeliveryGuarantee,
}

/// Settings of a pipeline run.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let config = Config::default().with_parallelism(2).with_batch_size(4096).with_name("clicks");
/// assert_eq!(config.parallelism, 2);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Pipeline name, used in errors and logs.
    pub name: String,
    /// Number of worker threads; each runs one subtask of every operator. Default 1:
    /// a run's results, late data included, are the same on every machine and every
    /// run. With more workers, which records are late depends on how the workers'
    /// watermarks interleave (thread timing), as in Flink; results without late data do
    /// not change. For reproducible late-data results at any parallelism use the
    /// Spark-compatible mode, or the deterministic simulation in tests.
    pub parallelism: usize,
    /// Records a source reads per batch.
    pub batch_size: usize,
    /// Capacity, in messages, of each channel of a hash exchange (the backpressure bound).
    pub channel_capacity: usize,
    /// Continuous or Spark-compatible micro-batch time semantics.
    pub time_semantics: TimeSemantics,
    /// Processing-time clock (a `ManualClock` in tests).
    pub clock: Arc<dyn Clock>,
    /// Watermark alignment across workers: a worker whose watermark leads the slowest
    /// worker's by more than this stops reading its source until the others catch up
    /// (Flink's watermark alignment). `None` turns it off.
    pub watermark_alignment: Option<std::time::Duration>,
    /// Checkpointing (`None`: off).
    pub checkpointing: Option<CheckpointConfig>,
    /// Local-global (two-phase) aggregation of tumbling and sliding windows at
    /// parallelism > 1: each worker pre-aggregates its own records per key and pane and
    /// only the partial accumulators cross the hash exchange (Flink SQL's two-phase
    /// aggregation). Used for append-mode windows without a late side output whose
    /// aggregate [combines](crate::window::Aggregate::combines); on by default.
    pub local_aggregation: bool,
    /// Window operators record what went into each window and when it fired, for
    /// [`explain_window`](crate::processor::StreamProcessor::explain_window). A
    /// debugging mode: it keeps every record's key and time (and turns local-global
    /// aggregation off, so that the window operator sees each record).
    pub explain: bool,
    /// Serve `/metrics` (Prometheus) and the live dashboard on this address while the
    /// run lasts (see [`http`](crate::http)); `None`: no server.
    pub http: Option<String>,
    /// The consumer group this pipeline runs in as one instance of many (see
    /// `tidewater_connectors::kafka::group`): instances with the same group share the
    /// input topic's partitions, one task per partition, each with its own checkpoints
    /// under the shared checkpoint folder. `None`: a single process owns all input.
    pub group: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: "pipeline".to_string(),
            // One worker: the same results, late data included, on every machine.
            parallelism: 1,
            batch_size: 1024,
            channel_capacity: 64,
            time_semantics: TimeSemantics::Continuous,
            clock: Arc::new(SystemClock),
            watermark_alignment: Some(std::time::Duration::from_secs(2)),
            checkpointing: None,
            local_aggregation: true,
            explain: false,
            http: None,
            group: None,
        }
    }
}

impl Config {
    /// Runs the pipeline as one instance of consumer group `group` (see the field
    /// [`group`](Config::group)).
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Serves `/metrics` in the Prometheus text format and the live dashboard at `/`
    /// on `addr` (`"127.0.0.1:9898"`; port 0 picks a free one, see
    /// [`StreamProcessor::http_addr`](crate::processor::StreamProcessor::http_addr))
    /// from the start of the run until the processor is dropped.
    pub fn with_http(mut self, addr: impl Into<String>) -> Self {
        self.http = Some(addr.into());
        self
    }

    /// Sets the pipeline name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the number of workers.
    pub fn with_parallelism(mut self, parallelism: usize) -> Self {
        self.parallelism = parallelism;
        self
    }

    /// One worker per core of this machine (what Flink's local environment does):
    /// the fastest, but with late data the results depend on thread timing (see
    /// [`parallelism`](Self::parallelism)).
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// assert_eq!(Config::default().parallelism, 1);
    /// assert!(Config::default().with_available_parallelism().parallelism >= 1);
    /// ```
    pub fn with_available_parallelism(self) -> Self {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.with_parallelism(n)
    }

    /// Sets the source batch size.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the exchange channel capacity (messages).
    pub fn with_channel_capacity(mut self, capacity: usize) -> Self {
        self.channel_capacity = capacity;
        self
    }

    /// Turns local-global window aggregation on or off (see
    /// [`local_aggregation`](Config::local_aggregation)); results are the same either way.
    pub fn with_local_aggregation(mut self, on: bool) -> Self {
        self.local_aggregation = on;
        self
    }

    /// Records what goes into each window and when it fires (see
    /// [`explain`](Config::explain)).
    pub fn with_explain(mut self, on: bool) -> Self {
        self.explain = on;
        self
    }

    /// Uses Spark Structured Streaming's micro-batch semantics.
    pub fn spark_compatible(mut self, single_watermark: bool) -> Self {
        self.time_semantics = TimeSemantics::SparkMicroBatch { single_watermark };
        self
    }

    /// Uses the given processing-time clock.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Sets the watermark alignment drift (`None`: off).
    pub fn with_watermark_alignment(mut self, max_drift: Option<std::time::Duration>) -> Self {
        self.watermark_alignment = max_drift;
        self
    }

    /// Checkpoints to `dir` every `interval` with `delivery` semantics, keeping the last
    /// three. A pipeline started on a directory holding a complete checkpoint resumes
    /// from it.
    pub fn with_checkpointing(
        mut self,
        dir: impl Into<std::path::PathBuf>,
        interval: std::time::Duration,
        delivery: DeliveryGuarantee,
    ) -> Self {
        self.checkpointing = Some(CheckpointConfig {
            dir: dir.into(),
            interval,
            retain: 3,
            delivery,
        });
        self
    }

    /// True when candidate windows run as local-global aggregation in this run.
    pub(crate) fn local_aggregation_applies(&self) -> bool {
        self.parallelism > 1 && self.local_aggregation && !self.is_spark() && !self.explain
    }

    /// True in Spark-compatible mode.
    pub fn is_spark(&self) -> bool {
        matches!(self.time_semantics, TimeSemantics::SparkMicroBatch { .. })
    }

    /// Every problem of these settings, reported together under the pipeline's name.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let e = Config::default().with_name("p").with_parallelism(0).with_channel_capacity(0)
    ///     .validate().unwrap_err();
    /// assert_eq!(e.problems().len(), 2);
    /// ```
    pub fn validate(&self) -> crate::error::Result<()> {
        let mut problems = crate::error::Problems::new();
        let at_least_one = |problems: &mut crate::error::Problems, field: &str, value: usize| {
            problems.check(value >= 1, "config", field, "at least 1", value);
        };
        at_least_one(&mut problems, "parallelism", self.parallelism);
        at_least_one(&mut problems, "batch_size", self.batch_size);
        at_least_one(&mut problems, "channel_capacity", self.channel_capacity);
        problems.check(
            !self.name.trim().is_empty(),
            "config",
            "name",
            "a non-empty name",
            "\"\"",
        );
        if let Some(drift) = self.watermark_alignment {
            problems.check(
                !drift.is_zero(),
                "config",
                "watermark_alignment",
                "a drift > 0 (or None to turn alignment off)",
                "0 ms",
            );
        }
        if let Some(cp) = &self.checkpointing {
            problems.check(
                !cp.interval.is_zero(),
                "checkpointing",
                "interval",
                "a duration > 0",
                "0 ms",
            );
            at_least_one(&mut problems, "checkpointing.retain", cp.retain);
        }
        problems.finish(&self.name, ())
    }
}
