//! Session windows: per key, records closer than a gap form one session.

use super::{WindowAssigner, WindowKind};
use crate::error::{Problems, Result};
use crate::time::{duration_ms, IntoDuration};

/// Validated session parameters, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSpec {
    /// Inactivity gap: a session is `[first ts, last ts + gap)`.
    pub gap: i64,
    /// Longest span a session may reach; a record that would stretch a session past it
    /// starts a new session.
    pub max_duration: Option<i64>,
    /// Whether sessions that only touch (`next.start == current.end`) merge. Off by
    /// default (records exactly `gap` apart are in different sessions, as in the
    /// benchmarks); on in Spark-compatible mode, as Spark does.
    pub merge_touching: bool,
}

/// Gap-based session windows. Out-of-order records may extend a session backwards or
/// bridge two sessions into one; merged sessions merge their accumulators.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let w = SessionWindow::with_gap("30 minutes").with_max_duration("4 hours");
/// let WindowKind::Session(s) = w.validate("window").unwrap() else { unreachable!() };
/// assert_eq!((s.gap, s.max_duration), (1_800_000, Some(14_400_000)));
/// assert!(SessionWindow::with_gap("0 ms").validate("window").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct SessionWindow {
    gap: Result<i64>,
    max_duration: Option<Result<i64>>,
    merge_touching: bool,
}

impl SessionWindow {
    /// Sessions closed after `gap` of inactivity.
    pub fn with_gap(gap: impl IntoDuration) -> Self {
        SessionWindow {
            gap: gap.into_duration().map(duration_ms),
            max_duration: None,
            merge_touching: false,
        }
    }

    /// A gap in signed milliseconds; a negative gap is reported by `validate`.
    pub fn with_gap_ms(gap: i64) -> Self {
        SessionWindow {
            gap: Ok(gap),
            max_duration: None,
            merge_touching: false,
        }
    }

    /// Caps the span of a session.
    pub fn with_max_duration(mut self, max: impl IntoDuration) -> Self {
        self.max_duration = Some(max.into_duration().map(duration_ms));
        self
    }

    /// Merges sessions that touch (Spark's rule).
    pub fn merge_touching(mut self, merge: bool) -> Self {
        self.merge_touching = merge;
        self
    }
}

impl WindowAssigner for SessionWindow {
    fn name(&self) -> &'static str {
        "session"
    }

    fn validate(&self, operator: &str) -> Result<WindowKind> {
        let mut problems = Problems::new();
        let gap = problems.take(self.gap.clone().map_err(|e| e.at(operator, "gap")));
        if let Some(gap) = gap {
            problems.check(
                gap > 0,
                operator,
                "gap",
                "a duration > 0",
                format!("{gap} ms"),
            );
        }
        let max_duration = match &self.max_duration {
            None => None,
            Some(max) => problems.take(max.clone().map_err(|e| e.at(operator, "max_duration"))),
        };
        for (field, ms) in [("gap", gap), ("max_duration", max_duration)] {
            if let Some(ms) = ms {
                crate::time::check_duration(&mut problems, operator, field, ms);
            }
        }
        if let (Some(gap), Some(max)) = (gap, max_duration) {
            problems.check(
                max >= gap,
                operator,
                "max_duration",
                &format!("at least the gap ({gap} ms)"),
                format!("{max} ms"),
            );
        }
        match gap {
            Some(gap) if problems.is_empty() => Ok(WindowKind::Session(SessionSpec {
                gap,
                max_duration,
                merge_touching: self.merge_touching,
            })),
            _ => Err(problems.into_error(operator)),
        }
    }
}
