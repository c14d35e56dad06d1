//! Tuples of aggregates are aggregates: each element runs over the same records.

use super::Aggregate;
use crate::time::Timestamp;

macro_rules! tuple_aggregate {
    ($(($A:ident, $i:tt)),+) => {
        impl<T, $($A: Aggregate<T>),+> Aggregate<T> for ($($A,)+) {
            type Acc = ($($A::Acc,)+);
            type Out = ($($A::Out,)+);

            fn create(&self) -> Self::Acc {
                ($(self.$i.create(),)+)
            }

            #[inline(always)]
            fn add(&self, acc: &mut Self::Acc, value: &T, ts: Timestamp) {
                $(self.$i.add(&mut acc.$i, value, ts);)+
            }

            fn merge(&self, acc: &mut Self::Acc, other: &Self::Acc) {
                $(self.$i.merge(&mut acc.$i, &other.$i);)+
            }

            fn finish(&self, acc: &Self::Acc) -> Self::Out {
                ($(self.$i.finish(&acc.$i),)+)
            }

            fn combines(&self) -> bool {
                true $(&& self.$i.combines())+
            }
        }
    };
}

tuple_aggregate!((A, 0));
tuple_aggregate!((A, 0), (B, 1));
tuple_aggregate!((A, 0), (B, 1), (C, 2));
tuple_aggregate!((A, 0), (B, 1), (C, 2), (D, 3));
tuple_aggregate!((A, 0), (B, 1), (C, 2), (D, 3), (E, 4));
tuple_aggregate!((A, 0), (B, 1), (C, 2), (D, 3), (E, 4), (F, 5));
tuple_aggregate!((A, 0), (B, 1), (C, 2), (D, 3), (E, 4), (F, 5), (G, 6));
tuple_aggregate!(
    (A, 0),
    (B, 1),
    (C, 2),
    (D, 3),
    (E, 4),
    (F, 5),
    (G, 6),
    (H, 7)
);

#[cfg(test)]
mod tests {
    use crate::window::aggregate::*;

    #[test]
    fn tuple_runs_every_aggregate_over_the_same_records_and_merges_elementwise() {
        let agg = (
            Count,
            Sum::of(|x: &f64| *x),
            Min::of(|x: &f64| *x),
            Max::of(|x: &f64| *x),
        );
        let (mut a, mut b) = (agg.create(), agg.create());
        for (v, ts) in [(1.5, 1), (-2.0, 2)] {
            agg.add(&mut a, &v, ts);
        }
        agg.add(&mut b, &4.25, 3);
        agg.merge(&mut a, &b);
        // count 3, sum 1.5 - 2 + 4.25, min -2, max 4.25
        assert_eq!(agg.finish(&a), (3, 3.75, -2.0, 4.25));
    }
}
