//! State and firing of session windows: per key, the open sessions; timers fire them
//! when the watermark passes their end.
//!
//! Whenever the time a session needs attention moves (created, extended, merged, fired
//! with lateness to wait out), a timer is set for the new time, so every session always
//! has a timer at exactly that time. For ordered input the new times only grow and the
//! timers go to a FIFO; a due timer whose session has since moved finds nothing to do.

use std::hash::Hash;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::state::{decode, decode_all, encode, KeyOwner};

use std::collections::hash_map::Entry;

use super::session_set::{place, Placement, SessionList};
use super::{result_record, update_record, LateOutput, WindowSettings};
use crate::operator::Operator;
use crate::record::Batch;
use crate::time::timers::TimerQueue;
use crate::time::{Timestamp, MAX_WATERMARK, MIN_WATERMARK, NO_TIMESTAMP};
use crate::window::assigner::SessionSpec;
use crate::window::{Aggregate, OutputMode, WindowResult};

/// When a session next needs attention: its end until it fired (append mode), then
/// its end plus the allowed lateness, when it is dropped.
fn next_time(settings: &WindowSettings, end: Timestamp, fired: bool) -> Timestamp {
    if settings.mode == OutputMode::Append && !fired {
        end
    } else {
        end.saturating_add(settings.lateness)
    }
}

/// Everything a session operator knows about the data it has seen: plain data,
/// serializable whenever the keys and accumulators are, so a checkpoint can store it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "K: Serialize + Hash + Eq, Acc: Serialize",
    deserialize = "K: Deserialize<'de> + Hash + Eq, Acc: Deserialize<'de>"
))]
pub(crate) struct SessionWindowState<K, Acc> {
    /// Open (and, with allowed lateness, fired but not yet dropped) sessions per key.
    pub sessions: FxHashMap<K, SessionList<Acc>>,
    /// Pending event-time timers.
    pub timers: TimerQueue<K>,
    /// Keys with sessions changed since the last trigger that must be re-emitted.
    pub dirty_keys: FxHashSet<K>,
    /// The last watermark received.
    pub watermark: Timestamp,
}

impl<K, Acc> Default for SessionWindowState<K, Acc> {
    fn default() -> Self {
        SessionWindowState {
            sessions: FxHashMap::default(),
            timers: TimerQueue::new(),
            dirty_keys: FxHashSet::default(),
            watermark: MIN_WATERMARK,
        }
    }
}

impl<K: Hash + Eq, Acc> SessionWindowState<K, Acc> {
    /// The keys `owner` owns of several workers' states (a rescaled restore); the
    /// watermark is the lowest of the parts.
    pub(crate) fn rescaled(parts: Vec<Self>, owner: KeyOwner) -> Self {
        let watermark = parts
            .iter()
            .map(|p| p.watermark)
            .min()
            .unwrap_or(MIN_WATERMARK);
        let mut merged = SessionWindowState {
            watermark,
            ..SessionWindowState::default()
        };
        let mut timers = Vec::with_capacity(parts.len());
        for part in parts {
            let owned = part.sessions.into_iter().filter(|(k, _)| owner.owns(k));
            merged.sessions.extend(owned);
            merged
                .dirty_keys
                .extend(part.dirty_keys.into_iter().filter(|k| owner.owns(k)));
            timers.push(part.timers);
        }
        merged.timers = TimerQueue::rescaled(timers, |k| owner.owns(k));
        merged
    }
}

pub(crate) struct SessionWindowOperator<T, K, KF, A: Aggregate<T>> {
    spec: SessionSpec,
    settings: WindowSettings,
    key_fn: KF,
    agg: A,
    state: SessionWindowState<K, A::Acc>,
    /// Entries of `state.sessions` whose list is empty (an upper bound: a key may have
    /// been counted, then received a new session).
    empty_keys: usize,
    late: LateOutput<T>,
    /// Complete mode: records arrived since the result table was last emitted.
    unreported: bool,
}

impl<T, K, KF, A> SessionWindowOperator<T, K, KF, A>
where
    K: Hash + Eq + Clone + 'static,
    KF: Fn(&T) -> K + 'static,
    A: Aggregate<T>,
{
    pub fn new(
        spec: SessionSpec,
        settings: WindowSettings,
        key_fn: KF,
        agg: A,
        late: LateOutput<T>,
    ) -> Self {
        SessionWindowOperator {
            spec,
            settings,
            key_fn,
            agg,
            state: SessionWindowState::default(),
            empty_keys: 0,
            late,
            unreported: false,
        }
    }

    /// Re-emits changed sessions: in update mode every changed one, in append mode the
    /// ones that had already fired (late updates within the allowed lateness).
    ///
    /// Update-mode rows are updates (`is_final: false`); outside the Spark-compatible
    /// mode, a session the watermark has closed gets its final row from
    /// [`fire_due`](Self::fire_due) instead.
    fn emit_dirty(&mut self, output: &mut Batch<WindowResult<K, A::Out>>) {
        let update = self.settings.mode == OutputMode::Update;
        let closing = update && !self.settings.spark;
        let (lateness, wm) = (self.settings.lateness, self.state.watermark);
        for key in self.state.dirty_keys.drain() {
            let Some(list) = self.state.sessions.get_mut(&key) else {
                continue;
            };
            for s in list.iter_mut().filter(|s| s.dirty) {
                s.dirty = false;
                if closing && s.end.saturating_add(lateness) <= wm {
                    continue;
                }
                if update || s.fired {
                    output.push(update_record(
                        key.clone(),
                        s.start,
                        s.end,
                        self.agg.finish(&s.acc),
                        !update,
                    ));
                }
            }
        }
    }

    /// Fires and drops the sessions whose timers are due at `wm`.
    ///
    /// In update mode (outside the Spark-compatible mode) a session dropped here gets
    /// its final row.
    fn fire_due(&mut self, wm: Timestamp, output: &mut Batch<WindowResult<K, A::Out>>) {
        let append = self.settings.mode == OutputMode::Append;
        let close_updates = self.settings.mode == OutputMode::Update && !self.settings.spark;
        let lateness = self.settings.lateness;
        while let Some((_, key)) = self.state.timers.pop_due(wm) {
            let Some(list) = self.state.sessions.get_mut(&key) else {
                continue;
            };
            let (agg, timers) = (&self.agg, &mut self.state.timers);
            list.retain_mut(|s| {
                if append && !s.fired && s.end <= wm {
                    output.push(result_record(
                        key.clone(),
                        s.start,
                        s.end,
                        agg.finish(&s.acc),
                    ));
                    s.fired = true;
                    s.dirty = false;
                    let keep = s.end.saturating_add(lateness) > wm;
                    if keep {
                        timers.push(s.end.saturating_add(lateness), key.clone());
                    }
                    return keep;
                }
                let keep = s.end.saturating_add(lateness) > wm;
                if !keep && close_updates {
                    output.push(result_record(
                        key.clone(),
                        s.start,
                        s.end,
                        agg.finish(&s.acc),
                    ));
                }
                keep
            });
            if list.is_empty() {
                self.empty_keys += 1;
            }
        }
        // Keys whose sessions all closed keep their (empty) entry for a while: most keys
        // come back, and removing and re-inserting them churns the table. Once empty
        // entries outnumber the live ones they are swept in one pass.
        let entries = self.state.sessions.len();
        if self.empty_keys > 1_024 && self.empty_keys * 2 > entries {
            self.state.sessions.retain(|_, list| !list.is_empty());
            self.empty_keys = 0;
        }
    }

    fn emit_all(&self, output: &mut Batch<WindowResult<K, A::Out>>) {
        for (key, list) in &self.state.sessions {
            for s in list {
                output.push(result_record(
                    key.clone(),
                    s.start,
                    s.end,
                    self.agg.finish(&s.acc),
                ));
            }
        }
    }

    fn trigger(&mut self, wm: Timestamp, output: &mut Batch<WindowResult<K, A::Out>>) {
        self.state.watermark = self.state.watermark.max(wm);
        match self.settings.mode {
            OutputMode::Append | OutputMode::Update => {
                self.emit_dirty(output);
                self.fire_due(self.state.watermark, output);
            }
            // Spark runs no batch without data for a complete-mode aggregation: a
            // watermark that only moves (the end of input's) emits nothing.
            OutputMode::Complete if !self.settings.spark || self.unreported => {
                self.emit_all(output);
                self.unreported = false;
            }
            OutputMode::Complete => {}
        }
    }
}

impl<T, K, KF, A> Operator for SessionWindowOperator<T, K, KF, A>
where
    T: 'static,
    K: Hash + Eq + Clone + Serialize + DeserializeOwned + 'static,
    KF: Fn(&T) -> K + 'static,
    A: Aggregate<T>,
{
    type In = T;
    type Out = WindowResult<K, A::Out>;

    fn process_batch(
        &mut self,
        input: Batch<T>,
        output: &mut Batch<Self::Out>,
    ) -> crate::error::Result<()> {
        self.unreported |= !input.is_empty();
        let SessionWindowOperator {
            spec,
            settings,
            key_fn,
            agg,
            state,
            late,
            ..
        } = self;
        let SessionWindowState {
            sessions,
            timers,
            dirty_keys,
            watermark,
        } = state;
        let wm = *watermark;
        let complete = settings.mode == OutputMode::Complete;
        let track = |refire: bool| settings.mode == OutputMode::Update || refire;
        let lateness = settings.lateness;
        let is_late = |end: Timestamp| !complete && end.saturating_add(lateness) <= wm;
        for r in input {
            let ts = r.ts;
            // A record without event time cannot be placed; Spark judges a row by its own
            // session before any merge, in every output mode (its session late filter
            // sits in the state-restore step), complete included.
            let spark_late =
                settings.spark && ts.saturating_add(spec.gap).saturating_add(lateness) <= wm;
            if ts == NO_TIMESTAMP || spark_late {
                late.reject(r);
                continue;
            }
            let value = &r.value;
            let create = || agg.create();
            let fold = |acc: &mut A::Acc| agg.add(acc, value, ts);
            let merge = |a: &mut A::Acc, b: &A::Acc| agg.merge(a, b);
            let (key, placement) = match sessions.entry(key_fn(value)) {
                Entry::Occupied(mut e) => {
                    let placement = place(e.get_mut(), spec, ts, wm, is_late, create, fold, merge);
                    (e.key().clone(), placement)
                }
                Entry::Vacant(e) => {
                    let mut list = SessionList::new();
                    let placement = place(&mut list, spec, ts, wm, is_late, create, fold, merge);
                    let key = e.key().clone();
                    if !list.is_empty() {
                        e.insert(list);
                    }
                    (key, placement)
                }
            };
            match placement {
                Placement::Created { end } => {
                    if !complete {
                        let at = next_time(settings, end, false);
                        if track(false) {
                            dirty_keys.insert(key.clone());
                        }
                        timers.push(at, key);
                    }
                }
                Placement::Merged { refire, new_end } => {
                    if track(refire) {
                        dirty_keys.insert(key.clone());
                    }
                    if let (Some(end), false) = (new_end, complete) {
                        timers.push(next_time(settings, end, refire), key);
                    }
                }
                Placement::Late => late.reject(r),
            }
        }
        late.flush()?;
        if self.settings.mode == OutputMode::Append && self.settings.lateness > 0 {
            // Late updates within the allowed lateness re-fire at once, as in Flink.
            self.emit_dirty(output);
        }
        Ok(())
    }

    fn on_barrier(&mut self, id: u64) -> Result<()> {
        self.late.barrier(id)
    }

    fn snapshot_state(&self) -> Result<Option<Vec<u8>>> {
        encode("window(session)", &self.state).map(Some)
    }

    fn restore_state(&mut self, bytes: &[u8]) -> Result<()> {
        self.state = decode("window(session)", bytes)?;
        Ok(())
    }

    fn restore_rescaled(&mut self, parts: &[Vec<u8>], owner: KeyOwner) -> Result<()> {
        let parts = decode_all("window(session)", parts)?;
        self.state = SessionWindowState::rescaled(parts, owner);
        Ok(())
    }

    fn on_watermark(
        &mut self,
        wm: Timestamp,
        output: &mut Batch<Self::Out>,
    ) -> crate::error::Result<Option<Timestamp>> {
        self.trigger(wm, output);
        Ok(Some(wm))
    }

    fn on_end_of_input(&mut self, output: &mut Batch<Self::Out>) -> crate::error::Result<()> {
        if self.settings.spark {
            match self.settings.mode {
                OutputMode::Append => {}
                OutputMode::Update => self.emit_dirty(output),
                // The last trigger emitted the table unless records came after it:
                // Spark runs no extra batch for a complete-mode aggregation.
                OutputMode::Complete if self.unreported => {
                    self.emit_all(output);
                    self.unreported = false;
                }
                OutputMode::Complete => {}
            }
        } else {
            self.trigger(MAX_WATERMARK, output);
        }
        self.late.end()?;
        Ok(())
    }
}
