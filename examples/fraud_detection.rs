//! Financial stream -> per-account sliding windows (10 minutes, every minute) -> accounts
//! with a burst of large transactions, compared with the fraud bursts the simulator
//! injected.
//!
//! ```text
//! cargo run --release --example fraud_detection
//! ```

use std::collections::BTreeSet;

use tidewater::generators::financial::{
    FinancialStreamConfig, FinancialStreamSimulator, Transaction,
};
use tidewater::prelude::*;

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let config = FinancialStreamConfig {
        duration_hours: 72.0,
        fraud_burst_probability: 0.05,
        ..Default::default()
    };
    let result = FinancialStreamSimulator::new(config)?.run();
    let injected: BTreeSet<String> = result
        .fraud_events
        .iter()
        .map(|t| t.account_id.clone())
        .collect();
    let records: Vec<Record<Transaction>> = result
        .transactions
        .into_iter()
        .map(|t| Record::new(t.transaction_time, t))
        .collect();
    let alerts = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_name("fraud"));
    p.source(VecSource::from_records(records))
        .filter(|t: &Transaction| t.amount >= 500.0)
        .with_watermark(Watermark::bounded("30 seconds", |t: &Transaction| {
            t.transaction_time
        }))
        .key_by(|t: &Transaction| t.account_id.clone())
        .window(SlidingWindow::of("10 minutes", "1 minute"))
        .aggregate((Count, Sum::of(|t: &Transaction| t.amount)))
        .filter(|w| w.value.0 >= 5)
        .sink(alerts.clone());
    p.run()?;
    let flagged: BTreeSet<String> = alerts.values().into_iter().map(|w| w.key).collect();
    let caught = injected.intersection(&flagged).count();
    println!(
        "{} fraud bursts injected on {} accounts; {} accounts flagged, {} of them injected ({} false alarms)",
        result.stats.fraud_bursts,
        injected.len(),
        flagged.len(),
        caught,
        flagged.len() - caught
    );
    Ok(())
}
