//! A name-based pipeline over dynamic rows, as a Spark DataFrame job would be written:
//! event time by field name, `group_by` column names and `agg` expressions with aliases.
//!
//! ```text
//! cargo run --release --example rows
//! ```

use serde::Serialize;
use tidewater::engine::row::agg::{avg, count, max, sum};
use tidewater::prelude::*;

#[derive(Serialize)]
struct Order {
    store: &'static str,
    category: &'static str,
    amount: f64,
    ts: i64,
}

fn main() -> Result<()> {
    tidewater::logging::init();
    let stores = ["north", "south", "east"];
    let categories = ["books", "games"];
    let rows: Vec<Row> = (0..3_000)
        .map(|i| Order {
            store: stores[i % 3],
            category: categories[(i / 3) % 2],
            amount: (i % 50) as f64 * 1.25,
            ts: 1_700_000_000_000 + i as i64 * 200,
        })
        .map(|o| Row::from_serde(&o))
        .collect::<Result<_>>()?;

    let mut p = Pipeline::new(Config::default().with_name("orders"));
    p.source(VecSource::new(rows))
        .with_event_time("ts", "5 seconds")
        .group_by(["store", "category"])
        .window(TumblingWindow::of("5 minutes"))
        .agg([
            count("*").alias("orders"),
            sum("amount").alias("revenue"),
            avg("amount"),
            max("amount"),
        ])
        .sink(ConsoleSink::json());
    p.run()?;
    Ok(())
}
