//! Arithmetic of fixed-size windows (tumbling = sliding with slide equal to size).
//!
//! Windows are `[s, s + size)` with `s ≡ offset (mod slide)`. State is kept per pane, a
//! slice of `gcd(size, slide)`: every window is a whole number of panes, so a record
//! updates one pane and a window's result merges its panes when it fires.

use crate::time::Timestamp;

/// Validated parameters of tumbling or sliding windows, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedWindows {
    /// Window length.
    pub size: i64,
    /// Distance between window starts.
    pub slide: i64,
    /// Shift of window starts from the epoch (`0 <= offset < slide`).
    pub offset: i64,
    /// Pane length: `gcd(size, slide)`.
    pub pane: i64,
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl FixedWindows {
    /// Parameters for windows of `size` every `slide`, shifted by `offset`. Callers
    /// validate `size > 0`, `0 < slide <= size`.
    pub fn new(size: i64, slide: i64, offset: i64) -> Self {
        debug_assert!(size > 0 && slide > 0 && slide <= size);
        FixedWindows {
            size,
            slide,
            offset: offset.rem_euclid(slide),
            pane: gcd(size, slide),
        }
    }

    /// Number of panes in one window.
    pub fn panes_per_window(&self) -> i64 {
        self.size / self.pane
    }

    /// Start of the pane holding `ts`.
    #[inline(always)]
    pub fn pane_start(&self, ts: Timestamp) -> Timestamp {
        ts.wrapping_sub(ts.wrapping_sub(self.offset).rem_euclid(self.pane))
    }

    /// Start of the latest window containing `ts`.
    #[inline(always)]
    pub fn last_window_start(&self, ts: Timestamp) -> Timestamp {
        ts.wrapping_sub(ts.wrapping_sub(self.offset).rem_euclid(self.slide))
    }

    /// Start of the earliest window containing `ts`.
    #[inline(always)]
    pub fn first_window_start(&self, ts: Timestamp) -> Timestamp {
        let lowest = ts.saturating_sub(self.size - 1);
        lowest.wrapping_add(self.offset.wrapping_sub(lowest).rem_euclid(self.slide))
    }

    /// End of the latest window containing `ts`: once the watermark passes it (plus
    /// allowed lateness), a record at `ts` is late for every window.
    #[inline(always)]
    pub fn last_window_end(&self, ts: Timestamp) -> Timestamp {
        self.last_window_start(ts).saturating_add(self.size)
    }

    /// End of the earliest window containing `ts`.
    #[inline(always)]
    pub fn first_window_end(&self, ts: Timestamp) -> Timestamp {
        self.first_window_start(ts).saturating_add(self.size)
    }

    /// Starts of every window containing `ts`, newest first.
    pub fn window_starts(&self, ts: Timestamp) -> impl Iterator<Item = Timestamp> {
        let first = self.first_window_start(ts);
        let slide = self.slide;
        std::iter::successors(Some(self.last_window_start(ts)), move |&s| Some(s - slide))
            .take_while(move |&s| s >= first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumbling_windows_are_epoch_aligned_and_end_exclusive() {
        let w = FixedWindows::new(1_000, 1_000, 0);
        // (ts, window start)
        for (ts, start) in [
            (0, 0),
            (999, 0),
            (1_000, 1_000),
            (-1, -1_000),
            (1_234_567, 1_234_000),
        ] {
            assert_eq!(w.last_window_start(ts), start, "ts {ts}");
            assert_eq!(w.first_window_start(ts), start, "ts {ts}");
            assert_eq!(w.window_starts(ts).collect::<Vec<_>>(), vec![start]);
        }
    }

    #[test]
    fn sliding_windows_contain_every_start_in_ts_minus_size_to_ts() {
        let w = FixedWindows::new(10_000, 5_000, 0);
        assert_eq!(w.pane, 5_000);
        // ts 12_000 is in [5_000, 15_000) and [10_000, 20_000)
        assert_eq!(
            w.window_starts(12_000).collect::<Vec<_>>(),
            vec![10_000, 5_000]
        );
        assert_eq!(w.first_window_end(12_000), 15_000);
        assert_eq!(w.last_window_end(12_000), 20_000);
        let w = FixedWindows::new(10_000, 4_000, 1_000);
        assert_eq!(w.pane, 2_000);
        // starts ≡ 1_000 mod 4_000 in (2_000, 12_000]: 9_000, 5_000
        assert_eq!(
            w.window_starts(12_000).collect::<Vec<_>>(),
            vec![9_000, 5_000]
        );
        assert_eq!(w.pane_start(12_000), 11_000);
    }
}
