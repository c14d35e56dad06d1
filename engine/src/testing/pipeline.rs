//! [`TestPipeline`] and [`TestRun`]: any pipeline, on the calling thread at any
//! parallelism, with a clock the test moves.

use std::time::Instant;

use serde::Serialize;

use super::TestSource;
use crate::config::Config;
use crate::error::Result;
use crate::metrics::{Metrics, NodeKind};
use crate::runtime::LocalExecutor;
use crate::stream::{Pipeline, Stream};
use crate::time::{IntoDuration, ManualClock, Timestamp};

/// A pipeline under test: built with the normal API from [`TestSource`]s (or any
/// source), run by [`start`](Self::start) on the calling thread, every worker in turn,
/// deterministically; processing time is a [`ManualClock`] at 0 that only the test
/// moves. Watermark alignment is off unless asked for
/// ([`with_watermark_alignment`](Self::with_watermark_alignment)).
pub struct TestPipeline {
    pipeline: Pipeline,
    config: Config,
    clock: ManualClock,
}

impl TestPipeline {
    /// A pipeline with `config` (its parallelism, batch size, checkpointing,
    /// Spark-compatible mode...), its clock replaced by the harness's.
    pub fn new(config: Config) -> Self {
        let clock = ManualClock::new(0);
        let config = config
            .with_clock(clock.clone())
            .with_watermark_alignment(None);
        TestPipeline {
            pipeline: Pipeline::new(config.clone()),
            config,
            clock,
        }
    }

    /// Turns watermark alignment on (a worker ahead of its peers by more than
    /// `max_drift` reads its source only every 20 ms of the harness's clock).
    /// Call before adding sources.
    pub fn with_watermark_alignment(mut self, max_drift: std::time::Duration) -> Self {
        self.config = self.config.with_watermark_alignment(Some(max_drift));
        self.pipeline = Pipeline::new(self.config.clone());
        self
    }

    /// The stream of `source`, which shares the harness's clock.
    pub fn source<T: Send + 'static>(&mut self, source: &TestSource<T>) -> Stream<T> {
        source.set_clock(self.clock.clone());
        self.pipeline.source(source.clone())
    }

    /// The pipeline, for sources other than test sources.
    pub fn pipeline(&mut self) -> &mut Pipeline {
        &mut self.pipeline
    }

    /// The harness's processing-time clock.
    pub fn clock(&self) -> ManualClock {
        self.clock.clone()
    }

    /// Builds every worker; nothing runs until the run is stepped.
    pub fn start(self) -> Result<TestRun> {
        let executor = self.pipeline.build_stepped(self.config)?;
        Ok(TestRun {
            executor,
            clock: self.clock,
            batches: 0,
            read: 0,
        })
    }
}

/// A started [`TestPipeline`].
pub struct TestRun {
    executor: LocalExecutor,
    clock: ManualClock,
    batches: u64,
    read: u64,
}

/// What one [`TestRun::run_batch`] did, as Spark's `StreamTest` reports a micro-batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchProgress {
    /// The micro-batch's id, from 0.
    pub batch_id: u64,
    /// Records the sources read in it.
    pub input_rows: u64,
    /// The watermark after it (the least of the watermark nodes'), if any.
    pub watermark: Option<Timestamp>,
    /// Processing time spent on it (ms).
    pub duration_ms: f64,
}

impl TestRun {
    /// Processes everything runnable (every record pushed so far goes as far through
    /// the pipeline as it can) and returns. True once every source has finished and
    /// everything has drained.
    pub fn run_until_idle(&mut self) -> Result<bool> {
        self.executor.run_until_idle()
    }

    /// Moves processing time by `by`, then runs until idle (processing-time windows
    /// and idle timeouts see the new time).
    pub fn advance_processing_time(&mut self, by: impl IntoDuration) -> Result<bool> {
        let ms = by.into_duration().map(crate::time::duration_ms)?;
        self.clock.advance_ms(ms);
        self.run_until_idle()
    }

    /// One micro-batch: every source reads at most one batch, and it goes through the
    /// pipeline before this returns (in the Spark-compatible mode, exactly Spark's
    /// micro-batch: the watermark moves at its end).
    pub fn run_batch(&mut self) -> Result<BatchProgress> {
        let started = Instant::now();
        self.executor.step()?;
        self.executor.drain()?;
        let metrics = self.executor.metrics();
        let progress = BatchProgress {
            batch_id: self.batches,
            input_rows: metrics.source_records - self.read,
            watermark: watermark(&metrics),
            duration_ms: started.elapsed().as_secs_f64() * 1e3,
        };
        self.batches += 1;
        self.read = metrics.source_records;
        Ok(progress)
    }

    /// Ends every source and runs to completion (windows still open close, outside
    /// the Spark-compatible mode; the final checkpoint is stored).
    pub fn finish(&mut self) -> Result<()> {
        self.executor.finish()
    }

    /// The run's metrics so far.
    pub fn metrics(&self) -> Metrics {
        self.executor.metrics()
    }

    /// The watermark now: the least of the watermark nodes' (`None` before any).
    pub fn watermark(&self) -> Option<Timestamp> {
        watermark(&self.metrics())
    }

    /// The harness's processing-time clock.
    pub fn clock(&self) -> ManualClock {
        self.clock.clone()
    }

    /// Why `key`'s window starting at `window_start` fired or has not (with
    /// [`Config::with_explain`](crate::config::Config::with_explain)).
    pub fn explain_window(
        &self,
        key: &impl serde::Serialize,
        window_start: Timestamp,
    ) -> Vec<crate::explain::WindowExplanation> {
        self.executor.explain_window(key, window_start)
    }

    /// Each operator's and input's watermark now, by node name.
    pub fn watermarks(&self) -> std::collections::BTreeMap<String, Option<Timestamp>> {
        crate::explain::watermarks(&self.metrics())
    }
}

fn watermark(m: &Metrics) -> Option<Timestamp> {
    m.watermark.or_else(|| {
        // A source with event time has no watermark node: its own watermark counts.
        m.operators
            .iter()
            .filter(|o| o.kind == NodeKind::Source && o.watermark != crate::time::MIN_WATERMARK)
            .map(|o| o.watermark)
            .min()
    })
}
