//! `union`: merges several streams of the same type into one. The merged watermark is
//! the minimum of the inputs' watermarks; the merged stream ends when all inputs end.
//! Checkpoint barriers are aligned across the inputs, so one barrier leaves the union
//! per checkpoint and the state downstream holds exactly the records before it.

use std::cell::RefCell;
use std::rc::Rc;

use super::barrier_align::BarrierAligner;
use super::{Downstream, Input};
use crate::error::Result;
use crate::operator::Control;
use crate::record::Batch;
use crate::time::combiner::CombinedEvent;
use crate::time::WatermarkCombiner;

/// What one input sent while its checkpoint barrier waited for the other inputs'.
enum Held<T> {
    Data(Batch<T>),
    Control(Control),
}

pub(crate) struct UnionShared<T> {
    combiner: WatermarkCombiner,
    aligner: BarrierAligner<Held<T>>,
    down: Downstream<T>,
}

impl<T> UnionShared<T> {
    /// Takes a message of input `index`, holding it if that input's barrier waits.
    fn accept(&mut self, index: usize, message: Held<T>) -> Result<()> {
        if self.aligner.is_blocked(index) {
            self.aligner.hold(index, message);
            Ok(())
        } else {
            self.handle(index, message)
        }
    }

    fn handle(&mut self, index: usize, message: Held<T>) -> Result<()> {
        let event = match message {
            Held::Data(batch) => {
                self.combiner.on_data(index);
                return self.down.push(batch);
            }
            Held::Control(Control::Barrier(id)) => {
                self.aligner.on_barrier(index, id);
                return self.try_align();
            }
            Held::Control(Control::Watermark(wm)) => self.combiner.on_watermark(index, wm),
            Held::Control(Control::Idle) => self.combiner.on_idle(index),
            Held::Control(Control::EndOfInput) => self.combiner.on_end(index),
            Held::Control(tick @ Control::Tick(_)) => return self.down.control(tick),
        };
        forward_combined(event, &mut self.down)?;
        self.try_align()
    }

    /// Forwards a barrier once every live input has delivered it, then replays what
    /// waited behind it.
    fn try_align(&mut self) -> Result<()> {
        let combiner = &self.combiner;
        let Some(id) = self.aligner.take_aligned(|i| combiner.is_ended(i)) else {
            return Ok(());
        };
        self.down.control(Control::Barrier(id))?;
        while let Some((index, message)) = self.aligner.next_released() {
            self.handle(index, message)?;
        }
        Ok(())
    }
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
            aligner: BarrierAligner::new(inputs),
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
pub(crate) fn forward_combined<T>(event: CombinedEvent, down: &mut Downstream<T>) -> Result<()> {
    match event {
        CombinedEvent::None => Ok(()),
        CombinedEvent::Watermark(wm) => down.control(Control::Watermark(wm)),
        CombinedEvent::Idle => down.control(Control::Idle),
        CombinedEvent::WatermarkThenIdle(wm) => {
            down.control(Control::Watermark(wm))?;
            down.control(Control::Idle)
        }
        CombinedEvent::End => down.control(Control::EndOfInput),
    }
}

impl<T> Input<T> for UnionInput<T> {
    fn push(&mut self, batch: Batch<T>) -> Result<()> {
        self.shared
            .borrow_mut()
            .accept(self.index, Held::Data(batch))
    }

    fn control(&mut self, control: Control) -> Result<()> {
        self.shared
            .borrow_mut()
            .accept(self.index, Held::Control(control))
    }
}
