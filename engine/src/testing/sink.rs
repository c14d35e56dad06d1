//! [`TestSink`]: what a pipeline under test produced, with assertions that show a
//! table of the rows that differ.

use std::fmt::Debug;

use crate::connector::{MemorySink, Sink, WorkerInfo};
use crate::error::Result;

/// Collects a pipeline's output for a test. Clones share the rows.
///
/// ```
/// use tidewater_engine::testing::TestSink;
/// use tidewater_engine::connector::{Sink, SinkWriter, WorkerInfo};
/// use tidewater_engine::prelude::*;
///
/// let sink = TestSink::new();
/// let mut w = sink.create_writer(&WorkerInfo::new(&Config::default(), 0, 1)).unwrap();
/// w.write_batch(vec![Record::new(0, ("b", 2)), Record::new(0, ("a", 1))]).unwrap();
/// let diff = sink.diff_sorted([("a", 1), ("c", 3)]).unwrap_err();
/// assert_eq!(diff, r#"rows differ (expected 2, actual 2):
///   | expected | actual   |
///   | ------   | ------   |
///   | ("a", 1) | ("a", 1) |
///   |          | ("b", 2) | <- unexpected
///   | ("c", 3) |          | <- missing
/// "#);
/// ```
pub struct TestSink<T> {
    rows: MemorySink<T>,
}

impl<T> Clone for TestSink<T> {
    fn clone(&self) -> Self {
        TestSink {
            rows: self.rows.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> Default for TestSink<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Send + 'static> TestSink<T> {
    /// An empty sink.
    pub fn new() -> Self {
        TestSink {
            rows: MemorySink::new(),
        }
    }

    /// Takes the rows received so far, in arrival order (the next `take` starts after
    /// them).
    pub fn take(&self) -> Vec<T> {
        self.rows.take()
    }

    /// True if no row waits to be taken.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Takes the rows received so far, sorted (rows from several workers arrive in
    /// no fixed order).
    pub fn drain_sorted(&self) -> Vec<T>
    where
        T: Ord,
    {
        let mut rows = self.take();
        rows.sort();
        rows
    }

    /// Takes the rows received so far and compares them, sorted, with `expected`
    /// (sorted too); `Err` holds the table of rows that differ.
    pub fn diff_sorted(
        &self,
        expected: impl IntoIterator<Item = T>,
    ) -> std::result::Result<(), String>
    where
        T: Ord + Debug,
    {
        let mut expected: Vec<T> = expected.into_iter().collect();
        expected.sort();
        let actual = self.drain_sorted();
        if expected == actual {
            Ok(())
        } else {
            Err(table(&expected, &actual))
        }
    }

    /// Takes the rows received so far and asserts that, sorted, they are `expected`.
    ///
    /// # Panics
    /// When they differ, with a table: rows in both, rows missing, rows unexpected.
    #[track_caller]
    pub fn assert_sorted_eq(&self, expected: impl IntoIterator<Item = T>)
    where
        T: Ord + Debug,
    {
        if let Err(diff) = self.diff_sorted(expected) {
            panic!("{diff}");
        }
    }
}

/// A table of two sorted row lists, merged: each row in the column(s) it is in.
fn table<T: Ord + Debug>(expected: &[T], actual: &[T]) -> String {
    let (mut i, mut j) = (0, 0);
    let mut lines: Vec<(String, String, &str)> = Vec::new();
    while i < expected.len() || j < actual.len() {
        let order = match (expected.get(i), actual.get(j)) {
            (Some(e), Some(a)) => e.cmp(a),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Equal => {
                lines.push((format!("{:?}", expected[i]), format!("{:?}", actual[j]), ""));
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => {
                lines.push((format!("{:?}", expected[i]), String::new(), " <- missing"));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                lines.push((String::new(), format!("{:?}", actual[j]), " <- unexpected"));
                j += 1;
            }
        }
    }
    let w1 = lines.iter().map(|l| l.0.len()).max().unwrap_or(0).max(8);
    let w2 = lines.iter().map(|l| l.1.len()).max().unwrap_or(0).max(8);
    let mut out = format!(
        "rows differ (expected {}, actual {}):\n  | {:w1$} | {:w2$} |\n  | {:w1$} | {:w2$} |\n",
        expected.len(),
        actual.len(),
        "expected",
        "actual",
        "------",
        "------",
    );
    for (e, a, note) in lines {
        out.push_str(&format!("  | {e:w1$} | {a:w2$} |{note}\n"));
    }
    out
}

impl<T: Clone + Send + 'static> Sink<T> for TestSink<T> {
    type Writer = <MemorySink<T> as Sink<T>>::Writer;

    fn name(&self) -> String {
        "test_sink".into()
    }

    fn commit(&self) -> crate::connector::Commit {
        self.rows.commit()
    }

    fn create_writer(&self, worker: &WorkerInfo) -> Result<Self::Writer> {
        self.rows.create_writer(worker)
    }
}
