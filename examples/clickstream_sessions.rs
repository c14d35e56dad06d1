//! Clickstream -> session windows -> engagement per user session.
//!
//! Simulates a day of web traffic, streams the page views through 30-minute session
//! windows per user, and compares what the pipeline found with the simulator's own
//! session table.
//!
//! ```text
//! cargo run --release --example clickstream_sessions -- [--users N]
//! ```

use anyhow::Context;
use tidewater::generators::clickstream::{ClickstreamConfig, ClickstreamSimulator, PageView};
use tidewater::prelude::*;

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let users: u64 = match std::env::args().nth(1).as_deref() {
        Some("--users") => std::env::args()
            .nth(2)
            .context("--users needs a value")?
            .parse()?,
        _ => 5_000,
    };
    let config = ClickstreamConfig {
        users,
        ..ClickstreamConfig::default()
    };
    let result = ClickstreamSimulator::new(config)?.run();
    println!("simulated: {}", serde_json::to_string(&result.stats)?);

    let views: Vec<Record<PageView>> = result
        .page_views
        .into_iter()
        .map(|v| Record::new(v.ts, v))
        .collect();
    let sessions = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_name("clickstream"));
    p.source(VecSource::from_records(views))
        .filter(|v: &PageView| !v.is_bot)
        .with_watermark(Watermark::bounded("1 minute", |v: &PageView| v.ts))
        .key_by(|v: &PageView| v.user_id)
        .window(SessionWindow::with_gap("30 minutes"))
        .aggregate((Count, Sum::of(|v: &PageView| v.dwell_ms)))
        .sink(sessions.clone());
    let metrics = p.run()?;

    let found = sessions.values();
    let single = found.iter().filter(|s| s.value.0 == 1).count();
    let dwell_min: i64 = found.iter().map(|s| s.value.1).sum::<i64>() / 60_000;
    println!(
        "pipeline: {} user sessions (30 min gap) from {} page views, {} with a single page, {} minutes on site, {:.1} M views/s",
        found.len(),
        metrics.source_records,
        single,
        dwell_min,
        metrics.events_per_sec / 1e6,
    );
    Ok(())
}
