//! `min` and `max`: the smallest or largest value of a numeric field.

use std::marker::PhantomData;

use super::{Aggregate, FieldFn, Numeric};

/// Smallest value of a numeric field (NaN counts as larger than every number, as in
/// Spark, so the result does not depend on arrival order). A window always holds a
/// record, so the result is a plain value.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let min = Min::of(|x: &i32| *x);
/// let mut acc = min.create();
/// for v in [4, -2, 9] { min.add(&mut acc, &v, 0); }
/// assert_eq!(min.finish(&acc), -2);
/// ```
pub type Min<F, V> = Extremum<F, V, false>;

/// Largest value of a numeric field (NaN counts as larger than every number, as in
/// Spark: one NaN makes the maximum NaN). A window always holds a record, so the result
/// is a plain value.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let max = Max::of(|x: &i32| *x);
/// let mut acc = max.create();
/// for v in [4, -2, 9] { max.add(&mut acc, &v, 0); }
/// assert_eq!(max.finish(&acc), 9);
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

/// `a > b` in Spark's order for floating point: NaN is larger than every number (and
/// equal to NaN), so `max` is NaN as soon as one value is, `min` ignores NaN unless every
/// value is NaN, and neither depends on the order values arrive in.
#[inline(always)]
fn greater<V: PartialOrd>(a: &V, b: &V) -> bool {
    #[allow(clippy::eq_op)] // a value unequal to itself is NaN
    let (a_nan, b_nan) = (a != a, b != b);
    match (a_nan, b_nan) {
        (false, false) => a > b,
        (true, false) => true,
        _ => false,
    }
}

/// Replaces `acc` with `v` if `v` is more extreme.
#[inline(always)]
pub(crate) fn keep<V: PartialOrd + Copy, const LARGEST: bool>(acc: &mut Option<V>, v: V) {
    let better = match acc {
        None => true,
        Some(current) if LARGEST => greater(&v, current),
        Some(current) => greater(current, &v),
    };
    if better {
        *acc = Some(v);
    }
}

impl<T, V: Numeric, F: FieldFn<T, V>, const LARGEST: bool> Aggregate<T>
    for Extremum<F, V, LARGEST>
{
    type Acc = Option<V>;
    type Out = V;

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

    /// The engine finishes only windows that hold records; an empty accumulator
    /// (possible only when called by hand) gives zero.
    fn finish(&self, acc: &Option<V>) -> V {
        acc.unwrap_or(V::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_is_the_largest_value_whatever_the_order() {
        let nan = f64::NAN;
        let show = |v: Option<f64>| v.map(|x| x.to_string());
        // (values in arrival order, min, max)
        let cases: [(&[f64], &str, &str); 6] = [
            (&[nan, 1.0, 2.0], "1", "NaN"),
            (&[1.0, nan, 2.0], "1", "NaN"),
            (&[1.0, 2.0, nan], "1", "NaN"),
            (&[nan, nan], "NaN", "NaN"),
            (&[-0.5, 3.0], "-0.5", "3"),
            (&[f64::NEG_INFINITY, nan, f64::INFINITY], "-inf", "NaN"),
        ];
        for (values, min, max) in cases {
            let (mut lo, mut hi) = (None, None);
            for &v in values {
                keep::<f64, false>(&mut lo, v);
                keep::<f64, true>(&mut hi, v);
            }
            assert_eq!(show(lo).as_deref(), Some(min), "min of {values:?}");
            assert_eq!(show(hi).as_deref(), Some(max), "max of {values:?}");
        }
    }
}
