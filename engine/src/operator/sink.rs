//! The node around a [`SinkWriter`]: counts records, records end-to-end latency and
//! turns writer errors into a failed run that names the sink.

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::node::{fail, guarded};
use super::{Control, Input};
use crate::connector::SinkWriter;
use crate::error::EngineError;
use crate::processor::metrics::{LatencyRecorder, OperatorCounters};
use crate::record::Batch;

pub(crate) struct SinkNode<T, W> {
    writer: W,
    name: Arc<str>,
    worker: usize,
    counters: Arc<OperatorCounters>,
    latency: Arc<LatencyRecorder>,
    ingest: Rc<Cell<Instant>>,
    _types: PhantomData<fn(T)>,
}

impl<T, W: SinkWriter<T>> SinkNode<T, W> {
    pub fn new(
        writer: W,
        name: Arc<str>,
        worker: usize,
        counters: Arc<OperatorCounters>,
        latency: Arc<LatencyRecorder>,
        ingest: Rc<Cell<Instant>>,
    ) -> Self {
        SinkNode {
            writer,
            name,
            worker,
            counters,
            latency,
            ingest,
            _types: PhantomData,
        }
    }

    fn check(&self, result: crate::error::Result<()>) {
        if let Err(e) = result {
            let error = match e {
                EngineError::Sink { .. } => e,
                other => EngineError::Sink {
                    sink: self.name.to_string(),
                    message: other.to_string(),
                },
            };
            fail(error);
        }
    }
}

impl<T, W: SinkWriter<T>> Input<T> for SinkNode<T, W> {
    fn push(&mut self, batch: Batch<T>) {
        let n = batch.len();
        if n == 0 {
            return;
        }
        self.counters.add_in(n);
        self.latency.record(self.ingest.get().elapsed(), n as u64);
        let writer = &mut self.writer;
        let result = guarded(&self.name, self.worker, || writer.write_batch(batch));
        self.check(result);
    }

    fn control(&mut self, control: Control) {
        let writer = &mut self.writer;
        let result = guarded(&self.name, self.worker, || match control {
            Control::Watermark(wm) => writer.on_watermark(wm),
            Control::EndOfInput => writer.finish(),
            _ => Ok(()),
        });
        match control {
            Control::Watermark(wm) => self.counters.set_watermark(wm),
            Control::EndOfInput => self.counters.set_ended(),
            _ => {}
        }
        self.check(result);
    }
}
