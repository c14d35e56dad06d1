//! The file source: bounded reads of every format at parallelism 1 and 2, CSV dialects
//! and schemas, dead letters with file and line, writers' completion rules (a Spindle
//! file drop with `_done` flags and manifests), a watched folder, a checkpointed
//! restart that neither skips nor rereads a file, and a streamed Spindle file drop
//! counted in windows against the simulator's late and duplicate figures.

use std::path::Path;
use std::time::Duration;

use tidewater::connectors::file::{CsvOptions, FileSource, FileSourceConfig, Ready};
use tidewater::engine::dead_letter::Origin;
use tidewater::engine::row::DataType;
use tidewater::formats::{write_rows, FileFormat};
use tidewater::prelude::*;
use tidewater::testing::TestPipeline;

fn row(id: i64, name: &str) -> Row {
    Row::from_pairs([("id", Value::Int(id)), ("name", Value::from(name))])
}

/// Reads `config` at `parallelism`: (rows as JSON, sorted; dead letters).
fn read(config: FileSourceConfig, parallelism: usize) -> (Vec<String>, Vec<(Origin, String)>) {
    let (out, bad) = (MemorySink::new(), MemorySink::new());
    let mut p = Pipeline::new(Config::default().with_parallelism(parallelism));
    p.source(FileSource::new(config))
        .dead_letters(bad.clone())
        .sink(out.clone());
    let metrics = p.run().unwrap();
    assert_eq!(metrics.dead_letters as usize, bad.len());
    let mut rows: Vec<String> = out
        .values()
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    rows.sort();
    let letters = bad
        .values()
        .into_iter()
        .map(|d| (d.origin, d.error))
        .collect();
    (rows, letters)
}

#[test]
fn every_format_reads_back_exactly_at_parallelism_1_and_2() {
    for format in [FileFormat::JsonLines, FileFormat::Csv, FileFormat::Parquet] {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=3 {
            let folder = dir.path().join(format!("dt=2024-01-0{day}"));
            std::fs::create_dir(&folder).unwrap();
            let rows: Vec<Row> = (0..4)
                .map(|i| row(day * 10 + i, &format!("n{i}")))
                .collect();
            write_rows(
                folder.join(format!("part.{}", format.extension())),
                format,
                &rows,
            )
            .unwrap();
        }
        let mut want: Vec<String> = (1..=3)
            .flat_map(|day| {
                (0..4).map(move |i| {
                    format!(
                        r#"{{"id":{},"name":"n{i}","dt":"2024-01-0{day}"}}"#,
                        day * 10 + i
                    )
                })
            })
            .collect();
        want.sort();
        for parallelism in [1, 2] {
            let (rows, bad) = read(FileSourceConfig::new(dir.path(), format), parallelism);
            assert_eq!(rows, want, "{format:?} at {parallelism}");
            assert!(bad.is_empty());
        }
    }
}

#[test]
fn csv_dialects_schemas_and_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.csv");
    std::fs::write(&path, "1;'x;y';2.5\n2;b\n3;c;oops\n4;'d';\n").unwrap();
    let mut config = FileSourceConfig::new(&path, FileFormat::Csv);
    config.csv = CsvOptions {
        header: false,
        delimiter: ';',
        quote: '\'',
    };
    config.schema = Some(Schema::new([
        ("id", DataType::Int),
        ("name", DataType::Str),
        ("score", DataType::Float),
    ]));
    let (rows, bad) = read(config, 1);
    assert_eq!(
        rows,
        vec![
            r#"{"id":1,"name":"x;y","score":2.5}"#.to_string(),
            r#"{"id":4,"name":"d","score":null}"#.to_string(),
        ]
    );
    let at = |line| Origin::File {
        path: path.display().to_string(),
        line,
    };
    assert_eq!(
        bad,
        vec![
            (at(2), "expected 3 fields, found 2".to_string()),
            (
                at(3),
                "field `score`: expected float, found `oops`".to_string()
            ),
        ]
    );
}

#[test]
fn json_lines_without_a_schema_keep_their_types_and_name_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    std::fs::write(
        &path,
        "{\"a\":1,\"b\":\"x\",\"c\":null}\n\n{\"a\":\n{\"a\":{\"nested\":1}}\n",
    )
    .unwrap();
    let (rows, bad) = read(FileSourceConfig::new(&path, FileFormat::JsonLines), 1);
    assert_eq!(rows, vec![r#"{"a":1,"b":"x","c":null}"#.to_string()]);
    let lines: Vec<u64> = bad
        .iter()
        .map(|(o, _)| match o {
            Origin::File { line, .. } => *line,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(lines, vec![3, 4]);
    assert!(bad[1].1.starts_with("field `a`: "), "{}", bad[1].1);
}

#[test]
fn a_spindle_file_drop_is_read_once_its_folders_are_complete() {
    use tidewater::generators::filedrop::{FileDropConfig, FileDropSimulator};
    use tidewater::generators::retail::{RetailDomain, Scale};
    let dir = tempfile::tempdir().unwrap();
    let tables = RetailDomain::new(Scale::Small, 3).generate();
    let config = FileDropConfig {
        domain: "retail".into(),
        base_path: dir.path().to_string_lossy().into_owned(),
        date_range_start: "2024-01-01".into(),
        date_range_end: "2024-01-04".into(),
        formats: vec![FileFormat::JsonLines],
        entities: vec!["orders".into()],
        ..Default::default()
    };
    let result = FileDropSimulator::new(&tables, config)
        .unwrap()
        .run()
        .unwrap();
    let written = result.stats["orders"].rows as usize;
    let root = dir.path().join("retail/orders");
    // A folder still being written: data, no flag, no manifest.
    let open = root.join("dt=2024-01-09");
    std::fs::create_dir(&open).unwrap();
    std::fs::write(
        open.join("retail_orders_2024-01-09_0.jsonl"),
        "{\"order_id\":\"x\"}\n",
    )
    .unwrap();
    for ready in [Ready::DoneFlag, Ready::Manifest] {
        let mut config = FileSourceConfig::new(&root, FileFormat::JsonLines);
        config.ready = ready;
        let (rows, bad) = read(config, 2);
        assert_eq!((rows.len(), bad.len()), (written, 0), "{ready:?}");
    }
    let (rows, _) = read(FileSourceConfig::new(&root, FileFormat::JsonLines), 2);
    assert_eq!(rows.len(), written + 1, "Visible reads the open folder too");
}

#[test]
fn latest_first_and_max_files_per_trigger_order_the_files() {
    let dir = tempfile::tempdir().unwrap();
    for (i, name) in ["b.jsonl", "a.jsonl", "c.jsonl"].into_iter().enumerate() {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{{\"file\":\"{name}\"}}\n")).unwrap();
        // modification times one second apart, in the order written
        let t = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i as u64);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
    let order = |latest_first: bool, max: Option<usize>| {
        let mut config = FileSourceConfig::new(dir.path(), FileFormat::JsonLines);
        config.latest_first = latest_first;
        config.max_files_per_trigger = max;
        let out = MemorySink::new();
        let mut p = Pipeline::new(Config::default());
        p.source(FileSource::new(config))
            .dead_letters(MemorySink::new())
            .map(|r: Row| match r.get("file") {
                Some(Value::Str(s)) => s.clone(),
                other => format!("{other:?}"),
            })
            .sink(out.clone());
        p.run().unwrap();
        out.values()
    };
    assert_eq!(order(false, None), vec!["b.jsonl", "a.jsonl", "c.jsonl"]);
    assert_eq!(order(true, None), vec!["c.jsonl", "a.jsonl", "b.jsonl"]);
    assert_eq!(order(false, Some(1)), vec!["b.jsonl", "a.jsonl", "c.jsonl"]);
}

/// Writes a JSON-lines file the way a careful writer does: to a hidden name, then renamed.
fn land(dir: &Path, name: &str, ids: std::ops::Range<i64>) {
    let text: String = ids.map(|i| format!("{{\"id\":{i}}}\n")).collect();
    let hidden = dir.join(format!(".{name}.tmp"));
    std::fs::write(&hidden, text).unwrap();
    std::fs::rename(hidden, dir.join(name)).unwrap();
}

fn ids(out: &MemorySink<Row>) -> Vec<i64> {
    let mut v: Vec<i64> = out
        .values()
        .iter()
        .map(|r| r.get("id").and_then(Value::as_i64).unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn a_watched_folder_delivers_new_files_and_a_restart_neither_skips_nor_rereads() {
    let data = tempfile::tempdir().unwrap();
    let checkpoints = tempfile::tempdir().unwrap();
    land(data.path(), "a.jsonl", 0..100);
    // On the testing harness: the folder is listed every 20 ms of its clock.
    let run = |out: &MemorySink<Row>, expect: usize, during: &dyn Fn()| {
        let mut config = FileSourceConfig::new(data.path(), FileFormat::JsonLines);
        config.stream = true;
        config.poll_interval_ms = 20;
        let mut t = TestPipeline::new(Config::default().with_parallelism(2).with_checkpointing(
            checkpoints.path(),
            Duration::from_millis(20),
            DeliveryGuarantee::AtLeastOnce,
        ));
        t.pipeline()
            .source(FileSource::new(config))
            .dead_letters(MemorySink::new())
            .sink(out.clone());
        let mut run = t.start().unwrap();
        run.run_until_idle().unwrap();
        during();
        assert!(
            out.len() < expect,
            "the new file is read at the next listing"
        );
        run.advance_processing_time("20 ms").unwrap();
        assert_eq!(out.len(), expect);
        // a checkpoint covers what was read; then the run stops without draining
        run.advance_processing_time("20 ms").unwrap();
        assert!(run.metrics().checkpoints.is_some_and(|c| c.completed >= 1));
        drop(run);
    };
    let first = MemorySink::new();
    run(&first, 200, &|| land(data.path(), "b.jsonl", 100..200));
    assert_eq!(ids(&first), (0..200).collect::<Vec<_>>());
    // More files arrive while nothing runs; the restart reads only those.
    land(data.path(), "c.jsonl", 200..250);
    let second = MemorySink::new();
    run(&second, 60, &|| land(data.path(), "d.jsonl", 250..260));
    assert_eq!(ids(&second), (200..260).collect::<Vec<_>>());
}

#[test]
fn problems_of_the_settings_are_reported_when_building() {
    let mut config = FileSourceConfig::new("", FileFormat::Parquet);
    config.poll_interval_ms = 0;
    config.max_files_per_trigger = Some(0);
    config.schema = Some(Schema::new([("a", DataType::Int)]));
    let mut p = Pipeline::new(Config::default().with_name("files"));
    p.source(FileSource::new(config))
        .dead_letters(MemorySink::new())
        .sink(MemorySink::new());
    let Err(e) = p.build() else { panic!("built") };
    let problems: Vec<String> = e.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        vec![
            "`file_source`: invalid `path`: expected a folder or file, found an empty path",
            "`file_source`: invalid `poll_interval_ms`: expected at least 1, found 0",
            "`file_source`: invalid `max_files_per_trigger`: expected at least 1, found 0",
            "`file_source`: invalid `schema`: expected no declared schema for Parquet (its files carry their own), found a schema",
        ]
    );
}

#[test]
fn exactly_once_parquet_part_files_read_back_through_the_file_source() {
    use tidewater::connectors::file::{FileSink, FileSinkMode};
    let out_dir = tempfile::tempdir().unwrap();
    let checkpoints = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = (0..500).map(|i| row(i, &format!("n{}", i % 7))).collect();
    let mut p = Pipeline::new(Config::default().with_parallelism(2).with_checkpointing(
        checkpoints.path(),
        Duration::from_millis(5),
        DeliveryGuarantee::ExactlyOnce,
    ));
    p.source(VecSource::new(rows).with_batch_size(50))
        .sink(FileSink::parquet(
            out_dir.path(),
            FileSinkMode::Transactional,
        ));
    p.run().unwrap();
    let (back, bad) = read(
        FileSourceConfig::new(out_dir.path(), FileFormat::Parquet),
        1,
    );
    assert!(bad.is_empty());
    let mut want: Vec<String> = (0..500)
        .map(|i| format!(r#"{{"id":{i},"name":"n{}"}}"#, i % 7))
        .collect();
    want.sort();
    assert_eq!(back, want);
}

#[test]
fn a_streamed_spindle_file_drop_counts_every_row_once_with_the_manifests_late_and_duplicate_rows() {
    use std::sync::{Arc, Mutex};
    use tidewater::generators::filedrop::{FileDropConfig, FileDropSimulator};
    use tidewater::generators::retail::{RetailDomain, Scale};
    let dir = tempfile::tempdir().unwrap();
    let tables = RetailDomain::new(Scale::Small, 5).generate();
    let config = FileDropConfig {
        domain: "retail".into(),
        base_path: dir.path().to_string_lossy().into_owned(),
        date_range_start: "2024-01-01".into(),
        date_range_end: "2024-01-10".into(),
        formats: vec![FileFormat::Parquet],
        entities: vec!["orders".into()],
        lateness_probability: 0.2,
        duplicates_enabled: true,
        duplicate_probability: 0.05,
        ..Default::default()
    };
    let result = FileDropSimulator::new(&tables, config)
        .unwrap()
        .run()
        .unwrap();
    let stats = result.stats["orders"].clone();
    assert!(stats.late_rows > 0 && stats.duplicate_rows > 0, "{stats:?}");

    // Each drop is a trigger; the event time of a row is the day its drop landed (the
    // `dt` folder), its own day comes from `order_time`.
    let mut source = FileSourceConfig::new(dir.path().join("retail/orders"), FileFormat::Parquet);
    source.stream = true;
    source.ready = Ready::Manifest;
    source.max_files_per_trigger = Some(1);
    source.poll_interval_ms = 20;
    let (windows, bad) = (MemorySink::new(), MemorySink::new());
    let ids = Arc::new(Mutex::new(Vec::new()));
    let seen = ids.clone();
    let mut t = TestPipeline::new(Config::default().with_parallelism(2));
    t.pipeline()
        .source(FileSource::new(source))
        .dead_letters(bad.clone())
        .inspect(move |r: &Row| {
            let id = r.get("order_id").and_then(Value::as_i64).unwrap();
            let own_day = chrono_day(r.get("order_time").and_then(Value::as_i64).unwrap());
            let landed = r.get("dt").and_then(Value::as_str).unwrap().to_string();
            seen.lock().unwrap().push((id, own_day != landed));
        })
        .map(|r: Row| {
            let ms = r.get("order_time").and_then(Value::as_i64).unwrap();
            let day = chrono_day(ms);
            r.with_fields(vec![("own_day", Value::Str(day))])
        })
        .with_event_time("dt", "0 s")
        .group_by(["own_day"])
        .window(TumblingWindow::of("1 day"))
        .agg([agg::count("*").alias("n")])
        .sink(windows.clone());
    // One drop per listing, every 20 ms of the harness's clock.
    let mut run = t.start().unwrap();
    let mut listings = 0;
    while run.metrics().source_records < stats.rows {
        listings += 1;
        assert!(listings < 1_000, "{:?}", run.metrics());
        run.advance_processing_time("20 ms").unwrap();
    }
    run.finish().unwrap();
    let metrics = run.metrics();
    assert_eq!((metrics.late_dropped, bad.len()), (0, 0));

    let (mut counted, mut late) = (0, 0);
    for w in windows.values() {
        let n = w.get("n").and_then(Value::as_i64).unwrap() as u64;
        let landed = chrono_day(w.get("window_start").and_then(Value::as_i64).unwrap());
        counted += n;
        if w.get("own_day").and_then(Value::as_str) != Some(landed.as_str()) {
            late += n;
        }
    }
    // The windows hold every row once, and as many late copies as were read; the
    // manifest's figures count rows, so a late row written twice is one late row.
    let ids = ids.lock().unwrap();
    let late_copies = ids.iter().filter(|(_, late)| *late).count() as u64;
    assert_eq!((counted, late), (stats.rows, late_copies));
    let mut per_id = std::collections::BTreeMap::new();
    for (id, late) in ids.iter() {
        per_id.entry(*id).or_insert((0u64, *late)).0 += 1;
    }
    let twice = per_id.values().filter(|(n, _)| *n == 2).count() as u64;
    let late_rows = per_id.values().filter(|(_, late)| *late).count() as u64;
    assert_eq!(
        (twice, late_rows, per_id.values().map(|v| v.0).max()),
        (stats.duplicate_rows, stats.late_rows, Some(2))
    );
}

/// The UTC day of an epoch-ms time, `YYYY-MM-DD`.
fn chrono_day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .date_naive()
        .to_string()
}
