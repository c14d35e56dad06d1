//! `inspect`: calls a function on each record and passes it on unchanged.

use std::marker::PhantomData;

use super::Operator;
use crate::record::Batch;

/// Observes records without changing them (logging, counting, assertions).
pub struct Inspect<T, F> {
    f: F,
    _types: PhantomData<fn(T)>,
}

impl<T, F: FnMut(&T)> Inspect<T, F> {
    /// An inspect operator calling `f` on every value.
    pub fn new(f: F) -> Self {
        Inspect {
            f,
            _types: PhantomData,
        }
    }
}

impl<T: 'static, F: FnMut(&T) + 'static> Operator for Inspect<T, F> {
    type In = T;
    type Out = T;

    #[inline]
    fn process_batch(
        &mut self,
        input: Batch<T>,
        output: &mut Batch<T>,
    ) -> crate::error::Result<()> {
        for r in &input {
            (self.f)(&r.value);
        }
        *output = input;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    #[test]
    fn inspect_sees_every_value_and_forwards_the_batch() {
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let log = seen.clone();
        let mut op = Inspect::new(move |x: &u8| log.borrow_mut().push(*x));
        let mut out = Vec::new();
        op.process_batch(vec![Record::new(0, 3), Record::new(0, 4)], &mut out)
            .unwrap();
        assert_eq!(out, vec![Record::new(0, 3), Record::new(0, 4)]);
        assert_eq!(*seen.borrow(), vec![3, 4]);
    }
}
