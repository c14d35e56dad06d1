//! Writes a generator's events as JSON lines to stdout. Same arguments, same bytes.
//! The `tidewater generate` command does the same and also writes CSV, Parquet and
//! Kafka; see `tidewater::generate` for the names.
//!
//! ```text
//! cargo run --release --example generate -- NAME [--events N] [--seed S] [--param key=value ...]
//! ```

use std::io::{BufWriter, Write};

use anyhow::{bail, Context};
use tidewater::generate::{generate, Generate};

fn parse() -> anyhow::Result<Generate> {
    let mut args = std::env::args().skip(1);
    let name = args
        .next()
        .context("usage: generate NAME [--events N] [--seed S] [--param key=value ...]")?;
    let (mut events, mut seed, mut params) = (10, 42, Vec::new());
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--events" => events = value.parse().context("--events")?,
            "--seed" => seed = value.parse().context("--seed")?,
            "--param" => {
                let (k, v) = value
                    .split_once('=')
                    .with_context(|| format!("--param {value}: expected key=value"))?;
                params.push((k.to_string(), v.to_string()));
            }
            other => bail!("unknown flag `{other}`"),
        }
    }
    Ok(Generate {
        name,
        events,
        seed,
        params,
    })
}

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let values = generate(&parse()?)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for value in &values {
        serde_json::to_writer(&mut out, value)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
