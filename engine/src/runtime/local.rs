//! Deterministic single-thread execution for tests: the plan runs on the calling
//! thread (each worker of a parallel plan in turn), and the caller decides when work
//! happens.

use std::sync::Arc;

use super::build::{BuildContext, Terminal};
use super::coordinator::Coordinator;
use super::exchange_registry::ExchangeRegistry;
use super::worker::Worker;
use crate::config::Config;
use crate::connector::WorkerInfo;
use crate::error::Result;
use crate::metrics::{Metrics, MetricsRegistry};

/// Workers to step on one thread, their metrics and their checkpoint coordinator.
pub(crate) type SteppedWorkers = (Vec<Worker>, Arc<MetricsRegistry>, Option<Arc<Coordinator>>);

/// Every worker of a plan, built on the calling thread to be stepped there; with
/// checkpointing, checkpoints are stored on that thread as they complete (no writer
/// thread whose timing would decide when one is stored).
pub(crate) fn build_workers(
    config: Config,
    terminals: &[Terminal],
    names: Vec<String>,
) -> Result<SteppedWorkers> {
    let n = config.parallelism.max(1);
    let config = Arc::new(config);
    let metrics = Arc::new(MetricsRegistry::new());
    let exchanges = Arc::new(ExchangeRegistry::new(n, config.channel_capacity));
    let coordinator = match &config.checkpointing {
        Some(cp) => Some(Coordinator::start(
            cp,
            config.clock.clone(),
            names,
            n,
            true,
        )?),
        None => None,
    };
    let mut workers = Vec::with_capacity(n);
    for index in 0..n {
        let worker = WorkerInfo::new(&config, index, n);
        let mut ctx = BuildContext::new(worker, config.clone(), metrics.clone(), exchanges.clone());
        ctx.coordinator = coordinator.clone();
        for t in terminals {
            t(&mut ctx)?;
        }
        workers.push(Worker::new(ctx).stepped());
    }
    Ok((workers, metrics, coordinator))
}

/// Runs a pipeline on the calling thread, step by step: at parallelism 1
/// ([`Pipeline::build_local`](crate::stream::Pipeline::build_local)), or with every
/// worker of a parallel plan stepped in turn, exchanges included (the testing
/// harness's runs).
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
    workers: Vec<Worker>,
    metrics: Arc<MetricsRegistry>,
    coordinator: Option<Arc<Coordinator>>,
    started: std::time::Instant,
}

impl LocalExecutor {
    /// Builds every worker of `config.parallelism` on this thread.
    pub(crate) fn new(config: Config, terminals: &[Terminal], names: Vec<String>) -> Result<Self> {
        let (workers, metrics, coordinator) = build_workers(config, terminals, names)?;
        Ok(LocalExecutor {
            workers,
            metrics,
            coordinator,
            started: std::time::Instant::now(),
        })
    }

    /// One round: each worker in turn, each source reading at most one batch (one
    /// micro-batch in the Spark-compatible mode) and pushing it through the pipeline;
    /// returns whether anything progressed. `run_until_idle` repeats it.
    pub fn step(&mut self) -> Result<bool> {
        let mut progressed = false;
        for w in &mut self.workers {
            progressed |= w.step()?;
        }
        Ok(progressed)
    }

    /// Moves what is in flight (exchanges, operators, sinks) as far as it goes without
    /// reading any source: the rest of a micro-batch.
    pub fn drain(&mut self) -> Result<()> {
        loop {
            let mut progressed = false;
            for w in &mut self.workers {
                progressed |= w.drain_step()?;
            }
            if !progressed {
                return Ok(());
            }
        }
    }

    /// Runs until no source has anything to read and nothing is in flight. Returns
    /// true if the pipeline has finished (every source exhausted).
    ///
    /// A panicking operator or a failing source or sink is returned as the run's error,
    /// naming the operator.
    pub fn run_until_idle(&mut self) -> Result<bool> {
        // A step may leave messages in an outbox without counting as progress (what a
        // tick of processing time set off): they go out on the next one.
        while self.step()? || self.workers.iter().any(Worker::has_pending) {}
        Ok(self.is_finished())
    }

    /// Ends every source (as a graceful stop does) and runs the pipeline to completion.
    pub fn finish(&mut self) -> Result<()> {
        for w in &mut self.workers {
            w.finish_sources()?;
        }
        // Checkpoints are stored on this thread as they complete, the final one too.
        self.run_until_idle()?;
        Ok(())
    }

    /// True once every source is exhausted and everything has drained.
    pub fn is_finished(&self) -> bool {
        self.workers.iter().all(Worker::is_done)
    }

    /// Why `key`'s window starting at `window_start` fired or has not (with
    /// [`Config::with_explain`](crate::config::Config::with_explain)).
    pub fn explain_window(
        &self,
        key: &impl serde::Serialize,
        window_start: crate::time::Timestamp,
    ) -> Vec<crate::explain::WindowExplanation> {
        let key = crate::explain::key_json(key);
        self.metrics
            .explain
            .explain(&key, window_start, &self.metrics())
    }

    /// The metrics so far (checkpoints included when the run checkpoints).
    pub fn metrics(&self) -> Metrics {
        let mut metrics = self.metrics.snapshot(self.started.elapsed());
        metrics.checkpoints = self.coordinator.as_ref().map(|c| c.metrics());
        metrics
    }
}
