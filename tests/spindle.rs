//! The Spindle streamer and emitter writing where they are told: a file (write and
//! append), memory, and Kafka topics per table on the test broker.

use std::collections::BTreeMap;

use tidewater::generators::core::StreamOptions;
use tidewater::generators::emitter::{SinkType, StreamEmitConfig, StreamEmitter};
use tidewater::generators::retail::{RetailDomain, Scale};
use tidewater::spindle::{FileMode, FileWriter, MemoryWriter, SpindleStreamer};

#[test]
fn the_streamer_writes_a_file_then_appends_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let tables = RetailDomain::new(Scale::Small, 42).generate();
    let options = StreamOptions {
        max_events: Some(300),
        out_of_order_probability: 0.1,
        ..Default::default()
    };
    for (mode, lines) in [
        (FileMode::Write, 300),
        (FileMode::Append, 600),
        (FileMode::Write, 300),
    ] {
        let writer = FileWriter::open(&path, mode).unwrap();
        let mut streamer =
            SpindleStreamer::new(tables.clone(), writer).with_options(options.clone());
        let result = streamer.stream("orders", None).unwrap();
        assert_eq!(result.events_sent, 300);
        assert!(result.out_of_order_count > 0);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), lines, "{mode:?}");
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["_spindle_table"], "orders");
    }
}

#[test]
fn stream_all_streams_every_table_in_generation_order() {
    let tables = RetailDomain::new(Scale::Small, 1).generate();
    let mut streamer = SpindleStreamer::new(tables.clone(), MemoryWriter::default());
    let err = streamer.stream_all(None).unwrap_err().to_string();
    assert!(
        err.contains("`products`") && err.contains("`order_lines`"),
        "{err}"
    );
    let results = streamer
        .stream_all(Some((1_704_067_200_000, 50.0)))
        .unwrap();
    let names: Vec<&str> = results.iter().map(|r| r.generator.as_str()).collect();
    assert_eq!(names, tables.names());
    let total: usize = tables.iter().map(|(_, rows)| rows.len()).sum();
    assert_eq!(streamer.writer().events.len(), total);
    for (result, (_, rows)) in results.iter().zip(tables.iter()) {
        assert_eq!(result.events_sent as usize, rows.len());
    }
}

#[test]
fn the_emitter_writes_to_a_file_named_by_its_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/envelopes.jsonl");
    let tables = RetailDomain::new(Scale::Small, 1).generate();
    let config = StreamEmitConfig {
        max_events: Some(1_000),
        replay_enabled: true,
        sink_type: SinkType::File,
        sink_connection: BTreeMap::from([("path".to_string(), path.display().to_string())]),
        ..Default::default()
    };
    let expected = StreamEmitter::new(&tables, config.clone()).unwrap().emit();
    let result = tidewater::spindle::emit(&tables, config.clone()).unwrap();
    assert_eq!(result.events_sent, 1_000);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want: Vec<serde_json::Value> = expected
        .envelopes
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(lines, want);
    let missing = StreamEmitConfig {
        sink_connection: BTreeMap::new(),
        ..config
    };
    assert_eq!(
        tidewater::spindle::emit(&tables, missing)
            .unwrap_err()
            .to_string(),
        "`sink_connection.path`: expected the file to write, found nothing"
    );
}

#[cfg(feature = "kafka")]
#[test]
fn the_emitter_writes_each_table_to_its_kafka_topic() {
    use tidewater::connectors::kafka::test_broker::TestBroker;
    let broker = TestBroker::shared().unwrap();
    let tables = RetailDomain::new(Scale::Small, 1).generate();
    let topics: Vec<String> = tables
        .names()
        .iter()
        .map(|t| format!("spindle-{t}"))
        .collect();
    for topic in &topics {
        broker.create_topic(topic, 2).unwrap();
    }
    let config = StreamEmitConfig {
        max_events: Some(12_000),
        topics: topics.clone().into(),
        sink_type: SinkType::Kafka,
        sink_connection: BTreeMap::from([("bootstrap_servers".to_string(), broker.bootstrap())]),
        ..Default::default()
    };
    let expected = StreamEmitter::new(&tables, config.clone()).unwrap().emit();
    let result = tidewater::spindle::emit(&tables, config).unwrap();
    assert_eq!(result.events_sent, 12_000);
    let mut by_topic: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &expected.envelopes {
        by_topic
            .entry(e.topic.clone())
            .or_default()
            .push(e.id.clone());
    }
    for topic in &topics {
        let records = broker.read_committed(topic).unwrap();
        let mut ids: Vec<String> = records
            .iter()
            .map(|r| {
                let value: serde_json::Value =
                    serde_json::from_slice(r.value.as_ref().unwrap()).unwrap();
                assert_eq!(r.key.as_deref(), value["id"].as_str().map(str::as_bytes));
                value["id"].as_str().unwrap().to_string()
            })
            .collect();
        let mut want = by_topic.remove(topic).unwrap_or_default();
        ids.sort();
        want.sort();
        assert_eq!(ids, want, "{topic}");
    }
}
