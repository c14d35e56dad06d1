//! The Kafka source and sink against a real broker (noida-db, installed and started by
//! `TestBroker`; one broker for this test binary, a topic per test).
#![cfg(feature = "kafka")]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tidewater_connectors::kafka::test_broker::TestBroker;
use tidewater_connectors::kafka::{
    EndingOffsets, KafkaRecord, KafkaSink, KafkaSinkConfig, KafkaSource, KafkaSourceConfig,
    StartingOffsets,
};
use tidewater_engine::config::DeliveryGuarantee;
use tidewater_engine::dead_letter::{DeadLetter, Origin};
use tidewater_engine::prelude::*;
use tidewater_engine::row::DataType;

fn broker() -> &'static TestBroker {
    TestBroker::shared().unwrap_or_else(|e| panic!("the Kafka tests need their broker: {e}"))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Event {
    key: String,
    value: f64,
    ts: i64,
}

fn event_json(key: &str, value: f64, ts: i64) -> String {
    serde_json::to_string(&Event {
        key: key.into(),
        value,
        ts,
    })
    .unwrap()
}

/// A topic with `partitions` partitions holding `per_partition` events in each,
/// partition p's i-th event being `{"key": "p<p>", "value": i, "ts": 1000 * i}`.
fn filled_topic(topic: &str, partitions: i32, per_partition: i64) {
    let b = broker();
    b.create_topic(topic, partitions).unwrap();
    let records: Vec<(Option<i32>, String)> = (0..partitions)
        .flat_map(|p| {
            (0..per_partition)
                .map(move |i| (Some(p), event_json(&format!("p{p}"), i as f64, 1_000 * i)))
        })
        .collect();
    b.produce_to(topic, records.iter().map(|(p, v)| (*p, None, v.as_str())))
        .unwrap();
}

fn bounded(topic_config: KafkaSourceConfig) -> KafkaSourceConfig {
    topic_config.ending_offsets(EndingOffsets::Latest)
}

/// Runs a bounded JSON read at `parallelism`; returns (partition key, value) pairs sorted.
fn read_events(config: KafkaSourceConfig, parallelism: usize) -> Vec<(String, i64)> {
    let out = MemorySink::new();
    let dead = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(parallelism));
    p.source(KafkaSource::json::<Event>(config))
        .dead_letters(dead.clone())
        .map(|e: Event| (e.key, e.value as i64))
        .sink(out.clone());
    p.run().unwrap();
    assert!(dead.is_empty());
    let mut v = out.values();
    v.sort();
    v
}

fn expected(partitions: &[i32], range: std::ops::Range<i64>) -> Vec<(String, i64)> {
    let mut v: Vec<_> = partitions
        .iter()
        .flat_map(|p| range.clone().map(move |i| (format!("p{p}"), i)))
        .collect();
    v.sort();
    v
}

#[test]
fn subscribe_reads_every_partition_once_at_any_parallelism() {
    filled_topic("subscribe-all", 3, 50);
    for parallelism in [1, 2, 4] {
        let config =
            bounded(KafkaSourceConfig::new(broker().bootstrap()).subscribe(["subscribe-all"]));
        assert_eq!(
            read_events(config, parallelism),
            expected(&[0, 1, 2], 0..50),
            "parallelism {parallelism}"
        );
    }
}

#[test]
fn subscribe_pattern_reads_the_matching_topics_only() {
    filled_topic("pattern-a", 1, 5);
    filled_topic("pattern-b", 2, 5);
    filled_topic("pattern-bx-not", 1, 5);
    let config =
        bounded(KafkaSourceConfig::new(broker().bootstrap()).subscribe_pattern("pattern-[ab]"));
    let got = read_events(config, 2);
    // pattern-a's partition 0 and pattern-b's 0 and 1: keys p0 twice, p1 once
    let mut want = expected(&[0, 0, 1], 0..5);
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn assign_reads_the_listed_partitions_only() {
    filled_topic("assign-some", 3, 20);
    let config =
        bounded(KafkaSourceConfig::new(broker().bootstrap()).assign("assign-some", [0, 2]));
    assert_eq!(read_events(config, 2), expected(&[0, 2], 0..20));
    let missing = bounded(KafkaSourceConfig::new(broker().bootstrap()).assign("assign-some", [7]));
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(KafkaSource::records(missing))
        .map(|r| r.is_ok())
        .sink(MemorySink::new());
    let e = p.run().unwrap_err();
    assert!(
        e.to_string().ends_with("`kafka`: invalid `assign`: expected existing partitions, found partition 7 of `assign-some`, which has 3"),
        "{e}"
    );
}

#[test]
fn starting_offsets_follow_spark() {
    filled_topic("starting", 2, 10);
    let b = broker();
    let specific: StartingOffsets = r#"{"starting":{"0":7,"1":-2}}"#.parse().unwrap();
    let config = bounded(
        KafkaSourceConfig::new(b.bootstrap())
            .subscribe(["starting"])
            .starting_offsets(specific),
    );
    let mut want: Vec<(String, i64)> = (7..10)
        .map(|i| ("p0".to_string(), i))
        .chain((0..10).map(|i| ("p1".to_string(), i)))
        .collect();
    want.sort();
    assert_eq!(read_events(config, 1), want);

    let latest = bounded(
        KafkaSourceConfig::new(b.bootstrap())
            .subscribe(["starting"])
            .starting_offsets(StartingOffsets::Latest),
    );
    assert_eq!(read_events(latest, 1), vec![]);

    let partial: StartingOffsets = r#"{"starting":{"0":1}}"#.parse().unwrap();
    let config = bounded(
        KafkaSourceConfig::new(b.bootstrap())
            .subscribe(["starting"])
            .starting_offsets(partial),
    );
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(KafkaSource::records(config))
        .map(|r| r.is_ok())
        .sink(MemorySink::new());
    let e = p.run().unwrap_err();
    assert!(
        e.to_string().ends_with("`kafka`: invalid `starting_offsets`: expected an offset for every partition read (-2 earliest, -1 latest), as Spark requires, found none for topic `starting` partition 1"),
        "{e}"
    );
}

#[test]
fn ending_offsets_stop_at_the_end_seen_at_start() {
    filled_topic("ending", 1, 10);
    let b = broker();
    let config = bounded(KafkaSourceConfig::new(b.bootstrap()).subscribe(["ending"]));
    // Records written while the run is going are past its end.
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    let written = Arc::new(AtomicUsize::new(0));
    let w = written.clone();
    p.source(KafkaSource::json::<Event>(config))
        .dead_letters(MemorySink::new())
        .inspect(move |_| {
            if w.fetch_add(1, Ordering::SeqCst) == 0 {
                broker()
                    .produce("ending", &[(None, &event_json("late", 99.0, 0))])
                    .unwrap();
            }
        })
        .map(|e: Event| e.value as i64)
        .sink(out.clone());
    p.run().unwrap();
    assert_eq!(out.values(), (0..10).collect::<Vec<_>>());
}

#[test]
fn max_offsets_per_trigger_bounds_every_batch() {
    filled_topic("rate-limited", 1, 100);
    let config = bounded(
        KafkaSourceConfig::new(broker().bootstrap())
            .subscribe(["rate-limited"])
            .max_offsets_per_trigger(7),
    );
    let largest = Arc::new(AtomicUsize::new(0));
    let seen = largest.clone();
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(KafkaSource::records(config))
        .transform("batch_size", move |_| BatchSize(seen.clone()))
        .sink(out.clone());
    p.run().unwrap();
    assert_eq!(out.len(), 100);
    assert_eq!(largest.load(Ordering::SeqCst), 7);
}

/// Passes records on, noting the largest batch.
struct BatchSize(Arc<AtomicUsize>);

impl Operator for BatchSize {
    type In = std::result::Result<KafkaRecord, DeadLetter>;
    type Out = i64;
    fn process_batch(&mut self, input: Batch<Self::In>, output: &mut Batch<i64>) -> Result<()> {
        self.0.fetch_max(input.len(), Ordering::SeqCst);
        output.extend(
            input
                .into_iter()
                .map(|r| Record::new(r.ts, r.value.map(|k| k.offset).unwrap_or(-1))),
        );
        Ok(())
    }
}

#[test]
fn malformed_values_become_counted_dead_letters_with_their_offsets() {
    let b = broker();
    b.create_topic("malformed", 1).unwrap();
    let good = event_json("a", 1.0, 5);
    b.produce(
        "malformed",
        &[
            (None, good.as_str()),
            (None, "{not json"),
            (None, good.as_str()),
            (None, r#"{"key":"a","value":"x","ts":1}"#),
        ],
    )
    .unwrap();
    let config = bounded(KafkaSourceConfig::new(b.bootstrap()).subscribe(["malformed"]));
    let (out, dead) = (MemorySink::new(), MemorySink::new());
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(KafkaSource::json::<Event>(config))
        .dead_letters(dead.clone())
        .sink(out.clone());
    let metrics = p.run().unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(metrics.dead_letters, 2);
    let letters: Vec<(Origin, String, Vec<u8>)> = dead
        .values()
        .into_iter()
        .map(|d| (d.origin, d.error, d.payload))
        .collect();
    let at = |offset| Origin::Kafka {
        topic: "malformed".into(),
        partition: 0,
        offset,
    };
    assert_eq!(
        letters,
        vec![
            (
                at(1),
                "key must be a string at line 1 column 2".to_string(),
                b"{not json".to_vec()
            ),
            (
                at(3),
                "invalid type: string \"x\", expected f64 at line 1 column 22".to_string(),
                br#"{"key":"a","value":"x","ts":1}"#.to_vec()
            ),
        ]
    );
}

#[test]
fn rows_follow_the_declared_schema() {
    let b = broker();
    b.create_topic("rows", 1).unwrap();
    b.produce(
        "rows",
        &[
            (None, r#"{"user":"u1","amount":3}"#),
            (None, r#"{"user":5}"#),
        ],
    )
    .unwrap();
    let config = bounded(KafkaSourceConfig::new(b.bootstrap()).subscribe(["rows"]));
    let schema = Schema::new([("user", DataType::Str), ("amount", DataType::Float)]);
    let (out, dead) = (MemorySink::new(), MemorySink::new());
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(KafkaSource::rows(config, schema))
        .dead_letters(dead.clone())
        .sink(out.clone());
    p.run().unwrap();
    let rows: Vec<Vec<(String, Value)>> = out.values().iter().map(|r| r.to_pairs()).collect();
    assert_eq!(
        rows,
        vec![vec![
            ("user".to_string(), Value::Str("u1".into())),
            ("amount".to_string(), Value::Float(3.0))
        ]]
    );
    assert_eq!(
        dead.values()[0].error,
        "field `user`: expected str, found 5"
    );
}

#[test]
fn records_carry_key_headers_and_position() {
    let b = broker();
    b.create_topic("raw", 1).unwrap();
    b.produce("raw", &[(Some("k1"), "v1")]).unwrap();
    let config = bounded(KafkaSourceConfig::new(b.bootstrap()).subscribe(["raw"]));
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(KafkaSource::records(config))
        .dead_letters(MemorySink::new())
        .sink(out.clone());
    p.run().unwrap();
    let r = &out.values()[0];
    assert_eq!((r.topic.as_str(), r.partition, r.offset), ("raw", 0, 0));
    assert_eq!(
        (r.key.as_deref(), r.value.as_deref()),
        (Some(&b"k1"[..]), Some(&b"v1"[..]))
    );
    assert!(r.timestamp.is_some());
}

/// Window results of a running unbounded pipeline over `topic`, where only partition 0
/// receives events; waits until every event is read.
fn windows_with_one_silent_partition(
    topic: &str,
    idle_timeout: Option<&str>,
) -> (Vec<(String, i64, u64)>, Metrics) {
    let b = broker();
    b.create_topic(topic, 2).unwrap();
    let events: Vec<String> = (0..20).map(|i| event_json("k", 1.0, 1_000 * i)).collect();
    b.produce_to(topic, events.iter().map(|v| (Some(0), None, v.as_str())))
        .unwrap();
    let mut source =
        KafkaSource::json::<Event>(KafkaSourceConfig::new(b.bootstrap()).subscribe([topic]))
            .with_event_time(|e: &Event| e.ts)
            .with_watermark("1 second");
    if let Some(t) = idle_timeout {
        source = source.with_idle_timeout(t);
    }
    // Each event read and each window fired is news for the test.
    let (read, events_read) = std::sync::mpsc::channel::<()>();
    let (fire, fired) = std::sync::mpsc::channel();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(source)
        .dead_letters(MemorySink::new())
        .inspect(move |_: &Event| {
            let _ = read.send(());
        })
        .key_by(|e: &Event| e.key.clone())
        .window(TumblingWindow::of("5 seconds"))
        .count()
        .map(|r: WindowResult<String, u64>| (r.key, r.window_start, r.value))
        .sink(FnSink::new(move |row| {
            let _ = fire.send(row);
        }));
    let processor = p.start().unwrap();
    let limit = Duration::from_secs(30);
    // Every event read, and (with the timeout) the idle partition's timeout passed.
    for i in 0..20 {
        assert!(
            events_read.recv_timeout(limit).is_ok(),
            "read {i} of 20 events"
        );
    }
    let mut results = Vec::new();
    if idle_timeout.is_some() {
        for i in 0..3 {
            let row = fired.recv_timeout(limit);
            assert!(row.is_ok(), "{i} of 3 windows fired");
            results.extend(row);
        }
    }
    results.extend(fired.try_iter());
    let metrics = processor.metrics();
    processor.stop(false);
    let _ = processor.join();
    (results, metrics)
}

#[test]
fn a_silent_partition_holds_the_watermark_until_its_idle_timeout() {
    // Without an idle timeout the empty partition 1 holds every window back.
    let (results, metrics) = windows_with_one_silent_partition("idle-none", None);
    assert_eq!(results, vec![]);
    assert_eq!(metrics.source_records, 20);
    // With one, partition 0's watermark (19 s - 1 s) closes windows [0, 5), [5, 10), [10, 15).
    let (results, _) = windows_with_one_silent_partition("idle-200ms", Some("200 ms"));
    assert_eq!(
        results,
        vec![
            ("k".to_string(), 0, 5),
            ("k".to_string(), 5_000, 5),
            ("k".to_string(), 10_000, 5)
        ]
    );
}

#[test]
fn the_consumer_group_never_moves_partitions() {
    // Two runs in the same group at once each read everything: partitions come from
    // the source's own split, never from a group rebalance.
    filled_topic("group-shared", 2, 30);
    let run = || {
        let config = bounded(
            KafkaSourceConfig::new(broker().bootstrap())
                .subscribe(["group-shared"])
                .group_id("one-group"),
        );
        read_events(config, 1)
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(run);
        let b = s.spawn(run);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a, expected(&[0, 1], 0..30));
    assert_eq!(b, a);
}

#[test]
fn problems_of_source_and_sink_are_reported_together_when_building() {
    let mut p = Pipeline::new(Config::default().with_parallelism(1).with_name("bad"));
    let source = KafkaSourceConfig::new("nohost")
        .subscribe(["a"])
        .assign("b", [0]);
    p.source(KafkaSource::records(source))
        .dead_letters(MemorySink::new())
        .sink(KafkaSink::new(KafkaSinkConfig::new("h:1", "bad topic")));
    let Err(e) = p.build() else { panic!("built") };
    let problems: Vec<String> = e.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        vec![
            "`kafka`: invalid `bootstrap_servers`: expected host:port[,host:port...], found `nohost`",
            "`kafka`: invalid `topics`: expected exactly one of `subscribe`, `subscribe_pattern` and `assign`, found `subscribe` and `assign`",
            "`kafka_sink`: invalid `topic`: expected a topic name (1-249 of [a-zA-Z0-9._-]), found `bad topic`",
        ]
    );
}

#[test]
fn a_missing_topic_is_named() {
    let config = bounded(KafkaSourceConfig::new(broker().bootstrap()).subscribe(["no-such-topic"]));
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(KafkaSource::records(config))
        .dead_letters(MemorySink::new())
        .sink(MemorySink::new());
    let e = p.run().unwrap_err();
    assert!(
        e.to_string()
            .contains("topic `no-such-topic` does not exist"),
        "{e}"
    );
}

/// Records written through the sink, as a read_committed consumer sees them.
fn values_of(topic: &str) -> Vec<(i32, Option<String>, String)> {
    broker()
        .read_committed(topic)
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.partition,
                r.key.map(|k| String::from_utf8(k).unwrap()),
                String::from_utf8(r.value.unwrap()).unwrap(),
            )
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Out {
    key: String,
    n: u32,
}

fn write_outs(topic: &str, delivery: Option<DeliveryGuarantee>, dir: &std::path::Path) {
    let outs: Vec<Out> = (0..40)
        .map(|n| Out {
            key: format!("k{}", n % 4),
            n,
        })
        .collect();
    let mut config = Config::default().with_parallelism(2).with_name("sink-test");
    if let Some(d) = delivery {
        config = config.with_checkpointing(dir, Duration::from_millis(20), d);
    }
    let mut p = Pipeline::new(config);
    p.source(VecSource::new(outs).with_batch_size(5))
        .sink(KafkaSink::new(
            KafkaSinkConfig::new(broker().bootstrap(), topic).key_field("key"),
        ));
    p.run().unwrap();
}

#[test]
fn the_sink_writes_json_keyed_by_a_field_under_every_guarantee() {
    for (i, delivery) in [
        None,
        Some(DeliveryGuarantee::AtLeastOnce),
        Some(DeliveryGuarantee::ExactlyOnce),
    ]
    .into_iter()
    .enumerate()
    {
        let topic = format!("sink-out-{i}");
        broker().create_topic(&topic, 3).unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_outs(&topic, delivery, dir.path());
        let got = values_of(&topic);
        assert_eq!(got.len(), 40, "{delivery:?}");
        // One key, one partition; every value once.
        let mut partition_of: BTreeMap<String, i32> = BTreeMap::new();
        let mut ns: Vec<u32> = Vec::new();
        for (partition, key, value) in got {
            let out: Out = serde_json::from_str(&value).unwrap();
            assert_eq!(key.as_deref(), Some(out.key.as_str()));
            assert_eq!(*partition_of.entry(out.key).or_insert(partition), partition);
            ns.push(out.n);
        }
        ns.sort();
        assert_eq!(ns, (0..40).collect::<Vec<_>>(), "{delivery:?}");
    }
}

#[test]
fn a_bounded_read_skips_aborted_transactions_and_ends_past_the_markers() {
    use tidewater_connectors::kafka::rdkafka::producer::DefaultProducerContext;
    use tidewater_connectors::kafka::rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
    use tidewater_connectors::kafka::rdkafka::ClientConfig;
    let b = broker();
    b.create_topic("transactional-in", 1).unwrap();
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", b.bootstrap())
        .set("transactional.id", "transactional-in-writer")
        .create()
        .unwrap();
    let t = Duration::from_secs(30);
    producer.init_transactions(t).unwrap();
    // committed 0..3, aborted 100..103, committed 3..5, aborted 200: the topic ends
    // with an aborted transaction's marker, past the last record a consumer sees.
    for (values, commit) in [
        (0..3, true),
        (100..103, false),
        (3..5, true),
        (200..201, false),
    ] {
        producer.begin_transaction().unwrap();
        for v in values {
            let value = event_json("k", v as f64, 0);
            producer
                .send(BaseRecord::<str, str>::to("transactional-in").payload(&value))
                .unwrap();
        }
        producer.flush(t).unwrap();
        if commit {
            producer.commit_transaction(t).unwrap();
        } else {
            producer.abort_transaction(t).unwrap();
        }
    }
    let config = bounded(KafkaSourceConfig::new(b.bootstrap()).subscribe(["transactional-in"]));
    let values: Vec<i64> = read_events(config, 1).into_iter().map(|(_, v)| v).collect();
    assert_eq!(values, vec![0, 1, 2, 3, 4]);
    // Consumer properties pass through: read_uncommitted sees the aborted records too.
    let uncommitted = bounded(
        KafkaSourceConfig::new(b.bootstrap())
            .subscribe(["transactional-in"])
            .property("isolation.level", "read_uncommitted"),
    );
    let values: Vec<i64> = read_events(uncommitted, 1)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(values, vec![0, 1, 2, 3, 4, 100, 101, 102, 200]);
}

#[test]
fn rows_are_written_keyed_by_a_field_into_a_topic_the_sink_creates() {
    let rows: Vec<Row> = (0..6)
        .map(|i| {
            Row::from_pairs([
                ("user", Value::Str(format!("u{}", i % 2))),
                ("n", Value::Int(i)),
            ])
        })
        .collect();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(VecSource::new(rows)).sink(KafkaSink::new(
        KafkaSinkConfig::new(broker().bootstrap(), "rows-out")
            .key_field("user")
            .create_topic(2),
    ));
    p.run().unwrap();
    let mut got = values_of("rows-out");
    got.sort_by(|a, b| a.2.cmp(&b.2));
    let keys: Vec<(Option<String>, String)> =
        got.iter().map(|(_, k, v)| (k.clone(), v.clone())).collect();
    let mut want: Vec<(Option<String>, String)> = (0..6)
        .map(|i| {
            (
                Some(format!("u{}", i % 2)),
                format!(r#"{{"user":"u{}","n":{i}}}"#, i % 2),
            )
        })
        .collect();
    want.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(keys, want);
    let partitions: std::collections::BTreeSet<(Option<String>, i32)> =
        got.iter().map(|(p, k, _)| (k.clone(), *p)).collect();
    assert_eq!(partitions.len(), 2, "one partition per key: {partitions:?}");
}

#[test]
fn offsets_are_committed_back_to_the_group_for_monitoring() {
    use tidewater_connectors::kafka::rdkafka::consumer::{BaseConsumer, Consumer};
    use tidewater_connectors::kafka::rdkafka::{ClientConfig, Offset, TopicPartitionList};
    filled_topic("monitored", 2, 25);
    let dir = tempfile::tempdir().unwrap();
    let config = bounded(
        KafkaSourceConfig::new(broker().bootstrap())
            .subscribe(["monitored"])
            .group_id("monitoring-group"),
    );
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(2).with_checkpointing(
        dir.path(),
        Duration::from_millis(20),
        DeliveryGuarantee::AtLeastOnce,
    ));
    p.source(KafkaSource::records(config))
        .dead_letters(MemorySink::new())
        .sink(out.clone());
    p.run().unwrap();
    assert_eq!(out.len(), 50);
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker().bootstrap())
        .set("group.id", "monitoring-group")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition("monitored", 0);
    tpl.add_partition("monitored", 1);
    // The last commit is asynchronous: wait until the group shows the end offsets.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let committed = reader
            .committed_offsets(tpl.clone(), Duration::from_secs(5))
            .unwrap();
        let offsets: Vec<Offset> = committed.elements().iter().map(|e| e.offset()).collect();
        if offsets == vec![Offset::Offset(25), Offset::Offset(25)] {
            break;
        }
        // The next request to the broker (which waits for its answer) paces the loop.
        assert!(Instant::now() < deadline, "group offsets: {offsets:?}");
    }
}

#[test]
fn an_unbounded_source_finds_new_topics_and_partitions() {
    let b = broker();
    b.create_topic("found-a", 1).unwrap();
    b.produce("found-a", &[(None, event_json("a", 1.0, 0).as_str())])
        .unwrap();
    let config = KafkaSourceConfig::new(b.bootstrap())
        .subscribe_pattern("found-.*")
        .partition_discovery_interval_ms(100);
    // Two workers, one partition: one worker starts with nothing to read.
    let (tx, keys_read) = std::sync::mpsc::channel();
    let mut p = Pipeline::new(Config::default().with_parallelism(2));
    p.source(KafkaSource::json::<Event>(config))
        .dead_letters(MemorySink::new())
        .map(|e: Event| e.key)
        .sink(FnSink::new(move |key: String| {
            let _ = tx.send(key);
        }));
    let processor = p.start().unwrap();
    let mut keys = Vec::new();
    let mut wait_for = |n: usize| {
        while keys.len() < n {
            let key = keys_read.recv_timeout(Duration::from_secs(30));
            assert!(key.is_ok(), "{} of {n} records", keys.len());
            keys.extend(key);
        }
    };
    wait_for(1);
    b.create_topic("found-b", 4).unwrap();
    let events: Vec<String> = (0..4).map(|i| event_json("b", 1.0, i)).collect();
    b.produce_to(
        "found-b",
        events
            .iter()
            .enumerate()
            .map(|(i, v)| (Some(i as i32), None, v.as_str())),
    )
    .unwrap();
    wait_for(5);
    processor.stop(false);
    let _ = processor.join();
    keys.sort();
    assert_eq!(keys, vec!["a", "b", "b", "b", "b"]);
}

/// Records a run needs that Kafka deleted fail it (Spark's `failOnDataLoss`, on by
/// default), or with it off are skipped: reading starts at the first offset left.
#[test]
fn deleted_records_fail_the_run_unless_data_loss_is_allowed() {
    let topic = "data-loss";
    filled_topic(topic, 1, 10);
    broker().delete_records(topic, 0, 4).unwrap();
    let config = || {
        bounded(KafkaSourceConfig::new(broker().bootstrap()).subscribe([topic]))
            .starting_offsets(format!(r#"{{"{topic}": {{"0": 1}}}}"#).parse().unwrap())
    };
    let run = |config: KafkaSourceConfig| {
        let out = MemorySink::new();
        let mut p = Pipeline::new(Config::default().with_name("loss"));
        p.source(KafkaSource::json::<Event>(config))
            .dead_letters(MemorySink::new())
            .map(|e: Event| e.value as i64)
            .sink(out.clone());
        p.run().map(|_| {
            let mut v = out.values();
            v.sort();
            v
        })
    };
    let e = run(config()).unwrap_err().to_string();
    assert!(
        e.contains("offsets 1..3 of topic `data-loss` partition 0 are no longer in Kafka (the first one left is 4): some data may have been lost; set failOnDataLoss to false to continue from offset 4"),
        "{e}"
    );
    assert_eq!(
        run(config().fail_on_data_loss(false)).unwrap(),
        (4..10).collect::<Vec<_>>()
    );
}

/// Each partition's lag reaches the source's gauges from librdkafka's statistics:
/// 0 for both partitions once the reader has read all 80 records.
#[test]
fn partition_lag_is_reported_per_topic_partition() {
    filled_topic("lagging", 2, 40);
    let config = KafkaSourceConfig::new(broker().bootstrap()).subscribe(["lagging"]);
    let source = KafkaSource::records(config);
    let mut worker = WorkerInfo::new(&Config::default(), 0, 1);
    let gauges = tidewater_engine::metrics::SourceGauges::default();
    worker.gauges = gauges.clone();
    let mut reader = source.create_reader(&worker).unwrap();
    let caught_up =
        |lags: &BTreeMap<(String, i32), i64>| lags.len() == 2 && lags.values().all(|&l| l == 0);
    // librdkafka hands its statistics over while the reader polls: poll until all 80
    // records are read and both partitions' lag says so. A poll waits up to a few
    // milliseconds for records.
    let mut read = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while read.len() < 80 || !gauges.wait_until(std::time::Duration::ZERO, caught_up) {
        reader.poll_batch(&mut read).unwrap();
        assert!(
            std::time::Instant::now() < deadline,
            "{} read, lags {:?}",
            read.len(),
            gauges.partition_lags("kafka#0")
        );
    }
    assert_eq!(read.len(), 80);
    let lags: Vec<(String, i32, i64)> = gauges
        .partition_lags("kafka#0")
        .into_iter()
        .map(|l| (l.topic, l.partition, l.lag))
        .collect();
    assert_eq!(
        lags,
        [("lagging".to_string(), 0, 0), ("lagging".to_string(), 1, 0)]
    );
}
