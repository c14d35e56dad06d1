//! State and firing of tumbling and sliding windows, one accumulator per key and pane.
//!
//! A record updates the one pane holding its timestamp. When the watermark passes a
//! window's end, the window's panes are merged per key and emitted (for tumbling windows
//! a window is one pane and is emitted without merging). Panes are dropped once every
//! window containing them is past `end + allowed lateness`.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hash;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::state::{decode, decode_all, encode, KeyOwner};

use super::{result_record, update_record, LateOutput, PanePool, WindowSettings};
use crate::operator::Operator;
use crate::record::Batch;
use crate::time::{Timestamp, MAX_WATERMARK, MIN_WATERMARK, NO_TIMESTAMP};
use crate::window::assigner::FixedWindows;
use crate::window::{Aggregate, OutputMode, WindowResult};

/// Everything a fixed-window operator knows about the data it has seen: plain data,
/// serializable whenever the keys and accumulators are, so a checkpoint can store it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "K: Serialize + Hash + Eq, Acc: Serialize",
    deserialize = "K: Deserialize<'de> + Hash + Eq, Acc: Deserialize<'de>"
))]
pub(crate) struct FixedWindowState<K, Acc> {
    /// Accumulators per pane start and key.
    pub panes: BTreeMap<Timestamp, FxHashMap<K, Acc>>,
    /// The last watermark received.
    pub watermark: Timestamp,
    /// End of the newest window emitted by the watermark (append mode).
    pub fired_end: Option<Timestamp>,
    /// (key, pane) updated since the last trigger, where that must be re-emitted.
    pub dirty: FxHashSet<(K, Timestamp)>,
}

impl<K, Acc> Default for FixedWindowState<K, Acc> {
    fn default() -> Self {
        FixedWindowState {
            panes: BTreeMap::new(),
            watermark: MIN_WATERMARK,
            fired_end: None,
            dirty: FxHashSet::default(),
        }
    }
}

impl<K: Hash + Eq, Acc> FixedWindowState<K, Acc> {
    /// The keys `owner` owns of several workers' states (a rescaled restore). The
    /// watermark and the newest fired window are the lowest of the parts: a window one
    /// worker fired has no panes left there, so firing it again fires only the keys of
    /// workers that had not.
    pub(crate) fn rescaled(parts: impl IntoIterator<Item = Self>, owner: KeyOwner) -> Self {
        let mut merged: Option<Self> = None;
        for mut part in parts {
            part.panes
                .values_mut()
                .for_each(|keys| keys.retain(|k, _| owner.owns(k)));
            part.panes.retain(|_, keys| !keys.is_empty());
            part.dirty.retain(|(k, _)| owner.owns(k));
            let Some(m) = merged.as_mut() else {
                merged = Some(part);
                continue;
            };
            for (start, keys) in part.panes {
                m.panes.entry(start).or_default().extend(keys);
            }
            m.watermark = m.watermark.min(part.watermark);
            m.fired_end = m.fired_end.min(part.fired_end);
            m.dirty.extend(part.dirty);
        }
        merged.unwrap_or_default()
    }
}

pub(crate) struct FixedWindowOperator<T, K, KF, A: Aggregate<T>> {
    spec: FixedWindows,
    settings: WindowSettings,
    key_fn: KF,
    agg: A,
    state: FixedWindowState<K, A::Acc>,
    pool: PanePool<K, A::Acc>,
    late: LateOutput<T>,
    /// Complete mode: records arrived since the result table was last emitted.
    unreported: bool,
}

impl<T, K, KF, A> FixedWindowOperator<T, K, KF, A>
where
    K: Hash + Eq + Clone + 'static,
    KF: Fn(&T) -> K + 'static,
    A: Aggregate<T>,
{
    pub fn new(
        spec: FixedWindows,
        settings: WindowSettings,
        key_fn: KF,
        agg: A,
        late: LateOutput<T>,
    ) -> Self {
        FixedWindowOperator {
            spec,
            settings,
            key_fn,
            agg,
            state: FixedWindowState::default(),
            pool: PanePool::default(),
            late,
            unreported: false,
        }
    }

    /// Emits window `[start, start + size)` for every key (or just `only`), as final
    /// rows or as updates of an open window.
    fn emit_window(
        &self,
        start: Timestamp,
        only: Option<&K>,
        is_final: bool,
        output: &mut Batch<WindowResult<K, A::Out>>,
    ) {
        let end = start.saturating_add(self.spec.size);
        if self.spec.panes_per_window() == 1 {
            let Some(pane) = self.state.panes.get(&start) else {
                return;
            };
            match only {
                Some(k) => {
                    if let Some(acc) = pane.get(k) {
                        output.push(update_record(
                            k.clone(),
                            start,
                            end,
                            self.agg.finish(acc),
                            is_final,
                        ));
                    }
                }
                None => output.extend(pane.iter().map(|(k, acc)| {
                    update_record(k.clone(), start, end, self.agg.finish(acc), is_final)
                })),
            }
            return;
        }
        let mut merged: FxHashMap<K, A::Acc> = FxHashMap::default();
        for pane in self.state.panes.range(start..end).map(|(_, pane)| pane) {
            let entries: Box<dyn Iterator<Item = (&K, &A::Acc)>> = match only {
                Some(k) => Box::new(pane.get_key_value(k).into_iter()),
                None => Box::new(pane.iter()),
            };
            for (k, acc) in entries {
                match merged.get_mut(k) {
                    Some(m) => self.agg.merge(m, acc),
                    None => {
                        merged.insert(k.clone(), acc.clone());
                    }
                }
            }
        }
        output.extend(
            merged
                .into_iter()
                .map(|(k, acc)| update_record(k, start, end, self.agg.finish(&acc), is_final)),
        );
    }

    /// Re-emits the windows touched by dirty panes that are still open for updates at
    /// the watermark the records arrived under (`before`). Append mode emits only
    /// windows the watermark already passed (late firings); update mode every affected
    /// window.
    ///
    /// In update mode the rows are updates (`is_final: false`); outside the
    /// Spark-compatible mode, windows the new watermark `wm` closes are left to
    /// [`close_updated`](Self::close_updated), which emits their final rows.
    fn emit_dirty(
        &mut self,
        before: Timestamp,
        wm: Timestamp,
        output: &mut Batch<WindowResult<K, A::Out>>,
    ) {
        if self.state.dirty.is_empty() {
            return;
        }
        let update = self.settings.mode == OutputMode::Update;
        let lateness = self.settings.lateness;
        let closes_now =
            |end: Timestamp| update && !self.settings.spark && end.saturating_add(lateness) <= wm;
        let mut windows: FxHashSet<(K, Timestamp)> = FxHashSet::default();
        for (key, pane) in self.state.dirty.drain() {
            for start in self.spec.window_starts(pane) {
                let end = start.saturating_add(self.spec.size);
                let open = end.saturating_add(lateness) > before;
                let passed = end <= before;
                if open && (update || passed) && !closes_now(end) {
                    windows.insert((key.clone(), start));
                }
            }
        }
        let mut windows: Vec<_> = windows.into_iter().collect();
        windows.sort_by_key(|(_, start)| *start);
        for (key, start) in windows {
            self.emit_window(start, Some(&key), !update, output);
        }
    }

    /// Update mode: the final row of every window holding data that the watermark's
    /// move from `before` to `wm` closes (end plus lateness passed).
    fn close_updated(
        &mut self,
        before: Timestamp,
        wm: Timestamp,
        output: &mut Batch<WindowResult<K, A::Out>>,
    ) {
        let lateness = self.settings.lateness;
        let closing: BTreeSet<Timestamp> = self
            .state
            .panes
            .keys()
            .flat_map(|&p| self.spec.window_starts(p))
            .filter(|&start| {
                let closes = start
                    .saturating_add(self.spec.size)
                    .saturating_add(lateness);
                closes > before && closes <= wm
            })
            .collect();
        for start in closing {
            self.emit_window(start, None, true, output);
        }
    }

    /// Append mode: emits every window whose end the watermark passed, from `before` to
    /// `wm`. A window that ended at or before `before` and never fired held no on-time
    /// record then, so whatever its panes hold now arrived late for it: it stays silent.
    fn fire_closed(
        &mut self,
        before: Timestamp,
        wm: Timestamp,
        output: &mut Batch<WindowResult<K, A::Out>>,
    ) {
        let (size, slide) = (self.spec.size, self.spec.slide);
        // Tumbling without lateness: a window is one pane, emitted and dropped at once.
        if self.spec.panes_per_window() == 1 && self.settings.lateness == 0 {
            while let Some(entry) = self.state.panes.first_entry() {
                let start = *entry.key();
                let end = start.saturating_add(size);
                if end > wm {
                    break;
                }
                let mut pane = entry.remove();
                output.reserve(pane.len());
                for (k, acc) in pane.drain() {
                    output.push(result_record(k, start, end, self.agg.finish(&acc)));
                }
                self.pool.give(pane);
                self.state.fired_end = Some(end);
            }
            return;
        }
        loop {
            // The next window to fire is the earliest one holding data that starts after
            // the last fired window's start; empty windows in between are skipped.
            let next_start = self.state.fired_end.map(|f| f.saturating_add(slide) - size);
            let first_pane = match next_start {
                Some(s) => self.state.panes.range(s..).next().map(|(&p, _)| p),
                None => self.state.panes.keys().next().copied(),
            };
            let Some(first_pane) = first_pane else { break };
            let mut end = self.spec.first_window_end(first_pane);
            if let Some(fired) = self.state.fired_end {
                end = end.max(fired.saturating_add(slide));
            }
            if before != MIN_WATERMARK {
                end = end.max(self.spec.first_window_end(before));
            }
            if end > wm {
                break;
            }
            self.emit_window(end - size, None, true, output);
            self.state.fired_end = Some(end);
            if self.settings.lateness == 0 {
                self.drop_panes_before(end - size + slide);
            }
        }
    }

    fn drop_panes_before(&mut self, start: Timestamp) {
        while let Some(entry) = self.state.panes.first_entry() {
            if *entry.key() >= start {
                break;
            }
            self.pool.give(entry.remove());
        }
    }

    /// Drops panes whose every window is past `end + lateness`.
    fn purge(&mut self, wm: Timestamp) {
        while let Some(entry) = self.state.panes.first_entry() {
            let last_end = self.spec.last_window_end(*entry.key());
            if last_end.saturating_add(self.settings.lateness) > wm {
                break;
            }
            self.pool.give(entry.remove());
        }
    }

    fn emit_all(&self, output: &mut Batch<WindowResult<K, A::Out>>) {
        let starts: BTreeSet<Timestamp> = self
            .state
            .panes
            .keys()
            .flat_map(|&p| self.spec.window_starts(p))
            .collect();
        for start in starts {
            self.emit_window(start, None, true, output);
        }
    }

    /// A trigger: the watermark moved from `self.state.watermark` to `wm`.
    fn trigger(&mut self, wm: Timestamp, output: &mut Batch<WindowResult<K, A::Out>>) {
        let before = self.state.watermark;
        self.state.watermark = self.state.watermark.max(wm);
        let wm = self.state.watermark;
        match self.settings.mode {
            OutputMode::Append => {
                self.emit_dirty(before, wm, output);
                self.fire_closed(before, wm, output);
                self.purge(wm);
            }
            OutputMode::Update => {
                self.emit_dirty(before, wm, output);
                if !self.settings.spark {
                    self.close_updated(before, wm, output);
                }
                self.purge(wm);
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

impl<T, K, KF, A> Operator for FixedWindowOperator<T, K, KF, A>
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
        let FixedWindowOperator {
            spec,
            settings,
            key_fn,
            agg,
            state,
            pool,
            late,
            ..
        } = self;
        let FixedWindowState {
            panes,
            dirty,
            watermark,
            ..
        } = state;
        let wm = *watermark;
        let complete = settings.mode == OutputMode::Complete;
        let track_all = settings.mode == OutputMode::Update;
        let track_refires = settings.mode == OutputMode::Append && settings.lateness > 0;
        // The pane of the previous record is reused while records stay in it, which
        // for ordered input avoids the division and the tree lookup almost always.
        let (mut lo, mut hi) = (MAX_WATERMARK, MIN_WATERMARK);
        let mut pane_start = 0;
        let mut mark_dirty = false;
        let mut current: Option<&mut FxHashMap<K, A::Acc>> = None;
        for r in input {
            if r.ts < lo || r.ts >= hi {
                pane_start = spec.pane_start(r.ts);
                lo = pane_start;
                hi = pane_start.saturating_add(spec.pane);
                let last_end = spec.last_window_end(r.ts);
                let is_late = r.ts == NO_TIMESTAMP
                    || (!complete && last_end.saturating_add(settings.lateness) <= wm);
                current = if is_late {
                    None
                } else {
                    Some(panes.entry(pane_start).or_insert_with(|| pool.take()))
                };
                mark_dirty = track_all || (track_refires && spec.first_window_end(r.ts) <= wm);
            }
            match current.as_deref_mut() {
                Some(pane) => {
                    let key = key_fn(&r.value);
                    if mark_dirty {
                        dirty.insert((key.clone(), pane_start));
                    }
                    let acc = pane.entry(key).or_insert_with(|| agg.create());
                    agg.add(acc, &r.value, r.ts);
                }
                None => late.reject(r),
            }
        }
        late.flush()?;
        if track_refires {
            // Late updates within the allowed lateness re-fire at once, as in Flink.
            let wm = self.state.watermark;
            self.emit_dirty(wm, wm, output);
        }
        Ok(())
    }

    fn on_barrier(&mut self, id: u64) -> Result<()> {
        self.late.barrier(id)
    }

    fn snapshot_state(&self) -> Result<Option<Vec<u8>>> {
        encode("window", &self.state).map(Some)
    }

    fn restore_state(&mut self, bytes: &[u8]) -> Result<()> {
        self.state = decode("window", bytes)?;
        Ok(())
    }

    fn restore_rescaled(&mut self, parts: &[Vec<u8>], owner: KeyOwner) -> Result<()> {
        let parts: Vec<FixedWindowState<K, A::Acc>> = decode_all("window", parts)?;
        self.state = FixedWindowState::rescaled(parts, owner);
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
            // Spark never closes windows past the last watermark; only the trigger's
            // own output (update/complete) is produced.
            let wm = self.state.watermark;
            match self.settings.mode {
                OutputMode::Append => {}
                OutputMode::Update => self.emit_dirty(wm, wm, output),
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
