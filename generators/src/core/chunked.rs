//! An unbounded generator made of consecutive bounded runs ("epochs") of a simulator
//! whose events depend on those before them: epoch `k` covers the next span of event
//! time with a seed of its own. Epochs are simulated when first read and the latest few
//! kept, so memory stays flat however long the stream runs.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tidewater_engine::time::Timestamp;

use super::Generator;

/// Epochs kept in memory (the workers of one source read neighbouring ones).
const KEPT_EPOCHS: usize = 4;

type Simulate<E> = dyn Fn(u64) -> Vec<E> + Send + Sync;

struct Epochs<E> {
    /// `starts[k]`: index of epoch `k`'s first event; one more entry than epochs known.
    starts: Vec<u64>,
    /// Recently simulated epochs: (epoch, events).
    kept: VecDeque<(u64, Arc<Vec<E>>)>,
}

/// Epoch after epoch of a simulation, served by index (unbounded).
///
/// ```
/// use tidewater_generators::core::{ChunkedGenerator, Generator};
/// // Epoch k: three events at k * 10 + 0, 1, 2.
/// let g = ChunkedGenerator::new("ticks", 1, |k| (0..3).map(|i| k as i64 * 10 + i).collect(), |t| *t);
/// assert_eq!(g.len(), None);
/// assert_eq!((g.event(0), g.event(4), g.event_time(7)), (0, 11, 21));
/// ```
pub struct ChunkedGenerator<E> {
    name: String,
    seed: u64,
    simulate: Arc<Simulate<E>>,
    time: Arc<dyn Fn(&E) -> Timestamp + Send + Sync>,
    epochs: Arc<Mutex<Epochs<E>>>,
}

impl<E> Clone for ChunkedGenerator<E> {
    fn clone(&self) -> Self {
        ChunkedGenerator {
            name: self.name.clone(),
            seed: self.seed,
            simulate: self.simulate.clone(),
            time: self.time.clone(),
            epochs: self.epochs.clone(),
        }
    }
}

impl<E: Clone + Send + Sync + 'static> ChunkedGenerator<E> {
    /// `simulate(k)`: the events of epoch `k` (sorted here by `time`, stably). An epoch
    /// with no events is skipped.
    pub fn new(
        name: impl Into<String>,
        seed: u64,
        simulate: impl Fn(u64) -> Vec<E> + Send + Sync + 'static,
        time: impl Fn(&E) -> Timestamp + Send + Sync + 'static,
    ) -> Self {
        ChunkedGenerator {
            name: name.into(),
            seed,
            simulate: Arc::new(simulate),
            time: Arc::new(time),
            epochs: Arc::new(Mutex::new(Epochs {
                starts: vec![0],
                kept: VecDeque::new(),
            })),
        }
    }

    fn run(&self, epoch: u64) -> Arc<Vec<E>> {
        let mut events = (self.simulate)(epoch);
        events.sort_by_key(|e| (self.time)(e));
        Arc::new(events)
    }

    /// Epoch `k`'s events (simulated, or kept from before).
    fn epoch(&self, k: u64) -> Arc<Vec<E>> {
        let mut epochs = self.epochs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, events)) = epochs.kept.iter().find(|(e, _)| *e == k) {
            return events.clone();
        }
        let events = self.run(k);
        epochs.kept.push_back((k, events.clone()));
        if epochs.kept.len() > KEPT_EPOCHS {
            epochs.kept.pop_front();
        }
        events
    }

    /// The epoch holding event `index`, and the event's place in it: the index is
    /// always inside a non-empty epoch (see `len`).
    fn locate(&self, index: u64) -> (Arc<Vec<E>>, usize) {
        let mut epochs = self.epochs.lock().unwrap_or_else(|p| p.into_inner());
        // Simulate forward until an epoch ends past `index` (the counts must be known).
        // `len` is `Some(0)` for a simulation whose first epoch is empty, so readers
        // never ask for an event of one; an empty later epoch is skipped.
        while *epochs.starts.last().unwrap_or(&0) <= index {
            let k = (epochs.starts.len() - 1) as u64;
            let events = self.run(k);
            let start = *epochs.starts.last().unwrap_or(&0);
            epochs.starts.push(start + events.len() as u64);
            epochs.kept.push_back((k, events));
            if epochs.kept.len() > KEPT_EPOCHS {
                epochs.kept.pop_front();
            }
        }
        let k = epochs
            .starts
            .partition_point(|&s| s <= index)
            .saturating_sub(1);
        let offset = (index - epochs.starts[k]) as usize;
        if let Some((_, events)) = epochs.kept.iter().find(|(e, _)| *e == k as u64) {
            return (events.clone(), offset);
        }
        let events = self.run(k as u64);
        epochs.kept.push_back((k as u64, events.clone()));
        if epochs.kept.len() > KEPT_EPOCHS {
            epochs.kept.pop_front();
        }
        (events, offset)
    }
}

impl<E: Clone + Send + Sync + 'static> Generator for ChunkedGenerator<E> {
    type Event = E;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn seed(&self) -> u64 {
        self.seed
    }

    fn event(&self, index: u64) -> E {
        let (events, i) = self.locate(index);
        events[i].clone()
    }

    fn event_time(&self, index: u64) -> Timestamp {
        let (events, i) = self.locate(index);
        (self.time)(&events[i])
    }

    /// Unbounded, or no events at all when the first epoch has none (a fleet of zero
    /// devices, say).
    fn len(&self) -> Option<u64> {
        self.epoch(0).is_empty().then_some(0)
    }
}

/// The seed of epoch `k` of a stream seeded `seed` (epoch 0 keeps the seed, so the
/// first epoch is the bounded run itself).
pub fn epoch_seed(seed: u64, k: u64) -> u64 {
    if k == 0 {
        seed
    } else {
        seed ^ super::rng::splitmix(k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_epochs_are_skipped_and_an_empty_first_one_means_no_events() {
        // Odd epochs are empty.
        let g = ChunkedGenerator::new(
            "odd",
            1,
            |k| if k % 2 == 1 { vec![] } else { vec![k, k] },
            |e| *e as i64,
        );
        assert_eq!(g.len(), None);
        let events: Vec<u64> = (0..6).map(|i| g.event(i)).collect();
        assert_eq!(events, vec![0, 0, 2, 2, 4, 4]);
        let none = ChunkedGenerator::new("none", 1, |_| Vec::<u64>::new(), |e| *e as i64);
        assert_eq!(none.len(), Some(0));
    }
}
