//! Genesis in one program: fit a generator to a table, sample it with and without
//! conditions, save and load the model, stream batches with metadata.
//!
//! ```text
//! cargo run --release --example genesis
//! ```

use tidewater::genesis::{
    fidelity, Conditions, FittedGenerator, Method, StreamingConfig, StreamingGenerator,
};
use tidewater::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A training table: ages, incomes that rise with age, regions, signup timestamps.
    let training: Vec<Row> = (0..2_000)
        .map(|i| {
            let age = 18 + (i * 37) % 60;
            Row::from_pairs([
                ("age", Value::Int(age)),
                (
                    "income",
                    Value::Float(18_000.0 + 900.0 * age as f64 + ((i * 7919) % 5_000) as f64),
                ),
                (
                    "region",
                    Value::from(["West", "East", "North", "South"][(i % 4) as usize]),
                ),
                (
                    "signup",
                    Value::from(format!(
                        "2025-{:02}-{:02}T12:00:00Z",
                        1 + i % 12,
                        1 + i % 28
                    )),
                ),
            ])
        })
        .collect();
    let fitted = FittedGenerator::fit(&training, Method::GaussianCopula)?.with_seed(7);
    let sample = fitted.sample(10_000);
    let report = fidelity(&training, &sample);
    for column in &report.columns {
        println!("{:<8} distance {:.4}", column.column, column.distance);
    }
    println!(
        "rank correlation error {:.4}",
        report.max_rank_correlation_error
    );

    let conditions =
        Conditions::from_json(r#"{"age": {"gte": 60}, "region": {"in": ["West", "East"]}}"#)?;
    for row in fitted.sample_where(&conditions, 3)? {
        println!("{}", serde_json::to_string(&row)?);
    }
    match fitted.sample_where(&Conditions::from_json(r#"{"age": {"gt": 120}}"#)?, 1) {
        Err(e) => println!("as expected: {e}"),
        Ok(_) => return Err("an impossible condition was met".into()),
    }

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("model.json");
    fitted.save(&path)?;
    let loaded = FittedGenerator::load(&path)?;
    assert_eq!(loaded.sample(100), fitted.sample(100));
    println!(
        "model saved and loaded: {} bytes",
        std::fs::metadata(&path)?.len()
    );

    let config = StreamingConfig {
        batch_size: 1_000,
        max_batches: Some(5),
        ..Default::default()
    };
    let mut streaming = StreamingGenerator::new(loaded, config)?;
    for batch in streaming.generate_stream() {
        let batch = batch?;
        println!(
            "{} rows, batch {}",
            batch.len(),
            batch[0]
                .get("_batch_id")
                .and_then(Value::as_str)
                .unwrap_or("")
        );
    }
    let stats = streaming.stats();
    println!(
        "{} rows in {} batches, {:.0} rows/s",
        stats.total_samples,
        stats.total_batches,
        stats.samples_per_second()
    );
    Ok(())
}
