//! The Kafka sink: records as JSON values (key from a field), partitioned by key.
//!
//! Without checkpoints, at-most-once and at-least-once it writes at once through an
//! idempotent producer and, at each barrier, waits until everything sent is
//! acknowledged (so a stored checkpoint never covers an unsent record). Exactly-once
//! follows the protocol of [`super::transaction`]: one transaction per checkpoint,
//! sealed at the barrier, committed when the checkpoint is stored (by a publishing
//! thread, so the worker never waits for the broker), its commit decided on recovery
//! by the marker committed inside it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde::Serialize;
use tidewater_engine::config::DeliveryGuarantee;
use tidewater_engine::connector::{Commit, Sink, SinkWriter, WorkerInfo};
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::record::Batch;

use super::client::{client_config, kafka_error, REQUEST_TIMEOUT};
use super::config::KafkaSinkConfig;
use super::publisher::{label, send, Committer, Publisher, TXN_TIMEOUT};
use super::transaction::{self, Encoded, Epoch};

/// Writes records to a Kafka topic as JSON values.
///
/// ```no_run
/// use tidewater_engine::prelude::*;
/// use tidewater_connectors::kafka::{KafkaSink, KafkaSinkConfig};
/// let mut p = Pipeline::new(Config::default());
/// p.source(VecSource::new(vec![("a", 1), ("b", 2)]))
///     .sink(KafkaSink::new(KafkaSinkConfig::new("localhost:9092", "pairs")));
/// p.run()?;
/// # Ok::<(), EngineError>(())
/// ```
#[derive(Debug, Clone)]
pub struct KafkaSink {
    config: KafkaSinkConfig,
    name: String,
}

impl KafkaSink {
    /// A sink with these settings.
    pub fn new(config: KafkaSinkConfig) -> Self {
        KafkaSink {
            config,
            name: "kafka_sink".to_string(),
        }
    }

    /// Names the sink in metrics, errors, checkpoints and transactional ids (default
    /// `kafka_sink`).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The transactional id of subtask `index` of this sink in `pipeline`
    /// (`<prefix>-<pipeline>-<sink>-<topic>-<index>`): stable across restarts, so a
    /// restarted subtask fences the producer of the one it replaces, and distinct for
    /// every pipeline, sink and topic, so that two jobs never fence each other. Two
    /// deployments of one pipeline writing one topic need their own
    /// `transactional_id_prefix`.
    ///
    /// ```
    /// use tidewater_connectors::kafka::{KafkaSink, KafkaSinkConfig};
    /// let sink = KafkaSink::new(KafkaSinkConfig::new("h:9092", "counts")).named("results");
    /// assert_eq!(sink.transactional_id("job", 1), "tidewater-job-results-counts-1");
    /// ```
    pub fn transactional_id(&self, pipeline: &str, index: usize) -> String {
        let prefix = self
            .config
            .transactional_id_prefix
            .as_deref()
            .unwrap_or("tidewater");
        format!(
            "{prefix}-{pipeline}-{}-{}-{index}",
            self.name, self.config.topic
        )
    }
}

impl<T: Serialize + Send + 'static> Sink<T> for KafkaSink {
    type Writer = KafkaWriter;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn commit(&self) -> Commit {
        Commit::Transactional
    }

    fn validate(&self) -> Result<()> {
        self.config.validate(&self.name)
    }

    fn create_writer(&self, worker: &WorkerInfo) -> Result<KafkaWriter> {
        self.config.validate(&self.name)?;
        KafkaWriter::open(self, worker)
    }
}

/// Counts delivery failures reported by librdkafka's background thread.
#[derive(Default)]
pub(crate) struct DeliveryTracker {
    failed: AtomicU64,
    first: Mutex<Option<String>>,
}

impl ClientContext for DeliveryTracker {}

impl ProducerContext for DeliveryTracker {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert_with(|| e.to_string());
        }
    }
}

/// The transactional state of an exactly-once writer.
struct Transactions {
    /// Group whose offset on partition 0 of the topic is this subtask's marker.
    marker: BaseConsumer,
    committer: Arc<Committer>,
    publisher: Publisher,
    /// Records since the last barrier.
    pending: Vec<Encoded>,
    /// Sealed epochs not known committed, oldest first.
    sealed: Vec<Arc<Epoch>>,
    /// Sequence number of the newest epoch handed to the publisher.
    queued: i64,
    next_sequence: i64,
}

impl Transactions {
    /// Forgets the epochs the publisher has committed; an error if it failed.
    fn forget_committed(&mut self) -> Result<()> {
        let committed = self.publisher.committed()?;
        self.sealed.retain(|e| e.sequence > committed);
        Ok(())
    }
}

/// One worker's writer of a [`KafkaSink`].
pub struct KafkaWriter {
    /// The sink and worker it was opened for (recovering another worker's
    /// transactions after rescaling opens that worker's producer).
    opened_as: (KafkaSink, WorkerInfo),
    name: String,
    topic: String,
    key_field: Option<String>,
    producer: ThreadedProducer<DeliveryTracker>,
    txn: Option<Transactions>,
}

impl KafkaWriter {
    fn open(sink: &KafkaSink, worker: &WorkerInfo) -> Result<Self> {
        let name = sink.name.clone();
        let c = &sink.config;
        let exactly_once = worker.delivery == Some(DeliveryGuarantee::ExactlyOnce);
        let txn_id = sink.transactional_id(&worker.pipeline, worker.index);
        let mut defaults = vec![
            // Java clients' partitioner: the same key lands where Kafka Streams puts it.
            ("partitioner", "murmur2_random"),
            ("enable.idempotence", "true"),
        ];
        if exactly_once {
            defaults.push(("transactional.id", txn_id.as_str()));
        }
        if let Some(partitions) = c.create_topic {
            ensure_topic(c, &name, partitions)?;
        }
        let producer: ThreadedProducer<DeliveryTracker> =
            client_config(&c.bootstrap_servers, &defaults, &c.properties)
                .create_with_context(DeliveryTracker::default())
                .map_err(|e| kafka_error(&name, "creating the producer", e))?;
        let txn = if exactly_once {
            // Fences the producer of a previous run with this id and aborts what it
            // left open.
            producer.init_transactions(TXN_TIMEOUT).map_err(|e| {
                kafka_error(&name, format!("initialising transactions as `{txn_id}`"), e)
            })?;
            let marker: BaseConsumer = client_config(
                &c.bootstrap_servers,
                &[
                    ("group.id", txn_id.as_str()),
                    ("enable.auto.commit", "false"),
                    ("isolation.level", "read_committed"),
                ],
                &BTreeMap::new(),
            )
            .create()
            .map_err(|e| kafka_error(&name, "creating the marker client", e))?;
            let metadata = marker.group_metadata().ok_or_else(|| EngineError::Sink {
                sink: name.clone(),
                message: format!("no group metadata for the marker group `{txn_id}`"),
            })?;
            let committed = read_marker(&marker, &name, &c.topic)?;
            let committer = Arc::new(Committer {
                name: name.clone(),
                topic: c.topic.clone(),
                producer: producer.clone(),
                metadata,
            });
            Some(Transactions {
                marker,
                publisher: Publisher::start(committer.clone())?,
                committer,
                pending: Vec::new(),
                sealed: Vec::new(),
                queued: 0,
                next_sequence: committed.map_or(1, |m| m + 1),
            })
        } else {
            None
        };
        Ok(KafkaWriter {
            opened_as: (sink.clone(), worker.clone()),
            name,
            topic: c.topic.clone(),
            key_field: c.key_field.clone(),
            producer,
            txn,
        })
    }

    fn encode<T: Serialize>(&self, value: &T) -> Result<Encoded> {
        let fail = |e: serde_json::Error| EngineError::Sink {
            sink: self.name.clone(),
            message: format!("cannot write a record as JSON: {e}"),
        };
        let Some(field) = &self.key_field else {
            return Ok(Encoded {
                key: None,
                value: serde_json::to_vec(value).map_err(fail)?,
            });
        };
        let json = serde_json::to_value(value).map_err(fail)?;
        let key = match json.get(field) {
            Some(serde_json::Value::String(s)) => s.as_bytes().to_vec(),
            Some(serde_json::Value::Null) | None => {
                return Err(EngineError::Sink {
                    sink: self.name.clone(),
                    message: format!("key field `{field}` is missing or null in {json}"),
                })
            }
            Some(other) => other.to_string().into_bytes(),
        };
        Ok(Encoded {
            key: Some(key),
            value: serde_json::to_vec(&json).map_err(fail)?,
        })
    }

    /// Waits until everything sent is acknowledged; an error if anything failed.
    fn flush(&self) -> Result<()> {
        self.producer
            .flush(TXN_TIMEOUT)
            .map_err(|e| kafka_error(&self.name, format!("flushing to `{}`", self.topic), e))?;
        let tracker = self.producer.context();
        let failed = tracker.failed.load(Ordering::Relaxed);
        if failed > 0 {
            let first = tracker
                .first
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            return Err(EngineError::Sink {
                sink: self.name.clone(),
                message: format!(
                    "{failed} record(s) could not be delivered to `{}`; the first: {}",
                    self.topic,
                    first.unwrap_or_default()
                ),
            });
        }
        Ok(())
    }
}

/// Creates the sink's topic if it does not exist (another subtask may win the race).
pub(crate) fn ensure_topic(c: &KafkaSinkConfig, name: &str, partitions: i32) -> Result<()> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> =
        client_config(&c.bootstrap_servers, &[], &c.properties)
            .create()
            .map_err(|e| kafka_error(name, "creating an admin client", e))?;
    let md = admin
        .inner()
        .fetch_metadata(Some(&c.topic), REQUEST_TIMEOUT)
        .map_err(|e| kafka_error(name, format!("reading the metadata of `{}`", c.topic), e))?;
    let exists = md
        .topics()
        .iter()
        .any(|t| t.name() == c.topic && t.error().is_none() && !t.partitions().is_empty());
    if exists {
        return Ok(());
    }
    let topic = NewTopic::new(&c.topic, partitions, TopicReplication::Fixed(-1));
    let results = futures::executor::block_on(admin.create_topics([&topic], &AdminOptions::new()))
        .map_err(|e| kafka_error(name, format!("creating topic `{}`", c.topic), e))?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((t, code)) => {
                return Err(kafka_error(
                    name,
                    format!("creating topic `{t}`"),
                    KafkaError::AdminOp(code),
                ))
            }
        }
    }
    Ok(())
}

/// The sequence number of the subtask's last committed transaction, if any.
fn read_marker(marker: &BaseConsumer, name: &str, topic: &str) -> Result<Option<i64>> {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, 0);
    let committed = marker
        .committed_offsets(tpl, REQUEST_TIMEOUT)
        .map_err(|e| kafka_error(name, "reading the transaction marker", e))?;
    Ok(committed.elements().first().and_then(|e| match e.offset() {
        Offset::Offset(n) => Some(n),
        _ => None,
    }))
}

impl<T: Serialize> SinkWriter<T> for KafkaWriter {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        if self.txn.is_some() {
            let encoded = batch
                .iter()
                .map(|r| self.encode(&r.value))
                .collect::<Result<Vec<_>>>()?;
            if let Some(txn) = self.txn.as_mut() {
                txn.pending.extend(encoded);
            }
            return Ok(());
        }
        for r in &batch {
            let e = self.encode(&r.value)?;
            send(&self.producer, &self.name, &self.topic, &e)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        match self.txn.as_mut() {
            Some(txn) => txn.publisher.drain(),
            None => self.flush(),
        }
    }

    fn pre_commit(&mut self, checkpoint: u64) -> Result<Option<Vec<u8>>> {
        let Some(txn) = self.txn.as_mut() else {
            self.flush()?;
            return Ok(None);
        };
        txn.forget_committed()?;
        let epoch = Epoch {
            sequence: txn.next_sequence,
            checkpoint,
            records: std::mem::take(&mut txn.pending),
        };
        txn.next_sequence += 1;
        txn.sealed.push(Arc::new(epoch));
        // Every epoch not known committed goes into this checkpoint: recovery from it
        // must be able to publish them all.
        let refs: Vec<&Epoch> = txn.sealed.iter().map(|e| e.as_ref()).collect();
        Ok(Some(transaction::encode(&refs)))
    }

    fn commit(&mut self, checkpoint: u64) -> Result<()> {
        let Some(txn) = self.txn.as_mut() else {
            return Ok(());
        };
        txn.forget_committed()?;
        for epoch in &txn.sealed {
            if epoch.checkpoint <= checkpoint && epoch.sequence > txn.queued {
                txn.queued = epoch.sequence;
                txn.publisher.enqueue(epoch.clone())?;
            }
        }
        Ok(())
    }

    /// Each old worker's transactions are recovered under that worker's
    /// transactional id: opening its producer fences whatever still runs as it and
    /// aborts what it left open, its marker says which of its epochs were committed,
    /// and the rest are published before this run writes anything.
    fn recover_rescaled(&mut self, assigned: &[(usize, Vec<u8>)]) -> Result<()> {
        for (old, bytes) in assigned.iter().filter(|(_, b)| !b.is_empty()) {
            let (sink, worker) = &self.opened_as;
            if *old == worker.index {
                SinkWriter::<T>::recover(self, Some(bytes))?;
                continue;
            }
            let mut as_old = worker.clone();
            as_old.index = *old;
            let mut previous = KafkaWriter::open(sink, &as_old)?;
            SinkWriter::<T>::recover(&mut previous, Some(bytes))?;
        }
        Ok(())
    }

    fn recover(&mut self, pre_committed: Option<&[u8]>) -> Result<()> {
        let (Some(txn), Some(bytes)) = (self.txn.as_mut(), pre_committed) else {
            return Ok(());
        };
        let marker = read_marker(&txn.marker, &self.name, &self.topic)?;
        let epochs = transaction::decode(&self.name, bytes)?;
        let newest = epochs.iter().map(|e| e.sequence).max();
        if let (Some(m), Some(n)) = (marker, newest) {
            if m > n {
                tracing::warn!(
                    sink = %self.name, marker = m, restored = n,
                    "the cluster holds transactions newer than the restored checkpoint \
                     (an older checkpoint was restored): their output may repeat"
                );
            }
        }
        // Before the run starts, on this thread: the run's own epochs come after.
        for epoch in epochs
            .iter()
            .filter(|e| transaction::needs_publish(e, marker))
        {
            tracing::info!(sink = %self.name, sequence = epoch.sequence,
                checkpoint = %label(epoch.checkpoint), records = epoch.records.len(),
                "publishing a transaction the crashed run had not committed");
            txn.committer.publish(epoch)?;
        }
        if let Some(n) = newest {
            txn.next_sequence = txn.next_sequence.max(n + 1);
        }
        Ok(())
    }
}
