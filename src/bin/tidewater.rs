//! The `tidewater` command.
//!
//! ```text
//! tidewater [demo] [--events N] [--keys K] [--parallelism P]   windowed counts over a generator
//! tidewater spark-replay CASE_DIR                               replay a Spark golden case
//! ```

use std::process::ExitCode;

use serde::Serialize;
use tidewater::prelude::*;
use tidewater::spark::SparkCase;

const USAGE: &str = "usage:
  tidewater [demo] [--events N] [--keys K] [--parallelism P]
  tidewater spark-replay CASE_DIR";

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

fn flag(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .ok_or_else(|| format!("{name} needs a value"))?
            .parse()
            .map_err(|e| format!("{name}: {e}")),
    }
}

/// The main job: the W1 generator (100 000 events per event-second), 1-second tumbling
/// windows per key with count, sum and average, printed as JSON lines; then the run's
/// metrics on stderr.
fn demo(args: &[String]) -> Result<(), String> {
    let events = flag(args, "--events", 500_000)?;
    let keys = flag(args, "--keys", 4)?;
    let parallelism = flag(args, "--parallelism", 2)? as usize;
    let mut p = Pipeline::new(
        Config::default()
            .with_name("demo")
            .with_parallelism(parallelism),
    );
    p.source(WorkloadSource::new(Workload::W1, events).with_keys(keys))
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
    let metrics = p.run().map_err(|e| e.to_string())?;
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

fn spark_replay(args: &[String]) -> Result<(), String> {
    let dir = args.first().ok_or(USAGE)?;
    let case = SparkCase::load(dir).map_err(|e| e.to_string())?;
    for row in case.replay().map_err(|e| e.to_string())? {
        println!("{}", row.to_json(&case.query.aggregates));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None => demo(&[]),
        Some("demo") => demo(&args[1..]),
        Some(a) if a.starts_with("--") => demo(&args),
        Some("spark-replay") => spark_replay(&args[1..]),
        Some("help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
