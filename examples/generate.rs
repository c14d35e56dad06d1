//! Writes a generator's events as JSON lines to stdout. Same arguments, same bytes.
//!
//! ```text
//! cargo run --release --example generate -- NAME [--events N] [--seed S] [--param key=value ...]
//! ```
//!
//! NAME: `nexmark`, `nexmark_bids`, `clickstream` (its page views) or a table of a
//! simulator (`clickstream.sessions`, `clickstream.page_views`, `clickstream.funnels`),
//! a retail domain table (`retail.orders`, `--param scale=small|medium|large`), the
//! streamer's events of one (`stream.orders`), the emitter's envelopes (`emitter`), or the
//! files a landing simulator writes (`filedrop`, `scd2`: one `{"path": ..}` line each;
//! set `--param base_path=DIR`),
//! or a benchmark workload `w1`/`w2`/`w3`. Parameters use the documented names
//! (`--param event_rate=1000`, `--param bounce_rate=0.2`; for `workflow`,
//! `--param preset=support_ticket`); `--events` caps the rows.

use std::io::{BufWriter, Write};

use anyhow::{bail, Context};
use serde::Serialize;
use tidewater::generators::clickstream::{ClickstreamConfig, ClickstreamSimulator};
use tidewater::generators::core::{apply_params, Generator};
use tidewater::generators::emitter::{StreamEmitConfig, StreamEmitter};
use tidewater::generators::filedrop::{FileDropConfig, FileDropSimulator};
use tidewater::generators::financial::{FinancialStreamConfig, FinancialStreamSimulator};
use tidewater::generators::iot::{IotTelemetryConfig, IotTelemetrySimulator};
use tidewater::generators::nexmark::{BidGenerator, NexmarkConfig, NexmarkGenerator};
use tidewater::generators::oplogs::{OperationalLogConfig, OperationalLogSimulator};
use tidewater::generators::retail::{RetailDomain, Scale};
use tidewater::generators::scd2::{Scd2FileDropConfig, Scd2FileDropSimulator};
use tidewater::generators::streamer::{AnomalyRegistry, TableStream};
use tidewater::generators::workflow::{WorkflowConfig, WorkflowPreset, WorkflowSimulator};
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
    let config = apply_params("nexmark", NexmarkConfig::default(), params)?;
    config.validate()?;
    Ok(config)
}

fn write_rows<T: Serialize>(rows: &[T], limit: u64) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for row in rows.iter().take(limit as usize) {
        serde_json::to_writer(&mut out, row)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn workflow(table: &str, args: &Args) -> anyhow::Result<()> {
    let preset = args
        .params
        .iter()
        .find(|(k, _)| k == "preset")
        .map_or("order_fulfillment", |(_, v)| v.as_str());
    let params: Vec<(String, String)> = args
        .params
        .iter()
        .filter(|(k, _)| k != "preset")
        .cloned()
        .collect();
    let config = WorkflowConfig {
        seed: args.seed,
        ..WorkflowConfig::preset(preset.parse::<WorkflowPreset>()?)
    };
    let config = apply_params("workflow", config, &params)?;
    let result = WorkflowSimulator::new(config)?.run();
    match table {
        "events" => write_rows(&result.events, args.events),
        "entity_summary" => write_rows(&result.entity_summary, args.events),
        other => bail!("unknown workflow table `{other}`: events, entity_summary"),
    }
}

fn iot(table: &str, args: &Args) -> anyhow::Result<()> {
    let config = IotTelemetryConfig {
        seed: args.seed,
        ..IotTelemetryConfig::default()
    };
    let config = apply_params("iot", config, &args.params)?;
    let result = IotTelemetrySimulator::new(config)?.run();
    match table {
        "readings" => write_rows(&result.readings, args.events),
        "alerts" => write_rows(&result.alerts, args.events),
        "fleet_status" => write_rows(&result.fleet_status, args.events),
        other => bail!("unknown iot table `{other}`: readings, alerts, fleet_status"),
    }
}

fn financial(table: &str, args: &Args) -> anyhow::Result<()> {
    let config = FinancialStreamConfig {
        seed: args.seed,
        ..FinancialStreamConfig::default()
    };
    let config = apply_params("financial", config, &args.params)?;
    let result = FinancialStreamSimulator::new(config)?.run();
    match table {
        "transactions" => write_rows(&result.transactions, args.events),
        "reversals" => write_rows(&result.reversals, args.events),
        "fraud_events" => write_rows(&result.fraud_events, args.events),
        "settlements" => write_rows(&result.settlements, args.events),
        other => bail!(
            "unknown financial table `{other}`: transactions, reversals, fraud_events, settlements"
        ),
    }
}

fn oplogs(table: &str, args: &Args) -> anyhow::Result<()> {
    let config = OperationalLogConfig {
        seed: args.seed,
        ..OperationalLogConfig::default()
    };
    let config = apply_params("oplogs", config, &args.params)?;
    let result = OperationalLogSimulator::new(config)?.run();
    match table {
        "logs" => write_rows(&result.logs, args.events),
        "traces" => write_rows(&result.traces, args.events),
        "service_health" => write_rows(&result.service_health, args.events),
        other => bail!("unknown oplogs table `{other}`: logs, traces, service_health"),
    }
}

fn retail(table: &str, args: &Args) -> anyhow::Result<()> {
    let mut scale = Scale::Small;
    for (k, v) in &args.params {
        match k.as_str() {
            "scale" => scale = v.parse()?,
            other => bail!("unknown parameter `{other}` for `retail`; known: scale"),
        }
    }
    let tables = RetailDomain::new(scale, args.seed).generate();
    match tables.table(table) {
        Some(rows) => write_rows(rows, args.events),
        None => bail!(
            "unknown retail table `{table}`: {}",
            tables.names().join(", ")
        ),
    }
}

/// Splits `scale=...` (the retail tables the simulator runs on) from the other params.
fn retail_tables(
    args: &Args,
) -> anyhow::Result<(tidewater::generators::retail::Tables, Vec<(String, String)>)> {
    let scale = args
        .params
        .iter()
        .find(|(k, _)| k == "scale")
        .map_or(Ok(Scale::Small), |(_, v)| v.parse())?;
    let rest = args
        .params
        .iter()
        .filter(|(k, _)| k != "scale")
        .cloned()
        .collect();
    Ok((RetailDomain::new(scale, args.seed).generate(), rest))
}

fn emitter(args: &Args) -> anyhow::Result<()> {
    let (tables, params) = retail_tables(args)?;
    let config = StreamEmitConfig {
        seed: args.seed,
        ..StreamEmitConfig::default()
    };
    let config = apply_params("emitter", config, &params)?;
    let output = StreamEmitter::new(&tables, config)?.emit();
    write_rows(&output.envelopes, args.events)
}

fn streamer(table: &str, args: &Args) -> anyhow::Result<()> {
    let (tables, params) = retail_tables(args)?;
    if let Some((k, _)) = params.first() {
        bail!("unknown parameter `{k}` for `stream`; known: scale");
    }
    let stream = TableStream::new(&tables, table, None, AnomalyRegistry::new(), args.seed)?;
    write_all(&stream, args.events)
}

/// File-landing simulators print one line per file written.
fn landing(name: &str, args: &Args) -> anyhow::Result<()> {
    let (tables, params) = retail_tables(args)?;
    let files: Vec<std::path::PathBuf> = match name {
        "filedrop" => {
            let config = FileDropConfig {
                seed: args.seed,
                ..FileDropConfig::default()
            };
            let config = apply_params("filedrop", config, &params)?;
            FileDropSimulator::new(&tables, config)?
                .run()?
                .files_written
        }
        _ => {
            let config = Scd2FileDropConfig {
                seed: args.seed,
                ..Scd2FileDropConfig::default()
            };
            let config = apply_params("scd2", config, &params)?;
            let result = Scd2FileDropSimulator::new(&tables, config)?.run()?;
            result
                .initial_load_paths
                .into_iter()
                .chain(result.delta_paths)
                .collect()
        }
    };
    let rows: Vec<serde_json::Value> = files
        .iter()
        .map(|p| serde_json::json!({ "path": p }))
        .collect();
    write_rows(&rows, args.events)
}

fn clickstream(table: &str, args: &Args) -> anyhow::Result<()> {
    let config = ClickstreamConfig {
        seed: args.seed,
        ..ClickstreamConfig::default()
    };
    let config = apply_params("clickstream", config, &args.params)?;
    let result = ClickstreamSimulator::new(config)?.run();
    match table {
        "page_views" => write_rows(&result.page_views, args.events),
        "sessions" => write_rows(&result.sessions, args.events),
        "funnels" => write_rows(&result.funnels, args.events),
        other => bail!("unknown clickstream table `{other}`: sessions, page_views, funnels"),
    }
}

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
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
        "clickstream" => clickstream("page_views", &args),
        "workflow" => workflow("events", &args),
        "iot" => iot("readings", &args),
        name if name.starts_with("retail.") => retail(&name["retail.".len()..], &args),
        name if name.starts_with("stream.") => streamer(&name["stream.".len()..], &args),
        "emitter" => emitter(&args),
        "filedrop" | "scd2" => landing(&args.name, &args),
        "oplogs" => oplogs("logs", &args),
        name if name.starts_with("oplogs.") => oplogs(&name["oplogs.".len()..], &args),
        "financial" => financial("transactions", &args),
        name if name.starts_with("financial.") => financial(&name["financial.".len()..], &args),
        name if name.starts_with("iot.") => iot(&name["iot.".len()..], &args),
        name if name.starts_with("workflow.") => workflow(&name["workflow.".len()..], &args),
        name if name.starts_with("clickstream.") => clickstream(&name["clickstream.".len()..], &args),
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
            None => bail!("unknown generator `{name}`: nexmark, nexmark_bids, clickstream[.TABLE], financial[.TABLE], iot[.TABLE], oplogs[.TABLE], retail.TABLE, stream.TABLE, emitter, filedrop, scd2, workflow[.TABLE], w1, w2, w3"),
        },
    }
}
