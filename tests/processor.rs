//! The processor's lifecycle: start, status, metrics, graceful and hard stops, failures
//! that name the operator, and build errors that name the operator and field.

use std::time::Duration;

use tidewater::prelude::*;

const WAIT: Option<Duration> = Some(Duration::from_secs(20));

#[test]
fn a_bounded_run_stops_by_itself_with_metrics_per_operator() {
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(2).with_batch_size(100));
    p.source(VecSource::new((0..1_000u64).collect()))
        .map(|x| (x % 10, x as i64))
        .with_watermark(Watermark::monotonic(|e: &(u64, i64)| e.1))
        .key_by(|e: &(u64, i64)| e.0)
        .window(TumblingWindow::of("100 ms"))
        .aggregate(Count)
        .sink(out.clone());
    let processor = p.build().unwrap();
    assert_eq!(processor.status(), Status::Created);
    processor.start().unwrap();
    assert!(processor.await_termination(WAIT));
    assert_eq!(processor.status(), Status::Stopped);
    assert!(processor.error().is_none());
    // 1 000 ms of event time, 10 windows of 100 ms, every key in each
    assert_eq!(out.len(), 100);
    let m = processor.metrics();
    assert_eq!(m.source_records, 1_000);
    assert_eq!(m.operator("map").unwrap().records_in, 1_000);
    assert_eq!(m.operator("window").unwrap().records_in, 1_000);
    assert_eq!(m.operator("window").unwrap().records_out, 100);
    assert_eq!(m.operator("memory_sink").unwrap().records_in, 100);
    assert_eq!(m.watermark, Some(999));
    assert_eq!(m.late_dropped, 0);
    assert_eq!(m.latency.count, 100);
    assert!(m.latency.p50_ms <= m.latency.p99_ms && m.latency.p99_ms <= m.latency.p999_ms);
    // A processor starts once.
    assert!(matches!(
        processor.start(),
        Err(EngineError::InvalidState { .. })
    ));
}

#[test]
fn a_panicking_closure_fails_the_run_with_the_operators_name() {
    let mut p = Pipeline::new(Config::default().with_parallelism(2));
    p.source(VecSource::new((0..10_000u32).collect()))
        .map(|x| {
            if x == 7_777 {
                panic!("bad record {x}")
            } else {
                x
            }
        })
        .sink(MemorySink::new());
    let processor = p.start().unwrap();
    assert!(processor.await_termination(WAIT));
    assert_eq!(processor.status(), Status::Failed);
    let error = processor.error().unwrap();
    assert_eq!(
        error.to_string(),
        "pipeline `pipeline`, node `map#1` (worker 1): `map#1` panicked on worker 1: bad record 7777"
    );
    match error.root() {
        EngineError::OperatorPanicked {
            operator, message, ..
        } => {
            assert_eq!(operator, "map#1");
            assert_eq!(message, "bad record 7777");
        }
        other => panic!("expected OperatorPanicked, got {other:?}"),
    }
}

#[test]
fn graceful_stop_drains_in_flight_data_and_closes_windows() {
    let (source, input) = ChannelSource::new();
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(2));
    p.source(source)
        .with_watermark(Watermark::bounded("1 hour", |e: &(u8, i64)| e.1))
        .key_by(|e: &(u8, i64)| e.0)
        .window(TumblingWindow::of("1 minute"))
        .aggregate(Count)
        .sink(out.clone());
    let processor = p.start().unwrap();
    input
        .send_batch(vec![(1, 1_000), (2, 2_000), (1, 3_000)])
        .unwrap();
    // the input stays open: the run would go on forever
    assert!(!processor.await_termination(Some(Duration::from_millis(200))));
    assert_eq!(processor.status(), Status::Running);
    processor.stop(true);
    assert!(processor.await_termination(WAIT));
    assert_eq!(processor.status(), Status::Stopped);
    let mut counts: Vec<_> = out.values().into_iter().map(|r| (r.key, r.value)).collect();
    counts.sort();
    // the watermark (1 hour behind) never closed the window; the drain did
    assert_eq!(counts, vec![(1, 2), (2, 1)]);
}

#[test]
fn hard_stop_ends_the_run_without_draining() {
    let (source, input) = ChannelSource::<u32>::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(2));
    p.source(source).sink(MemorySink::new());
    let processor = p.start().unwrap();
    input.send(1).unwrap();
    processor.stop(false);
    assert!(processor.await_termination(WAIT));
    assert_eq!(processor.status(), Status::Stopped);
}

fn build_error(build: impl FnOnce(&mut Pipeline)) -> EngineError {
    let mut p = Pipeline::new(Config::default());
    build(&mut p);
    match p.build() {
        Err(e) => e,
        Ok(_) => panic!("expected a build error"),
    }
}

fn events(p: &mut Pipeline) -> Stream<(u8, i64)> {
    p.source(VecSource::new(vec![(1u8, 0i64)]))
}

#[test]
fn invalid_pipelines_are_rejected_at_build_time_naming_operator_and_field() {
    let ts = |e: &(u8, i64)| e.1;
    let key = |e: &(u8, i64)| e.0;
    // (what is wrong, the error)
    let cases: Vec<(&str, EngineError)> = vec![
        (
            "zero-size tumbling window",
            build_error(|p| {
                events(p)
                    .with_watermark(Watermark::monotonic(ts))
                    .key_by(key)
                    .window(TumblingWindow::of("0 ms"))
                    .aggregate(Count)
                    .sink(MemorySink::new())
            }),
        ),
        (
            "slide larger than size",
            build_error(|p| {
                events(p)
                    .with_watermark(Watermark::monotonic(ts))
                    .key_by(key)
                    .window(SlidingWindow::of("1 second", "2 seconds"))
                    .aggregate(Count)
                    .sink(MemorySink::new())
            }),
        ),
        (
            "negative gap",
            build_error(|p| {
                events(p)
                    .with_watermark(Watermark::monotonic(ts))
                    .key_by(key)
                    .window(SessionWindow::with_gap_ms(-5))
                    .aggregate(Count)
                    .sink(MemorySink::new())
            }),
        ),
        (
            "window without watermark",
            build_error(|p| {
                events(p)
                    .key_by(key)
                    .window(TumblingWindow::of("1 second"))
                    .aggregate(Count)
                    .sink(MemorySink::new())
            }),
        ),
        (
            "group_by without fields",
            build_error(|p| {
                p.source(VecSource::new(vec![Row::from_pairs([(
                    "ts",
                    Value::from(1),
                )])]))
                .with_event_time("ts", "1 second")
                .group_by(Vec::<String>::new())
                .window(TumblingWindow::of("1 second"))
                .agg([agg::count("*")])
                .sink(MemorySink::new())
            }),
        ),
        ("no sink", build_error(|p| drop(events(p)))),
    ];
    let messages: Vec<(&str, String)> = cases
        .iter()
        .map(|(what, e)| (*what, e.to_string()))
        .collect();
    assert_eq!(
        messages,
        vec![
            ("zero-size tumbling window", "pipeline `pipeline`: `window(tumbling)#2`: invalid `size`: expected a duration > 0, found 0 ms".to_string()),
            ("slide larger than size", "pipeline `pipeline`: `window(sliding)#2`: invalid `slide`: expected at most the window size (1000 ms), found 2000 ms".to_string()),
            ("negative gap", "pipeline `pipeline`: `window(session)#2`: invalid `gap`: expected a duration > 0, found -5 ms".to_string()),
            ("window without watermark", "pipeline `pipeline`: `window(tumbling)#1` needs event time: call `with_watermark` before it".to_string()),
            ("group_by without fields", "pipeline `pipeline`: `group_by`: a keyed operator needs at least one key field".to_string()),
            ("no sink", "pipeline `pipeline`: the pipeline has no sink: add one with `Stream::sink` before `start`".to_string()),
        ]
    );
}

#[test]
fn an_unparsable_duration_is_a_build_error_naming_the_input() {
    let e = build_error(|p| {
        events(p)
            .with_watermark(Watermark::monotonic(|e: &(u8, i64)| e.1))
            .key_by(|e: &(u8, i64)| e.0)
            .window(TumblingWindow::of("ten seconds"))
            .aggregate(Count)
            .sink(MemorySink::new())
    });
    assert_eq!(
        e.to_string(),
        "pipeline `pipeline`: `window(tumbling)#2`: invalid `size`: expected a duration such as `10 seconds` (expected a whole number before each unit), found `ten seconds`"
    );
}

#[test]
fn zero_parallelism_is_rejected() {
    let mut p = Pipeline::new(Config::default().with_parallelism(0));
    events(&mut p).sink(MemorySink::new());
    let e = p.build().err().unwrap();
    assert_eq!(
        e.to_string(),
        "pipeline `pipeline`: `config`: invalid `parallelism`: expected at least 1, found 0"
    );
}

struct FailingSource;

impl Source for FailingSource {
    type Item = u8;
    type Reader = VecSourceReaderNever;

    fn name(&self) -> String {
        "kafka_orders".into()
    }

    fn create_reader(&self, _worker: &WorkerInfo) -> Result<VecSourceReaderNever> {
        Err(EngineError::Source {
            source_name: "kafka_orders".into(),
            message: "broker unreachable".into(),
        })
    }
}

struct VecSourceReaderNever;

impl SourceReader for VecSourceReaderNever {
    type Item = u8;

    fn poll_batch(&mut self, _out: &mut Batch<u8>) -> Result<SourcePoll> {
        Ok(SourcePoll::Finished)
    }
}

#[test]
fn a_source_that_cannot_start_fails_start_with_its_error() {
    let mut p = Pipeline::new(Config::default().with_parallelism(2));
    p.source(FailingSource).sink(MemorySink::new());
    let e = p.start().err().unwrap();
    assert_eq!(
        e.to_string(),
        "pipeline `pipeline`, node `kafka_orders#0` (worker 0): source `kafka_orders` failed: broker unreachable"
    );
}

/// Worker 0 reads `batches` batches of event times 1 s apart; every other worker's
/// reader never produces anything and never finishes.
struct LopsidedSource {
    batches: i64,
}

struct LopsidedReader {
    next: Option<i64>,
    batches: i64,
}

impl Source for LopsidedSource {
    type Item = i64;
    type Reader = LopsidedReader;

    fn create_reader(&self, worker: &WorkerInfo) -> Result<LopsidedReader> {
        Ok(LopsidedReader {
            next: (worker.index == 0).then_some(0),
            batches: self.batches,
        })
    }
}

impl SourceReader for LopsidedReader {
    type Item = i64;

    fn poll_batch(&mut self, out: &mut Batch<i64>) -> Result<SourcePoll> {
        match self.next {
            Some(b) if b < self.batches => {
                out.extend((0..100).map(|i| Record::new(0, b * 100_000 + i * 1_000)));
                self.next = Some(b + 1);
                Ok(SourcePoll::Ready)
            }
            _ => Ok(SourcePoll::Pending),
        }
    }
}

#[test]
fn a_peer_that_never_produces_slows_an_aligned_worker_but_never_stops_it() {
    // On the testing harness: alignment's patience follows its clock.
    let out = tidewater::testing::TestSink::new();
    let mut t = tidewater::testing::TestPipeline::new(Config::default().with_parallelism(2))
        .with_watermark_alignment(Duration::from_secs(1));
    t.pipeline()
        .source(LopsidedSource { batches: 20 })
        .with_watermark(Watermark::monotonic(|ts: &i64| *ts))
        .key_by(|ts: &i64| ts % 2)
        .window(TumblingWindow::of("1 hour"))
        .aggregate(Count)
        .sink(out.clone());
    let mut run = t.start().unwrap();
    run.run_until_idle().unwrap();
    // Worker 1 never sends a watermark, so worker 0 is always "ahead": it stops reading
    // until its patience (20 ms) runs out, then reads a batch.
    let stalled = run.metrics().source_records;
    assert!(stalled < 2_000, "{stalled}");
    run.advance_processing_time("19 ms").unwrap();
    assert_eq!(run.metrics().source_records, stalled);
    let mut rounds = 0;
    while run.metrics().source_records < 2_000 {
        let before = run.metrics().source_records;
        run.advance_processing_time("20 ms").unwrap();
        assert_eq!(
            run.metrics().source_records,
            before + 100,
            "one batch per patience"
        );
        rounds += 1;
    }
    assert!(rounds > 10, "{rounds}");
    run.finish().unwrap();
    let counts: Vec<_> = out.take();
    assert_eq!(counts.iter().map(|r| r.value).sum::<u64>(), 2_000);
}

#[test]
fn a_changed_pipeline_refuses_the_checkpoints_of_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        Config::default().with_parallelism(1).with_checkpointing(
            dir.path(),
            Duration::from_secs(60),
            tidewater::engine::config::DeliveryGuarantee::AtLeastOnce,
        )
    };
    let run = |window: TumblingWindow| {
        let mut p = Pipeline::new(config());
        p.source(VecSource::new((0..100i64).collect()))
            .with_watermark(Watermark::monotonic(|t: &i64| *t))
            .key_by(|t: &i64| t % 2)
            .window(window)
            .aggregate(Count)
            .map(|r| r.value)
            .sink(MemorySink::new());
        p.run()
    };
    run(TumblingWindow::of("10 ms")).unwrap();
    // Same shape, same names: resumes (the input was finished, so nothing is replayed).
    assert_eq!(run(TumblingWindow::of("10 ms")).unwrap().source_records, 0);
    // A pipeline with other operators cannot use these checkpoints.
    let mut p = Pipeline::new(config());
    p.source(VecSource::new((0..100i64).collect()))
        .map(|t| t + 1)
        .sink(MemorySink::new());
    let e = p.run().unwrap_err().to_string();
    assert!(
        e.contains(
            "was taken by a different pipeline: missing now [with_watermark#1, window(tumbling)#2"
        ),
        "{e}"
    );
}

/// The local half sends its partials on at every barrier and at the end, so its
/// checkpoints hold none: a plan without it resumes them (at parallelism 1 too: the
/// crash tests restore at 1 what ran at 2).
#[test]
fn turning_local_aggregation_off_resumes_the_checkpoints_of_a_run_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = |local: bool, parallelism: usize| {
        let config = Config::default()
            .with_parallelism(parallelism)
            .with_local_aggregation(local)
            .with_checkpointing(
                dir.path(),
                Duration::from_secs(60),
                tidewater::engine::config::DeliveryGuarantee::AtLeastOnce,
            );
        let mut p = Pipeline::new(config);
        p.source(VecSource::new((0..100i64).collect()))
            .with_watermark(Watermark::monotonic(|t: &i64| *t))
            .key_by(|t: &i64| t % 2)
            .window(TumblingWindow::of("10 ms"))
            .aggregate(Count)
            .sink(MemorySink::new());
        p.run()
    };
    let first = run(true, 2).unwrap();
    assert_eq!(first.operator("window").unwrap().records_in, 100);
    assert_eq!(first.operator("window").unwrap().records_out, 20);
    for (local, parallelism) in [(false, 2), (true, 2)] {
        let again = run(local, parallelism).unwrap();
        assert_eq!(
            again.source_records, 0,
            "local {local}, parallelism {parallelism}"
        );
    }
}

#[test]
fn a_panicking_key_function_or_timestamp_extractor_names_its_operator() {
    fn run(parallelism: usize, key_panics: bool) -> EngineError {
        let mut p = Pipeline::new(Config::default().with_parallelism(parallelism));
        p.source(VecSource::new((0..1_000i64).collect()))
            .with_watermark(Watermark::monotonic(move |t: &i64| {
                if !key_panics && *t == 500 {
                    panic!("no time for {t}")
                }
                *t
            }))
            .key_by(move |t: &i64| {
                if key_panics && *t == 700 {
                    panic!("no key for {t}")
                }
                t % 4
            })
            .window(TumblingWindow::of("100 ms"))
            .aggregate(Count)
            .sink(MemorySink::new());
        p.run().unwrap_err()
    }
    // (parallelism, key function panics, operator named, message)
    let cases = [
        (1, false, "with_watermark#1", "no time for 500"),
        (2, false, "with_watermark#1", "no time for 500"),
        (1, true, "window(tumbling)#2", "no key for 700"),
        (2, true, "window(tumbling)#2", "no key for 700"),
    ];
    for (parallelism, key_panics, operator, message) in cases {
        let e = run(parallelism, key_panics);
        match e.root() {
            EngineError::OperatorPanicked {
                operator: o,
                message: m,
                ..
            } => assert_eq!((o.as_str(), m.as_str()), (operator, message), "{e}"),
            other => panic!("expected a panic naming {operator}, got {other}"),
        }
    }
}
