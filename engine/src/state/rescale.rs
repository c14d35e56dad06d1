//! Restoring keyed state at another parallelism.
//!
//! A checkpoint holds one state per (operator, worker). Restored at the parallelism that
//! took it, worker `w` takes back entry `w`. At another parallelism each new worker reads
//! every old worker's entry of the operator and keeps the keys it now owns, by the same
//! rule the hash exchange routes records with ([`KeyOwner::owns`]); the keys of one old
//! worker are disjoint from another's, so what the new workers keep adds up to the old
//! state, key for key, with nothing twice.
//!
//! ```
//! use tidewater_engine::state::KeyOwner;
//!
//! let owners: Vec<KeyOwner> = (0..3).map(|w| KeyOwner::new(w, 3)).collect();
//! for key in ["a", "b", "c", "d"] {
//!     assert_eq!(owners.iter().filter(|o| o.owns(&key)).count(), 1);
//! }
//! ```

use std::hash::Hash;

use crate::runtime::exchange::partition_of;

/// One worker among `parallelism`: which keys it owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyOwner {
    /// The worker's index.
    pub worker: usize,
    /// How many workers there are.
    pub parallelism: usize,
}

impl KeyOwner {
    /// Worker `worker` of `parallelism` (at least 1).
    pub fn new(worker: usize, parallelism: usize) -> Self {
        KeyOwner {
            worker,
            parallelism: parallelism.max(1),
        }
    }

    /// True if records with `key` go to this worker (the hash exchange's rule).
    pub fn owns<K: Hash + ?Sized>(&self, key: &K) -> bool {
        partition_of(&key, self.parallelism) == self.worker
    }
}
