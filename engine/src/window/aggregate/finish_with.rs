//! `finish_with`: names an aggregate's result, so a window's figures are read as
//! `r.value.volume` rather than `r.value.1`.

use std::marker::PhantomData;

use super::Aggregate;
use crate::time::Timestamp;

/// An aggregate whose result goes through `finish`: build a struct of named fields
/// from a tuple of aggregates.
///
/// [`WindowedStream::aggregate_into`](crate::stream::WindowedStream::aggregate_into)
/// is the usual way to use it (the record type is known there, so the closure needs no
/// annotations).
///
/// ```
/// use tidewater_engine::prelude::*;
/// #[derive(Debug, PartialEq)]
/// struct Stats { n: u64, total: u32 }
/// let agg = (Count, Sum::of(|x: &u32| *x)).finish_with(|(n, total): (u64, u32)| Stats { n, total });
/// let mut acc = agg.create();
/// for v in [3, 4] { agg.add(&mut acc, &v, 0); }
/// assert_eq!(agg.finish(&acc), Stats { n: 2, total: 7 });
/// ```
pub struct FinishWith<A, F, O> {
    inner: A,
    finish: F,
    _out: PhantomData<fn() -> O>,
}

impl<A: Clone, F: Clone, O> Clone for FinishWith<A, F, O> {
    fn clone(&self) -> Self {
        FinishWith {
            inner: self.inner.clone(),
            finish: self.finish.clone(),
            _out: PhantomData,
        }
    }
}

/// Adds [`finish_with`](AggregateExt::finish_with) to every aggregate.
pub trait AggregateExt: Sized {
    /// Passes the aggregate's result through `finish` (to name its fields).
    fn finish_with<O, F>(self, finish: F) -> FinishWith<Self, F, O> {
        FinishWith {
            inner: self,
            finish,
            _out: PhantomData,
        }
    }
}

impl<A: Clone + Send + Sync + 'static> AggregateExt for A {}

impl<T, A, F, O> Aggregate<T> for FinishWith<A, F, O>
where
    A: Aggregate<T>,
    F: Fn(A::Out) -> O + Clone + Send + Sync + 'static,
    O: Send + 'static,
{
    type Acc = A::Acc;
    type Out = O;

    fn create(&self) -> A::Acc {
        self.inner.create()
    }

    #[inline(always)]
    fn add(&self, acc: &mut A::Acc, value: &T, ts: Timestamp) {
        self.inner.add(acc, value, ts);
    }

    fn merge(&self, acc: &mut A::Acc, other: &A::Acc) {
        self.inner.merge(acc, other);
    }

    fn finish(&self, acc: &A::Acc) -> O {
        (self.finish)(self.inner.finish(acc))
    }

    fn combines(&self) -> bool {
        self.inner.combines()
    }
}
