//! IoT telemetry -> 5-minute windows per device -> a Delta Lake table, exactly-once
//! (one Delta commit per checkpoint, marked with the run's transaction id), partitioned
//! by day; then the table is read back and its history shown.
//!
//! ```text
//! cargo run --release --example delta_table -- [TABLE_DIR]
//! ```
//!
//! Run it twice on the same folder: the second run appends a second run's commits
//! (its own transaction id). Python's `deltalake.DeltaTable(TABLE_DIR)` and Spark read
//! the table.

use std::time::Duration;

use tidewater::connectors::delta::{DeltaSink, DeltaSource, DeltaSourceConfig};
use tidewater::connectors::file::FileSinkMode;
use tidewater::generators::iot::{IotTelemetryConfig, IotTelemetrySimulator, Reading};
use tidewater::prelude::*;

/// One row of the table.
#[derive(serde::Serialize, Clone)]
struct DeviceWindow {
    day: String,
    device: String,
    window_start: i64,
    readings: u64,
    max_drift: f64,
}

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let table = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("tidewater-delta-example"),
        std::path::PathBuf::from,
    );
    let checkpoints = tempfile::tempdir()?;
    let result = IotTelemetrySimulator::new(IotTelemetryConfig {
        fleet_size: 50,
        ..Default::default()
    })?
    .run();
    let records: Vec<Record<Reading>> = result
        .readings
        .into_iter()
        .map(|r| Record::new(r.reading_time, r))
        .collect();
    let mut p = Pipeline::new(
        Config::default()
            .with_name("delta_example")
            .with_parallelism(2)
            .with_checkpointing(
                checkpoints.path(),
                Duration::from_millis(20),
                DeliveryGuarantee::ExactlyOnce,
            ),
    );
    p.source(VecSource::from_records(records))
        .with_watermark(Watermark::bounded("10 seconds", |r: &Reading| {
            r.reading_time
        }))
        .key_by(|r: &Reading| r.device_id.clone())
        .window(TumblingWindow::of("5 minutes"))
        .aggregate((Count, Max::of(|r: &Reading| r.drift.abs())))
        .map(|w| DeviceWindow {
            day: chrono::DateTime::from_timestamp_millis(w.window_start)
                .map(|t| t.date_naive().to_string())
                .unwrap_or_default(),
            device: w.key,
            window_start: w.window_start,
            readings: w.value.0,
            max_drift: w.value.1,
        })
        .sink(DeltaSink::new(&table, FileSinkMode::Transactional).partition_by(["day"]));
    let metrics = p.run()?;
    println!(
        "read {} readings into {} ({} checkpoints)",
        metrics.source_records,
        table.display(),
        metrics.checkpoints.map_or(0, |c| c.completed)
    );

    let rows = MemorySink::new();
    let mut read = Pipeline::new(Config::default().with_name("delta_read"));
    read.source(DeltaSource::new(DeltaSourceConfig::new(&table)))
        .dead_letters(MemorySink::new())
        .sink(rows.clone());
    read.run()?;
    let days: std::collections::BTreeSet<String> = rows
        .values()
        .iter()
        .filter_map(|r: &Row| r.get("day").and_then(Value::as_str).map(String::from))
        .collect();
    println!("the table holds {} rows over days {days:?}", rows.len());
    let commits = std::fs::read_dir(table.join("_delta_log"))?
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    println!("its log has {commits} commits");
    Ok(())
}
