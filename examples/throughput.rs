//! Throughput harness for the workloads of `BENCHMARKS.md`: generator to sink, end to end.
//!
//! ```text
//! cargo run --release --example throughput -- --query tumbling|sliding|session \
//!     --events N [--keys K] [--parallelism P] [--batch-size B] [--checkpoint-interval-ms I] \
//!     [--local-aggregation on|off]
//! ```
//!
//! Prints the result checks, then one JSON line:
//! `{"query":..,"events":..,"seconds":..,"events_per_sec":..,"p50_ms":..,"p99_ms":..,"p999_ms":..,...}`.
//! `seconds` runs from the first event generated to the last result received;
//! `process_seconds` from the start of the process to the last result.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use tidewater::bench::workload_counts;
use tidewater::prelude::*;

struct Args {
    workload: Workload,
    events: u64,
    keys: u64,
    parallelism: usize,
    batch_size: usize,
    checkpoint_interval_ms: Option<u64>,
    /// Two-phase window aggregation at parallelism > 1 (`--local-aggregation off`
    /// sends every record through the exchange, to compare the plans).
    local_aggregation: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = std::env::args().skip(1);
    let (mut workload, mut events, mut keys, mut parallelism, mut batch_size) =
        (Workload::W1, 10_000_000, None, 1, 1024);
    let mut checkpoint = None;
    let mut local_aggregation = true;
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--query" => {
                let q = value()?;
                workload = Workload::parse(&q).with_context(|| {
                    format!("unknown query `{q}`: tumbling, sliding or session")
                })?;
            }
            "--events" => events = value()?.parse().context("--events")?,
            "--keys" => keys = Some(value()?.parse().context("--keys")?),
            "--parallelism" => parallelism = value()?.parse().context("--parallelism")?,
            "--batch-size" => batch_size = value()?.parse().context("--batch-size")?,
            "--checkpoint-interval-ms" => {
                checkpoint = Some(value()?.parse().context("--checkpoint-interval-ms")?)
            }
            "--local-aggregation" => {
                local_aggregation = match value()?.as_str() {
                    "on" => true,
                    "off" => false,
                    v => bail!("--local-aggregation takes on or off, not `{v}`"),
                }
            }
            other => bail!("unknown flag `{other}`"),
        }
    }
    let keys = keys.unwrap_or(workload.keys());
    if !(1..=u32::MAX as u64).contains(&keys) {
        bail!("--keys must be 1 to {}, not {keys}", u32::MAX);
    }
    if parallelism == 0 || batch_size == 0 {
        bail!("--parallelism and --batch-size must be at least 1");
    }
    Ok(Args {
        workload,
        events,
        keys,
        parallelism,
        batch_size,
        checkpoint_interval_ms: checkpoint,
        local_aggregation,
    })
}

/// Counts result rows and sums their counts; each worker counts locally and publishes
/// its totals once, at end of input, so the sink adds no shared-memory traffic.
struct CountingSink {
    rows: Arc<AtomicU64>,
    sum: Arc<AtomicU64>,
}

struct CountingWriter {
    rows: u64,
    sum: u64,
    totals: (Arc<AtomicU64>, Arc<AtomicU64>),
}

impl Sink<WindowResult<u32, u64>> for CountingSink {
    type Writer = CountingWriter;

    fn name(&self) -> String {
        "counting_sink".into()
    }

    fn create_writer(
        &self,
        _worker: &WorkerInfo,
    ) -> tidewater::engine::error::Result<CountingWriter> {
        Ok(CountingWriter {
            rows: 0,
            sum: 0,
            totals: (self.rows.clone(), self.sum.clone()),
        })
    }
}

impl SinkWriter<WindowResult<u32, u64>> for CountingWriter {
    fn write_batch(
        &mut self,
        batch: Batch<WindowResult<u32, u64>>,
    ) -> tidewater::engine::error::Result<()> {
        self.rows += batch.len() as u64;
        self.sum += batch.iter().map(|r| r.value.value).sum::<u64>();
        Ok(())
    }

    fn finish(&mut self) -> tidewater::engine::error::Result<()> {
        self.totals.0.fetch_add(self.rows, Ordering::Relaxed);
        self.totals.1.fetch_add(self.sum, Ordering::Relaxed);
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let process_started = Instant::now();
    let args = parse_args()?;
    let rows = Arc::new(AtomicU64::new(0));
    let sum = Arc::new(AtomicU64::new(0));
    let (r, s) = (rows.clone(), sum.clone());
    let config = Config::default()
        .with_parallelism(args.parallelism)
        .with_batch_size(args.batch_size)
        .with_local_aggregation(args.local_aggregation);
    // Checkpoints (at-least-once: the counting sink is not transactional) go to a fresh
    // folder, removed at the end.
    let checkpoint_dir =
        std::env::temp_dir().join(format!("tidewater-throughput-{}", std::process::id()));
    let config = match args.checkpoint_interval_ms {
        Some(ms) => config.with_checkpointing(
            &checkpoint_dir,
            std::time::Duration::from_millis(ms),
            tidewater::engine::config::DeliveryGuarantee::AtLeastOnce,
        ),
        None => config,
    };
    let mut p = Pipeline::new(config);
    workload_counts(&mut p, args.workload, args.events, args.keys)
        .sink(CountingSink { rows: r, sum: s });
    let started = Instant::now();
    let metrics = p.run()?;
    let seconds = started.elapsed().as_secs_f64();
    // The whole process up to the last result: start-up, plan building, the run. The
    // result check below recomputes the expected figures independently and is not part
    // of what is measured.
    let process_seconds = process_started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&checkpoint_dir);

    let (rows, sum) = (rows.load(Ordering::Relaxed), sum.load(Ordering::Relaxed));
    let (expected_rows, expected_sum) = args.workload.expected(args.events, args.keys);
    let pass = rows == expected_rows && sum == expected_sum;
    eprintln!(
        "check {}: rows {rows} (expected {expected_rows}), sum of counts {sum} (expected {expected_sum})",
        if pass { "PASS" } else { "FAIL" }
    );
    let line = serde_json::json!({
        "query": args.workload.query(),
        "events": args.events,
        "seconds": seconds,
        "process_seconds": process_seconds,
        "events_per_sec": args.events as f64 / seconds,
        "p50_ms": metrics.latency.p50_ms,
        "p99_ms": metrics.latency.p99_ms,
        "p999_ms": metrics.latency.p999_ms,
        "parallelism": args.parallelism,
        "local_aggregation": args.local_aggregation,
        "keys": args.keys,
        "rows": rows,
        "sum": sum,
        "expected_rows": expected_rows,
        "expected_sum": expected_sum,
        "check": if pass { "pass" } else { "fail" },
        "checkpoints": metrics.checkpoints.as_ref().map(|c| c.completed),
        "checkpoint_p50_ms": metrics.checkpoints.as_ref().map(|c| c.p50_ms),
        "checkpoint_p99_ms": metrics.checkpoints.as_ref().map(|c| c.p99_ms),
    });
    println!("{line}");
    if !pass {
        std::process::exit(1);
    }
    Ok(())
}
