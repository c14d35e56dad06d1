//! Why a window fired or did not: with [`Config::with_explain`](crate::config::Config::with_explain)
//! every window operator records, per key, the records that went in with the watermark
//! they met, each firing with the watermark that caused it, and its watermark timeline;
//! [`StreamProcessor::explain_window`](crate::processor::StreamProcessor::explain_window)
//! (and the testing harness's) tells one window's story from them and from the inputs'
//! watermarks now.
//!
//! ```
//! use tidewater_engine::prelude::*;
//! use tidewater_engine::testing::{TestPipeline, TestSink, TestSource};
//!
//! let clicks = TestSource::event_time(|c: &(char, i64)| c.1);
//! let mut t = TestPipeline::new(Config::default().with_parallelism(1).with_explain(true));
//! t.source(&clicks)
//!     .key_by(|c: &(char, i64)| c.0)
//!     .window(TumblingWindow::of("10 seconds"))
//!     .count()
//!     .sink(TestSink::new());
//! let mut run = t.start().unwrap();
//! clicks.push([('a', 1_000), ('a', 4_000)]);
//! clicks.advance_watermark_to(8_000);
//! run.run_until_idle().unwrap();
//! let why = &run.explain_window(&'a', 0)[0];
//! assert!(why.firings.is_empty());
//! assert_eq!(why.watermark_now, Some(8_000));
//! assert!(why.to_string().contains("not fired: the watermark is 8000, before the window's end 10000"));
//! clicks.advance_watermark_to(10_000);
//! clicks.push([('a', 2_000)]); // late now
//! run.run_until_idle().unwrap();
//! let why = &run.explain_window(&'a', 0)[0];
//! assert_eq!(why.on_time, vec![1_000, 4_000]);
//! assert_eq!(why.late, vec![(2_000, 10_000)]);
//! assert_eq!(why.firings[0].watermark, 10_000);
//! ```

mod tap;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use serde::Serialize;

pub(crate) use tap::{ExplainInput, ExplainOutput};

use crate::metrics::{Metrics, NodeKind};
use crate::time::{Timestamp, MIN_WATERMARK};
use crate::window::WindowKind;

/// The JSON a key is matched by: a serializable key, or text (`"k1"` also names the
/// group key whose values are `["k1"]`, `"k1,2"` the one of `["k1", 2]`).
pub fn key_json(key: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(key).unwrap_or(serde_json::Value::Null)
}

/// Each node's watermark now (`None`: none yet), from a run's metrics.
pub fn watermarks(metrics: &Metrics) -> BTreeMap<String, Option<Timestamp>> {
    metrics
        .operators
        .iter()
        .map(|o| {
            (
                o.name.clone(),
                (o.watermark != MIN_WATERMARK).then_some(o.watermark),
            )
        })
        .collect()
}

/// How many watermark moves each operator instance keeps.
const TIMELINE: usize = 10_000;

/// What the window operators of a run recorded (empty unless explain is on).
#[derive(Default)]
pub(crate) struct ExplainLog {
    operators: Mutex<BTreeMap<String, OperatorLog>>,
}

struct OperatorLog {
    kind: WindowKind,
    lateness: i64,
    late_output: bool,
    /// Per worker: the watermarks the operator instance saw, in order.
    timelines: BTreeMap<usize, Vec<Timestamp>>,
    keys: BTreeMap<String, KeyLog>,
}

#[derive(Default)]
struct KeyLog {
    worker: usize,
    /// (event time, the operator's watermark when it arrived)
    records: Vec<(Timestamp, Timestamp)>,
    firings: Vec<Firing>,
}

/// One result a window emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Firing {
    /// Window start.
    pub window_start: Timestamp,
    /// Window end.
    pub window_end: Timestamp,
    /// The watermark that made it fire (`MIN` for end of input or a trigger).
    pub watermark: Timestamp,
    /// A final result, or an update that more records may change.
    pub is_final: bool,
}

/// One window's story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowExplanation {
    /// The window operator.
    pub operator: String,
    /// The key, as JSON.
    pub key: String,
    /// Window start.
    pub window_start: Timestamp,
    /// Window end (`None`: a session not closed yet, its end still moving).
    pub window_end: Option<Timestamp>,
    /// Allowed lateness (ms).
    pub lateness: i64,
    /// Event times of the records it counts.
    pub on_time: Vec<Timestamp>,
    /// Records that came too late for it: (event time, watermark they met).
    pub late: Vec<(Timestamp, Timestamp)>,
    /// Whether late records go to a side output (else they are dropped and counted).
    pub late_output: bool,
    /// What it emitted, in order (several: updates, or re-firings within lateness).
    pub firings: Vec<Firing>,
    /// The operator's watermark now (on the worker that owns the key).
    pub watermark_now: Option<Timestamp>,
    /// The operator's watermark moves, oldest first (the last 10 000).
    pub watermark_timeline: Vec<Timestamp>,
    /// The inputs' watermarks now (sources and watermark nodes), least first among
    /// the active ones, then the idle ones: the first active one holds the others back.
    pub inputs: Vec<InputWatermark>,
}

/// One input's watermark now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputWatermark {
    /// The source or watermark node.
    pub name: String,
    /// Its watermark (`None`: none yet).
    pub watermark: Option<Timestamp>,
    /// Idle: it said it has nothing for now, and holds nothing back.
    pub idle: bool,
}

impl ExplainLog {
    /// Registers window operator `name` (once per worker; the first wins).
    pub fn register(&self, name: &str, kind: WindowKind, lateness: i64, late_output: bool) {
        let mut ops = self.operators.lock().unwrap_or_else(|p| p.into_inner());
        ops.entry(name.to_string()).or_insert_with(|| OperatorLog {
            kind,
            lateness,
            late_output,
            timelines: BTreeMap::new(),
            keys: BTreeMap::new(),
        });
    }

    fn with<R>(&self, name: &str, f: impl FnOnce(&mut OperatorLog) -> R) -> Option<R> {
        let mut ops = self.operators.lock().unwrap_or_else(|p| p.into_inner());
        ops.get_mut(name).map(f)
    }

    pub fn record(&self, name: &str, worker: usize, key: String, ts: Timestamp, wm: Timestamp) {
        self.with(name, |op| {
            let k = op.keys.entry(key).or_default();
            k.worker = worker;
            k.records.push((ts, wm));
        });
    }

    pub fn watermark(&self, name: &str, worker: usize, wm: Timestamp) {
        self.with(name, |op| {
            let t = op.timelines.entry(worker).or_default();
            if t.len() == TIMELINE {
                t.remove(0);
            }
            t.push(wm);
        });
    }

    pub fn fired(&self, name: &str, key: String, firing: Firing) {
        self.with(name, |op| {
            op.keys.entry(key).or_default().firings.push(firing)
        });
    }

    /// The windows that fired, latest watermark first (end of input last), at most
    /// `limit`.
    pub fn recent_firings(&self, limit: usize) -> Vec<crate::http::RecentFiring> {
        let ops = self.operators.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<crate::http::RecentFiring> = ops
            .iter()
            .flat_map(|(name, op)| {
                op.keys.iter().flat_map(move |(key, log)| {
                    log.firings.iter().map(move |f| crate::http::RecentFiring {
                        operator: name.clone(),
                        key: key.clone(),
                        window_start: f.window_start,
                        window_end: f.window_end,
                        watermark: f.watermark,
                    })
                })
            })
            .collect();
        all.sort_by(|a, b| {
            (b.watermark, b.window_start, &b.key).cmp(&(a.watermark, a.window_start, &a.key))
        });
        all.truncate(limit);
        all
    }

    /// Every recorded operator's story of `key`'s window starting at `start`.
    pub fn explain(
        &self,
        key: &serde_json::Value,
        start: Timestamp,
        metrics: &Metrics,
    ) -> Vec<WindowExplanation> {
        let ops = self.operators.lock().unwrap_or_else(|p| p.into_inner());
        let mut inputs: Vec<InputWatermark> = metrics
            .operators
            .iter()
            .filter(|o| matches!(o.kind, NodeKind::Source | NodeKind::Watermark))
            .map(|o| InputWatermark {
                name: o.name.clone(),
                watermark: (o.watermark != MIN_WATERMARK).then_some(o.watermark),
                idle: o.idle,
            })
            .collect();
        inputs.sort_by_key(|i| (i.idle, i.watermark.unwrap_or(MIN_WATERMARK)));
        let mut out = Vec::new();
        for (name, op) in ops.iter() {
            for (key_text, log) in &op.keys {
                if !key_matches(key, key_text) {
                    continue;
                }
                if let Some(e) = op.story(name, key_text, log, start, &inputs) {
                    out.push(e);
                }
            }
        }
        out
    }
}

impl OperatorLog {
    fn story(
        &self,
        name: &str,
        key: &str,
        log: &KeyLog,
        start: Timestamp,
        inputs: &[InputWatermark],
    ) -> Option<WindowExplanation> {
        let timeline = self.timelines.get(&log.worker).cloned().unwrap_or_default();
        let (end, members, firings): (Option<Timestamp>, Vec<(Timestamp, Timestamp)>, Vec<Firing>) =
            match &self.kind {
                WindowKind::Fixed(f) => {
                    if (start - f.offset).rem_euclid(f.slide) != 0 {
                        return None; // no window starts there
                    }
                    let end = start.saturating_add(f.size);
                    let members = log
                        .records
                        .iter()
                        .copied()
                        .filter(|r| r.0 >= start && r.0 < end)
                        .collect();
                    let firings = log
                        .firings
                        .iter()
                        .copied()
                        .filter(|x| x.window_start == start)
                        .collect();
                    (Some(end), members, firings)
                }
                WindowKind::Session(s) => {
                    // Its records are those in its span (to the last end it fired with).
                    let fired: Vec<Firing> = log
                        .firings
                        .iter()
                        .copied()
                        .filter(|x| x.window_start == start)
                        .collect();
                    let end = fired.iter().map(|f| f.window_end).max();
                    let members = log
                        .records
                        .iter()
                        .copied()
                        .filter(|r| r.0 >= start && end.is_none_or(|e| r.0 <= e - s.gap))
                        .collect();
                    (end, members, fired)
                }
            };
        if members.is_empty() && firings.is_empty() {
            return None;
        }
        let closes = |wm: Timestamp| end.is_some_and(|e| e.saturating_add(self.lateness) <= wm);
        let mut members = members;
        members.sort_unstable();
        let (late, on_time): (Vec<_>, Vec<_>) = members.into_iter().partition(|r| closes(r.1));
        Some(WindowExplanation {
            operator: name.to_string(),
            key: key.to_string(),
            window_start: start,
            window_end: end,
            lateness: self.lateness,
            on_time: on_time.into_iter().map(|r| r.0).collect(),
            late,
            late_output: self.late_output,
            firings,
            watermark_now: timeline.last().copied(),
            watermark_timeline: timeline,
            inputs: inputs.to_vec(),
        })
    }
}

/// Whether the key asked for names recorded key `text` (its JSON): the same JSON, the
/// same text, or a group key whose values joined by commas are the text.
fn key_matches(asked: &serde_json::Value, text: &str) -> bool {
    let Ok(recorded) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    if &recorded == asked {
        return true;
    }
    let plain = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let Some(asked_text) = asked.as_str() else {
        return false;
    };
    match &recorded {
        serde_json::Value::Object(m) => m
            .get("values")
            .and_then(|v| v.as_array())
            .is_some_and(|vs| vs.iter().map(plain).collect::<Vec<_>>().join(",") == asked_text),
        other => plain(other) == asked_text,
    }
}

impl fmt::Display for WindowExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self
            .window_end
            .map_or("open".to_string(), |e| e.to_string());
        writeln!(
            f,
            "window [{}, {end}) of key {} in `{}` (allowed lateness {} ms)",
            self.window_start, self.key, self.operator, self.lateness
        )?;
        writeln!(
            f,
            "  records on time: {} {:?}",
            self.on_time.len(),
            self.on_time
        )?;
        if !self.late.is_empty() {
            let whither = if self.late_output {
                "sent to the late output"
            } else {
                "dropped and counted"
            };
            writeln!(f, "  late records: {} ({whither}):", self.late.len())?;
            for (ts, wm) in &self.late {
                writeln!(f, "    {ts}: arrived when the watermark was {wm}, at or past the window's end plus lateness")?;
            }
        }
        for x in &self.firings {
            let what = if x.is_final { "final result" } else { "update" };
            if x.watermark == MIN_WATERMARK {
                writeln!(
                    f,
                    "  fired ({what}) at the end of input or a trigger, end {}",
                    x.window_end
                )?;
            } else {
                writeln!(
                    f,
                    "  fired ({what}) when the watermark reached {} (end {})",
                    x.watermark, x.window_end
                )?;
            }
        }
        if self.firings.len() > 1 {
            writeln!(f, "  fired {} times", self.firings.len())?;
        }
        if self.firings.is_empty() {
            match (self.watermark_now, self.window_end) {
                (Some(wm), Some(e)) => writeln!(
                    f,
                    "  not fired: the watermark is {wm}, before the window's end {e}"
                )?,
                (None, _) => writeln!(f, "  not fired: no watermark has reached the operator yet")?,
                (Some(wm), None) => {
                    writeln!(f, "  not fired: the session is open (watermark {wm})")?
                }
            }
            match self.inputs.first() {
                Some(first) if !first.idle => {
                    let wm = first
                        .watermark
                        .map_or("none".to_string(), |w| w.to_string());
                    writeln!(f, "  held back by `{}` (watermark {wm})", first.name)?;
                }
                Some(_) => writeln!(f, "  every input is idle: the watermark waits for data")?,
                None => {}
            }
        }
        let shown = |i: &InputWatermark| {
            let wm = i.watermark.map_or("none".to_string(), |w| w.to_string());
            format!("`{}` {wm}{}", i.name, if i.idle { " (idle)" } else { "" })
        };
        let all: Vec<String> = self.inputs.iter().map(shown).collect();
        writeln!(f, "  inputs now: {}", all.join(", "))?;
        Ok(())
    }
}
