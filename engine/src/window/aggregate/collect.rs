//! `collect`: every record of the window, in event-time order (for `process`).

use super::Aggregate;
use crate::time::Timestamp;

/// Keeps every value with its event time; the result is sorted by event time (stable,
/// so equal times keep arrival order).
///
/// ```
/// use tidewater_engine::prelude::*;
/// let mut acc = Collect.create();
/// Collect.add(&mut acc, &'b', 2);
/// Collect.add(&mut acc, &'a', 1);
/// assert_eq!(Collect.finish(&acc), vec!['a', 'b']);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Collect;

impl<T: Clone + Send + serde::Serialize + serde::de::DeserializeOwned + 'static> Aggregate<T>
    for Collect
{
    type Acc = Vec<(Timestamp, T)>;
    type Out = Vec<T>;

    fn create(&self) -> Self::Acc {
        Vec::new()
    }

    fn add(&self, acc: &mut Self::Acc, value: &T, ts: Timestamp) {
        acc.push((ts, value.clone()));
    }

    fn merge(&self, acc: &mut Self::Acc, other: &Self::Acc) {
        acc.extend(other.iter().cloned());
    }

    fn finish(&self, acc: &Self::Acc) -> Vec<T> {
        let mut items = acc.clone();
        items.sort_by_key(|(ts, _)| *ts);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// A partial list is as large as the records it holds: nothing to gain.
    fn combines(&self) -> bool {
        false
    }
}
