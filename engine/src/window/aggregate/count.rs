//! `count`: number of records in the window.

use super::Aggregate;

/// Counts records.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let mut acc = Aggregate::<&str>::create(&Count);
/// Aggregate::<&str>::add(&Count, &mut acc, &"a", 0);
/// Aggregate::<&str>::add(&Count, &mut acc, &"b", 0);
/// assert_eq!(Aggregate::<&str>::finish(&Count, &acc), 2);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Count;

impl<T> Aggregate<T> for Count {
    type Acc = u64;
    type Out = u64;

    #[inline(always)]
    fn create(&self) -> u64 {
        0
    }

    #[inline(always)]
    fn add(&self, acc: &mut u64, _value: &T, _ts: i64) {
        *acc += 1;
    }

    #[inline(always)]
    fn merge(&self, acc: &mut u64, other: &u64) {
        *acc += *other;
    }

    #[inline(always)]
    fn finish(&self, acc: &u64) -> u64 {
        *acc
    }
}
