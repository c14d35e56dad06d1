//! Watermark strategies: how event time is read from a record and how far the
//! watermark trails the largest event time seen.

use std::time::Duration;

use super::{duration_ms, IntoDuration, Timestamp};
use crate::error::Result;

/// A function that reads a record's event time (epoch milliseconds).
pub trait TimestampFn<T>: Fn(&T) -> Timestamp + Clone + Send + Sync + 'static {}
impl<T, F: Fn(&T) -> Timestamp + Clone + Send + Sync + 'static> TimestampFn<T> for F {}

/// A watermark strategy: a timestamp extractor plus the rule that turns the event times
/// seen into a watermark.
///
/// * [`Watermark::bounded`]: watermark = max event time seen - delay (out-of-order
///   records up to `delay` behind the newest one are on time).
/// * [`Watermark::monotonic`]: records arrive in event-time order (delay 0).
///
/// The watermark never decreases. It is emitted after every input batch in which it
/// advanced (periodic emission at batch granularity). With
/// [`with_idle_timeout`](Watermark::with_idle_timeout), an input that produces nothing for
/// that long (processing time) is marked idle and stops holding back downstream
/// watermarks until it produces again.
///
/// ```
/// use std::time::Duration;
/// use tidewater_engine::time::Watermark;
/// struct Click { ts: i64 }
/// let strategy = Watermark::bounded(Duration::from_secs(5), |c: &Click| c.ts)
///     .with_idle_timeout(Duration::from_secs(30));
/// assert_eq!(strategy.delay_ms().unwrap(), 5_000);
/// ```
#[derive(Clone)]
pub struct Watermark<F> {
    pub(crate) delay: std::result::Result<Duration, crate::error::EngineError>,
    pub(crate) extractor: F,
    pub(crate) idle_timeout: Option<Duration>,
}

impl Watermark<()> {
    /// Bounded out-of-orderness: the watermark trails the largest event time by `delay`
    /// (a [`Duration`] or a string such as `"5 seconds"`).
    pub fn bounded<T, F: TimestampFn<T>>(delay: impl IntoDuration, extractor: F) -> Watermark<F> {
        Watermark {
            delay: delay.into_duration(),
            extractor,
            idle_timeout: None,
        }
    }

    /// Ascending timestamps: the watermark is the largest event time seen.
    pub fn monotonic<T, F: TimestampFn<T>>(extractor: F) -> Watermark<F> {
        Watermark {
            delay: Ok(Duration::ZERO),
            extractor,
            idle_timeout: None,
        }
    }
}

impl<F> Watermark<F> {
    /// Marks the input idle after `timeout` of processing time without records.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// The configured delay in milliseconds, or the error of an unparsable delay.
    pub fn delay_ms(&self) -> Result<i64> {
        self.delay.clone().map(duration_ms)
    }

    /// The idle timeout, if one was set.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }
}

/// Watermark arithmetic of a bounded-out-of-orderness generator; pure, so it is tested
/// apart from the operator that wraps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct BoundedWatermark {
    pub delay_ms: i64,
    pub max_ts: Timestamp,
}

impl BoundedWatermark {
    pub fn new(delay_ms: i64) -> Self {
        BoundedWatermark {
            delay_ms,
            max_ts: super::MIN_WATERMARK,
        }
    }

    /// Absorbs an event time.
    #[inline(always)]
    pub fn observe(&mut self, ts: Timestamp) {
        if ts > self.max_ts {
            self.max_ts = ts;
        }
    }

    /// The current watermark: max event time - delay (saturating).
    pub fn current(&self) -> Timestamp {
        if self.max_ts == super::MIN_WATERMARK {
            super::MIN_WATERMARK
        } else {
            self.max_ts.saturating_sub(self.delay_ms)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_watermark_trails_the_maximum_and_never_decreases() {
        let mut wm = BoundedWatermark::new(1_000);
        assert_eq!(wm.current(), i64::MIN);
        // (event time seen, watermark after it)
        for (ts, expected) in [
            (5_000, 4_000),
            (3_000, 4_000),
            (9_500, 8_500),
            (9_000, 8_500),
        ] {
            wm.observe(ts);
            assert_eq!(wm.current(), expected);
        }
    }

    #[test]
    fn unparsable_delay_is_reported_when_asked() {
        let strategy = Watermark::bounded("five seconds", |x: &i64| *x);
        assert!(strategy.delay_ms().is_err());
    }
}
