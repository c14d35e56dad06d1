//! `filter`: keeps the records for which a predicate holds.

use std::marker::PhantomData;

use super::Operator;
use crate::record::Batch;

/// Keeps records whose value satisfies the predicate.
pub struct Filter<T, F> {
    predicate: F,
    _types: PhantomData<fn(T)>,
}

impl<T, F: FnMut(&T) -> bool> Filter<T, F> {
    /// A filter operator keeping records for which `predicate` is true.
    pub fn new(predicate: F) -> Self {
        Filter {
            predicate,
            _types: PhantomData,
        }
    }
}

impl<T: 'static, F: FnMut(&T) -> bool + 'static> Operator for Filter<T, F> {
    type In = T;
    type Out = T;

    #[inline]
    fn process_batch(
        &mut self,
        mut input: Batch<T>,
        output: &mut Batch<T>,
    ) -> crate::error::Result<()> {
        let p = &mut self.predicate;
        input.retain(|r| p(&r.value));
        if output.is_empty() {
            *output = input;
        } else {
            output.append(&mut input);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    #[test]
    fn filter_keeps_matching_records_in_order() {
        let mut op = Filter::new(|x: &i32| x % 2 == 0);
        let mut out = Vec::new();
        let input = (1..=6).map(|i| Record::new(i as i64, i)).collect();
        op.process_batch(input, &mut out).unwrap();
        assert_eq!(
            out,
            vec![Record::new(2, 2), Record::new(4, 4), Record::new(6, 6)]
        );
    }
}
