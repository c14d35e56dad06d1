//! Stateless operators, union and event time on [`Stream`].

use std::sync::Arc;

use super::Stream;
use crate::config::TimeSemantics;
use crate::connector::WorkerInfo;
use crate::metrics::NodeKind;
use crate::operator::{Filter, FlatMap, Inspect, Map, Operator};
use crate::runtime::build::Attach;
use crate::runtime::node::{NodeId, OperatorNode};
use crate::runtime::union::UnionInput;
use crate::runtime::watermark::{SparkWatermarkAssigner, WatermarkAssigner};
use crate::time::{duration_ms, TimestampFn, Watermark};

impl<T: Send + 'static> Stream<T> {
    /// Adds a custom operator; `make` builds one instance per worker.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// /// Running total of the values seen by this worker.
    /// struct RunningSum(u64);
    /// impl Operator for RunningSum {
    ///     type In = u64;
    ///     type Out = u64;
    ///     fn process_batch(&mut self, input: Batch<u64>, output: &mut Batch<u64>) -> Result<()> {
    ///         for r in input {
    ///             self.0 += r.value;
    ///             output.push(Record::new(r.ts, self.0));
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1));
    /// p.source(VecSource::new(vec![1, 2, 3])).transform("running_sum", |_| RunningSum(0)).sink(out.clone());
    /// p.run().unwrap();
    /// assert_eq!(out.values(), vec![1, 3, 6]);
    /// ```
    pub fn transform<O, F>(self, name: &str, make: F) -> Stream<O::Out>
    where
        O: Operator<In = T>,
        O::Out: Send + 'static,
        F: Fn(&WorkerInfo) -> O + Send + Sync + 'static,
    {
        self.then(name, NodeKind::Operator, make)
    }

    pub(crate) fn then<O, F>(self, kind: &str, node_kind: NodeKind, make: F) -> Stream<O::Out>
    where
        O: Operator<In = T>,
        O::Out: Send + 'static,
        F: Fn(&WorkerInfo) -> O + Send + Sync + 'static,
    {
        let (id, name) = self.plan.node(kind, node_kind);
        self.plan
            .link(&self.from, id, crate::plan::Partitioning::Forward);
        let upstream = self.attach;
        let attach: Attach<O::Out> = Arc::new(move |ctx, down| {
            let counters = ctx.metrics.register(id, &name, node_kind);
            let op = make(&ctx.worker);
            let node = OperatorNode::build(op, name.clone(), ctx, down, counters)?;
            upstream(ctx, Box::new(node))
        });
        Stream {
            plan: self.plan,
            attach,
            event_time: self.event_time,
            from: vec![id],
        }
    }

    /// Transforms each record.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1));
    /// p.source(VecSource::new(vec![1, 2, 3])).map(|x| x * x).sink(out.clone());
    /// p.run().unwrap();
    /// assert_eq!(out.values(), vec![1, 4, 9]);
    /// ```
    pub fn map<U, F>(self, f: F) -> Stream<U>
    where
        U: Send + 'static,
        F: Fn(T) -> U + Clone + Send + Sync + 'static,
    {
        self.then("map", NodeKind::Operator, move |_| Map::new(f.clone()))
    }

    /// Keeps the records for which `predicate` holds.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1));
    /// p.source(VecSource::new((1..=6).collect::<Vec<i32>>())).filter(|x| x % 3 == 0).sink(out.clone());
    /// p.run().unwrap();
    /// assert_eq!(out.values(), vec![3, 6]);
    /// ```
    pub fn filter<F>(self, predicate: F) -> Stream<T>
    where
        F: Fn(&T) -> bool + Clone + Send + Sync + 'static,
    {
        self.then("filter", NodeKind::Operator, move |_| {
            Filter::new(predicate.clone())
        })
    }

    /// Replaces each record with any number of records.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1));
    /// p.source(VecSource::new(vec!["to be", "or"]))
    ///     .flat_map(|line: &str| line.split(' ').map(String::from).collect::<Vec<_>>())
    ///     .sink(out.clone());
    /// p.run().unwrap();
    /// assert_eq!(out.values(), vec!["to", "be", "or"]);
    /// ```
    pub fn flat_map<I, F>(self, f: F) -> Stream<I::Item>
    where
        I: IntoIterator + 'static,
        I::Item: Send + 'static,
        F: Fn(T) -> I + Clone + Send + Sync + 'static,
    {
        self.then("flat_map", NodeKind::Operator, move |_| {
            FlatMap::new(f.clone())
        })
    }

    /// Calls `f` on each record and passes it on unchanged.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use tidewater_engine::prelude::*;
    /// let seen = Arc::new(AtomicUsize::new(0));
    /// let s = seen.clone();
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default());
    /// p.source(VecSource::new(vec![1, 2, 3]))
    ///     .inspect(move |_| { s.fetch_add(1, Ordering::Relaxed); })
    ///     .sink(out.clone());
    /// p.run().unwrap();
    /// assert_eq!((seen.load(Ordering::Relaxed), out.len()), (3, 3));
    /// ```
    pub fn inspect<F>(self, f: F) -> Stream<T>
    where
        F: Fn(&T) + Clone + Send + Sync + 'static,
    {
        self.then("inspect", NodeKind::Operator, move |_| {
            Inspect::new(f.clone())
        })
    }

    /// Merges another stream of the same type; the merged watermark is the minimum of
    /// the two.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1));
    /// let evens = p.source(VecSource::new(vec![0, 2, 4]));
    /// let odds = p.source(VecSource::new(vec![1, 3]));
    /// evens.union(odds).sink(out.clone());
    /// p.run().unwrap();
    /// let mut all = out.values();
    /// all.sort();
    /// assert_eq!(all, vec![0, 1, 2, 3, 4]);
    /// ```
    pub fn union(self, other: Stream<T>) -> Stream<T> {
        self.require_same_pipeline(&other.plan, "union");
        let (left, right) = (self.attach, other.attach);
        let attach: Attach<T> = Arc::new(move |ctx, down| {
            let mut inputs = UnionInput::create(2, down).into_iter();
            let (Some(l), Some(r)) = (inputs.next(), inputs.next()) else {
                unreachable!("UnionInput::create(2) returns two inputs")
            };
            left(ctx, Box::new(l))?;
            right(ctx, Box::new(r))
        });
        let mut from = self.from;
        from.extend(other.from);
        Stream {
            plan: self.plan,
            attach,
            event_time: self.event_time && other.event_time,
            from,
        }
    }

    /// Processing time: each record's time is the pipeline clock's when it gets here,
    /// and the watermark is that clock, moved on by every batch and every tick, so
    /// windows after it fire as the clock passes their end, records or not (Flink's
    /// processing-time windows; Nexmark Q12). In tests the clock is a
    /// [`ManualClock`](crate::time::ManualClock) the harness moves.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let clock = ManualClock::new(0);
    /// let (source, input) = ChannelSource::new();
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default().with_clock(clock.clone()));
    /// p.source(source)
    ///     .with_processing_time()
    ///     .key_by(|user: &char| *user)
    ///     .window(TumblingWindow::of("10 seconds"))
    ///     .count()
    ///     .sink(out.clone());
    /// let mut local = p.build_local().unwrap();
    /// clock.set_ms(3_000);
    /// input.send_batch(vec!['a', 'b', 'a']).unwrap();
    /// local.run_until_idle().unwrap();
    /// assert!(out.is_empty());
    /// clock.set_ms(10_000); // no record needed: the clock closes [0, 10 s)
    /// local.run_until_idle().unwrap();
    /// let mut counts: Vec<_> = out.take().into_iter().map(|r| (r.key, r.value)).collect();
    /// counts.sort();
    /// assert_eq!(counts, vec![('a', 2), ('b', 1)]);
    /// ```
    pub fn with_processing_time(self) -> Stream<T> {
        let (id, name) = self.plan.node("with_processing_time", NodeKind::Watermark);
        self.plan
            .link(&self.from, id, crate::plan::Partitioning::Forward);
        let upstream = self.attach;
        let attach: Attach<T> = Arc::new(move |ctx, down| {
            let counters = ctx.metrics.register(id, &name, NodeKind::Watermark);
            let clock = ctx.config.clock.clone();
            let node =
                crate::runtime::processing_time::ProcessingTimeAssigner::new(clock, down, counters);
            upstream(ctx, Box::new(node))
        });
        Stream {
            plan: self.plan,
            attach,
            event_time: true,
            from: vec![id],
        }
    }

    /// Assigns event time with `strategy` and emits watermarks. Replaces any watermark
    /// the source itself emitted.
    ///
    /// In Spark-compatible mode the watermark advances only between micro-batches, as
    /// in Spark Structured Streaming.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tidewater_engine::prelude::*;
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1));
    /// p.source(VecSource::new(vec![(1, 5_000_i64), (1, 1_000), (1, 12_000)]))
    ///     .with_watermark(Watermark::bounded(Duration::from_secs(5), |e: &(u8, i64)| e.1))
    ///     .key_by(|e: &(u8, i64)| e.0)
    ///     .window(TumblingWindow::of("10 seconds"))
    ///     .aggregate(Count)
    ///     .sink(out.clone());
    /// let metrics = p.run().unwrap();
    /// // watermark 7 s when ts 1 000 arrives: on time. Windows [0,10s): 2, [10s,20s): 1
    /// let counts: Vec<_> = out.values().iter().map(|r| (r.window_start, r.value)).collect();
    /// assert_eq!(counts, vec![(0, 2), (10_000, 1)]);
    /// assert_eq!(metrics.late_dropped, 0);
    /// ```
    pub fn with_watermark<F: TimestampFn<T>>(self, strategy: Watermark<F>) -> Stream<T> {
        let (id, name) = self.plan.node("with_watermark", NodeKind::Watermark);
        self.plan
            .link(&self.from, id, crate::plan::Partitioning::Forward);
        let delay = strategy.delay_ms().map_err(|e| e.at(&name, "delay"));
        let delay = delay.and_then(|d| crate::time::too_long(&name, "delay", d).map_or(Ok(d), Err));
        let delay_ms = delay.unwrap_or_else(|e| {
            self.plan.error(e);
            0
        });
        let idle_ms = strategy.idle_timeout.map(duration_ms);
        let extractor = strategy.extractor;
        let upstream = self.attach;
        let attach: Attach<T> = Arc::new(move |ctx, down| {
            let counters = ctx.metrics.register(id, &name, NodeKind::Watermark);
            let f = extractor.clone();
            match ctx.config.time_semantics {
                TimeSemantics::Continuous => {
                    let clock = ctx.config.clock.clone();
                    let node_id = NodeId::new(ctx, name.clone());
                    let node = WatermarkAssigner::new(
                        node_id, f, delay_ms, idle_ms, clock, down, counters,
                    );
                    upstream(ctx, Box::new(node))
                }
                TimeSemantics::SparkMicroBatch { single_watermark } => {
                    let node_id = NodeId::new(ctx, name.clone());
                    let node = SparkWatermarkAssigner::new(
                        node_id,
                        f,
                        delay_ms,
                        !single_watermark,
                        down,
                        counters,
                    );
                    upstream(ctx, Box::new(node))
                }
            }
        });
        Stream {
            plan: self.plan,
            attach,
            event_time: true,
            from: vec![id],
        }
    }
}
