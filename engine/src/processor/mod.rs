//! The handle of a running pipeline: start, stop, await, status, error and metrics.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::connector::WorkerInfo;
use crate::error::{EngineError, Result};
use crate::metrics::{Metrics, MetricsRegistry};
use crate::runtime::build::{BuildContext, Terminal};
use crate::runtime::coordinator::Coordinator;
use crate::runtime::exchange_registry::ExchangeRegistry;
use crate::runtime::node::panic_message;
use crate::runtime::worker::{drive, Worker, ABORT, DRAIN, RUN};

/// The metrics of a run (kept here for paths written before metrics had a module).
pub use crate::metrics;

mod view;

/// Lifecycle of a pipeline run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Built, not started.
    Created,
    /// Workers are running.
    Running,
    /// Every worker finished (input exhausted, or stopped).
    Stopped,
    /// A worker failed; see [`StreamProcessor::error`].
    Failed,
}

struct RunState {
    status: Status,
    error: Option<EngineError>,
    workers_left: usize,
    started: Option<Instant>,
    ended: Option<Instant>,
}

struct Shared {
    stop: AtomicU8,
    state: Mutex<RunState>,
    done: Condvar,
    /// The run's checkpoint coordinator: a failure must reach sinks polling it for the
    /// final checkpoint.
    coordinator: Mutex<Option<Arc<Coordinator>>>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, RunState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fail(&self, error: EngineError) {
        let mut state = self.lock();
        if state.error.is_none() {
            tracing::error!(error = %error, "pipeline failed");
            state.error = Some(error.clone());
        }
        drop(state);
        self.stop.store(ABORT, Ordering::SeqCst);
        if let Some(c) = self
            .coordinator
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            c.abort(error);
        }
    }

    fn worker_done(&self) {
        let mut state = self.lock();
        state.workers_left -= 1;
        if state.workers_left == 0 {
            state.status = if state.error.is_some() {
                Status::Failed
            } else {
                Status::Stopped
            };
            state.ended = Some(Instant::now());
            self.done.notify_all();
        }
    }
}

/// A built pipeline: start it, watch it, stop it.
///
/// ```
/// use std::time::Duration;
/// use tidewater_engine::prelude::*;
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(VecSource::new((0..100).collect::<Vec<u32>>())).filter(|x| x % 10 == 0).sink(out.clone());
/// let processor = p.build().unwrap();
/// assert_eq!(processor.status(), Status::Created);
/// processor.start().unwrap();
/// assert!(processor.await_termination(Some(Duration::from_secs(10))));
/// assert_eq!(processor.status(), Status::Stopped);
/// assert_eq!(out.len(), 10);
/// assert_eq!(processor.metrics().source_records, 100);
/// ```
pub struct StreamProcessor {
    config: Arc<Config>,
    terminals: Vec<Terminal>,
    names: Vec<String>,
    shared: Arc<Shared>,
    metrics: Arc<MetricsRegistry>,
    handles: Mutex<Vec<JoinHandle<()>>>,
    plan: crate::plan::PlanGraph,
    /// The metrics and dashboard server, with [`Config::with_http`].
    http: Mutex<Option<crate::http::HttpServer>>,
}

/// Shows the pipeline's name, parallelism and status, so that `Result<StreamProcessor, _>`
/// can be unwrapped and printed.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let mut p = Pipeline::new(Config::default().with_name("clicks"));
/// p.source(VecSource::new(vec![1])).sink(MemorySink::new());
/// let processor = p.build().unwrap();
/// assert_eq!(
///     format!("{processor:?}"),
///     "StreamProcessor { pipeline: \"clicks\", parallelism: 1, status: Created }"
/// );
/// ```
impl std::fmt::Debug for StreamProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamProcessor")
            .field("pipeline", &self.config.name)
            .field("parallelism", &self.config.parallelism)
            .field("status", &self.status())
            .finish()
    }
}

impl StreamProcessor {
    pub(crate) fn new(
        config: Config,
        terminals: Vec<Terminal>,
        names: Vec<String>,
        plan: crate::plan::PlanGraph,
    ) -> Self {
        StreamProcessor {
            config: Arc::new(config),
            terminals,
            names,
            shared: Arc::new(Shared {
                stop: AtomicU8::new(RUN),
                state: Mutex::new(RunState {
                    status: Status::Created,
                    error: None,
                    workers_left: 0,
                    started: None,
                    ended: None,
                }),
                done: Condvar::new(),
                coordinator: Mutex::new(None),
            }),
            metrics: Arc::new(MetricsRegistry::new()),
            handles: Mutex::new(Vec::new()),
            plan,
            http: Mutex::new(None),
        }
    }

    /// Spawns the workers. Returns once every worker has built its part of the plan, so
    /// an error creating a source reader or sink writer is returned here.
    pub fn start(&self) -> Result<()> {
        {
            let mut state = self.shared.lock();
            if state.status != Status::Created {
                return Err(EngineError::InvalidState {
                    action: "start".into(),
                    status: format!("{:?}", state.status),
                });
            }
            state.status = Status::Running;
            state.workers_left = self.config.parallelism;
            state.started = Some(Instant::now());
        }
        if let Some(addr) = &self.config.http {
            if let Err(e) = self.serve_http(addr) {
                let mut state = self.shared.lock();
                state.status = Status::Failed;
                state.error = Some(e.clone());
                return Err(e);
            }
        }
        let n = self.config.parallelism;
        let coordinator = match &self.config.checkpointing {
            Some(cp) => {
                match Coordinator::start(
                    cp,
                    self.config.clock.clone(),
                    self.names.clone(),
                    n,
                    false,
                ) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        let mut state = self.shared.lock();
                        state.status = Status::Failed;
                        state.error = Some(e.clone());
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        *self
            .shared
            .coordinator
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = coordinator.clone();
        let exchanges = Arc::new(ExchangeRegistry::new(n, self.config.channel_capacity));
        let (built_tx, built_rx) = crossbeam_channel::bounded::<(usize, Result<()>)>(n);
        let (go_tx, go_rx) = crossbeam_channel::bounded::<bool>(n);
        let mut handles = Vec::with_capacity(n);
        for index in 0..n {
            let worker = WorkerInfo::new(&self.config, index, n);
            let (config, metrics, exchanges, coordinator) = (
                self.config.clone(),
                self.metrics.clone(),
                exchanges.clone(),
                coordinator.clone(),
            );
            let terminals = self.terminals.clone();
            let shared = self.shared.clone();
            let (built_tx, go_rx) = (built_tx.clone(), go_rx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("{}-worker-{index}", self.config.name))
                .spawn(move || {
                    // Built on its own thread: a worker's plan is single-threaded (Rc).
                    let mut ctx = BuildContext::new(worker, config, metrics, exchanges);
                    ctx.coordinator = coordinator;
                    run_worker(ctx, terminals, shared, built_tx, go_rx)
                });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    self.shared.fail(EngineError::Spawn(e.to_string()));
                    let mut state = self.shared.lock();
                    state.workers_left = handles.len();
                    drop(state);
                    for _ in 0..handles.len() {
                        let _ = go_tx.send(false);
                    }
                    *self.handles.lock().unwrap_or_else(|p| p.into_inner()) = handles;
                    return Err(EngineError::Spawn(e.to_string()));
                }
            }
        }
        // The lowest worker's error, so that the same mistake reads the same each run.
        let mut failed: Vec<(usize, EngineError)> = Vec::new();
        for _ in 0..n {
            match built_rx.recv() {
                Ok((_, Ok(()))) => {}
                Ok((index, Err(e))) => failed.push((index, e)),
                Err(_) => break,
            }
        }
        let build_error = failed.into_iter().min_by_key(|(i, _)| *i).map(|(_, e)| e);
        let go = build_error.is_none();
        if let Some(e) = &build_error {
            self.shared.fail(e.clone());
        }
        for _ in 0..n {
            let _ = go_tx.send(go);
        }
        *self.handles.lock().unwrap_or_else(|p| p.into_inner()) = handles;
        match build_error {
            Some(e) => {
                self.await_termination(None);
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// Asks the run to stop. Graceful: sources end now and in-flight data drains through
    /// every operator (windows close as at end of input). Otherwise workers exit at once.
    /// Returns immediately; use [`await_termination`](Self::await_termination).
    pub fn stop(&self, graceful: bool) {
        let flag = if graceful { DRAIN } else { ABORT };
        let _ = self
            .shared
            .stop
            .compare_exchange(RUN, flag, Ordering::SeqCst, Ordering::SeqCst);
        if !graceful {
            self.shared.stop.store(ABORT, Ordering::SeqCst);
        }
    }

    /// Waits until every worker has finished, or `timeout` passes. Returns true if the
    /// run has terminated (also true for a run that was never started).
    pub fn await_termination(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.shared.lock();
        while state.status == Status::Running {
            state = match deadline {
                None => self
                    .shared
                    .done
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    self.shared
                        .done
                        .wait_timeout(state, d - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        drop(state);
        let handles = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|p| p.into_inner()));
        for h in handles {
            let _ = h.join();
        }
        true
    }

    /// The run's status.
    pub fn status(&self) -> Status {
        self.shared.lock().status
    }

    /// The error of a failed run.
    pub fn error(&self) -> Option<EngineError> {
        self.shared.lock().error.clone()
    }

    /// A snapshot of the run's metrics.
    pub fn metrics(&self) -> Metrics {
        snapshot(&self.shared, &self.metrics)
    }

    /// This run as the metrics server sees it: to serve it beside others (a
    /// manager's pipelines) on one [`HttpServer`](crate::http::HttpServer).
    pub fn observe(&self) -> Arc<dyn crate::http::Observable> {
        Arc::new(view::ProcessorView {
            name: self.config.name.clone(),
            explains: self.config.explain,
            shared: self.shared.clone(),
            metrics: self.metrics.clone(),
            plan: self.plan.clone(),
        })
    }

    /// Starts the metrics and dashboard server on `addr` for this run (what
    /// [`Config::with_http`] does at start); it stops when the processor is dropped.
    /// Returns the address bound (port 0 picks one).
    pub fn serve_http(&self, addr: &str) -> Result<std::net::SocketAddr> {
        let server = crate::http::HttpServer::start(addr, vec![self.observe()])?;
        let bound = server.addr();
        *self.http.lock().unwrap_or_else(|p| p.into_inner()) = Some(server);
        Ok(bound)
    }

    /// Where the metrics and dashboard server listens, if it runs.
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        self.http
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| s.addr())
    }

    /// Why `key`'s window starting at `window_start` fired or has not, per window
    /// operator that saw the key: needs [`Config::with_explain`](crate::config::Config::with_explain)
    /// (empty otherwise). A text key also names a group key by its values.
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

    /// The physical plan: nodes and the edges between them, with how records cross
    /// each (see [`plan`](crate::plan)).
    pub fn plan(&self) -> crate::plan::PlanGraph {
        self.plan.clone()
    }

    /// Each operator's and input's watermark now, by node name.
    pub fn watermarks(&self) -> std::collections::BTreeMap<String, Option<crate::time::Timestamp>> {
        crate::explain::watermarks(&self.metrics())
    }

    /// Waits for the end of the run and returns its metrics, or its error.
    pub fn join(&self) -> Result<Metrics> {
        self.await_termination(None);
        match self.error() {
            Some(e) => Err(e),
            None => Ok(self.metrics()),
        }
    }
}

impl Drop for StreamProcessor {
    fn drop(&mut self) {
        if self.status() == Status::Running {
            self.stop(false);
            self.await_termination(None);
        }
    }
}

/// The run's metrics now: counters, checkpoints, elapsed time.
fn snapshot(shared: &Shared, registry: &MetricsRegistry) -> Metrics {
    let state = shared.lock();
    let elapsed = match (state.started, state.ended) {
        (Some(s), Some(e)) => e - s,
        (Some(s), None) => s.elapsed(),
        _ => Duration::ZERO,
    };
    drop(state);
    let mut metrics = registry.snapshot(elapsed);
    if let Some(c) = shared
        .coordinator
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
    {
        metrics.checkpoints = Some(c.metrics());
    }
    metrics
}

/// Builds the worker's part of the plan and runs it until done, stopped or failed.
fn run_worker(
    mut ctx: BuildContext,
    terminals: Vec<Terminal>,
    shared: Arc<Shared>,
    built: crossbeam_channel::Sender<(usize, Result<()>)>,
    go: crossbeam_channel::Receiver<bool>,
) {
    let index = ctx.worker.index;
    let span = tracing::debug_span!("worker", pipeline = %ctx.pipeline, worker = index);
    let _entered = span.enter();
    // Errors are values everywhere on the data path; this catch is the last line for a
    // bug in the engine itself, so that it too fails the run instead of hanging it.
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        let build = terminals.iter().try_for_each(|t| t(&mut ctx));
        let ok = build.is_ok();
        let _ = built.send((index, build));
        if !ok || !go.recv().unwrap_or(false) {
            return Ok(());
        }
        let mut worker = Worker::new(ctx);
        drive(&mut worker, &shared.stop)
    }));
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(payload) => Some(EngineError::OperatorPanicked {
            operator: "worker".into(),
            worker: index,
            message: panic_message(payload.as_ref()),
        }),
    };
    if let Some(e) = error {
        shared.fail(e);
    }
    shared.worker_done();
}
