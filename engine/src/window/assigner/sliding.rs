//! Sliding (hopping) windows: fixed size, a new window every `slide`.

use super::{FixedWindows, WindowAssigner, WindowKind};
use crate::error::{Problems, Result};
use crate::time::{duration_ms, IntoDuration};

/// Windows of `size` starting every `slide`: a record belongs to `size / slide` windows.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let w = SlidingWindow::of("10 seconds", "1 second");
/// let WindowKind::Fixed(f) = w.validate("window").unwrap() else { unreachable!() };
/// assert_eq!((f.size, f.slide, f.pane), (10_000, 1_000, 1_000));
/// // a slide larger than the size would leave gaps: rejected
/// assert!(SlidingWindow::of("1 second", "10 seconds").validate("window").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    size: Result<i64>,
    slide: Result<i64>,
    offset: Result<i64>,
}

impl SlidingWindow {
    /// Windows of `size` every `slide`.
    pub fn of(size: impl IntoDuration, slide: impl IntoDuration) -> Self {
        SlidingWindow {
            size: size.into_duration().map(duration_ms),
            slide: slide.into_duration().map(duration_ms),
            offset: Ok(0),
        }
    }

    /// Shifts window starts by `offset` from the epoch.
    pub fn with_offset(mut self, offset: impl IntoDuration) -> Self {
        self.offset = offset.into_duration().map(duration_ms);
        self
    }
}

impl WindowAssigner for SlidingWindow {
    fn name(&self) -> &'static str {
        "sliding"
    }

    fn validate(&self, operator: &str) -> Result<WindowKind> {
        let mut problems = Problems::new();
        let size = problems.take(self.size.clone().map_err(|e| e.at(operator, "size")));
        let slide = problems.take(self.slide.clone().map_err(|e| e.at(operator, "slide")));
        let offset = problems.take(self.offset.clone().map_err(|e| e.at(operator, "offset")));
        for (field, ms) in [("size", size), ("slide", slide), ("offset", offset)] {
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
        if let Some(slide) = slide {
            problems.check(
                slide > 0,
                operator,
                "slide",
                "a duration > 0",
                format!("{slide} ms"),
            );
        }
        if let (Some(size), Some(slide)) = (size, slide) {
            problems.check(
                size <= 0 || slide <= size,
                operator,
                "slide",
                &format!("at most the window size ({size} ms)"),
                format!("{slide} ms"),
            );
        }
        match (size, slide, offset) {
            (Some(size), Some(slide), Some(offset)) if problems.is_empty() => {
                Ok(WindowKind::Fixed(FixedWindows::new(size, slide, offset)))
            }
            _ => Err(problems.into_error(operator)),
        }
    }
}
