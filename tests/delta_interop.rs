//! Delta tables written by Python's deltalake (delta-rs's Python binding, pinned) are
//! read by the Delta source value for value, and the Delta sink's tables are read by
//! it, with the sink's streaming transactions in the table's history. deltalake and
//! pyarrow are installed into a virtualenv in the target folder on first use; if they
//! cannot be, the tests fail saying why.
#![cfg(feature = "delta")]

mod python;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tidewater::connectors::delta::{DeltaSink, DeltaSource, DeltaSourceConfig};
use tidewater::connectors::file::FileSinkMode;
use tidewater::prelude::*;

use python::Python;

const DELTALAKE: &str = "deltalake==1.1.4 pyarrow==18.1.0";

const PYTHON: Python = Python {
    name: "delta-venv",
    requirements: DELTALAKE,
    override_env: "TIDEWATER_DELTA_VENV",
};

/// Runs a Python program; its stdout.
fn py(program: &str, args: &[&Path]) -> String {
    PYTHON.run(program, args)
}

fn read(config: DeltaSourceConfig) -> Vec<String> {
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(2));
    p.source(DeltaSource::new(config))
        .dead_letters(MemorySink::new())
        .sink(out.clone());
    p.run().unwrap();
    let mut rows: Vec<String> = out
        .values()
        .iter()
        .map(|r: &Row| serde_json::to_string(r).unwrap())
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_table_written_by_python_deltalake_is_read_value_for_value() {
    let dir = tempfile::tempdir().unwrap();
    py(
        r#"
import sys, datetime as dt, decimal, pyarrow as pa
from deltalake import write_deltalake
utc = dt.timezone.utc
def table(ids, days):
    n = len(ids)
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "n32": pa.array([i * 10 if i != 2 else None for i in ids], pa.int32()),
        "ts": pa.array([dt.datetime(2024, 1, 1, 0, 0, i, 123456, tzinfo=utc) if i != 2 else None for i in ids], pa.timestamp("us", tz="UTC")),
        "price": pa.array([decimal.Decimal("12.34") * i for i in ids], pa.decimal128(10, 2)),
        "name": pa.array(["ünï" if i == 1 else None if i == 2 else "x%d" % i for i in ids], pa.string()),
        "tags": pa.array([["a", "b"] if i == 1 else None for i in ids], pa.list_(pa.string())),
        "day": pa.array(days, pa.string()),
    })
write_deltalake(sys.argv[1], table([1, 2], ["2024-01-01", "2024-01-01"]), partition_by=["day"])
write_deltalake(sys.argv[1], table([3], ["2024-01-02"]), mode="append")
"#,
        &[dir.path()],
    );
    let expected = vec![
        r#"{"id":1,"n32":10,"ts":"2024-01-01T00:00:01.123456Z","price":"12.34","name":"ünï","tags":"[\"a\",\"b\"]","day":"2024-01-01"}"#,
        r#"{"id":2,"n32":null,"ts":null,"price":"24.68","name":null,"tags":null,"day":"2024-01-01"}"#,
        r#"{"id":3,"n32":30,"ts":"2024-01-01T00:00:03.123456Z","price":"37.02","name":"x3","tags":null,"day":"2024-01-02"}"#,
    ];
    assert_eq!(read(DeltaSourceConfig::new(dir.path())), expected);
    // only the second commit's rows
    let mut from = DeltaSourceConfig::new(dir.path());
    from.starting_version = Some(1.into());
    assert_eq!(read(from), expected[2..].to_vec());
}

#[test]
fn the_sinks_exactly_once_table_is_read_by_python_deltalake() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoints = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = (0..100)
        .map(|i| {
            Row::from_pairs([
                ("id", Value::Int(i)),
                (
                    "score",
                    if i % 10 == 0 {
                        Value::Null
                    } else {
                        Value::Float(i as f64 / 4.0)
                    },
                ),
                ("name", Value::Str(format!("n{}", i % 3))),
                ("even", Value::Bool(i % 2 == 0)),
            ])
        })
        .collect();
    let mut p = Pipeline::new(
        Config::default()
            .with_name("interop")
            .with_parallelism(2)
            .with_checkpointing(
                checkpoints.path(),
                Duration::from_millis(5),
                DeliveryGuarantee::ExactlyOnce,
            ),
    );
    p.source(VecSource::new(rows).with_batch_size(10))
        .sink(DeltaSink::new(dir.path(), FileSinkMode::Transactional).partition_by(["name"]));
    p.run().unwrap();
    let read = py(
        r#"
import sys, json
from deltalake import DeltaTable
t = DeltaTable(sys.argv[1])
rows = sorted(t.to_pyarrow_table().to_pylist(), key=lambda r: r["id"])
for r in rows:
    print(json.dumps([r["id"], r["score"], r["name"], r["even"]]))
ops = {h["operation"] for h in t.history()}
print(json.dumps(sorted(ops)))
print(json.dumps(t.metadata().partition_columns))
"#,
        &[dir.path()],
    );
    let lines: Vec<&str> = read.lines().collect();
    assert_eq!(lines.len(), 102, "{read}");
    assert_eq!(lines[0], r#"[0, null, "n0", true]"#);
    assert_eq!(lines[1], r#"[1, 0.25, "n1", false]"#);
    assert_eq!(lines[99], r#"[99, 24.75, "n0", false]"#);
    assert_eq!(lines[100], r#"["CREATE TABLE", "STREAMING UPDATE"]"#);
    assert_eq!(lines[101], r#"["name"]"#);
}

#[test]
fn the_change_feed_of_a_python_table_reads_its_change_files() {
    let dir = tempfile::tempdir().unwrap();
    py(
        r#"
import sys, pyarrow as pa
from deltalake import DeltaTable, write_deltalake
t = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "v": pa.array(["a", "b", "c"])})
write_deltalake(sys.argv[1], t, configuration={"delta.enableChangeDataFeed": "true"})
dt = DeltaTable(sys.argv[1])
dt.delete("id = 2")
dt.update(updates={"v": "'z'"}, predicate="id = 3")
"#,
        &[dir.path()],
    );
    let out = MemorySink::new();
    let mut config = DeltaSourceConfig::new(dir.path());
    config.read_change_feed = true;
    config.starting_version = Some(0.into());
    let mut p = Pipeline::new(Config::default());
    p.source(DeltaSource::new(config))
        .dead_letters(MemorySink::new())
        .sink(out.clone());
    p.run().unwrap();
    let mut changes: Vec<(i64, String, i64, String)> = out
        .values()
        .iter()
        .map(|r: &Row| {
            (
                r.get("_commit_version").and_then(Value::as_i64).unwrap(),
                r.get("_change_type")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_string(),
                r.get("id").and_then(Value::as_i64).unwrap(),
                r.get("v").and_then(Value::as_str).unwrap().to_string(),
            )
        })
        .collect();
    changes.sort();
    let c = |v: i64, kind: &str, id: i64, value: &str| (v, kind.to_string(), id, value.to_string());
    assert_eq!(
        changes,
        vec![
            c(0, "insert", 1, "a"),
            c(0, "insert", 2, "b"),
            c(0, "insert", 3, "c"),
            c(1, "delete", 2, "b"),
            c(2, "update_postimage", 3, "z"),
            c(2, "update_preimage", 3, "c"),
        ]
    );
}

/// Issue 12's declarative proof: Parquet files in Hive folders -> 5 s windows -> an
/// exactly-once Delta table, run twice on one checkpoint with files arriving between;
/// the second run appends only the windows the new files close, and Python's deltalake
/// reads the table equal to an independent computation.
#[test]
fn a_pipeline_file_turns_parquet_folders_into_an_exactly_once_delta_table_across_runs() {
    use tidewater::formats::{write_rows, FileFormat};
    let work = tempfile::tempdir().unwrap();
    let (input, table, checkpoint) = (
        work.path().join("in"),
        work.path().join("table"),
        work.path().join("cp"),
    );
    // File i holds 50 events, 100 ms apart, in folder dt=2024-01-0(1 + i / 4).
    let event = |n: i64| {
        (
            format!("k{}", n % 3),
            (n % 7) as f64,
            1_704_067_200_000 + n * 100,
        )
    };
    let land = |files: std::ops::Range<i64>| {
        for i in files {
            let dir = input.join(format!("dt=2024-01-0{}", 1 + i / 4));
            std::fs::create_dir_all(&dir).unwrap();
            let rows: Vec<Row> = (i * 50..(i + 1) * 50)
                .map(|n| {
                    let (key, value, ts) = event(n);
                    Row::from_pairs([
                        ("key", Value::Str(key)),
                        ("value", Value::Float(value)),
                        ("ts", Value::Int(ts)),
                    ])
                })
                .collect();
            let hidden = dir.join(format!(".part-{i:03}.parquet.tmp"));
            write_rows(&hidden, FileFormat::Parquet, &rows).unwrap();
            std::fs::rename(&hidden, dir.join(format!("part-{i:03}.parquet"))).unwrap();
        }
    };
    let file = work.path().join("pipeline.yaml");
    std::fs::write(
        &file,
        format!(
            r#"name: parquet_to_delta
input:
  format: parquet
  path: {input}
  options: {{maxFilesPerTrigger: 4}}
  watermark: {{column: ts, delay: "2 seconds"}}
transforms:
  - window: {{type: tumbling, column: ts, size: "5 seconds"}}
    group_by: [key]
    aggregations: ["count(*) AS n", "sum(value) AS total"]
output:
  format: delta
  path: {table}
streaming:
  trigger: {{type: available_now}}
  checkpoint_location: {checkpoint}
  spark_compatible: true
  delivery: exactly_once
"#,
            input = input.display(),
            table = table.display(),
            checkpoint = checkpoint.display()
        ),
    )
    .unwrap();
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_tidewater"))
            .args(["run", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Python's view of the table: (key, window_start) -> (n, total), and the row count.
    let read = || {
        let text = py(
            r#"
import sys, json, os
from deltalake import DeltaTable
rows = DeltaTable(sys.argv[1]).to_pyarrow_table().to_pylist()
print(json.dumps(sorted([r["key"], r["window_start"], r["n"], r["total"]] for r in rows)))
sys.stdout.flush()
os._exit(0)  # deltalake's runtime can abort at interpreter teardown
"#,
            &[&table],
        );
        serde_json::from_str::<Vec<(String, i64, i64, f64)>>(text.trim()).unwrap()
    };
    // The windows the watermark (newest event - 2 s) has closed, computed directly.
    let expected = |files: i64| {
        let mut windows: std::collections::BTreeMap<(String, i64), (i64, f64)> = Default::default();
        let last = files * 50 - 1;
        let watermark = event(last).2 - 2_000;
        for n in 0..files * 50 {
            let (key, value, ts) = event(n);
            let start = ts - ts % 5_000;
            if start + 5_000 <= watermark {
                let w = windows.entry((key, start)).or_default();
                w.0 += 1;
                w.1 += value;
            }
        }
        windows
            .into_iter()
            .map(|((k, s), (n, t))| (k, s, n, t))
            .collect::<Vec<_>>()
    };
    land(0..8);
    run();
    assert_eq!(read(), expected(8));
    let commits = || {
        std::fs::read_dir(table.join("_delta_log"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
    };
    let commits_after_first = commits();
    land(8..12);
    run();
    assert_eq!(read(), expected(12));
    // One more commit: the windows the new files closed (the first run's open window
    // among them), none of the first run's again.
    assert_eq!(commits(), commits_after_first + 1);
}
