//! Running many queries: [`QueryManager`] starts, watches and stops named streaming
//! queries (one per checkpoint location), [`PipelineManager`] runs a list of pipelines
//! with at most so many at once and tells each one's status and result.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use tidewater_engine::error::EngineError;
use tidewater_engine::metrics::Metrics;
use tidewater_engine::processor::{Status, StreamProcessor};
use tidewater_engine::stream::Pipeline;
use tidewater_engine::time::Timestamp;

/// What a manager refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ManagerError {
    /// A query of this name runs already.
    #[error("a query named `{0}` is already running")]
    NameTaken(String),
    /// Two queries would write one checkpoint location.
    #[error("query `{query}` would share the checkpoint location {} with query `{other}`", .location.display())]
    CheckpointTaken {
        /// The query refused.
        query: String,
        /// The one running there.
        other: String,
        /// The location.
        location: PathBuf,
    },
    /// No query of this name.
    #[error("no query named `{0}`")]
    Unknown(String),
    /// The query itself failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// A query's latest progress, as Spark's `lastProgress` has it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryProgress {
    /// The query's name.
    pub name: String,
    /// Checkpoints completed (Spark's batch id counts committed micro-batches).
    pub batch_id: u64,
    /// Records read so far.
    pub input_rows: u64,
    /// Records read per second since the previous progress report.
    pub rows_per_second: f64,
    /// Since the query started, in ms.
    pub duration_ms: u64,
    /// The watermark, if event time is used.
    pub watermark: Option<Timestamp>,
    /// Running, stopped or failed.
    pub status: Status,
}

pub(super) struct Query {
    /// While the query runs (or has ended and nobody asked yet); taken once it has
    /// ended, so that its checkpoint store is released.
    processor: Mutex<Option<StreamProcessor>>,
    /// How it ended, once the processor was taken.
    ended: Mutex<Option<(Status, Result<Metrics, EngineError>)>>,
    checkpoint: Option<PathBuf>,
    started: Instant,
    last: Mutex<(Instant, u64)>,
    /// The physical plan, kept for the dashboard after the processor is released.
    plan: tidewater_engine::plan::PlanGraph,
}

impl Query {
    /// The processor while it is kept.
    pub(super) fn with_processor<R>(&self, f: impl FnOnce(&StreamProcessor) -> R) -> Option<R> {
        lock(&self.processor).as_ref().map(f)
    }

    pub(super) fn plan(&self) -> &tidewater_engine::plan::PlanGraph {
        &self.plan
    }

    /// How it ended, once released: its error, if it failed.
    pub(super) fn ended_error(&self) -> Option<String> {
        lock(&self.ended)
            .as_ref()
            .and_then(|e| e.1.as_ref().err().map(|e| e.to_string()))
    }

    /// Spark's progress fields now, without moving the rate's reference point.
    pub(super) fn progress_json(&self) -> serde_json::Value {
        let m = self.metrics();
        serde_json::json!({
            "batch_id": m.as_ref().and_then(|m| m.checkpoints.as_ref()).map_or(0, |c| c.completed),
            "input_rows": m.as_ref().map_or(0, |m| m.source_records),
            "duration_ms": self.started.elapsed().as_millis() as u64,
            "watermark": m.and_then(|m| m.watermark),
        })
    }

    fn running(&self) -> bool {
        lock(&self.processor)
            .as_ref()
            .is_some_and(|p| p.status() == Status::Running || p.status() == Status::Created)
    }

    /// Takes an ended processor (waiting for it if `wait`), keeping how it ended. The
    /// lock is held for short waits only, so that `stop` can come in between.
    fn release(&self, wait: bool) {
        let step = std::time::Duration::from_millis(if wait { 20 } else { 0 });
        loop {
            let ended = match lock(&self.processor).as_ref() {
                None => return,
                Some(p) => p.await_termination(Some(step)),
            };
            if ended {
                break;
            }
            if !wait {
                return;
            }
        }
        let mut slot = lock(&self.processor);
        if let Some(p) = slot.take() {
            let status = p.status();
            *lock(&self.ended) = Some((status, p.join()));
        }
    }

    pub(super) fn status(&self) -> Status {
        match lock(&self.processor).as_ref() {
            Some(p) => p.status(),
            None => lock(&self.ended).as_ref().map_or(Status::Stopped, |e| e.0),
        }
    }

    /// The metrics now; `None` for a query that failed.
    pub(super) fn metrics(&self) -> Option<Metrics> {
        match lock(&self.processor).as_ref() {
            Some(p) => Some(p.metrics()),
            None => lock(&self.ended)
                .as_ref()
                .and_then(|e| e.1.as_ref().ok().cloned()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Named streaming queries, started, watched and stopped from one place.
///
/// ```
/// use tidewater::declarative::QueryManager;
/// use tidewater_engine::prelude::*;
///
/// let queries = QueryManager::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(VecSource::new((0..1_000u64).collect())).sink(MemorySink::new());
/// queries.start("numbers", p).unwrap();
/// let metrics = queries.await_termination("numbers").unwrap();
/// assert_eq!(metrics.source_records, 1_000);
/// assert_eq!(queries.last_progress("numbers").unwrap().input_rows, 1_000);
/// ```
#[derive(Default)]
pub struct QueryManager {
    queries: Arc<Mutex<BTreeMap<String, Arc<Query>>>>,
}

impl QueryManager {
    /// No queries yet.
    pub fn new() -> Self {
        QueryManager::default()
    }

    fn query(&self, name: &str) -> Result<Arc<Query>, ManagerError> {
        lock(&self.queries)
            .get(name)
            .cloned()
            .ok_or_else(|| ManagerError::Unknown(name.to_string()))
    }

    /// Starts `pipeline` as query `name`; refuses a name that runs, and a checkpoint
    /// location another running query uses.
    pub fn start(&self, name: &str, pipeline: Pipeline) -> Result<(), ManagerError> {
        let checkpoint = pipeline
            .config()
            .checkpointing
            .as_ref()
            .map(|c| c.dir.clone());
        let mut queries = lock(&self.queries);
        for (other, q) in queries.iter() {
            if !q.running() {
                // Ended: let go of its checkpoint store.
                q.release(false);
                continue;
            }
            if other == name {
                return Err(ManagerError::NameTaken(name.to_string()));
            }
            if checkpoint.is_some() && q.checkpoint == checkpoint {
                return Err(ManagerError::CheckpointTaken {
                    query: name.to_string(),
                    other: other.clone(),
                    location: checkpoint.unwrap_or_default(),
                });
            }
        }
        let processor = pipeline.start()?;
        let now = Instant::now();
        queries.insert(
            name.to_string(),
            Arc::new(Query {
                plan: processor.plan(),
                processor: Mutex::new(Some(processor)),
                ended: Mutex::new(None),
                checkpoint,
                started: now,
                last: Mutex::new((now, 0)),
            }),
        );
        Ok(())
    }

    /// The names of every query started, in order of name.
    pub fn names(&self) -> Vec<String> {
        lock(&self.queries).keys().cloned().collect()
    }

    /// A query's status.
    pub fn status(&self, name: &str) -> Result<Status, ManagerError> {
        Ok(self.query(name)?.status())
    }

    /// Serves `/metrics` and the dashboard for every query on `addr`: `/jobs` lists
    /// them with their status and progress, `/?job=NAME` shows one. Stops when the
    /// returned server is dropped.
    pub fn serve_http(
        &self,
        addr: &str,
    ) -> Result<tidewater_engine::http::HttpServer, EngineError> {
        let queries = self.queries.clone();
        tidewater_engine::http::HttpServer::start(
            addr,
            tidewater_engine::http::JobsFn(move || {
                lock(&queries)
                    .iter()
                    .map(|(name, q)| {
                        Arc::new(super::observe::QueryView {
                            name: name.clone(),
                            query: q.clone(),
                        }) as Arc<dyn tidewater_engine::http::Observable>
                    })
                    .collect()
            }),
        )
    }

    /// A query's progress now (rows per second since the previous call).
    pub fn last_progress(&self, name: &str) -> Result<QueryProgress, ManagerError> {
        let q = self.query(name)?;
        let m = q.metrics();
        let rows = m.as_ref().map_or(0, |m| m.source_records);
        let mut last = lock(&q.last);
        let seconds = last.0.elapsed().as_secs_f64().max(1e-3);
        let rate = rows.saturating_sub(last.1) as f64 / seconds;
        *last = (Instant::now(), rows);
        Ok(QueryProgress {
            name: name.to_string(),
            batch_id: m
                .as_ref()
                .and_then(|m| m.checkpoints.as_ref())
                .map_or(0, |c| c.completed),
            input_rows: rows,
            rows_per_second: rate,
            duration_ms: q.started.elapsed().as_millis() as u64,
            watermark: m.and_then(|m| m.watermark),
            status: q.status(),
        })
    }

    /// Asks query `name` to stop (gracefully: its sources end and data drains).
    pub fn stop(&self, name: &str, graceful: bool) -> Result<(), ManagerError> {
        if let Some(p) = lock(&self.query(name)?.processor).as_ref() {
            p.stop(graceful);
        }
        Ok(())
    }

    /// Waits for query `name` to end; its metrics, or its error.
    pub fn await_termination(&self, name: &str) -> Result<Metrics, ManagerError> {
        let q = self.query(name)?;
        q.release(true);
        let ended = lock(&q.ended);
        match ended.as_ref() {
            Some((_, Ok(m))) => Ok(m.clone()),
            Some((_, Err(e))) => Err(ManagerError::Engine(e.clone())),
            None => Err(ManagerError::Unknown(name.to_string())),
        }
    }
}

/// Where a pipeline of a [`PipelineManager`] run stands.
#[derive(Debug, Clone, PartialEq)]
// One status per pipeline of a manager, read a few times a second at most: boxing the
// metrics would save nothing that matters and change the variant every caller matches.
#[allow(clippy::large_enum_variant)]
pub enum PipelineStatus {
    /// Waiting for a free slot.
    Queued,
    /// Running.
    Running,
    /// Finished, with its metrics.
    Succeeded(Metrics),
    /// Failed, with its error.
    Failed(EngineError),
    /// Never started: the manager was stopped while it waited.
    Cancelled,
}

struct Board {
    status: BTreeMap<String, PipelineStatus>,
    running: usize,
    /// The processors running now.
    processors: BTreeMap<String, Arc<StreamProcessor>>,
    /// The processors that ended, for explanations after the run.
    ended: BTreeMap<String, Arc<StreamProcessor>>,
    /// `stop_all` was called: queued pipelines are not started.
    stopping: bool,
}

/// Runs pipelines with at most `max_concurrent_pipelines` at once, the others queued in
/// order; each one's status, result and error can be asked at any time.
///
/// ```
/// use tidewater::declarative::{PipelineManager, PipelineStatus};
/// use tidewater_engine::prelude::*;
///
/// let manager = PipelineManager::new(2);
/// let pipelines = (0..3).map(|i| {
///     let mut p = Pipeline::new(Config::default().with_name(&format!("p{i}")));
///     p.source(VecSource::new(vec![i; 10])).sink(MemorySink::new());
///     (format!("p{i}"), p)
/// });
/// let done = manager.run(pipelines);
/// assert!(done.values().all(|s| matches!(s, PipelineStatus::Succeeded(m) if m.source_records == 10)));
/// ```
pub struct PipelineManager {
    max_concurrent: usize,
    board: Arc<(Mutex<Board>, Condvar)>,
}

impl PipelineManager {
    /// A manager running at most `max_concurrent_pipelines` (at least one) at once.
    pub fn new(max_concurrent_pipelines: usize) -> Self {
        PipelineManager {
            max_concurrent: max_concurrent_pipelines.max(1),
            board: Arc::new((
                Mutex::new(Board {
                    status: BTreeMap::new(),
                    running: 0,
                    processors: BTreeMap::new(),
                    ended: BTreeMap::new(),
                    stopping: false,
                }),
                Condvar::new(),
            )),
        }
    }

    fn board(&self) -> std::sync::MutexGuard<'_, Board> {
        self.board.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The status of pipeline `name` (of this or an earlier `run`).
    pub fn status(&self, name: &str) -> Option<PipelineStatus> {
        self.board().status.get(name).cloned()
    }

    /// The metrics of the pipelines running now, by name.
    pub fn metrics(&self) -> BTreeMap<String, Metrics> {
        self.board()
            .processors
            .iter()
            .map(|(name, p)| (name.clone(), p.metrics()))
            .collect()
    }

    /// Why `key`'s window starting at `window_start` fired or has not in pipeline
    /// `name` (running or ended; its config needs `explain`).
    pub fn explain_window(
        &self,
        name: &str,
        key: &impl serde::Serialize,
        window_start: Timestamp,
    ) -> Vec<tidewater_engine::explain::WindowExplanation> {
        let board = self.board();
        board
            .processors
            .get(name)
            .or_else(|| board.ended.get(name))
            .map(|p| p.explain_window(key, window_start))
            .unwrap_or_default()
    }

    /// Serves `/metrics` and the dashboard for this manager's pipelines (running and
    /// ended) on `addr`: `/jobs` lists them, `/?job=NAME` shows one. Stops when the
    /// returned server is dropped.
    pub fn serve_http(
        &self,
        addr: &str,
    ) -> Result<tidewater_engine::http::HttpServer, EngineError> {
        let board = self.board.clone();
        tidewater_engine::http::HttpServer::start(
            addr,
            tidewater_engine::http::JobsFn(move || {
                let board = board.0.lock().unwrap_or_else(|p| p.into_inner());
                board
                    .processors
                    .iter()
                    .chain(board.ended.iter())
                    .map(|(name, p)| super::observe::renamed(name, p.observe()))
                    .collect()
            }),
        )
    }

    /// Stops the running pipelines (`graceful`: sources end, data drains, the last
    /// checkpoint is stored) and cancels the queued ones; `run` then returns.
    pub fn stop_all(&self, graceful: bool) {
        let mut board = self.board();
        board.stopping = true;
        for p in board.processors.values() {
            p.stop(graceful);
        }
        drop(board);
        self.board.1.notify_all();
    }

    /// Runs every pipeline, at most `max_concurrent_pipelines` at once in the order
    /// given, and returns each one's final status.
    pub fn run(
        &self,
        pipelines: impl IntoIterator<Item = (String, Pipeline)>,
    ) -> BTreeMap<String, PipelineStatus> {
        let mut queue: VecDeque<(String, Pipeline)> = pipelines.into_iter().collect();
        let names: Vec<String> = queue.iter().map(|(n, _)| n.clone()).collect();
        let (lock, changed) = &*self.board;
        {
            let mut board = lock.lock().unwrap_or_else(|p| p.into_inner());
            for name in &names {
                board.status.insert(name.clone(), PipelineStatus::Queued);
            }
        }
        let mut threads = Vec::new();
        while let Some((name, pipeline)) = queue.pop_front() {
            let mut board = lock.lock().unwrap_or_else(|p| p.into_inner());
            while board.running >= self.max_concurrent && !board.stopping {
                board = changed.wait(board).unwrap_or_else(|p| p.into_inner());
            }
            if board.stopping {
                board.status.insert(name, PipelineStatus::Cancelled);
                continue;
            }
            board.running += 1;
            board.status.insert(name.clone(), PipelineStatus::Running);
            drop(board);
            let shared = self.board.clone();
            // A pipeline is built here (it is not `Send`); its run is watched from a
            // thread of its own.
            let started = pipeline.start().map(Arc::new);
            if let Ok(p) = &started {
                let mut board = lock.lock().unwrap_or_else(|p| p.into_inner());
                if board.stopping {
                    p.stop(true);
                }
                board.processors.insert(name.clone(), p.clone());
            }
            threads.push(std::thread::spawn(move || {
                let outcome = match started.and_then(|p| {
                    p.await_termination(None);
                    p.join()
                }) {
                    Ok(metrics) => PipelineStatus::Succeeded(metrics),
                    Err(e) => PipelineStatus::Failed(e),
                };
                let (lock, changed) = &*shared;
                let mut board = lock.lock().unwrap_or_else(|p| p.into_inner());
                board.running -= 1;
                if let Some(p) = board.processors.remove(&name) {
                    board.ended.insert(name.clone(), p);
                }
                board.status.insert(name, outcome);
                changed.notify_all();
            }));
        }
        for t in threads {
            let _ = t.join();
        }
        let board = lock.lock().unwrap_or_else(|p| p.into_inner());
        names
            .into_iter()
            .filter_map(|n| board.status.get(&n).cloned().map(|s| (n, s)))
            .collect()
    }
}
