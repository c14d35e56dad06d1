//! A paced Nexmark pipeline with the metrics and dashboard server on: open the
//! printed address in a browser, scrape `/metrics` with Prometheus.
//!
//! ```text
//! cargo run --release --example dashboard -- [--http 127.0.0.1:9898] [--rate 50000]
//!     [--seconds 120] [--parallelism 2]
//! ```
//!
//! Bids are counted per auction group in 10-second tumbling windows; the watermark
//! allows no disorder, so Nexmark's out-of-order bids show up as late records
//! in the side output. Checkpoints every 2 s into a temporary folder; explanations on,
//! so the explain view can tell the story of any window that fired.

use std::time::Duration;

use anyhow::Context;
use tidewater::generators::core::{GeneratorSource, Pacing};
use tidewater::generators::nexmark::{Bid, NexmarkConfig, NexmarkGenerator};
use tidewater::prelude::*;

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let mut args = std::env::args().skip(1);
    let (mut http, mut rate, mut seconds, mut parallelism) =
        ("127.0.0.1:9898".to_string(), 50_000u64, 120u64, 2usize);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--http" => http = value,
            "--rate" => rate = value.parse()?,
            "--seconds" => seconds = value.parse()?,
            "--parallelism" => parallelism = value.parse()?,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    let checkpoints = tempfile::tempdir()?;
    let config = Config::default()
        .with_name("nexmark-dashboard")
        .with_parallelism(parallelism)
        .with_explain(true)
        .with_checkpointing(
            checkpoints.path(),
            Duration::from_secs(2),
            DeliveryGuarantee::AtLeastOnce,
        )
        .with_http(http);
    let processor = bid_counts(config, rate)?.start()?;
    let addr = processor.http_addr().context("the server did not start")?;
    eprintln!("dashboard: http://{addr}/   metrics: http://{addr}/metrics   ({seconds} s)");
    if !processor.await_termination(Some(Duration::from_secs(seconds))) {
        processor.stop(true);
    }
    let metrics = processor.join()?;
    eprintln!(
        "read {} events, {} late, {} checkpoints",
        metrics.source_records,
        metrics.late_dropped,
        metrics.checkpoints.map_or(0, |c| c.completed)
    );
    Ok(())
}

/// Nexmark at `rate` events/s -> bids -> per auction group, 10 s tumbling counts; late
/// bids to a side output.
fn bid_counts(config: Config, rate: u64) -> anyhow::Result<Pipeline> {
    let source = GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 7))
        .realtime(Pacing::rate(rate as f64));
    let mut p = Pipeline::new(config);
    tidewater::nexmark::bids(p.source(source))
        .with_watermark(Watermark::bounded("0 ms", |b: &Bid| b.date_time))
        .key_by(|b: &Bid| b.auction % 100)
        .window(TumblingWindow::of("10 seconds"))
        .late_records(FnSink::new(|_: Bid| {}))
        .aggregate(Count)
        .sink(FnSink::new(|_: WindowResult<u64, u64>| {}));
    Ok(p)
}
