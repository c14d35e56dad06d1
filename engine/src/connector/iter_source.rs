//! A source built from an iterator factory, one iterator per worker.

use std::marker::PhantomData;

use super::{Source, SourcePoll, SourceReader, WorkerInfo};
use crate::error::Result;
use crate::record::{Batch, Record};
use crate::time::NO_TIMESTAMP;

/// Calls `factory(worker)` on every worker and reads the iterator it returns; the
/// factory decides how the work is split.
///
/// ```
/// use tidewater_engine::prelude::*;
/// // Each worker produces the numbers congruent to its index.
/// let source = IterSource::new(|w: &WorkerInfo| {
///     let (index, parallelism) = (w.index, w.parallelism);
///     (0..10u64).filter(move |i| *i as usize % parallelism == index)
/// });
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default().with_parallelism(2));
/// p.source(source).sink(out.clone());
/// p.run().unwrap();
/// let mut values = out.values();
/// values.sort();
/// assert_eq!(values, (0..10).collect::<Vec<_>>());
/// ```
pub struct IterSource<F, I> {
    factory: F,
    _iter: PhantomData<fn() -> I>,
}

impl<F, I> IterSource<F, I>
where
    F: Fn(&WorkerInfo) -> I + Send + Sync + 'static,
    I: Iterator + 'static,
    I::Item: Send + 'static,
{
    /// A source reading `factory(worker)` on each worker.
    pub fn new(factory: F) -> Self {
        IterSource {
            factory,
            _iter: PhantomData,
        }
    }
}

impl<F, I> Source for IterSource<F, I>
where
    F: Fn(&WorkerInfo) -> I + Send + Sync + 'static,
    I: Iterator + 'static,
    I::Item: Send + 'static,
{
    type Item = I::Item;
    type Reader = IterReader<I>;

    fn name(&self) -> String {
        "iter_source".to_string()
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<IterReader<I>> {
        Ok(IterReader {
            iter: (self.factory)(worker),
            batch_size: worker.batch_size.max(1),
        })
    }
}

/// One worker's iterator.
pub struct IterReader<I> {
    iter: I,
    batch_size: usize,
}

impl<I: Iterator + 'static> SourceReader for IterReader<I> {
    type Item = I::Item;

    fn poll_batch(&mut self, out: &mut Batch<I::Item>) -> Result<SourcePoll> {
        for _ in 0..self.batch_size {
            match self.iter.next() {
                Some(value) => out.push(Record::new(NO_TIMESTAMP, value)),
                None => return Ok(SourcePoll::Finished),
            }
        }
        Ok(SourcePoll::Ready)
    }
}
