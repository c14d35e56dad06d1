//! `with_processing_time`: each record's time is the pipeline clock's when it enters,
//! and the watermark is that clock, moved on with every batch and every tick of
//! processing time, so windows over it fire as the clock passes their end whether or
//! not records come: Flink's processing-time windows (Nexmark Q12's `PROCTIME()`).

use std::sync::Arc;

use super::{Downstream, Input};
use crate::error::Result;
use crate::metrics::OperatorCounters;
use crate::operator::Control;
use crate::record::Batch;
use crate::time::{Clock, Timestamp, MIN_WATERMARK};

pub(crate) struct ProcessingTimeAssigner<T> {
    clock: Arc<dyn Clock>,
    emitted: Timestamp,
    down: Downstream<T>,
    counters: Arc<OperatorCounters>,
}

impl<T> ProcessingTimeAssigner<T> {
    pub fn new(
        clock: Arc<dyn Clock>,
        down: Downstream<T>,
        counters: Arc<OperatorCounters>,
    ) -> Self {
        ProcessingTimeAssigner {
            clock,
            emitted: MIN_WATERMARK,
            down,
            counters,
        }
    }

    /// The watermark is now: no later record can be stamped earlier.
    fn advance(&mut self, now: Timestamp) -> Result<()> {
        if now > self.emitted {
            self.emitted = now;
            self.counters.set_watermark(now);
            self.down.control(Control::Watermark(now))?;
        }
        Ok(())
    }
}

impl<T> Input<T> for ProcessingTimeAssigner<T> {
    fn push(&mut self, mut batch: Batch<T>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        // Never behind a watermark already sent, even if the clock were set back.
        let now = self.clock.now_ms().max(self.emitted);
        for r in batch.iter_mut() {
            r.ts = now;
        }
        self.counters.add_in(batch.len());
        self.counters.add_out(batch.len());
        self.down.push(batch)?;
        self.advance(now)
    }

    fn control(&mut self, control: Control) -> Result<()> {
        match control {
            // Processing time replaces whatever event time came from upstream.
            Control::Watermark(_) | Control::Idle => Ok(()),
            Control::Tick(now) => {
                self.advance(now)?;
                self.down.control(control)
            }
            other => self.down.control(other),
        }
    }
}
