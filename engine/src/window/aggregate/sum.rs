//! `sum`: total of a numeric field.

use std::marker::PhantomData;

use super::{Aggregate, FieldFn, Numeric};

/// Sums a numeric field.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let sum = Sum::of(|x: &(u8, f64)| x.1);
/// let mut acc = sum.create();
/// sum.add(&mut acc, &(1, 2.5), 0);
/// sum.add(&mut acc, &(2, 0.25), 0);
/// assert_eq!(sum.finish(&acc), 2.75);
/// ```
pub struct Sum<F, V> {
    field: F,
    _value: PhantomData<fn() -> V>,
}

impl<F: Clone, V> Clone for Sum<F, V> {
    fn clone(&self) -> Self {
        Sum {
            field: self.field.clone(),
            _value: PhantomData,
        }
    }
}

impl<F, V> Sum<F, V> {
    /// Sum of `field(record)`.
    pub fn of<T>(field: F) -> Self
    where
        F: FieldFn<T, V>,
    {
        Sum {
            field,
            _value: PhantomData,
        }
    }
}

impl<T, V: Numeric, F: FieldFn<T, V>> Aggregate<T> for Sum<F, V> {
    type Acc = V;
    type Out = V;

    fn create(&self) -> V {
        V::ZERO
    }

    #[inline(always)]
    fn add(&self, acc: &mut V, value: &T, _ts: i64) {
        *acc = acc.plus((self.field)(value));
    }

    fn merge(&self, acc: &mut V, other: &V) {
        *acc = acc.plus(*other);
    }

    fn finish(&self, acc: &V) -> V {
        *acc
    }
}
