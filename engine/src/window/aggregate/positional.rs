//! `first` and `last`: the value of the record with the earliest or latest event time.
//!
//! Ordered by event time rather than arrival, so results do not depend on how an
//! exchange interleaved the inputs; ties go to the earlier arrival for `first` and the
//! later one for `last`.

use std::marker::PhantomData;

use super::{Aggregate, FieldFn};
use crate::time::Timestamp;

/// Value of the record with the smallest event time (a plain value: a window always
/// holds a record).
///
/// ```
/// use tidewater_engine::prelude::*;
/// let first = First::of(|x: &&str| x.to_string());
/// let mut acc = first.create();
/// first.add(&mut acc, &"late", 20);
/// first.add(&mut acc, &"early", 10);
/// assert_eq!(first.finish(&acc), "early");
/// ```
pub type First<F, V> = Positional<F, V, false>;

/// Value of the record with the largest event time (a plain value: a window always
/// holds a record).
///
/// ```
/// use tidewater_engine::prelude::*;
/// let last = Last::of(|x: &&str| x.to_string());
/// let mut acc = last.create();
/// last.add(&mut acc, &"late", 20);
/// last.add(&mut acc, &"early", 10);
/// assert_eq!(last.finish(&acc), "late");
/// ```
pub type Last<F, V> = Positional<F, V, true>;

/// First (`LATEST = false`) or last (`LATEST = true`) value by event time; use the
/// [`First`] and [`Last`] aliases.
pub struct Positional<F, V, const LATEST: bool> {
    field: F,
    _value: PhantomData<fn() -> V>,
}

impl<F: Clone, V, const LATEST: bool> Clone for Positional<F, V, LATEST> {
    fn clone(&self) -> Self {
        Positional {
            field: self.field.clone(),
            _value: PhantomData,
        }
    }
}

impl<F, V, const LATEST: bool> Positional<F, V, LATEST> {
    /// First or last `field(record)` by event time.
    pub fn of<T>(field: F) -> Self
    where
        F: FieldFn<T, V>,
    {
        Positional {
            field,
            _value: PhantomData,
        }
    }

    #[inline(always)]
    fn replaces(current: Timestamp, candidate: Timestamp) -> bool {
        if LATEST {
            candidate >= current
        } else {
            candidate < current
        }
    }
}

impl<T, V, F, const LATEST: bool> Aggregate<T> for Positional<F, V, LATEST>
where
    V: Clone + Default + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: FieldFn<T, V>,
{
    type Acc = Option<(Timestamp, V)>;
    type Out = V;

    fn create(&self) -> Self::Acc {
        None
    }

    #[inline]
    fn add(&self, acc: &mut Self::Acc, value: &T, ts: Timestamp) {
        match acc {
            Some((current, _)) if !Self::replaces(*current, ts) => {}
            _ => *acc = Some((ts, (self.field)(value))),
        }
    }

    fn merge(&self, acc: &mut Self::Acc, other: &Self::Acc) {
        if let Some((ts, v)) = other {
            match acc {
                Some((current, _)) if !Self::replaces(*current, *ts) => {}
                _ => *acc = Some((*ts, v.clone())),
            }
        }
    }

    /// The engine finishes only windows that hold records; an empty accumulator
    /// (possible only when called by hand) gives `V::default()`.
    fn finish(&self, acc: &Self::Acc) -> V {
        acc.as_ref().map(|(_, v)| v.clone()).unwrap_or_default()
    }
}
