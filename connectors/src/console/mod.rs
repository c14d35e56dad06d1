//! Spark's `console` sink: each batch as a table, as `Dataset.show` prints it.

mod table;

pub use table::{render_table, SparkConsoleSink};
