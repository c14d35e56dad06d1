//! The `tidewater` command: the demo job and the Spark case replayer.
//!
//! ```text
//! tidewater [demo] [--events N] [--keys K] [--parallelism P]   windowed counts over a generator
//! tidewater spark-replay CASE_DIR                               replay a Spark golden case
//! ```
//!
//! Logs go to stderr through `tracing`; `RUST_LOG=info` (or `debug`) shows them.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use tidewater::prelude::*;
use tidewater::spark::SparkCase;

/// Windowed stream processing with embedded synthetic sources.
#[derive(Debug, Parser)]
#[command(
    name = "tidewater",
    version,
    after_help = "Examples:
  tidewater                                   the demo: 500 000 events, 4 keys, 1 s windows
  tidewater demo --events 2000000 --keys 16 --parallelism 2
  tidewater spark-replay ../shared/fixtures/spark/cases/tumbling_late
  RUST_LOG=info tidewater demo                the same, with logs on stderr"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Options of the demo when no command is given.
    #[command(flatten)]
    demo: DemoArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// W1 events -> 1 s tumbling windows per key -> JSON lines (the default).
    Demo(DemoArgs),
    /// Replays a Spark golden case folder and prints its rows as JSON lines.
    SparkReplay {
        /// The case folder (holding query.json, batches and expected.jsonl).
        case_dir: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Events to generate.
    #[arg(long, default_value_t = 500_000)]
    events: u64,
    /// Distinct keys (1 to 4294967295).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=u32::MAX as u64))]
    keys: u64,
    /// Worker threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=1024))]
    parallelism: u64,
}

/// One line of the demo's output.
#[derive(Debug, Serialize)]
struct WindowLine {
    key: u32,
    window_start: i64,
    window_end: i64,
    count: u64,
    sum: u64,
    avg: Option<f64>,
}

/// The main job: the W1 generator (100 000 events per event-second), 1-second tumbling
/// windows per key with count, sum and average, printed as JSON lines; then the run's
/// metrics on stderr.
fn demo(args: &DemoArgs) -> Result<(), EngineError> {
    let mut p = Pipeline::new(
        Config::default()
            .with_name("demo")
            .with_parallelism(args.parallelism as usize),
    );
    p.source(WorkloadSource::new(Workload::W1, args.events).with_keys(args.keys))
        .with_watermark(Watermark::bounded("1 second", |e: &WorkloadEvent| e.ts))
        .key_by(|e: &WorkloadEvent| e.key)
        .window(TumblingWindow::of("1 second"))
        .aggregate((
            Count,
            Sum::of(|e: &WorkloadEvent| e.value as u64),
            Avg::of(|e: &WorkloadEvent| e.value),
        ))
        .map(|r| WindowLine {
            key: r.key,
            window_start: r.window_start,
            window_end: r.window_end,
            count: r.value.0,
            sum: r.value.1,
            avg: r.value.2,
        })
        .sink(ConsoleSink::json());
    let metrics = p.run()?;
    eprintln!(
        "demo: {} events in {:.3} s ({:.1} M events/s), {} windows, latency p50 {:.3} ms p99 {:.3} ms",
        metrics.source_records,
        metrics.elapsed.as_secs_f64(),
        metrics.events_per_sec / 1e6,
        metrics.operator("window").map_or(0, |o| o.records_out),
        metrics.latency.p50_ms,
        metrics.latency.p99_ms,
    );
    Ok(())
}

fn spark_replay(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let case = SparkCase::load(dir)?;
    for row in case.replay()? {
        println!("{}", row.to_json(&case.query.aggregates));
    }
    Ok(())
}

fn main() -> ExitCode {
    tidewater::logging::init();
    let cli = Cli::parse();
    let result: Result<(), Box<dyn std::error::Error>> = match &cli.command {
        None => demo(&cli.demo).map_err(Into::into),
        Some(Command::Demo(args)) => demo(args).map_err(Into::into),
        Some(Command::SparkReplay { case_dir }) => spark_replay(case_dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
