//! Event time, processing time and watermarks.
//!
//! Event time is `i64` milliseconds since the Unix epoch ([`Timestamp`]). A watermark is a
//! frontier: the promise that no record with an earlier event time will follow. Windows
//! fire when the watermark reaches their end.

mod clock;
pub(crate) mod combiner;
mod duration;
mod event_time;
pub(crate) mod timers;
pub(crate) mod watermark;

pub use clock::{Clock, ManualClock, SystemClock};
pub(crate) use combiner::WatermarkCombiner;
pub use duration::{parse_duration, IntoDuration};
pub use event_time::{event_time_of, from_chrono, parse_time, TimeUnit};
pub use watermark::{TimestampFn, Watermark};

/// Event time in milliseconds since the Unix epoch.
pub type Timestamp = i64;

/// Timestamp of a record that has no event time (its source did not assign one).
pub const NO_TIMESTAMP: Timestamp = i64::MIN;

/// The watermark before any record was seen.
pub const MIN_WATERMARK: Timestamp = i64::MIN;

/// The watermark that closes every window: sent at the end of a bounded input.
pub const MAX_WATERMARK: Timestamp = i64::MAX;

/// The latest event time a record may carry: 2^61 ms, about 73 million years after the
/// epoch. Together with [`MAX_DURATION_MS`] it keeps every window bound, lateness and
/// watermark sum inside `i64` (no saturation, no wrap-around), so windows near the
/// extremes are computed exactly; a record outside the range fails the run naming it.
pub const MAX_EVENT_TIME: Timestamp = 1 << 61;

/// The earliest event time a record may carry: -2^61 ms.
pub const MIN_EVENT_TIME: Timestamp = -(1 << 61);

/// The longest window size, slide, gap, offset, lateness or watermark delay: 2^60 ms
/// (about 36 million years).
pub const MAX_DURATION_MS: i64 = 1 << 60;

/// Whether `ts` is an event time the engine computes windows for exactly.
#[inline(always)]
pub fn in_event_time_range(ts: Timestamp) -> bool {
    // One unsigned compare: the range shifted to start at zero.
    (ts.wrapping_sub(MIN_EVENT_TIME) as u64) <= (MAX_EVENT_TIME - MIN_EVENT_TIME) as u64
}

/// The problem with `ms` as `operator`'s `field`, if it exceeds [`MAX_DURATION_MS`].
pub(crate) fn too_long(operator: &str, field: &str, ms: i64) -> Option<crate::error::EngineError> {
    (ms > MAX_DURATION_MS).then(|| {
        crate::error::EngineError::invalid(
            operator,
            field,
            "a duration of at most 2^60 ms",
            format!("{ms} ms"),
        )
    })
}

/// Records a problem unless `ms` is at most [`MAX_DURATION_MS`].
pub(crate) fn check_duration(
    problems: &mut crate::error::Problems,
    operator: &str,
    field: &str,
    ms: i64,
) {
    if let Some(e) = too_long(operator, field, ms) {
        problems.push(e);
    }
}

/// Converts a duration to whole milliseconds, saturating at `i64::MAX`.
pub fn duration_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
