//! Every generator's events by name, as JSON values, for `tidewater generate` (and the
//! `generate` example): the same name, seed and parameters give the same values.
//!
//! NAME: `nexmark`, `nexmark_bids`, `clickstream` (its page views) or a table of a
//! simulator (`clickstream.sessions`, `clickstream.page_views`, `clickstream.funnels`,
//! `financial[.TABLE]`, `iot[.TABLE]`, `oplogs[.TABLE]`, `workflow[.TABLE]`), a retail
//! domain table (`retail.orders`, param `scale=small|medium|large`), the streamer's events
//! of one (`stream.orders`), the emitter's envelopes (`emitter`), the files a landing
//! simulator writes (`filedrop`, `scd2`: one `{"path": ..}` row each; set
//! `base_path=DIR`), or a benchmark workload `w1`/`w2`/`w3`. Parameters use the
//! documented names (`event_rate=1000`, `bounce_rate=0.2`; for `workflow`,
//! `preset=support_ticket`); `events` caps the rows.
//!
//! ```
//! use tidewater::generate::{generate, Generate};
//! let rows = generate(&Generate { name: "nexmark".into(), events: 3, seed: 7, params: vec![] }).unwrap();
//! assert_eq!(rows.len(), 3);
//! let again = generate(&Generate { name: "nexmark".into(), events: 3, seed: 7, params: vec![] }).unwrap();
//! assert_eq!(rows, again);
//! ```

use serde::Serialize;
use serde_json::Value;
use tidewater_generators::clickstream::{ClickstreamConfig, ClickstreamSimulator};
use tidewater_generators::core::{apply_params, Generator};
use tidewater_generators::core::{GeneratorError, GeneratorErrors};
use tidewater_generators::emitter::{StreamEmitConfig, StreamEmitter};
use tidewater_generators::filedrop::{FileDropConfig, FileDropSimulator};
use tidewater_generators::financial::{FinancialStreamConfig, FinancialStreamSimulator};
use tidewater_generators::iot::{IotTelemetryConfig, IotTelemetrySimulator};
use tidewater_generators::nexmark::{BidGenerator, NexmarkConfig, NexmarkGenerator};
use tidewater_generators::oplogs::{OperationalLogConfig, OperationalLogSimulator};
use tidewater_generators::retail::{RetailDomain, Scale};
use tidewater_generators::scd2::{Scd2FileDropConfig, Scd2FileDropSimulator};
use tidewater_generators::streamer::{AnomalyRegistry, TableStream};
use tidewater_generators::workflow::{WorkflowConfig, WorkflowPreset, WorkflowSimulator};
use tidewater_generators::workload::Workload;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generate {
    /// The generator or table (see the module docs).
    pub name: String,
    /// At most this many rows.
    pub events: u64,
    /// The seed.
    pub seed: u64,
    /// `key=value` parameters, by their documented names.
    pub params: Vec<(String, String)>,
}

type Args = Generate;

/// Why nothing was generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A generator, table or parameter that does not exist (the message lists the
    /// known ones).
    #[error("{0}")]
    Unknown(String),
    /// A parameter value the generator refused.
    #[error(transparent)]
    Generator(#[from] GeneratorError),
    /// Every problem of a generator's configuration.
    #[error(transparent)]
    Generators(#[from] GeneratorErrors),
    /// An event that did not serialize.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

type Result<T> = std::result::Result<T, GenerateError>;

macro_rules! fail {
    ($($message:tt)*) => {
        return Err(GenerateError::Unknown(format!($($message)*)))
    };
}

fn rows_of<T: Serialize>(items: impl IntoIterator<Item = T>) -> Result<Vec<Value>> {
    items
        .into_iter()
        .map(|i| serde_json::to_value(&i).map_err(GenerateError::from))
        .collect()
}

fn write_all<G: Generator>(g: &G, events: u64) -> Result<Vec<Value>>
where
    G::Event: Serialize,
{
    let n = g.len().map_or(events, |len| len.min(events));
    rows_of((0..n).map(|i| g.event(i)))
}

fn nexmark_config(params: &[(String, String)]) -> Result<NexmarkConfig> {
    let config = apply_params("nexmark", NexmarkConfig::default(), params)?;
    config.validate()?;
    Ok(config)
}

fn write_rows<T: Serialize>(rows: &[T], limit: u64) -> Result<Vec<Value>> {
    rows_of(rows.iter().take(limit as usize))
}

fn workflow(table: &str, args: &Args) -> Result<Vec<Value>> {
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
    let simulator = WorkflowSimulator::new(config)?;
    // The event streams go on past the bounded run (a cohort a day), up to --events.
    if table == "events" {
        return write_all(&simulator.unbounded(), args.events);
    }
    let result = simulator.run();
    match table {
        "entity_summary" => write_rows(&result.entity_summary, args.events),
        other => fail!("unknown workflow table `{other}`: events, entity_summary"),
    }
}

fn iot(table: &str, args: &Args) -> Result<Vec<Value>> {
    let config = IotTelemetryConfig {
        seed: args.seed,
        ..IotTelemetryConfig::default()
    };
    let config = apply_params("iot", config, &args.params)?;
    let simulator = IotTelemetrySimulator::new(config)?;
    if table == "readings" {
        return write_all(&simulator.unbounded()?, args.events);
    }
    let result = simulator.run();
    match table {
        "alerts" => write_rows(&result.alerts, args.events),
        "fleet_status" => write_rows(&result.fleet_status, args.events),
        other => fail!("unknown iot table `{other}`: readings, alerts, fleet_status"),
    }
}

fn financial(table: &str, args: &Args) -> Result<Vec<Value>> {
    let config = FinancialStreamConfig {
        seed: args.seed,
        ..FinancialStreamConfig::default()
    };
    let config = apply_params("financial", config, &args.params)?;
    let simulator = FinancialStreamSimulator::new(config)?;
    if table == "transactions" {
        return write_all(&simulator.unbounded()?, args.events);
    }
    let result = simulator.run();
    match table {
        "reversals" => write_rows(&result.reversals, args.events),
        "fraud_events" => write_rows(&result.fraud_events, args.events),
        "settlements" => write_rows(&result.settlements, args.events),
        other => fail!(
            "unknown financial table `{other}`: transactions, reversals, fraud_events, settlements"
        ),
    }
}

fn oplogs(table: &str, args: &Args) -> Result<Vec<Value>> {
    let config = OperationalLogConfig {
        seed: args.seed,
        ..OperationalLogConfig::default()
    };
    let config = apply_params("oplogs", config, &args.params)?;
    let simulator = OperationalLogSimulator::new(config)?;
    if table == "logs" {
        return write_all(&simulator.unbounded(), args.events);
    }
    let result = simulator.run();
    match table {
        "traces" => write_rows(&result.traces, args.events),
        "service_health" => write_rows(&result.service_health, args.events),
        other => fail!("unknown oplogs table `{other}`: logs, traces, service_health"),
    }
}

fn retail(table: &str, args: &Args) -> Result<Vec<Value>> {
    let mut scale = Scale::Small;
    for (k, v) in &args.params {
        match k.as_str() {
            "scale" => scale = v.parse()?,
            other => fail!("unknown parameter `{other}` for `retail`; known: scale"),
        }
    }
    let tables = RetailDomain::new(scale, args.seed).generate();
    match tables.table(table) {
        Some(rows) => write_rows(rows, args.events),
        None => fail!(
            "unknown retail table `{table}`: {}",
            tables.names().join(", ")
        ),
    }
}

/// Splits `scale=...` (the retail tables the simulator runs on) from the other params.
fn retail_tables(
    args: &Args,
) -> Result<(tidewater_generators::retail::Tables, Vec<(String, String)>)> {
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

fn emitter(args: &Args) -> Result<Vec<Value>> {
    let (tables, params) = retail_tables(args)?;
    let config = StreamEmitConfig {
        seed: args.seed,
        ..StreamEmitConfig::default()
    };
    let config = apply_params("emitter", config, &params)?;
    let output = StreamEmitter::new(&tables, config)?.emit();
    write_rows(&output.envelopes, args.events)
}

fn streamer(table: &str, args: &Args) -> Result<Vec<Value>> {
    let (tables, params) = retail_tables(args)?;
    if let Some((k, _)) = params.first() {
        fail!("unknown parameter `{k}` for `stream`; known: scale");
    }
    let stream = TableStream::new(&tables, table, None, AnomalyRegistry::new(), args.seed)?;
    write_all(&stream, args.events)
}

/// File-landing simulators print one line per file written.
fn landing(name: &str, args: &Args) -> Result<Vec<Value>> {
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

fn clickstream(table: &str, args: &Args) -> Result<Vec<Value>> {
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
        other => fail!("unknown clickstream table `{other}`: sessions, page_views, funnels"),
    }
}

/// The events (or rows) `what` names, as JSON values.
pub fn generate(what: &Generate) -> Result<Vec<Value>> {
    let args = what;
    match args.name.as_str() {
        "nexmark" => write_all(
            &NexmarkGenerator::new(nexmark_config(&args.params)?, args.seed),
            args.events,
        ),
        "nexmark_bids" => write_all(
            &BidGenerator::new(nexmark_config(&args.params)?, args.seed),
            args.events,
        ),
        "clickstream" => clickstream("page_views", args),
        "workflow" => workflow("events", args),
        "iot" => iot("readings", args),
        name if name.starts_with("retail.") => retail(&name["retail.".len()..], args),
        name if name.starts_with("stream.") => streamer(&name["stream.".len()..], args),
        "emitter" => emitter(args),
        "filedrop" | "scd2" => landing(&args.name, args),
        "oplogs" => oplogs("logs", args),
        name if name.starts_with("oplogs.") => oplogs(&name["oplogs.".len()..], args),
        "financial" => financial("transactions", args),
        name if name.starts_with("financial.") => financial(&name["financial.".len()..], args),
        name if name.starts_with("iot.") => iot(&name["iot.".len()..], args),
        name if name.starts_with("workflow.") => workflow(&name["workflow.".len()..], args),
        name if name.starts_with("clickstream.") => clickstream(&name["clickstream.".len()..], args),
        name => match Workload::parse(name) {
            Some(workload) => {
                if let Some((k, _)) = args.params.first() {
                    fail!("unknown parameter `{k}` for `{name}`: the workloads have none");
                }
                rows_of((0..args.events).map(|i| workload.event(i)))
            }
            None => fail!("unknown generator `{name}`: nexmark, nexmark_bids, clickstream[.TABLE], financial[.TABLE], iot[.TABLE], oplogs[.TABLE], retail.TABLE, stream.TABLE, emitter, filedrop, scd2, workflow[.TABLE], w1, w2, w3"),
        },
    }
}
