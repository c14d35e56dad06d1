//! The `tidewater` command: the demo job, declarative pipelines and the Spark case
//! replayer.
//!
//! ```text
//! tidewater [demo] [--events N] [--keys K] [--parallelism P]   windowed counts over a generator
//! tidewater run FILE... [--once]                                run pipeline files (YAML or JSON)
//! tidewater validate FILE...                                    report every problem of pipeline files
//! tidewater generate NAME [--events N --seed S --param k=v --output PATH|kafka://HOST:PORT/TOPIC]
//! tidewater serve-generator --fit FILE [--host H --port P --batch-size B --max-connections M --seed S]
//!                                                               fitted rows over a WebSocket
//! tidewater completions SHELL                                   a shell completion script
//! tidewater spark-replay CASE_DIR                               replay a Spark golden case
//! ```
//!
//! Logs go to stderr through `tracing`; `RUST_LOG=info` (or `debug`) shows them.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use tidewater::prelude::*;
use tidewater::spark::SparkCase;

/// Windowed stream processing with embedded synthetic sources.
#[derive(Debug, Parser)]
#[command(
    name = "tidewater",
    version,
    after_help = "Examples:
  tidewater                                   the demo: 500 000 events, 4 keys, 1 s windows
  tidewater demo --events 2000000 --keys 16 --parallelism 2
  tidewater run examples/pipelines/spark_case.yaml --once
  tidewater validate examples/pipelines/*.yaml
  tidewater spark-replay ../shared/fixtures/spark/cases/tumbling_late
  RUST_LOG=info tidewater demo                the same, with logs on stderr"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Options of the demo when no command is given.
    #[command(flatten)]
    demo: DemoArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// W1 events -> 1 s tumbling windows per key -> JSON lines (the default).
    Demo(DemoArgs),
    /// Runs pipeline files (YAML, or JSON for `.json`), one after the other.
    #[command(after_help = "Examples:
  tidewater run pipeline.yaml
  tidewater run --once a.yaml b.json       read what is there, then stop
  tidewater run --once --explain k1@1700000000000 spark_case.yaml
                                           why k1's window from that ms fired or not")]
    Run {
        /// Pipeline files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// Read what the input holds now and stop (the `available_now` trigger).
        #[arg(long)]
        once: bool,
        /// After the run, tell why KEY's window starting at START (epoch ms) fired or
        /// did not: its records, on time or late, its firings, the watermarks. A group
        /// key of several columns is its values joined by commas. Repeatable.
        #[arg(long, value_name = "KEY@START", value_parser = explain_target)]
        explain: Vec<(String, i64)>,
        /// Serve Prometheus `/metrics` and the live dashboard on ADDR while the
        /// pipelines run (`127.0.0.1:9898`; port 0 picks one, printed on stderr).
        #[arg(long, value_name = "ADDR")]
        http: Option<String>,
        /// Run as one instance of consumer group NAME: instances started with the same
        /// NAME share the Kafka input's partitions (one task per partition, state in
        /// the shared checkpoint folder, exactly-once output); start more to scale
        /// out, stop or lose one and its partitions move to the others. One file with
        /// one pipeline.
        #[arg(long, value_name = "NAME")]
        group: Option<String>,
        /// With --group, for an input not partitioned by the pipeline's key: repartition
        /// it by this JSON field through the group's own topic first (every instance
        /// must say the same).
        #[arg(long, value_name = "FIELD", requires = "group")]
        repartition_by: Option<String>,
    },
    /// Reports every problem of pipeline files; exits non-zero if any has one.
    #[command(after_help = "Example:
  tidewater validate examples/pipelines/*.yaml")]
    Validate {
        /// Pipeline files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Writes a generator's rows: JSON lines to stdout, or a file, or a Kafka topic.
    #[command(after_help = "Examples:
  tidewater generate nexmark --events 1000 --seed 7 --param event_rate=500
  tidewater generate clickstream.sessions --events 20 --output sessions.parquet
  tidewater generate iot --events 5000 --output kafka://localhost:9092/readings

Names: nexmark, nexmark_bids, clickstream[.TABLE], financial[.TABLE], iot[.TABLE],
oplogs[.TABLE], workflow[.TABLE], retail.TABLE, stream.TABLE, emitter, filedrop, scd2,
w1, w2, w3 (see tidewater::generate).")]
    Generate {
        /// The generator or table.
        name: String,
        /// At most this many rows.
        #[arg(long, default_value_t = 10)]
        events: u64,
        /// The seed (same seed, same rows).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// A parameter by its documented name (`--param event_rate=500`), repeatable.
        #[arg(long = "param", value_parser = key_value)]
        params: Vec<(String, String)>,
        /// jsonl, csv or parquet (default: from the output's extension, else jsonl).
        #[arg(long)]
        format: Option<tidewater::formats::FileFormat>,
        /// A file, or kafka://HOST:PORT/TOPIC (default: stdout).
        #[arg(long)]
        output: Option<String>,
    },
    /// Prints a shell completion script.
    #[command(after_help = "Examples:
  tidewater completions bash > ~/.local/share/bash-completion/completions/tidewater
  tidewater completions zsh > ~/.zfunc/_tidewater")]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Measures a workload of BENCHMARKS.md or a Nexmark query: one JSON line per run,
    /// each beside its source alone (the generator's ceiling).
    #[command(after_help = "Examples:
  tidewater bench --query w1 --events 10000000 --parallelism 2 --repeat 3
  tidewater bench --query q5 --events 5000000 --variant beam
  tidewater bench --query w1 --events 5000000 --rate 1000000      latency at 1 M events/s
  tidewater bench --query q5 --find-max-rate --p99 10ms            the highest sustainable rate
  tidewater bench --query w1,q5 --parallelism 1,2 --report target/bench   charts in index.html")]
    Bench {
        /// w1, w2, w3 (the workloads), or q0-q22 (Nexmark); several separated by
        /// commas.
        #[arg(long, required = true, value_delimiter = ',', value_parser = |s: &str| s.parse::<tidewater::bench::BenchQuery>().map_err(|e| e.to_string()))]
        query: Vec<tidewater::bench::BenchQuery>,
        /// Events generated per run.
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        /// Worker threads; several separated by commas (`1,2`).
        #[arg(long, default_value = "1", value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=1024))]
        parallelism: Vec<u64>,
        /// Runs.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1000))]
        repeat: u64,
        /// Nexmark's definitions: flink (the Flink suite's SQL) or beam.
        #[arg(long, default_value = "flink", value_parser = |s: &str| s.parse::<tidewater::nexmark::NexmarkVariant>())]
        variant: tidewater::nexmark::NexmarkVariant,
        /// Paces the source at this many events per second (Poisson arrivals on the
        /// wall clock) and reports end-to-end latency at that rate.
        #[arg(long, value_parser = positive_rate)]
        rate: Option<f64>,
        /// Searches the highest rate whose p99 latency stays under --p99 (paced probes
        /// of about 3 s each); prints one JSON object with every probe.
        #[arg(long, conflicts_with = "rate")]
        find_max_rate: bool,
        /// The latency bound of --find-max-rate, such as 10ms.
        #[arg(long, default_value = "10ms", value_parser = latency_bound)]
        p99: f64,
        /// Also writes DIR/index.html (charts: throughput per query and parallelism,
        /// latency percentiles, throughput over time) and DIR/runs.jsonl.
        #[arg(long, value_name = "DIR")]
        report: Option<std::path::PathBuf>,
        /// Seconds of events per --find-max-rate probe.
        #[arg(long, default_value_t = 3.0, value_parser = positive_rate)]
        probe_seconds: f64,
        /// Serves /metrics and the dashboard on a free loopback port during each run,
        /// to measure what the server costs (the line says `"http": true`).
        #[arg(long)]
        http: bool,
        /// Checkpoints every 250 ms into a temporary folder and reports the largest
        /// checkpoint as the query's state (`state_bytes`), as Flink reports state size.
        #[arg(long)]
        state: bool,
        /// Nexmark's events per second of event time: a number, or `flink` for the
        /// Flink suite's 10 000 000 (default 10 000).
        #[arg(long, default_value = "10000", value_parser = event_rate)]
        event_rate: u64,
    },
    /// Fits a Genesis generator (Gaussian copula) on a table and serves its rows over a
    /// WebSocket: send {"action": "generate", "count": N, "batch_size": B, "conditions": {..}},
    /// receive {"records": [..]} messages, then {"status": "complete"}.
    #[command(after_help = "Examples:
  tidewater serve-generator --fit customers.csv
  tidewater serve-generator --fit events.parquet --port 9000 --batch-size 500 --seed 7
  tidewater serve-generator --model model.json --max-connections 10")]
    ServeGenerator {
        /// The training table: .csv (with a header), .parquet or .jsonl.
        #[arg(long, required_unless_present = "model", conflicts_with = "model")]
        fit: Option<std::path::PathBuf>,
        /// A model saved before (with --save-model) instead of fitting.
        #[arg(long)]
        model: Option<std::path::PathBuf>,
        /// Also write the fitted model to this JSON file.
        #[arg(long)]
        save_model: Option<std::path::PathBuf>,
        /// Bind address.
        #[arg(long, default_value = "0.0.0.0")]
        host: String,
        /// Port (0 picks a free one, printed at start).
        #[arg(long, default_value_t = 8765)]
        port: u16,
        /// Rows per message when a request names none.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
        batch_size: u64,
        /// Clients served at once; more are refused (HTTP 503).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
        max_connections: u64,
        /// The seed (same seed and requests, same rows).
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Replays a Spark golden case folder and prints its rows as JSON lines.
    SparkReplay {
        /// The case folder (holding query.json, batches and expected.jsonl).
        case_dir: std::path::PathBuf,
    },
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Events to generate.
    #[arg(long, default_value_t = 500_000)]
    events: u64,
    /// Distinct keys (1 to 4294967295).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=u32::MAX as u64))]
    keys: u64,
    /// Worker threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=1024))]
    parallelism: u64,
}

/// One line of the demo's output.
#[derive(Debug, Serialize)]
struct WindowLine {
    key: u32,
    window_start: i64,
    window_end: i64,
    count: u64,
    sum: u64,
    avg: Option<f64>,
}

/// The main job: the W1 generator (100 000 events per event-second), 1-second tumbling
/// windows per key with count, sum and average, printed as JSON lines; then the run's
/// metrics on stderr.
fn demo(args: &DemoArgs) -> Result<(), EngineError> {
    let mut p = Pipeline::new(
        Config::default()
            .with_name("demo")
            .with_parallelism(args.parallelism as usize),
    );
    p.source(WorkloadSource::new(Workload::W1, args.events).with_keys(args.keys))
        .with_watermark(Watermark::bounded("1 second", |e: &WorkloadEvent| e.ts))
        .key_by(|e: &WorkloadEvent| e.key)
        .window(TumblingWindow::of("1 second"))
        .aggregate((
            Count,
            Sum::of(|e: &WorkloadEvent| e.value as u64),
            Avg::of(|e: &WorkloadEvent| e.value),
        ))
        .map(|r| WindowLine {
            key: r.key,
            window_start: r.window_start,
            window_end: r.window_end,
            count: r.value.0,
            sum: r.value.1,
            avg: r.value.2,
        })
        .sink(ConsoleSink::json());
    let metrics = p.run()?;
    eprintln!(
        "demo: {} events in {:.3} s ({:.1} M events/s), {} windows, latency p50 {:.3} ms p99 {:.3} ms",
        metrics.source_records,
        metrics.elapsed.as_secs_f64(),
        metrics.events_per_sec / 1e6,
        metrics.operator("window").map_or(0, |o| o.records_out),
        metrics.latency.p50_ms,
        metrics.latency.p99_ms,
    );
    Ok(())
}

fn spark_replay(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let case = SparkCase::load(dir)?;
    for row in case.replay()? {
        println!("{}", row.to_json(&case.query.aggregates));
    }
    Ok(())
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected key=value, found `{text}`"))
}

fn generate(
    what: &tidewater::generate::Generate,
    format: Option<tidewater::formats::FileFormat>,
    output: Option<&str>,
) -> Result<(), Box<dyn std::error::Error>> {
    use tidewater::formats::FileFormat;
    let values = tidewater::generate::generate(what)?;
    match output {
        None => {
            if format.is_some_and(|f| f != FileFormat::JsonLines) {
                return Err("stdout takes JSON lines; give --output for csv or parquet".into());
            }
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for value in &values {
                serde_json::to_writer(&mut out, value)?;
                std::io::Write::write_all(&mut out, b"\n")?;
            }
            std::io::Write::flush(&mut out)?;
        }
        Some(url) if url.starts_with("kafka://") => {
            #[cfg(feature = "kafka")]
            {
                use tidewater::connectors::kafka::{KafkaSink, KafkaSinkConfig};
                let (servers, topic) = url["kafka://".len()..]
                    .split_once('/')
                    .filter(|(s, t)| !s.is_empty() && !t.is_empty())
                    .ok_or_else(|| format!("expected kafka://HOST:PORT/TOPIC, found `{url}`"))?;
                let mut p = Pipeline::new(Config::default().with_name("generate"));
                p.source(VecSource::new(values)).sink(KafkaSink::new(
                    KafkaSinkConfig::new(servers, topic).create_topic(1),
                ));
                p.run()?;
            }
            #[cfg(not(feature = "kafka"))]
            return Err(format!("`{url}`: this build has no Kafka (feature `kafka`)").into());
        }
        Some(path) => {
            let format = match format {
                Some(f) => f,
                None => std::path::Path::new(path)
                    .extension()
                    .and_then(|e| e.to_str())
                    .and_then(|e| e.parse().ok())
                    .unwrap_or(FileFormat::JsonLines),
            };
            // Nested values become JSON text in CSV and Parquet cells.
            let rows = values
                .iter()
                .map(Row::from_serde)
                .collect::<Result<Vec<Row>, _>>()?;
            tidewater::formats::write_rows(path, format, &rows)?;
        }
    }
    Ok(())
}

/// Loads every file first (all problems of all files), then runs them in order; a
/// file's nodes run together, at most its `max_concurrent_pipelines` at once.
fn run(
    files: &[std::path::PathBuf],
    once: bool,
    explain: &[(String, i64)],
    http: Option<&str>,
) -> Result<(), Box<dyn std::error::Error>> {
    use tidewater::declarative::{PipelineManager, PipelineStatus, RunOptions};
    let loaded = load_all(files)?;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let stop = std::sync::Arc::new(stop);
    let flag = stop.clone();
    // Ctrl-C (and SIGTERM) stop gracefully: sources end, data drains, the last
    // checkpoint is stored and its output committed; the exit code is 0.
    ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))?;
    let mut failed = Vec::new();
    for (path, group) in files.iter().zip(loaded) {
        let pipelines = group
            .nodes
            .iter()
            .map(|n| {
                let options = RunOptions {
                    once,
                    explain: !explain.is_empty(),
                };
                Ok((n.name.clone(), n.pipeline(options)?))
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        let manager = PipelineManager::new(group.max_concurrent_pipelines);
        let _server = match http {
            Some(addr) => Some(announced(manager.serve_http(addr)?)),
            None => None,
        };
        let done = std::sync::atomic::AtomicBool::new(false);
        let outcomes = std::thread::scope(|s| {
            s.spawn(|| watch(&manager, &stop, &done));
            let outcomes = manager.run(pipelines);
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            outcomes
        });
        for name in outcomes.keys() {
            for (key, start) in explain {
                let told = manager.explain_window(name, key, *start);
                if told.is_empty() {
                    eprintln!(
                        "{}: `{name}`: no window of key {key} starts at {start}",
                        path.display()
                    );
                }
                for e in told {
                    eprint!("{}: `{name}`: {e}", path.display());
                }
            }
        }
        for (name, outcome) in outcomes {
            match outcome {
                PipelineStatus::Succeeded(m) => eprintln!(
                    "{}: `{name}` read {} records ({} late, {} dead letters) in {:.3} s",
                    path.display(),
                    m.source_records,
                    m.late_dropped,
                    m.dead_letters,
                    m.elapsed.as_secs_f64()
                ),
                PipelineStatus::Failed(e) => {
                    failed.push(format!("{}: `{name}`: {e}", path.display()))
                }
                other => eprintln!("{}: `{name}` {other:?}", path.display()),
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("\n").into())
    }
}

/// Says on stderr where `server` serves the dashboard and metrics.
fn announced(server: tidewater::engine::http::HttpServer) -> tidewater::engine::http::HttpServer {
    eprintln!(
        "dashboard: {} (metrics: {}metrics)",
        server.url(),
        server.url()
    );
    server
}

/// Runs one file's one pipeline as an instance of consumer group `group` until
/// Ctrl-C (which leaves the group: the tasks stop and the partitions move on),
/// printing the assignment whenever it changes and the lag every few seconds.
fn run_group(
    files: &[std::path::PathBuf],
    group: &str,
    repartition_by: Option<&str>,
    once: bool,
    http: Option<&str>,
) -> Result<(), Box<dyn std::error::Error>> {
    use tidewater::declarative::RunOptions;
    let loaded = load_all(files)?;
    let [file] = loaded.as_slice() else {
        return Err("--group runs one pipeline file".into());
    };
    let [node] = file.nodes.as_slice() else {
        return Err(format!(
            "--group runs one pipeline; `{}` has {}",
            file.name,
            file.nodes.len()
        )
        .into());
    };
    let options = RunOptions {
        once,
        explain: false,
    };
    let mut member = node.in_group(group, options)?;
    if let Some(field) = repartition_by {
        member = member.repartition_by(field)?;
    }
    let stop = member.instance.stop_flag();
    ctrlc::set_handler(move || stop.store(true, std::sync::atomic::Ordering::SeqCst))?;
    let _server = match http {
        Some(addr) => Some(announced(member.instance.serve_http(addr)?)),
        None => None,
    };
    let done = std::sync::atomic::AtomicBool::new(false);
    let outcome = std::thread::scope(|s| {
        s.spawn(|| {
            let mut shown = None;
            let mut last_lag = std::time::Instant::now();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let status = member.instance.status();
                let assignment = status.assignment();
                if shown.as_ref() != Some(&assignment) {
                    eprintln!(
                        "group `{}`: instance {} ({:?}) runs partitions {assignment:?} of `{}`",
                        status.group, status.instance, status.state, status.topic
                    );
                    shown = Some(assignment);
                } else if last_lag.elapsed() > std::time::Duration::from_secs(5) {
                    let records: u64 = status.tasks.values().map(|t| t.records).sum();
                    eprintln!(
                        "group `{}`: {records} records read, lag {}",
                        status.group,
                        status.lag()
                    );
                    last_lag = std::time::Instant::now();
                }
                std::thread::park_timeout(std::time::Duration::from_millis(200));
            }
        });
        let outcome = member.run();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        outcome
    });
    outcome?;
    Ok(())
}

/// Shows progress while the runs go (events/s, watermark, late rows, checkpoints,
/// summed over the running pipelines) and stops them gracefully when asked, until
/// `done`. Each pipeline's start is announced (`started: NAME`, its sources open);
/// without a terminal, progress is a plain line whenever the record count changed,
/// at most once a second.
fn watch(
    manager: &tidewater::declarative::PipelineManager,
    stop: &std::sync::atomic::AtomicBool,
    done: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering::SeqCst;
    let bar = indicatif::ProgressBar::new_spinner();
    let mut stopping = false;
    let mut started = std::collections::BTreeSet::new();
    let mut printed = (std::time::Instant::now(), 0u64);
    while !done.load(SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if stop.load(SeqCst) && !stopping {
            stopping = true;
            bar.suspend(|| eprintln!("stopping: draining and storing the last checkpoint"));
            manager.stop_all(true);
        }
        let all = manager.metrics();
        for name in all.keys() {
            if started.insert(name.clone()) {
                bar.suspend(|| eprintln!("started: {name}"));
            }
        }
        let records: u64 = all.values().map(|m| m.source_records).sum();
        let rate: f64 = all.values().map(|m| m.events_per_sec).sum();
        let watermark = all.values().filter_map(|m| m.watermark).min();
        let line = format!(
            "{} running, {records} records, {rate:.0}/s, watermark {}, {} late, {} dead letters, {} checkpoints",
            all.len(),
            watermark.map_or("-".to_string(), |w| w.to_string()),
            all.values().map(|m| m.late_dropped).sum::<u64>(),
            all.values().map(|m| m.dead_letters).sum::<u64>(),
            all.values().map(|m| m.checkpoints.as_ref().map_or(0, |c| c.completed)).sum::<u64>(),
        );
        if bar.is_hidden() {
            let due = printed.0.elapsed() >= std::time::Duration::from_secs(1);
            if !all.is_empty() && records != printed.1 && due {
                eprintln!("progress: {line}");
                printed = (std::time::Instant::now(), records);
            }
        } else {
            bar.set_message(line);
            bar.tick();
        }
    }
    bar.finish_and_clear();
}

/// Prints one JSON line per run; a workload whose results miss the formulas fails.
fn bench(
    specs: &[tidewater::bench::BenchSpec],
    report: Option<&std::path::Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    let (mut lines, mut series) = (Vec::new(), Vec::new());
    for spec in specs {
        let (these, sampled) = tidewater::bench::run_bench_sampled(spec)?;
        for line in &these {
            println!("{}", serde_json::to_string(line)?);
        }
        lines.extend(these);
        series.extend(sampled);
    }
    if let Some(dir) = report {
        let page = tidewater::bench::write_report(dir, &lines, &series)?;
        eprintln!("report: {}", page.display());
    }
    if lines.iter().any(|l| l.check == "fail") {
        return Err("the results do not match BENCHMARKS.md's formulas".into());
    }
    Ok(())
}

/// `KEY@START`: a key's text and a window start in epoch ms.
fn explain_target(text: &str) -> Result<(String, i64), String> {
    let (key, start) = text
        .rsplit_once('@')
        .ok_or_else(|| format!("expected KEY@START, found `{text}`"))?;
    let start = start
        .parse()
        .map_err(|_| format!("expected a window start in epoch ms after `@`, found `{start}`"))?;
    Ok((key.to_string(), start))
}

fn load_all(
    files: &[std::path::PathBuf],
) -> Result<Vec<tidewater::declarative::PipelineGroup>, Box<dyn std::error::Error>> {
    let mut loaded = Vec::new();
    let mut failed = Vec::new();
    for path in files {
        match tidewater::declarative::load_pipelines(path) {
            Ok(f) => loaded.push(f),
            Err(e) => failed.push(e.to_string()),
        }
    }
    if failed.is_empty() {
        Ok(loaded)
    } else {
        Err(failed.join("\n").into())
    }
}

fn validate(files: &[std::path::PathBuf]) -> Result<(), Box<dyn std::error::Error>> {
    load_all(files)?;
    for path in files {
        println!("{}: ok", path.display());
    }
    Ok(())
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "expected events per second (a positive number), found `{text}`"
        )),
    }
}

/// Nexmark's event rate: a positive whole number, or `flink`.
fn event_rate(text: &str) -> Result<u64, String> {
    match text {
        "flink" => Ok(tidewater::bench::FLINK_EVENT_RATE),
        t => t.parse::<u64>().ok().filter(|&r| r > 0).ok_or_else(|| {
            format!("expected events per second of event time (a positive whole number) or `flink`, found `{t}`")
        }),
    }
}

/// A latency bound: `10ms`, `0.5s` or plain milliseconds.
fn latency_bound(text: &str) -> Result<f64, String> {
    let (number, scale) = match text {
        t if t.ends_with("ms") => (&t[..t.len() - 2], 1.0),
        t if t.ends_with('s') => (&t[..t.len() - 1], 1_000.0),
        t => (t, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * scale),
        _ => Err(format!(
            "expected a latency such as 10ms or 0.5s, found `{text}`"
        )),
    }
}

fn max_rate(
    spec: &tidewater::bench::BenchSpec,
    p99_ms: f64,
    probe_seconds: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let found = tidewater::bench::find_max_rate(spec, p99_ms, probe_seconds)?;
    println!("{}", serde_json::to_string(&found)?);
    Ok(())
}

fn serve_generator(
    fit: Option<&std::path::Path>,
    model: Option<&std::path::Path>,
    save_model: Option<&std::path::Path>,
    config: tidewater::generators::genesis::WebSocketConfig,
    seed: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    use tidewater::generators::genesis::{FittedGenerator, Method, WebSocketGenerator};
    let fitted = match (fit, model) {
        (Some(path), _) => FittedGenerator::fit_file(path, Method::GaussianCopula)?,
        (None, Some(path)) => FittedGenerator::load(path)?,
        (None, None) => return Err("give --fit FILE or --model FILE".into()),
    }
    .with_seed(seed);
    if let Some(path) = save_model {
        fitted.save(path)?;
    }
    let (columns, rows) = (fitted.columns().len(), fitted.training_rows());
    let server = WebSocketGenerator::new(fitted, config)?.start()?;
    // One line a script can wait for (the port matters when --port 0 picked it).
    println!(
        "listening on ws://{} ({columns} columns fitted on {rows} rows)",
        server.local_addr()
    );
    std::io::Write::flush(&mut std::io::stdout())?;
    server.wait()?;
    Ok(())
}

fn main() -> ExitCode {
    tidewater::logging::init();
    let cli = Cli::parse();
    let result: Result<(), Box<dyn std::error::Error>> = match &cli.command {
        None => demo(&cli.demo).map_err(Into::into),
        Some(Command::Demo(args)) => demo(args).map_err(Into::into),
        Some(Command::SparkReplay { case_dir }) => spark_replay(case_dir),
        Some(Command::Run {
            files,
            once,
            explain,
            http,
            group: Some(group),
            repartition_by,
        }) if explain.is_empty() => run_group(
            files,
            group,
            repartition_by.as_deref(),
            *once,
            http.as_deref(),
        ),
        Some(Command::Run { group: Some(_), .. }) => {
            Err("--explain runs with one process, not with --group".into())
        }
        Some(Command::Run {
            files,
            once,
            explain,
            http,
            group: None,
            ..
        }) => run(files, *once, explain, http.as_deref()),
        Some(Command::Validate { files }) => validate(files),
        Some(Command::ServeGenerator {
            fit,
            model,
            save_model,
            host,
            port,
            batch_size,
            max_connections,
            seed,
        }) => serve_generator(
            fit.as_deref(),
            model.as_deref(),
            save_model.as_deref(),
            tidewater::generators::genesis::WebSocketConfig {
                host: host.clone(),
                port: *port,
                batch_size: *batch_size as usize,
                max_connections: *max_connections as usize,
            },
            *seed,
        ),
        Some(Command::Bench {
            query,
            events,
            parallelism,
            repeat,
            variant,
            rate,
            find_max_rate,
            p99,
            probe_seconds,
            report,
            http,
            state,
            event_rate,
        }) => {
            let specs: Vec<tidewater::bench::BenchSpec> = query
                .iter()
                .flat_map(|q| {
                    parallelism.iter().map(|p| tidewater::bench::BenchSpec {
                        query: *q,
                        events: *events,
                        parallelism: *p as usize,
                        repeat: *repeat as usize,
                        variant: *variant,
                        rate: *rate,
                        http: *http,
                        state: *state,
                        event_rate: *event_rate,
                    })
                })
                .collect();
            if *find_max_rate {
                specs
                    .iter()
                    .try_for_each(|spec| max_rate(spec, *p99, *probe_seconds))
            } else {
                bench(&specs, report.as_deref())
            }
        }
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            // Into memory first: clap_complete panics when its writer fails.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "tidewater", &mut script);
            std::io::Write::write_all(&mut std::io::stdout(), &script).map_err(Into::into)
        }
        Some(Command::Generate {
            name,
            events,
            seed,
            params,
            format,
            output,
        }) => generate(
            &tidewater::generate::Generate {
                name: name.clone(),
                events: *events,
                seed: *seed,
                params: params.clone(),
            },
            *format,
            output.as_deref(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
