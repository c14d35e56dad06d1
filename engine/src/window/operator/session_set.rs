//! One key's open sessions and how a record joins them: pure logic, apart from the
//! operator that owns the per-key map and the timers.
//!
//! Sessions are kept sorted by start. A record at `ts` proposes the session
//! `[ts, ts + gap)`; every open session it overlaps (or touches, when touching sessions
//! merge) is merged with it into one, accumulators included. Without a maximum
//! duration, sessions never overlap each other.

use smallvec::SmallVec;

use crate::time::Timestamp;
use crate::window::assigner::SessionSpec;

/// One key's sessions, sorted by start. Most keys have one open session at a time, so
/// it is stored inline in the key's map entry (no allocation, no pointer to chase).
pub(crate) type SessionList<Acc> = SmallVec<[Session<Acc>; 1]>;

/// One session of one key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Session<Acc> {
    pub start: Timestamp,
    /// Exclusive end: last event time + gap.
    pub end: Timestamp,
    pub acc: Acc,
    /// Emitted at least once (append mode with allowed lateness keeps fired sessions).
    pub fired: bool,
    /// Changed since the last trigger.
    pub dirty: bool,
}

/// Where a record went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// It extended or merged existing sessions; `refire` if a merged one had fired,
    /// `new_end` if the session's end moved.
    Merged {
        refire: bool,
        new_end: Option<Timestamp>,
    },
    /// It started a new session ending at `end` (needs a timer).
    Created { end: Timestamp },
    /// The session it would belong to is already closed: late.
    Late,
}

#[inline(always)]
fn overlaps(spec: &SessionSpec, start: Timestamp, end: Timestamp, ts: Timestamp) -> bool {
    let proposed_end = ts.saturating_add(spec.gap);
    if spec.merge_touching {
        start <= proposed_end && ts <= end
    } else {
        start < proposed_end && ts < end
    }
}

/// Adds the record at `ts` to `sessions`.
///
/// `is_late(end)` says whether a session ending at `end` is already closed; `fold` adds
/// the record to an accumulator, `merge` folds one accumulator into another. A fired
/// session that the record stretches past `watermark` is open again: it fires when the
/// watermark reaches its new end.
// The accumulator steps are closures so the per-record path inlines the aggregate;
// bundling them into a struct would only rename the arguments.
#[allow(clippy::too_many_arguments)]
pub(crate) fn place<Acc: Clone>(
    sessions: &mut SessionList<Acc>,
    spec: &SessionSpec,
    ts: Timestamp,
    watermark: Timestamp,
    is_late: impl Fn(Timestamp) -> bool,
    create: impl FnOnce() -> Acc,
    fold: impl FnOnce(&mut Acc),
    merge: impl Fn(&mut Acc, &Acc),
) -> Placement {
    let proposed_end = ts.saturating_add(spec.gap);
    let too_long = |start: Timestamp, end: Timestamp| {
        spec.max_duration
            .is_some_and(|max| end.saturating_sub(start) > max)
    };
    // Fast path for ordered input: the record extends the newest session or follows it.
    if let Some(last) = sessions.last_mut() {
        if ts >= last.start && overlaps(spec, last.start, last.end, ts) {
            let end = last.end.max(proposed_end);
            if !too_long(last.start, end) {
                let mut new_end = (end != last.end).then_some(end);
                last.end = end;
                fold(&mut last.acc);
                last.dirty = true;
                if last.fired && end > watermark {
                    // A late record stretched a fired session past the watermark: it is
                    // open again and fires when the watermark reaches its new end.
                    last.fired = false;
                    new_end = Some(end);
                }
                return Placement::Merged {
                    refire: last.fired,
                    new_end,
                };
            }
        } else if ts > last.start && !overlaps(spec, last.start, last.end, ts) {
            return create_session(sessions, ts, proposed_end, is_late, create, fold);
        }
    }
    let (mut start, mut end, mut any) = (ts, proposed_end, false);
    for s in sessions
        .iter()
        .filter(|s| overlaps(spec, s.start, s.end, ts))
    {
        start = start.min(s.start);
        end = end.max(s.end);
        any = true;
    }
    if !any || too_long(start, end) {
        return create_session(sessions, ts, proposed_end, is_late, create, fold);
    }
    if is_late(end) {
        return Placement::Late;
    }
    let mut merged: Option<Session<Acc>> = None;
    let mut previous_end = Timestamp::MIN;
    sessions.retain(|s| {
        if !overlaps(spec, s.start, s.end, ts) {
            return true;
        }
        previous_end = previous_end.max(s.end);
        match merged.as_mut() {
            None => merged = Some(s.clone()),
            Some(m) => {
                merge(&mut m.acc, &s.acc);
                m.fired |= s.fired;
            }
        }
        false
    });
    let Some(mut m) = merged else {
        return create_session(sessions, ts, proposed_end, is_late, create, fold);
    };
    m.start = start;
    m.end = end;
    m.dirty = true;
    fold(&mut m.acc);
    let mut new_end = (end != previous_end).then_some(end);
    if m.fired && end > watermark {
        // A late record bridged a fired session with one still open: the merged
        // session is not complete; it fires (and later expires) from its new end.
        m.fired = false;
        new_end = Some(end);
    }
    let refire = m.fired;
    let at = sessions.partition_point(|s| s.start <= m.start);
    sessions.insert(at, m);
    Placement::Merged { refire, new_end }
}

fn create_session<Acc>(
    sessions: &mut SessionList<Acc>,
    ts: Timestamp,
    end: Timestamp,
    is_late: impl Fn(Timestamp) -> bool,
    create: impl FnOnce() -> Acc,
    fold: impl FnOnce(&mut Acc),
) -> Placement {
    if is_late(end) {
        return Placement::Late;
    }
    let mut acc = create();
    fold(&mut acc);
    let session = Session {
        start: ts,
        end,
        acc,
        fired: false,
        dirty: true,
    };
    let at = sessions.partition_point(|s| s.start <= ts);
    sessions.insert(at, session);
    Placement::Created { end }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(gap: i64, touching: bool) -> SessionSpec {
        SessionSpec {
            gap,
            max_duration: None,
            merge_touching: touching,
        }
    }

    /// Places each ts (count accumulators) and returns the sessions as (start, end, count).
    fn run(spec: SessionSpec, times: &[i64]) -> Vec<(i64, i64, u64)> {
        let mut sessions: SessionList<u64> = SessionList::new();
        for &ts in times {
            place(
                &mut sessions,
                &spec,
                ts,
                i64::MIN,
                |_| false,
                || 0,
                |a| *a += 1,
                |a, b| *a += *b,
            );
        }
        sessions.iter().map(|s| (s.start, s.end, s.acc)).collect()
    }

    #[test]
    fn sessions_form_merge_and_bridge() {
        // (gap, touching merges, arrival order, sessions)
        type Case<'a> = (i64, bool, &'a [i64], &'a [(i64, i64, u64)]);
        let cases: &[Case] = &[
            (10, false, &[0, 5, 30], &[(0, 15, 2), (30, 40, 1)]),
            // exactly gap apart: separate unless touching merges
            (10, false, &[0, 10], &[(0, 10, 1), (10, 20, 1)]),
            (10, true, &[0, 10], &[(0, 20, 2)]),
            // out of order: extends backwards
            (10, false, &[30, 25], &[(25, 40, 2)]),
            // a late arrival bridges two sessions into one
            (10, false, &[0, 12, 5], &[(0, 22, 3)]),
            // an earlier, separate session arriving later
            (10, false, &[50, 0], &[(0, 10, 1), (50, 60, 1)]),
            // same time as an older session's only record, arriving after a newer one
            (10, false, &[0, 50, 0], &[(0, 10, 2), (50, 60, 1)]),
        ];
        for (gap, touching, times, expected) in cases {
            assert_eq!(
                run(spec(*gap, *touching), times),
                expected.to_vec(),
                "{times:?}"
            );
        }
    }

    #[test]
    fn max_duration_starts_a_new_session() {
        let spec = SessionSpec {
            gap: 10,
            max_duration: Some(25),
            merge_touching: false,
        };
        // 0..=15 spans [0, 25); 20 would stretch it to [0, 30) > 25
        assert_eq!(run(spec, &[0, 8, 15, 20]), vec![(0, 25, 3), (20, 30, 1)]);
    }

    #[test]
    fn a_record_whose_merged_session_is_closed_is_late() {
        let spec = spec(10, false);
        let mut sessions: SessionList<u64> = SessionList::new();
        let closed_before = |end: i64| end <= 100;
        let mut add = |ts| {
            place(
                &mut sessions,
                &spec,
                ts,
                100,
                closed_before,
                || 0,
                |a| *a += 1,
                |a, b| *a += *b,
            )
        };
        assert_eq!(add(95), Placement::Created { end: 105 });
        // alone it would end at 96 <= 100, but it joins the open session [95, 105)
        assert_eq!(
            add(86),
            Placement::Merged {
                refire: false,
                new_end: None
            }
        );
        // [76, 86) only touches [86, 105): it would be a session of its own, closed
        assert_eq!(add(76), Placement::Late);
        assert_eq!(add(50), Placement::Late);
    }
}
