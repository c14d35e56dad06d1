//! A pipeline file reading Kafka and writing Kafka, exactly-once, run by the
//! `tidewater` binary against the test broker: the windowed counts equal an
//! independent computation and a malformed value reaches `<topic>.dead-letters`.
#![cfg(feature = "kafka")]

use std::collections::BTreeMap;
use std::process::Command;

use tidewater::connectors::kafka::test_broker::TestBroker;

fn broker() -> &'static TestBroker {
    TestBroker::shared()
        .unwrap_or_else(|e| panic!("the Kafka pipeline-file test needs its broker: {e}"))
}

/// Writes `yaml` to a file in `dir` and runs it with `tidewater run` to the end.
fn run_file(dir: &std::path::Path, yaml: &str) {
    let file = dir.join("pipeline.yaml");
    std::fs::write(&file, yaml).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_tidewater"))
        .args(["run", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// A pipeline file: JSON `{key, value, ts}` from Kafka topic `topics.0`, counted per
/// key in 5 s windows (1 s watermark), written exactly-once to topic `topics.1`.
fn counts_file(
    name: &str,
    servers: &str,
    (input, output): (&str, &str),
    trigger: &str,
    checkpoint: &std::path::Path,
) -> String {
    format!(
        r#"name: {name}
input:
  format: kafka
  options:
    kafka.bootstrap.servers: "{servers}"
    subscribe: "{input}"
    startingOffsets: earliest
  schema: {{key: string, value: long, ts: long}}
  watermark: {{column: ts, delay: "1 second"}}
transforms:
  - window: {{type: tumbling, column: ts, size: "5 seconds"}}
    group_by: [key]
    aggregations: ["count(*) AS n"]
output:
  format: kafka
  options:
    kafka.bootstrap.servers: "{servers}"
    topic: "{output}"
streaming:
  trigger: {trigger}
  checkpoint_location: {checkpoint}
  delivery: exactly_once
"#,
        checkpoint = checkpoint.display(),
    )
}

/// The `window_start` and `n` of every row of `topic`, failing on a window seen twice.
fn windows_counted(
    b: &TestBroker,
    topic: &str,
    key: impl Fn(&serde_json::Value) -> String,
) -> BTreeMap<(String, i64), u64> {
    let mut counted = BTreeMap::new();
    for record in b.read_committed(topic).unwrap() {
        let row: serde_json::Value = serde_json::from_slice(&record.value.unwrap()).unwrap();
        let window = (key(&row), row["window_start"].as_i64().unwrap());
        assert!(
            counted.insert(window, row["n"].as_u64().unwrap()).is_none(),
            "a window twice"
        );
    }
    counted
}

#[test]
fn a_kafka_to_kafka_pipeline_file_counts_exactly_once() {
    let b = broker();
    let (input, output) = ("pipeline-in", "pipeline-out");
    b.create_topic(input, 2).unwrap();
    b.create_topic(output, 2).unwrap();
    let mut expected: BTreeMap<(String, i64), u64> = BTreeMap::new();
    let mut values = Vec::new();
    for i in 0..600_i64 {
        let key = format!("k{}", i % 3);
        let ts = 1_700_000_000_000 + i * 37;
        *expected.entry((key.clone(), ts - ts % 5_000)).or_default() += 1;
        values.push(format!(r#"{{"key":"{key}","value":{i},"ts":{ts}}}"#));
    }
    values.push("{not json".to_string());
    b.produce(
        input,
        &values
            .iter()
            .map(|v| (None, v.as_str()))
            .collect::<Vec<_>>(),
    )
    .unwrap();

    let work = tempfile::tempdir().unwrap();
    run_file(
        work.path(),
        &counts_file(
            "kafka_counts",
            &b.bootstrap(),
            (input, output),
            "{type: available_now}",
            &work.path().join("cp"),
        ),
    );
    let counted = windows_counted(b, output, |row| row["key"].as_str().unwrap().to_string());
    assert_eq!(counted, expected);
    let letters = b.read_committed(&format!("{output}.dead-letters")).unwrap();
    assert_eq!(letters.len(), 1);
    let letter: serde_json::Value =
        serde_json::from_slice(letters[0].value.as_ref().unwrap()).unwrap();
    assert_eq!(letter["payload"], "{not json", "{letter}");
}

#[test]
fn generate_writes_to_a_kafka_topic() {
    let b = broker();
    let url = format!("kafka://{}/generated", b.bootstrap());
    let out = Command::new(env!("CARGO_BIN_EXE_tidewater"))
        .args(["generate", "w1", "--events", "200", "--output", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = b.read_committed("generated").unwrap();
    assert_eq!(records.len(), 200);
    let first: serde_json::Value =
        serde_json::from_slice(records[0].value.as_ref().unwrap()).unwrap();
    assert!(first.get("ts").is_some(), "{first}");
}

/// One partition far ahead of the other in the fetch order must not make the other's
/// records late: the source keeps a watermark per partition (the least of them goes
/// downstream). Partition 0 gets 4 000 records over 400 s, partition 1 the same span;
/// whichever a fetch returns first, every 10 s window counts both.
#[test]
fn a_partition_read_first_does_not_make_the_other_late() {
    let b = broker();
    let (input, output) = ("skewed-in", "skewed-out");
    b.create_topic(input, 2).unwrap();
    b.create_topic(output, 1).unwrap();
    let mut expected: BTreeMap<i64, u64> = BTreeMap::new();
    let mut values: Vec<(Option<i32>, String)> = Vec::new();
    for partition in [0, 1] {
        for i in 0..4_000_i64 {
            let ts = 1_700_000_000_000 + i * 100;
            *expected.entry(ts - ts % 10_000).or_default() += 1;
            values.push((
                Some(partition),
                format!(r#"{{"k":"all","value":{i},"ts":{ts}}}"#),
            ));
        }
    }
    b.produce_to(input, values.iter().map(|(p, v)| (*p, None, v.as_str())))
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    run_file(
        work.path(),
        &format!(
            r#"name: skewed
input:
  format: kafka
  options:
    kafka.bootstrap.servers: "{servers}"
    subscribe: "{input}"
    startingOffsets: earliest
  schema: {{k: string, value: long, ts: long}}
  watermark: {{column: ts, delay: "1 second"}}
transforms:
  - window: {{type: tumbling, column: ts, size: "10 seconds"}}
    group_by: [k]
    aggregations: ["count(*) AS n"]
output:
  format: kafka
  options:
    kafka.bootstrap.servers: "{servers}"
    topic: "{output}"
streaming:
  trigger: {{type: available_now}}
"#,
            servers = b.bootstrap(),
        ),
    );
    let counted: BTreeMap<i64, u64> = windows_counted(b, output, |_| String::new())
        .into_iter()
        .map(|((_, start), n)| (start, n))
        .collect();
    assert_eq!(counted, expected);
}

/// Kills a `tidewater` process when dropped (a failed assertion leaves none behind).
struct Instance(std::process::Child);

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first line of `path` that starts with `prefix`, waiting for it to be written.
fn line_starting(path: &std::path::Path, prefix: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.starts_with(prefix)) {
            return line.to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no `{prefix}` line in:\n{text}"
        );
        std::thread::park_timeout(std::time::Duration::from_millis(100));
    }
}

/// `tidewater run --group`: two instances of a windowed pipeline file share a
/// topic partitioned by key; together they commit every window once, and an
/// instance's `/metrics` shows its assignment.
#[test]
fn two_cli_instances_in_a_group_count_every_window_once() {
    cli_group("cli-group", true);
}

/// The same over an input not partitioned by key, with `--repartition-by key`.
#[test]
fn two_cli_instances_repartitioning_their_input_count_every_window_once() {
    cli_group("cli-shuffle", false);
}

fn cli_group(name: &str, keyed: bool) {
    let b = broker();
    let (input, output, partitions) = (&format!("{name}-in"), &format!("{name}-out"), 4);
    b.create_topic(input, partitions).unwrap();
    b.create_topic(output, 1).unwrap();
    let mut expected: BTreeMap<(String, i64), u64> = BTreeMap::new();
    let mut records: Vec<(Option<i32>, Option<String>, String)> = Vec::new();
    for i in 0..4_000_i64 {
        let k = i % 8;
        let key = format!("k{k}");
        let ts = 1_700_000_000_000 + i * 11;
        *expected.entry((key.clone(), ts - ts % 5_000)).or_default() += 1;
        let value = format!(r#"{{"key":"{key}","value":{i},"ts":{ts}}}"#);
        // Unkeyed, the last partition gets nothing: an idle input partition must not
        // hold the repartitioned watermark back.
        let partition = if keyed {
            k % partitions as i64
        } else {
            i % (partitions as i64 - 1)
        };
        records.push((Some(partition as i32), Some(key), value));
    }
    // A last event per partition, an hour on, closes every window of the partition.
    let filled = if keyed { partitions } else { partitions - 1 };
    for p in 0..filled {
        let key = format!("end-{p}");
        let value = format!(r#"{{"key":"{key}","value":0,"ts":1700003600000}}"#);
        records.push((Some(p), Some(key), value));
    }
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("pipeline.yaml");
    std::fs::write(
        &file,
        counts_file(
            "grouped_counts",
            &b.bootstrap(),
            (input, output),
            "{type: processing_time, interval: \"200 milliseconds\"}",
            &work.path().join("cp"),
        ),
    )
    .unwrap();
    let start = |n: usize| {
        let log = work.path().join(format!("instance-{n}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_tidewater"));
        command.args(["run", "--group", name, "--http", "127.0.0.1:0"]);
        if !keyed {
            command.args(["--repartition-by", "key"]);
        }
        let child = command
            .arg(&file)
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        (Instance(child), log)
    };
    let (first, first_log) = start(1);
    let (second, _) = start(2);
    b.produce_to(
        input,
        records
            .iter()
            .map(|(p, k, v)| (*p, k.as_deref(), v.as_str())),
    )
    .unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut counted = BTreeMap::new();
    while counted.len() < expected.len() && std::time::Instant::now() < deadline {
        std::thread::park_timeout(std::time::Duration::from_millis(500));
        counted = windows_counted(b, output, |row| row["key"].as_str().unwrap().to_string());
        counted.retain(|(key, _), _| !key.starts_with("end-"));
    }
    assert_eq!(counted, expected);

    let dashboard = line_starting(&first_log, "dashboard: ");
    let url = dashboard["dashboard: ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut metrics = String::new();
    conn.read_to_string(&mut metrics).unwrap();
    let assigned = metrics
        .lines()
        .filter(|l| l.starts_with("tidewater_group_partition_assigned{"))
        .count();
    // Repartitioning doubles the tasks: the input's partitions and the repartition
    // topic's.
    let tasks = if keyed { partitions } else { 2 * partitions } as usize;
    assert!(
        (1..tasks).contains(&assigned),
        "one of two instances runs some of the {tasks} tasks:\n{metrics}"
    );
    assert!(
        metrics.contains(&format!("tidewater_group_instance_state{{group=\"{name}\"")),
        "{metrics}"
    );
    drop((first, second));
}
