//! Deterministic single-thread execution for tests: the plan runs on the calling
//! thread, and the caller decides when work happens.

use std::sync::Arc;

use super::build::{BuildContext, Terminal};
use super::exchange_registry::ExchangeRegistry;
use super::worker::Worker;
use crate::config::Config;
use crate::connector::WorkerInfo;
use crate::error::Result;
use crate::metrics::{Metrics, MetricsRegistry};

/// Runs a pipeline on the calling thread at parallelism 1, step by step.
///
/// Push records (and source watermarks) through a [`ChannelSource`](crate::connector::ChannelSource)'s
/// sender, move a [`ManualClock`](crate::time::ManualClock) for processing time, then
/// call [`run_until_idle`](Self::run_until_idle): when it returns, every record pushed
/// so far has gone as far through the pipeline as it can. No thread, no sleep.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let (source, input) = ChannelSource::new();
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(source)
///     .with_watermark(Watermark::monotonic(|e: &(char, i64)| e.1))
///     .key_by(|e: &(char, i64)| e.0)
///     .window(TumblingWindow::of("10 seconds"))
///     .aggregate(Count)
///     .sink(out.clone());
/// let mut local = p.build_local().unwrap();
/// input.send_batch(vec![('a', 1_000), ('a', 2_000), ('b', 9_000)]).unwrap();
/// local.run_until_idle().unwrap();
/// assert!(out.is_empty()); // watermark 9 s: window [0, 10 s) still open
/// input.send_batch(vec![('a', 10_000)]).unwrap();
/// local.run_until_idle().unwrap();
/// let mut fired: Vec<_> = out.take().into_iter().map(|r| (r.key, r.value)).collect();
/// fired.sort();
/// assert_eq!(fired, vec![('a', 2), ('b', 1)]);
/// ```
pub struct LocalExecutor {
    worker: Worker,
    metrics: Arc<MetricsRegistry>,
    started: std::time::Instant,
}

impl LocalExecutor {
    pub(crate) fn new(config: Config, terminals: &[Terminal], names: Vec<String>) -> Result<Self> {
        let config = Arc::new(config.with_parallelism(1));
        let metrics = Arc::new(MetricsRegistry::new());
        let exchanges = Arc::new(ExchangeRegistry::new(1, config.channel_capacity));
        let worker = WorkerInfo::new(&config, 0, 1);
        let coordinator = match &config.checkpointing {
            Some(cp) => Some(super::coordinator::Coordinator::start(
                cp,
                config.clock.clone(),
                names,
                1,
            )?),
            None => None,
        };
        let mut ctx = BuildContext::new(worker, config, metrics.clone(), exchanges);
        ctx.coordinator = coordinator;
        for t in terminals {
            t(&mut ctx)?;
        }
        Ok(LocalExecutor {
            worker: Worker::new(ctx),
            metrics,
            started: std::time::Instant::now(),
        })
    }

    /// One round: each source reads at most one batch (one micro-batch in the
    /// Spark-compatible mode) and pushes it through the pipeline; returns whether
    /// anything progressed. `run_until_idle` repeats it.
    pub fn step(&mut self) -> Result<bool> {
        self.worker.step()
    }

    /// Runs until no source has anything to read and nothing is in flight. Returns
    /// true if the pipeline has finished (every source exhausted).
    ///
    /// A panicking operator or a failing source or sink is returned as the run's error,
    /// naming the operator.
    pub fn run_until_idle(&mut self) -> Result<bool> {
        while self.worker.step()? {}
        Ok(self.worker.is_done())
    }

    /// Ends every source (as a graceful stop does) and runs the pipeline to completion.
    pub fn finish(&mut self) -> Result<()> {
        self.worker.finish_sources()?;
        // The final checkpoint is stored on the writer thread; wait for it here, where
        // blocking the caller is what finishing means.
        while !self.run_until_idle()? && self.worker.awaits_final_checkpoint() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Ok(())
    }

    /// True once every source is exhausted and everything has drained.
    pub fn is_finished(&self) -> bool {
        self.worker.is_done()
    }

    /// The metrics so far.
    pub fn metrics(&self) -> Metrics {
        self.metrics.snapshot(self.started.elapsed())
    }
}
