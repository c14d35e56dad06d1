//! Drives one source reader on a worker: polls a batch, stamps its ingestion time and
//! pushes it down the fused chain.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use crate::connector::{SourcePoll, SourceReader};
use crate::error::EngineError;
use crate::operator::node::{fail, guarded};
use crate::operator::{Control, Downstream};
use crate::processor::metrics::OperatorCounters;
use crate::time::Clock;

/// What a poll achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskPoll {
    Progress,
    Idle,
    Finished,
}

/// Type-erased source driver for the worker loop.
pub(crate) trait SourceTask {
    fn poll(&mut self) -> TaskPoll;
    /// Ends the source early (graceful stop): downstream sees end of input.
    fn finish(&mut self);
    fn is_finished(&self) -> bool;
}

pub(crate) struct SourceDriver<R: SourceReader> {
    reader: R,
    name: Arc<str>,
    worker: usize,
    batch_size: usize,
    down: Downstream<R::Item>,
    counters: Arc<OperatorCounters>,
    ingest: Rc<Cell<Instant>>,
    clock: Arc<dyn Clock>,
    finished: bool,
}

impl<R: SourceReader> SourceDriver<R> {
    #[allow(clippy::too_many_arguments)] // plain wiring, called from one place
    pub fn new(
        reader: R,
        name: Arc<str>,
        worker: usize,
        batch_size: usize,
        down: Downstream<R::Item>,
        counters: Arc<OperatorCounters>,
        ingest: Rc<Cell<Instant>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        SourceDriver {
            reader,
            name,
            worker,
            batch_size,
            down,
            counters,
            ingest,
            clock,
            finished: false,
        }
    }
}

impl<R: SourceReader> SourceTask for SourceDriver<R> {
    fn poll(&mut self) -> TaskPoll {
        if self.finished {
            return TaskPoll::Finished;
        }
        let mut batch = Vec::with_capacity(self.batch_size);
        let reader = &mut self.reader;
        let status = guarded(&self.name, self.worker, || reader.poll_batch(&mut batch));
        let status = match status {
            Ok(s) => s,
            Err(e) => fail(match e {
                EngineError::Source { .. } => e,
                other => EngineError::Source {
                    source_name: self.name.to_string(),
                    message: other.to_string(),
                },
            }),
        };
        let had_data = !batch.is_empty();
        if had_data {
            self.ingest.set(Instant::now());
            self.counters.add_out(batch.len());
            self.down.push(batch);
        }
        match status {
            SourcePoll::Ready if had_data => TaskPoll::Progress,
            SourcePoll::Ready | SourcePoll::Pending => {
                self.down.control(Control::Tick(self.clock.now_ms()));
                TaskPoll::Idle
            }
            SourcePoll::Watermark(wm) => {
                self.counters.set_watermark(wm);
                self.down.control(Control::Watermark(wm));
                TaskPoll::Progress
            }
            SourcePoll::Finished => {
                self.finish();
                TaskPoll::Finished
            }
        }
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.down.control(Control::EndOfInput);
        }
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}
