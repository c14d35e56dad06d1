//! `KeyedStream::process`: a function with per-key state and event-time timers, as
//! Flink's `KeyedProcessFunction`. Joins, deduplication, custom windows and alerts are
//! built on it.

use std::hash::Hash;
use std::marker::PhantomData;

use rustc_hash::{FxHashMap, FxHashSet};

use super::Operator;
use crate::record::{Batch, Record};
use crate::time::timers::TimerQueue;
use crate::time::{Timestamp, MAX_WATERMARK, MIN_WATERMARK};

/// A per-key function with state and event-time timers.
///
/// ```
/// use tidewater_engine::prelude::*;
///
/// /// Emits a key's running count, and the final count when its events stop for 10 s.
/// #[derive(Clone)]
/// struct CountUntilQuiet;
///
/// impl KeyedProcessFunction<char, (char, i64)> for CountUntilQuiet {
///     type State = u64;
///     type Out = (char, u64, &'static str);
///
///     fn process(&self, key: &char, count: &mut u64, _e: (char, i64), ctx: &mut KeyedContext<'_, Self::Out>) {
///         *count += 1;
///         ctx.register_timer(ctx.timestamp() + 10_000);
///         ctx.emit((*key, *count, "running"));
///     }
///
///     fn on_timer(&self, key: &char, count: &mut u64, at: i64, ctx: &mut KeyedContext<'_, Self::Out>) {
///         // Only the timer of the key's latest event closes it.
///         if at == ctx.last_timer() {
///             ctx.emit((*key, *count, "final"));
///             ctx.clear_state();
///         }
///     }
/// }
///
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default().with_parallelism(1));
/// p.source(VecSource::new(vec![('a', 1_000), ('a', 2_000), ('b', 3_000), ('a', 30_000)]))
///     .with_watermark(Watermark::monotonic(|e: &(char, i64)| e.1))
///     .key_by(|e: &(char, i64)| e.0)
///     .process(CountUntilQuiet)
///     .sink(out.clone());
/// p.run().unwrap();
/// // The watermark (30 s) passes b's timer (13 s); a's latest timer (40 s) fires at the end.
/// assert_eq!(out.values(), vec![
///     ('a', 1, "running"), ('a', 2, "running"), ('b', 1, "running"),
///     ('a', 3, "running"), ('b', 1, "final"), ('a', 3, "final"),
/// ]);
/// ```
pub trait KeyedProcessFunction<K, T>: Clone + Send + Sync + 'static {
    /// State kept per key (created with `Default` on the key's first record);
    /// serializable so checkpoints can store it.
    type State: Default + serde::Serialize + serde::de::DeserializeOwned + 'static;
    /// Output records.
    type Out: Send + 'static;

    /// Handles one record of `key`.
    fn process(
        &self,
        key: &K,
        state: &mut Self::State,
        value: T,
        ctx: &mut KeyedContext<'_, Self::Out>,
    );

    /// A processing-time timer of `key` registered for `time` fired (the pipeline's
    /// clock reached it).
    fn on_processing_time_timer(
        &self,
        key: &K,
        state: &mut Self::State,
        time: Timestamp,
        ctx: &mut KeyedContext<'_, Self::Out>,
    ) {
        let _ = (key, state, time, ctx);
    }

    /// A timer of `key` registered for `timestamp` fired (the watermark reached it).
    fn on_timer(
        &self,
        key: &K,
        state: &mut Self::State,
        timestamp: Timestamp,
        ctx: &mut KeyedContext<'_, Self::Out>,
    ) {
        let _ = (key, state, timestamp, ctx);
    }
}

/// What a [`KeyedProcessFunction`] can do while it handles a record or a timer.
pub struct KeyedContext<'a, Out> {
    timestamp: Timestamp,
    watermark: Timestamp,
    /// Read only when asked for: a clock read costs as much as the rest of a record.
    clock: &'a dyn crate::time::Clock,
    last_timer: Timestamp,
    new_timers: Vec<Timestamp>,
    new_processing_timers: Vec<Timestamp>,
    clear: bool,
    output: &'a mut Batch<Out>,
}

impl<Out> KeyedContext<'_, Out> {
    /// Event time of the record (or the timer's time).
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The current watermark.
    pub fn watermark(&self) -> Timestamp {
        self.watermark
    }

    /// The pipeline clock's time now (processing time, ms).
    pub fn processing_time(&self) -> Timestamp {
        self.clock.now_ms()
    }

    /// Calls `on_processing_time_timer` for this key once the pipeline's clock reaches
    /// `time` (once per distinct time). Timers fire as records, watermarks or ticks of
    /// processing time reach the operator; in tests the harness's clock drives them.
    pub fn register_processing_time_timer(&mut self, time: Timestamp) {
        self.new_processing_timers.push(time);
    }

    /// The latest timer this key registered (`i64::MIN` if none).
    pub fn last_timer(&self) -> Timestamp {
        self.last_timer
    }

    /// Emits a record with the current event time.
    pub fn emit(&mut self, value: Out) {
        self.output.push(Record::new(self.timestamp, value));
    }

    /// Emits a record with event time `ts`.
    pub fn emit_at(&mut self, ts: Timestamp, value: Out) {
        self.output.push(Record::new(ts, value));
    }

    /// Calls `on_timer` for this key when the watermark reaches `ts` (once per
    /// distinct time).
    pub fn register_timer(&mut self, ts: Timestamp) {
        self.new_timers.push(ts);
        self.last_timer = self.last_timer.max(ts);
    }

    /// Drops this key's state (and forgets its latest timer) after the call.
    pub fn clear_state(&mut self) {
        self.clear = true;
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeyState<S> {
    state: S,
    last_timer: Timestamp,
}

/// Everything a keyed process operator knows, for checkpoints.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(bound(
    serialize = "K: serde::Serialize + Hash + Eq, S: serde::Serialize",
    deserialize = "K: serde::de::DeserializeOwned + Hash + Eq, S: serde::de::DeserializeOwned"
))]
struct KeyedProcessState<K, S> {
    states: FxHashMap<K, KeyState<S>>,
    timers: TimerQueue<K>,
    pending: FxHashSet<(K, Timestamp)>,
    processing_timers: TimerQueue<K>,
    processing_pending: FxHashSet<(K, Timestamp)>,
    watermark: Timestamp,
}

impl<K: Hash + Eq, S> KeyedProcessState<K, S> {
    /// The keys `owner` owns of several workers' states (a rescaled restore); the
    /// watermark is the lowest of the parts.
    fn rescaled(parts: Vec<Self>, owner: crate::state::KeyOwner) -> Self {
        let watermark = parts
            .iter()
            .map(|p| p.watermark)
            .min()
            .unwrap_or(MIN_WATERMARK);
        let mut merged = KeyedProcessState {
            states: FxHashMap::default(),
            timers: TimerQueue::new(),
            pending: FxHashSet::default(),
            processing_timers: TimerQueue::new(),
            processing_pending: FxHashSet::default(),
            watermark,
        };
        let (mut timers, mut processing_timers) = (Vec::new(), Vec::new());
        for part in parts {
            let owns = |k: &K| owner.owns(k);
            merged
                .states
                .extend(part.states.into_iter().filter(|(k, _)| owns(k)));
            merged
                .pending
                .extend(part.pending.into_iter().filter(|(k, _)| owns(k)));
            let processing = part.processing_pending.into_iter().filter(|(k, _)| owns(k));
            merged.processing_pending.extend(processing);
            timers.push(part.timers);
            processing_timers.push(part.processing_timers);
        }
        merged.timers = TimerQueue::rescaled(timers, |k| owner.owns(k));
        merged.processing_timers = TimerQueue::rescaled(processing_timers, |k| owner.owns(k));
        merged
    }
}

/// The operator around a [`KeyedProcessFunction`].
pub(crate) struct KeyedProcessOperator<T, K, KF, F: KeyedProcessFunction<K, T>> {
    key_fn: KF,
    function: F,
    states: FxHashMap<K, KeyState<F::State>>,
    timers: TimerQueue<K>,
    pending: FxHashSet<(K, Timestamp)>,
    processing_timers: TimerQueue<K>,
    processing_pending: FxHashSet<(K, Timestamp)>,
    watermark: Timestamp,
    spark: bool,
    clock: std::sync::Arc<dyn crate::time::Clock>,
    _types: PhantomData<fn(T)>,
}

impl<T, K, KF, F> KeyedProcessOperator<T, K, KF, F>
where
    K: Hash + Eq + Clone + 'static,
    KF: Fn(&T) -> K,
    F: KeyedProcessFunction<K, T>,
{
    pub fn new(
        key_fn: KF,
        function: F,
        spark: bool,
        clock: std::sync::Arc<dyn crate::time::Clock>,
    ) -> Self {
        KeyedProcessOperator {
            key_fn,
            function,
            states: FxHashMap::default(),
            timers: TimerQueue::new(),
            pending: FxHashSet::default(),
            processing_timers: TimerQueue::new(),
            processing_pending: FxHashSet::default(),
            watermark: MIN_WATERMARK,
            spark,
            clock,
            _types: PhantomData,
        }
    }

    /// Takes `state` as the operator's (a restore).
    fn install(&mut self, state: KeyedProcessState<K, F::State>) {
        self.states = state.states;
        self.timers = state.timers;
        self.pending = state.pending;
        self.processing_timers = state.processing_timers;
        self.processing_pending = state.processing_pending;
        self.watermark = state.watermark;
    }

    /// Runs `call` with the key's state and a context, then applies what it asked for.
    fn with_key(
        &mut self,
        key: &K,
        timestamp: Timestamp,
        output: &mut Batch<F::Out>,
        call: impl FnOnce(&F, &mut F::State, &mut KeyedContext<'_, F::Out>),
    ) {
        let entry = self.states.entry(key.clone()).or_insert_with(|| KeyState {
            state: F::State::default(),
            last_timer: MIN_WATERMARK,
        });
        let mut ctx = KeyedContext {
            timestamp,
            watermark: self.watermark,
            clock: &*self.clock,
            last_timer: entry.last_timer,
            new_timers: Vec::new(),
            new_processing_timers: Vec::new(),
            clear: false,
            output,
        };
        call(&self.function, &mut entry.state, &mut ctx);
        entry.last_timer = ctx.last_timer;
        for ts in ctx.new_timers {
            if self.pending.insert((key.clone(), ts)) {
                self.timers.push(ts, key.clone());
            }
        }
        for ts in ctx.new_processing_timers {
            if self.processing_pending.insert((key.clone(), ts)) {
                self.processing_timers.push(ts, key.clone());
            }
        }
        if ctx.clear {
            self.states.remove(key);
        }
    }

    /// Fires the processing-time timers the clock has reached.
    fn fire_processing(&mut self, output: &mut Batch<F::Out>) {
        let now = self.clock.now_ms();
        while let Some((at, key)) = self.processing_timers.pop_due(now) {
            self.processing_pending.remove(&(key.clone(), at));
            self.with_key(&key, at, output, |f, state, ctx| {
                f.on_processing_time_timer(&key, state, at, ctx)
            });
        }
    }

    fn fire(&mut self, wm: Timestamp, output: &mut Batch<F::Out>) {
        while let Some((ts, key)) = self.timers.pop_due(wm) {
            self.pending.remove(&(key.clone(), ts));
            self.with_key(&key, ts, output, |f, state, ctx| {
                f.on_timer(&key, state, ts, ctx)
            });
        }
    }
}

impl<T, K, KF, F> Operator for KeyedProcessOperator<T, K, KF, F>
where
    T: 'static,
    K: Hash + Eq + Clone + serde::Serialize + serde::de::DeserializeOwned + 'static,
    KF: Fn(&T) -> K + 'static,
    F: KeyedProcessFunction<K, T>,
{
    type In = T;
    type Out = F::Out;

    fn process_batch(
        &mut self,
        input: Batch<T>,
        output: &mut Batch<F::Out>,
    ) -> crate::error::Result<()> {
        for r in input {
            let key = (self.key_fn)(&r.value);
            let value = r.value;
            self.with_key(&key, r.ts, output, |f, state, ctx| {
                f.process(&key, state, value, ctx)
            });
        }
        self.fire_processing(output);
        Ok(())
    }

    fn on_control(
        &mut self,
        control: crate::operator::Control,
        output: &mut Batch<F::Out>,
    ) -> crate::error::Result<Option<crate::operator::Control>> {
        if let crate::operator::Control::Tick(_) = control {
            self.fire_processing(output);
        }
        Ok(Some(control))
    }

    fn snapshot_state(&self) -> crate::error::Result<Option<Vec<u8>>> {
        #[derive(serde::Serialize)]
        struct View<'a, K: Hash + Eq, S> {
            states: &'a FxHashMap<K, KeyState<S>>,
            timers: &'a TimerQueue<K>,
            pending: &'a FxHashSet<(K, Timestamp)>,
            processing_timers: &'a TimerQueue<K>,
            processing_pending: &'a FxHashSet<(K, Timestamp)>,
            watermark: Timestamp,
        }
        let view = View {
            states: &self.states,
            timers: &self.timers,
            pending: &self.pending,
            processing_timers: &self.processing_timers,
            processing_pending: &self.processing_pending,
            watermark: self.watermark,
        };
        crate::state::encode("process", &view).map(Some)
    }

    fn restore_state(&mut self, bytes: &[u8]) -> crate::error::Result<()> {
        let state: KeyedProcessState<K, F::State> = crate::state::decode("process", bytes)?;
        self.install(state);
        Ok(())
    }

    fn restore_rescaled(
        &mut self,
        parts: &[Vec<u8>],
        owner: crate::state::KeyOwner,
    ) -> crate::error::Result<()> {
        let parts = crate::state::decode_all("process", parts)?;
        self.install(KeyedProcessState::rescaled(parts, owner));
        Ok(())
    }

    fn on_watermark(
        &mut self,
        wm: Timestamp,
        output: &mut Batch<F::Out>,
    ) -> crate::error::Result<Option<Timestamp>> {
        self.watermark = self.watermark.max(wm);
        self.fire(self.watermark, output);
        self.fire_processing(output);
        Ok(Some(wm))
    }

    fn on_end_of_input(&mut self, output: &mut Batch<F::Out>) -> crate::error::Result<()> {
        if !self.spark {
            self.watermark = MAX_WATERMARK;
            self.fire(MAX_WATERMARK, output);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> std::sync::Arc<dyn crate::time::Clock> {
        std::sync::Arc::new(crate::time::ManualClock::new(0))
    }

    /// Sums values per key; a timer at ts + 10 emits and clears the sum.
    #[derive(Clone)]
    struct SumThenFlush;

    impl KeyedProcessFunction<u8, (u8, i64)> for SumThenFlush {
        type State = i64;
        type Out = (u8, i64, i64);

        fn process(
            &self,
            _key: &u8,
            sum: &mut i64,
            v: (u8, i64),
            ctx: &mut KeyedContext<'_, Self::Out>,
        ) {
            *sum += v.1;
            ctx.register_timer(20);
            ctx.register_timer(20); // the same timer twice fires once
        }

        fn on_timer(
            &self,
            key: &u8,
            sum: &mut i64,
            ts: i64,
            ctx: &mut KeyedContext<'_, Self::Out>,
        ) {
            ctx.emit((*key, *sum, ts));
            ctx.clear_state();
        }
    }

    #[test]
    fn a_restored_operator_continues_with_its_state_and_timers() {
        fn key(e: &(u8, i64)) -> u8 {
            e.0
        }
        let mut a =
            KeyedProcessOperator::new(key as fn(&(u8, i64)) -> u8, SumThenFlush, false, clock());
        let mut out = Vec::new();
        a.process_batch(
            vec![Record::new(1, (1, 5)), Record::new(2, (2, 7))],
            &mut out,
        )
        .unwrap();
        let bytes = a.snapshot_state().unwrap().unwrap();
        let mut b =
            KeyedProcessOperator::new(key as fn(&(u8, i64)) -> u8, SumThenFlush, false, clock());
        b.restore_state(&bytes).unwrap();
        for op in [&mut a, &mut b] {
            op.process_batch(vec![Record::new(3, (1, 1))], &mut out)
                .unwrap();
            op.on_watermark(20, &mut out).unwrap();
        }
        let fired: Vec<_> = out.into_iter().map(|r| r.value).collect();
        assert_eq!(fired.len(), 4);
        let (first, second) = fired.split_at(2);
        let (mut first, mut second) = (first.to_vec(), second.to_vec());
        first.sort();
        second.sort();
        assert_eq!(first, vec![(1, 6, 20), (2, 7, 20)]);
        assert_eq!(first, second);
    }

    #[test]
    fn state_and_timers_of_two_workers_restore_at_one_or_three() {
        fn key(e: &(u8, i64)) -> u8 {
            e.0
        }
        let make =
            || KeyedProcessOperator::new(key as fn(&(u8, i64)) -> u8, SumThenFlush, false, clock());
        let parts: Vec<Vec<u8>> = (0..2)
            .map(|w| {
                let owner = crate::state::KeyOwner::new(w, 2);
                let mut op = make();
                let mine = (0..10u8).filter(|k| owner.owns(k));
                let records = mine.map(|k| Record::new(1, (k, i64::from(k)))).collect();
                op.process_batch(records, &mut Vec::new()).unwrap();
                op.snapshot_state().unwrap().unwrap()
            })
            .collect();
        for parallelism in [1, 3] {
            let mut fired = Vec::new();
            for w in 0..parallelism {
                let owner = crate::state::KeyOwner::new(w, parallelism);
                let mut op = make();
                op.restore_rescaled(&parts, owner).unwrap();
                // Odd keys get no new record: only their restored timers fire them.
                let mine = (0..10u8).filter(|k| owner.owns(k) && k % 2 == 0);
                let mut out = Vec::new();
                op.process_batch(mine.map(|k| Record::new(2, (k, 100))).collect(), &mut out)
                    .unwrap();
                op.on_watermark(20, &mut out).unwrap();
                fired.extend(out.into_iter().map(|r| r.value));
            }
            fired.sort();
            let sum = |k: u8| i64::from(k) + if k % 2 == 0 { 100 } else { 0 };
            let expected: Vec<_> = (0..10u8).map(|k| (k, sum(k), 20)).collect();
            assert_eq!(fired, expected, "2 -> {parallelism}");
        }
    }

    #[test]
    fn timers_fire_once_per_time_and_cleared_state_starts_over() {
        let mut op = KeyedProcessOperator::new(|e: &(u8, i64)| e.0, SumThenFlush, false, clock());
        let mut out = Vec::new();
        op.process_batch(
            vec![
                Record::new(1, (1, 5)),
                Record::new(2, (2, 7)),
                Record::new(3, (1, 1)),
            ],
            &mut out,
        )
        .unwrap();
        assert!(out.is_empty());
        op.on_watermark(20, &mut out).unwrap();
        let mut fired: Vec<_> = out.drain(..).map(|r| r.value).collect();
        fired.sort();
        assert_eq!(fired, vec![(1, 6, 20), (2, 7, 20)]);
        op.process_batch(vec![Record::new(25, (1, 100))], &mut out)
            .unwrap();
        op.on_end_of_input(&mut out).unwrap();
        assert_eq!(
            out.into_iter().map(|r| r.value).collect::<Vec<_>>(),
            vec![(1, 100, 20)]
        );
    }
}
