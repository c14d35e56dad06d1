//! Checkpoint barrier alignment for operators with several inputs (exchange receivers,
//! unions): once an input's barrier has arrived, what that input sends next belongs to
//! the next checkpoint, so it waits here until every other live input has delivered the
//! same barrier. Then the barrier goes downstream once and the held messages replay in
//! their original order. Pure bookkeeping; the caller moves the messages.

use std::collections::VecDeque;

/// Per-input barrier state and held messages of type `M`.
pub(crate) struct BarrierAligner<M> {
    blocked: Vec<Option<u64>>,
    held: Vec<VecDeque<M>>,
    /// The planted bug (`fault::planted`): the barrier to forward at once, and the
    /// newest one forwarded early.
    early: Option<u64>,
    forwarded_early: u64,
}

impl<M> BarrierAligner<M> {
    /// An aligner for `inputs` inputs, none blocked.
    pub fn new(inputs: usize) -> Self {
        BarrierAligner {
            blocked: vec![None; inputs],
            held: (0..inputs).map(|_| VecDeque::new()).collect(),
            early: None,
            forwarded_early: 0,
        }
    }

    /// True while `input` has delivered a barrier the others have not: its messages
    /// must be [held](Self::hold).
    pub fn is_blocked(&self, input: usize) -> bool {
        self.blocked[input].is_some()
    }

    /// Keeps a message of a blocked input for replay after alignment.
    pub fn hold(&mut self, input: usize, message: M) {
        self.held[input].push_back(message);
    }

    /// Barrier `id` arrived on `input`.
    pub fn on_barrier(&mut self, input: usize, id: u64) {
        if crate::fault::planted("barrier_before_alignment") {
            if id > self.forwarded_early {
                self.forwarded_early = id;
                self.early = Some(id);
            }
            return;
        }
        self.blocked[input] = Some(id);
    }

    /// If every input has either delivered the oldest pending barrier or ended, unblocks
    /// them and returns that barrier's id: the caller forwards it, then replays
    /// [`next_released`](Self::next_released).
    pub fn take_aligned(&mut self, is_ended: impl Fn(usize) -> bool) -> Option<u64> {
        if let Some(id) = self.early.take() {
            return Some(id);
        }
        let id = self.blocked.iter().flatten().copied().min()?;
        let aligned = (0..self.blocked.len()).all(|i| self.blocked[i] == Some(id) || is_ended(i));
        if !aligned {
            return None;
        }
        for blocked in &mut self.blocked {
            if *blocked == Some(id) {
                *blocked = None;
            }
        }
        Some(id)
    }

    /// The oldest held message of the first input that is no longer blocked.
    pub fn next_released(&mut self) -> Option<(usize, M)> {
        (0..self.held.len()).find_map(|i| {
            if self.blocked[i].is_some() {
                return None;
            }
            self.held[i].pop_front().map(|m| (i, m))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barrier_waits_for_every_live_input_then_replays_in_order() {
        let mut aligner = BarrierAligner::new(3);
        aligner.on_barrier(0, 7);
        aligner.hold(0, "a1");
        aligner.hold(0, "a2");
        assert_eq!(aligner.take_aligned(|_| false), None);
        aligner.on_barrier(1, 7);
        assert_eq!(aligner.take_aligned(|_| false), None);
        // Input 2 ended: it no longer holds the barrier back.
        assert_eq!(aligner.take_aligned(|i| i == 2), Some(7));
        assert!(!aligner.is_blocked(0) && !aligner.is_blocked(1));
        assert_eq!(aligner.next_released(), Some((0, "a1")));
        assert_eq!(aligner.next_released(), Some((0, "a2")));
        assert_eq!(aligner.next_released(), None);
    }

    #[test]
    fn a_later_barrier_waits_behind_the_earlier_one() {
        let mut aligner: BarrierAligner<&str> = BarrierAligner::new(2);
        aligner.on_barrier(0, 1);
        aligner.hold(0, "barrier 2 follows");
        aligner.on_barrier(1, 1);
        assert_eq!(aligner.take_aligned(|_| false), Some(1));
        assert_eq!(aligner.next_released(), Some((0, "barrier 2 follows")));
        aligner.on_barrier(0, 2);
        assert!(aligner.is_blocked(0));
        assert_eq!(aligner.take_aligned(|_| false), None);
        assert_eq!(aligner.take_aligned(|i| i == 1), Some(2));
    }

    #[test]
    fn nothing_is_released_while_its_input_is_blocked() {
        let mut aligner = BarrierAligner::new(2);
        aligner.on_barrier(0, 3);
        aligner.hold(0, 10);
        assert_eq!(aligner.next_released(), None);
        assert_eq!(aligner.take_aligned(|_| false), None);
    }
}
