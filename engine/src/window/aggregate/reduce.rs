//! `reduce`: combines the window's values pairwise with a user function.

use std::marker::PhantomData;

use super::Aggregate;

/// Folds values with an associative function: `f(f(a, b), c)`.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let longest = Reduce::new(|a: String, b: String| if b.len() > a.len() { b } else { a });
/// let mut acc = longest.create();
/// for w in ["tide", "water", "sea"] { longest.add(&mut acc, &w.to_string(), 0); }
/// assert_eq!(longest.finish(&acc), Some("water".to_string()));
/// ```
pub struct Reduce<T, F> {
    f: F,
    _types: PhantomData<fn(T)>,
}

impl<T, F: Clone> Clone for Reduce<T, F> {
    fn clone(&self) -> Self {
        Reduce {
            f: self.f.clone(),
            _types: PhantomData,
        }
    }
}

impl<T, F: Fn(T, T) -> T + Clone + Send + Sync + 'static> Reduce<T, F> {
    /// A reduction with `f`, which must be associative (panes and sessions merge
    /// partial results).
    pub fn new(f: F) -> Self {
        Reduce {
            f,
            _types: PhantomData,
        }
    }
}

impl<T, F> Aggregate<T> for Reduce<T, F>
where
    T: Clone + Send + serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: Fn(T, T) -> T + Clone + Send + Sync + 'static,
{
    type Acc = Option<T>;
    type Out = Option<T>;

    fn create(&self) -> Option<T> {
        None
    }

    fn add(&self, acc: &mut Option<T>, value: &T, _ts: i64) {
        *acc = Some(match acc.take() {
            Some(current) => (self.f)(current, value.clone()),
            None => value.clone(),
        });
    }

    fn merge(&self, acc: &mut Option<T>, other: &Option<T>) {
        if let Some(v) = other {
            self.add(acc, v, 0);
        }
    }

    fn finish(&self, acc: &Option<T>) -> Option<T> {
        acc.clone()
    }
}
