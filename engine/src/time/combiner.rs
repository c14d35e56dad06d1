//! Minimum of several inputs' watermarks, as an operator with more than one input
//! (a union, or the receiving side of a hash exchange) must compute it.
//!
//! Rules: an ended input no longer holds the watermark back; an idle input does not
//! either, until it sends data or a watermark again; the combined watermark never
//! decreases; the output ends when every input has ended.

use super::{Timestamp, MIN_WATERMARK};

/// What the combined input should forward downstream after an input changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CombinedEvent {
    /// Nothing to forward.
    None,
    /// The combined watermark advanced to this value.
    Watermark(Timestamp),
    /// Every input still running is idle.
    Idle,
    /// Every input went idle: the watermark advances to the greatest of the inputs'
    /// (nothing holds it back any more), then the output is idle. Flink's watermark
    /// valve does the same; without it a watermark held back by an input that then went
    /// idle would never be forwarded.
    WatermarkThenIdle(Timestamp),
    /// Every input has ended.
    End,
}

#[derive(Debug, Clone)]
pub(crate) struct WatermarkCombiner {
    watermarks: Vec<Timestamp>,
    idle: Vec<bool>,
    ended: Vec<bool>,
    current: Timestamp,
    reported_idle: bool,
}

impl WatermarkCombiner {
    pub fn new(inputs: usize) -> Self {
        debug_assert!(inputs > 0, "a combiner needs at least one input");
        WatermarkCombiner {
            watermarks: vec![MIN_WATERMARK; inputs],
            idle: vec![false; inputs],
            ended: vec![false; inputs],
            current: MIN_WATERMARK,
            reported_idle: false,
        }
    }

    /// Input `i` sent data: it is active again.
    pub fn on_data(&mut self, i: usize) {
        self.idle[i] = false;
        self.reported_idle = false;
    }

    pub fn on_watermark(&mut self, i: usize, wm: Timestamp) -> CombinedEvent {
        self.idle[i] = false;
        self.reported_idle = false;
        if wm > self.watermarks[i] {
            self.watermarks[i] = wm;
        }
        self.recompute()
    }

    pub fn on_idle(&mut self, i: usize) -> CombinedEvent {
        self.idle[i] = true;
        self.recompute()
    }

    pub fn on_end(&mut self, i: usize) -> CombinedEvent {
        self.ended[i] = true;
        if self.ended.iter().all(|&e| e) {
            return CombinedEvent::End;
        }
        self.recompute()
    }

    /// The combined watermark forwarded so far.
    pub fn current(&self) -> Timestamp {
        self.current
    }

    /// True once input `i` has ended.
    pub fn is_ended(&self, i: usize) -> bool {
        self.ended[i]
    }

    pub fn all_ended(&self) -> bool {
        self.ended.iter().all(|&e| e)
    }

    fn recompute(&mut self) -> CombinedEvent {
        let active = (0..self.watermarks.len()).filter(|&i| !self.ended[i] && !self.idle[i]);
        match active.map(|i| self.watermarks[i]).min() {
            Some(min) if min > self.current => {
                self.current = min;
                CombinedEvent::Watermark(min)
            }
            Some(_) => CombinedEvent::None,
            None if !self.reported_idle && !self.all_ended() => {
                self.reported_idle = true;
                let greatest = (0..self.watermarks.len())
                    .filter(|&i| !self.ended[i])
                    .map(|i| self.watermarks[i])
                    .max();
                match greatest {
                    Some(wm) if wm > self.current => {
                        self.current = wm;
                        CombinedEvent::WatermarkThenIdle(wm)
                    }
                    _ => CombinedEvent::Idle,
                }
            }
            None => CombinedEvent::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CombinedEvent::*;
    use super::*;

    #[test]
    fn combined_watermark_is_the_minimum_of_active_inputs() {
        let mut c = WatermarkCombiner::new(2);
        // (input, event, expected forward)
        assert_eq!(c.on_watermark(0, 10), None); // input 1 still at MIN
        assert_eq!(c.on_watermark(1, 5), Watermark(5));
        assert_eq!(c.on_watermark(1, 20), Watermark(10));
        assert_eq!(c.on_watermark(0, 8), None); // never decreases
        assert_eq!(c.on_idle(0), Watermark(20)); // idle input stops holding back
        assert_eq!(c.on_idle(1), Idle);
        assert_eq!(c.on_watermark(0, 15), None); // 15 < 20: stays at 20
        assert_eq!(c.on_end(1), None);
        assert_eq!(c.on_watermark(0, 30), Watermark(30));
        assert_eq!(c.on_end(0), End);
    }

    #[test]
    fn when_every_input_is_idle_the_greatest_watermark_goes_through() {
        let mut c = WatermarkCombiner::new(2);
        assert_eq!(c.on_watermark(0, 7_500), None); // input 1 holds it back
        assert_eq!(c.on_idle(0), None); // input 1 still active (at MIN)
        assert_eq!(c.on_idle(1), WatermarkThenIdle(7_500));
        assert_eq!(c.on_idle(1), None); // reported once
        assert_eq!(c.on_watermark(1, 9_000), Watermark(9_000));
    }
}
