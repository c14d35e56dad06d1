//! `key_by`: partitions a stream by key for keyed operators.

use std::cell::RefCell;
use std::hash::Hash;
use std::rc::Rc;
use std::sync::Arc;

use super::{Plan, Stream, WindowedStream};
use crate::error::{EngineError, Result};
use crate::runtime::build::{Attach, BuildContext};
use crate::runtime::exchange::{ExchangeReceiver, ExchangeSender, Outbox};
use crate::runtime::node::NodeId;
use crate::runtime::Downstream;
use crate::window::WindowAssigner;

/// A stream partitioned by key: every record of a key reaches the same worker.
pub struct KeyedStream<T, K, KF> {
    pub(crate) plan: Plan,
    pub(crate) attach: Attach<T>,
    pub(crate) event_time: bool,
    pub(crate) key_fn: KF,
    pub(crate) exchange: usize,
    /// The plan nodes whose output is being keyed.
    pub(crate) from: Vec<usize>,
    _key: std::marker::PhantomData<fn() -> K>,
}

impl<T: Send + 'static> Stream<T> {
    /// Partitions the stream by `key`. At parallelism 1 records stay on their thread;
    /// otherwise a hash exchange sends each key to one worker.
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default().with_parallelism(2));
    /// p.source(VecSource::new((0..100i64).map(|i| (i % 3, i * 10)).collect()))
    ///     .with_watermark(Watermark::monotonic(|e: &(i64, i64)| e.1))
    ///     .key_by(|e: &(i64, i64)| e.0)
    ///     .window(TumblingWindow::of("1 hour"))
    ///     .aggregate(Count)
    ///     .sink(out.clone());
    /// p.run().unwrap();
    /// let mut counts: Vec<_> = out.values().into_iter().map(|r| (r.key, r.value)).collect();
    /// counts.sort();
    /// assert_eq!(counts, vec![(0, 34), (1, 33), (2, 33)]);
    /// ```
    pub fn key_by<K, KF>(self, key: KF) -> KeyedStream<T, K, KF>
    where
        K: Hash + Eq + Clone + Send + 'static,
        KF: Fn(&T) -> K + Clone + Send + Sync + 'static,
    {
        let exchange = self.plan.exchange();
        KeyedStream {
            plan: self.plan,
            attach: self.attach,
            event_time: self.event_time,
            key_fn: key,
            exchange,
            from: self.from,
            _key: std::marker::PhantomData,
        }
    }
}

impl<T, K, KF> KeyedStream<T, K, KF>
where
    T: Send + 'static,
    K: Hash + Eq + Clone + Send + serde::Serialize + serde::de::DeserializeOwned + 'static,
    KF: Fn(&T) -> K + Clone + Send + Sync + 'static,
{
    /// Runs a [`KeyedProcessFunction`](crate::operator::KeyedProcessFunction) on
    /// each key's records, with per-key state and event-time timers.
    pub fn process<F: crate::operator::KeyedProcessFunction<K, T>>(
        self,
        function: F,
    ) -> Stream<F::Out> {
        let (id, name) = self
            .plan
            .node("process", crate::metrics::NodeKind::Operator);
        self.plan.describe(
            &name,
            format!(
                "key {}, function {}",
                std::any::type_name::<K>(),
                std::any::type_name::<F>()
            ),
        );
        self.keyed_operator(id, name, move |key_fn, ctx, _| {
            crate::operator::KeyedProcessOperator::new(
                key_fn.clone(),
                function.clone(),
                ctx.config.is_spark(),
                ctx.config.clock.clone(),
            )
        })
    }

    /// Wires a keyed operator (built per worker by `make` from the key function, the
    /// build context and the node's counters) behind the exchange.
    fn keyed_operator<O, M>(self, id: usize, name: Arc<str>, make: M) -> Stream<O::Out>
    where
        O: crate::operator::Operator<In = T>,
        O::Out: Send + 'static,
        M: Fn(&KF, &BuildContext, Arc<crate::metrics::OperatorCounters>) -> O
            + Send
            + Sync
            + 'static,
    {
        let KeyedStream {
            plan,
            attach: upstream,
            event_time,
            key_fn,
            exchange,
            from,
            ..
        } = self;
        plan.link(&from, id, crate::plan::Partitioning::Hash);
        let attach: Attach<O::Out> = Arc::new(move |ctx, down| {
            let counters = ctx
                .metrics
                .register(id, &name, crate::metrics::NodeKind::Operator);
            let op = make(&key_fn, ctx, counters.clone());
            let node =
                crate::runtime::node::OperatorNode::build(op, name.clone(), ctx, down, counters)?;
            KeyedStream::<T, K, KF>::attach_keyed(
                &upstream,
                &key_fn,
                exchange,
                &name,
                ctx,
                Box::new(node),
            )
        });
        Stream {
            plan,
            attach,
            event_time,
            from: vec![id],
        }
    }

    /// Drops every record whose key was already seen, remembering keys as
    /// `retention` says; records at or behind the watermark are dropped as late
    /// (counted in the metrics' late records). Spark's `dropDuplicates` and
    /// `dropDuplicatesWithinWatermark`: see [`Deduplication`](crate::operator::Deduplication).
    pub fn deduplicate(self, retention: crate::operator::Deduplication) -> Stream<T> {
        let (id, name) = self
            .plan
            .node("deduplicate", crate::metrics::NodeKind::Operator);
        let delay = retention.expiry_delay(&name).unwrap_or_else(|e| {
            self.plan.error(e);
            None
        });
        if retention.needs_watermark() && !self.event_time {
            self.plan.error(EngineError::invalid(
                &*name,
                "watermark",
                "a watermark upstream (keys expire with it); Deduplication::forever() has none",
                "a stream without event time",
            ));
        }
        self.plan.describe(
            &name,
            format!("key {}, {retention:?}", std::any::type_name::<K>()),
        );
        self.keyed_operator(id, name, move |key_fn, _, counters| {
            crate::operator::DeduplicateOperator::new(key_fn.clone(), delay, counters)
        })
    }

    /// Groups each key's records into event-time windows.
    pub fn window<W: WindowAssigner>(self, assigner: W) -> WindowedStream<T, K, KF, W> {
        WindowedStream::new(self, assigner)
    }

    /// Wires `keyed_op` (the keyed operator of this worker) behind the exchange.
    pub(crate) fn attach_keyed(
        attach: &Attach<T>,
        key_fn: &KF,
        exchange: usize,
        keyed_name: &Arc<str>,
        ctx: &mut BuildContext,
        keyed_op: Downstream<T>,
    ) -> Result<()> {
        if ctx.worker.parallelism == 1 {
            return attach(ctx, keyed_op);
        }
        let sender = connect_exchange(ctx, exchange, keyed_name, key_fn.clone(), keyed_op)?;
        attach(ctx, sender)
    }
}

/// Connects this worker to hash exchange `exchange` (parallelism > 1): `keyed_op`
/// receives the records of the keys this worker owns, from every worker; the returned
/// sending half partitions this worker's records by `key_fn`.
pub(crate) fn connect_exchange<U, K, KF>(
    ctx: &mut BuildContext,
    exchange: usize,
    keyed_name: &Arc<str>,
    key_fn: KF,
    keyed_op: Downstream<U>,
) -> Result<Downstream<U>>
where
    U: Send + 'static,
    K: Hash,
    KF: Fn(&U) -> K + 'static,
{
    let (n, worker) = (ctx.worker.parallelism, ctx.worker.index);
    let (senders, receiver) = ctx
        .exchanges
        .endpoints::<U>(exchange, worker)
        .ok_or_else(|| EngineError::InvalidState {
            action: format!("connect exchange {exchange} on worker {worker}"),
            status: "already connected".into(),
        })?;
    let ingest = ctx.ingest.clone();
    ctx.inbound.push(Box::new(ExchangeReceiver::new(
        exchange,
        n,
        receiver,
        keyed_op,
        ingest.clone(),
        ctx.config.clock.clone(),
    )));
    let blocked = ctx.metrics.backpressure_counter(keyed_name);
    let outbox = Rc::new(RefCell::new(Outbox::new(worker, senders, blocked)));
    ctx.outboxes.push((exchange, outbox.clone()));
    let id = NodeId::new(ctx, keyed_name.clone());
    Ok(Box::new(ExchangeSender::new(id, key_fn, outbox, ingest)))
}
