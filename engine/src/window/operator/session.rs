//! State and firing of session windows: per key, the open sessions; a timer per session
//! fires it when the watermark passes its end.
//!
//! Timers are set when a session is created. A due timer looks at its key: sessions
//! past their end fire, and if the key still has sessions a timer is set for the
//! earliest of them, so every open session is always covered by a timer no later than
//! its end (extending or merging a session only moves its end later).

use std::hash::Hash;

use rustc_hash::{FxHashMap, FxHashSet};

use super::session_set::{place, Placement, Session};
use super::timers::TimerQueue;
use super::{result_record, LateOutput, WindowSettings};
use crate::operator::Operator;
use crate::record::Batch;
use crate::time::{Timestamp, MAX_WATERMARK, MIN_WATERMARK};
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

pub(crate) struct SessionWindowOperator<T, K, KF, A: Aggregate<T>> {
    spec: SessionSpec,
    settings: WindowSettings,
    key_fn: KF,
    agg: A,
    sessions: FxHashMap<K, Vec<Session<A::Acc>>>,
    timers: TimerQueue<K>,
    dirty_keys: FxHashSet<K>,
    watermark: Timestamp,
    late: LateOutput<T>,
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
            sessions: FxHashMap::default(),
            timers: TimerQueue::new(),
            dirty_keys: FxHashSet::default(),
            watermark: MIN_WATERMARK,
            late,
        }
    }


    /// Re-emits changed sessions: in update mode every changed one, in append mode the
    /// ones that had already fired (late updates within the allowed lateness).
    fn emit_dirty(&mut self, output: &mut Batch<WindowResult<K, A::Out>>) {
        let update = self.settings.mode == OutputMode::Update;
        for key in self.dirty_keys.drain() {
            let Some(list) = self.sessions.get_mut(&key) else { continue };
            for s in list.iter_mut().filter(|s| s.dirty) {
                s.dirty = false;
                if update || s.fired {
                    output.push(result_record(key.clone(), s.start, s.end, self.agg.finish(&s.acc)));
                }
            }
        }
    }

    /// Fires and drops the sessions whose timers are due at `wm`.
    fn fire_due(&mut self, wm: Timestamp, output: &mut Batch<WindowResult<K, A::Out>>) {
        let append = self.settings.mode == OutputMode::Append;
        let lateness = self.settings.lateness;
        while let Some((_, key)) = self.timers.pop_due(wm) {
            let Some(list) = self.sessions.get_mut(&key) else { continue };
            let agg = &self.agg;
            list.retain_mut(|s| {
                if append && !s.fired && s.end <= wm {
                    output.push(result_record(key.clone(), s.start, s.end, agg.finish(&s.acc)));
                    s.fired = true;
                    s.dirty = false;
                }
                s.end.saturating_add(lateness) > wm
            });
            if list.is_empty() {
                self.sessions.remove(&key);
                continue;
            }
            let settings = &self.settings;
            let next = list.iter().map(|s| next_time(settings, s.end, s.fired)).min();
            if let Some(next) = next {
                self.timers.push(next, key);
            }
        }
    }

    fn emit_all(&self, output: &mut Batch<WindowResult<K, A::Out>>) {
        for (key, list) in &self.sessions {
            for s in list {
                output.push(result_record(key.clone(), s.start, s.end, self.agg.finish(&s.acc)));
            }
        }
    }

    fn trigger(&mut self, wm: Timestamp, output: &mut Batch<WindowResult<K, A::Out>>) {
        self.watermark = self.watermark.max(wm);
        match self.settings.mode {
            OutputMode::Append | OutputMode::Update => {
                self.emit_dirty(output);
                self.fire_due(self.watermark, output);
            }
            OutputMode::Complete => self.emit_all(output),
        }
    }
}

impl<T, K, KF, A> Operator for SessionWindowOperator<T, K, KF, A>
where
    T: 'static,
    K: Hash + Eq + Clone + 'static,
    KF: Fn(&T) -> K + 'static,
    A: Aggregate<T>,
{
    type In = T;
    type Out = WindowResult<K, A::Out>;

    fn process_batch(&mut self, input: Batch<T>, _output: &mut Batch<Self::Out>) {
        let SessionWindowOperator {
            spec, settings, key_fn, agg, sessions, timers, dirty_keys, watermark, late,
        } = self;
        let wm = *watermark;
        let complete = settings.mode == OutputMode::Complete;
        let track = |refire: bool| settings.mode == OutputMode::Update || refire;
        let lateness = settings.lateness;
        let is_late = |end: Timestamp| !complete && end.saturating_add(lateness) <= wm;
        for r in input {
            let ts = r.ts;
            // Spark judges a row by its own session before any merge.
            if settings.spark && is_late(ts.saturating_add(spec.gap)) {
                late.reject(r);
                continue;
            }
            let key = key_fn(&r.value);
            let value = &r.value;
            let placement = match sessions.get_mut(&key) {
                Some(list) => place(
                    list,
                    spec,
                    ts,
                    is_late,
                    || agg.create(),
                    |acc| agg.add(acc, value, ts),
                    |a, b| agg.merge(a, b),
                ),
                None => {
                    let mut list = Vec::with_capacity(1);
                    let placement = place(
                        &mut list,
                        spec,
                        ts,
                        is_late,
                        || agg.create(),
                        |acc| agg.add(acc, value, ts),
                        |a, b| agg.merge(a, b),
                    );
                    if !list.is_empty() {
                        sessions.insert(key.clone(), list);
                    }
                    placement
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
                Placement::Merged { refire } => {
                    if track(refire) {
                        dirty_keys.insert(key);
                    }
                }
                Placement::Late => late.reject(r),
            }
        }
        late.flush();
    }

    fn on_watermark(&mut self, wm: Timestamp, output: &mut Batch<Self::Out>) -> Option<Timestamp> {
        self.trigger(wm, output);
        Some(wm)
    }

    fn on_end_of_input(&mut self, output: &mut Batch<Self::Out>) {
        if self.settings.spark {
            match self.settings.mode {
                OutputMode::Append => {}
                OutputMode::Update => self.emit_dirty(output),
                OutputMode::Complete => self.emit_all(output),
            }
        } else {
            self.trigger(MAX_WATERMARK, output);
        }
        self.late.end();
    }
}
