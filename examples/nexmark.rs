//! Runs a Nexmark query over the generator and reports throughput.
//!
//! ```text
//! cargo run --release --example nexmark -- --query q5 [--events N] [--parallelism P] [--seed S]
//! ```
//!
//! Queries: q0-q8, q11. Prints the first results as JSON lines, then a
//! JSON summary line with the result count and events/s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use serde::Serialize;
use tidewater::generators::core::GeneratorSource;
use tidewater::generators::nexmark::{NexmarkConfig, NexmarkGenerator};
use tidewater::nexmark::*;
use tidewater::prelude::*;

/// Counts results and prints the first few.
fn sink<T: Serialize + Send + 'static>(stream: Stream<T>, count: Arc<AtomicU64>) {
    stream.for_each(move |r| {
        if count.fetch_add(1, Ordering::Relaxed) < 5 {
            println!("{}", serde_json::to_string(&r).unwrap_or_default());
        }
    });
}

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let mut args = std::env::args().skip(1);
    let (mut query, mut events, mut parallelism, mut seed) =
        ("q0".to_string(), 10_000_000u64, 1usize, 42u64);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--query" => query = value,
            "--events" => events = value.parse()?,
            "--parallelism" => parallelism = value.parse()?,
            "--seed" => seed = value.parse()?,
            other => bail!("unknown flag `{other}`"),
        }
    }
    let count = Arc::new(AtomicU64::new(0));
    let mut p = Pipeline::new(Config::default().with_parallelism(parallelism));
    let source = GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), seed))
        .with_max_events(events);
    let stream = with_event_time(p.source(source));
    match query.as_str() {
        "q0" => sink(q0(stream), count.clone()),
        "q1" => sink(q1(bids(stream)), count.clone()),
        "q2" => sink(q2(bids(stream)), count.clone()),
        "q3" => sink(q3(stream), count.clone()),
        "q4" => sink(q4(stream), count.clone()),
        "q5" => sink(q5(bids(stream)), count.clone()),
        "q6" => sink(q6(stream), count.clone()),
        "q7" => sink(q7(bids(stream)), count.clone()),
        "q8" => sink(q8(stream), count.clone()),
        "q11" => sink(q11(bids(stream)), count.clone()),
        other => bail!("unknown query `{other}`: q0-q8, q11"),
    }
    let started = Instant::now();
    let metrics = p.run()?;
    let seconds = started.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "query": query,
        "events": events,
        "results": count.load(Ordering::Relaxed),
        "seconds": seconds,
        "events_per_sec": events as f64 / seconds,
        "p99_ms": metrics.latency.p99_ms,
        "parallelism": parallelism,
    });
    println!("{summary}");
    Ok(())
}
