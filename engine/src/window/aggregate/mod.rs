//! Aggregates: one file per aggregate, each an accumulator plus how to fold records
//! into it, merge two of them (for sessions and sliding-window panes) and finish it.
//!
//! Tuples of aggregates are aggregates: `(Count, Sum::of(|e: &Ev| e.amount))` computes
//! both in one pass and returns `(u64, f64)`.

mod avg;
mod collect;
mod count;
mod event_span;
mod extremum;
mod finish_with;
mod positional;
mod reduce;
mod sum;
mod tuple;

pub use avg::Avg;
pub use collect::Collect;
pub use count::Count;
pub use event_span::{EventSpan, Span};
pub use extremum::{Extremum, Max, Min};
pub use finish_with::{AggregateExt, FinishWith};
pub use positional::{First, Last, Positional};
pub use reduce::Reduce;
pub use sum::Sum;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::time::Timestamp;

/// A window aggregate over records of type `T`.
///
/// Implement it for custom aggregates:
///
/// ```
/// use tidewater_engine::prelude::*;
///
/// /// Number of distinct values seen (exact).
/// #[derive(Clone)]
/// struct Distinct;
///
/// impl Aggregate<u32> for Distinct {
///     type Acc = std::collections::BTreeSet<u32>;
///     type Out = usize;
///     fn create(&self) -> Self::Acc { Default::default() }
///     fn add(&self, acc: &mut Self::Acc, value: &u32, _ts: i64) { acc.insert(*value); }
///     fn merge(&self, acc: &mut Self::Acc, other: &Self::Acc) { acc.extend(other.iter().copied()); }
///     fn finish(&self, acc: &Self::Acc) -> usize { acc.len() }
/// }
///
/// let mut acc = Distinct.create();
/// for v in [3, 1, 3] { Distinct.add(&mut acc, &v, 0); }
/// assert_eq!(Distinct.finish(&acc), 2);
/// ```
pub trait Aggregate<T>: Clone + Send + Sync + 'static {
    /// The accumulator kept per key and window (or pane); serializable so checkpoints
    /// can store it.
    type Acc: Clone + Send + Serialize + DeserializeOwned + 'static;
    /// The result emitted per window.
    type Out: Send + 'static;

    /// An empty accumulator.
    fn create(&self) -> Self::Acc;
    /// Folds one record (with its event time) into `acc`.
    fn add(&self, acc: &mut Self::Acc, value: &T, ts: Timestamp);
    /// Folds `other` into `acc` (session merges, sliding-window panes).
    fn merge(&self, acc: &mut Self::Acc, other: &Self::Acc);
    /// The result of a window.
    fn finish(&self, acc: &Self::Acc) -> Self::Out;

    /// Whether folding records into partial accumulators before the hash exchange pays
    /// (local-global aggregation of tumbling and sliding windows at parallelism > 1,
    /// see [`Config::local_aggregation`](crate::config::Config::local_aggregation)):
    /// true when an accumulator is smaller than the records it folds, false for
    /// aggregates that keep every record, such as [`Collect`]. When it is true,
    /// [`merge`](Self::merge) must give the accumulator that adding both inputs' records
    /// to one accumulator gives.
    fn combines(&self) -> bool {
        true
    }
}

/// Numbers that `Sum`, `Min`, `Max` and `Avg` accept.
pub trait Numeric:
    Copy + PartialOrd + Send + Sync + Serialize + DeserializeOwned + 'static
{
    /// The additive identity.
    const ZERO: Self;
    /// `self + other` (wrapping for integers, so no panic on overflow).
    fn plus(self, other: Self) -> Self;
    /// The value as `f64` (for averages).
    fn as_f64(self) -> f64;
}

macro_rules! numeric_int {
    ($($t:ty),*) => {$(
        impl Numeric for $t {
            const ZERO: Self = 0;
            #[inline(always)]
            fn plus(self, other: Self) -> Self { self.wrapping_add(other) }
            #[inline(always)]
            fn as_f64(self) -> f64 { self as f64 }
        }
    )*};
}
numeric_int!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

macro_rules! numeric_float {
    ($($t:ty),*) => {$(
        impl Numeric for $t {
            const ZERO: Self = 0.0;
            #[inline(always)]
            fn plus(self, other: Self) -> Self { self + other }
            #[inline(always)]
            fn as_f64(self) -> f64 { self as f64 }
        }
    )*};
}
numeric_float!(f32, f64);

/// A function reading the aggregated field of a record.
pub trait FieldFn<T, V>: Fn(&T) -> V + Clone + Send + Sync + 'static {}
impl<T, V, F: Fn(&T) -> V + Clone + Send + Sync + 'static> FieldFn<T, V> for F {}
