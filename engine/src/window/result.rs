//! What a window operator emits.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// A window's bounds, `[start, end)` in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Window {
    /// Inclusive start.
    pub start: Timestamp,
    /// Exclusive end.
    pub end: Timestamp,
}

/// The result of one window for one key. Its record carries event time `window_end - 1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WindowResult<K, V> {
    /// The key the result belongs to.
    pub key: K,
    /// Inclusive window start (epoch ms).
    pub window_start: Timestamp,
    /// Exclusive window end (epoch ms).
    pub window_end: Timestamp,
    /// The aggregate's output.
    pub value: V,
    /// In update mode, false for an update of a window still open (a later row of the
    /// same window follows) and true for its closing row, emitted once when the
    /// watermark passes the window's end plus the allowed lateness. True in the other
    /// modes and in the Spark-compatible mode (whose update mode, like Spark's, emits
    /// no closing row). Written to JSON only when false.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub is_final: bool,
}

fn yes() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde passes fields by reference
fn is_true(b: &bool) -> bool {
    *b
}

impl<K, V> WindowResult<K, V> {
    /// The window's bounds.
    pub fn window(&self) -> Window {
        Window {
            start: self.window_start,
            end: self.window_end,
        }
    }
}
