//! Channels of every hash exchange in a run, created by the first worker that asks and
//! handed out per worker: all senders, and the worker's own receiver.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Mutex;

use crossbeam_channel::{Receiver, Sender};

use super::exchange::Envelope;

struct Channels<T> {
    senders: Vec<Sender<Envelope<T>>>,
    receivers: Vec<Option<Receiver<Envelope<T>>>>,
}

/// One worker's ends of an exchange: a sender to every worker, and its own receiver.
pub(crate) type Endpoints<T> = (Vec<Sender<Envelope<T>>>, Receiver<Envelope<T>>);

/// Type-erased store of exchange channels, keyed by exchange id.
pub(crate) struct ExchangeRegistry {
    parallelism: usize,
    capacity: usize,
    exchanges: Mutex<HashMap<usize, Box<dyn Any + Send>>>,
}

impl ExchangeRegistry {
    pub fn new(parallelism: usize, capacity: usize) -> Self {
        ExchangeRegistry {
            parallelism,
            capacity,
            exchanges: Mutex::new(HashMap::new()),
        }
    }

    /// The senders to every worker and `worker`'s receiver for exchange `id`.
    pub fn endpoints<T: Send + 'static>(&self, id: usize, worker: usize) -> Option<Endpoints<T>> {
        let mut exchanges = self.exchanges.lock().unwrap_or_else(|p| p.into_inner());
        let entry = exchanges.entry(id).or_insert_with(|| {
            let (senders, receivers) = (0..self.parallelism)
                .map(|_| crossbeam_channel::bounded(self.capacity))
                .unzip();
            let receivers: Vec<_> = Vec::into_iter(receivers).map(Some).collect::<Vec<_>>();
            Box::new(Channels::<T> { senders, receivers })
        });
        let channels = entry.downcast_mut::<Channels<T>>()?;
        let receiver = channels.receivers.get_mut(worker)?.take()?;
        Some((channels.senders.clone(), receiver))
    }
}
