//! What a worker collects while it builds its copy of the plan.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::coordinator::Coordinator;
use super::exchange::{Flush, Inbound};
use super::exchange_registry::ExchangeRegistry;
use super::source_task::SourceTask;
use crate::checkpoint::StateKey;
use crate::config::Config;
use crate::connector::WorkerInfo;
use crate::metrics::MetricsRegistry;

/// Per-worker build state: the attach functions of the plan register their sources,
/// exchange endpoints and outboxes here.
pub(crate) struct BuildContext {
    pub worker: WorkerInfo,
    /// The pipeline's name (errors and logs name it).
    pub pipeline: Arc<str>,
    pub config: Arc<Config>,
    pub metrics: Arc<MetricsRegistry>,
    pub exchanges: Arc<ExchangeRegistry>,
    /// When the source batch being processed entered the pipeline (for latency).
    pub ingest: Rc<Cell<Instant>>,
    pub sources: Vec<Box<dyn SourceTask>>,
    pub inbound: Vec<Box<dyn Inbound>>,
    pub outboxes: Vec<(usize, Rc<RefCell<dyn Flush>>)>,
    /// The run's checkpoint coordinator, when checkpointing is on.
    pub coordinator: Option<Arc<Coordinator>>,
    /// Sinks that, after their end of input, wait for the final checkpoint.
    pub finishers: Vec<Box<dyn super::sink_node::Finisher>>,
}

impl BuildContext {
    pub fn new(
        worker: WorkerInfo,
        config: Arc<Config>,
        metrics: Arc<MetricsRegistry>,
        exchanges: Arc<ExchangeRegistry>,
    ) -> Self {
        BuildContext {
            worker,
            pipeline: Arc::from(config.name.as_str()),
            config,
            metrics,
            exchanges,
            ingest: Rc::new(Cell::new(Instant::now())),
            sources: Vec::new(),
            inbound: Vec::new(),
            outboxes: Vec::new(),
            coordinator: None,
            finishers: Vec::new(),
        }
    }

    /// The state key of node `name` on this worker.
    pub fn state_key(&self, kind: &str, name: &str) -> StateKey {
        StateKey {
            kind: kind.to_string(),
            node: name.to_string(),
            worker: self.worker.index,
        }
    }

    /// The recovered state of node `name` on this worker, if the run resumed at the
    /// parallelism its checkpoint was taken at.
    pub fn recovered(&self, kind: &str, name: &str) -> Option<Vec<u8>> {
        let c = self.coordinator.as_ref()?;
        if c.rescaled_from().is_some() {
            return None;
        }
        c.recovered(&self.state_key(kind, name)).map(<[u8]>::to_vec)
    }

    /// When the run resumed from a checkpoint taken at another parallelism: every old
    /// worker's state of node `name` (indexed by old worker, empty where it stored
    /// none).
    pub fn recovered_rescaled(&self, kind: &str, name: &str) -> Option<Vec<Vec<u8>>> {
        let c = self.coordinator.as_ref()?;
        c.rescaled_from()?;
        Some(c.recovered_parts(kind, name))
    }
}

/// A function that wires a stream's producer to a consumer inside one worker.
pub(crate) type Attach<T> =
    Arc<dyn Fn(&mut BuildContext, super::Downstream<T>) -> crate::error::Result<()> + Send + Sync>;

/// A sink's build function: wires the whole chain that ends in it.
pub(crate) type Terminal = Arc<dyn Fn(&mut BuildContext) -> crate::error::Result<()> + Send + Sync>;
