//! The Delta Lake sink and source against real tables in temporary folders: exact
//! values back, one commit per checkpoint marked with the run's transaction, recovery
//! that neither loses nor repeats a commit, schema evolution, partitions, and a stream
//! that follows new commits across a restart.
#![cfg(feature = "delta")]

use std::path::Path;
use std::time::Duration;

use tidewater_connectors::delta::{
    DeltaSink, DeltaSource, DeltaSourceConfig, DeltaTableWriter, StartingVersion,
};
use tidewater_connectors::file::FileSinkMode;
use tidewater_engine::connector::{Sink, SinkWriter, WorkerInfo};
use tidewater_engine::prelude::*;
use tidewater_engine::testing::TestPipeline;

#[derive(serde::Serialize, Clone)]
struct Reading {
    sensor: i64,
    value: f64,
}

fn readings(ids: std::ops::Range<i64>) -> Vec<Reading> {
    ids.map(|i| Reading {
        sensor: i,
        value: i as f64 / 2.0,
    })
    .collect()
}

fn read_all(config: DeltaSourceConfig, parallelism: usize) -> Vec<Row> {
    let (rows, bad) = (MemorySink::new(), MemorySink::new());
    let mut p = Pipeline::new(Config::default().with_parallelism(parallelism));
    p.source(DeltaSource::new(config))
        .dead_letters(bad.clone())
        .sink(rows.clone());
    p.run().unwrap();
    assert!(bad.is_empty());
    rows.values()
}

fn sensors(rows: &[Row]) -> Vec<i64> {
    let mut v: Vec<i64> = rows
        .iter()
        .map(|r| r.get("sensor").and_then(Value::as_i64).unwrap())
        .collect();
    v.sort();
    v
}

/// Every commit file of the table's log, parsed, in version order.
fn commits(table: &Path) -> Vec<Vec<serde_json::Value>> {
    let mut names: Vec<_> = std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            std::fs::read_to_string(table.join("_delta_log").join(n))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        })
        .collect()
}

/// The (appId, version) of a commit's `txn` action.
fn txn(commit: &[serde_json::Value]) -> Option<(String, i64)> {
    commit.iter().find_map(|a| {
        let t = a.get("txn")?;
        Some((t["appId"].as_str()?.to_string(), t["version"].as_i64()?))
    })
}

fn adds(commit: &[serde_json::Value]) -> usize {
    commit.iter().filter(|a| a.get("add").is_some()).count()
}

#[test]
fn rows_of_every_type_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let rows = vec![
        Row::from_pairs([
            ("id", Value::Int(1)),
            ("name", Value::from("Zoë")),
            ("score", Value::Float(2.5)),
            ("ok", Value::Bool(true)),
            ("note", Value::from(r#"{"nested":[1,2]}"#)),
        ]),
        Row::from_pairs([
            ("id", Value::Int(2)),
            ("name", Value::Null),
            ("score", Value::Float(-0.125)),
            ("ok", Value::Bool(false)),
            ("note", Value::Null),
        ]),
    ];
    let mut p = Pipeline::new(Config::default());
    p.source(VecSource::new(rows.clone()))
        .sink(DeltaSink::new(dir.path(), FileSinkMode::Transactional));
    p.run().unwrap();
    let mut back = read_all(DeltaSourceConfig::new(dir.path()), 1);
    back.sort_by_key(|r| r.get("id").and_then(Value::as_i64));
    assert_eq!(back, rows);
}

#[test]
fn an_exactly_once_run_makes_one_commit_per_checkpoint_with_the_runs_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoints = tempfile::tempdir().unwrap();
    // On the testing harness: 5 ms of its clock pass between micro-batches, so
    // checkpoints fall during the run.
    let mut t = TestPipeline::new(
        Config::default()
            .with_parallelism(2)
            .with_batch_size(100)
            .with_checkpointing(
                checkpoints.path(),
                Duration::from_millis(5),
                DeliveryGuarantee::ExactlyOnce,
            ),
    );
    t.pipeline()
        .source(VecSource::new(readings(0..2_000)).with_batch_size(20))
        .sink(DeltaSink::new(dir.path(), FileSinkMode::Transactional));
    let mut run = t.start().unwrap();
    while run.run_batch().unwrap().input_rows > 0 {
        run.clock().advance_ms(5);
    }
    run.finish().unwrap();
    assert_eq!(
        sensors(&read_all(DeltaSourceConfig::new(dir.path()), 2)),
        (0..2_000).collect::<Vec<_>>()
    );
    let log = commits(dir.path());
    // version 0 creates the table; every later commit is one checkpoint of both workers
    assert!(log.len() > 3, "{} commits", log.len());
    let txns: Vec<(String, i64)> = log[1..].iter().map(|c| txn(c).unwrap()).collect();
    assert!(txns.iter().all(|(app, _)| *app == txns[0].0));
    assert!(txns.windows(2).all(|w| w[0].1 < w[1].1), "{txns:?}");
    assert_eq!(txns.last().unwrap().1, i64::MAX, "the final checkpoint");
    // a checkpoint's commit holds the files of both workers (one each, when both wrote)
    assert!(log[1..].iter().any(|c| adds(c) == 2));
}

fn writer(sink: &DeltaSink) -> DeltaTableWriter {
    let config = Config::default().with_name("recovery");
    <DeltaSink as Sink<Reading>>::create_writer(sink, &WorkerInfo::new(&config, 0, 1)).unwrap()
}

fn batch(ids: std::ops::Range<i64>) -> Batch<Reading> {
    readings(ids)
        .into_iter()
        .map(|r| Record::new(0, r))
        .collect()
}

#[test]
fn recovery_commits_a_stored_checkpoint_once_however_often_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let sink = DeltaSink::new(dir.path(), FileSinkMode::Transactional);
    let mut w = writer(&sink);
    SinkWriter::<Reading>::write_batch(&mut w, batch(0..3)).unwrap();
    let pre1 = SinkWriter::<Reading>::pre_commit(&mut w, 1)
        .unwrap()
        .unwrap();
    SinkWriter::<Reading>::commit(&mut w, 1).unwrap();
    SinkWriter::<Reading>::write_batch(&mut w, batch(3..5)).unwrap();
    let pre2 = SinkWriter::<Reading>::pre_commit(&mut w, 2)
        .unwrap()
        .unwrap();
    // checkpoint 2 is stored; the process dies before committing it
    drop(w);
    let read = || sensors(&read_all(DeltaSourceConfig::new(dir.path()), 1));
    assert_eq!(read(), vec![0, 1, 2]);
    for _ in 0..2 {
        // recovery (twice: a crash right after the first recovery's commit)
        let mut again = writer(&sink);
        SinkWriter::<Reading>::recover(&mut again, Some(&pre2)).unwrap();
        assert_eq!(read(), vec![0, 1, 2, 3, 4]);
    }
    // an older checkpoint's pre-commit commits nothing again either
    let mut old = writer(&sink);
    SinkWriter::<Reading>::recover(&mut old, Some(&pre1)).unwrap();
    assert_eq!(read(), vec![0, 1, 2]);
    let log = commits(dir.path());
    let last = log.last().unwrap();
    assert_eq!(
        last.iter().filter(|a| a.get("remove").is_some()).count(),
        1,
        "recovering from checkpoint 1 removes checkpoint 2's file: {last:?}"
    );
    assert_eq!(txn(last).unwrap().1, 1);
}

#[test]
fn new_columns_need_merge_schema_and_old_rows_read_them_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let run = |rows: Vec<Row>, merge: bool| {
        let mut p = Pipeline::new(Config::default().with_name("evolve"));
        p.source(VecSource::new(rows))
            .sink(DeltaSink::new(dir.path(), FileSinkMode::Transactional).merge_schema(merge));
        p.run()
    };
    run(vec![Row::from_pairs([("id", Value::Int(1))])], false).unwrap();
    let wider = vec![Row::from_pairs([
        ("id", Value::Int(2)),
        ("tag", Value::from("x")),
    ])];
    let e = run(wider.clone(), false).unwrap_err();
    assert!(
        e.to_string().contains(
            "the rows have columns the table lacks (tag); the table has (id); set merge_schema to add them"
        ),
        "{e}"
    );
    run(wider, true).unwrap();
    let mut back: Vec<(i64, Value)> = read_all(DeltaSourceConfig::new(dir.path()), 1)
        .iter()
        .map(|r| {
            (
                r.get("id").and_then(Value::as_i64).unwrap(),
                r.get("tag").cloned().unwrap(),
            )
        })
        .collect();
    back.sort_by_key(|v| v.0);
    assert_eq!(back, vec![(1, Value::Null), (2, Value::from("x"))]);
}

#[test]
fn a_partitioned_table_has_hive_folders_and_reads_its_partition_values_back() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = (0..6)
        .map(|i| {
            Row::from_pairs([
                (
                    "day",
                    Value::from(if i < 4 { "2024-01-01" } else { "2024-01-02" }),
                ),
                ("n", Value::Int(i)),
            ])
        })
        .collect();
    let mut p = Pipeline::new(Config::default());
    p.source(VecSource::new(rows))
        .sink(DeltaSink::new(dir.path(), FileSinkMode::Transactional).partition_by(["day"]));
    p.run().unwrap();
    assert!(dir.path().join("day=2024-01-01").is_dir());
    assert!(dir.path().join("day=2024-01-02").is_dir());
    let mut back: Vec<(i64, String)> = read_all(DeltaSourceConfig::new(dir.path()), 2)
        .iter()
        .map(|r| {
            (
                r.get("n").and_then(Value::as_i64).unwrap(),
                r.get("day").and_then(Value::as_str).unwrap().to_string(),
            )
        })
        .collect();
    back.sort();
    let expected: Vec<(i64, String)> = (0..6)
        .map(|i| {
            (
                i,
                if i < 4 { "2024-01-01" } else { "2024-01-02" }.to_string(),
            )
        })
        .collect();
    assert_eq!(back, expected);
}

fn append(dir: &Path, ids: std::ops::Range<i64>) {
    let mut p = Pipeline::new(Config::default());
    p.source(VecSource::new(readings(ids)))
        .sink(DeltaSink::new(dir, FileSinkMode::Transactional));
    p.run().unwrap();
}

#[test]
fn versions_select_what_a_bounded_read_sees() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 0..3); // versions 0 (create) and 1
    append(dir.path(), 3..5); // version 2
    append(dir.path(), 5..6); // version 3
    let mut config = DeltaSourceConfig::new(dir.path());
    assert_eq!(
        sensors(&read_all(config.clone(), 1)),
        (0..6).collect::<Vec<_>>()
    );
    config.version = Some(2);
    assert_eq!(
        sensors(&read_all(config.clone(), 1)),
        (0..5).collect::<Vec<_>>()
    );
    config.version = None;
    config.starting_version = Some(2.into());
    assert_eq!(sensors(&read_all(config, 1)), vec![3, 4, 5]);
}

#[test]
fn a_stream_follows_new_commits_and_a_restart_neither_skips_nor_rereads() {
    let table = tempfile::tempdir().unwrap();
    let checkpoints = tempfile::tempdir().unwrap();
    append(table.path(), 0..100);
    let run = |out: &MemorySink<Row>, expect: usize, during: &dyn Fn()| {
        let mut config = DeltaSourceConfig::new(table.path());
        config.stream = true;
        config.poll_interval_ms = 20;
        // On the testing harness: the table is looked at every 20 ms of its clock.
        let mut t = TestPipeline::new(Config::default().with_parallelism(2).with_checkpointing(
            checkpoints.path(),
            Duration::from_millis(20),
            DeliveryGuarantee::AtLeastOnce,
        ));
        t.pipeline()
            .source(DeltaSource::new(config))
            .dead_letters(MemorySink::new())
            .sink(out.clone());
        let mut run = t.start().unwrap();
        run.run_until_idle().unwrap();
        during();
        assert!(
            out.len() < expect,
            "the new commit is read at the next look"
        );
        run.advance_processing_time("20 ms").unwrap();
        assert_eq!(out.len(), expect);
        // a checkpoint covers what was read; then the run stops without draining
        run.advance_processing_time("20 ms").unwrap();
        assert!(run.metrics().checkpoints.is_some_and(|c| c.completed >= 1));
        drop(run);
    };
    let first = MemorySink::new();
    run(&first, 200, &|| append(table.path(), 100..200));
    assert_eq!(sensors(&first.values()), (0..200).collect::<Vec<_>>());
    append(table.path(), 200..250);
    let second = MemorySink::new();
    run(&second, 60, &|| append(table.path(), 250..260));
    assert_eq!(sensors(&second.values()), (200..260).collect::<Vec<_>>());
}

#[test]
fn a_commit_that_removes_data_stops_the_stream_unless_change_commits_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 0..3);
    // a recovery to an older checkpoint removes files: a change commit
    let sink = DeltaSink::new(dir.path(), FileSinkMode::Transactional);
    let mut w = writer(&sink);
    SinkWriter::<Reading>::write_batch(&mut w, batch(10..12)).unwrap();
    let pre1 = SinkWriter::<Reading>::pre_commit(&mut w, 1)
        .unwrap()
        .unwrap();
    SinkWriter::<Reading>::commit(&mut w, 1).unwrap();
    SinkWriter::<Reading>::write_batch(&mut w, batch(12..13)).unwrap();
    SinkWriter::<Reading>::pre_commit(&mut w, 2).unwrap();
    SinkWriter::<Reading>::commit(&mut w, 2).unwrap();
    let mut back = writer(&sink);
    SinkWriter::<Reading>::recover(&mut back, Some(&pre1)).unwrap();
    let version = commits(dir.path()).len() - 1;

    let mut config = DeltaSourceConfig::new(dir.path());
    config.starting_version = Some(0.into());
    let mut p = Pipeline::new(Config::default().with_name("changes"));
    p.source(DeltaSource::new(config.clone()))
        .dead_letters(MemorySink::new())
        .sink(MemorySink::new());
    let e = p.run().unwrap_err();
    assert!(
        e.to_string().contains(&format!(
            "version {version} removes data (a delete, update or overwrite); the stream reads appends only: set skip_change_commits to skip such commits"
        )),
        "{e}"
    );
    config.skip_change_commits = true;
    assert_eq!(sensors(&read_all(config, 1)), vec![0, 1, 2, 10, 11, 12]);
}

#[test]
fn problems_of_the_settings_are_reported_when_building() {
    let mut config = DeltaSourceConfig::new("");
    config.poll_interval_ms = 0;
    config.version = Some(1);
    config.starting_version = Some(1.into());
    let mut p = Pipeline::new(Config::default().with_name("delta"));
    p.source(DeltaSource::new(config))
        .dead_letters(MemorySink::new())
        .sink(DeltaSink::new("", FileSinkMode::Direct).rows_per_commit(0));
    let Err(e) = p.build() else { panic!("built") };
    let problems: Vec<String> = e.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        vec![
            "`delta_source`: invalid `path`: expected a table's folder, found an empty path",
            "`delta_source`: invalid `poll_interval_ms`: expected at least 1, found 0",
            "`delta_source`: invalid `starting_version`: expected either a snapshot `version` or a `starting_version`, not both, found both",
            "`delta_sink`: invalid `path`: expected a folder, found an empty path",
            "`delta_sink`: invalid `rows_per_commit`: expected at least 1, found 0",
        ]
    );
}

#[test]
fn at_least_once_commits_as_rows_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = Pipeline::new(Config::default().with_batch_size(100));
    p.source(VecSource::new(readings(0..1_000)))
        .sink(DeltaSink::new(dir.path(), FileSinkMode::Direct).rows_per_commit(300));
    p.run().unwrap();
    assert_eq!(
        sensors(&read_all(DeltaSourceConfig::new(dir.path()), 1)),
        (0..1_000).collect::<Vec<_>>()
    );
    // create + a commit per 300 rows + the rest at the end
    let log = commits(dir.path());
    assert_eq!(
        log[1..].iter().map(|c| adds(c)).collect::<Vec<_>>(),
        vec![1, 1, 1, 1]
    );
}

/// (change type, commit version, sensor) of every row, sorted.
fn changes(rows: &[Row]) -> Vec<(String, i64, i64)> {
    let mut v: Vec<(String, i64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.get("_change_type")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_string(),
                r.get("_commit_version").and_then(Value::as_i64).unwrap(),
                r.get("sensor").and_then(Value::as_i64).unwrap(),
            )
        })
        .collect();
    v.sort_by(|a, b| (a.1, &a.0, a.2).cmp(&(b.1, &b.0, b.2)));
    v
}

#[test]
fn the_change_feed_gives_inserts_and_deletes_with_their_versions() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), 0..2); // versions 0 (create) and 1
                              // versions 2 and 3 append, then a recovery to checkpoint 1 removes version 3's file
    let sink = DeltaSink::new(dir.path(), FileSinkMode::Transactional);
    let mut w = writer(&sink);
    SinkWriter::<Reading>::write_batch(&mut w, batch(10..11)).unwrap();
    let pre1 = SinkWriter::<Reading>::pre_commit(&mut w, 1)
        .unwrap()
        .unwrap();
    SinkWriter::<Reading>::commit(&mut w, 1).unwrap();
    SinkWriter::<Reading>::write_batch(&mut w, batch(11..13)).unwrap();
    SinkWriter::<Reading>::pre_commit(&mut w, 2).unwrap();
    SinkWriter::<Reading>::commit(&mut w, 2).unwrap();
    let mut back = writer(&sink);
    SinkWriter::<Reading>::recover(&mut back, Some(&pre1)).unwrap(); // version 4
    let insert = |v: i64, s: i64| ("insert".to_string(), v, s);
    let delete = |v: i64, s: i64| ("delete".to_string(), v, s);

    let mut config = DeltaSourceConfig::new(dir.path());
    config.read_change_feed = true;
    config.starting_version = Some(0.into());
    assert_eq!(
        changes(&read_all(config.clone(), 2)),
        vec![
            insert(1, 0),
            insert(1, 1),
            insert(2, 10),
            insert(3, 11),
            insert(3, 12),
            delete(4, 11),
            delete(4, 12)
        ]
    );
    // without a starting version: the snapshot (version 4) as inserts, then nothing
    config.starting_version = None;
    assert_eq!(
        changes(&read_all(config.clone(), 1)),
        vec![insert(4, 0), insert(4, 1), insert(4, 10)]
    );
    // "latest": only commits after the newest at start (none in a bounded read)
    config.starting_version = Some(StartingVersion::Latest);
    assert_eq!(changes(&read_all(config, 1)), vec![]);
    let row = &read_all(
        DeltaSourceConfig {
            read_change_feed: true,
            starting_version: Some(4.into()),
            ..DeltaSourceConfig::new(dir.path())
        },
        1,
    )[0];
    let time = row
        .get("_commit_timestamp")
        .and_then(Value::as_str)
        .unwrap();
    assert!(tidewater_engine::time::parse_time(time).is_ok(), "{time}");
}

#[test]
fn starting_versions_read_as_spark_writes_them() {
    type Case = (&'static str, Option<StartingVersion>);
    let cases: Vec<Case> = vec![
        (
            r#"{"path": "t", "starting_version": 3}"#,
            Some(StartingVersion::Version(3)),
        ),
        (
            r#"{"path": "t", "starting_version": "3"}"#,
            Some(StartingVersion::Version(3)),
        ),
        (
            r#"{"path": "t", "starting_version": "latest"}"#,
            Some(StartingVersion::Latest),
        ),
        (r#"{"path": "t"}"#, None),
    ];
    for (json, expected) in cases {
        let config: DeltaSourceConfig = serde_json::from_str(json).unwrap();
        assert_eq!(config.starting_version, expected, "{json}");
    }
    let e =
        serde_json::from_str::<DeltaSourceConfig>(r#"{"path": "t", "starting_version": "soon"}"#)
            .unwrap_err();
    assert!(
        e.to_string()
            .contains(r#"expected a version (0 or more) or "latest", found "soon""#),
        "{e}"
    );
}
