//! The hash exchange behind `key_by` at parallelism > 1: the sending half partitions
//! each batch by key hash into one buffer per worker and sends them over bounded
//! crossbeam channels; the receiving half merges the N senders' watermarks.
//!
//! Sends never block the worker: a full channel leaves the message in an outbox that
//! the worker loop retries, and the worker stops reading its sources while outboxes are
//! full. Bounded channels plus that rule are the backpressure.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};

use super::barrier_align::BarrierAligner;
use super::node::NodeId;
use super::union::forward_combined;
use super::{Downstream, Input};
use crate::error::Result;
use crate::operator::Control;
use crate::record::Batch;
use crate::time::WatermarkCombiner;

/// A message from one worker to another across an exchange.
pub(crate) enum ExchangeMessage<T> {
    Data { batch: Batch<T>, ingest: Instant },
    Watermark(i64),
    Idle,
    EndOfInput,
    Barrier(u64),
}

/// What crosses a channel: the sending worker's index and its message.
pub(crate) type Envelope<T> = (usize, ExchangeMessage<T>);

/// Worker index that owns `key` among `parallelism` workers.
#[inline(always)]
pub(crate) fn partition_of<K: Hash>(key: &K, parallelism: usize) -> usize {
    let hash = rustc_hash::FxBuildHasher.hash_one(key);
    // Multiply-shift maps the hash onto 0..parallelism without a division.
    ((hash >> 32).wrapping_mul(parallelism as u64) >> 32) as usize
}

/// Messages waiting for room in a full channel, per target worker.
pub(crate) struct Outbox<T> {
    from: usize,
    senders: Vec<Sender<Envelope<T>>>,
    pending: Vec<VecDeque<ExchangeMessage<T>>>,
    pending_count: usize,
    /// The last watermark this worker broadcast through the exchange.
    sent_watermark: i64,
    /// Nanoseconds messages waited here for room (backpressure), for the metrics.
    blocked_ns: Arc<AtomicU64>,
    /// Since when messages have been waiting (counted up to now at each flush).
    blocked_since: Option<Instant>,
}

impl<T> Outbox<T> {
    pub fn new(from: usize, senders: Vec<Sender<Envelope<T>>>, blocked_ns: Arc<AtomicU64>) -> Self {
        let pending = senders.iter().map(|_| VecDeque::new()).collect();
        Outbox {
            from,
            senders,
            pending,
            pending_count: 0,
            sent_watermark: i64::MIN,
            blocked_ns,
            blocked_since: None,
        }
    }

    fn send(&mut self, target: usize, msg: ExchangeMessage<T>) {
        if self.pending[target].is_empty() {
            match self.senders[target].try_send((self.from, msg)) {
                Ok(()) => {}
                Err(TrySendError::Full((_, msg))) => {
                    self.pending[target].push_back(msg);
                    self.pending_count += 1;
                    // The clock is read only on entering and while in backpressure.
                    if self.blocked_since.is_none() {
                        self.blocked_since = Some(Instant::now());
                    }
                }
                // The receiving worker is gone (the run is being aborted): drop.
                Err(TrySendError::Disconnected(_)) => {}
            }
        } else {
            self.pending[target].push_back(msg);
            self.pending_count += 1;
        }
    }

    fn broadcast(&mut self, make: impl Fn() -> ExchangeMessage<T>) {
        for target in 0..self.senders.len() {
            self.send(target, make());
        }
    }
}

/// Type-erased view of an outbox for the worker loop.
pub(crate) trait Flush {
    /// Retries pending sends; returns true if any went out.
    fn flush(&mut self) -> bool;
    /// Messages still waiting.
    fn pending(&self) -> usize;
    /// The last watermark sent through this outbox.
    fn sent_watermark(&self) -> i64;
}

impl<T> Flush for Outbox<T> {
    fn flush(&mut self) -> bool {
        if self.pending_count == 0 {
            return false;
        }
        if let Some(since) = self.blocked_since {
            let now = Instant::now();
            let waited = u64::try_from((now - since).as_nanos()).unwrap_or(u64::MAX);
            self.blocked_ns.fetch_add(waited, Ordering::Relaxed);
            self.blocked_since = Some(now);
        }
        let mut sent = false;
        for target in 0..self.senders.len() {
            while let Some(msg) = self.pending[target].pop_front() {
                match self.senders[target].try_send((self.from, msg)) {
                    Ok(()) => {
                        sent = true;
                        self.pending_count -= 1;
                    }
                    Err(TrySendError::Full((_, msg))) => {
                        self.pending[target].push_front(msg);
                        break;
                    }
                    Err(TrySendError::Disconnected(_)) => {
                        self.pending_count -= 1;
                    }
                }
            }
        }
        if self.pending_count == 0 {
            self.blocked_since = None;
        }
        sent
    }

    fn pending(&self) -> usize {
        self.pending_count
    }

    fn sent_watermark(&self) -> i64 {
        self.sent_watermark
    }
}

/// Sending half: partitions batches by key.
pub(crate) struct ExchangeSender<T, KF> {
    /// The keyed operator this exchange feeds (a panicking key function names it).
    id: NodeId,
    key_fn: KF,
    buffers: Vec<Batch<T>>,
    outbox: Rc<RefCell<Outbox<T>>>,
    ingest: Rc<Cell<Instant>>,
}

impl<T, KF> ExchangeSender<T, KF> {
    pub fn new(
        id: NodeId,
        key_fn: KF,
        outbox: Rc<RefCell<Outbox<T>>>,
        ingest: Rc<Cell<Instant>>,
    ) -> Self {
        let n = outbox.borrow().senders.len();
        ExchangeSender {
            id,
            key_fn,
            buffers: (0..n).map(|_| Vec::new()).collect(),
            outbox,
            ingest,
        }
    }
}

impl<T, K: Hash, KF: Fn(&T) -> K> Input<T> for ExchangeSender<T, KF> {
    fn push(&mut self, batch: Batch<T>) -> Result<()> {
        let n = self.buffers.len();
        let per_target = batch.len() / n + 16;
        let (buffers, key_fn) = (&mut self.buffers, &self.key_fn);
        for b in buffers.iter_mut() {
            b.reserve(per_target);
        }
        self.id.guard(|| {
            for r in batch {
                let target = partition_of(&key_fn(&r.value), n);
                buffers[target].push(r);
            }
            Ok(())
        })?;
        let ingest = self.ingest.get();
        let mut outbox = self.outbox.borrow_mut();
        for (target, buffer) in self.buffers.iter_mut().enumerate() {
            if !buffer.is_empty() {
                let batch = std::mem::take(buffer);
                outbox.send(target, ExchangeMessage::Data { batch, ingest });
            }
        }
        Ok(())
    }

    fn control(&mut self, control: Control) -> Result<()> {
        let mut outbox = self.outbox.borrow_mut();
        match control {
            Control::Watermark(wm) => {
                outbox.sent_watermark = wm;
                outbox.broadcast(|| ExchangeMessage::Watermark(wm))
            }
            Control::Idle => outbox.broadcast(|| ExchangeMessage::Idle),
            Control::EndOfInput => outbox.broadcast(|| ExchangeMessage::EndOfInput),
            Control::Barrier(id) => outbox.broadcast(|| ExchangeMessage::Barrier(id)),
            // Processing-time ticks are local to a worker.
            Control::Tick(_) => {}
        }
        Ok(())
    }
}

/// Type-erased receiving half for the worker loop.
pub(crate) trait Inbound {
    /// Handles up to `max` waiting messages; returns how many were handled.
    fn poll(&mut self, max: usize) -> Result<usize>;
    /// True once every sender has ended.
    fn finished(&self) -> bool;
    /// Exchange id, to order stages from upstream to downstream.
    fn exchange_id(&self) -> usize;
    /// The watermark merged over every sender so far.
    fn combined_watermark(&self) -> i64;
}

/// Receiving half: merges the senders' streams for this worker, and aligns checkpoint
/// barriers: once a sender's barrier has arrived, its later messages wait in a buffer
/// until every other sender's barrier has arrived too (or the sender has ended); then
/// the barrier goes downstream and the buffers are replayed in order.
pub(crate) struct ExchangeReceiver<T> {
    id: usize,
    receiver: Receiver<Envelope<T>>,
    combiner: WatermarkCombiner,
    down: Downstream<T>,
    ingest: Rc<Cell<Instant>>,
    finished: bool,
    aligner: BarrierAligner<ExchangeMessage<T>>,
    /// Processing time, ticked downstream when nothing arrives (ticks do not cross
    /// the exchange): processing-time timers behind it still fire.
    clock: std::sync::Arc<dyn crate::time::Clock>,
    last_tick: i64,
}

impl<T> ExchangeReceiver<T> {
    pub fn new(
        id: usize,
        senders: usize,
        receiver: Receiver<Envelope<T>>,
        down: Downstream<T>,
        ingest: Rc<Cell<Instant>>,
        clock: std::sync::Arc<dyn crate::time::Clock>,
    ) -> Self {
        ExchangeReceiver {
            id,
            receiver,
            combiner: WatermarkCombiner::new(senders),
            down,
            ingest,
            finished: false,
            aligner: BarrierAligner::new(senders),
            clock,
            last_tick: i64::MIN,
        }
    }

    fn handle(&mut self, from: usize, msg: ExchangeMessage<T>) -> Result<()> {
        let event = match msg {
            ExchangeMessage::Data { batch, ingest } => {
                self.combiner.on_data(from);
                self.ingest.set(ingest);
                return self.down.push(batch);
            }
            ExchangeMessage::Barrier(id) => {
                self.aligner.on_barrier(from, id);
                return self.try_align();
            }
            ExchangeMessage::Watermark(wm) => self.combiner.on_watermark(from, wm),
            ExchangeMessage::Idle => self.combiner.on_idle(from),
            ExchangeMessage::EndOfInput => self.combiner.on_end(from),
        };
        if self.combiner.all_ended() {
            self.finished = true;
        }
        forward_combined(event, &mut self.down)?;
        self.try_align()
    }

    /// Forwards a barrier that every live sender has delivered, then replays what
    /// waited behind it.
    fn try_align(&mut self) -> Result<()> {
        let combiner = &self.combiner;
        let Some(id) = self.aligner.take_aligned(|s| combiner.is_ended(s)) else {
            return Ok(());
        };
        self.down.control(Control::Barrier(id))?;
        while let Some((from, msg)) = self.aligner.next_released() {
            self.handle(from, msg)?;
        }
        Ok(())
    }
}

impl<T> Inbound for ExchangeReceiver<T> {
    fn poll(&mut self, max: usize) -> Result<usize> {
        let mut handled = 0;
        while handled < max && !self.finished {
            let (from, msg) = match self.receiver.try_recv() {
                Ok(envelope) => envelope,
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
            };
            handled += 1;
            if self.aligner.is_blocked(from) {
                self.aligner.hold(from, msg);
            } else {
                self.handle(from, msg)?;
            }
        }
        if handled == 0 && !self.finished {
            // At most one tick per millisecond of the clock.
            let now = self.clock.now_ms();
            if now > self.last_tick {
                self.last_tick = now;
                self.down.control(Control::Tick(now))?;
            }
        }
        Ok(handled)
    }

    fn finished(&self) -> bool {
        self.finished
    }

    fn exchange_id(&self) -> usize {
        self.id
    }

    fn combined_watermark(&self) -> i64 {
        if self.finished {
            i64::MAX
        } else {
            self.combiner.current()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_spreads_keys_over_all_workers_and_is_stable() {
        let mut counts = [0usize; 4];
        for key in 0u64..10_000 {
            let p = partition_of(&key, 4);
            assert_eq!(p, partition_of(&key, 4));
            counts[p] += 1;
        }
        for c in counts {
            assert!(
                (2_000..3_000).contains(&c),
                "unbalanced partitions: {counts:?}"
            );
        }
        assert_eq!(partition_of(&42u64, 1), 0);
    }
}
