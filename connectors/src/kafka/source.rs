//! The Kafka source: partitions split across workers, offsets as the checkpointed
//! position, per-partition watermarks, decoded values or dead letters.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use tidewater_engine::connector::{Restart, Source, SourcePoll, SourceReader, WorkerInfo};
use tidewater_engine::dead_letter::{DeadLetter, Origin};
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::record::{Batch, Record};
use tidewater_engine::row::Schema;
use tidewater_engine::time::{
    duration_ms, IntoDuration, Timestamp, MAX_EVENT_TIME, MIN_EVENT_TIME, NO_TIMESTAMP,
};

use super::assignment::owner;
use super::client::{client_config, kafka_error, EofConsumer, QuietEof, REQUEST_TIMEOUT};
use super::config::KafkaSourceConfig;
use super::offsets::{continue_from, resolve, EndingOffsets, PartitionStart};
use super::partitions::list_partitions;
use super::record::{Decode, Json, JsonRows, RecordView, Records};
use super::watermarks::{PartitionWatermarks, Signal};

/// The largest fetch response accepted (librdkafka's maximum is 2^31 - 1).
pub(crate) const RECEIVE_MAX_BYTES: &str = "1000000000";

type EventTimeFn<V> = Arc<dyn Fn(&V) -> Timestamp + Send + Sync>;

/// Event-time settings: where a record's time comes from and how watermarks follow.
struct EventTime<V> {
    extract: Option<EventTimeFn<V>>,
    delay_ms: std::result::Result<i64, EngineError>,
    idle_timeout_ms: Option<std::result::Result<i64, EngineError>>,
}

/// Reads Kafka topics. Each worker reads its share of the partitions (sorted by topic
/// and partition, worker `i` of `n` takes every `n`-th from the `i`-th); the consumer
/// group never assigns partitions, so a rebalance cannot move them and positions come
/// only from the checkpoint. Yields `Result<value, DeadLetter>`: route the errors with
/// [`Stream::dead_letters`](tidewater_engine::stream::Stream::dead_letters).
///
/// With [`with_watermark`](Self::with_watermark) records carry event time (the Kafka
/// timestamp, or [`with_event_time`](Self::with_event_time)) and each reader reports
/// the least watermark of its partitions (see [`super::watermarks`]), so windows may
/// follow directly.
///
/// ```no_run
/// use serde::Deserialize;
/// use tidewater_engine::prelude::*;
/// use tidewater_connectors::kafka::{KafkaSource, KafkaSourceConfig, EndingOffsets};
///
/// #[derive(Deserialize)]
/// struct Event { key: String, value: f64, ts: i64 }
///
/// let config = KafkaSourceConfig::new("localhost:9092")
///     .subscribe(["events"])
///     .ending_offsets(EndingOffsets::Latest);
/// let bad = MemorySink::new();
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(KafkaSource::json::<Event>(config).with_event_time(|e: &Event| e.ts).with_watermark("1 second"))
///     .dead_letters(bad.clone())
///     .key_by(|e: &Event| e.key.clone())
///     .window(TumblingWindow::of("1 second"))
///     .count()
///     .sink(out.clone());
/// p.run()?;
/// # Ok::<(), EngineError>(())
/// ```
pub struct KafkaSource<D: Decode> {
    config: KafkaSourceConfig,
    decoder: Arc<D>,
    name: String,
    event_time: Option<EventTime<D::Value>>,
}

impl KafkaSource<Records> {
    /// The records themselves ([`KafkaRecord`](super::KafkaRecord)).
    pub fn records(config: KafkaSourceConfig) -> Self {
        KafkaSource::with_decoder(config, Records)
    }

    /// Values as JSON deserialized into `T` (`KafkaSource::json::<Event>(config)`).
    pub fn json<T: serde::de::DeserializeOwned + Send + 'static>(
        config: KafkaSourceConfig,
    ) -> KafkaSource<Json<T>> {
        KafkaSource::with_decoder(config, Json::default())
    }

    /// Values as JSON objects read into rows of `schema`.
    pub fn rows(config: KafkaSourceConfig, schema: Schema) -> KafkaSource<JsonRows> {
        KafkaSource::with_decoder(config, JsonRows::new(schema))
    }
}

impl<D: Decode> KafkaSource<D> {
    /// Values decoded by `decoder`.
    pub fn with_decoder(config: KafkaSourceConfig, decoder: D) -> Self {
        KafkaSource {
            config,
            decoder: Arc::new(decoder),
            name: "kafka".to_string(),
            event_time: None,
        }
    }

    /// Names the source in metrics, errors and checkpoints (default `kafka`).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Records carry event time, and each reader's watermark trails the least of its
    /// partitions' largest event times by `delay` (bounded out-of-orderness). Prefer this
    /// to a `with_watermark` on the stream after the source: that one sees the records
    /// in fetch order, so a partition fetched first moves the watermark past the others'
    /// records, which then arrive late.
    pub fn with_watermark(mut self, delay: impl IntoDuration) -> Self {
        let delay_ms = delay.into_duration().map(duration_ms);
        match &mut self.event_time {
            Some(et) => et.delay_ms = delay_ms,
            None => {
                self.event_time = Some(EventTime {
                    extract: None,
                    delay_ms,
                    idle_timeout_ms: None,
                })
            }
        }
        self
    }

    /// A partition that delivers nothing for `timeout` stops holding the watermark
    /// back until it delivers again (Flink's `withIdleness`). Needs `with_watermark`.
    pub fn with_idle_timeout(mut self, timeout: impl IntoDuration) -> Self {
        let t = timeout.into_duration().map(duration_ms);
        self.event_time_settings().idle_timeout_ms = Some(t);
        self
    }

    /// Event time from the decoded value instead of the Kafka timestamp.
    pub fn with_event_time<F>(mut self, f: F) -> Self
    where
        F: Fn(&D::Value) -> Timestamp + Send + Sync + 'static,
    {
        self.event_time_settings().extract = Some(Arc::new(f));
        self
    }

    fn event_time_settings(&mut self) -> &mut EventTime<D::Value> {
        self.event_time.get_or_insert_with(|| EventTime {
            extract: None,
            delay_ms: Ok(0),
            idle_timeout_ms: None,
        })
    }
}

impl<D: Decode> Source for KafkaSource<D> {
    type Item = std::result::Result<D::Value, DeadLetter>;
    type Reader = KafkaReader<D>;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn restart(&self) -> Restart {
        Restart::FromPosition
    }

    fn event_time(&self) -> bool {
        self.event_time.is_some()
    }

    fn validate(&self) -> Result<()> {
        let mut problems = tidewater_engine::error::Problems::new();
        problems.take(self.config.validate(&self.name));
        if let Some(et) = &self.event_time {
            if let Err(e) = &et.delay_ms {
                problems.push(e.clone().at(&self.name, "watermark delay"));
            }
            if let Some(Err(e)) = &et.idle_timeout_ms {
                problems.push(e.clone().at(&self.name, "idle_timeout"));
            }
        }
        problems.finish(&self.name, ())
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<KafkaReader<D>> {
        self.validate()?;
        KafkaReader::open(self, worker)
    }
}

/// One partition a reader reads.
#[derive(Debug, Clone)]
struct PartitionState {
    topic: Arc<str>,
    partition: i32,
    /// The next offset to read: the position.
    next: i64,
    /// The first offset in Kafka when the partition was opened.
    low: i64,
    /// Where a bounded run stops (exclusive).
    end: Option<i64>,
    done: bool,
}

/// A reader's position, as stored in checkpoints.
#[derive(Debug, Serialize, Deserialize)]
struct Position {
    offsets: Vec<(String, i32, i64)>,
}

/// One worker's share of a [`KafkaSource`].
pub struct KafkaReader<D: Decode> {
    consumer: EofConsumer,
    state: ReaderState<D>,
}

/// Periodic discovery of new partitions and topics.
struct Discovery {
    config: KafkaSourceConfig,
    every_ms: i64,
    last_ms: i64,
    /// This worker's index and the parallelism.
    worker: (usize, usize),
}

/// Everything a reader keeps but its consumer (records borrow the consumer while
/// the state changes).
struct ReaderState<D: Decode> {
    discovery: Option<Discovery>,
    /// A reader without partitions has said it is idle.
    reported_empty: bool,
    name: String,
    decoder: Arc<D>,
    extract: Option<EventTimeFn<D::Value>>,
    partitions: Vec<PartitionState>,
    index: HashMap<Arc<str>, HashMap<i32, usize>>,
    watermarks: Option<PartitionWatermarks>,
    started: Instant,
    batch_limit: usize,
    assigned: bool,
    commit_back: bool,
    /// Spark's `failOnDataLoss`.
    fail_on_data_loss: bool,
    /// Producers' watermarks when reading a repartition topic.
    shuffle: Option<super::shuffle::ShuffleProgress>,
    /// Since when every poll has met a connection error (librdkafka reconnects by
    /// itself; the run fails only when it lasts).
    unreachable_since: Option<Instant>,
}

/// How long brokers may stay unreachable before a run fails.
const UNREACHABLE_LIMIT: Duration = Duration::from_secs(60);

/// A connection error librdkafka recovers from by reconnecting (a broker restarting,
/// a slow network, a starved machine), as opposed to one about the records or the
/// subscription.
fn is_connection_error(e: &KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as Code;
    matches!(
        e.rdkafka_error_code(),
        Some(
            Code::AllBrokersDown
                | Code::BrokerTransportFailure
                | Code::NetworkException
                | Code::RequestTimedOut
                | Code::OperationTimedOut
                | Code::BrokerNotAvailable
                | Code::Resolve
        )
    )
}

impl<D: Decode> KafkaReader<D> {
    fn open(source: &KafkaSource<D>, worker: &WorkerInfo) -> Result<Self> {
        let name = source.name.clone();
        let config = &source.config;
        let group = config
            .group_id
            .clone()
            .unwrap_or_else(|| format!("tidewater-{}-{name}", worker.pipeline));
        let consumer: EofConsumer = client_config(
            &config.bootstrap_servers,
            &[
                ("group.id", group.as_str()),
                ("isolation.level", "read_committed"),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                ("enable.partition.eof", "true"),
                ("auto.offset.reset", "earliest"),
                // Some brokers (noida-db among them) answer a fetch with everything they
                // have, beyond `fetch.max.bytes`; librdkafka refuses responses above this.
                ("receive.message.max.bytes", RECEIVE_MAX_BYTES),
                // Partition lag for the metrics, from librdkafka's statistics.
                ("statistics.interval.ms", "1000"),
            ],
            &config.properties,
        )
        .create_with_context(QuietEof::with_gauges(worker.gauges.clone()))
        .map_err(|e| kafka_error(&name, "creating the consumer", e))?;
        let all = list_partitions(&consumer, &name, config)?;
        let mine: Vec<(String, i32)> = all
            .into_iter()
            .filter(|(t, p)| owner(t, *p, worker.parallelism) == worker.index)
            .collect();
        let mut partitions = Vec::with_capacity(mine.len());
        let mut index: HashMap<Arc<str>, HashMap<i32, usize>> = HashMap::new();
        for (topic, partition) in mine {
            let start = config
                .starting_offsets
                .partition(&topic, partition)
                .ok_or_else(|| {
                    EngineError::invalid(
                        &name,
                        "starting_offsets",
                        "an offset for every partition read (-2 earliest, -1 latest), as Spark requires",
                        format!("none for topic `{topic}` partition {partition}"),
                    )
                })?;
            let (low, high) = consumer
                .fetch_watermarks(&topic, partition, REQUEST_TIMEOUT)
                .map_err(|e| {
                    kafka_error(
                        &name,
                        format!("reading the offsets of `{topic}` partition {partition}"),
                        e,
                    )
                })?;
            let next = match start {
                PartitionStart::At(n) if n < low => continue_from(
                    &topic,
                    partition,
                    n,
                    low,
                    config.fail_on_data_loss != Some(false),
                )
                .map_err(|m| {
                    EngineError::invalid(&name, "starting_offsets", "offsets still in Kafka", m)
                })?,
                _ => resolve(start, low, high),
            };
            let end = (config.ending_offsets == EndingOffsets::Latest).then_some(high);
            let topic: Arc<str> = Arc::from(topic.as_str());
            index
                .entry(topic.clone())
                .or_default()
                .insert(partition, partitions.len());
            partitions.push(PartitionState {
                topic,
                partition,
                next,
                low,
                end,
                done: end.is_some_and(|e| next >= e),
            });
        }
        let started = Instant::now();
        let watermarks = match &source.event_time {
            Some(et) => Some(PartitionWatermarks::new(
                partitions.len(),
                et.delay_ms.clone()?,
                et.idle_timeout_ms.clone().transpose()?,
                0,
            )),
            None => None,
        };
        let limit = config.max_offsets_per_trigger.unwrap_or(u64::MAX);
        Ok(KafkaReader {
            consumer,
            state: ReaderState {
                name,
                decoder: source.decoder.clone(),
                extract: source.event_time.as_ref().and_then(|et| et.extract.clone()),
                partitions,
                index,
                watermarks,
                started,
                batch_limit: worker
                    .batch_size
                    .min(usize::try_from(limit).unwrap_or(usize::MAX))
                    .max(1),
                assigned: false,
                commit_back: config.group_id.is_some(),
                fail_on_data_loss: config.fail_on_data_loss != Some(false),
                shuffle: config
                    .shuffle_producers
                    .map(super::shuffle::ShuffleProgress::new),
                reported_empty: false,
                unreachable_since: None,
                discovery: config.discovery_interval_ms().map(|every| Discovery {
                    config: config.clone(),
                    every_ms: every as i64,
                    last_ms: 0,
                    worker: (worker.index, worker.parallelism),
                }),
            },
        })
    }
}

impl<D: Decode> ReaderState<D> {
    /// Adds the partitions this worker owns that appeared since the last look, read
    /// from their earliest offset.
    fn discover(&mut self, consumer: &EofConsumer, now: i64) -> Result<()> {
        let Some(d) = self.discovery.as_mut() else {
            return Ok(());
        };
        if now - d.last_ms < d.every_ms {
            return Ok(());
        }
        d.last_ms = now;
        let (index, parallelism) = d.worker;
        let listed = list_partitions(consumer, &self.name, &d.config)?;
        let mut added = TopicPartitionList::new();
        for (topic, partition) in listed {
            let known = self
                .index
                .get(topic.as_str())
                .is_some_and(|m| m.contains_key(&partition));
            if known || owner(&topic, partition, parallelism) != index {
                continue;
            }
            let (low, _) = consumer
                .fetch_watermarks(&topic, partition, REQUEST_TIMEOUT)
                .map_err(|e| {
                    kafka_error(
                        &self.name,
                        format!("reading the offsets of `{topic}` partition {partition}"),
                        e,
                    )
                })?;
            tracing::info!(source = %self.name, %topic, partition, "reading a partition found while running");
            let topic: Arc<str> = Arc::from(topic.as_str());
            self.index
                .entry(topic.clone())
                .or_default()
                .insert(partition, self.partitions.len());
            if let Some(w) = self.watermarks.as_mut() {
                w.add_partition(now);
            }
            added
                .add_partition_offset(&topic, partition, Offset::Offset(low))
                .map_err(|e| kafka_error(&self.name, "building the assignment", e))?;
            self.partitions.push(PartitionState {
                topic,
                partition,
                next: low,
                low,
                end: None,
                done: false,
            });
        }
        if self.assigned && added.count() > 0 {
            consumer
                .incremental_assign(&added)
                .map_err(|e| kafka_error(&self.name, "assigning new partitions", e))?;
        }
        Ok(())
    }

    fn now_ms(&self) -> i64 {
        self.started.elapsed().as_millis() as i64
    }

    /// Assigns the partitions still to read, each at its position.
    fn assign(&mut self, consumer: &EofConsumer) -> Result<()> {
        let mut tpl = TopicPartitionList::new();
        for p in self.partitions.iter().filter(|p| !p.done) {
            tpl.add_partition_offset(&p.topic, p.partition, Offset::Offset(p.next))
                .map_err(|e| kafka_error(&self.name, "building the assignment", e))?;
        }
        consumer
            .assign(&tpl)
            .map_err(|e| kafka_error(&self.name, "assigning partitions", e))?;
        if let Some(w) = self.watermarks.as_mut() {
            for (i, p) in self.partitions.iter().enumerate() {
                if p.done {
                    w.finish(i);
                }
            }
        }
        self.assigned = true;
        Ok(())
    }

    fn mark_done(&mut self, consumer: &EofConsumer, i: usize) -> Result<()> {
        let p = &mut self.partitions[i];
        if p.done {
            return Ok(());
        }
        p.done = true;
        if let Some(w) = self.watermarks.as_mut() {
            w.finish(i);
        }
        if !self.assigned {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&p.topic, p.partition);
        consumer
            .pause(&tpl)
            .map_err(|e| kafka_error(&self.name, "pausing a finished partition", e))
    }

    /// The consumer reached the end of what it can read on some partition: a bounded
    /// partition whose position reached its end is done (the last offsets may be
    /// transaction markers, which no record reports).
    fn on_partition_eof(&mut self, consumer: &EofConsumer) -> Result<()> {
        let positions = consumer
            .position()
            .map_err(|e| kafka_error(&self.name, "reading positions", e))?;
        for elem in positions.elements() {
            let Offset::Offset(pos) = elem.offset() else {
                continue;
            };
            let Some(&i) = self
                .index
                .get(elem.topic())
                .and_then(|m| m.get(&elem.partition()))
            else {
                continue;
            };
            let p = &mut self.partitions[i];
            if let Some(end) = p.end {
                if !p.done && pos >= end {
                    p.next = p.next.max(end);
                    self.mark_done(consumer, i)?;
                }
            }
        }
        Ok(())
    }

    fn read_one(
        &mut self,
        consumer: &EofConsumer,
        msg: &rdkafka::message::BorrowedMessage<'_>,
        now: i64,
        out: &mut Batch<std::result::Result<D::Value, DeadLetter>>,
    ) -> Result<()> {
        let Some(&i) = self
            .index
            .get(msg.topic())
            .and_then(|m| m.get(&msg.partition()))
        else {
            return Ok(());
        };
        let offset = msg.offset();
        let p = &mut self.partitions[i];
        if p.done || p.end.is_some_and(|e| offset >= e) {
            return self.mark_done(consumer, i);
        }
        p.next = offset + 1;
        let reached_end = p.end.is_some_and(|e| p.next >= e);
        let view = RecordView::of(msg);
        if let Some(shuffle) = self.shuffle.as_mut() {
            let is_marker = view
                .key
                .is_some_and(|k| k.starts_with(super::shuffle::MARKER_KEY_PREFIX.as_bytes()));
            if is_marker {
                let marker: Option<super::shuffle::Marker> = view
                    .value
                    .and_then(|v| serde_json::from_slice::<serde_json::Value>(v).ok())
                    .and_then(|v| serde_json::from_value(v["__tidewater_marker"].clone()).ok());
                match (marker, self.watermarks.as_mut()) {
                    (Some(m), Some(w)) => {
                        let least = shuffle.observe(i, &m);
                        w.observe_watermark(i, least, now);
                    }
                    (None, _) => {
                        tracing::warn!(source = %self.name, offset, "an unreadable watermark marker");
                    }
                    (Some(_), None) => {}
                }
                if reached_end {
                    return self.mark_done(consumer, i);
                }
                return Ok(());
            }
        }
        let decoded = self.decoder.decode(&view).and_then(|v| {
            let ts = match &self.extract {
                Some(f) => f(&v),
                None if self.watermarks.is_some() => view
                    .timestamp
                    .ok_or_else(|| "the record has no timestamp".to_string())?,
                None => NO_TIMESTAMP,
            };
            if ts != NO_TIMESTAMP && !(MIN_EVENT_TIME..=MAX_EVENT_TIME).contains(&ts) {
                return Err(format!(
                    "event time {ts} outside [{MIN_EVENT_TIME}, {MAX_EVENT_TIME}] ms"
                ));
            }
            Ok((ts, v))
        });
        match decoded {
            Ok((ts, v)) => {
                if let Some(w) = self.watermarks.as_mut() {
                    // A repartition topic's watermark comes from its producers' markers.
                    if self.shuffle.is_some() {
                        w.touch(i, now);
                    } else {
                        w.observe(i, ts, now);
                    }
                }
                out.push(Record::new(ts, Ok(v)));
            }
            Err(error) => {
                if let Some(w) = self.watermarks.as_mut() {
                    w.touch(i, now);
                }
                let origin = Origin::Kafka {
                    topic: view.topic.to_string(),
                    partition: view.partition,
                    offset,
                };
                let payload = view.value.map(<[u8]>::to_vec).unwrap_or_default();
                out.push(Record::new(
                    NO_TIMESTAMP,
                    Err(DeadLetter::new(origin, error, payload)),
                ));
            }
        }
        if reached_end {
            self.mark_done(consumer, i)?;
        }
        Ok(())
    }
}

impl<D: Decode> SourceReader for KafkaReader<D> {
    type Item = std::result::Result<D::Value, DeadLetter>;

    fn poll_batch(&mut self, out: &mut Batch<Self::Item>) -> Result<SourcePoll> {
        let (consumer, state) = (&self.consumer, &mut self.state);
        if state.partitions.iter().all(|p| p.done) {
            if state.discovery.is_none() {
                return Ok(SourcePoll::Finished);
            }
            // Nothing to read yet (more workers than partitions): wait for partitions
            // to appear, without holding back the others' watermark.
            let now = state.now_ms();
            state.discover(consumer, now)?;
            if state.partitions.is_empty() {
                let first = !std::mem::replace(&mut state.reported_empty, true);
                return Ok(if first {
                    SourcePoll::Idle
                } else {
                    SourcePoll::Pending
                });
            }
        }
        if !state.assigned {
            state.assign(consumer)?;
        }
        let now = state.now_ms();
        state.discover(consumer, now)?;
        // Wait briefly for the first record, then take what is buffered.
        let mut timeout = Duration::from_millis(5);
        while out.len() < state.batch_limit {
            match consumer.poll(timeout) {
                None => break,
                Some(Err(KafkaError::PartitionEOF(_))) => {
                    state.unreachable_since = None;
                    state.on_partition_eof(consumer)?
                }
                Some(Err(e)) if is_connection_error(&e) => {
                    let since = *state.unreachable_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > UNREACHABLE_LIMIT {
                        let doing = format!(
                            "reading records (no broker reachable for {} s)",
                            UNREACHABLE_LIMIT.as_secs()
                        );
                        return Err(kafka_error(&state.name, doing, e));
                    }
                    tracing::warn!(source = %state.name, error = %e, "a broker connection failed; librdkafka reconnects");
                    break;
                }
                Some(Err(e)) => return Err(kafka_error(&state.name, "reading records", e)),
                Some(Ok(msg)) => {
                    state.unreachable_since = None;
                    state.read_one(consumer, &msg, now, out)?
                }
            }
            timeout = Duration::ZERO;
            if state.partitions.iter().all(|p| p.done) {
                return Ok(SourcePoll::Finished);
            }
        }
        if let Some(signal) = state.watermarks.as_mut().and_then(|w| w.signal(now)) {
            return Ok(match signal {
                Signal::Watermark(wm) => SourcePoll::Watermark(wm),
                Signal::Idle => SourcePoll::Idle,
            });
        }
        Ok(if out.is_empty() {
            SourcePoll::Pending
        } else {
            SourcePoll::Ready
        })
    }

    fn snapshot_position(&self) -> Result<Option<Vec<u8>>> {
        let state = &self.state;
        let position = Position {
            offsets: state
                .partitions
                .iter()
                .map(|p| (p.topic.to_string(), p.partition, p.next))
                .collect(),
        };
        if state.commit_back && state.assigned {
            // For monitoring only (lag dashboards): positions never come from the group.
            let mut tpl = TopicPartitionList::new();
            for p in &state.partitions {
                let _ = tpl.add_partition_offset(&p.topic, p.partition, Offset::Offset(p.next));
            }
            if let Err(e) = self.consumer.commit(&tpl, CommitMode::Async) {
                tracing::warn!(source = %state.name, error = %e, "committing offsets back to the group failed");
            }
        }
        serde_json::to_vec(&position).map(Some).map_err(|e| {
            EngineError::external(format!("`{}`: encoding the position", state.name), e)
        })
    }

    fn restore_position(&mut self, bytes: &[u8]) -> Result<()> {
        self.state.resume(bytes)
    }

    /// Every old worker's offsets of the partitions this reader reads now: offsets are
    /// per partition, so any split of the partitions over workers takes them over.
    fn restore_rescaled(&mut self, parts: &[Vec<u8>], _worker: &WorkerInfo) -> Result<()> {
        for bytes in parts.iter().filter(|b| !b.is_empty()) {
            self.state.resume(bytes)?;
        }
        Ok(())
    }
}

impl<D: Decode> ReaderState<D> {
    /// Continues the partitions of this reader that `bytes` (a checkpointed position)
    /// holds offsets of.
    fn resume(&mut self, bytes: &[u8]) -> Result<()> {
        let state = self;
        let position: Position = serde_json::from_slice(bytes).map_err(|e| {
            EngineError::external(
                format!("`{}`: decoding the checkpointed position", state.name),
                e,
            )
        })?;
        for (topic, partition, next) in position.offsets {
            if let Some(&i) = state
                .index
                .get(topic.as_str())
                .and_then(|m| m.get(&partition))
            {
                let p = &mut state.partitions[i];
                p.next = continue_from(&topic, partition, next, p.low, state.fail_on_data_loss)
                    .map_err(|m| {
                        EngineError::external(
                            format!("`{}`: resuming from the checkpoint", state.name),
                            std::io::Error::other(m),
                        )
                    })?;
                p.done = p.end.is_some_and(|e| next >= e);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::types::RDKafkaErrorCode as Code;

    #[test]
    fn connection_errors_are_waited_out_and_others_fail() {
        let table = [
            (KafkaError::MessageConsumption(Code::AllBrokersDown), true),
            (
                KafkaError::MessageConsumption(Code::BrokerTransportFailure),
                true,
            ),
            (KafkaError::MessageConsumption(Code::RequestTimedOut), true),
            (
                KafkaError::MessageConsumption(Code::UnknownTopicOrPartition),
                false,
            ),
            (
                KafkaError::MessageConsumption(Code::TopicAuthorizationFailed),
                false,
            ),
            (KafkaError::PartitionEOF(0), false),
        ];
        for (error, transient) in table {
            assert_eq!(is_connection_error(&error), transient, "{error}");
        }
    }
}
