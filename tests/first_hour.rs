//! What a new user hit in the first hour, written the way the README teaches, with the
//! behaviour each fix promises.

use std::time::Duration;

use tidewater::engine::time::TimeUnit;
use tidewater::generators::core::GeneratorErrors;
use tidewater::prelude::*;

/// 60 JSON lines, one per second of 2024-01-01 from 00:00:00Z, with ISO-8601 times in
/// three spellings (zone Z, an offset, no zone), page `a` or `b`.
fn iso_lines(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("clicks.jsonl");
    let lines: Vec<String> = (0..60)
        .map(|s| {
            let ts = match s % 3 {
                0 => format!("2024-01-01T00:00:{s:02}Z"),
                1 => format!("2024-01-01T01:00:{s:02}+01:00"),
                _ => format!("2024-01-01 00:00:{s:02}"),
            };
            let page = if s % 4 == 0 { "a" } else { "b" };
            format!(r#"{{"page":"{page}","ts":"{ts}"}}"#)
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[test]
fn iso_8601_event_times_from_a_json_lines_file_are_counted_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = iso_lines(dir.path());
    use tidewater::connectors::file::{FileSource, FileSourceConfig};
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    let config = FileSourceConfig::new(&path, tidewater::formats::FileFormat::JsonLines);
    p.source(FileSource::new(config))
        .dead_letters(MemorySink::new())
        .with_event_time("ts", "5 seconds")
        .group_by(["page"])
        .window(TumblingWindow::of("20 seconds"))
        .agg([agg::count("*").alias("n")])
        .sink(out.clone());
    let metrics = p.run().unwrap();
    assert_eq!((metrics.source_records, metrics.late_dropped), (60, 0));
    let mut got: Vec<(String, i64, i64)> = out
        .values()
        .iter()
        .map(|r| {
            let page = match r.get("page") {
                Some(Value::Str(s)) => s.clone(),
                other => panic!("{other:?}"),
            };
            let start = r.get("window_start").and_then(Value::as_i64).unwrap();
            (
                page,
                start - 1_704_067_200_000,
                r.get("n").and_then(Value::as_i64).unwrap(),
            )
        })
        .collect();
    got.sort();
    // Seconds divisible by 4 are page a: 5 in each 20 s window.
    assert_eq!(
        got,
        vec![
            ("a".into(), 0, 5),
            ("a".into(), 20_000, 5),
            ("a".into(), 40_000, 5),
            ("b".into(), 0, 15),
            ("b".into(), 20_000, 15),
            ("b".into(), 40_000, 15),
        ]
    );
}

fn rows_with_times(times: &[&str]) -> Vec<Row> {
    times
        .iter()
        .map(|t| Row::from_pairs([("ts", Value::from(*t))]))
        .collect()
}

#[test]
fn an_unreadable_event_time_is_an_error_or_a_dead_letter_never_a_late_record() {
    let rows = rows_with_times(&["2024-01-01T00:00:00Z", "tomorrow", "2024-01-01T00:00:01Z"]);
    let mut p = Pipeline::new(Config::default().with_parallelism(1).with_name("clicks"));
    p.source(VecSource::new(rows.clone()))
        .with_event_time("ts", "1 second")
        .group_by(["ts"])
        .window(TumblingWindow::of("1 minute"))
        .count()
        .sink(MemorySink::new());
    assert_eq!(
        p.run().unwrap_err().to_string(),
        "pipeline `clicks`, node `event_time#1` (worker 0): row conversion failed: \
         `with_event_time`: cannot read the event time: field `ts`: `tomorrow` is not an \
         RFC 3339 / ISO-8601 time (such as 2024-01-01T12:00:00Z)"
    );

    let (out, bad) = (MemorySink::new(), MemorySink::new());
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(VecSource::new(rows))
        .read_event_time("ts", TimeUnit::Millis)
        .dead_letters(bad.clone())
        .with_event_time("ts", "1 second")
        .group_by(["ts"])
        .window(TumblingWindow::of("1 minute"))
        .count()
        .sink(out.clone());
    let metrics = p.run().unwrap();
    assert_eq!((metrics.dead_letters, metrics.late_dropped), (1, 0));
    assert_eq!(out.values().iter().map(|r| r.value).sum::<u64>(), 2);
    let letter = &bad.values()[0];
    assert_eq!(letter.payload, br#"{"ts":"tomorrow"}"#.to_vec());
    assert_eq!(letter.origin.to_string(), "event time in field `ts`");
}

#[test]
fn epoch_numbers_are_read_in_their_declared_unit() {
    let rows: Vec<Row> = [1_704_067_200_i64, 1_704_067_230, 1_704_067_290]
        .into_iter()
        .map(|s| Row::from_pairs([("k", Value::from("x")), ("ts", Value::from(s))]))
        .collect();
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(VecSource::new(rows))
        .with_event_time_in("ts", TimeUnit::Seconds, "0 s")
        .group_by(["k"])
        .window(TumblingWindow::of("1 minute"))
        .count()
        .sink(out.clone());
    p.run().unwrap();
    let got: Vec<(i64, u64)> = out
        .values()
        .iter()
        .map(|r| (r.window_start, r.value))
        .collect();
    assert_eq!(got, vec![(1_704_067_200_000, 2), (1_704_067_260_000, 1)]);
}

#[test]
fn late_events_arrive_late_at_the_default_batch_size() {
    use tidewater::generators::nexmark::{Event, NexmarkConfig, NexmarkGenerator};
    let source = GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 3))
        .with_max_events(50_000)
        .with_late_events(0.05, 20_000);
    let late = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(source)
        .with_watermark(Watermark::bounded("200 ms", |e: &Event| e.date_time()))
        .key_by(|_: &Event| 0u8)
        .window(TumblingWindow::of("1 second"))
        .late_records(late.clone())
        .count()
        .sink(MemorySink::new());
    let metrics = p.run().unwrap();
    assert!(metrics.late_dropped > 0);
    assert_eq!(late.len() as u64, metrics.late_dropped);
}

#[test]
fn errors_compose_with_question_marks() {
    use tidewater::generators::clickstream::{ClickstreamConfig, ClickstreamSimulator};
    fn into_engine() -> Result<ClickstreamSimulator> {
        let bad = ClickstreamConfig {
            users: 0,
            ..Default::default()
        };
        Ok(ClickstreamSimulator::new(bad)?)
    }
    fn into_anyhow() -> anyhow::Result<Vec<Row>> {
        let rows =
            tidewater::formats::read_rows("/no/such.csv", tidewater::formats::FileFormat::Csv)?;
        Ok(rows)
    }
    fn into_engine_from_formats() -> Result<Vec<Row>> {
        Ok(tidewater::formats::read_rows(
            "/no/such.csv",
            tidewater::formats::FileFormat::Csv,
        )?)
    }
    assert_eq!(
        into_engine().unwrap_err().problems()[0].to_string(),
        "`generator`: invalid `users`: expected at least 1, found 0"
    );
    assert_eq!(
        into_anyhow().unwrap_err().to_string(),
        "/no/such.csv: No such file or directory (os error 2)"
    );
    assert!(matches!(
        into_engine_from_formats(),
        Err(EngineError::Io { .. })
    ));
    let problems: GeneratorErrors = ClickstreamSimulator::new(ClickstreamConfig {
        users: 0,
        bounce_rate: 3.0,
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(problems.len(), 2);
}

/// Streams `generator` through a pipeline and returns the event times it delivered.
fn streamed_times<G: Generator>(generator: G, ts: fn(&G::Event) -> i64) -> Vec<i64>
where
    G::Event: Clone + Sync,
{
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(2));
    p.source(GeneratorSource::new(generator))
        .map(move |e| ts(&e))
        .sink(out.clone());
    p.run().unwrap();
    let mut v = out.values();
    v.sort();
    v
}

#[test]
fn every_simulator_has_a_generator_for_pipelines() {
    use tidewater::generators::financial::{FinancialStreamConfig, FinancialStreamSimulator};
    use tidewater::generators::iot::{IotTelemetryConfig, IotTelemetrySimulator};
    use tidewater::generators::oplogs::{OperationalLogConfig, OperationalLogSimulator};
    use tidewater::generators::workflow::{WorkflowConfig, WorkflowPreset, WorkflowSimulator};
    let sorted = |mut v: Vec<i64>| {
        v.sort();
        v
    };
    let fin = FinancialStreamSimulator::new(FinancialStreamConfig {
        duration_hours: 2.0,
        ..Default::default()
    })
    .unwrap();
    let want = sorted(
        fin.run()
            .transactions
            .iter()
            .map(|t| t.transaction_time)
            .collect(),
    );
    assert_eq!(
        streamed_times(fin.generator(), |t| t.transaction_time),
        want
    );
    let iot = IotTelemetrySimulator::new(IotTelemetryConfig {
        duration_hours: 1.0,
        ..Default::default()
    })
    .unwrap();
    let want = sorted(iot.run().readings.iter().map(|r| r.reading_time).collect());
    assert_eq!(streamed_times(iot.generator(), |r| r.reading_time), want);
    let logs = OperationalLogSimulator::new(OperationalLogConfig {
        duration_hours: 1.0,
        ..Default::default()
    })
    .unwrap();
    let want = sorted(logs.run().logs.iter().map(|l| l.timestamp).collect());
    assert_eq!(streamed_times(logs.generator(), |l| l.timestamp), want);
    let flow =
        WorkflowSimulator::new(WorkflowConfig::preset(WorkflowPreset::OrderFulfillment)).unwrap();
    let want = sorted(
        flow.run()
            .events
            .iter()
            .map(|e| e.transitioned_at)
            .collect(),
    );
    assert!(!want.is_empty());
    assert_eq!(
        streamed_times(flow.generator(), |e| e.transitioned_at),
        want
    );
}

#[test]
fn the_facade_reexports_what_the_readme_uses() {
    // formats, the generator source types in the prelude, paths as &str.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    let rows = vec![Row::from_pairs([("a", Value::from(1))])];
    tidewater::formats::write_rows(
        path.to_str().unwrap(),
        tidewater::formats::FileFormat::Csv,
        &rows,
    )
    .unwrap();
    let back =
        tidewater::formats::read_rows(path.to_str().unwrap(), tidewater::formats::FileFormat::Csv)
            .unwrap();
    assert_eq!(back[0].get("a"), Some(&Value::Int(1)));
    let _: Option<Pacing> = None;
    let _ = Duration::from_secs(1);
}

#[test]
fn restarting_a_finished_run_says_its_input_was_already_read() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let out = MemorySink::new();
        let config = Config::default().with_parallelism(1).with_checkpointing(
            dir.path(),
            Duration::from_millis(50),
            DeliveryGuarantee::AtLeastOnce,
        );
        let mut p = Pipeline::new(config);
        p.source(VecSource::new((0..100u64).collect()))
            .sink(out.clone());
        (p.run().unwrap(), out.len())
    };
    let (first, n) = run();
    assert_eq!(n, 100);
    assert_eq!(first.checkpoints.unwrap().restored(), None);
    let (second, n) = run();
    assert_eq!((second.source_records, n), (0, 0));
    let checkpoints = second.checkpoints.unwrap();
    assert!(checkpoints.restored_finished);
    assert_eq!(
        checkpoints.restored().unwrap(),
        format!(
            "resumed from checkpoint {}, the final one of a finished run: its input was already read",
            checkpoints.restored_from.unwrap()
        )
    );
}

#[test]
fn late_data_results_are_the_same_run_after_run_by_default() {
    use tidewater::generators::nexmark::{Event, NexmarkConfig, NexmarkGenerator};
    let run = || {
        let source = GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 11))
            .with_max_events(30_000)
            .with_out_of_order(0.2, 50)
            .with_late_events(0.05, 5_000);
        let out = MemorySink::new();
        let mut p = Pipeline::new(Config::default());
        p.source(source)
            .with_watermark(Watermark::bounded("100 ms", |e: &Event| e.date_time()))
            .key_by(|e: &Event| e.date_time() % 7)
            .window(TumblingWindow::of("1 second"))
            .count()
            .sink(out.clone());
        let metrics = p.run().unwrap();
        let mut rows: Vec<(i64, i64, u64)> = out
            .values()
            .iter()
            .map(|r| (r.key, r.window_start, r.value))
            .collect();
        rows.sort();
        (rows, metrics.late_dropped)
    };
    let first = run();
    assert!(first.1 > 0, "the run has late data");
    for _ in 0..3 {
        assert_eq!(run(), first);
    }
}

#[test]
fn window_results_can_be_named_and_sessions_give_their_span() {
    #[derive(Clone)]
    struct Click {
        user: u32,
        ts: i64,
    }
    #[derive(Debug, Clone, PartialEq)]
    struct Visit {
        clicks: u64,
        first: i64,
        last: i64,
    }
    let clicks = vec![
        Click { user: 1, ts: 1_000 },
        Click { user: 1, ts: 3_000 },
        Click { user: 2, ts: 2_000 },
        Click {
            user: 1,
            ts: 60_000,
        },
    ];
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default());
    p.source(VecSource::new(clicks))
        .with_watermark(Watermark::monotonic(|c: &Click| c.ts))
        .key_by(|c: &Click| c.user)
        .window(SessionWindow::with_gap("10 seconds"))
        .aggregate_into((Count, EventSpan), |(clicks, span)| Visit {
            clicks,
            first: span.first,
            last: span.last,
        })
        .sink(out.clone());
    p.run().unwrap();
    let mut got: Vec<(u32, i64, Visit)> = out
        .values()
        .into_iter()
        .map(|r| (r.key, r.window_end, r.value))
        .collect();
    got.sort_by_key(|g| (g.0, g.1));
    let visit = |clicks, first, last| Visit {
        clicks,
        first,
        last,
    };
    assert_eq!(
        got,
        vec![
            (1, 13_000, visit(2, 1_000, 3_000)),
            (1, 70_000, visit(1, 60_000, 60_000)),
            (2, 12_000, visit(1, 2_000, 2_000)),
        ]
    );
}

#[test]
fn update_mode_rows_carry_whether_they_are_final() {
    let rows: Vec<Row> = [("a", 1_000), ("a", 2_000), ("a", 15_000)]
        .into_iter()
        .map(|(page, ts)| Row::from_pairs([("page", Value::from(page)), ("ts", Value::from(ts))]))
        .collect();
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default());
    p.source(VecSource::new(rows).with_batch_size(1))
        .with_event_time("ts", "0 s")
        .group_by(["page"])
        .window(TumblingWindow::of("10 seconds"))
        .output_mode(OutputMode::Update)
        .agg([agg::count("*").alias("n")])
        .sink(out.clone());
    p.run().unwrap();
    let lines: Vec<String> = out
        .values()
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            r#"{"page":"a","window_start":0,"window_end":10000,"n":1,"is_final":false}"#,
            r#"{"page":"a","window_start":0,"window_end":10000,"n":2,"is_final":false}"#,
            r#"{"page":"a","window_start":10000,"window_end":20000,"n":1,"is_final":false}"#,
            r#"{"page":"a","window_start":0,"window_end":10000,"n":2,"is_final":true}"#,
            r#"{"page":"a","window_start":10000,"window_end":20000,"n":1,"is_final":true}"#,
        ]
    );
}
