//! Splits a stream of `Result<T, DeadLetter>`: good records go on, dead letters go to
//! their own sink. Control messages reach both, so the dead-letter sink takes part in
//! checkpoints and sees the end of input like any other sink.

use super::{Downstream, Input};
use crate::dead_letter::DeadLetter;
use crate::error::Result;
use crate::operator::Control;
use crate::record::{Batch, Record};

pub(crate) struct DeadLetterSplit<T> {
    good: Downstream<T>,
    dead: Downstream<DeadLetter>,
}

impl<T> DeadLetterSplit<T> {
    pub fn new(good: Downstream<T>, dead: Downstream<DeadLetter>) -> Self {
        DeadLetterSplit { good, dead }
    }
}

impl<T> Input<std::result::Result<T, DeadLetter>> for DeadLetterSplit<T> {
    fn push(&mut self, batch: Batch<std::result::Result<T, DeadLetter>>) -> Result<()> {
        let mut good = Vec::with_capacity(batch.len());
        let mut dead = Vec::new();
        for r in batch {
            match r.value {
                Ok(v) => good.push(Record::new(r.ts, v)),
                Err(d) => dead.push(Record::new(r.ts, d)),
            }
        }
        if !dead.is_empty() {
            self.dead.push(dead)?;
        }
        if !good.is_empty() {
            self.good.push(good)?;
        }
        Ok(())
    }

    fn control(&mut self, control: Control) -> Result<()> {
        self.dead.control(control)?;
        self.good.control(control)
    }
}
