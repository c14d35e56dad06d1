//! Every example of the reference document on tauro's streaming module (file 004 in
//! `../shared/seeds/`) is a pipeline file in `examples/pipelines/seed-004/`, and each
//! one runs here: the rate ones print Spark's console tables, the Delta change-feed
//! ones read a table written here, the Kafka ones read the test broker into Delta
//! tables (every event exactly once) or the console, and the one whose transform is a
//! Rust function runs with it registered. Brokers, folders and schemas come from the
//! environment, as tauro's `${...}` substitution has it.
#![cfg(all(feature = "kafka", feature = "delta"))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

mod lines;
use lines::{records_read, Lines};

use tidewater::connectors::delta::{DeltaSource, DeltaSourceConfig};
use tidewater::connectors::kafka::test_broker::TestBroker;
use tidewater::declarative::{load_pipelines, RunOptions, TransformRegistry};
use tidewater::prelude::*;

const SCHEMA_DDL: &str = "user_id STRING, event_type STRING, timestamp BIGINT";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pipelines/seed-004")
}

fn example(name: &str) -> PathBuf {
    dir().join(name)
}

/// The environment the example files read.
fn environment(data: &Path, kafka: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TIDEWATER_KAFKA", kafka.to_string()),
        ("TIDEWATER_DATA", data.display().to_string()),
        ("EVENTS_SCHEMA", format!("\"{SCHEMA_DDL}\"")),
        (
            "PYTHON_SCHEMA_OBJECT",
            "{user_id: string, event_type: string, timestamp: long}".to_string(),
        ),
    ]
}

/// A `tidewater run` child whose output is gathered line by line as it comes.
struct Run {
    child: std::process::Child,
    lines: Lines,
}

impl Run {
    fn start(file: &Path, env: &[(&str, String)]) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidewater"))
            .arg("run")
            .arg(file)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Lines::new(child.stdout.take().unwrap(), child.stderr.take().unwrap());
        Run { child, lines }
    }

    /// Waits (at most two minutes) until `ready(stdout, stderr)`: each line the child
    /// prints is a reason to look again.
    fn wait_until(&mut self, what: &str, ready: impl Fn(&str, &str) -> bool) {
        if let Err(e) = self.lines.wait_until(Duration::from_secs(120), ready) {
            panic!("no {what}: {e}");
        }
    }

    /// Ctrl-C, then the exit status and everything printed.
    fn interrupt(self) -> (ExitStatus, String, String) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        self.finish()
    }

    fn finish(mut self) -> (ExitStatus, String, String) {
        let status = self.child.wait().unwrap();
        let (stdout, stderr) = self.lines.finish();
        (status, stdout, stderr)
    }
}

/// The console tables printed: batch id, column names, rows (cells as text).
type Tables = Vec<(u64, Vec<String>, Vec<Vec<String>>)>;

fn console_tables(stdout: &str) -> Tables {
    let mut tables = Vec::new();
    let lines: Vec<&str> = stdout.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(id) = line.strip_prefix("Batch: ") else {
            continue;
        };
        let cells = |l: &str| -> Vec<String> {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        };
        // Batch, rule, border, header, border, rows..., border; a table still being
        // printed (no closing border yet) is not counted.
        let Some(header) = lines.get(i + 3) else {
            break;
        };
        let body = lines.get(i + 5..).unwrap_or_default();
        let rows: Vec<Vec<String>> = body
            .iter()
            .take_while(|l| l.starts_with('|'))
            .map(|l| cells(l))
            .collect();
        if !body.get(rows.len()).is_some_and(|l| l.starts_with('+')) {
            break;
        }
        tables.push((id.parse().unwrap(), cells(header), rows));
    }
    tables
}

/// A Delta table's rows as JSON objects, sorted by `order`.
fn delta_rows(path: &Path, order: &str) -> Vec<serde_json::Value> {
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(DeltaSource::new(DeltaSourceConfig::new(path)))
        .dead_letters(MemorySink::new())
        .sink(out.clone());
    p.run().unwrap();
    let mut rows: Vec<serde_json::Value> = out
        .values()
        .iter()
        .map(|r: &Row| serde_json::to_value(r).unwrap())
        .collect();
    rows.sort_by_key(|r| r[order].as_i64());
    rows
}

#[test]
fn every_example_file_is_run_by_a_test_here() {
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut covered: Vec<&str> = RATE_EXAMPLES
        .iter()
        .map(|(name, _)| *name)
        .chain(KAFKA_EXAMPLES.iter().map(|(name, _)| *name))
        .chain([
            "delta_cdc.json",
            "delta_cdf_debug.yaml",
            "event_ingestion.json",
            "events_ingestion.json",
        ])
        .collect();
    covered.sort();
    assert_eq!(files, covered);
    // And each is a valid file in the environment the tests give.
    let data = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_tidewater"))
        .arg("validate")
        .args(files.iter().map(|f| example(f)))
        .envs(environment(data.path(), "localhost:9092"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
}

/// The rate examples and how many rows each console table shows (`numRows`).
const RATE_EXAMPLES: [(&str, usize); 4] = [
    ("rate_test.yaml", 5),
    ("rate_source.json", 20),
    ("rate_test_checkpointed.json", 5),
    ("rate_debug.json", 5),
];

#[test]
fn the_rate_examples_print_sparks_console_tables_and_the_two_node_pipeline_writes_files() {
    let data = tempfile::tempdir().unwrap();
    let env = environment(data.path(), "localhost:9092");
    // All at once: the slowest trigger is ten seconds.
    let mut runs: Vec<(&str, usize, Run)> = RATE_EXAMPLES
        .iter()
        .map(|(name, shown)| (*name, *shown, Run::start(&example(name), &env)))
        .collect();
    let mut two_nodes = Run::start(&example("events_ingestion.json"), &env);
    for (name, _, run) in runs.iter_mut() {
        run.wait_until(&format!("{name}'s first batch"), |out, _| {
            console_tables(out).len() >= 2
        });
    }
    two_nodes.wait_until("rows from both nodes", |_, err| records_read(err) >= 40);
    for (name, shown, run) in runs {
        let (status, out, err) = run.interrupt();
        assert!(status.success(), "{name}: {status}\n{err}");
        let tables = console_tables(&out);
        for (i, (id, header, rows)) in tables.iter().enumerate() {
            assert_eq!(*id, i as u64, "{name}");
            assert_eq!(header, &["timestamp", "value"], "{name}");
            assert!(!rows.is_empty() && rows.len() <= shown, "{name}: {rows:?}");
        }
        // Values count up from 0 without gaps or repeats, batch after batch.
        let first = &tables[0].2;
        let mut values: Vec<u64> = first.iter().map(|r| r[1].parse().unwrap()).collect();
        values.sort();
        if first.len() < shown {
            assert_eq!(
                values,
                (0..first.len() as u64).collect::<Vec<_>>(),
                "{name}"
            );
        }
        let mut all: Vec<u64> = tables
            .iter()
            .flat_map(|t| t.2.iter().map(|r| r[1].parse::<u64>().unwrap()))
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "{name}: a value shown twice");
    }
    let (status, _, err) = two_nodes.interrupt();
    assert!(status.success(), "{err}");
    let node = |n: &str| -> Vec<i64> {
        let mut v: Vec<i64> = tidewater::connectors::file::FileSink::published_lines(
            &data.path().join("out").join(n),
        )
        .unwrap()
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["value"]
                .as_i64()
                .unwrap()
        })
        .collect();
        v.sort();
        v
    };
    let (one, two) = (node("node1"), node("node2"));
    assert!(!one.is_empty() && !two.is_empty(), "{err}");
    assert_eq!(one, (0..one.len() as i64).collect::<Vec<_>>());
    assert!(two.iter().all(|v| v % 2 == 0), "{two:?}");
    let read: BTreeMap<&str, u64> = err
        .lines()
        .filter_map(|l| {
            let (_, rest) = l.split_once(": `")?;
            let (name, rest) = rest.split_once("` read ")?;
            Some((name, rest.split(' ').next()?.parse().ok()?))
        })
        .collect();
    assert_eq!(read["node_config1"], one.len() as u64, "{err}");
}

/// Writes a Delta table of three rows (one commit) with a pipeline file.
fn source_table(data: &Path) {
    let input = data.join("rows");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("rows.jsonl"),
        "{\"id\":1,\"name\":\"ann\"}\n{\"id\":2,\"name\":\"bo\"}\n{\"id\":3,\"name\":\"cy\"}\n",
    )
    .unwrap();
    let file = data.join("make_table.yaml");
    std::fs::write(
        &file,
        format!(
            "name: make_table\ninput: {{format: json, path: {}, schema: {{id: long, name: string}}}}\noutput: {{format: delta, path: {}}}\nstreaming: {{trigger: {{type: once}}, checkpoint_location: {}}}\n",
            input.display(),
            data.join("delta/source_table").display(),
            data.join("cp-make").display()
        ),
    )
    .unwrap();
    let (status, _, err) = Run::start(&file, &[]).finish();
    assert!(status.success(), "{err}");
}

#[test]
fn the_delta_change_feed_examples_read_the_tables_changes() {
    let data = tempfile::tempdir().unwrap();
    let env = environment(data.path(), "localhost:9092");
    source_table(data.path());
    // From version 0 (the table's creation): every row as an insert of commit 1, the
    // one that wrote them, then streaming on.
    let mut cdc = Run::start(&example("delta_cdc.json"), &env);
    cdc.wait_until("the change feed's first table", |out, _| {
        !console_tables(out).is_empty()
    });
    let (status, out, err) = cdc.interrupt();
    assert!(status.success(), "{err}");
    let (_, header, rows) = &console_tables(&out)[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut seen: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r[col("id")].clone(),
                r[col("name")].clone(),
                r[col("_change_type")].clone(),
                r[col("_commit_version")].clone(),
            )
        })
        .collect();
    seen.sort();
    let want: Vec<(String, String, String, String)> = [("1", "ann"), ("2", "bo"), ("3", "cy")]
        .iter()
        .map(|(i, n)| (i.to_string(), n.to_string(), "insert".into(), "1".into()))
        .collect();
    assert_eq!(seen, want);
    // From the latest version, once: nothing has changed since, nothing is read.
    let (status, out, err) = Run::start(&example("delta_cdf_debug.yaml"), &env).finish();
    assert!(status.success(), "{err}");
    assert!(console_tables(&out).is_empty(), "{out}");
    assert!(err.contains("`delta_cdf_debug` read 0 records"), "{err}");
}

/// The Kafka examples: topic read, and the Delta table written (None: the console).
const KAFKA_EXAMPLES: [(&str, Option<&str>); 6] = [
    ("kafka_to_delta_production.yaml", Some("delta/events")),
    ("events_to_delta.yaml", Some("delta/events_cdf")),
    ("kafka_to_delta.json", Some("delta/my_table")),
    ("kafka_json.json", None),
    ("kafka_watermark.json", Some("delta/watermarked")),
    ("events_to_delta_minimal.json", Some("delta/events")),
];

fn broker() -> &'static TestBroker {
    TestBroker::shared().unwrap_or_else(|e| panic!("the Kafka examples need their broker: {e}"))
}

/// `n` events on `topic`, ids `first..first + n`, one JSON object each.
fn produce_events(b: &TestBroker, topic: &str, ids: std::ops::Range<i64>) -> Vec<String> {
    let values: Vec<String> = ids
        .map(|i| {
            format!(
                r#"{{"user_id":"u{}","event_type":"click","action":"view","timestamp":{},"event_time":{}}}"#,
                i % 7,
                1_700_000_000_000 + i,
                1_700_000_000_000 + i
            )
        })
        .collect();
    let records: Vec<(Option<&str>, &str)> = values.iter().map(|v| (None, v.as_str())).collect();
    b.produce(topic, &records).unwrap();
    values
}

#[test]
fn the_kafka_examples_read_the_broker_into_delta_tables_and_the_console() {
    let b = broker();
    for topic in ["events", "events-topic", "my-topic"] {
        b.create_topic(topic, 1).unwrap();
    }
    const N: i64 = 300;
    // Each file in a folder of its own: two of them write `delta/events`.
    let runs: Vec<(&str, Option<&str>, PathBuf, Run)> = KAFKA_EXAMPLES
        .iter()
        .map(|(name, table)| {
            let data = tempfile::tempdir().unwrap().keep();
            let run = Run::start(&example(name), &environment(&data, &b.bootstrap()));
            (*name, *table, data, run)
        })
        .collect();
    let mut runs = runs;
    for (name, _, _, run) in runs.iter_mut() {
        run.wait_until(&format!("{name} to start"), |_, err| {
            err.contains("started: ")
        });
    }
    // Started with `latest` offsets: each reads exactly what comes from now on.
    let values = produce_events(b, "events", 0..N);
    produce_events(b, "events-topic", 0..N);
    produce_events(b, "my-topic", 0..N);
    for (name, _, _, run) in runs.iter_mut() {
        run.wait_until(&format!("{name} to read {N} events"), |_, err| {
            records_read(err) >= N as u64
        });
    }
    for (name, table, data, run) in runs {
        let (status, out, err) = run.interrupt();
        assert!(status.success(), "{name}: {status}\n{err}");
        match table {
            Some(table) => {
                let raw = name == "kafka_to_delta.json";
                let time = match name {
                    "kafka_watermark.json" => "event_time",
                    _ => "timestamp",
                };
                let rows = delta_rows(&data.join(table), if raw { "offset" } else { time });
                assert_eq!(rows.len(), N as usize, "{name}: every event once");
                for (i, row) in rows.iter().enumerate() {
                    if raw {
                        // No parse_json: Spark's Kafka columns, the value as text.
                        assert_eq!(row["value"].as_str(), Some(values[i].as_str()), "{name}");
                        assert_eq!(row["topic"], "my-topic", "{name}");
                    } else {
                        assert_eq!(row["user_id"], format!("u{}", i as i64 % 7), "{name}");
                        assert_eq!(row[time], 1_700_000_000_000 + i as i64, "{name}");
                    }
                }
            }
            None => {
                let tables = console_tables(&out);
                let shown: usize = tables.iter().map(|t| t.2.len()).sum();
                assert!(shown > 0, "{name}: {out}");
                for (_, header, rows) in &tables {
                    assert_eq!(header, &["user_id", "event_type", "timestamp"], "{name}");
                    for row in rows {
                        let ts: i64 = row[2].parse().unwrap();
                        let i = ts - 1_700_000_000_000;
                        assert_eq!(row[..2], [format!("u{}", i % 7), "click".to_string()]);
                    }
                }
            }
        }
        std::fs::remove_dir_all(data).ok();
    }
    // After them (it reads `events` too): the example whose transform is code.
    the_example_with_a_python_transform_runs_with_it_registered_from_rust(b);
}

fn the_example_with_a_python_transform_runs_with_it_registered_from_rust(b: &TestBroker) {
    let data = tempfile::tempdir().unwrap();
    // The file with its `${...}` filled in, as the environment would.
    let mut text = std::fs::read_to_string(example("event_ingestion.json")).unwrap();
    for (k, v) in environment(data.path(), &b.bootstrap()) {
        text = text.replace(&format!("${{{k}}}"), &v);
    }
    let file = data.path().join("event_ingestion.json");
    std::fs::write(&file, text).unwrap();
    let group = load_pipelines(&file).unwrap();
    assert_eq!(
        (group.name.as_str(), group.max_concurrent_pipelines),
        ("event_ingestion", 2)
    );
    // The document's `parse_and_enrich`: its rows parsed already (parse_json), it adds
    // the processing time (and tells the test of each row it saw).
    let (seen, rows_seen) = std::sync::mpsc::channel::<()>();
    let seen = std::sync::Mutex::new(seen);
    let mut registry = TransformRegistry::new();
    registry.register("parse_and_enrich", move |rows: Stream<Row>| {
        let seen = seen.lock().unwrap().clone();
        rows.map(move |r: Row| {
            let _ = seen.send(());
            let mut pairs = r.to_pairs();
            pairs.push((
                "processed_at".into(),
                Value::from(chrono::Utc::now().to_rfc3339()),
            ));
            Row::from_pairs(pairs)
        })
    });
    let node = &group.nodes[0];
    let processor = node
        .pipeline_with(RunOptions::default(), &registry)
        .unwrap()
        .start()
        .unwrap();
    produce_events(b, "events", 0..50);
    for i in 0..50 {
        let row = rows_seen.recv_timeout(Duration::from_secs(120));
        assert!(row.is_ok(), "{i} of 50 rows: {:?}", processor.metrics());
    }
    processor.stop(true);
    processor.join().unwrap();
    let rows = delta_rows(&data.path().join("delta/events"), "timestamp");
    assert_eq!(rows.len(), 50);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["action"], "view");
        assert_eq!(row["timestamp"], 1_700_000_000_000 + i as i64);
        let at = row["processed_at"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    }
}
