//! `window(...)` and what follows it: lateness, output mode, late side output and the
//! aggregation that produces one result per key and window.

use std::sync::Arc;

use super::keyed::connect_exchange;
use super::{KeyedStream, Stream};
use crate::connector::Sink;
use crate::error::EngineError;
use crate::metrics::{NodeKind, OperatorCounters};
use crate::runtime::build::{Attach, BuildContext};
use crate::runtime::node::{Counting, OperatorNode};
use crate::runtime::Downstream;
use crate::time::{duration_ms, IntoDuration};
use crate::window::aggregate::{Collect, Count, Reduce};
use crate::window::assigner::FixedWindows;
use crate::window::operator::{
    FixedWindowOperator, LateOutput, LocalWindowOperator, MergePartials, Partial,
    SessionWindowOperator, WindowSettings,
};
use crate::window::{Aggregate, OutputMode, Window, WindowAssigner, WindowKind, WindowResult};

/// What the two nodes of a local-global window aggregation on one worker share (see
/// [`LocalWindowOperator`]).
struct TwoPhase {
    spec: FixedWindows,
    settings: WindowSettings,
    exchange: usize,
    name: Arc<str>,
    counters: Arc<OperatorCounters>,
}

type LateSink<T> =
    Arc<dyn Fn(&mut BuildContext) -> crate::error::Result<Downstream<T>> + Send + Sync>;

/// A keyed stream cut into windows, waiting for its aggregation.
pub struct WindowedStream<T, K, KF, W> {
    keyed: KeyedStream<T, K, KF>,
    assigner: W,
    lateness: Result<i64, EngineError>,
    pub(crate) mode: OutputMode,
    late_sink: Option<LateSink<T>>,
    /// The plan node of the late side output, linked once the window node exists.
    late_node: Option<usize>,
}

impl<T, K, KF, W> WindowedStream<T, K, KF, W> {
    /// Whether the pipeline runs with Spark's micro-batch semantics.
    pub(crate) fn spark(&self) -> bool {
        self.keyed.plan.spark()
    }
}

impl<T, K, KF, W> WindowedStream<T, K, KF, W>
where
    T: Send + 'static,
    K: std::hash::Hash
        + Eq
        + Clone
        + Send
        + serde::Serialize
        + serde::de::DeserializeOwned
        + 'static,
    KF: Fn(&T) -> K + Clone + Send + Sync + 'static,
    W: WindowAssigner,
{
    pub(crate) fn new(keyed: KeyedStream<T, K, KF>, assigner: W) -> Self {
        WindowedStream {
            keyed,
            assigner,
            lateness: Ok(0),
            mode: OutputMode::Append,
            late_sink: None,
            late_node: None,
        }
    }

    /// Wires the two nodes of a local-global aggregation on one worker: local node ->
    /// exchange of partials -> global node -> `down`; returns the local node, which
    /// takes this worker's records. Both report to the operator's one set of counters:
    /// records in at the local node, the rest at the global one.
    fn connect_two_phase<A: Aggregate<T>>(
        parts: TwoPhase,
        ctx: &mut BuildContext,
        key_fn: KF,
        agg: A,
        down: Downstream<WindowResult<K, A::Out>>,
    ) -> crate::error::Result<Downstream<T>> {
        let TwoPhase {
            spec,
            settings,
            exchange,
            name,
            counters,
        } = parts;
        let global_late = LateOutput::new(None, counters.clone()).weighted(Partial::records);
        let global = FixedWindowOperator::new(
            spec,
            settings,
            |p: &Partial<K, A::Acc>| p.key.clone(),
            MergePartials::new(agg.clone()),
            global_late,
        );
        let global = OperatorNode::build_part(
            global,
            name.clone(),
            "operator",
            ctx,
            down,
            counters.clone(),
            Counting::Output,
        )?;
        let sender = connect_exchange(
            ctx,
            exchange,
            &name,
            |p: &Partial<K, A::Acc>| p.key.clone(),
            Box::new(global),
        )?;
        let local_late = LateOutput::new(None, counters.clone());
        let local = LocalWindowOperator::new(spec, key_fn, agg, local_late);
        let local =
            OperatorNode::build_part(local, name, "local", ctx, sender, counters, Counting::Input)?;
        Ok(Box::new(local))
    }

    /// Keeps windows open for `lateness` after their end: late records within it update
    /// the window and re-fire its result (Flink's allowed lateness).
    pub fn allowed_lateness(mut self, lateness: impl IntoDuration) -> Self {
        self.lateness = lateness.into_duration().map(duration_ms);
        self
    }

    /// Sets the output mode (default [`OutputMode::Append`]).
    pub fn output_mode(mut self, mode: OutputMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sends records too late for every window they belong to into `sink` instead of
    /// only counting them.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let (results, late) = (MemorySink::new(), MemorySink::new());
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1).with_batch_size(1));
    /// p.source(VecSource::new(vec![1_000_i64, 25_000, 3_000, 26_000]))
    ///     .with_watermark(Watermark::bounded("2 seconds", |ts: &i64| *ts))
    ///     .key_by(|_| 0u8)
    ///     .window(TumblingWindow::of("10 seconds"))
    ///     .late_records(late.clone())
    ///     .aggregate(Count)
    ///     .sink(results.clone());
    /// let metrics = p.run().unwrap();
    /// // watermark 23 s when 3 000 arrives: window [0, 10 s) already fired
    /// assert_eq!(late.values(), vec![3_000]);
    /// assert_eq!(metrics.late_dropped, 1);
    /// let fired: Vec<_> = results.values().iter().map(|r| (r.window_start, r.value)).collect();
    /// assert_eq!(fired, vec![(0, 1), (20_000, 2)]);
    /// ```
    pub fn late_records<S: Sink<T>>(mut self, sink: S) -> Self {
        // Not part of the checkpoint identity (as before): the window's own entry is.
        let label = format!("late:{}", sink.name());
        let planned = self.keyed.plan.sink(&label, sink, NodeKind::Sink, false);
        self.late_node = Some(planned.id);
        self.late_sink = Some(Arc::new(move |ctx: &mut BuildContext| {
            Ok(Box::new(planned.build(ctx)?) as Downstream<T>)
        }));
        self
    }

    /// [`aggregate`](Self::aggregate), with the result named by `finish`: a struct of
    /// named fields instead of a tuple read by position.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    ///
    /// #[derive(Clone)]
    /// struct Trade { price: f64, qty: u64, ts: i64 }
    /// #[derive(Debug, Clone, PartialEq)]
    /// struct Bar { trades: u64, volume: u64, high: f64 }
    ///
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default());
    /// let trades = vec![Trade { price: 10.0, qty: 5, ts: 1 }, Trade { price: 12.5, qty: 1, ts: 2 }];
    /// p.source(VecSource::new(trades))
    ///     .with_watermark(Watermark::monotonic(|t: &Trade| t.ts))
    ///     .key_by(|_: &Trade| 0u8)
    ///     .window(TumblingWindow::of("1 minute"))
    ///     .aggregate_into(
    ///         (Count, Sum::of(|t: &Trade| t.qty), Max::of(|t: &Trade| t.price)),
    ///         |(trades, volume, high)| Bar { trades, volume, high },
    ///     )
    ///     .sink(out.clone());
    /// p.run().unwrap();
    /// assert_eq!(out.values()[0].value, Bar { trades: 2, volume: 6, high: 12.5 });
    /// ```
    pub fn aggregate_into<A, O, F>(self, agg: A, finish: F) -> Stream<WindowResult<K, O>>
    where
        A: Aggregate<T>,
        O: Send + 'static,
        F: Fn(A::Out) -> O + Clone + Send + Sync + 'static,
    {
        use crate::window::aggregate::AggregateExt;
        self.aggregate(agg.finish_with(finish))
    }

    /// Aggregates each key's window with `agg`: one [`WindowResult`] per key and window.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default());
    /// let trades = vec![("ACME", 10.0, 1_000_i64), ("ACME", 12.0, 2_000), ("INIT", 5.0, 3_000)];
    /// p.source(VecSource::new(trades))
    ///     .with_watermark(Watermark::monotonic(|t: &(&str, f64, i64)| t.2))
    ///     .key_by(|t: &(&str, f64, i64)| t.0.to_string()) // keys are serializable (checkpoints)
    ///     .window(SlidingWindow::of("10 seconds", "5 seconds"))
    ///     .aggregate((Count, Avg::of(|t: &(&str, f64, i64)| t.1)))
    ///     .sink(out.clone());
    /// p.run().unwrap();
    /// let mut rows: Vec<_> = out.values().into_iter()
    ///     .map(|r| (r.key, r.window_start, r.value.0, r.value.1.unwrap())).collect();
    /// rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    /// let rows: Vec<_> = rows.iter().map(|(k, s, n, avg)| (k.as_str(), *s, *n, *avg)).collect();
    /// assert_eq!(rows, vec![
    ///     ("ACME", -5_000, 2, 11.0), ("ACME", 0, 2, 11.0),
    ///     ("INIT", -5_000, 1, 5.0), ("INIT", 0, 1, 5.0),
    /// ]);
    /// ```
    pub fn aggregate<A: Aggregate<T>>(self, agg: A) -> Stream<WindowResult<K, A::Out>> {
        let plan = self.keyed.plan.clone();
        let (id, name) = plan.node(
            &format!("window({})", self.assigner.name()),
            NodeKind::Window,
        );
        if let Some(late) = self.late_node {
            plan.link(&[id], late, crate::plan::Partitioning::Late);
        }
        if !self.keyed.event_time {
            plan.error(EngineError::MissingEventTime {
                operator: name.to_string(),
            });
        }
        let kind = self.assigner.validate(&name);
        let lateness = self.lateness.clone();
        let lateness = lateness
            .map_err(|e| e.at(&name, "allowed_lateness"))
            .and_then(|l| crate::time::too_long(&name, "allowed_lateness", l).map_or(Ok(l), Err));
        match (&kind, &lateness) {
            (Err(e), Err(l)) => {
                plan.error(e.clone());
                plan.error(l.clone());
            }
            (Err(e), _) | (_, Err(e)) => plan.error(e.clone()),
            (_, Ok(l)) if *l < 0 => plan.error(EngineError::invalid(
                name.to_string(),
                "allowed_lateness",
                "a duration >= 0",
                format!("{l} ms"),
            )),
            _ => {}
        }
        let (kind, lateness) = match (kind, lateness) {
            (Ok(kind), Ok(lateness)) => (kind, lateness),
            // Reported above; the pipeline will not start.
            _ => {
                return Stream {
                    plan,
                    attach: Arc::new(|_, _| Ok(())),
                    event_time: true,
                    from: vec![id],
                }
            }
        };
        let mode = self.mode;
        if plan.spark() && mode == OutputMode::Update && matches!(kind, WindowKind::Session(_)) {
            // Spark refuses it at start() (STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION).
            plan.error(EngineError::invalid(
                name.to_string(),
                "output_mode",
                "append or complete (Spark does not support update mode for session windows)",
                "update",
            ));
        }
        plan.describe(
            &name,
            format!(
                "{kind:?}, lateness {lateness} ms, {mode:?}, key {}, aggregate {}",
                std::any::type_name::<K>(),
                std::any::type_name::<A>()
            ),
        );
        let late_sink = self.late_sink;
        // Local-global aggregation needs only partial accumulators across the exchange:
        // append mode (results only when final), no late records to hand out, and an
        // aggregate whose partials are smaller than its records.
        let two_phase = matches!(kind, WindowKind::Fixed(_))
            && mode == OutputMode::Append
            && late_sink.is_none()
            && agg.combines();
        if two_phase {
            plan.two_phase(&name);
        }
        let partitioning = if two_phase {
            crate::plan::Partitioning::HashPartials
        } else {
            crate::plan::Partitioning::Hash
        };
        plan.link(&self.keyed.from, id, partitioning);
        let KeyedStream {
            attach: upstream,
            key_fn,
            exchange,
            ..
        } = self.keyed;
        let attach: Attach<WindowResult<K, A::Out>> = Arc::new(move |ctx, down| {
            let counters = ctx.metrics.register(id, &name, NodeKind::Window);
            // With explain on, taps around the operator record its story.
            let explain = ctx.config.explain.then(|| {
                let log = ctx.metrics.explain.clone();
                log.register(&name, kind, lateness, late_sink.is_some());
                (
                    log,
                    std::rc::Rc::new(std::cell::Cell::new(crate::time::MIN_WATERMARK)),
                )
            });
            let down: Downstream<WindowResult<K, A::Out>> = match &explain {
                Some((log, wm)) => Box::new(crate::explain::ExplainOutput {
                    name: name.clone(),
                    log: log.clone(),
                    watermark: wm.clone(),
                    down,
                }),
                None => down,
            };
            let late_out = match &late_sink {
                Some(make) => Some(make(ctx)?),
                None => None,
            };
            let late = LateOutput::new(late_out, counters.clone());
            let spark = ctx.config.is_spark();
            let settings = WindowSettings {
                lateness,
                mode,
                spark,
            };
            let (kf, agg) = (key_fn.clone(), agg.clone());
            let op: Downstream<T> = match kind {
                WindowKind::Fixed(spec) if two_phase && ctx.config.local_aggregation_applies() => {
                    let parts = TwoPhase {
                        spec,
                        settings,
                        exchange,
                        name: name.clone(),
                        counters,
                    };
                    let local = Self::connect_two_phase(parts, ctx, kf, agg, down)?;
                    return upstream(ctx, local);
                }
                WindowKind::Fixed(spec) => {
                    if two_phase {
                        refuse_held_partials::<K, A::Acc>(ctx, &name)?;
                    }
                    let op = FixedWindowOperator::new(spec, settings, kf, agg, late);
                    Box::new(OperatorNode::build(op, name.clone(), ctx, down, counters)?)
                }
                WindowKind::Session(mut spec) => {
                    spec.merge_touching |= spark;
                    let op = SessionWindowOperator::new(spec, settings, kf, agg, late);
                    Box::new(OperatorNode::build(op, name.clone(), ctx, down, counters)?)
                }
            };
            let op: Downstream<T> = match explain {
                Some((log, watermark)) => Box::new(crate::explain::ExplainInput {
                    name: name.clone(),
                    worker: ctx.worker.index,
                    log,
                    key_fn: key_fn.clone(),
                    watermark,
                    down: op,
                }),
                None => op,
            };
            KeyedStream::<T, K, KF>::attach_keyed(&upstream, &key_fn, exchange, &name, ctx, op)
        });
        Stream {
            plan,
            attach,
            event_time: true,
            from: vec![id],
        }
    }

    /// Counts each key's records per window.
    pub fn count(self) -> Stream<WindowResult<K, u64>> {
        self.aggregate(Count)
    }

    /// Reduces each key's window with an associative function.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default());
    /// p.source(VecSource::new(vec![(1u8, 4_i64), (1, 9), (1, 2)]))
    ///     .with_watermark(Watermark::monotonic(|e: &(u8, i64)| e.1))
    ///     .key_by(|e: &(u8, i64)| e.0)
    ///     .window(SessionWindow::with_gap("1 second"))
    ///     .reduce(|a, b| if b.1 > a.1 { b } else { a })
    ///     .sink(out.clone());
    /// p.run().unwrap();
    /// let results = out.values();
    /// assert_eq!((results[0].window_start, results[0].window_end, results[0].value), (2, 1_009, (1, 9)));
    /// ```
    pub fn reduce<F>(self, f: F) -> Stream<WindowResult<K, T>>
    where
        T: Clone + serde::Serialize + serde::de::DeserializeOwned,
        F: Fn(T, T) -> T + Clone + Send + Sync + 'static,
    {
        self.aggregate(Reduce::new(f))
            .flat_map(|r: WindowResult<K, Option<T>>| {
                let WindowResult {
                    key,
                    window_start,
                    window_end,
                    value,
                    is_final,
                } = r;
                value.map(|value| WindowResult {
                    key,
                    window_start,
                    window_end,
                    value,
                    is_final,
                })
            })
    }

    /// Hands each key's whole window, in event-time order, to `f`, which returns any
    /// number of outputs.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default());
    /// p.source(VecSource::new(vec![('k', 3_i64), ('k', 1), ('k', 2)]))
    ///     .with_watermark(Watermark::bounded("5 seconds", |e: &(char, i64)| e.1))
    ///     .key_by(|e: &(char, i64)| e.0)
    ///     .window(TumblingWindow::of("1 second"))
    ///     .process(|key: &char, w: Window, items: Vec<(char, i64)>| {
    ///         vec![format!("{key} [{}, {}): {:?}", w.start, w.end, items.iter().map(|e| e.1).collect::<Vec<_>>())]
    ///     })
    ///     .sink(out.clone());
    /// p.run().unwrap();
    /// assert_eq!(out.values(), vec!["k [0, 1000): [1, 2, 3]".to_string()]);
    /// ```
    pub fn process<I, F>(self, f: F) -> Stream<I::Item>
    where
        T: Clone + serde::Serialize + serde::de::DeserializeOwned,
        I: IntoIterator + 'static,
        I::Item: Send + 'static,
        F: Fn(&K, Window, Vec<T>) -> I + Clone + Send + Sync + 'static,
    {
        self.aggregate(Collect)
            .flat_map(move |r: WindowResult<K, Vec<T>>| {
                let window = r.window();
                f(&r.key, window, r.value)
            })
    }
}

/// A plan without the local half restoring a checkpoint whose local halves hold
/// partials (taken by a version that checkpointed them instead of sending them on at
/// the barrier) would lose them: refused.
fn refuse_held_partials<K, Acc>(ctx: &BuildContext, name: &str) -> crate::error::Result<()>
where
    K: std::hash::Hash + Eq + serde::de::DeserializeOwned,
    Acc: serde::de::DeserializeOwned,
{
    let Some(parts) = ctx
        .recovered_rescaled("local", name)
        .or_else(|| ctx.recovered("local", name).map(|b| vec![b]))
    else {
        return Ok(());
    };
    if crate::window::operator::local_holds_partials::<K, Acc>(&parts)? {
        return Err(EngineError::invalid(
            name,
            "parallelism",
            "local aggregation at parallelism above 1 (this checkpoint holds partial \
             aggregates of local pre-aggregation, which only a plan with the local half \
             can restore)",
            "a plan without it",
        ));
    }
    Ok(())
}
