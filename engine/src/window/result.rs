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
