//! Operational logs -> per-service error rate over 1-minute windows -> outage alerts,
//! compared with the outages the simulator injected.
//!
//! ```text
//! cargo run --release --example service_health
//! ```

use tidewater::generators::oplogs::{
    LogEvent, LogLevel, OperationalLogConfig, OperationalLogSimulator,
};
use tidewater::prelude::*;

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let config = OperationalLogConfig {
        events_per_hour: 3_000.0,
        outage_probability: 0.05,
        ..Default::default()
    };
    let result = OperationalLogSimulator::new(config)?.run();
    let records: Vec<Record<LogEvent>> = result
        .logs
        .into_iter()
        .map(|l| Record::new(l.timestamp, l))
        .collect();
    let alerts = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_name("service-health"));
    p.source(VecSource::from_records(records))
        .with_watermark(Watermark::bounded("5 seconds", |l: &LogEvent| l.timestamp))
        .key_by(|l: &LogEvent| l.service.clone())
        .window(TumblingWindow::of("1 minute"))
        .aggregate((
            Count,
            Sum::of(|l: &LogEvent| (l.level == LogLevel::Error) as u64),
        ))
        .filter(|w| w.value.0 >= 10 && w.value.1 * 2 > w.value.0)
        .sink(alerts.clone());
    let metrics = p.run()?;
    let minutes = alerts.len();
    println!(
        "{} outages injected ({} minutes); {} service-minutes with an error rate above 50% ({:.1} M logs/s)",
        result.stats.outages,
        result.service_health.iter().map(|h| h.outage_minutes).sum::<f64>(),
        minutes,
        metrics.events_per_sec / 1e6
    );
    Ok(())
}
