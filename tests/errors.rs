//! Invalid pipelines and configs, each with the exact message it gets, and several
//! problems of one pipeline reported together (issue: errors as values).

use std::time::Duration;

use tidewater::connectors::file::{FileSink, FileSinkMode};
use tidewater::engine::config::DeliveryGuarantee;
use tidewater::engine::operator::Deduplication;
use tidewater::generators::core::{describe, BurstWindow, Pacing, StreamOptions};
use tidewater::generators::nexmark::NexmarkConfig;
use tidewater::prelude::*;

type Event = (u8, i64);

fn key(e: &Event) -> u8 {
    e.0
}

fn ts(e: &Event) -> i64 {
    e.1
}

fn events(p: &mut Pipeline) -> Stream<Event> {
    p.source(VecSource::new(vec![(1u8, 1_000i64), (2, 2_000)]))
}

fn counted<W: WindowAssigner>(p: &mut Pipeline, window: W) {
    events(p)
        .with_watermark(Watermark::monotonic(ts))
        .key_by(key)
        .window(window)
        .aggregate(Count)
        .sink(MemorySink::new());
}

/// The build error of the pipeline `make` declares under `config` (named `t`).
fn error_with(config: Config, make: impl FnOnce(&mut Pipeline)) -> String {
    let mut p = Pipeline::new(config.with_name("t"));
    make(&mut p);
    match p.build() {
        Ok(_) => "built without error".to_string(),
        Err(e) => e.to_string(),
    }
}

fn error(make: impl FnOnce(&mut Pipeline)) -> String {
    error_with(Config::default().with_parallelism(1), make)
}

fn checkpointed(delivery: DeliveryGuarantee) -> Config {
    let dir = std::env::temp_dir().join("tidewater-errors-never-opened");
    Config::default()
        .with_parallelism(1)
        .with_checkpointing(dir, Duration::from_secs(1), delivery)
}

fn simple(p: &mut Pipeline) {
    events(p).sink(MemorySink::new());
}

fn pacing(change: impl FnOnce(&mut Pacing)) -> String {
    let mut pacing = Pacing::rate(100.0);
    change(&mut pacing);
    describe(&pacing.validate().unwrap_err())
}

fn options(change: impl FnOnce(&mut StreamOptions)) -> String {
    let mut options = StreamOptions::default();
    change(&mut options);
    describe(&options.validate().unwrap_err())
}

fn nexmark(change: impl FnOnce(&mut NexmarkConfig)) -> String {
    let mut config = NexmarkConfig::default();
    change(&mut config);
    describe(&config.validate().unwrap_err())
}

#[test]
fn every_invalid_pipeline_and_config_gets_its_exact_message() {
    use DeliveryGuarantee::*;
    let file_dir = tempfile::tempdir().unwrap();
    let direct_files = file_dir.path().to_path_buf();
    let cases: Vec<(&str, String, &str)> = vec![
        // Config
        ("zero parallelism", error_with(Config::default().with_parallelism(0), simple),
         "pipeline `t`: `config`: invalid `parallelism`: expected at least 1, found 0"),
        ("zero batch size", error_with(Config::default().with_batch_size(0), simple),
         "pipeline `t`: `config`: invalid `batch_size`: expected at least 1, found 0"),
        ("zero channel capacity", error_with(Config::default().with_channel_capacity(0), simple),
         "pipeline `t`: `config`: invalid `channel_capacity`: expected at least 1, found 0"),
        ("zero alignment drift", error_with(Config::default().with_watermark_alignment(Some(Duration::ZERO)), simple),
         "pipeline `t`: `config`: invalid `watermark_alignment`: expected a drift > 0 (or None to turn alignment off), found 0 ms"),
        ("zero checkpoint interval", error_with(Config::default().with_checkpointing("/tmp/x", Duration::ZERO, AtLeastOnce), simple),
         "pipeline `t`: `checkpointing`: invalid `interval`: expected a duration > 0, found 0 ms"),
        ("zero checkpoints retained", error_with({
            let mut c = checkpointed(AtLeastOnce);
            if let Some(cp) = c.checkpointing.as_mut() { cp.retain = 0 }
            c
        }, simple),
         "pipeline `t`: `config`: invalid `checkpointing.retain`: expected at least 1, found 0"),
        ("empty name", {
            let mut p = Pipeline::new(Config::default().with_name(""));
            simple(&mut p);
            p.build().err().unwrap().to_string()
        }, "pipeline ``: `config`: invalid `name`: expected a non-empty name, found \"\""),
        // Windows
        ("zero-size tumbling window", error(|p| counted(p, TumblingWindow::of("0 seconds"))),
         "pipeline `t`: `window(tumbling)#2`: invalid `size`: expected a duration > 0, found 0 ms"),
        ("unparsable tumbling size", error(|p| counted(p, TumblingWindow::of("ten seconds"))),
         "pipeline `t`: `window(tumbling)#2`: invalid `size`: expected a duration such as `10 seconds` (expected a whole number before each unit), found `ten seconds`"),
        ("unknown unit in an offset", error(|p| counted(p, TumblingWindow::of("10 seconds").with_offset("2 parsecs"))),
         "pipeline `t`: `window(tumbling)#2`: invalid `offset`: expected a duration such as `10 seconds` (unknown unit (expected ms, seconds, minutes, hours, days, weeks)), found `2 parsecs`"),
        ("duration without unit", error(|p| counted(p, TumblingWindow::of("10"))),
         "pipeline `t`: `window(tumbling)#2`: invalid `size`: expected a duration such as `10 seconds` (missing unit (ms, seconds, minutes, hours, days, weeks)), found `10`"),
        ("empty duration", error(|p| counted(p, TumblingWindow::of(""))),
         "pipeline `t`: `window(tumbling)#2`: invalid `size`: expected a duration such as `10 seconds` (expected `<number> <unit>`, found nothing), found ``"),
        ("fractional duration", error(|p| counted(p, TumblingWindow::of("1.5 seconds"))),
         "pipeline `t`: `window(tumbling)#2`: invalid `size`: expected a duration such as `10 seconds` (missing unit (ms, seconds, minutes, hours, days, weeks)), found `1.5 seconds`"),
        ("slide larger than size", error(|p| counted(p, SlidingWindow::of("1 second", "2 seconds"))),
         "pipeline `t`: `window(sliding)#2`: invalid `slide`: expected at most the window size (1000 ms), found 2000 ms"),
        ("zero slide", error(|p| counted(p, SlidingWindow::of("1 second", "0 ms"))),
         "pipeline `t`: `window(sliding)#2`: invalid `slide`: expected a duration > 0, found 0 ms"),
        ("zero size and zero slide", error(|p| counted(p, SlidingWindow::of("0 ms", "0 ms"))),
         "pipeline `t` has 2 problems:\n  1. `window(sliding)#2`: invalid `size`: expected a duration > 0, found 0 ms\n  2. `window(sliding)#2`: invalid `slide`: expected a duration > 0, found 0 ms"),
        ("unparsable size and slide", error(|p| counted(p, SlidingWindow::of("a minute", "soon"))),
         "pipeline `t` has 2 problems:\n  1. `window(sliding)#2`: invalid `size`: expected a duration such as `10 seconds` (expected a whole number before each unit), found `a minute`\n  2. `window(sliding)#2`: invalid `slide`: expected a duration such as `10 seconds` (expected a whole number before each unit), found `soon`"),
        ("zero session gap", error(|p| counted(p, SessionWindow::with_gap("0 ms"))),
         "pipeline `t`: `window(session)#2`: invalid `gap`: expected a duration > 0, found 0 ms"),
        ("negative session gap", error(|p| counted(p, SessionWindow::with_gap_ms(-5))),
         "pipeline `t`: `window(session)#2`: invalid `gap`: expected a duration > 0, found -5 ms"),
        ("unparsable session gap", error(|p| counted(p, SessionWindow::with_gap("30 sec onds"))),
         "pipeline `t`: `window(session)#2`: invalid `gap`: expected a duration such as `10 seconds` (expected a whole number before each unit), found `30 sec onds`"),
        ("session shorter than its gap", error(|p| counted(p, SessionWindow::with_gap("1 minute").with_max_duration("10 seconds"))),
         "pipeline `t`: `window(session)#2`: invalid `max_duration`: expected at least the gap (60000 ms), found 10000 ms"),
        ("unparsable allowed lateness", error(|p| {
            events(p).with_watermark(Watermark::monotonic(ts)).key_by(key)
                .window(TumblingWindow::of("1 second")).allowed_lateness("a while")
                .aggregate(Count).sink(MemorySink::new())
        }), "pipeline `t`: `window(tumbling)#2`: invalid `allowed_lateness`: expected a duration such as `10 seconds` (expected a whole number before each unit), found `a while`"),
        ("window and lateness both wrong", error(|p| {
            events(p).with_watermark(Watermark::monotonic(ts)).key_by(key)
                .window(TumblingWindow::of("0 s")).allowed_lateness("x")
                .aggregate(Count).sink(MemorySink::new())
        }), "pipeline `t` has 2 problems:\n  1. `window(tumbling)#2`: invalid `size`: expected a duration > 0, found 0 ms\n  2. `window(tumbling)#2`: invalid `allowed_lateness`: expected a duration such as `10 seconds` (expected a whole number before each unit), found `x`"),
        ("window without watermark", error(|p| {
            events(p).key_by(key).window(TumblingWindow::of("1 second")).aggregate(Count).sink(MemorySink::new())
        }), "pipeline `t`: `window(tumbling)#1` needs event time: call `with_watermark` before it"),
        // Watermarks
        ("unparsable watermark delay", error(|p| {
            events(p).with_watermark(Watermark::bounded("soon", ts)).sink(MemorySink::new())
        }), "pipeline `t`: `with_watermark#1`: invalid `delay`: expected a duration such as `10 seconds` (expected a whole number before each unit), found `soon`"),
        ("no sink", error(|p| drop(events(p))),
         "pipeline `t`: the pipeline has no sink: add one with `Stream::sink` before `start`"),
        ("union with another pipeline's stream", error(|p| {
            let mut other = Pipeline::new(Config::default());
            let theirs = events(&mut other);
            events(p).union(theirs).sink(MemorySink::new());
        }), "pipeline `t`: `union`: invalid `other`: expected a stream of the same pipeline, found a stream of another pipeline"),
        // Rows
        ("group_by without fields", error(|p| {
            p.source(VecSource::new(vec![Row::from_pairs([("ts", Value::from(1))])]))
                .with_event_time("ts", "1 second")
                .group_by(Vec::<String>::new())
                .window(TumblingWindow::of("1 second"))
                .agg([agg::count("*")])
                .sink(MemorySink::new())
        }), "pipeline `t`: `group_by`: a keyed operator needs at least one key field"),
        ("event time without a field name", error(|p| {
            p.source(VecSource::new(vec![Row::from_pairs([("ts", Value::from(1))])]))
                .with_event_time("", "1 second")
                .sink(MemorySink::new())
        }), "pipeline `t`: `with_event_time`: invalid `field`: expected the name of the event-time field, found an empty name"),
        // Delivery guarantees
        ("exactly-once from an iterator", error_with(checkpointed(ExactlyOnce), |p| {
            p.source(IterSource::new(|_w: &WorkerInfo| 0..10u32)).sink(FileSink::json_lines("/tmp/never", FileSinkMode::Transactional))
        }), "pipeline `t`: `iter_source#0` cannot take part in exactly-once: it keeps no position (`Restart::FromBeginning`): a restart would read everything again"),
        ("at-least-once from a channel", error_with(checkpointed(AtLeastOnce), |p| {
            p.source(ChannelSource::<u32>::new().0).sink(MemorySink::new())
        }), "pipeline `t`: `channel_source#0` cannot take part in at-least-once: it cannot replay from a position (`Restart::LiveOnly`): records in flight at a crash would be lost"),
        ("at-most-once from an iterator", error_with(checkpointed(AtMostOnce), |p| {
            p.source(IterSource::new(|_w: &WorkerInfo| 0..10u32)).sink(MemorySink::new())
        }), "pipeline `t`: `iter_source#0` cannot take part in at-most-once: it keeps no position (`Restart::FromBeginning`): a restart would read everything again"),
        ("exactly-once into memory", error_with(checkpointed(ExactlyOnce), simple),
         "pipeline `t`: `memory_sink#1` cannot take part in exactly-once: its writes are visible at once (`Commit::Immediate`): a replay would repeat them; use a transactional or idempotent sink"),
        ("exactly-once into direct files", error_with(checkpointed(ExactlyOnce), move |p| {
            events(p).sink(FileSink::json_lines(direct_files, FileSinkMode::Direct))
        }), "pipeline `t`: `file_sink#1` cannot take part in exactly-once: its writes are visible at once (`Commit::Immediate`): a replay would repeat them; use a transactional or idempotent sink"),
        ("exactly-once with a late side output in memory", error_with(checkpointed(ExactlyOnce), |p| {
            events(p).with_watermark(Watermark::monotonic(ts)).key_by(key)
                .window(TumblingWindow::of("1 second")).late_records(MemorySink::new())
                .aggregate(Count).sink(FileSink::json_lines("/tmp/never", FileSinkMode::Transactional))
        }), "pipeline `t`: `late:memory_sink#2` cannot take part in exactly-once: its writes are visible at once (`Commit::Immediate`): a replay would repeat them; use a transactional or idempotent sink"),
        ("at-least-once into memory is fine, from a channel it is not", error_with(checkpointed(AtLeastOnce), |p| {
            let (source, _input) = ChannelSource::<Event>::new();
            p.source(source).sink(MemorySink::new())
        }), "pipeline `t`: `channel_source#0` cannot take part in at-least-once: it cannot replay from a position (`Restart::LiveOnly`): records in flight at a crash would be lost"),
        // Several problems at once, in declaration order
        ("config, window, delivery together", error_with(checkpointed(ExactlyOnce).with_batch_size(0), |p| {
            p.source(IterSource::new(|_w: &WorkerInfo| (0..10i64).map(|i| (1u8, i))))
                .with_watermark(Watermark::monotonic(ts)).key_by(key)
                .window(SlidingWindow::of("1 second", "5 seconds"))
                .aggregate(Count).sink(MemorySink::new())
        }), "pipeline `t` has 4 problems:\n  1. `config`: invalid `batch_size`: expected at least 1, found 0\n  2. `window(sliding)#2`: invalid `slide`: expected at most the window size (1000 ms), found 5000 ms\n  3. `iter_source#0` cannot take part in exactly-once: it keeps no position (`Restart::FromBeginning`): a restart would read everything again\n  4. `memory_sink#3` cannot take part in exactly-once: its writes are visible at once (`Commit::Immediate`): a replay would repeat them; use a transactional or idempotent sink"),
        ("Spark mode refuses update mode for sessions", error_with(Config::default().with_parallelism(1).spark_compatible(false), |p| {
            events(p).with_watermark(Watermark::monotonic(ts)).key_by(key)
                .window(SessionWindow::with_gap("1 second")).output_mode(OutputMode::Update)
                .aggregate(Count).sink(MemorySink::new())
        }), "pipeline `t`: `window(session)#2`: invalid `output_mode`: expected append or complete (Spark does not support update mode for session windows), found update"),
        // Deduplication
        ("dedup expiring with a watermark that is not there", error(|p| {
            events(p).key_by(key).deduplicate(Deduplication::until_watermark()).sink(MemorySink::new())
        }), "pipeline `t`: `deduplicate#1`: invalid `watermark`: expected a watermark upstream (keys expire with it); Deduplication::forever() has none, found a stream without event time"),
        ("dedup with a bad delay", error(|p| {
            events(p).with_watermark(Watermark::monotonic(ts)).key_by(key)
                .deduplicate(Deduplication::within_watermark("soon")).sink(MemorySink::new())
        }), "pipeline `t`: `deduplicate#2`: invalid `delay`: expected a duration such as `10 seconds` (expected a whole number before each unit), found `soon`"),
        // Generators
        ("pacing bucket of zero", pacing(|p| p.bucket_size = 0), "`bucket_size`: expected at least 1, found 0"),
        ("infinite jitter", pacing(|p| p.jitter_ms = f64::INFINITY), "`jitter_ms`: expected a number >= 0, found inf"),
        ("NaN rate and negative jitter", pacing(|p| { p.rate_per_sec = f64::NAN; p.jitter_ms = -1.0 }),
         "`rate_per_sec`: expected a number > 0, found NaN; `jitter_ms`: expected a number >= 0, found -1"),
        ("burst window without a multiplier", pacing(|p| p.burst_windows.push(BurstWindow { start_offset_secs: 1.0, duration_secs: 2.0, multiplier: 0.0 })),
         "`burst_windows[0]`: expected finite offset >= 0, duration >= 0, multiplier > 0, found BurstWindow { start_offset_secs: 1.0, duration_secs: 2.0, multiplier: 0.0 }"),
        ("out-of-order probability above 1", options(|o| o.out_of_order_probability = 1.5),
         "`out_of_order_probability`: expected a probability in [0, 1], found 1.5"),
        ("late events without lateness", options(|o| o.late_probability = 0.1),
         "`max_lateness_ms`: expected at least 1 when late_probability > 0, found 0"),
        ("paced stream with a bad pacing", options(|o| o.pacing = Some(Pacing { bucket_size: 0, ..Pacing::rate(10.0) })),
         "`bucket_size`: expected at least 1, found 0"),
        ("overflowing nexmark proportions", nexmark(|c| c.bid_proportion = u64::MAX),
         "`person_proportion + auction_proportion + bid_proportion`: expected at most 1000000, found more than u64::MAX"),
        ("nexmark without people", nexmark(|c| { c.person_proportion = 0; c.num_categories = 0 }),
         "`person_proportion`: expected at least 1, found 0; `num_categories`: expected at least 1, found 0"),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mismatches: Vec<String> = cases
        .iter()
        .filter(|(_, got, want)| got != want)
        .map(|(what, got, want)| format!("{what}:\n   got: {got:?}\n  want: {want:?}"))
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn an_unknown_row_field_fails_the_run_naming_the_nearest_field() {
    let rows = vec![Row::from_pairs([
        ("page", Value::from("/home")),
        ("ts", Value::from(1_000)),
    ])];
    let mut p = Pipeline::new(Config::default().with_name("clicks").with_parallelism(1));
    p.source(VecSource::new(rows))
        .with_event_time("ts", "1 second")
        .group_by(["pgae"])
        .window(TumblingWindow::of("1 minute"))
        .agg([agg::count("*")])
        .sink(MemorySink::new());
    let e = p.run().unwrap_err();
    assert_eq!(
        e.to_string(),
        "pipeline `clicks`, node `group_by#3` (worker 0): `group_by`: unknown field `pgae` (did you mean `page`?); the schema has [page, ts]"
    );
}

#[test]
fn a_workload_with_zero_keys_fails_at_start_naming_the_source() {
    let mut p = Pipeline::new(Config::default().with_name("w").with_parallelism(1));
    p.source(WorkloadSource::new(Workload::W1, 10).with_keys(0))
        .sink(MemorySink::new());
    assert_eq!(
        p.start().err().unwrap().to_string(),
        "pipeline `w`, node `workload_tumbling#0` (worker 0): `workload_tumbling`: invalid `keys`: expected 1 to 4294967295, found 0"
    );
}

#[test]
fn a_paced_generator_with_a_bad_pacing_fails_at_start_with_every_problem() {
    use tidewater::generators::core::GeneratorSource;
    use tidewater::generators::nexmark::NexmarkGenerator;
    let options = StreamOptions {
        pacing: Some(Pacing {
            bucket_size: 0,
            jitter_ms: f64::INFINITY,
            ..Pacing::rate(100.0)
        }),
        ..StreamOptions::default()
    };
    let generator = NexmarkGenerator::new(NexmarkConfig::default(), 7);
    let mut p = Pipeline::new(Config::default().with_name("paced").with_parallelism(1));
    p.source(GeneratorSource::new(generator).with_options(options))
        .sink(MemorySink::new());
    assert_eq!(
        p.start().err().unwrap().to_string(),
        "pipeline `paced`, node `nexmark#0` (worker 0): source `nexmark` failed: `jitter_ms`: expected a number >= 0, found inf; `bucket_size`: expected at least 1, found 0"
    );
}
