//! The batch side: the retail domain landed as daily file drops (Parquet, with
//! manifests, late rows and duplicates) and as SCD2 deltas, then read back and counted
//! per partition by a pipeline.
//!
//! ```text
//! cargo run --release --example landing_zone -- [OUTPUT_DIR]
//! ```

use tidewater::generators::filedrop::{FileDropConfig, FileDropSimulator};
use tidewater::generators::retail::{RetailDomain, Scale};
use tidewater::generators::scd2::{Scd2FileDropConfig, Scd2FileDropSimulator};
use tidewater::prelude::*;
use tidewater_formats::{read_rows, FileFormat};

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let out = std::env::args().nth(1).unwrap_or_else(|| {
        std::env::temp_dir()
            .join("tidewater-landing")
            .display()
            .to_string()
    });
    let tables = RetailDomain::new(Scale::Small, 42).generate();
    let drops = FileDropSimulator::new(
        &tables,
        FileDropConfig {
            domain: "retail".into(),
            base_path: out.clone(),
            date_range_start: "2024-01-01".into(),
            date_range_end: "2024-01-14".into(),
            entities: vec!["orders".into()],
            duplicates_enabled: true,
            ..Default::default()
        },
    )?
    .run()?;
    println!(
        "file drop: {} files, {} manifests, stats {}",
        drops.files_written.len(),
        drops.manifest_paths.len(),
        serde_json::to_string(&drops.stats)?
    );
    let scd2 = Scd2FileDropSimulator::new(
        &tables,
        Scd2FileDropConfig {
            domain: "retail".into(),
            base_path: out.clone(),
            entities: vec!["customers".into()],
            business_key_column: "customer_id".into(),
            scd2_columns: vec!["segment".into()],
            num_delta_days: 7,
            ..Default::default()
        },
    )?
    .run()?;
    println!(
        "scd2: {} deltas, stats {}",
        scd2.delta_paths.len(),
        serde_json::to_string(&scd2.stats)?
    );

    // Read the landed orders back and count them per partition day with a pipeline.
    let mut rows = Vec::new();
    for path in &drops.files_written {
        let day = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for row in read_rows(path, FileFormat::Parquet)? {
            rows.push((day.clone(), row));
        }
    }
    let counts = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    p.source(VecSource::new(rows))
        .map(|(day, row): (String, Row)| {
            (
                day,
                row.get("order_id").and_then(Value::as_i64).unwrap_or(0),
            )
        })
        .with_watermark(Watermark::monotonic(|_: &(String, i64)| 0))
        .key_by(|r: &(String, i64)| r.0.clone())
        .window(TumblingWindow::of("1 day"))
        .aggregate(Count)
        .sink(counts.clone());
    p.run()?;
    let mut per_day: Vec<(String, u64)> = counts
        .values()
        .into_iter()
        .map(|r| (r.key, r.value))
        .collect();
    per_day.sort();
    println!("orders landed per partition: {per_day:?}");
    println!("written under {out}");
    Ok(())
}
