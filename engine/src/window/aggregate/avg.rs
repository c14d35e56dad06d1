//! `avg`: arithmetic mean of a numeric field, as `f64`.

use std::marker::PhantomData;

use super::{Aggregate, FieldFn, Numeric};

/// Mean of a numeric field: `sum / count` in `f64`, as Spark computes `avg`.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let avg = Avg::of(|x: &u32| *x);
/// let mut acc = avg.create();
/// for v in [1, 2, 4] { avg.add(&mut acc, &v, 0); }
/// assert_eq!(avg.finish(&acc), Some(7.0 / 3.0));
/// ```
pub struct Avg<F, V> {
    field: F,
    _value: PhantomData<fn() -> V>,
}

impl<F: Clone, V> Clone for Avg<F, V> {
    fn clone(&self) -> Self {
        Avg {
            field: self.field.clone(),
            _value: PhantomData,
        }
    }
}

impl<F, V> Avg<F, V> {
    /// Mean of `field(record)`.
    pub fn of<T>(field: F) -> Self
    where
        F: FieldFn<T, V>,
    {
        Avg {
            field,
            _value: PhantomData,
        }
    }
}

impl<T, V: Numeric, F: FieldFn<T, V>> Aggregate<T> for Avg<F, V> {
    /// (sum, count)
    type Acc = (f64, u64);
    /// `None` only for an empty accumulator.
    type Out = Option<f64>;

    fn create(&self) -> (f64, u64) {
        (0.0, 0)
    }

    #[inline(always)]
    fn add(&self, acc: &mut (f64, u64), value: &T, _ts: i64) {
        acc.0 += (self.field)(value).as_f64();
        acc.1 += 1;
    }

    fn merge(&self, acc: &mut (f64, u64), other: &(f64, u64)) {
        acc.0 += other.0;
        acc.1 += other.1;
    }

    fn finish(&self, acc: &(f64, u64)) -> Option<f64> {
        (acc.1 > 0).then(|| acc.0 / acc.1 as f64)
    }
}
