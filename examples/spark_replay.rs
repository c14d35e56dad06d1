//! Replays a Spark Structured Streaming case folder in the Spark-compatible mode and
//! prints the result rows as JSON lines in `expected.jsonl`'s format, sorted by
//! `emit_batch`, key and window start.
//!
//! ```text
//! cargo run --release --example spark_replay -- ../shared/fixtures/spark/cases/tumbling_late
//! ```

use std::io::Write;

use anyhow::Context;
use tidewater::spark::SparkCase;

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let dir = std::env::args()
        .nth(1)
        .context("usage: spark_replay CASE_DIR")?;
    let case = SparkCase::load(&dir)?;
    let rows = case.replay()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for row in rows {
        writeln!(out, "{}", row.to_json(&case.query.aggregates))?;
    }
    out.flush()?;
    Ok(())
}
