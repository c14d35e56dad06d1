//! A sink that calls a function for every value (`for_each`).

use std::marker::PhantomData;

use super::{Sink, SinkWriter, WorkerInfo};
use crate::error::Result;
use crate::record::Batch;

/// Calls a function on every value. The function is cloned for each worker.
pub struct FnSink<T, F> {
    f: F,
    _types: PhantomData<fn(T)>,
}

impl<T, F: Fn(T) + Clone + Send + Sync + 'static> FnSink<T, F> {
    /// A sink calling `f` on each value.
    pub fn new(f: F) -> Self {
        FnSink {
            f,
            _types: PhantomData,
        }
    }
}

impl<T: 'static, F: Fn(T) + Clone + Send + Sync + 'static> Sink<T> for FnSink<T, F> {
    type Writer = FnWriter<F>;

    fn name(&self) -> String {
        "for_each".to_string()
    }

    fn create_writer(&self, _worker: &WorkerInfo) -> Result<FnWriter<F>> {
        Ok(FnWriter { f: self.f.clone() })
    }
}

/// One worker's [`FnSink`] writer.
pub struct FnWriter<F> {
    f: F,
}

impl<T: 'static, F: Fn(T) + 'static> SinkWriter<T> for FnWriter<F> {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        for r in batch {
            (self.f)(r.value);
        }
        Ok(())
    }
}
