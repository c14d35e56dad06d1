//! Window operators: the state and firing logic for fixed windows (tumbling, sliding)
//! and session windows.

mod fixed;
mod late;
mod local;
mod pane_pool;
mod session;
mod session_set;

pub(crate) use fixed::FixedWindowOperator;
pub(crate) use late::LateOutput;
pub(crate) use local::{local_holds_partials, LocalWindowOperator, MergePartials, Partial};
use pane_pool::PanePool;
pub(crate) use session::SessionWindowOperator;

use super::OutputMode;
use crate::record::Record;
use crate::time::Timestamp;
use crate::window::WindowResult;

/// Settings shared by every window operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowSettings {
    /// How long after its end a window still accepts records (ms).
    pub lateness: i64,
    /// When results are emitted.
    pub mode: OutputMode,
    /// Spark-compatible micro-batch semantics: end of input does not close windows,
    /// and a session record's lateness is judged before merging.
    pub spark: bool,
}

/// The output record of a final window result: event time `end - 1`.
#[inline]
pub(crate) fn result_record<K, V>(
    key: K,
    start: Timestamp,
    end: Timestamp,
    value: V,
) -> Record<WindowResult<K, V>> {
    update_record(key, start, end, value, true)
}

/// The output record of a window result, final or an update of an open window.
#[inline]
pub(crate) fn update_record<K, V>(
    key: K,
    start: Timestamp,
    end: Timestamp,
    value: V,
    is_final: bool,
) -> Record<WindowResult<K, V>> {
    Record {
        ts: end.saturating_sub(1),
        value: WindowResult {
            key,
            window_start: start,
            window_end: end,
            value,
            is_final,
        },
    }
}

#[cfg(test)]
mod snapshot_tests {
    //! A restored operator continues exactly as the one it was snapshotted from.

    use std::sync::Arc;

    use super::*;
    use crate::metrics::OperatorCounters;
    use crate::operator::Operator;
    use crate::record::{Batch, Record};
    use crate::window::aggregate::{Count, Sum};
    use crate::window::assigner::{FixedWindows, SessionSpec};

    type Ev = (u32, i64);
    type Out = WindowResult<u32, (u64, i64)>;

    fn late() -> LateOutput<Ev> {
        LateOutput::new(None, Arc::new(OperatorCounters::default()))
    }

    fn settings(lateness: i64, mode: OutputMode) -> WindowSettings {
        WindowSettings {
            lateness,
            mode,
            spark: false,
        }
    }

    /// Records as (key, ts), then the watermark.
    type Step = (Vec<(u32, i64)>, i64);

    fn steps() -> Vec<Step> {
        vec![
            (vec![(1, 100), (2, 900), (1, 1_500)], 500),
            (vec![(1, 2_100), (2, 1_200), (3, 300)], 1_800),
            (vec![(1, 5_000), (2, 1_900), (1, 2_600)], 4_000),
            (vec![(2, 9_000), (1, 4_100)], 8_000),
        ]
    }

    /// Runs every step, then end of input; returns the results sorted.
    fn drive<O: Operator<In = Ev, Out = Out>>(op: &mut O, steps: &[Step]) -> Vec<Out> {
        let mut values = drive_prefix(op, steps);
        let mut out: Batch<Out> = Vec::new();
        op.on_end_of_input(&mut out).unwrap();
        values.extend(out.into_iter().map(|r| r.value));
        values.sort();
        values
    }

    fn check<O, F>(make: F)
    where
        O: Operator<In = Ev, Out = Out>,
        F: Fn() -> O,
    {
        let steps = steps();
        for cut in 0..=steps.len() {
            let mut original = make();
            let before = drive_prefix(&mut original, &steps[..cut]);
            let bytes = original.snapshot_state().unwrap().unwrap();
            let mut restored = make();
            restored.restore_state(&bytes).unwrap();
            let rest_original = drive(&mut original, &steps[cut..]);
            let rest_restored = drive(&mut restored, &steps[cut..]);
            assert_eq!(rest_original, rest_restored, "cut after step {cut}");
            let mut whole = make();
            let mut all = before;
            all.extend(rest_restored);
            all.sort();
            assert_eq!(all, drive(&mut whole, &steps), "cut after step {cut}");
        }
    }

    /// Runs the steps without ending the input.
    fn drive_prefix<O: Operator<In = Ev, Out = Out>>(op: &mut O, steps: &[Step]) -> Vec<Out> {
        let mut out: Batch<Out> = Vec::new();
        for (records, wm) in steps {
            let batch = records
                .iter()
                .map(|&(k, ts)| Record::new(ts, (k, ts)))
                .collect();
            op.process_batch(batch, &mut out).unwrap();
            op.on_watermark(*wm, &mut out).unwrap();
        }
        out.into_iter().map(|r| r.value).collect()
    }

    type CountAndSum = (Count, Sum<fn(&Ev) -> i64, i64>);

    fn agg() -> CountAndSum {
        (Count, Sum::of(|e: &Ev| e.1))
    }

    type Fixed = FixedWindowOperator<Ev, u32, fn(&Ev) -> u32, CountAndSum>;
    type Session = SessionWindowOperator<Ev, u32, fn(&Ev) -> u32, CountAndSum>;

    fn key(e: &Ev) -> u32 {
        e.0
    }

    /// Fixed-window operators to check: (size, slide, lateness, mode).
    fn fixed_operators() -> impl Iterator<Item = impl Fn() -> Fixed> {
        [
            (1_000, 1_000, 0, OutputMode::Append),
            (2_000, 500, 0, OutputMode::Append),
            (1_000, 1_000, 1_500, OutputMode::Append),
            (2_000, 1_000, 0, OutputMode::Update),
        ]
        .into_iter()
        .map(|(size, slide, lateness, mode)| {
            move || {
                FixedWindowOperator::new(
                    FixedWindows::new(size, slide, 0),
                    settings(lateness, mode),
                    key as fn(&Ev) -> u32,
                    agg(),
                    late(),
                )
            }
        })
    }

    /// Session operators to check: (gap, lateness, mode).
    fn session_operators() -> impl Iterator<Item = impl Fn() -> Session> {
        [
            (700, 0, OutputMode::Append),
            (700, 1_000, OutputMode::Append),
            (500, 0, OutputMode::Update),
        ]
        .into_iter()
        .map(|(gap, lateness, mode)| {
            move || {
                let spec = SessionSpec {
                    gap,
                    max_duration: None,
                    merge_touching: false,
                };
                SessionWindowOperator::new(
                    spec,
                    settings(lateness, mode),
                    key as fn(&Ev) -> u32,
                    agg(),
                    late(),
                )
            }
        })
    }

    #[test]
    fn restored_fixed_window_operators_continue_identically() {
        fixed_operators().for_each(check);
    }

    #[test]
    fn fixed_window_state_restores_at_another_parallelism_key_for_key() {
        fixed_operators().for_each(check_rescaled);
    }

    #[test]
    fn restored_session_operators_continue_identically() {
        session_operators().for_each(check);
    }

    #[test]
    fn session_state_restores_at_another_parallelism_key_for_key() {
        session_operators().for_each(check_rescaled);
    }

    /// Runs `steps` at `parallelism`, each record on the worker owning its key and every
    /// watermark on all; the results of all workers.
    fn drive_workers<O: Operator<In = Ev, Out = Out>>(ops: &mut [O], steps: &[Step]) -> Vec<Out> {
        let parallelism = ops.len();
        let owners = (0..parallelism).map(|w| crate::state::KeyOwner::new(w, parallelism));
        let mut all = Vec::new();
        for (op, owner) in ops.iter_mut().zip(owners) {
            let mine: Vec<Step> = steps
                .iter()
                .map(|(records, wm)| {
                    let records = records.iter().filter(|(k, _)| owner.owns(k)).copied();
                    (records.collect(), *wm)
                })
                .collect();
            all.extend(drive_prefix(op, &mine));
        }
        all
    }

    /// A state taken by two workers and restored at 1, 3 and 4 gives, with what was
    /// emitted before, exactly the results of one uninterrupted operator.
    fn check_rescaled<O, F>(make: F)
    where
        O: Operator<In = Ev, Out = Out>,
        F: Fn() -> O,
    {
        let steps = steps();
        let mut whole = make();
        let expected = drive(&mut whole, &steps);
        for cut in 0..=steps.len() {
            let mut old: Vec<O> = (0..2).map(|_| make()).collect();
            let before = drive_workers(&mut old, &steps[..cut]);
            let parts: Vec<Vec<u8>> = old
                .iter()
                .map(|op| op.snapshot_state().unwrap().unwrap())
                .collect();
            for parallelism in [1, 3, 4] {
                let mut new: Vec<O> = (0..parallelism)
                    .map(|w| {
                        let mut op = make();
                        let owner = crate::state::KeyOwner::new(w, parallelism);
                        op.restore_rescaled(&parts, owner).unwrap();
                        op
                    })
                    .collect();
                let mut rows = before.clone();
                rows.extend(drive_workers(&mut new, &steps[cut..]));
                for op in &mut new {
                    let mut out: Batch<Out> = Vec::new();
                    op.on_end_of_input(&mut out).unwrap();
                    rows.extend(out.into_iter().map(|r| r.value));
                }
                rows.sort();
                assert_eq!(
                    rows, expected,
                    "cut after step {cut}, 2 -> {parallelism} workers"
                );
            }
        }
    }

    #[test]
    fn a_snapshot_of_another_operator_kind_is_rejected_with_the_operator_named() {
        let fixed = FixedWindowOperator::new(
            FixedWindows::new(1_000, 1_000, 0),
            settings(0, OutputMode::Append),
            |e: &Ev| e.0,
            agg(),
            late(),
        );
        let mut session = SessionWindowOperator::new(
            SessionSpec {
                gap: 5,
                max_duration: None,
                merge_touching: false,
            },
            settings(0, OutputMode::Append),
            |e: &Ev| e.0,
            agg(),
            late(),
        );
        let e = session
            .restore_state(&fixed.snapshot_state().unwrap().unwrap())
            .unwrap_err();
        assert!(
            e.to_string().starts_with("state of `window(session)`: "),
            "{e}"
        );
    }
}
