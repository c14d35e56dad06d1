//! Event-time timers: a FIFO for timers that arrive in time order (the common case,
//! O(1)) and a heap for the ones that do not, so timers fire exactly when due even for
//! out-of-order input.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct HeapTimer<K> {
    at: Timestamp,
    key: K,
}

impl<K> PartialEq for HeapTimer<K> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl<K> Eq for HeapTimer<K> {}
impl<K> PartialOrd for HeapTimer<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<K> Ord for HeapTimer<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest timer on top.
        other.at.cmp(&self.at)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TimerQueue<K> {
    in_order: VecDeque<(Timestamp, K)>,
    out_of_order: BinaryHeap<HeapTimer<K>>,
}

impl<K> TimerQueue<K> {
    pub fn new() -> Self {
        TimerQueue {
            in_order: VecDeque::new(),
            out_of_order: BinaryHeap::new(),
        }
    }

    #[inline]
    pub fn push(&mut self, at: Timestamp, key: K) {
        match self.in_order.back() {
            Some(&(last, _)) if at < last => self.out_of_order.push(HeapTimer { at, key }),
            _ => self.in_order.push_back((at, key)),
        }
    }

    /// Removes and returns the earliest timer due at `watermark` (at <= watermark).
    #[inline]
    pub fn pop_due(&mut self, watermark: Timestamp) -> Option<(Timestamp, K)> {
        let fifo = self.in_order.front().map(|t| t.0);
        let heap = self.out_of_order.peek().map(|t| t.at);
        match (fifo, heap) {
            (Some(f), Some(h)) if h < f && h <= watermark => self.pop_heap(),
            (Some(f), _) if f <= watermark => self.in_order.pop_front(),
            (None, Some(h)) if h <= watermark => self.pop_heap(),
            _ => None,
        }
    }

    fn pop_heap(&mut self) -> Option<(Timestamp, K)> {
        self.out_of_order.pop().map(|t| (t.at, t.key))
    }

    /// The timers of several queues whose keys pass `keep`, in one queue (a rescaled
    /// restore: each new worker keeps the timers of the keys it owns).
    pub fn rescaled(parts: impl IntoIterator<Item = Self>, keep: impl Fn(&K) -> bool) -> Self {
        let mut timers: Vec<(Timestamp, K)> = parts
            .into_iter()
            .flat_map(|q| {
                let heap = q.out_of_order.into_iter().map(|t| (t.at, t.key));
                q.in_order.into_iter().chain(heap)
            })
            .filter(|(_, k)| keep(k))
            .collect();
        timers.sort_by_key(|&(at, _)| at);
        TimerQueue {
            in_order: timers.into(),
            out_of_order: BinaryHeap::new(),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.in_order.len() + self.out_of_order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_fire_in_time_order_whatever_the_push_order() {
        let mut q = TimerQueue::new();
        for (at, key) in [(10, 'a'), (20, 'b'), (5, 'c'), (30, 'd'), (15, 'e')] {
            q.push(at, key);
        }
        let mut fired = Vec::new();
        while let Some((at, key)) = q.pop_due(20) {
            fired.push((at, key));
        }
        assert_eq!(fired, vec![(5, 'c'), (10, 'a'), (15, 'e'), (20, 'b')]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_due(29), None);
        assert_eq!(q.pop_due(30), Some((30, 'd')));
    }

    #[test]
    fn rescaled_queues_keep_the_timers_of_kept_keys_in_time_order() {
        let mut a = TimerQueue::new();
        let mut b = TimerQueue::new();
        for (at, key) in [(10, 1), (30, 2), (5, 3)] {
            a.push(at, key);
        }
        for (at, key) in [(20, 4), (1, 5), (25, 6)] {
            b.push(at, key);
        }
        let mut q = TimerQueue::rescaled([a, b], |k| k % 2 == 0);
        let mut fired = Vec::new();
        while let Some(t) = q.pop_due(100) {
            fired.push(t);
        }
        assert_eq!(fired, vec![(20, 4), (25, 6), (30, 2)]);
    }
}
