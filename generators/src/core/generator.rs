//! The generator contract.

use serde::{Deserialize, Serialize};
use tidewater_engine::time::Timestamp;

/// A seeded, deterministic source of synthetic events.
///
/// Event `index` is a pure function of the configuration, the seed and `index`: the
/// same arguments give the same event on every machine, so a generator can be split
/// across workers by index and resumed from a saved position without replaying what
/// came before.
pub trait Generator: Send + Sync + 'static {
    /// The event type.
    type Event: Send + 'static;

    /// Name used in source names, positions and errors.
    fn name(&self) -> String;

    /// The seed.
    fn seed(&self) -> u64;

    /// Event number `index`.
    fn event(&self, index: u64) -> Self::Event;

    /// The event time of event `index` (epoch ms), without generating the event.
    fn event_time(&self, index: u64) -> Timestamp;

    /// Event number `index` when its time `ts` (what [`Generator::event_time`] returns
    /// for it) is already known, as it is to a source. Generators whose events carry
    /// their time override this to compute it once.
    fn event_at(&self, index: u64, ts: Timestamp) -> Self::Event {
        let _ = ts;
        self.event(index)
    }

    /// How many events there are (`None`: unbounded).
    fn len(&self) -> Option<u64>;

    /// True if event `index` was made anomalous on purpose (counted in run statistics).
    fn is_anomaly(&self, index: u64) -> bool {
        let _ = index;
        false
    }

    /// True for a bounded generator with no events.
    fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

/// Where a reader of a generator stands: enough to continue with exactly the events
/// that follow. A small serializable value, like a split offset.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GeneratorPosition {
    /// The generator's name.
    pub generator: String,
    /// Its seed.
    pub seed: u64,
    /// Worker index and parallelism the reader was created for.
    pub worker: (usize, usize),
    /// Index of the next event to read.
    pub next_index: u64,
    /// Events read so far by this reader (including reordered ones).
    pub emitted: u64,
    /// Events held back to be delivered late: (event time to release at, index).
    #[serde(default)]
    pub held: Vec<(i64, u64)>,
    /// The newest event time delivered in an earlier batch: held events whose release
    /// time it reached go out first in the next batch.
    #[serde(default = "no_frontier")]
    pub frontier: i64,
    /// Events per block (a reader reads every `parallelism`-th block); 0 in positions
    /// of versions that did not record it, which restore only at their parallelism.
    #[serde(default)]
    pub block: u64,
    /// Ranges of indices ahead of `next_index` already read by the readers of a run
    /// at another parallelism (sorted, half-open): skipped when reached.
    #[serde(default)]
    pub done: Vec<(u64, u64)>,
}

fn no_frontier() -> i64 {
    i64::MIN
}
