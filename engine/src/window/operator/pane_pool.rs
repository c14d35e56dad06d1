//! Emptied pane maps, kept for the next pane.
//!
//! Ordered input opens a pane, fills it with every key, fires it and opens the next:
//! a fresh map per pane would grow through every power of two and fault in new pages
//! each time. A recycled map starts with the capacity its predecessor reached.

use rustc_hash::FxHashMap;

/// How many emptied maps are kept (ordered input needs one or two at a time).
const KEEP: usize = 2;

/// A small stack of empty maps with capacity.
pub(crate) struct PanePool<K, V> {
    spare: Vec<FxHashMap<K, V>>,
}

impl<K, V> Default for PanePool<K, V> {
    fn default() -> Self {
        PanePool { spare: Vec::new() }
    }
}

impl<K, V> PanePool<K, V> {
    /// An empty map, recycled when one is available.
    pub fn take(&mut self) -> FxHashMap<K, V> {
        self.spare.pop().unwrap_or_default()
    }

    /// Keeps `map` (emptied) for a later pane.
    pub fn give(&mut self, mut map: FxHashMap<K, V>) {
        if self.spare.len() < KEEP {
            map.clear();
            self.spare.push(map);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recycled_map_is_empty_and_keeps_its_capacity() {
        let mut pool: PanePool<u32, u64> = PanePool::default();
        let mut map = pool.take();
        map.extend((0..1_000).map(|k| (k, 1)));
        let capacity = map.capacity();
        pool.give(map);
        let map = pool.take();
        assert!(map.is_empty());
        assert_eq!(map.capacity(), capacity);
        assert_eq!(pool.take().capacity(), 0, "only what was given comes back");
    }
}
