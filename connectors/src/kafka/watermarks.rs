//! Per-partition watermarks, as Flink's Kafka source keeps them: each partition's
//! watermark trails its own largest event time by the delay; a reader's watermark is
//! the least over its partitions, leaving out those idle for longer than the idle
//! timeout (so one silent partition does not stall every window) and those that
//! reached their end. Pure: the reader feeds it event times and the clock.

use tidewater_engine::time::{Timestamp, MIN_WATERMARK};

/// What the reader should tell downstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The reader's watermark advanced to this.
    Watermark(Timestamp),
    /// Every partition still running is idle: the reader no longer holds others back.
    Idle,
}

#[derive(Debug, Clone)]
struct Partition {
    max_ts: Timestamp,
    last_active_ms: i64,
    finished: bool,
}

/// Watermarks of one reader's partitions.
///
/// ```
/// use tidewater_connectors::kafka::watermarks::{PartitionWatermarks, Signal};
/// // two partitions, 1 s out-of-orderness, idle after 5 s
/// let mut wm = PartitionWatermarks::new(2, 1_000, Some(5_000), 0);
/// wm.observe(0, 10_000, 0);
/// assert_eq!(wm.signal(0), None); // partition 1 has no data yet: held back
/// wm.observe(1, 4_000, 100);
/// assert_eq!(wm.signal(100), Some(Signal::Watermark(3_000)));
/// // partition 1 goes quiet; after 5 s it no longer holds the watermark back
/// wm.observe(0, 12_000, 5_200);
/// assert_eq!(wm.signal(5_200), Some(Signal::Watermark(11_000)));
/// ```
#[derive(Debug, Clone)]
pub struct PartitionWatermarks {
    delay_ms: i64,
    idle_timeout_ms: Option<i64>,
    partitions: Vec<Partition>,
    emitted: Timestamp,
    idle_reported: bool,
}

impl PartitionWatermarks {
    /// `partitions` partitions, started at processing time `now_ms`.
    pub fn new(
        partitions: usize,
        delay_ms: i64,
        idle_timeout_ms: Option<i64>,
        now_ms: i64,
    ) -> Self {
        PartitionWatermarks {
            delay_ms,
            idle_timeout_ms,
            partitions: vec![
                Partition {
                    max_ts: MIN_WATERMARK,
                    last_active_ms: now_ms,
                    finished: false,
                };
                partitions
            ],
            emitted: MIN_WATERMARK,
            idle_reported: false,
        }
    }

    /// A partition found while running (its index is the next one), started at
    /// processing time `now_ms`: it holds the watermark back until it delivers or idles.
    pub fn add_partition(&mut self, now_ms: i64) {
        self.partitions.push(Partition {
            max_ts: MIN_WATERMARK,
            last_active_ms: now_ms,
            finished: false,
        });
    }

    /// Partition `p` delivered a record with event time `ts` at processing time `now_ms`.
    #[inline]
    pub fn observe(&mut self, p: usize, ts: Timestamp, now_ms: i64) {
        let part = &mut self.partitions[p];
        part.max_ts = part.max_ts.max(ts);
        part.last_active_ms = now_ms;
        self.idle_reported = false;
    }

    /// Partition `p`'s watermark is at least `watermark` (given, not derived from
    /// event times: a repartition topic's producers' least, see
    /// [`shuffle`](super::shuffle)).
    pub fn observe_watermark(&mut self, p: usize, watermark: Timestamp, now_ms: i64) {
        self.observe(p, watermark.saturating_add(self.delay_ms), now_ms);
    }

    /// Partition `p` delivered records up to processing time `now_ms` but none with an
    /// event time (an aborted transaction's markers, say): it is not idle.
    pub fn touch(&mut self, p: usize, now_ms: i64) {
        self.partitions[p].last_active_ms = now_ms;
    }

    /// Partition `p` reached its end: it no longer holds the watermark back.
    pub fn finish(&mut self, p: usize) {
        self.partitions[p].finished = true;
    }

    /// The watermark emitted last (`i64::MIN` before the first).
    pub fn current(&self) -> Timestamp {
        self.emitted
    }

    fn is_idle(&self, part: &Partition, now_ms: i64) -> bool {
        self.idle_timeout_ms
            .is_some_and(|t| now_ms.saturating_sub(part.last_active_ms) >= t)
    }

    fn partition_watermark(&self, part: &Partition) -> Timestamp {
        if part.max_ts == MIN_WATERMARK {
            MIN_WATERMARK
        } else {
            part.max_ts.saturating_sub(self.delay_ms)
        }
    }

    /// What to tell downstream at processing time `now_ms`, if anything changed: the
    /// least watermark of the active partitions when it advanced; when every running
    /// partition is idle, first the greatest of theirs (nothing holds it back any more),
    /// then [`Signal::Idle`] once.
    pub fn signal(&mut self, now_ms: i64) -> Option<Signal> {
        let running = self.partitions.iter().filter(|p| !p.finished);
        let active: Option<Timestamp> = running
            .clone()
            .filter(|p| !self.is_idle(p, now_ms))
            .map(|p| self.partition_watermark(p))
            .min();
        let candidate = match active {
            Some(wm) => wm,
            None => {
                let greatest = running.map(|p| self.partition_watermark(p)).max()?;
                if greatest <= self.emitted {
                    if self.idle_reported {
                        return None;
                    }
                    self.idle_reported = true;
                    return Some(Signal::Idle);
                }
                greatest
            }
        };
        if candidate > self.emitted {
            self.emitted = candidate;
            return Some(Signal::Watermark(candidate));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_least_active_partition_holds_the_watermark() {
        let mut wm = PartitionWatermarks::new(3, 500, None, 0);
        // (partition, event time, expected signal after it)
        let steps = [
            (0, 1_000, None),
            (1, 3_000, None),
            (2, 2_000, Some(Signal::Watermark(500))),
            (0, 5_000, Some(Signal::Watermark(1_500))),
            (2, 1_000, None),
            (2, 9_000, Some(Signal::Watermark(2_500))),
        ];
        for (i, (p, ts, expected)) in steps.into_iter().enumerate() {
            wm.observe(p, ts, 0);
            assert_eq!(wm.signal(0), expected, "step {i}");
        }
    }

    #[test]
    fn idle_partitions_stop_holding_back_and_everything_idle_reports_idle_once() {
        let mut wm = PartitionWatermarks::new(2, 0, Some(1_000), 0);
        wm.observe(0, 7_000, 0);
        assert_eq!(wm.signal(500), None); // partition 1 not idle yet
        assert_eq!(wm.signal(1_000), Some(Signal::Watermark(7_000))); // both idle: greatest
        assert_eq!(wm.signal(1_001), Some(Signal::Idle));
        assert_eq!(wm.signal(2_000), None);
        // partition 1 comes back behind the emitted watermark: no regression
        wm.observe(1, 3_000, 2_100);
        assert_eq!(wm.signal(2_100), None);
        wm.observe(1, 8_000, 2_200);
        assert_eq!(wm.signal(2_200), Some(Signal::Watermark(8_000)));
    }

    #[test]
    fn finished_partitions_do_not_hold_back() {
        let mut wm = PartitionWatermarks::new(2, 0, None, 0);
        wm.observe(0, 4_000, 0);
        assert_eq!(wm.signal(0), None);
        wm.finish(1);
        assert_eq!(wm.signal(0), Some(Signal::Watermark(4_000)));
        wm.finish(0);
        assert_eq!(wm.signal(0), None);
    }

    proptest! {
        /// Whatever the arrivals, the watermark never goes back, and while no partition
        /// is idle or finished it never passes any partition's max - delay.
        #[test]
        fn watermark_is_monotonic_and_bounded_by_every_partition(
            events in proptest::collection::vec((0usize..4, 0i64..100_000), 1..200),
            delay in 0i64..5_000,
        ) {
            let mut wm = PartitionWatermarks::new(4, delay, None, 0);
            let mut max = [i64::MIN; 4];
            let mut last = i64::MIN;
            for (p, ts) in events {
                wm.observe(p, ts, 0);
                max[p] = max[p].max(ts);
                if let Some(Signal::Watermark(w)) = wm.signal(0) {
                    prop_assert!(w > last);
                    last = w;
                }
                prop_assert_eq!(wm.current(), last);
                for m in max {
                    prop_assert!(m == i64::MIN || last <= m - delay || last == i64::MIN);
                    if m == i64::MIN { prop_assert_eq!(last, i64::MIN); }
                }
            }
        }
    }
}
