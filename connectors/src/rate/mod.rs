//! Spark's `rate` test source: rows `{timestamp, value}` at a set rate, with a linear
//! ramp-up, split into partitions.

mod source;

pub use source::{value_at_second, RateSource, RateSourceConfig};
