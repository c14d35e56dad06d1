//! `EventSpan`: the first and last event time in a window (for sessions: the span of
//! the activity itself, where `window_end` is the last event plus the gap).

use serde::{Deserialize, Serialize};

use super::Aggregate;
use crate::time::Timestamp;

/// Earliest and latest event time of a window's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Event time of the earliest record.
    pub first: Timestamp,
    /// Event time of the latest record.
    pub last: Timestamp,
}

impl Span {
    /// `last - first` in milliseconds.
    pub fn duration_ms(&self) -> i64 {
        self.last - self.first
    }
}

/// The span of event times of a window's records.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(VecSource::new(vec![1_000i64, 4_000, 20_000]))
///     .with_watermark(Watermark::monotonic(|t: &i64| *t))
///     .key_by(|_: &i64| 0u8)
///     .window(SessionWindow::with_gap("5 seconds"))
///     .aggregate((Count, EventSpan))
///     .sink(out.clone());
/// p.run().unwrap();
/// let sessions: Vec<_> = out.values().iter().map(|r| (r.window_end, r.value.0, r.value.1.first, r.value.1.last)).collect();
/// // the window ends 5 s after the last click; the span is the clicks themselves
/// assert_eq!(sessions, vec![(9_000, 2, 1_000, 4_000), (25_000, 1, 20_000, 20_000)]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct EventSpan;

impl<T> Aggregate<T> for EventSpan {
    type Acc = Option<Span>;
    type Out = Span;

    fn create(&self) -> Option<Span> {
        None
    }

    #[inline(always)]
    fn add(&self, acc: &mut Option<Span>, _value: &T, ts: Timestamp) {
        match acc {
            Some(s) => {
                s.first = s.first.min(ts);
                s.last = s.last.max(ts);
            }
            None => {
                *acc = Some(Span {
                    first: ts,
                    last: ts,
                })
            }
        }
    }

    fn merge(&self, acc: &mut Option<Span>, other: &Option<Span>) {
        if let Some(o) = other {
            match acc {
                Some(s) => {
                    s.first = s.first.min(o.first);
                    s.last = s.last.max(o.last);
                }
                None => *acc = Some(*o),
            }
        }
    }

    /// A window always holds a record; an empty accumulator (never finished by the
    /// engine) spans nothing at 0.
    fn finish(&self, acc: &Option<Span>) -> Span {
        acc.unwrap_or(Span { first: 0, last: 0 })
    }
}
