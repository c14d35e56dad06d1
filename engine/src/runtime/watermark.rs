//! `with_watermark`: assigns each record its event time and emits watermarks.
//!
//! Two nodes: [`WatermarkAssigner`] for the continuous engine (the watermark follows the
//! data after every batch, as in Flink), and [`SparkWatermarkAssigner`] for the
//! Spark-compatible micro-batch mode (the watermark moves only at micro-batch boundaries
//! and lags one batch, as in Spark Structured Streaming).

use std::sync::Arc;

use super::node::NodeId;
use super::{Downstream, Input};
use crate::error::Result;
use crate::metrics::OperatorCounters;
use crate::operator::Control;
use crate::record::Batch;
use crate::time::watermark::BoundedWatermark;
use crate::time::{Clock, Timestamp, MIN_WATERMARK, NO_TIMESTAMP};

/// Whether an extracted event time is one windows are exact for
/// ([`MIN_EVENT_TIME`](crate::time::MIN_EVENT_TIME) to
/// [`MAX_EVENT_TIME`](crate::time::MAX_EVENT_TIME)); a record without a time
/// ([`NO_TIMESTAMP`]) passes too: windows count it as late.
fn acceptable(ts: Timestamp) -> bool {
    ts == NO_TIMESTAMP || crate::time::in_event_time_range(ts)
}

/// Assigns each record its event time and returns the batch's greatest, failing on the
/// first time that is not [`acceptable`]. The loop keeps one running maximum of the
/// times shifted so the supported range starts at zero (times below it wrap to huge
/// values): one subtract and one compare per record, as cheap as the plain maximum the
/// watermark needs; only a batch holding a time outside the range (or a record without
/// one) takes the slow path.
#[inline(always)]
fn stamp<T>(batch: &mut Batch<T>, extractor: &impl Fn(&T) -> Timestamp) -> Result<Timestamp> {
    use crate::time::{MAX_EVENT_TIME, MIN_EVENT_TIME};
    let mut shifted_max = 0u64;
    for r in batch.iter_mut() {
        r.ts = extractor(&r.value);
        shifted_max = shifted_max.max(r.ts.wrapping_sub(MIN_EVENT_TIME) as u64);
    }
    if shifted_max <= (MAX_EVENT_TIME - MIN_EVENT_TIME) as u64 {
        return Ok((shifted_max as i64).wrapping_add(MIN_EVENT_TIME));
    }
    match batch.iter().map(|r| r.ts).find(|&ts| !acceptable(ts)) {
        Some(ts) => Err(out_of_range(ts)),
        None => Ok(batch
            .iter()
            .map(|r| r.ts)
            .filter(|&ts| ts != NO_TIMESTAMP)
            .max()
            .unwrap_or(NO_TIMESTAMP)),
    }
}

/// Counts a batch in and out and stamps it (see [`stamp`]); `None` for an empty batch.
#[inline(always)]
fn count_and_stamp<T>(
    id: &NodeId,
    counters: &OperatorCounters,
    batch: &mut Batch<T>,
    extractor: &impl Fn(&T) -> Timestamp,
) -> Result<Option<Timestamp>> {
    if batch.is_empty() {
        return Ok(None);
    }
    counters.add_in(batch.len());
    counters.add_out(batch.len());
    id.guard(|| stamp(batch, extractor)).map(Some)
}

#[cold]
fn out_of_range(ts: Timestamp) -> crate::error::EngineError {
    crate::error::EngineError::invalid(
        "with_watermark",
        "event time",
        format!(
            "epoch milliseconds from {} to {}",
            crate::time::MIN_EVENT_TIME,
            crate::time::MAX_EVENT_TIME
        ),
        ts.to_string(),
    )
}

/// Continuous watermark generation with optional idle detection.
pub(crate) struct WatermarkAssigner<T, F> {
    id: NodeId,
    extractor: F,
    generator: BoundedWatermark,
    emitted: Timestamp,
    idle_timeout_ms: Option<i64>,
    clock: Arc<dyn Clock>,
    last_activity_ms: i64,
    idle: bool,
    down: Downstream<T>,
    counters: Arc<OperatorCounters>,
}

impl<T, F: Fn(&T) -> Timestamp> WatermarkAssigner<T, F> {
    pub fn new(
        id: NodeId,
        extractor: F,
        delay_ms: i64,
        idle_timeout_ms: Option<i64>,
        clock: Arc<dyn Clock>,
        down: Downstream<T>,
        counters: Arc<OperatorCounters>,
    ) -> Self {
        let now = clock.now_ms();
        WatermarkAssigner {
            id,
            extractor,
            generator: BoundedWatermark::new(delay_ms),
            emitted: MIN_WATERMARK,
            idle_timeout_ms,
            clock,
            last_activity_ms: now,
            idle: false,
            down,
            counters,
        }
    }
}

impl<T, F: Fn(&T) -> Timestamp> Input<T> for WatermarkAssigner<T, F> {
    fn push(&mut self, mut batch: Batch<T>) -> Result<()> {
        let Some(max) = count_and_stamp(&self.id, &self.counters, &mut batch, &self.extractor)?
        else {
            return Ok(());
        };
        self.generator.observe(max);
        if self.idle_timeout_ms.is_some() {
            self.last_activity_ms = self.clock.now_ms();
            if self.idle {
                self.idle = false;
                self.counters.set_idle(false);
            }
        }
        self.down.push(batch)?;
        let wm = self.generator.current();
        if wm > self.emitted {
            self.emitted = wm;
            self.counters.set_watermark(wm);
            self.down.control(Control::Watermark(wm))?;
        }
        Ok(())
    }

    fn control(&mut self, control: Control) -> Result<()> {
        match control {
            // This strategy replaces whatever watermarks the source emitted.
            Control::Watermark(_) | Control::Idle => Ok(()),
            Control::Tick(now) => {
                if let Some(timeout) = self.idle_timeout_ms {
                    if !self.idle && now - self.last_activity_ms >= timeout {
                        self.idle = true;
                        self.counters.set_idle(true);
                        self.down.control(Control::Idle)?;
                    }
                }
                self.down.control(control)
            }
            Control::EndOfInput => {
                self.counters.set_ended();
                self.down.control(control)
            }
            Control::Barrier(_) => self.down.control(control),
        }
    }
}

/// Spark Structured Streaming's watermark: `wm[N+1] = max(wm[N], max_ts(batch N) - delay)`,
/// in force during the whole of batch N+1.
///
/// With `allow_multiple` (Spark's default) a batch's rows are checked for lateness
/// against the previous batch's watermark and windows are evicted with the new one, so
/// the watermark goes downstream after the batch's rows; otherwise it goes before them.
/// At end of input the extra no-data batch Spark runs is the last watermark.
pub(crate) struct SparkWatermarkAssigner<T, F> {
    id: NodeId,
    extractor: F,
    delay_ms: i64,
    /// Watermark in force for the next batch (from all batches so far).
    next: Timestamp,
    /// Watermark last sent downstream.
    emitted: Timestamp,
    allow_multiple: bool,
    down: Downstream<T>,
    counters: Arc<OperatorCounters>,
}

impl<T, F: Fn(&T) -> Timestamp> SparkWatermarkAssigner<T, F> {
    pub fn new(
        id: NodeId,
        extractor: F,
        delay_ms: i64,
        allow_multiple: bool,
        down: Downstream<T>,
        counters: Arc<OperatorCounters>,
    ) -> Self {
        SparkWatermarkAssigner {
            id,
            extractor,
            delay_ms,
            next: 0,
            emitted: MIN_WATERMARK,
            allow_multiple,
            down,
            counters,
        }
    }

    fn emit_pending(&mut self) -> Result<()> {
        if self.next > self.emitted {
            self.emitted = self.next;
            self.counters.set_watermark(self.next);
            self.down.control(Control::Watermark(self.next))?;
        }
        Ok(())
    }
}

impl<T, F: Fn(&T) -> Timestamp> Input<T> for SparkWatermarkAssigner<T, F> {
    fn push(&mut self, mut batch: Batch<T>) -> Result<()> {
        let Some(max_ts) = count_and_stamp(&self.id, &self.counters, &mut batch, &self.extractor)?
        else {
            return Ok(());
        };
        if self.allow_multiple {
            self.down.push(batch)?;
            self.emit_pending()?;
        } else {
            self.emit_pending()?;
            self.down.push(batch)?;
        }
        self.next = self.next.max(max_ts.saturating_sub(self.delay_ms));
        Ok(())
    }

    fn control(&mut self, control: Control) -> Result<()> {
        match control {
            Control::Watermark(_) | Control::Idle => Ok(()),
            Control::EndOfInput => {
                self.emit_pending()?;
                self.counters.set_ended();
                self.down.control(control)
            }
            other => self.down.control(other),
        }
    }
}
