//! IoT telemetry -> 5-minute windows per device -> devices whose readings went missing
//! or drifted, next to what the simulator says it injected.
//!
//! ```text
//! cargo run --release --example iot_alerts
//! ```

use tidewater::generators::iot::{IotTelemetryConfig, IotTelemetrySimulator, Reading};
use tidewater::prelude::*;

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let config = IotTelemetryConfig {
        fleet_size: 200,
        drift_rate: 0.05,
        ..Default::default()
    };
    let result = IotTelemetrySimulator::new(config)?.run();
    println!("simulated: {}", serde_json::to_string(&result.stats)?);
    let records: Vec<Record<Reading>> = result
        .readings
        .into_iter()
        .map(|r| Record::new(r.reading_time, r))
        .collect();
    let windows = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_name("iot"));
    p.source(VecSource::from_records(records))
        .with_watermark(Watermark::bounded("10 seconds", |r: &Reading| {
            r.reading_time
        }))
        .key_by(|r: &Reading| r.device_id.clone())
        .window(TumblingWindow::of("5 minutes"))
        .aggregate((
            Count,
            Sum::of(|r: &Reading| r.value.is_none() as u64),
            Max::of(|r: &Reading| r.drift.abs()),
        ))
        .sink(windows.clone());
    let metrics = p.run()?;
    let rows = windows.values();
    let gappy = rows.iter().filter(|w| w.value.1 >= 2).count();
    let drifted: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter(|w| w.value.2 > 0.5)
        .map(|w| w.key.as_str())
        .collect();
    println!(
        "pipeline: {} device windows, {} with 2+ missing readings, {} devices drifted by > 0.5, {:.1} M readings/s",
        rows.len(),
        gappy,
        drifted.len(),
        metrics.events_per_sec / 1e6
    );
    Ok(())
}
