//! Where late records go: counted always, and sent to a side output when one is set.

use std::sync::Arc;

use crate::error::Result;
use crate::metrics::OperatorCounters;
use crate::operator::Control;
use crate::record::{Batch, Record};
use crate::runtime::Downstream;

pub(crate) struct LateOutput<T> {
    side_output: Option<Downstream<T>>,
    buffer: Batch<T>,
    dropped: u64,
    counters: Arc<OperatorCounters>,
    /// How many input records one rejected record stands for (a partial accumulator
    /// of local-global aggregation stands for every record folded into it).
    weight: fn(&T) -> u64,
}

impl<T> LateOutput<T> {
    pub fn new(side_output: Option<Downstream<T>>, counters: Arc<OperatorCounters>) -> Self {
        LateOutput {
            side_output,
            buffer: Vec::new(),
            dropped: 0,
            counters,
            weight: |_| 1,
        }
    }

    /// Counts each rejected record as `weight(record)` late records.
    pub fn weighted(mut self, weight: fn(&T) -> u64) -> Self {
        self.weight = weight;
        self
    }

    #[inline]
    pub fn reject(&mut self, record: Record<T>) {
        self.dropped += (self.weight)(&record.value);
        if self.side_output.is_some() {
            self.buffer.push(record);
        }
    }

    /// Publishes the count and sends buffered late records to the side output.
    pub fn flush(&mut self) -> Result<()> {
        self.counters.add_late(std::mem::take(&mut self.dropped));
        if let Some(out) = self.side_output.as_mut() {
            if !self.buffer.is_empty() {
                self.counters.add_late_side_output(self.buffer.len() as u64);
                out.push(std::mem::take(&mut self.buffer))?;
            }
        }
        Ok(())
    }

    /// Passes a checkpoint barrier to the side output, which is a sink of its own.
    pub fn barrier(&mut self, id: u64) -> Result<()> {
        self.flush()?;
        match self.side_output.as_mut() {
            Some(out) => out.control(Control::Barrier(id)),
            None => Ok(()),
        }
    }

    pub fn end(&mut self) -> Result<()> {
        self.flush()?;
        match self.side_output.as_mut() {
            Some(out) => out.control(Control::EndOfInput),
            None => Ok(()),
        }
    }
}
