//! Window operators: the state and firing logic for fixed windows (tumbling, sliding)
//! and session windows.

mod fixed;
mod late;
mod session;
mod session_set;
mod timers;

pub(crate) use fixed::FixedWindowOperator;
pub(crate) use late::LateOutput;
pub(crate) use session::SessionWindowOperator;

use super::OutputMode;
use crate::record::Record;
use crate::time::Timestamp;
use crate::window::WindowResult;

/// Settings shared by every window operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowSettings {
    /// How long after its end a window still accepts records (ms).
    pub lateness: i64,
    /// When results are emitted.
    pub mode: OutputMode,
    /// Spark-compatible micro-batch semantics: end of input does not close windows,
    /// and a session record's lateness is judged before merging.
    pub spark: bool,
}

/// The output record of a window result: event time `end - 1`.
#[inline]
pub(crate) fn result_record<K, V>(
    key: K,
    start: Timestamp,
    end: Timestamp,
    value: V,
) -> Record<WindowResult<K, V>> {
    Record {
        ts: end.saturating_sub(1),
        value: WindowResult {
            key,
            window_start: start,
            window_end: end,
            value,
        },
    }
}
