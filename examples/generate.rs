//! Writes a generator's events as JSON lines to stdout. Same arguments, same bytes.
//!
//! ```text
//! cargo run --release --example generate -- NAME [--events N] [--seed S] [--param key=value ...]
//! ```
//!
//! NAME: `nexmark`, `nexmark_bids`, or a benchmark workload `w1`/`w2`/`w3`.
//! Parameters use the documented names (`--param event_rate=1000`).

use std::io::{BufWriter, Write};

use anyhow::{bail, Context};
use serde::Serialize;
use tidewater::generators::core::Generator;
use tidewater::generators::nexmark::{BidGenerator, NexmarkConfig, NexmarkGenerator};
use tidewater::generators::workload::Workload;

struct Args {
    name: String,
    events: u64,
    seed: u64,
    params: Vec<(String, String)>,
}

fn parse() -> anyhow::Result<Args> {
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
    Ok(Args {
        name,
        events,
        seed,
        params,
    })
}

fn write_all<G: Generator>(g: &G, events: u64) -> anyhow::Result<()>
where
    G::Event: Serialize,
{
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let n = g.len().map_or(events, |len| len.min(events));
    for i in 0..n {
        serde_json::to_writer(&mut out, &g.event(i))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn nexmark_config(params: &[(String, String)]) -> anyhow::Result<NexmarkConfig> {
    let mut config = NexmarkConfig::default();
    for (k, v) in params {
        config.set(k, v)?;
    }
    if let Err(problems) = config.validate() {
        bail!(problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "));
    }
    Ok(config)
}

fn main() -> anyhow::Result<()> {
    let args = parse()?;
    match args.name.as_str() {
        "nexmark" => write_all(
            &NexmarkGenerator::new(nexmark_config(&args.params)?, args.seed),
            args.events,
        ),
        "nexmark_bids" => write_all(
            &BidGenerator::new(nexmark_config(&args.params)?, args.seed),
            args.events,
        ),
        name => match Workload::parse(name) {
            Some(workload) => {
                if let Some((k, _)) = args.params.first() {
                    bail!("unknown parameter `{k}` for `{name}`: the workloads have none");
                }
                let stdout = std::io::stdout();
                let mut out = BufWriter::new(stdout.lock());
                for i in 0..args.events {
                    serde_json::to_writer(&mut out, &workload.event(i))?;
                    out.write_all(b"\n")?;
                }
                out.flush()?;
                Ok(())
            }
            None => bail!("unknown generator `{name}`: nexmark, nexmark_bids, w1, w2, w3"),
        },
    }
}
