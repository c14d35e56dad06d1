//! `min` and `max`: the smallest or largest value of a numeric field.

use std::marker::PhantomData;

use super::{Aggregate, FieldFn, Numeric};

/// Smallest value of a numeric field (`None` only for an empty accumulator).
///
/// ```
/// use tidewater_engine::prelude::*;
/// let min = Min::of(|x: &i32| *x);
/// let mut acc = min.create();
/// for v in [4, -2, 9] { min.add(&mut acc, &v, 0); }
/// assert_eq!(min.finish(&acc), Some(-2));
/// ```
pub type Min<F, V> = Extremum<F, V, false>;

/// Largest value of a numeric field (`None` only for an empty accumulator).
///
/// ```
/// use tidewater_engine::prelude::*;
/// let max = Max::of(|x: &i32| *x);
/// let mut acc = max.create();
/// for v in [4, -2, 9] { max.add(&mut acc, &v, 0); }
/// assert_eq!(max.finish(&acc), Some(9));
/// ```
pub type Max<F, V> = Extremum<F, V, true>;

/// The smallest (`LARGEST = false`) or largest (`LARGEST = true`) value of a field; use
/// the [`Min`] and [`Max`] aliases.
pub struct Extremum<F, V, const LARGEST: bool> {
    field: F,
    _value: PhantomData<fn() -> V>,
}

impl<F: Clone, V, const LARGEST: bool> Clone for Extremum<F, V, LARGEST> {
    fn clone(&self) -> Self {
        Extremum {
            field: self.field.clone(),
            _value: PhantomData,
        }
    }
}

impl<F, V, const LARGEST: bool> Extremum<F, V, LARGEST> {
    /// Extremum of `field(record)`.
    pub fn of<T>(field: F) -> Self
    where
        F: FieldFn<T, V>,
    {
        Extremum {
            field,
            _value: PhantomData,
        }
    }
}

/// Replaces `acc` with `v` if `v` is more extreme (NaN never replaces a number).
#[inline(always)]
pub(crate) fn keep<V: PartialOrd + Copy, const LARGEST: bool>(acc: &mut Option<V>, v: V) {
    let better = match acc {
        None => true,
        Some(current) if LARGEST => v > *current,
        Some(current) => v < *current,
    };
    if better {
        *acc = Some(v);
    }
}

impl<T, V: Numeric, F: FieldFn<T, V>, const LARGEST: bool> Aggregate<T>
    for Extremum<F, V, LARGEST>
{
    type Acc = Option<V>;
    type Out = Option<V>;

    fn create(&self) -> Option<V> {
        None
    }

    #[inline(always)]
    fn add(&self, acc: &mut Option<V>, value: &T, _ts: i64) {
        keep::<V, LARGEST>(acc, (self.field)(value));
    }

    fn merge(&self, acc: &mut Option<V>, other: &Option<V>) {
        if let Some(v) = *other {
            keep::<V, LARGEST>(acc, v);
        }
    }

    fn finish(&self, acc: &Option<V>) -> Option<V> {
        *acc
    }
}
