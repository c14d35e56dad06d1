//! Parquet files written by pyarrow are read by the file source, and the file sink's
//! Parquet is read by pyarrow, value for value. pyarrow (pinned) is installed into a
//! virtualenv in the target folder on first use; if it cannot be, the tests fail saying
//! why.

mod python;

use std::path::Path;
use std::time::Duration;

use tidewater::connectors::file::{FileSink, FileSinkMode, FileSource, FileSourceConfig};
use tidewater::formats::FileFormat;
use tidewater::prelude::*;

use python::Python;

const PYARROW: &str = "pyarrow==18.1.0";

const PYTHON: Python = Python {
    name: "pyarrow-venv",
    requirements: PYARROW,
    override_env: "TIDEWATER_PYARROW_VENV",
};

/// Runs a Python program; its stdout.
fn py(program: &str, args: &[&Path]) -> String {
    PYTHON.run(program, args)
}

#[test]
fn parquet_written_by_pyarrow_is_read_value_for_value() {
    let dir = tempfile::tempdir().unwrap();
    py(
        r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
t = pa.table({
    "id": pa.array([1, 2, 3], pa.int64()),
    "score": pa.array([0.5, None, -2.25], pa.float64()),
    "name": pa.array(["a", None, "ünï"], pa.string()),
    "ok": pa.array([True, False, None], pa.bool_()),
})
pq.write_table(t, sys.argv[1] + "/from_pyarrow.parquet")
"#,
        &[dir.path()],
    );
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default());
    p.source(FileSource::new(FileSourceConfig::new(
        dir.path(),
        FileFormat::Parquet,
    )))
    .dead_letters(MemorySink::new())
    .sink(out.clone());
    p.run().unwrap();
    let rows: Vec<String> = out
        .values()
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    assert_eq!(
        rows,
        vec![
            r#"{"id":1,"score":0.5,"name":"a","ok":true}"#,
            r#"{"id":2,"score":null,"name":null,"ok":false}"#,
            r#"{"id":3,"score":-2.25,"name":"ünï","ok":null}"#,
        ]
    );
}

#[test]
fn the_sinks_parquet_is_read_by_pyarrow_value_for_value() {
    let out_dir = tempfile::tempdir().unwrap();
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
            ])
        })
        .collect();
    let mut p = Pipeline::new(Config::default().with_parallelism(2).with_checkpointing(
        checkpoints.path(),
        Duration::from_millis(5),
        DeliveryGuarantee::ExactlyOnce,
    ));
    p.source(VecSource::new(rows).with_batch_size(10))
        .sink(FileSink::parquet(
            out_dir.path(),
            FileSinkMode::Transactional,
        ));
    p.run().unwrap();
    let read = py(
        r#"
import sys, json, glob, pyarrow.parquet as pq
rows = []
for f in sorted(glob.glob(sys.argv[1] + "/part-*.parquet")):
    rows += pq.read_table(f).to_pylist()
rows.sort(key=lambda r: r["id"])
for r in rows:
    print(json.dumps([r["id"], r["score"], r["name"]]))
"#,
        &[out_dir.path()],
    );
    let lines: Vec<&str> = read.lines().collect();
    assert_eq!(lines.len(), 100);
    assert_eq!(lines[0], r#"[0, null, "n0"]"#);
    assert_eq!(lines[1], r#"[1, 0.25, "n1"]"#);
    assert_eq!(lines[99], r#"[99, 24.75, "n0"]"#);
}
