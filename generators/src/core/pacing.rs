//! Real-time pacing: Poisson arrivals at a target rate, optional jitter and burst
//! windows, released through a token bucket so a slow consumer does not cause a
//! catch-up storm larger than one bucket.

use crate::core::GeneratorErrors;
use rand::Rng;
use rand_distr::{Distribution, Exp};
use serde::{Deserialize, Serialize};

use super::GeneratorError;

/// A time window in which the rate is multiplied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BurstWindow {
    /// Seconds after the stream starts.
    pub start_offset_secs: f64,
    /// Length of the burst.
    pub duration_secs: f64,
    /// Rate multiplier during the burst.
    pub multiplier: f64,
}

/// Real-time pacing parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pacing {
    /// Base events per second.
    pub rate_per_sec: f64,
    /// Maximum random delay added to each arrival (ms).
    pub jitter_ms: f64,
    /// Windows with a higher rate.
    pub burst_windows: Vec<BurstWindow>,
    /// Most events released at once after a stall (the token bucket's size).
    pub bucket_size: usize,
}

impl Pacing {
    /// Poisson arrivals at `rate_per_sec`, with a bucket of 10 ms of events (at least
    /// 1 024): the clock ticks in milliseconds, so a smaller bucket would cap the rate
    /// at one bucket a tick.
    pub fn rate(rate_per_sec: f64) -> Self {
        Pacing {
            rate_per_sec,
            jitter_ms: 0.0,
            burst_windows: Vec::new(),
            bucket_size: ((rate_per_sec / 100.0).ceil().max(1_024.0) as usize).min(1 << 24),
        }
    }

    /// Checks the parameters; returns every problem at once.
    ///
    /// ```
    /// use tidewater_generators::core::Pacing;
    /// let mut pacing = Pacing::rate(100.0);
    /// pacing.jitter_ms = f64::INFINITY;
    /// pacing.bucket_size = 0;
    /// assert_eq!(pacing.validate().unwrap_err().len(), 2);
    /// ```
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let mut problems: Vec<GeneratorError> = [
            super::check_positive("rate_per_sec", self.rate_per_sec),
            super::check_non_negative("jitter_ms", self.jitter_ms),
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect();
        let mut bad = |field: &str, expected: &str, found: String| {
            problems.push(GeneratorError::InvalidParameter {
                field: field.into(),
                expected: expected.into(),
                found,
            })
        };
        if self.bucket_size == 0 {
            bad("bucket_size", "at least 1", "0".into());
        }
        for (i, b) in self.burst_windows.iter().enumerate() {
            let finite = [b.multiplier, b.duration_secs, b.start_offset_secs]
                .iter()
                .all(|x| x.is_finite());
            if !(finite
                && b.multiplier > 0.0
                && b.duration_secs >= 0.0
                && b.start_offset_secs >= 0.0)
            {
                bad(
                    &format!("burst_windows[{i}]"),
                    "finite offset >= 0, duration >= 0, multiplier > 0",
                    format!("{b:?}"),
                );
            }
        }
        super::all_problems(problems)
    }

    /// The rate at `elapsed_secs` after the start.
    pub fn rate_at(&self, elapsed_secs: f64) -> f64 {
        let multiplier: f64 = self
            .burst_windows
            .iter()
            .filter(|b| {
                elapsed_secs >= b.start_offset_secs
                    && elapsed_secs < b.start_offset_secs + b.duration_secs
            })
            .map(|b| b.multiplier)
            .product();
        self.rate_per_sec * multiplier
    }
}

/// Schedules arrivals and says how many are due.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    pacing: Pacing,
    /// Processing time (ms) the stream started.
    start_ms: i64,
    /// Scheduled time (ms since start) of the next arrival.
    next_arrival_ms: f64,
}

impl Pacer {
    pub fn new(pacing: Pacing, start_ms: i64) -> Self {
        Pacer {
            pacing,
            start_ms,
            next_arrival_ms: 0.0,
        }
    }

    /// Events due at `now_ms`, at most `max`; advances the schedule past them.
    pub fn due<R: Rng>(&mut self, now_ms: i64, max: usize, rng: &mut R) -> usize {
        let elapsed = (now_ms - self.start_ms) as f64;
        let mut due = 0;
        let limit = max.min(self.pacing.bucket_size);
        while due < limit && self.next_arrival_ms <= elapsed {
            due += 1;
            let rate = self
                .pacing
                .rate_at(self.next_arrival_ms / 1_000.0)
                .max(f64::MIN_POSITIVE);
            let gap_ms = Exp::new(rate / 1_000.0)
                .map(|e| e.sample(rng))
                .unwrap_or(1.0);
            let jitter = if self.pacing.jitter_ms > 0.0 {
                rng.random_range(0.0..self.pacing.jitter_ms)
            } else {
                0.0
            };
            self.next_arrival_ms += gap_ms + jitter;
        }
        // A consumer that stalled does not get more than one bucket at once: the backlog
        // beyond a full bucket is dropped from the schedule (not from the data).
        if due == self.pacing.bucket_size && self.next_arrival_ms < elapsed {
            self.next_arrival_ms = elapsed;
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event_rng;

    #[test]
    fn poisson_pacing_releases_about_rate_events_per_second() {
        let mut pacer = Pacer::new(Pacing::rate(1_000.0), 0);
        let mut rng = event_rng(1, 0);
        let mut total = 0;
        for ms in 0..=10_000 {
            total += pacer.due(ms, usize::MAX, &mut rng);
        }
        // 10 s at 1 000/s: Poisson, so within a few standard deviations (sqrt(10 000) = 100)
        assert!((9_600..=10_400).contains(&total), "{total}");
    }

    #[test]
    fn fast_rates_are_not_capped_at_one_bucket_a_millisecond() {
        // 5 M/s over 100 ms of 1 ms ticks: 500 000 events, not 1 024 a tick.
        let mut pacer = Pacer::new(Pacing::rate(5_000_000.0), 0);
        let mut rng = event_rng(3, 0);
        let total: usize = (0..=100)
            .map(|ms| pacer.due(ms, usize::MAX, &mut rng))
            .sum();
        assert!((495_000..=505_000).contains(&total), "{total}");
    }

    #[test]
    fn burst_windows_multiply_the_rate() {
        let mut pacing = Pacing::rate(100.0);
        pacing.burst_windows.push(BurstWindow {
            start_offset_secs: 1.0,
            duration_secs: 1.0,
            multiplier: 10.0,
        });
        assert_eq!(pacing.rate_at(0.5), 100.0);
        assert_eq!(pacing.rate_at(1.5), 1_000.0);
        let mut pacer = Pacer::new(pacing, 0);
        let mut rng = event_rng(2, 0);
        let mut per_second = [0usize; 3];
        for ms in 0..3_000 {
            per_second[(ms / 1_000) as usize] += pacer.due(ms, usize::MAX, &mut rng);
        }
        assert!(per_second[1] > 5 * per_second[0], "{per_second:?}");
        assert!(per_second[1] > 5 * per_second[2], "{per_second:?}");
    }

    #[test]
    fn invalid_pacing_names_the_field() {
        let e = Pacing::rate(0.0).validate().unwrap_err();
        assert_eq!(
            crate::core::describe(&e),
            "`rate_per_sec`: expected a number > 0, found 0"
        );
    }
}
