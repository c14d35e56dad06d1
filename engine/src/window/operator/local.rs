//! The local half of local-global (two-phase) aggregation for tumbling and sliding
//! windows at parallelism > 1.
//!
//! Without it, every record crosses the hash exchange to the worker that owns its key,
//! and at a few nanoseconds of window work per record that copy between cores costs
//! more than the work. With it, each worker folds its own records into one partial
//! accumulator per key and pane ([`LocalWindowOperator`]); when its watermark passes a
//! pane's end (or it goes idle, or its input ends) it sends the pane's partials through
//! the exchange, ahead of the watermark itself. The owning worker's ordinary
//! [`FixedWindowOperator`](super::FixedWindowOperator) merges them with
//! [`MergePartials`], treating a partial exactly as a record of its pane: the same
//! firing at the combined watermark, the same lateness rule, late partials counted as
//! the number of records they hold.
//!
//! The local half never drops anything: a record behind its own worker's watermark
//! becomes a partial of its own, sent at the end of its batch (where the record itself
//! would have gone), and the global half decides whether it is late, against the
//! watermark combined over all workers, as it would have for the record itself.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::marker::PhantomData;

use rustc_hash::FxHashMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{LateOutput, PanePool};
use crate::error::Result;
use crate::operator::{Control, Operator};
use crate::record::{Batch, Record};
use crate::state::{decode, decode_all, encode, KeyOwner};
use crate::time::{Timestamp, MAX_WATERMARK, MIN_WATERMARK, NO_TIMESTAMP};
use crate::window::assigner::FixedWindows;
use crate::window::Aggregate;

/// One worker's partial aggregate of one key and pane; its record's event time is the
/// pane's start.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Partial<K, Acc> {
    pub key: K,
    pub acc: Acc,
    /// How many records were folded into `acc`.
    pub records: u64,
}

impl<K, Acc> Partial<K, Acc> {
    /// The late-record weight of a partial: the records it holds.
    pub fn records(partial: &Self) -> u64 {
        partial.records
    }
}

/// Partial accumulators per pane start and key, with their record counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "K: Serialize + Hash + Eq, Acc: Serialize",
    deserialize = "K: Deserialize<'de> + Hash + Eq, Acc: Deserialize<'de>"
))]
struct LocalPanes<K, Acc> {
    panes: BTreeMap<Timestamp, FxHashMap<K, (Acc, u64)>>,
    /// This worker's last watermark.
    watermark: Timestamp,
}

/// Folds one worker's records into partial accumulators per key and pane.
pub(crate) struct LocalWindowOperator<T, K, KF, A: Aggregate<T>> {
    spec: FixedWindows,
    key_fn: KF,
    agg: A,
    state: LocalPanes<K, A::Acc>,
    pool: PanePool<K, (A::Acc, u64)>,
    /// Records without an event time belong to no window: counted late here, since
    /// they never reach the global half.
    late: LateOutput<T>,
}

impl<T, K, KF, A> LocalWindowOperator<T, K, KF, A>
where
    K: Hash + Eq,
    A: Aggregate<T>,
{
    pub fn new(spec: FixedWindows, key_fn: KF, agg: A, late: LateOutput<T>) -> Self {
        LocalWindowOperator {
            spec,
            key_fn,
            agg,
            state: LocalPanes {
                panes: BTreeMap::new(),
                watermark: MIN_WATERMARK,
            },
            pool: PanePool::default(),
            late,
        }
    }

    /// Sends the partials of every pane that ends at or before `wm`.
    fn flush_until(&mut self, wm: Timestamp, output: &mut Batch<Partial<K, A::Acc>>) {
        while let Some(entry) = self.state.panes.first_entry() {
            let start = *entry.key();
            if start.saturating_add(self.spec.pane) > wm {
                break;
            }
            let mut pane = entry.remove();
            output.reserve(pane.len());
            for (key, (acc, records)) in pane.drain() {
                output.push(Record::new(start, Partial { key, acc, records }));
            }
            self.pool.give(pane);
        }
    }
}

impl<T, K, KF, A> Operator for LocalWindowOperator<T, K, KF, A>
where
    T: 'static,
    K: Hash + Eq + Serialize + DeserializeOwned + 'static,
    KF: Fn(&T) -> K + 'static,
    A: Aggregate<T>,
{
    type In = T;
    type Out = Partial<K, A::Acc>;

    fn process_batch(
        &mut self,
        input: Batch<T>,
        output: &mut Batch<Self::Out>,
    ) -> crate::error::Result<()> {
        let LocalWindowOperator {
            spec,
            key_fn,
            agg,
            state,
            pool,
            late,
        } = self;
        // As in the fixed-window operator: the pane of the previous record is reused
        // while records stay in it.
        let (mut lo, mut hi) = (MAX_WATERMARK, MIN_WATERMARK);
        let mut current: Option<&mut FxHashMap<K, (A::Acc, u64)>> = None;
        for r in input {
            if r.ts == NO_TIMESTAMP {
                late.reject(r);
                continue;
            }
            if r.ts < lo || r.ts >= hi {
                let start = spec.pane_start(r.ts);
                lo = start;
                hi = start.saturating_add(spec.pane);
                current = Some(state.panes.entry(start).or_insert_with(|| pool.take()));
            }
            if let Some(pane) = current.as_deref_mut() {
                let (acc, records) = pane
                    .entry(key_fn(&r.value))
                    .or_insert_with(|| (agg.create(), 0));
                agg.add(acc, &r.value, r.ts);
                *records += 1;
            }
        }
        late.flush()?;
        // Records behind this worker's watermark go on at once, where the records
        // themselves would have gone: holding them until the next watermark could let
        // the combined watermark pass their window in between, and turn records that
        // the single-phase plan accepts into late ones.
        let wm = self.state.watermark;
        self.flush_until(wm, output);
        Ok(())
    }

    fn on_watermark(
        &mut self,
        wm: Timestamp,
        output: &mut Batch<Self::Out>,
    ) -> crate::error::Result<Option<Timestamp>> {
        self.state.watermark = self.state.watermark.max(wm);
        self.flush_until(self.state.watermark, output);
        Ok(Some(wm))
    }

    fn on_control(
        &mut self,
        control: Control,
        output: &mut Batch<Self::Out>,
    ) -> crate::error::Result<Option<Control>> {
        // An idle worker stops holding back the combined watermark, so what it holds
        // must reach the owners before windows fire without it.
        if control == Control::Idle {
            self.flush_until(MAX_WATERMARK, output);
        }
        Ok(Some(control))
    }

    fn on_end_of_input(&mut self, output: &mut Batch<Self::Out>) -> crate::error::Result<()> {
        self.flush_until(MAX_WATERMARK, output);
        self.late.flush()?;
        Ok(())
    }

    /// Partials go on ahead of the barrier, so the local half's checkpointed state is
    /// only its watermark: the plan at parallelism 1, which has no local half, can
    /// take over a checkpoint of a run at 2 (the partials are in the global half's
    /// state by then).
    fn before_barrier(&mut self, _id: u64, output: &mut Batch<Self::Out>) -> Result<()> {
        self.flush_until(MAX_WATERMARK, output);
        Ok(())
    }

    fn on_barrier(&mut self, id: u64) -> Result<()> {
        self.late.barrier(id)
    }

    fn snapshot_state(&self) -> Result<Option<Vec<u8>>> {
        encode("local window", &self.state).map(Some)
    }

    fn restore_state(&mut self, bytes: &[u8]) -> Result<()> {
        self.state = decode("local window", bytes)?;
        Ok(())
    }

    /// Partials are not tied to a worker (any worker folds any key before the
    /// exchange), so each new worker takes the partials of the keys it owns, merging
    /// those two old workers both held.
    fn restore_rescaled(&mut self, parts: &[Vec<u8>], owner: KeyOwner) -> Result<()> {
        let parts: Vec<LocalPanes<K, A::Acc>> = decode_all("local window", parts)?;
        let watermark = parts
            .iter()
            .map(|p| p.watermark)
            .min()
            .unwrap_or(MIN_WATERMARK);
        let mut panes: BTreeMap<Timestamp, FxHashMap<K, (A::Acc, u64)>> = BTreeMap::new();
        for part in parts {
            for (start, keys) in part.panes {
                let pane = panes.entry(start).or_default();
                for (key, (acc, records)) in keys.into_iter().filter(|(k, _)| owner.owns(k)) {
                    match pane.entry(key) {
                        std::collections::hash_map::Entry::Occupied(mut held) => {
                            let held = held.get_mut();
                            self.agg.merge(&mut held.0, &acc);
                            held.1 += records;
                        }
                        std::collections::hash_map::Entry::Vacant(slot) => {
                            slot.insert((acc, records));
                        }
                    }
                }
            }
        }
        panes.retain(|_, keys| !keys.is_empty());
        self.state = LocalPanes { panes, watermark };
        Ok(())
    }
}

/// True if any of `parts` (checkpointed states of local halves) holds partials.
pub(crate) fn local_holds_partials<K, Acc>(parts: &[Vec<u8>]) -> Result<bool>
where
    K: Hash + Eq + DeserializeOwned,
    Acc: DeserializeOwned,
{
    let parts: Vec<Vec<u8>> = parts.iter().filter(|p| !p.is_empty()).cloned().collect();
    let states: Vec<LocalPanes<K, Acc>> = decode_all("local window", &parts)?;
    Ok(states.iter().any(|s| !s.panes.is_empty()))
}

/// The global half's aggregate: merges partial accumulators of `A`.
pub(crate) struct MergePartials<A, T> {
    agg: A,
    _input: PhantomData<fn(&T)>,
}

impl<A: Clone, T> Clone for MergePartials<A, T> {
    fn clone(&self) -> Self {
        MergePartials {
            agg: self.agg.clone(),
            _input: PhantomData,
        }
    }
}

impl<A, T> MergePartials<A, T> {
    pub fn new(agg: A) -> Self {
        MergePartials {
            agg,
            _input: PhantomData,
        }
    }
}

impl<T, K, A> Aggregate<Partial<K, A::Acc>> for MergePartials<A, T>
where
    T: 'static,
    K: 'static,
    A: Aggregate<T>,
{
    type Acc = A::Acc;
    type Out = A::Out;

    fn create(&self) -> A::Acc {
        self.agg.create()
    }

    #[inline]
    fn add(&self, acc: &mut A::Acc, partial: &Partial<K, A::Acc>, _ts: Timestamp) {
        self.agg.merge(acc, &partial.acc);
    }

    fn merge(&self, acc: &mut A::Acc, other: &A::Acc) {
        self.agg.merge(acc, other);
    }

    fn finish(&self, acc: &A::Acc) -> A::Out {
        self.agg.finish(acc)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::metrics::OperatorCounters;
    use crate::window::aggregate::{Count, Sum};

    type Ev = (u32, i64);
    /// Count and sum of the event times.
    type CountSum = (Count, Sum<fn(&Ev) -> i64, i64>);

    fn count_sum() -> CountSum {
        (Count, Sum::of((|e: &Ev| e.1) as fn(&Ev) -> i64))
    }

    fn local(spec: FixedWindows) -> LocalWindowOperator<Ev, u32, fn(&Ev) -> u32, CountSum> {
        let late = LateOutput::new(None, Arc::new(OperatorCounters::default()));
        LocalWindowOperator::new(spec, (|e: &Ev| e.0) as fn(&Ev) -> u32, count_sum(), late)
    }

    fn batch(events: &[Ev]) -> Batch<Ev> {
        events.iter().map(|&e| Record::new(e.1, e)).collect()
    }

    fn sorted(out: Batch<Partial<u32, (u64, i64)>>) -> Vec<(i64, u32, u64, i64, u64)> {
        let mut rows: Vec<_> = out
            .into_iter()
            .map(|r| {
                (
                    r.ts,
                    r.value.key,
                    r.value.acc.0,
                    r.value.acc.1,
                    r.value.records,
                )
            })
            .collect();
        rows.sort_unstable();
        rows
    }

    #[test]
    fn a_barrier_sends_every_partial_on_and_leaves_only_the_watermark() {
        let mut op = local(FixedWindows::new(10, 10, 0));
        let mut out = Batch::new();
        op.process_batch(batch(&[(1, 3), (2, 15), (1, 27)]), &mut out)
            .unwrap();
        assert!(out.is_empty());
        let before = op.snapshot_state().unwrap().unwrap();
        assert!(local_holds_partials::<u32, (u64, i64)>(&[before]).unwrap());
        op.before_barrier(1, &mut out).unwrap();
        assert_eq!(
            sorted(out),
            vec![(0, 1, 1, 3, 1), (10, 2, 1, 15, 1), (20, 1, 1, 27, 1)]
        );
        let after = op.snapshot_state().unwrap().unwrap();
        assert!(!local_holds_partials::<u32, (u64, i64)>(&[after, Vec::new()]).unwrap());
    }

    #[test]
    fn panes_are_sent_when_the_watermark_passes_their_end() {
        // Sliding 10 / 5: panes of 5 ms.
        let mut op = local(FixedWindows::new(10, 5, 0));
        let mut out = Vec::new();
        op.process_batch(batch(&[(1, 1), (1, 4), (2, 3), (1, 7), (2, 12)]), &mut out)
            .unwrap();
        assert!(out.is_empty());
        assert_eq!(op.on_watermark(4, &mut out).unwrap(), Some(4));
        assert!(out.is_empty(), "pane [0, 5) is still open at watermark 4");
        op.on_watermark(10, &mut out).unwrap();
        // (pane start, key, count, sum, records)
        assert_eq!(
            sorted(std::mem::take(&mut out)),
            vec![(0, 1, 2, 5, 2), (0, 2, 1, 3, 1), (5, 1, 1, 7, 1)]
        );
        // A record behind the watermark is not dropped here: it goes on at once, as a
        // partial of its own, and the owner decides whether it is late.
        op.process_batch(batch(&[(1, 2)]), &mut out).unwrap();
        assert_eq!(sorted(std::mem::take(&mut out)), vec![(0, 1, 1, 2, 1)]);
        op.on_end_of_input(&mut out).unwrap();
        assert_eq!(sorted(out), vec![(10, 2, 1, 12, 1)]);
    }

    #[test]
    fn an_idle_worker_sends_everything_it_holds() {
        let mut op = local(FixedWindows::new(10, 10, 0));
        let mut out = Vec::new();
        op.process_batch(batch(&[(3, 25)]), &mut out).unwrap();
        assert_eq!(
            op.on_control(Control::Idle, &mut out).unwrap(),
            Some(Control::Idle)
        );
        assert_eq!(sorted(out), vec![(20, 3, 1, 25, 1)]);
    }

    #[test]
    fn a_restored_operator_sends_the_partials_of_the_snapshot() {
        let mut op = local(FixedWindows::new(10, 10, 0));
        let mut out = Vec::new();
        op.process_batch(batch(&[(1, 1), (1, 2), (2, 15)]), &mut out)
            .unwrap();
        let bytes = op.snapshot_state().unwrap().unwrap();
        let mut restored = local(FixedWindows::new(10, 10, 0));
        restored.restore_state(&bytes).unwrap();
        restored.on_end_of_input(&mut out).unwrap();
        assert_eq!(sorted(out), vec![(0, 1, 2, 3, 2), (10, 2, 1, 15, 1)]);
    }

    #[test]
    fn partials_of_two_workers_restore_at_one_or_three_merged_per_key() {
        // Both old workers folded key 1 (a local half takes any key); key 2 only one.
        let inputs: [&[Ev]; 2] = [&[(1, 1), (2, 15)], &[(1, 2), (1, 4)]];
        let parts: Vec<Vec<u8>> = inputs
            .iter()
            .map(|events| {
                let mut op = local(FixedWindows::new(10, 10, 0));
                op.process_batch(batch(events), &mut Vec::new()).unwrap();
                op.snapshot_state().unwrap().unwrap()
            })
            .collect();
        for parallelism in [1, 3] {
            let mut out = Vec::new();
            for w in 0..parallelism {
                let mut op = local(FixedWindows::new(10, 10, 0));
                op.restore_rescaled(&parts, KeyOwner::new(w, parallelism))
                    .unwrap();
                op.on_end_of_input(&mut out).unwrap();
            }
            // (pane start, key, count, sum, records)
            let expected = vec![(0, 1, 3, 7, 3), (10, 2, 1, 15, 1)];
            assert_eq!(sorted(out), expected, "2 -> {parallelism}");
        }
    }

    #[test]
    fn records_without_event_time_are_counted_late_at_once() {
        let counters = Arc::new(OperatorCounters::default());
        let mut op = LocalWindowOperator::new(
            FixedWindows::new(10, 10, 0),
            |e: &Ev| e.0,
            Count,
            LateOutput::new(None, counters.clone()),
        );
        let mut out = Vec::new();
        op.process_batch(
            vec![Record::new(NO_TIMESTAMP, (1, 0)), Record::new(3, (1, 3))],
            &mut out,
        )
        .unwrap();
        op.on_end_of_input(&mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(counters.late(), 1);
    }

    mod equivalence {
        //! Two workers' records through local + global halves give what the same
        //! records give through one fixed-window operator behind the exchange: the same
        //! results and the same late count, for any watermarks and lateness.

        use proptest::prelude::*;

        use super::*;
        use crate::window::operator::{FixedWindowOperator, WindowSettings};
        use crate::window::{OutputMode, WindowResult};

        type Acc = (u64, i64);
        type Row = (u32, i64, i64, u64, i64);

        /// One step of one worker: its batch of (key, ts), then its watermark (its
        /// largest event time so far minus its delay) if that advanced.
        #[derive(Debug, Clone)]
        struct Step {
            worker: usize,
            batch: Vec<(u32, i64)>,
        }

        fn steps() -> impl Strategy<Value = Vec<Step>> {
            prop::collection::vec(
                (0usize..2, prop::collection::vec((0u32..4, 0i64..200), 0..6))
                    .prop_map(|(worker, batch)| Step { worker, batch }),
                0..40,
            )
        }

        fn rows(out: Batch<WindowResult<u32, Acc>>) -> Vec<Row> {
            let mut rows: Vec<Row> = out
                .into_iter()
                .map(|r| {
                    let w = r.value;
                    (w.key, w.window_start, w.window_end, w.value.0, w.value.1)
                })
                .collect();
            rows.sort_unstable();
            rows
        }

        /// Runs the steps both ways; returns (rows, late) of each.
        fn both(
            spec: FixedWindows,
            lateness: i64,
            delays: [i64; 2],
            steps: &[Step],
        ) -> ((Vec<Row>, u64), (Vec<Row>, u64)) {
            let settings = WindowSettings {
                lateness,
                mode: OutputMode::Append,
                spark: false,
            };
            let (late_a, late_b) = (
                Arc::new(OperatorCounters::default()),
                Arc::new(OperatorCounters::default()),
            );
            let mut single = FixedWindowOperator::new(
                spec,
                settings,
                |e: &Ev| e.0,
                count_sum(),
                LateOutput::new(None, late_a.clone()),
            );
            let mut locals: Vec<_> = (0..2)
                .map(|_| {
                    LocalWindowOperator::new(
                        spec,
                        |e: &Ev| e.0,
                        count_sum(),
                        LateOutput::new(None, late_b.clone()),
                    )
                })
                .collect();
            let mut global = FixedWindowOperator::new(
                spec,
                settings,
                |p: &Partial<u32, Acc>| p.key,
                MergePartials::new(count_sum()),
                LateOutput::new(None, late_b.clone()).weighted(Partial::records),
            );
            let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
            let mut max_ts = [MIN_WATERMARK; 2];
            let mut emitted = [MIN_WATERMARK; 2];
            let mut combined = MIN_WATERMARK;
            for step in steps {
                let w = step.worker;
                single
                    .process_batch(batch(&step.batch), &mut out_a)
                    .unwrap();
                let mut partials = Vec::new();
                locals[w]
                    .process_batch(batch(&step.batch), &mut partials)
                    .unwrap();
                for &(_, ts) in &step.batch {
                    max_ts[w] = max_ts[w].max(ts);
                }
                let wm = |w: usize| max_ts[w].saturating_sub(delays[w]);
                // As the watermark assigner does: a watermark only when it advances.
                if wm(w) > emitted[w] {
                    emitted[w] = wm(w);
                    locals[w].on_watermark(wm(w), &mut partials).unwrap();
                }
                global.process_batch(partials, &mut out_b).unwrap();
                let now = wm(0).min(wm(1));
                if now > combined {
                    combined = now;
                    single.on_watermark(now, &mut out_a).unwrap();
                    global.on_watermark(now, &mut out_b).unwrap();
                }
            }
            single.on_end_of_input(&mut out_a).unwrap();
            for local in &mut locals {
                let mut partials = Vec::new();
                local.on_end_of_input(&mut partials).unwrap();
                global.process_batch(partials, &mut out_b).unwrap();
            }
            global.on_end_of_input(&mut out_b).unwrap();
            ((rows(out_a), late_a.late()), (rows(out_b), late_b.late()))
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            #[test]
            fn two_phase_equals_single_phase(
                steps in steps(),
                (size, slide) in prop_oneof![
                    (1i64..60).prop_map(|s| (s, s)),
                    (1i64..20, 1i64..5).prop_map(|(slide, n)| (slide * n, slide)),
                ],
                offset in 0i64..1_000,
                lateness in prop_oneof![Just(0i64), 0i64..80],
                delays in [0i64..50, 0i64..50],
            ) {
                let spec = FixedWindows::new(size, slide, offset % slide);
                let (single, two_phase) = both(spec, lateness, delays, &steps);
                prop_assert_eq!(single, two_phase);
            }
        }

        #[test]
        fn a_late_partial_counts_every_record_it_holds() {
            // Worker 1 runs ahead to 100; worker 0 then sends three records of window
            // [0, 10) behind its own watermark and the combined one.
            let steps = [
                Step {
                    worker: 0,
                    batch: vec![(1, 50)],
                },
                Step {
                    worker: 1,
                    batch: vec![(1, 100)],
                },
                Step {
                    worker: 0,
                    batch: vec![(1, 3), (1, 4), (2, 5)],
                },
            ];
            let (single, two_phase) = both(FixedWindows::new(10, 10, 0), 0, [0, 0], &steps);
            assert_eq!(single.1, 3);
            assert_eq!(two_phase, single);
        }
    }
}
