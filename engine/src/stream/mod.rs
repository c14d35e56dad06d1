//! The builder: [`Pipeline`] creates sources; [`Stream`] methods add operators; sinks
//! end a chain. Nothing runs until [`Pipeline::start`] (threads) or
//! [`Pipeline::build_local`] (one thread, stepped by the caller).
//!
//! Each builder method records an *attach function*: given the consumer of its output
//! inside a worker, it creates its own operator and hands it to its upstream. A sink's
//! attach builds the whole chain from the sink back to the source, once per worker, so
//! every worker gets its own monomorphised, fused chain.

mod basic;
mod dead_letters;
mod keyed;
mod window;

pub use keyed::KeyedStream;
pub use window::WindowedStream;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::config::{Config, DeliveryGuarantee};
use crate::connector::{Commit, Restart, Sink, Source};
use crate::error::{EngineError, Problems, Result};
use crate::metrics::{Metrics, NodeKind};
use crate::processor::StreamProcessor;
use crate::runtime::build::{Attach, BuildContext, Terminal};
use crate::runtime::node::NodeId;
use crate::runtime::sink_node::SinkNode;
use crate::runtime::source_task::SourceDriver;
use crate::runtime::LocalExecutor;

/// Build-time state shared by a pipeline and its streams.
#[derive(Default)]
pub(crate) struct PlanState {
    next_node: usize,
    next_exchange: usize,
    errors: Vec<EngineError>,
    terminals: Vec<Terminal>,
    /// Every node's name, in construction order (a checkpoint's pipeline identity).
    names: Vec<String>,
    /// Window nodes that aggregate in two phases when the run allows it (see
    /// [`Config::local_aggregation`]).
    two_phase: Vec<String>,
    /// What each source and sink can do across a restart, for the delivery check.
    endpoints: Vec<(String, Endpoint)>,
    /// The pipeline runs with Spark's micro-batch semantics (rows are shaped as
    /// Spark's).
    pub(crate) spark: bool,
    /// What makes a node's state readable by another run: window parameters, key and
    /// value types, source and sink types (part of the checkpoint identity).
    details: std::collections::BTreeMap<String, String>,
    /// Nodes and edges, for the dashboard and metrics.
    graph: crate::plan::PlanGraph,
}

/// A source's or sink's part in the delivery guarantee.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Endpoint {
    Source(Restart),
    Sink(Commit),
}

#[derive(Clone, Default)]
pub(crate) struct Plan(Rc<RefCell<PlanState>>);

/// A sink declared on the plan (node, delivery endpoint, settings checked), built once
/// per worker: the main sink, a window's late side output and a dead-letter output
/// are declared and built alike.
pub(crate) struct PlannedSink<T, S> {
    sink: Arc<S>,
    pub(crate) id: usize,
    name: Arc<str>,
    kind: NodeKind,
    _records: std::marker::PhantomData<fn(T)>,
}

impl<T: 'static, S: Sink<T>> PlannedSink<T, S> {
    /// Creates this worker's writer and wraps it in a sink node.
    pub fn build(&self, ctx: &mut BuildContext) -> Result<SinkNode<T, S::Writer>> {
        let node = NodeId::new(ctx, self.name.clone());
        let sink = &self.sink;
        let writer = node.guard(|| sink.create_writer(&ctx.worker))?;
        let counters = ctx.metrics.register(self.id, &self.name, self.kind);
        SinkNode::build(writer, self.name.clone(), ctx, counters)
    }
}

impl Plan {
    /// Whether the pipeline runs with Spark's micro-batch semantics.
    pub(crate) fn spark(&self) -> bool {
        self.0.borrow().spark
    }

    /// Declares `sink` as node `label`: its delivery endpoint, the problems of its
    /// settings, and (when `identity`) its type in the pipeline's checkpoint identity.
    pub fn sink<T, S: Sink<T>>(
        &self,
        label: &str,
        sink: S,
        kind: NodeKind,
        identity: bool,
    ) -> PlannedSink<T, S> {
        let (id, name) = self.node(label, kind);
        self.endpoint(&name, Endpoint::Sink(sink.commit()));
        if let Err(e) = sink.validate() {
            self.error(e);
        }
        if identity {
            self.describe(&name, std::any::type_name::<S>().to_string());
        }
        PlannedSink {
            sink: Arc::new(sink),
            id,
            name,
            kind,
            _records: std::marker::PhantomData,
        }
    }

    /// A stable node id and display name (`"map#2"`), added to the plan graph.
    pub fn node(&self, label: &str, kind: NodeKind) -> (usize, Arc<str>) {
        let mut state = self.0.borrow_mut();
        let id = state.next_node;
        state.next_node += 1;
        let name = format!("{label}#{id}");
        state.names.push(name.clone());
        state.graph.add_node(id, &name, kind);
        (id, Arc::from(name))
    }

    /// Records that the outputs of `from` flow into node `to`.
    pub fn link(&self, from: &[usize], to: usize, partitioning: crate::plan::Partitioning) {
        self.0.borrow_mut().graph.link(from, to, partitioning);
    }

    /// The plan graph so far.
    pub fn graph(&self) -> crate::plan::PlanGraph {
        self.0.borrow().graph.clone()
    }

    /// Marks window node `name` as one that aggregates in two phases when the run
    /// allows it: its local half then has state of its own.
    pub fn two_phase(&self, name: &str) {
        self.0.borrow_mut().two_phase.push(name.to_string());
    }

    /// Records what node `name`'s state depends on beyond its name: a checkpoint taken
    /// with other details is refused as a different pipeline.
    pub fn describe(&self, name: &str, detail: String) {
        self.0.borrow_mut().details.insert(name.to_string(), detail);
    }

    pub fn exchange(&self) -> usize {
        let mut state = self.0.borrow_mut();
        state.next_exchange += 1;
        state.next_exchange
    }

    pub fn error(&self, e: EngineError) {
        self.0.borrow_mut().errors.push(e);
    }

    /// Records what source or sink `name` can do across a restart.
    pub fn endpoint(&self, name: &str, endpoint: Endpoint) {
        self.0
            .borrow_mut()
            .endpoints
            .push((name.to_string(), endpoint));
    }

    fn terminal(&self, t: Terminal) {
        self.0.borrow_mut().terminals.push(t);
    }

    fn same(&self, other: &Plan) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// A dataflow under construction.
///
/// ```
/// use tidewater_engine::prelude::*;
///
/// #[derive(Clone)]
/// struct Click { user: u32, ts: i64 }
///
/// let clicks: Vec<Click> = (0..1_000).map(|i| Click { user: i % 10, ts: i as i64 * 100 }).collect();
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(VecSource::new(clicks))
///     .with_watermark(Watermark::bounded("1 second", |c: &Click| c.ts))
///     .key_by(|c: &Click| c.user)
///     .window(TumblingWindow::of("10 seconds"))
///     .aggregate(Count)
///     .sink(out.clone());
/// p.run().unwrap();
/// // 100 s of clicks, 10 users: 10 windows x 10 users, 10 clicks each
/// let results = out.values();
/// assert_eq!(results.len(), 100);
/// assert!(results.iter().all(|r| r.value == 10));
/// ```
pub struct Pipeline {
    config: Config,
    plan: Plan,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new(config: Config) -> Self {
        let plan = Plan::default();
        plan.0.borrow_mut().spark = config.is_spark();
        Pipeline { config, plan }
    }

    /// The pipeline's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Adds a source; its work is split across the workers.
    pub fn source<S: Source>(&mut self, source: S) -> Stream<S::Item> {
        let (id, name) = self.plan.node(&source.name(), NodeKind::Source);
        let restart = source.restart();
        let event_time = source.event_time();
        if let Err(e) = source.validate() {
            self.plan.error(e);
        }
        self.plan.endpoint(&name, Endpoint::Source(restart));
        self.plan
            .describe(&name, std::any::type_name::<S>().to_string());
        let source = Arc::new(source);
        let attach: Attach<S::Item> = Arc::new(move |ctx, down| {
            let node = NodeId::new(ctx, name.clone());
            let mut worker = ctx.worker.clone();
            worker.gauges = ctx.metrics.source_gauges(&name);
            let reader = node.guard(|| source.create_reader(&worker))?;
            let counters = ctx.metrics.register(id, &name, NodeKind::Source);
            let driver = SourceDriver::build(reader, name.clone(), restart, ctx, down, counters)?;
            ctx.sources.push(Box::new(driver));
            Ok(())
        });
        Stream {
            plan: self.plan.clone(),
            attach,
            event_time,
            from: vec![id],
        }
    }

    /// The pipeline's identity for checkpoints under `config`: every node with what
    /// its state depends on (window parameters, key and value types, source and sink
    /// types), the local halves of two-phase windows, whose state only exists when
    /// they run, and the batch size (sources' positions count in batches). A
    /// checkpoint whose identity differs is refused, naming the difference. Types are
    /// named by `std::any::type_name`, which a new compiler may spell differently: a
    /// checkpoint is then refused rather than misread.
    fn names(&self, config: &Config) -> Vec<String> {
        let state = self.plan.0.borrow();
        let mut names: Vec<String> = state
            .names
            .iter()
            .map(|n| match state.details.get(n) {
                Some(detail) => format!("{n} {{{detail}}}"),
                None => n.clone(),
            })
            .collect();
        if config.local_aggregation_applies() {
            names.extend(state.two_phase.iter().map(|n| format!("{n}.local")));
        }
        names.push(format!("config {{batch_size {}}}", config.batch_size));
        names
    }

    /// Every problem of the config and the plan, reported together.
    fn check(&self) -> Result<Vec<Terminal>> {
        let mut problems = Problems::new();
        problems.take(self.config.validate());
        let state = self.plan.0.borrow();
        for e in &state.errors {
            problems.push(e.clone());
        }
        if state.terminals.is_empty() {
            problems.push(EngineError::NoSink);
        }
        if let Some(cp) = &self.config.checkpointing {
            for (node, endpoint) in &state.endpoints {
                if let Some(e) = delivery_problem(node, *endpoint, cp.delivery) {
                    problems.push(e);
                }
            }
        }
        problems.finish(&self.config.name, state.terminals.clone())
    }

    /// Validates the pipeline and returns its processor, not yet started.
    pub fn build(self) -> Result<StreamProcessor> {
        let terminals = self.check()?;
        let names = self.names(&self.config);
        let graph = self.plan.graph().physical(&self.config);
        Ok(StreamProcessor::new(self.config, terminals, names, graph))
    }

    /// Builds and starts the pipeline on `parallelism` worker threads.
    pub fn start(self) -> Result<StreamProcessor> {
        let processor = self.build()?;
        processor.start()?;
        Ok(processor)
    }

    /// Starts the pipeline and waits until its input is exhausted.
    pub fn run(self) -> Result<Metrics> {
        self.start()?.join()
    }

    /// Builds the pipeline for a deterministic simulation of its parallel run: every
    /// worker on the calling thread, stepped in an order drawn from `seed`; `clock` must
    /// be the config's clock (the simulation moves it). See [`crate::Simulation`].
    pub fn build_simulation(
        self,
        seed: u64,
        clock: crate::time::ManualClock,
    ) -> Result<crate::Simulation> {
        let terminals = self.check()?;
        let names = self.names(&self.config);
        crate::Simulation::new(self.config, &terminals, names, seed, clock)
    }

    /// Builds the pipeline for deterministic single-thread execution at parallelism 1.
    pub fn build_local(self) -> Result<LocalExecutor> {
        let config = self.config.clone().with_parallelism(1);
        self.build_stepped(config)
    }

    /// Builds the pipeline at its configured parallelism with every worker on the
    /// calling thread, stepped in turn (the testing harness).
    pub(crate) fn build_stepped(self, config: Config) -> Result<LocalExecutor> {
        let terminals = self.check()?;
        let names = self.names(&config);
        LocalExecutor::new(config, &terminals, names)
    }
}

/// A stream of records of type `T`.
///
/// Methods consume the stream and return the next one; types flow through closures, so
/// nothing is boxed per record. A stream feeds one consumer.
pub struct Stream<T> {
    pub(crate) plan: Plan,
    pub(crate) attach: Attach<T>,
    /// Whether records carry event time (a watermark strategy ran upstream).
    pub(crate) event_time: bool,
    /// The plan nodes whose output this stream is (several after a union).
    pub(crate) from: Vec<usize>,
}

impl<T: Send + 'static> Stream<T> {
    /// Ends the stream in a sink.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1));
    /// p.source(VecSource::new(vec!["a", "b"])).sink(out.clone());
    /// p.run().unwrap();
    /// assert_eq!(out.values(), vec!["a", "b"]);
    /// ```
    pub fn sink<S: Sink<T>>(self, sink: S) {
        let planned = self.plan.sink(&sink.name(), sink, NodeKind::Sink, true);
        self.plan
            .link(&self.from, planned.id, crate::plan::Partitioning::Forward);
        let upstream = self.attach;
        let terminal: Terminal = Arc::new(move |ctx| {
            let node = planned.build(ctx)?;
            upstream(ctx, Box::new(node))
        });
        self.plan.terminal(terminal);
    }

    /// Ends the stream by calling `f` on every record.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    /// use tidewater_engine::prelude::*;
    /// let total = Arc::new(AtomicU64::new(0));
    /// let t = total.clone();
    /// let mut p = Pipeline::new(Config::default());
    /// p.source(VecSource::new(vec![1u64, 2, 3])).for_each(move |x| { t.fetch_add(x, Ordering::Relaxed); });
    /// p.run().unwrap();
    /// assert_eq!(total.load(Ordering::Relaxed), 6);
    /// ```
    pub fn for_each<F: Fn(T) + Clone + Send + Sync + 'static>(self, f: F) {
        self.sink(crate::connector::FnSink::new(f));
    }

    /// Ends the stream by printing each record's `Debug` form to stdout.
    pub fn print(self)
    where
        T: std::fmt::Debug + serde::Serialize,
    {
        self.sink(crate::connector::ConsoleSink::debug());
    }

    pub(crate) fn require_same_pipeline(&self, other: &Plan, operator: &str) -> bool {
        if self.plan.same(other) {
            return true;
        }
        self.plan.error(EngineError::invalid(
            operator,
            "other",
            "a stream of the same pipeline",
            "a stream of another pipeline",
        ));
        false
    }
}

/// Why `node` cannot keep `guarantee`, if it cannot: sources must replay from a
/// position for at-least-once and exactly-once (and must not reread everything for
/// at-most-once); sinks must commit transactionally or idempotently for exactly-once.
pub(crate) fn delivery_problem(
    node: &str,
    endpoint: Endpoint,
    guarantee: DeliveryGuarantee,
) -> Option<EngineError> {
    use DeliveryGuarantee::*;
    let lacks = match (endpoint, guarantee) {
        (Endpoint::Source(Restart::FromPosition), _) => return None,
        (Endpoint::Source(Restart::LiveOnly), AtMostOnce) => return None,
        (Endpoint::Source(Restart::LiveOnly), _) => {
            "it cannot replay from a position (`Restart::LiveOnly`): records in flight at a crash would be lost"
        }
        (Endpoint::Source(Restart::FromBeginning), _) => {
            "it keeps no position (`Restart::FromBeginning`): a restart would read everything again"
        }
        (Endpoint::Sink(_), AtMostOnce | AtLeastOnce) => return None,
        (Endpoint::Sink(Commit::Transactional | Commit::Idempotent), ExactlyOnce) => return None,
        (Endpoint::Sink(Commit::Immediate), ExactlyOnce) => {
            "its writes are visible at once (`Commit::Immediate`): a replay would repeat them; use a transactional or idempotent sink"
        }
    };
    let guarantee = match guarantee {
        AtMostOnce => "at-most-once",
        AtLeastOnce => "at-least-once",
        ExactlyOnce => "exactly-once",
    };
    Some(EngineError::Delivery {
        node: node.to_string(),
        guarantee: guarantee.to_string(),
        lacks: lacks.to_string(),
    })
}
