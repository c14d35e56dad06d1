//! One worker: its sources, the receiving ends of exchanges and the outboxes of the
//! sending ends, run cooperatively on one thread.
//!
//! Each step flushes outboxes, drains exchange inputs (downstream stages first) and
//! polls the sources, in that order of priority. A stage's input is not drained while
//! the outboxes downstream of it are full, and sources are not polled while any outbox
//! is: full channels thus push back all the way to the sources without ever blocking a
//! thread, and the last stage always drains, so workers cannot deadlock each other.
//!
//! Watermark alignment keeps workers together in event time: a worker whose own
//! watermark, sent into an exchange, is ahead of that exchange's merged watermark (the
//! slowest worker's) by more than the configured drift stops reading its source and
//! helps drain the exchange instead. Without it, a worker whose channels stay full
//! reads its source less and less while a peer runs ahead, holding the watermark back
//! and piling up window state. A blocked worker with nothing else to do still reads a
//! batch now and then, so a stalled peer slows it down but never stops it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use std::sync::atomic::{AtomicU8, Ordering};

use super::build::BuildContext;
use super::exchange::{Flush, Inbound};
use super::sink_node::Finisher;
use super::source_task::{SourceTask, TaskPoll};
use crate::error::Result;

/// Messages an outbox may hold before its upstream stops producing.
const OUTBOX_LIMIT: usize = 16;
/// How long (ms of the pipeline clock) a worker blocked by alignment waits before
/// reading a batch anyway.
const ALIGNMENT_PATIENCE_MS: i64 = 20;
/// Messages handled from one exchange input per step, per worker. One source batch
/// sends each worker a data and a watermark message, so this budget lets a worker
/// absorb what its peers produce while still reading its own source every step: with a
/// larger one a worker whose channels stay full would starve its own source while a
/// peer's runs ahead in event time, holding the watermark back and piling up state.
const INBOUND_BUDGET_PER_WORKER: usize = 2;

pub(crate) struct Worker {
    inbound_budget: usize,
    max_drift: Option<i64>,
    /// Since when alignment has kept this worker from reading its source (restarted by
    /// each patience read); `None` while it is not ahead. Only a blocked worker reads
    /// the clock.
    blocked_since: Option<(i64, std::time::Instant)>,
    /// The pipeline clock (a test's manual clock drives alignment's patience).
    clock: Arc<dyn crate::time::Clock>,
    /// Patience also runs out on wall-clock time: on worker threads, where a manual
    /// clock may move only as the blocked worker's own source reads. Off for workers
    /// stepped on one thread (the harness, the simulation), which stay deterministic.
    wall_clock_patience: bool,
    sources: Vec<Box<dyn SourceTask>>,
    inbound: Vec<Box<dyn Inbound>>,
    outboxes: Vec<(usize, Rc<RefCell<dyn Flush>>)>,
    finishers: Vec<Box<dyn Finisher>>,
}

impl Worker {
    pub fn new(ctx: BuildContext) -> Self {
        let mut inbound = ctx.inbound;
        // Downstream stages (higher exchange ids) first.
        inbound.sort_by_key(|stage| std::cmp::Reverse(stage.exchange_id()));
        let inbound_budget = INBOUND_BUDGET_PER_WORKER * ctx.worker.parallelism;
        let max_drift = ctx.config.watermark_alignment.map(crate::time::duration_ms);
        Worker {
            inbound_budget,
            max_drift,
            blocked_since: None,
            clock: ctx.config.clock.clone(),
            wall_clock_patience: true,
            sources: ctx.sources,
            inbound,
            outboxes: ctx.outboxes,
            finishers: ctx.finishers,
        }
    }

    fn pending_after(&self, exchange: Option<usize>) -> usize {
        self.outboxes
            .iter()
            .filter(|(id, _)| exchange.is_none_or(|e| *id > e))
            .map(|(_, o)| o.borrow().pending())
            .sum()
    }

    /// Flushes outboxes and drains exchange inputs; true if anything moved.
    fn move_in_flight(&mut self) -> Result<bool> {
        let mut progressed = false;
        for (_, outbox) in &self.outboxes {
            progressed |= outbox.borrow_mut().flush();
        }
        for i in 0..self.inbound.len() {
            let id = self.inbound[i].exchange_id();
            if self.pending_after(Some(id)) <= OUTBOX_LIMIT {
                progressed |= self.inbound[i].poll(self.inbound_budget)? > 0;
            }
        }
        Ok(progressed)
    }

    /// Lets sinks that ended finish (the final checkpoint); true if one moved.
    fn poll_finishers(&mut self) -> Result<bool> {
        let mut progressed = false;
        for finisher in self.finishers.iter_mut().filter(|f| !f.is_finished()) {
            progressed |= finisher.poll()?;
        }
        Ok(progressed)
    }

    /// One round of work; returns true if anything moved.
    pub fn step(&mut self) -> Result<bool> {
        let mut progressed = self.move_in_flight()?;
        let aligned = if self.ahead_of_peers() {
            let now = self.clock.now_ms();
            let (since, wall) = *self
                .blocked_since
                .get_or_insert_with(|| (now, std::time::Instant::now()));
            now.saturating_sub(since) >= ALIGNMENT_PATIENCE_MS
                || (self.wall_clock_patience
                    && wall.elapsed().as_millis() as i64 >= ALIGNMENT_PATIENCE_MS)
        } else {
            self.blocked_since = None;
            true
        };
        if aligned && self.pending_after(None) <= OUTBOX_LIMIT {
            for source in self.sources.iter_mut().filter(|s| !s.is_finished()) {
                progressed |= source.poll()? != TaskPoll::Idle;
            }
            if self.blocked_since.is_some() {
                self.blocked_since = Some((self.clock.now_ms(), std::time::Instant::now()));
            }
        }
        Ok(self.poll_finishers()? | progressed)
    }

    /// One round of work without reading the sources: outboxes, exchange inputs and
    /// finishing sinks only. Returns true if anything moved.
    pub fn drain_step(&mut self) -> Result<bool> {
        let moved = self.move_in_flight()?;
        Ok(self.poll_finishers()? | moved)
    }

    /// True if this worker's watermark leads some exchange's merged watermark by more
    /// than the allowed drift.
    fn ahead_of_peers(&self) -> bool {
        let Some(max_drift) = self.max_drift else {
            return false;
        };
        self.outboxes.iter().any(|(id, outbox)| {
            let sent = outbox.borrow().sent_watermark();
            sent != i64::MIN
                && self
                    .inbound
                    .iter()
                    .filter(|s| s.exchange_id() == *id)
                    .any(|s| {
                        let merged = s.combined_watermark();
                        merged == i64::MIN || sent.saturating_sub(merged) > max_drift
                    })
        })
    }

    /// Alignment's patience follows the pipeline clock only (see
    /// `wall_clock_patience`).
    pub fn stepped(mut self) -> Self {
        self.wall_clock_patience = false;
        self
    }

    /// True while an outbox holds messages not yet sent.
    pub fn has_pending(&self) -> bool {
        self.pending_after(None) > 0
    }

    /// Ends every source now (graceful stop); in-flight data still drains.
    pub fn finish_sources(&mut self) -> Result<()> {
        for source in &mut self.sources {
            source.finish()?;
        }
        Ok(())
    }

    /// True while a sink that ended waits for the final checkpoint to be stored.
    pub fn awaits_final_checkpoint(&self) -> bool {
        self.finishers.iter().any(|f| !f.is_finished())
    }

    /// True when the sources are exhausted, every exchange input has ended and nothing
    /// waits to be sent.
    pub fn is_done(&self) -> bool {
        self.sources.iter().all(|s| s.is_finished())
            && self.inbound.iter().all(|s| s.finished())
            && self.pending_after(None) == 0
            && self.finishers.iter().all(|f| f.is_finished())
    }
}

/// Keep running.
pub(crate) const RUN: u8 = 0;
/// End the sources now and drain (graceful stop).
pub(crate) const DRAIN: u8 = 1;
/// Leave at once (stop without draining, or another worker failed).
pub(crate) const ABORT: u8 = 2;

/// Runs a worker until it is done, told to stop, or fails. `stop` holds [`RUN`],
/// [`DRAIN`] or [`ABORT`]; an error ends this worker and is returned for the caller to
/// stop the others.
pub(crate) fn drive(worker: &mut Worker, stop: &AtomicU8) -> Result<()> {
    let mut idle_rounds = 0u32;
    let mut draining = false;
    loop {
        match stop.load(Ordering::Relaxed) {
            ABORT => return Ok(()),
            DRAIN if !draining => {
                draining = true;
                worker.finish_sources()?;
            }
            _ => {}
        }
        if worker.step()? {
            idle_rounds = 0;
            continue;
        }
        if worker.is_done() {
            return Ok(());
        }
        idle_rounds += 1;
        // Spin briefly, then yield, then sleep: quick to react, cheap when idle.
        if idle_rounds < 64 {
            std::hint::spin_loop();
        } else if idle_rounds < 128 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}
