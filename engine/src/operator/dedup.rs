//! `KeyedStream::deduplicate`: streaming deduplication with the watermark evicting
//! state, Spark's `dropDuplicates` and `dropDuplicatesWithinWatermark`.
//!
//! Each record, in arrival order:
//! 1. is late, counted and dropped, iff its event time is at or behind the watermark
//!    (`ts <= watermark`: the record's own time, not a window's end);
//! 2. else is a duplicate, dropped, iff its key is remembered;
//! 3. else passes, and its key is remembered until the watermark reaches the key's
//!    expiry (the first record's time, plus a delay for `within_watermark`).
//!
//! The watermark passes through unchanged. A copy is never let through twice: either
//! its key is still remembered, or the watermark passed the key's expiry, which is at
//! or after the copy's own time, so the copy is late.

use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::Operator;
use crate::error::{EngineError, Result};
use crate::metrics::OperatorCounters;
use crate::record::Batch;
use crate::time::timers::TimerQueue;
use crate::time::{duration_ms, IntoDuration, Timestamp, MIN_WATERMARK};

/// How long [`KeyedStream::deduplicate`](crate::stream::KeyedStream::deduplicate)
/// remembers a key.
///
/// ```
/// use tidewater_engine::prelude::*;
/// use tidewater_engine::operator::Deduplication;
///
/// // (user, event time), deduplicated on both: the first copy of (1, 1_000) is dropped
/// // as a duplicate; once the watermark is at 3 s, (2, 1_500)'s key is forgotten and
/// // its copy is dropped as late.
/// let events = vec![(1u32, 1_000i64), (2, 1_500), (1, 1_000), (3, 4_000), (2, 1_500), (1, 4_500)];
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default().with_parallelism(1).with_batch_size(1));
/// p.source(VecSource::new(events))
///     .with_watermark(Watermark::bounded("1 second", |e: &(u32, i64)| e.1))
///     .key_by(|e: &(u32, i64)| *e)
///     .deduplicate(Deduplication::until_watermark())
///     .sink(out.clone());
/// let metrics = p.run().unwrap();
/// assert_eq!(out.values(), vec![(1, 1_000), (2, 1_500), (3, 4_000), (1, 4_500)]);
/// assert_eq!(metrics.late_dropped, 1);
/// ```
#[derive(Debug, Clone)]
pub struct Deduplication {
    retention: Retention,
}

#[derive(Debug, Clone)]
enum Retention {
    Forever,
    UntilEventTime,
    WithinWatermark(Result<i64>),
}

impl Deduplication {
    /// Keys are remembered until the watermark passes the event time of their first
    /// record: Spark's `dropDuplicates` with the event-time column among the key's
    /// columns. Needs a watermark upstream.
    pub fn until_watermark() -> Self {
        Deduplication {
            retention: Retention::UntilEventTime,
        }
    }

    /// Keys are remembered until the watermark passes their first record's event
    /// time plus `delay`: Spark's `dropDuplicatesWithinWatermark` (with `delay` its
    /// watermark delay), for copies whose event times differ a little. Needs a
    /// watermark upstream.
    pub fn within_watermark(delay: impl IntoDuration) -> Self {
        Deduplication {
            retention: Retention::WithinWatermark(delay.into_duration().map(duration_ms)),
        }
    }

    /// Keys are remembered for the whole run: Spark's `dropDuplicates` on columns
    /// without the event time. State grows with the number of distinct keys. Late
    /// records are still dropped when the stream has a watermark.
    pub fn forever() -> Self {
        Deduplication {
            retention: Retention::Forever,
        }
    }

    /// The delay after a key's first event time at which it is forgotten (`None`:
    /// never); an error naming `operator` for a bad delay.
    pub(crate) fn expiry_delay(&self, operator: &str) -> Result<Option<i64>> {
        match &self.retention {
            Retention::Forever => Ok(None),
            Retention::UntilEventTime => Ok(Some(0)),
            Retention::WithinWatermark(Ok(ms)) if *ms >= 0 => Ok(Some(*ms)),
            Retention::WithinWatermark(Ok(ms)) => Err(EngineError::invalid(
                operator,
                "delay",
                "a duration >= 0",
                format!("{ms} ms"),
            )),
            Retention::WithinWatermark(Err(e)) => Err(e.clone().at(operator, "delay")),
        }
    }

    /// Whether keys expire with the watermark (so one is needed upstream).
    pub(crate) fn needs_watermark(&self) -> bool {
        !matches!(self.retention, Retention::Forever)
    }
}

/// The operator: remembered keys with their expiry, and the expiries in time order.
pub(crate) struct DeduplicateOperator<T, K, KF> {
    key_fn: KF,
    expiry_delay: Option<i64>,
    seen: FxHashMap<K, Timestamp>,
    expiries: TimerQueue<K>,
    watermark: Timestamp,
    counters: Arc<OperatorCounters>,
    _records: PhantomData<fn(T)>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(bound(
    serialize = "K: serde::Serialize + Hash + Eq",
    deserialize = "K: serde::de::DeserializeOwned + Hash + Eq"
))]
struct DedupState<K> {
    seen: FxHashMap<K, Timestamp>,
    expiries: TimerQueue<K>,
    watermark: Timestamp,
}

impl<T, K, KF> DeduplicateOperator<T, K, KF>
where
    K: Hash + Eq + Clone,
    KF: Fn(&T) -> K,
{
    pub fn new(key_fn: KF, expiry_delay: Option<i64>, counters: Arc<OperatorCounters>) -> Self {
        DeduplicateOperator {
            key_fn,
            expiry_delay,
            seen: FxHashMap::default(),
            expiries: TimerQueue::new(),
            watermark: MIN_WATERMARK,
            counters,
            _records: PhantomData,
        }
    }

    /// Whether a record of `key` at `ts` passes; remembers the key if so.
    fn admit(&mut self, key: K, ts: Timestamp) -> bool {
        if self.seen.contains_key(&key) {
            return false;
        }
        let expiry = self.expiry_delay.map(|d| ts.saturating_add(d));
        if let Some(at) = expiry {
            self.expiries.push(at, key.clone());
        }
        self.seen.insert(key, expiry.unwrap_or(Timestamp::MAX));
        true
    }
}

impl<T, K, KF> Operator for DeduplicateOperator<T, K, KF>
where
    T: 'static,
    K: Hash + Eq + Clone + serde::Serialize + serde::de::DeserializeOwned + 'static,
    KF: Fn(&T) -> K + 'static,
{
    type In = T;
    type Out = T;

    fn process_batch(&mut self, input: Batch<T>, output: &mut Batch<T>) -> Result<()> {
        let mut late = 0;
        for r in input {
            if r.ts <= self.watermark {
                late += 1;
                continue;
            }
            let key = (self.key_fn)(&r.value);
            if self.admit(key, r.ts) {
                output.push(r);
            }
        }
        self.counters.add_late(late);
        Ok(())
    }

    fn on_watermark(&mut self, wm: Timestamp, _output: &mut Batch<T>) -> Result<Option<Timestamp>> {
        self.watermark = self.watermark.max(wm);
        while let Some((_, key)) = self.expiries.pop_due(self.watermark) {
            self.seen.remove(&key);
        }
        Ok(Some(wm))
    }

    fn snapshot_state(&self) -> Result<Option<Vec<u8>>> {
        #[derive(serde::Serialize)]
        struct View<'a, K: Hash + Eq> {
            seen: &'a FxHashMap<K, Timestamp>,
            expiries: &'a TimerQueue<K>,
            watermark: Timestamp,
        }
        let view = View {
            seen: &self.seen,
            expiries: &self.expiries,
            watermark: self.watermark,
        };
        crate::state::encode("deduplicate", &view).map(Some)
    }

    fn restore_state(&mut self, bytes: &[u8]) -> Result<()> {
        let state: DedupState<K> = crate::state::decode("deduplicate", bytes)?;
        self.seen = state.seen;
        self.expiries = state.expiries;
        self.watermark = state.watermark;
        Ok(())
    }

    fn restore_rescaled(&mut self, parts: &[Vec<u8>], owner: crate::state::KeyOwner) -> Result<()> {
        let parts: Vec<DedupState<K>> = crate::state::decode_all("deduplicate", parts)?;
        self.watermark = parts
            .iter()
            .map(|p| p.watermark)
            .min()
            .unwrap_or(self.watermark);
        self.seen.clear();
        let mut expiries = Vec::with_capacity(parts.len());
        for part in parts {
            self.seen
                .extend(part.seen.into_iter().filter(|(k, _)| owner.owns(k)));
            expiries.push(part.expiries);
        }
        self.expiries = TimerQueue::rescaled(expiries, |k| owner.owns(k));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    /// One step: records as (key, ts) arriving, then the watermark.
    type Step = (&'static [(u8, i64)], i64);

    /// Runs the steps; returns what passed in each step and the late count.
    fn run(expiry_delay: Option<i64>, steps: &[Step]) -> (Vec<Vec<(u8, i64)>>, u64) {
        let counters = Arc::new(OperatorCounters::default());
        let mut op = DeduplicateOperator::new(|e: &(u8, i64)| e.0, expiry_delay, counters.clone());
        let passed = steps
            .iter()
            .map(|(records, wm)| {
                let mut out = Vec::new();
                let input = records.iter().map(|&(k, ts)| Record::new(ts, (k, ts)));
                op.process_batch(input.collect(), &mut out).unwrap();
                op.on_watermark(*wm, &mut out).unwrap();
                out.into_iter().map(|r| r.value).collect()
            })
            .collect();
        (passed, counters.late())
    }

    #[test]
    fn duplicates_late_records_and_expiry_as_a_table() {
        // (retention, steps, passed per step, late)
        #[allow(clippy::type_complexity)]
        let table: Vec<(Option<i64>, Vec<Step>, Vec<Vec<(u8, i64)>>, u64)> = vec![
            // A copy in the same batch and in a later batch is dropped.
            (
                Some(0),
                vec![(&[(1, 10), (1, 10)], 5), (&[(1, 12)], 6)],
                vec![vec![(1, 10)], vec![]],
                0,
            ),
            // The key expires when the watermark reaches its first time; a later
            // record of the key at or behind the watermark is late, after it passes.
            (
                Some(0),
                vec![(&[(1, 10)], 10), (&[(1, 10), (1, 11)], 11)],
                vec![vec![(1, 10)], vec![(1, 11)]],
                1,
            ),
            // within_watermark keeps the key `delay` longer.
            (
                Some(5),
                vec![(&[(1, 10)], 12), (&[(1, 13)], 15), (&[(1, 16)], 16)],
                vec![vec![(1, 10)], vec![], vec![(1, 16)]],
                0,
            ),
            // Forever: a key once seen never passes again.
            (
                None,
                vec![(&[(1, 10), (2, 3)], 20), (&[(1, 30), (2, 40)], 50)],
                vec![vec![(1, 10), (2, 3)], vec![]],
                0,
            ),
        ];
        for (i, (delay, steps, passed, late)) in table.into_iter().enumerate() {
            assert_eq!(run(delay, &steps), (passed, late), "row {i}");
        }
    }

    #[test]
    fn keys_seen_at_two_workers_stay_seen_at_one_or_three() {
        let counters = Arc::new(OperatorCounters::default());
        let key = |e: &(u8, i64)| e.0;
        let first: Vec<(u8, i64)> = (0..20).map(|k| (k, 10)).collect();
        let parts: Vec<Vec<u8>> = (0..2)
            .map(|w| {
                let owner = crate::state::KeyOwner::new(w, 2);
                let mut op = DeduplicateOperator::new(key, Some(100), counters.clone());
                let mine = first.iter().filter(|(k, _)| owner.owns(k));
                let records = mine.map(|&(k, ts)| Record::new(ts, (k, ts))).collect();
                op.process_batch(records, &mut Vec::new()).unwrap();
                op.on_watermark(5, &mut Vec::new()).unwrap();
                op.snapshot_state().unwrap().unwrap()
            })
            .collect();
        for parallelism in [1, 3] {
            let mut passed = Vec::new();
            for w in 0..parallelism {
                let owner = crate::state::KeyOwner::new(w, parallelism);
                let mut op = DeduplicateOperator::new(key, Some(100), counters.clone());
                op.restore_rescaled(&parts, owner).unwrap();
                // Every old key again, and five new ones; then the keys expire.
                let again = (0..25u8).filter(|k| owner.owns(k));
                let records = again.map(|k| Record::new(20, (k, 20))).collect();
                let mut out = Vec::new();
                op.process_batch(records, &mut out).unwrap();
                op.on_watermark(200, &mut out).unwrap();
                passed.extend(out.into_iter().map(|r| r.value.0));
            }
            passed.sort();
            assert_eq!(passed, (20..25).collect::<Vec<u8>>(), "2 -> {parallelism}");
        }
    }

    #[test]
    fn a_restored_operator_remembers_its_keys_and_expiries() {
        let counters = Arc::new(OperatorCounters::default());
        let key = |e: &(u8, i64)| e.0;
        let mut a = DeduplicateOperator::new(key, Some(0), counters.clone());
        let mut out = Vec::new();
        let records = vec![Record::new(10, (1, 10)), Record::new(20, (2, 20))];
        a.process_batch(records, &mut out).unwrap();
        a.on_watermark(5, &mut out).unwrap();
        let mut b = DeduplicateOperator::new(key, Some(0), counters);
        b.restore_state(&a.snapshot_state().unwrap().unwrap())
            .unwrap();
        for op in [&mut a, &mut b] {
            let mut out = Vec::new();
            op.on_watermark(15, &mut out).unwrap();
            let again = vec![Record::new(16, (1, 16)), Record::new(21, (2, 21))];
            op.process_batch(again, &mut out).unwrap();
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].value, (1, 16));
        }
    }

    proptest::proptest! {
        /// Deduplicating on (key, event time) with `until_watermark`, in batches with a
        /// watermark after each: a record passes iff it is ahead of the watermark in
        /// force at its arrival and no record with its key passed before (a key's state
        /// expires only when the watermark passes its time, which makes its copies late).
        #[test]
        fn until_watermark_on_key_and_time_matches_the_first_arrival_model(
            batches in proptest::collection::vec(
                (proptest::collection::vec((0u8..4, 0i64..40), 0..12), 0i64..50),
                1..12,
            ),
        ) {
            let counters = Arc::new(OperatorCounters::default());
            let mut op = DeduplicateOperator::new(|e: &(u8, i64)| *e, Some(0), counters.clone());
            let (mut model, mut passed_model) = (Vec::new(), std::collections::HashSet::new());
            let (mut ours, mut wm, mut late) = (Vec::new(), MIN_WATERMARK, 0u64);
            for (records, next_wm) in &batches {
                for &(k, ts) in records {
                    if ts <= wm {
                        late += 1;
                    } else if passed_model.insert((k, ts)) {
                        model.push((k, ts));
                    }
                }
                let input = records.iter().map(|&(k, ts)| Record::new(ts, (k, ts))).collect();
                op.process_batch(input, &mut ours).unwrap();
                op.on_watermark(*next_wm, &mut ours).unwrap();
                wm = wm.max(*next_wm);
            }
            let ours: Vec<(u8, i64)> = ours.into_iter().map(|r| r.value).collect();
            proptest::prop_assert_eq!(ours, model);
            proptest::prop_assert_eq!(counters.late(), late);
        }
    }
}
