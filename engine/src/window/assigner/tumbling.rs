//! Tumbling windows: fixed size, no overlap.

use super::{FixedWindows, WindowAssigner, WindowKind};
use crate::error::{Problems, Result};
use crate::time::{duration_ms, IntoDuration};

/// Fixed-size, non-overlapping windows: `start = ts - (ts - offset) mod size`.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let w = TumblingWindow::of("10 seconds").with_offset("2 seconds");
/// let WindowKind::Fixed(f) = w.validate("window").unwrap() else { unreachable!() };
/// assert_eq!((f.size, f.slide, f.offset), (10_000, 10_000, 2_000));
/// assert!(TumblingWindow::of("0 seconds").validate("window").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct TumblingWindow {
    size: Result<i64>,
    offset: Result<i64>,
}

impl TumblingWindow {
    /// Windows of `size` (a `Duration` or a string such as `"1 minute"`).
    pub fn of(size: impl IntoDuration) -> Self {
        TumblingWindow {
            size: size.into_duration().map(duration_ms),
            offset: Ok(0),
        }
    }

    /// Shifts window starts by `offset` from the epoch.
    pub fn with_offset(mut self, offset: impl IntoDuration) -> Self {
        self.offset = offset.into_duration().map(duration_ms);
        self
    }
}

impl WindowAssigner for TumblingWindow {
    fn name(&self) -> &'static str {
        "tumbling"
    }

    fn validate(&self, operator: &str) -> Result<WindowKind> {
        let mut problems = Problems::new();
        let size = problems.take(self.size.clone().map_err(|e| e.at(operator, "size")));
        let offset = problems.take(self.offset.clone().map_err(|e| e.at(operator, "offset")));
        for (field, ms) in [("size", size), ("offset", offset)] {
            if let Some(ms) = ms {
                crate::time::check_duration(&mut problems, operator, field, ms);
            }
        }
        if let Some(size) = size {
            problems.check(
                size > 0,
                operator,
                "size",
                "a duration > 0",
                format!("{size} ms"),
            );
        }
        match (size, offset) {
            (Some(size), Some(offset)) if problems.is_empty() => {
                Ok(WindowKind::Fixed(FixedWindows::new(size, size, offset)))
            }
            _ => Err(problems.into_error(operator)),
        }
    }
}
