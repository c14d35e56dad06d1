//! `flat_map`: zero or more output records per input record, each with the input's
//! event time.

use std::marker::PhantomData;

use super::Operator;
use crate::record::{Batch, Record};

/// Expands each value into any number of values.
pub struct FlatMap<T, I, F> {
    f: F,
    _types: PhantomData<fn(T) -> I>,
}

impl<T, I: IntoIterator, F: FnMut(T) -> I> FlatMap<T, I, F> {
    /// A flat-map operator applying `f`.
    pub fn new(f: F) -> Self {
        FlatMap {
            f,
            _types: PhantomData,
        }
    }
}

impl<T, I, F> Operator for FlatMap<T, I, F>
where
    T: 'static,
    I: IntoIterator + 'static,
    I::Item: 'static,
    F: FnMut(T) -> I + 'static,
{
    type In = T;
    type Out = I::Item;

    #[inline]
    fn process_batch(
        &mut self,
        input: Batch<T>,
        output: &mut Batch<I::Item>,
    ) -> crate::error::Result<()> {
        // Most flat maps give zero or one record per record (a parse, an enum's
        // variant): room for one each saves the buffer's growing by doubling.
        output.reserve(input.len());
        for r in input {
            let ts = r.ts;
            output.extend(
                (self.f)(r.value)
                    .into_iter()
                    .map(|value| Record { ts, value }),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_map_emits_each_item_with_the_input_time() {
        let mut op = FlatMap::new(|s: &'static str| s.split(' ').map(str::len).collect::<Vec<_>>());
        let mut out = Vec::new();
        op.process_batch(vec![Record::new(1, "ab c"), Record::new(2, "")], &mut out)
            .unwrap();
        assert_eq!(
            out,
            vec![Record::new(1, 2), Record::new(1, 1), Record::new(2, 0)]
        );
    }
}
