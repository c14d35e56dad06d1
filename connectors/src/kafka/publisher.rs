//! Publishes sealed epochs of an exactly-once Kafka sink, each as one transaction that
//! also sets the subtask's marker (see [`super::transaction`]). Publishing runs on a
//! thread of its own, so that a worker never waits for the broker to commit: the
//! worker hands over the epochs a stored checkpoint covers and goes on; the epochs stay
//! in the writer's next pre-commits until the thread reports them committed, so a
//! crash at any moment leaves every uncommitted epoch in the newest checkpoint.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::consumer::ConsumerGroupMetadata;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};
use tidewater_engine::error::{EngineError, Result};

use super::client::kafka_error;
use super::sink::DeliveryTracker;
use super::transaction::{Encoded, Epoch};

/// How long a transaction step may take before the run fails.
pub(crate) const TXN_TIMEOUT: Duration = Duration::from_secs(60);

/// What publishing needs, shared by the worker (recovery) and the thread.
pub(crate) struct Committer {
    pub name: String,
    pub topic: String,
    pub producer: ThreadedProducer<DeliveryTracker>,
    pub metadata: ConsumerGroupMetadata,
}

/// The label of a checkpoint in messages (`final` for the last one).
pub(crate) fn label(checkpoint: u64) -> String {
    if checkpoint == u64::MAX {
        "final".to_string()
    } else {
        checkpoint.to_string()
    }
}

/// Sends one record, waiting while librdkafka's queue is full.
pub(crate) fn send(
    producer: &ThreadedProducer<DeliveryTracker>,
    name: &str,
    topic: &str,
    record: &Encoded,
) -> Result<()> {
    let mut r = BaseRecord::<[u8], [u8]>::to(topic).payload(&record.value[..]);
    if let Some(k) = &record.key {
        r = r.key(&k[..]);
    }
    loop {
        match producer.send(r) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                r = back;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err((e, _)) => return Err(kafka_error(name, format!("sending to `{topic}`"), e)),
        }
    }
}

impl Committer {
    /// Publishes `epoch` as one transaction: its records, the marker, commit. An empty
    /// epoch needs none: the next epoch's marker covers its sequence number.
    pub fn publish(&self, epoch: &Epoch) -> Result<()> {
        if epoch.records.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let at = |step: &str| {
            format!(
                "{step} the transaction of checkpoint {}",
                label(epoch.checkpoint)
            )
        };
        self.producer
            .begin_transaction()
            .map_err(|e| kafka_error(&self.name, at("beginning"), e))?;
        for r in &epoch.records {
            send(&self.producer, &self.name, &self.topic, r)?;
        }
        let mut marker = TopicPartitionList::new();
        marker
            .add_partition_offset(&self.topic, 0, Offset::Offset(epoch.sequence))
            .map_err(|e| kafka_error(&self.name, at("marking"), e))?;
        self.producer
            .send_offsets_to_transaction(&marker, &self.metadata, TXN_TIMEOUT)
            .map_err(|e| kafka_error(&self.name, at("marking"), e))?;
        tidewater_engine::fault::point("kafka.before_commit");
        self.producer
            .commit_transaction(TXN_TIMEOUT)
            .map_err(|e| kafka_error(&self.name, at("committing"), e))?;
        tracing::debug!(sink = %self.name, sequence = epoch.sequence,
            records = epoch.records.len(), ms = started.elapsed().as_millis() as u64,
            "transaction committed");
        Ok(())
    }
}

/// The publishing thread and what it reports back.
pub(crate) struct Publisher {
    queue: Option<Sender<Arc<Epoch>>>,
    thread: Option<JoinHandle<()>>,
    /// Sequence number of the newest epoch committed (0: none yet in this run).
    committed: Arc<AtomicI64>,
    failure: Arc<Mutex<Option<EngineError>>>,
    name: String,
}

impl Publisher {
    /// Starts the thread.
    pub fn start(committer: Arc<Committer>) -> Result<Self> {
        let (tx, rx) = channel::<Arc<Epoch>>();
        let committed = Arc::new(AtomicI64::new(0));
        let failure = Arc::new(Mutex::new(None));
        let (done, failed) = (committed.clone(), failure.clone());
        let name = committer.name.clone();
        let thread = std::thread::Builder::new()
            .name(format!("{name}-publisher"))
            .spawn(move || {
                for epoch in rx {
                    if let Err(e) = committer.publish(&epoch) {
                        *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                        return;
                    }
                    done.store(epoch.sequence, Ordering::Release);
                }
            })
            .map_err(|e| EngineError::Spawn(format!("`{name}` publisher: {e}")))?;
        Ok(Publisher {
            queue: Some(tx),
            thread: Some(thread),
            committed,
            failure,
            name,
        })
    }

    /// The newest sequence number committed by the thread; an error if it failed.
    pub fn committed(&self) -> Result<i64> {
        if let Some(e) = self
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(e);
        }
        Ok(self.committed.load(Ordering::Acquire))
    }

    /// Hands `epoch` to the thread.
    pub fn enqueue(&self, epoch: Arc<Epoch>) -> Result<()> {
        let sent = self.queue.as_ref().map(|q| q.send(epoch));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(self.committed().err().unwrap_or_else(|| EngineError::Sink {
                sink: self.name.clone(),
                message: "the publisher thread has stopped".into(),
            })),
        }
    }

    /// Waits until everything handed over is committed.
    pub fn drain(&mut self) -> Result<()> {
        self.queue = None;
        if let Some(t) = self.thread.take() {
            t.join().map_err(|_| EngineError::Sink {
                sink: self.name.clone(),
                message: "the publisher thread panicked".into(),
            })?;
        }
        self.committed().map(|_| ())
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        // A run that fails leaves its epochs to recovery; do not wait for the broker.
        self.queue = None;
    }
}
