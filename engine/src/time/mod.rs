//! Event time, processing time and watermarks.
//!
//! Event time is `i64` milliseconds since the Unix epoch ([`Timestamp`]). A watermark is a
//! frontier: the promise that no record with an earlier event time will follow. Windows
//! fire when the watermark reaches their end.

mod clock;
pub(crate) mod combiner;
mod duration;
pub(crate) mod timers;
pub(crate) mod watermark;

pub use clock::{Clock, ManualClock, SystemClock};
pub(crate) use combiner::WatermarkCombiner;
pub use duration::{parse_duration, IntoDuration};
pub use watermark::{TimestampFn, Watermark};

/// Event time in milliseconds since the Unix epoch.
pub type Timestamp = i64;

/// Timestamp of a record that has no event time (its source did not assign one).
pub const NO_TIMESTAMP: Timestamp = i64::MIN;

/// The watermark before any record was seen.
pub const MIN_WATERMARK: Timestamp = i64::MIN;

/// The watermark that closes every window: sent at the end of a bounded input.
pub const MAX_WATERMARK: Timestamp = i64::MAX;

/// Converts a duration to whole milliseconds, saturating at `i64::MAX`.
pub fn duration_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
