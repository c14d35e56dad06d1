//! `map`: one output record per input record, event time kept.

use std::marker::PhantomData;

use super::Operator;
use crate::record::{Batch, Record};

/// Applies a function to every record's value.
pub struct Map<T, U, F> {
    f: F,
    _types: PhantomData<fn(T) -> U>,
}

impl<T, U, F: FnMut(T) -> U> Map<T, U, F> {
    /// A map operator applying `f`.
    pub fn new(f: F) -> Self {
        Map {
            f,
            _types: PhantomData,
        }
    }
}

impl<T: 'static, U: 'static, F: FnMut(T) -> U + 'static> Operator for Map<T, U, F> {
    type In = T;
    type Out = U;

    #[inline]
    fn process_batch(
        &mut self,
        input: Batch<T>,
        output: &mut Batch<U>,
    ) -> crate::error::Result<()> {
        let f = &mut self.f;
        output.extend(input.into_iter().map(|r| Record {
            ts: r.ts,
            value: f(r.value),
        }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_transforms_values_and_keeps_event_time() {
        let mut op = Map::new(|x: i32| x * 10);
        let mut out = Vec::new();
        op.process_batch(vec![Record::new(5, 1), Record::new(7, 2)], &mut out)
            .unwrap();
        assert_eq!(out, vec![Record::new(5, 10), Record::new(7, 20)]);
    }
}
