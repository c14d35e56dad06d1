//! The two taps around a window operator that feed the [`ExplainLog`]: one sees what
//! goes in (records, the watermark), one what comes out (results).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use super::{ExplainLog, Firing};
use crate::error::Result;
use crate::operator::Control;
use crate::record::Batch;
use crate::runtime::{Downstream, Input};
use crate::time::{Timestamp, MIN_WATERMARK};
use crate::window::WindowResult;

/// The key as JSON text (keys are serializable for checkpoints).
fn key_text<K: serde::Serialize>(key: &K) -> String {
    serde_json::to_string(key).unwrap_or_else(|e| format!("<{e}>"))
}

/// Before the window operator: records each record's key and time with the watermark
/// it meets, and the watermark's moves.
pub(crate) struct ExplainInput<T, KF> {
    pub name: Arc<str>,
    pub worker: usize,
    pub log: Arc<ExplainLog>,
    pub key_fn: KF,
    /// The operator's watermark, shared with the output tap of this worker.
    pub watermark: Rc<Cell<Timestamp>>,
    pub down: Downstream<T>,
}

impl<T, K: serde::Serialize, KF: Fn(&T) -> K> Input<T> for ExplainInput<T, KF> {
    fn push(&mut self, batch: Batch<T>) -> Result<()> {
        let wm = self.watermark.get();
        for r in &batch {
            let key = key_text(&(self.key_fn)(&r.value));
            self.log.record(&self.name, self.worker, key, r.ts, wm);
        }
        self.down.push(batch)
    }

    fn control(&mut self, control: Control) -> Result<()> {
        match control {
            Control::Watermark(wm) if wm > self.watermark.get() => {
                self.watermark.set(wm);
                self.log.watermark(&self.name, self.worker, wm);
            }
            // Results after this come from the end of input, not a watermark.
            Control::EndOfInput => self.watermark.set(MIN_WATERMARK),
            _ => {}
        }
        self.down.control(control)
    }
}

/// After the window operator: records each result as a firing of its window.
pub(crate) struct ExplainOutput<R> {
    pub name: Arc<str>,
    pub log: Arc<ExplainLog>,
    pub watermark: Rc<Cell<Timestamp>>,
    pub down: Downstream<R>,
}

impl<K: serde::Serialize, V> Input<WindowResult<K, V>> for ExplainOutput<WindowResult<K, V>> {
    fn push(&mut self, batch: Batch<WindowResult<K, V>>) -> Result<()> {
        for r in &batch {
            let firing = Firing {
                window_start: r.value.window_start,
                window_end: r.value.window_end,
                watermark: self.watermark.get(),
                is_final: r.value.is_final,
            };
            self.log.fired(&self.name, key_text(&r.value.key), firing);
        }
        self.down.push(batch)
    }

    fn control(&mut self, control: Control) -> Result<()> {
        self.down.control(control)
    }
}
