//! A generator over the events of a bounded simulation, in event-time order: for
//! simulators whose events depend on those before them (Poisson arrivals, state
//! machines), so event `i` cannot be computed alone. The run is computed once, when the
//! generator is made; event `i` is then the `i`-th of it, so the generator splits across
//! workers and resumes from a position like any other.

use std::sync::Arc;

use tidewater_engine::time::Timestamp;

use super::Generator;

/// The events of one simulation run, served by index.
///
/// ```
/// use tidewater_generators::core::{Generator, RecordedGenerator};
/// let g = RecordedGenerator::new("ticks", 7, vec![(30, "b"), (10, "a")], |e| e.0);
/// assert_eq!((g.len(), g.event(0), g.event_time(1)), (Some(2), (10, "a"), 30));
/// ```
pub struct RecordedGenerator<E> {
    name: String,
    seed: u64,
    events: Arc<Vec<E>>,
    times: Arc<Vec<Timestamp>>,
}

impl<E> Clone for RecordedGenerator<E> {
    fn clone(&self) -> Self {
        RecordedGenerator {
            name: self.name.clone(),
            seed: self.seed,
            events: self.events.clone(),
            times: self.times.clone(),
        }
    }
}

impl<E: Clone + Send + Sync + 'static> RecordedGenerator<E> {
    /// `events` sorted by `time` (stable: events at one time keep their order).
    pub fn new(
        name: impl Into<String>,
        seed: u64,
        mut events: Vec<E>,
        time: impl Fn(&E) -> Timestamp,
    ) -> Self {
        events.sort_by_key(&time);
        let times = events.iter().map(&time).collect();
        RecordedGenerator {
            name: name.into(),
            seed,
            events: Arc::new(events),
            times: Arc::new(times),
        }
    }
}

impl<E: Clone + Send + Sync + 'static> Generator for RecordedGenerator<E> {
    type Event = E;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn seed(&self) -> u64 {
        self.seed
    }

    fn event(&self, index: u64) -> E {
        self.events[index as usize].clone()
    }

    fn event_time(&self, index: u64) -> Timestamp {
        self.times[index as usize]
    }

    fn len(&self) -> Option<u64> {
        Some(self.events.len() as u64)
    }
}
