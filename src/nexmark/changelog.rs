//! Rows of an updating query (Flink's retract stream): each change says whether it
//! adds a row or takes one back, so a reader can keep the query's current table.

use std::collections::BTreeMap;

use super::imports::*;

/// What a change does, spelled as Flink prints a changelog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChangeOp {
    /// `+I`: a new row.
    #[serde(rename = "+I")]
    Insert,
    /// `-U`: the old version of an updated row, taken back.
    #[serde(rename = "-U")]
    UpdateBefore,
    /// `+U`: the new version of an updated row.
    #[serde(rename = "+U")]
    UpdateAfter,
    /// `-D`: a row taken back for good.
    #[serde(rename = "-D")]
    Delete,
}

/// One change of an updating query's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    /// Adds or takes back.
    pub op: ChangeOp,
    /// The row.
    #[serde(flatten)]
    pub row: T,
}

impl<T> Change<T> {
    /// `+I row`.
    pub fn insert(row: T) -> Self {
        Change {
            op: ChangeOp::Insert,
            row,
        }
    }
}

/// The table a changelog describes: every row added and not taken back, with its
/// multiplicity (a row added twice is there twice).
///
/// ```
/// use tidewater::nexmark::{materialize, Change, ChangeOp};
/// let log = vec![
///     Change::insert("a"),
///     Change { op: ChangeOp::UpdateBefore, row: "a" },
///     Change { op: ChangeOp::UpdateAfter, row: "b" },
///     Change::insert("c"),
///     Change { op: ChangeOp::Delete, row: "c" },
/// ];
/// assert_eq!(materialize(log), vec!["b"]);
/// ```
pub fn materialize<T: Ord + Clone>(changes: impl IntoIterator<Item = Change<T>>) -> Vec<T> {
    let mut table: BTreeMap<T, i64> = BTreeMap::new();
    for c in changes {
        let n = table.entry(c.row).or_default();
        *n += match c.op {
            ChangeOp::Insert | ChangeOp::UpdateAfter => 1,
            ChangeOp::UpdateBefore | ChangeOp::Delete => -1,
        };
    }
    table
        .into_iter()
        .flat_map(|(row, n)| std::iter::repeat_n(row, n.max(0) as usize))
        .collect()
}
