//! `union`: merges several streams of the same type into one. The merged watermark is
//! the minimum of the inputs' watermarks; the merged stream ends when all inputs end.

use std::cell::RefCell;
use std::rc::Rc;

use super::{Control, Downstream, Input};
use crate::record::Batch;
use crate::time::combiner::CombinedEvent;
use crate::time::WatermarkCombiner;

pub(crate) struct UnionShared<T> {
    combiner: WatermarkCombiner,
    down: Downstream<T>,
}

/// One input of a union inside a worker; all inputs share the downstream.
pub(crate) struct UnionInput<T> {
    index: usize,
    shared: Rc<RefCell<UnionShared<T>>>,
}

impl<T> UnionInput<T> {
    /// Creates the `inputs` entry points of a union feeding `down`.
    pub fn create(inputs: usize, down: Downstream<T>) -> Vec<UnionInput<T>> {
        let shared = Rc::new(RefCell::new(UnionShared {
            combiner: WatermarkCombiner::new(inputs),
            down,
        }));
        (0..inputs)
            .map(|index| UnionInput {
                index,
                shared: shared.clone(),
            })
            .collect()
    }
}

/// Forwards what a combiner decided.
pub(crate) fn forward_combined<T>(event: CombinedEvent, down: &mut Downstream<T>) {
    match event {
        CombinedEvent::None => {}
        CombinedEvent::Watermark(wm) => down.control(Control::Watermark(wm)),
        CombinedEvent::Idle => down.control(Control::Idle),
        CombinedEvent::End => down.control(Control::EndOfInput),
    }
}

impl<T> Input<T> for UnionInput<T> {
    fn push(&mut self, batch: Batch<T>) {
        let mut shared = self.shared.borrow_mut();
        shared.combiner.on_data(self.index);
        shared.down.push(batch);
    }

    fn control(&mut self, control: Control) {
        let mut shared = self.shared.borrow_mut();
        let shared = &mut *shared;
        let event = match control {
            Control::Watermark(wm) => shared.combiner.on_watermark(self.index, wm),
            Control::Idle => shared.combiner.on_idle(self.index),
            Control::EndOfInput => shared.combiner.on_end(self.index),
            // Checkpointing refuses unions at build time (their barriers are not
            // aligned), so a barrier here only passes through.
            Control::Barrier(_) | Control::Tick(_) => {
                shared.down.control(control);
                CombinedEvent::None
            }
        };
        forward_combined(event, &mut shared.down);
    }
}
