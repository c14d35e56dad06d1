//! Pipeline files run by the `tidewater` binary: every append-mode Spark golden case as
//! the issue's entry-point file (one JSON-lines file per micro-batch, windows, JSON
//! lines out) matches Spark's rows; a JSON file works where YAML does; `validate`
//! reports every problem of a file at once and exits non-zero.

use std::path::{Path, PathBuf};
use std::process::Command;

use tidewater::spark::{SparkCase, SparkWindowMode, FLUSH_KEY};

mod lines;
use lines::{records_read, Lines};

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/spark/cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").exists())
        .collect();
    dirs.sort();
    dirs
}

/// The entry-point file for a case, as YAML.
fn pipeline_yaml(case: &SparkCase, batches: &Path, out: &Path, checkpoint: &Path) -> String {
    let q = &case.query;
    let ms = |v: Option<i64>| format!("\"{} ms\"", v.unwrap_or(0));
    let window = match q.mode {
        SparkWindowMode::Tumbling => {
            format!("{{type: tumbling, column: ts, size: {}}}", ms(q.size_ms))
        }
        SparkWindowMode::Sliding => format!(
            "{{type: sliding, column: ts, size: {}, slide: {}}}",
            ms(q.size_ms),
            ms(q.slide_ms)
        ),
        SparkWindowMode::Session => format!("{{type: session, column: ts, gap: {}}}", ms(q.gap_ms)),
    };
    let aggregations: Vec<String> = q
        .aggregates
        .iter()
        .map(|a| match a.as_str() {
            "count" => "\"count(*) AS count\"".to_string(),
            f => format!("\"{f}(value) AS {f}\""),
        })
        .collect();
    let options = if q.single_watermark {
        "\n  options: {spark.sql.streaming.statefulOperator.allowMultiple: \"false\"}"
    } else {
        ""
    };
    format!(
        r#"name: spark_case
input:
  format: json
  path: {batches}
  options: {{maxFilesPerTrigger: 1}}
  schema: {{key: string, value: double, ts: long}}
  watermark: {{column: ts, delay: "{delay} ms"}}
transforms:
  - window: {window}
    group_by: [{group_by}]
    aggregations: [{aggregations}]
output:
  format: json
  path: {out}
streaming:
  trigger: {{type: available_now}}
  output_mode: append
  checkpoint_location: {checkpoint}
  spark_compatible: true{options}
"#,
        batches = batches.display(),
        out = out.display(),
        checkpoint = checkpoint.display(),
        delay = q.watermark_delay_ms,
        group_by = q.group_by.join(", "),
        aggregations = aggregations.join(", "),
    )
}

/// Writes the case's micro-batches (the flush sentinel included) one file each.
fn write_batches(case: &SparkCase, dir: &Path) {
    let texts: Vec<String> = case
        .micro_batches()
        .iter()
        .map(|batch| {
            batch
                .iter()
                .map(|e| serde_json::to_string(e).unwrap() + "\n")
                .collect()
        })
        .collect();
    write_batch_files(dir, &texts);
}

/// One JSON-lines file per micro-batch, `00000.jsonl`, ...; files are read oldest
/// first, so their modification times are one second apart, in batch order.
fn write_batch_files(dir: &Path, texts: &[String]) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, text) in texts.iter().enumerate() {
        let path = dir.join(format!("{i:05}.jsonl"));
        std::fs::write(&path, text).unwrap();
        let t = std::time::SystemTime::UNIX_EPOCH
            + std::time::Duration::from_secs(1_700_000_000 + i as u64);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
}

fn tidewater(args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("tidewater")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

/// The output rows as JSON values, sorted, without the flush sentinel's.
fn rows(out: &Path) -> Vec<serde_json::Value> {
    let mut rows: Vec<serde_json::Value> =
        tidewater::connectors::file::FileSink::published_lines(out)
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|r: &serde_json::Value| r["key"] != FLUSH_KEY)
            .collect();
    rows.sort_by_key(|r| r.to_string());
    rows
}

fn expected(case: &Path) -> Vec<serde_json::Value> {
    let mut rows: Vec<serde_json::Value> = std::fs::read_to_string(case.join("expected.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("emit_batch");
            v
        })
        .collect();
    rows.sort_by_key(|r| r.to_string());
    rows
}

/// An append case's batches and entry-point file in `work`: the file and the output
/// folder.
fn append_case_file(case: &SparkCase, work: &Path) -> (PathBuf, PathBuf) {
    let (batches, out, checkpoint) = (work.join("batches"), work.join("out"), work.join("cp"));
    write_batches(case, &batches);
    let file = work.join("pipeline.yaml");
    std::fs::write(&file, pipeline_yaml(case, &batches, &out, &checkpoint)).unwrap();
    (file, out)
}

/// Runs an append case of `cases/` from the entry-point file; its rows and Spark's.
fn append_case(dir: &Path) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let case = SparkCase::load(dir).unwrap();
    let work = tempfile::tempdir().unwrap();
    let (file, out) = append_case_file(&case, work.path());
    let run = tidewater(&["run", file.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}: {}",
        dir.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    (rows(&out), expected(dir))
}

/// Every case folder there is, those added later included.
#[test]
fn every_append_mode_spark_case_runs_from_a_pipeline_file_and_matches_spark() {
    let cases = cases();
    assert!(cases.len() >= 6, "{cases:?}");
    for dir in cases {
        let case = SparkCase::load(&dir).unwrap();
        if case.query.output_mode != "append" {
            continue;
        }
        let (ours, spark) = append_case(&dir);
        assert_eq!(ours, spark, "{}", dir.display());
    }
}

/// One test per Spark case known today (the loops above and below take in any case
/// added to the folders later).
macro_rules! spark_case_tests {
    ($($test:ident: $set:literal / $case:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                let (ours, spark) = match $set {
                    "cases" => append_case(
                        &Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join("../shared/fixtures/spark/cases")
                            .join($case),
                    ),
                    _ => more_case($case),
                };
                assert_eq!(ours.len(), spark.len(), "{}", $case);
                assert_eq!(ours, spark, "{}", $case);
            }
        )*
    };
}

spark_case_tests! {
    spark_case_session_gaps: "cases" / "session_gaps",
    spark_case_sliding_late: "cases" / "sliding_late",
    spark_case_tumbling_in_order: "cases" / "tumbling_in_order",
    spark_case_tumbling_late: "cases" / "tumbling_late",
    spark_case_tumbling_late_no_flush: "cases" / "tumbling_late_no_flush",
    spark_case_tumbling_single_watermark: "cases" / "tumbling_single_watermark",
    spark_case_complete_session: "more-cases" / "complete_session",
    spark_case_complete_tumbling: "more-cases" / "complete_tumbling",
    spark_case_dedup_drop_duplicates: "more-cases" / "dedup_drop_duplicates",
    spark_case_dedup_within_watermark: "more-cases" / "dedup_within_watermark",
    spark_case_two_keys_tumbling: "more-cases" / "two_keys_tumbling",
    spark_case_update_sliding: "more-cases" / "update_sliding",
    spark_case_update_tumbling: "more-cases" / "update_tumbling",
}

#[test]
fn a_json_pipeline_file_runs_as_its_yaml_does() {
    let dir = cases()
        .into_iter()
        .find(|d| d.ends_with("tumbling_late"))
        .unwrap();
    let case = SparkCase::load(&dir).unwrap();
    let work = tempfile::tempdir().unwrap();
    let (batches, out, checkpoint) = (
        work.path().join("batches"),
        work.path().join("out"),
        work.path().join("cp"),
    );
    write_batches(&case, &batches);
    let yaml: serde_json::Value =
        serde_norway::from_str(&pipeline_yaml(&case, &batches, &out, &checkpoint)).unwrap();
    let file = work.path().join("pipeline.json");
    std::fs::write(&file, serde_json::to_string_pretty(&yaml).unwrap()).unwrap();
    let run = tidewater(&["run", file.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(rows(&out), expected(&dir));
}

#[test]
fn validate_reports_an_unknown_key_and_a_bad_interval_together() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("bad.yaml");
    std::fs::write(
        &file,
        r#"name: bad
input:
  format: json
  path: /data/in
  options: {maxFilesPerTriger: 1}
  watermark: {column: ts, delay: "10 seconds"}
transforms:
  - window: {type: tumbling, column: ts, size: "10 seconds"}
    group_by: [key]
    aggregations: ["count(*) AS n"]
output:
  format: json
  path: /data/out
streaming:
  trigger: {type: processing_time, interval: "-5 seconds"}
"#,
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("tidewater")
        .unwrap()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    let expected = format!(
        "error: {}: 2 problem(s)\n  1. `input.options.maxFilesPerTriger`: expected a `json` option (did you mean `maxFilesPerTrigger`?), found unknown key `maxFilesPerTriger`\n  2. `streaming.trigger.interval`: expected an interval such as `10 seconds` or `5 minutes`, found `-5 seconds`\n",
        file.display()
    );
    assert_eq!(stderr, expected);
    // a good file validates
    let good = work.path().join("good.yaml");
    std::fs::write(
        &good,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("maxFilesPerTriger", "maxFilesPerTrigger")
            .replace("-5 seconds", "5 seconds"),
    )
    .unwrap();
    let out = tidewater(&["validate", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn filter_select_with_column_and_drop_transform_rows_and_bad_rows_become_dead_letters() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(
        input.join("orders.jsonl"),
        concat!(
            "{\"id\":1,\"status\":\"open\",\"price\":2.5,\"qty\":4,\"note\":\"a\"}\n",
            "{\"id\":2,\"status\":\"closed\",\"price\":1.0,\"qty\":1,\"note\":\"b\"}\n",
            "{\"id\":3,\"status\":\"open\",\"price\":null,\"qty\":2,\"note\":\"c\"}\n",
            "{\"id\":4,\"status\":\"open\",\"price\":\"cheap\",\"qty\":2,\"note\":\"d\"}\n",
        ),
    )
    .unwrap();
    let out = work.path().join("out");
    let file = work.path().join("orders.yaml");
    std::fs::write(
        &file,
        format!(
            r#"name: orders
input:
  format: json
  path: {input}
transforms:
  - filter: "status = 'open' AND qty > 1"
  - with_column: {{total: "price * qty", label: "upper(status) || '-' || CAST(id AS STRING)"}}
  - drop: [note]
  - select: ["id", "label", "coalesce(total, 0) AS total", "total > 5 AS big"]
output:
  format: json
  path: {out}
streaming:
  trigger: {{type: available_now}}
"#,
            input = input.display(),
            out = out.display()
        ),
    )
    .unwrap();
    let run = tidewater(&["run", file.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut lines = tidewater::connectors::file::FileSink::published_lines(&out).unwrap();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            r#"{"id":1,"label":"OPEN-1","total":10.0,"big":true}"#,
            r#"{"id":3,"label":"OPEN-3","total":0,"big":null}"#,
        ]
    );
    let letters =
        tidewater::connectors::file::FileSink::published_lines(&out.join("_dead_letters")).unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter: serde_json::Value = serde_json::from_str(&letters[0]).unwrap();
    // nested values are kept as JSON text in a JSON-lines row
    let origin: serde_json::Value =
        serde_json::from_str(letter["origin"].as_str().unwrap()).unwrap();
    assert_eq!(origin["description"], "transforms[1].with_column");
    assert_eq!(
        letter["error"],
        "numbers for `*`, found Str(\"cheap\") and Int(2)"
    );
}

#[test]
fn ctrl_c_stops_a_stream_gracefully_with_its_output_committed() {
    let work = tempfile::tempdir().unwrap();
    let (input, out, checkpoint) = (
        work.path().join("in"),
        work.path().join("out"),
        work.path().join("cp"),
    );
    std::fs::create_dir(&input).unwrap();
    let land = |name: &str, ids: std::ops::Range<i64>| {
        let text: String = ids.map(|i| format!("{{\"id\":{i}}}\n")).collect();
        let hidden = input.join(format!(".{name}.tmp"));
        std::fs::write(&hidden, text).unwrap();
        std::fs::rename(hidden, input.join(name)).unwrap();
    };
    let file = work.path().join("stream.yaml");
    std::fs::write(
        &file,
        format!(
            r#"name: stream
input:
  format: json
  path: {input}
output:
  format: json
  path: {out}
streaming:
  trigger: {{type: processing_time, interval: "100 ms"}}
  checkpoint_location: {checkpoint}
"#,
            input = input.display(),
            out = out.display(),
            checkpoint = checkpoint.display()
        ),
    )
    .unwrap();
    let published = || {
        tidewater::connectors::file::FileSink::published_lines(&out)
            .map(|l| l.len())
            .unwrap_or(0)
    };
    land("a.jsonl", 0..100);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidewater"))
        .args(["run", file.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Lines::new(child.stdout.take().unwrap(), child.stderr.take().unwrap());
    // The run says what it has read on its progress lines.
    let read = |n: u64| move |_: &str, stderr: &str| records_read(stderr) >= n;
    let limit = std::time::Duration::from_secs(60);
    lines.wait_until(limit, read(100)).unwrap();
    land("b.jsonl", 100..200);
    lines.wait_until(limit, read(200)).unwrap();
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    let (_, stderr) = lines.finish();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(
        stderr.contains("stopping: draining and storing the last checkpoint"),
        "{stderr}"
    );
    assert_eq!(published(), 200);
    // The stored checkpoint holds the files read: a rerun reads nothing again.
    let rerun = tidewater(&["run", "--once", file.to_str().unwrap()]);
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    assert_eq!(published(), 200);
}

/// A case folder of `more-cases` (output modes, two-column grouping) as its pipeline
/// file's rows and Spark's, both without `emit_batch` and the flush sentinel's rows.
fn more_case(name: &str) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/spark/more-cases")
        .join(name);
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let lines: Vec<String> = std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let work = tempfile::tempdir().unwrap();
    let (batches, out, checkpoint) = (
        work.path().join("batches"),
        work.path().join("out"),
        work.path().join("cp"),
    );
    let mut chunks: Vec<String> = lines
        .chunks(case["rows_per_batch"].as_u64().unwrap() as usize)
        .map(|c| c.join("\n") + "\n")
        .collect();
    if case["flush"].as_bool().unwrap_or(false) {
        let max_ts = lines
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["ts"]
                    .as_i64()
                    .unwrap()
            })
            .max()
            .unwrap();
        chunks.push(format!(
            "{{\"key\": \"{FLUSH_KEY}\", \"value\": 0.0, \"ts\": {}}}\n",
            max_ts + 86_400_000
        ));
    }
    write_batch_files(&batches, &chunks);
    let group_by: Vec<&str> = case["group_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    let ms = |k: &str| format!("\"{} ms\"", case[k].as_i64().unwrap_or(0));
    let window = match case["mode"].as_str().unwrap() {
        "tumbling" => format!("{{type: tumbling, column: ts, size: {}}}", ms("size_ms")),
        "sliding" => format!(
            "{{type: sliding, column: ts, size: {}, slide: {}}}",
            ms("size_ms"),
            ms("slide_ms")
        ),
        _ => format!("{{type: session, column: ts, gap: {}}}", ms("gap_ms")),
    };
    // Spark's dedup before the window: dropDuplicates or dropDuplicatesWithinWatermark.
    let dedup = match case["dedup"].as_str() {
        Some(kind) => {
            let columns: Vec<&str> = case["dedup_columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            format!(
                "\n  - dedup: {{columns: [{}], within_watermark: {}}}",
                columns.join(", "),
                kind == "within_watermark"
            )
        }
        None => String::new(),
    };
    let tag = if group_by.contains(&"tag") {
        ", tag: string"
    } else {
        ""
    };
    let yaml = format!(
        r#"name: more_case
input:
  format: json
  path: {batches}
  options: {{maxFilesPerTrigger: 1}}
  schema: {{key: string{tag}, value: double, ts: long}}
  watermark: {{column: ts, delay: "{delay} ms"}}
transforms:{dedup}
  - window: {window}
    group_by: [{group_by}]
    aggregations: ["count(*) AS count", "sum(value) AS sum", "avg(value) AS avg", "min(value) AS min", "max(value) AS max"]
output:
  format: json
  path: {out}
streaming:
  trigger: {{type: available_now}}
  output_mode: {mode}
  checkpoint_location: {checkpoint}
  spark_compatible: true
"#,
        batches = batches.display(),
        out = out.display(),
        checkpoint = checkpoint.display(),
        delay = case["watermark_delay_ms"],
        group_by = group_by.join(", "),
        mode = case["output_mode"].as_str().unwrap_or("append"),
    );
    let file = work.path().join("pipeline.yaml");
    std::fs::write(&file, yaml).unwrap();
    let run = tidewater(&["run", file.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    (rows(&out), expected(&dir))
}

/// Every case of `more-cases` there is (two-column grouping, update and complete modes,
/// sessions included, both dedups), those added later included.
#[test]
fn spark_more_cases_run_from_pipeline_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/spark/more-cases");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| root.join(n).join("case.json").exists())
        .collect();
    names.sort();
    assert!(names.len() >= 7, "{names:?}");
    for name in names {
        let (ours, spark) = more_case(&name);
        assert_eq!(ours.len(), spark.len(), "{name}");
        assert_eq!(ours, spark, "{name}");
    }
}

#[test]
fn the_query_manager_refuses_a_shared_checkpoint_and_reports_progress() {
    use tidewater::declarative::{ManagerError, QueryManager};
    use tidewater::prelude::*;
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(
        input.join("a.jsonl"),
        (0..50)
            .map(|i| format!("{{\"id\":{i}}}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let checkpoint = work.path().join("cp");
    // Each row the query writes is news for the test.
    let (rows, written) = std::sync::mpsc::channel::<()>();
    let rows = std::sync::Arc::new(std::sync::Mutex::new(rows));
    let query = |dir: &Path| {
        let mut source = tidewater::connectors::file::FileSourceConfig::new(
            &input,
            tidewater::formats::FileFormat::JsonLines,
        );
        source.stream = true;
        source.poll_interval_ms = 20;
        let mut p = Pipeline::new(Config::default().with_checkpointing(
            dir,
            std::time::Duration::from_millis(20),
            DeliveryGuarantee::AtLeastOnce,
        ));
        let rows = rows.clone();
        p.source(tidewater::connectors::file::FileSource::new(source))
            .dead_letters(MemorySink::new())
            .sink(FnSink::new(move |_: Row| {
                let _ = rows.lock().unwrap().send(());
            }));
        p
    };
    let queries = QueryManager::new();
    queries.start("first", query(&checkpoint)).unwrap();
    assert_eq!(
        queries.start("second", query(&checkpoint)).unwrap_err(),
        ManagerError::CheckpointTaken {
            query: "second".into(),
            other: "first".into(),
            location: checkpoint.clone(),
        }
    );
    assert_eq!(
        queries
            .start("first", query(&work.path().join("cp2")))
            .unwrap_err(),
        ManagerError::NameTaken("first".into())
    );
    for i in 0..50 {
        let row = written.recv_timeout(std::time::Duration::from_secs(30));
        assert!(row.is_ok(), "{i} of 50 rows");
    }
    let progress = queries.last_progress("first").unwrap();
    assert_eq!(
        (progress.name.as_str(), progress.input_rows, progress.status),
        ("first", 50, Status::Running)
    );
    queries.stop("first", true).unwrap();
    assert_eq!(
        queries.await_termination("first").unwrap().source_records,
        50
    );
    assert_eq!(queries.status("first").unwrap(), Status::Stopped);
    // the location is free again
    queries.start("second", query(&checkpoint)).unwrap();
    queries.stop("second", true).unwrap();
    queries.await_termination("second").unwrap();
    assert_eq!(queries.names(), vec!["first", "second"]);
    assert_eq!(
        queries.status("third").unwrap_err(),
        ManagerError::Unknown("third".into())
    );
}

#[test]
fn the_pipeline_manager_runs_at_most_so_many_at_once_and_keeps_each_outcome() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tidewater::declarative::{PipelineManager, PipelineStatus};
    use tidewater::prelude::*;
    // (running now, started so far)
    let active = Arc::new((
        std::sync::Mutex::new((0usize, 0usize)),
        std::sync::Condvar::new(),
    ));
    let most = Arc::new(AtomicUsize::new(0));
    let pipeline = |name: &str, fail: bool| {
        let (active, most) = (active.clone(), most.clone());
        let mut p = Pipeline::new(Config::default().with_name(name));
        p.source(IterSource::new(move |_: &WorkerInfo| {
            let (count, changed) = &*active;
            let mut now = count.lock().unwrap();
            now.0 += 1;
            now.1 += 1;
            most.fetch_max(now.0, Ordering::SeqCst);
            changed.notify_all();
            drop(now);
            let active = active.clone();
            (0..5u64).inspect(move |&i| {
                let (count, changed) = &*active;
                // A pipeline reads its first record once another runs beside it (or
                // it is the last of the four), so that two overlap whatever the
                // threads' timing.
                if i == 0 {
                    let limit = std::time::Duration::from_secs(60);
                    let alone = |n: &mut (usize, usize)| n.0 < 2 && n.1 < 4;
                    let (running, waited) = changed
                        .wait_timeout_while(count.lock().unwrap(), limit, alone)
                        .unwrap();
                    drop(running);
                    assert!(!waited.timed_out(), "no second pipeline ran");
                }
                if i == 4 {
                    count.lock().unwrap().0 -= 1;
                    changed.notify_all();
                }
            })
        }))
        .map(move |i| {
            if fail && i == 3 {
                panic!("bad record {i}")
            } else {
                i
            }
        })
        .sink(MemorySink::new());
        (name.to_string(), p)
    };
    let manager = PipelineManager::new(2);
    let outcome = manager.run(vec![
        pipeline("a", false),
        pipeline("b", true),
        pipeline("c", false),
        pipeline("d", false),
    ]);
    assert_eq!(most.load(Ordering::SeqCst), 2);
    let summary: Vec<(String, String)> = outcome
        .iter()
        .map(|(n, s)| {
            let s = match s {
                PipelineStatus::Succeeded(m) => format!("ok {}", m.source_records),
                PipelineStatus::Failed(e) => format!("failed: {}", e.root()),
                other => format!("{other:?}"),
            };
            (n.clone(), s)
        })
        .collect();
    assert_eq!(summary[0], ("a".to_string(), "ok 5".to_string()));
    assert!(summary[1].1.starts_with("failed: "), "{summary:?}");
    assert!(summary[1].1.contains("bad record 3"), "{summary:?}");
    assert_eq!(
        &summary[2..],
        &[
            ("c".to_string(), "ok 5".to_string()),
            ("d".to_string(), "ok 5".to_string())
        ]
    );
    assert!(matches!(
        manager.status("b"),
        Some(PipelineStatus::Failed(_))
    ));
}

#[test]
fn run_explains_a_window_of_a_group_key_after_the_run() {
    let dir = cases()
        .into_iter()
        .find(|d| d.ends_with("tumbling_late"))
        .unwrap();
    let case = SparkCase::load(&dir).unwrap();
    let first = &expected(&dir)[0];
    let (key, start) = (
        first["key"].as_str().unwrap().to_string(),
        first["window_start"].as_i64().unwrap(),
    );
    let work = tempfile::tempdir().unwrap();
    let (file, out) = append_case_file(&case, work.path());
    let target = format!("{key}@{start}");
    let missing = format!("{key}@{}", start + 1);
    let run = tidewater(&[
        "run",
        file.to_str().unwrap(),
        "--explain",
        &target,
        "--explain",
        &missing,
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let end = first["window_end"].as_i64().unwrap();
    let count = first["count"].as_u64().unwrap() as usize;
    assert!(
        stderr.contains(&format!("window [{start}, {end}) of key")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("records on time: {count} ")),
        "{stderr}"
    );
    assert!(
        stderr.contains("fired (final result) when the watermark reached"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("no window of key {key} starts at {}", start + 1)),
        "{stderr}"
    );
    // The output is Spark's still.
    assert_eq!(rows(&out), expected(&dir));
    let bad = tidewater(&["run", file.to_str().unwrap(), "--explain", "k1"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected KEY@START, found `k1`"));
}
