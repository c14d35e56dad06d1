//! `tidewater bench`: a workload of `BENCHMARKS.md` or a Nexmark query, run `repeat`
//! times, each run beside its source alone (the generator's ceiling in the same
//! process), one JSON line per run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tidewater_engine::connector::{Sink, SinkWriter, WorkerInfo};
use tidewater_engine::prelude::*;
use tidewater_engine::time::Timestamp;
use tidewater_generators::core::{Generator, GeneratorSource, Pacing};
use tidewater_generators::nexmark::{Event, NexmarkConfig, NexmarkGenerator};
use tidewater_generators::workload::{Workload, WorkloadEvent, WorkloadSource};

use super::report::ThroughputSeries;
use crate::nexmark::{self, NexmarkVariant};

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchQuery {
    /// A workload of `BENCHMARKS.md` (W1-W3).
    Workload(Workload),
    /// A Nexmark query (0-22).
    Nexmark(u8),
}

/// The Nexmark queries: the whole suite.
const NEXMARK: [u8; 23] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
];

/// A name `bench` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BenchError {
    /// Not a query this build runs.
    #[error("unknown query `{0}`: expected w1, w2, w3 or one of q0-q22")]
    UnknownQuery(String),
}

impl std::str::FromStr for BenchQuery {
    type Err = BenchError;

    fn from_str(s: &str) -> Result<Self, BenchError> {
        if let Some(w) = Workload::parse(s) {
            return Ok(BenchQuery::Workload(w));
        }
        s.strip_prefix(['q', 'Q'])
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| NEXMARK.contains(n))
            .map(BenchQuery::Nexmark)
            .ok_or_else(|| BenchError::UnknownQuery(s.to_string()))
    }
}

impl BenchQuery {
    /// Its name in the JSON lines (`w1`, `q5`).
    pub fn name(&self) -> String {
        match self {
            BenchQuery::Workload(Workload::W1) => "w1".into(),
            BenchQuery::Workload(Workload::W2) => "w2".into(),
            BenchQuery::Workload(Workload::W3) => "w3".into(),
            BenchQuery::Nexmark(n) => format!("q{n}"),
        }
    }
}

/// The Flink Nexmark suite's event rate (`nexmark.workload.suite.*.tps`, 10 M events
/// per second of event time): its windows hold a thousand times the events of ours at
/// the default 10 000.
pub const FLINK_EVENT_RATE: u64 = 10_000_000;

/// Nexmark's default event rate (events per second of event time).
pub const DEFAULT_EVENT_RATE: u64 = 10_000;

/// A benchmark run's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchSpec {
    /// The query.
    pub query: BenchQuery,
    /// Events generated per run.
    pub events: u64,
    /// Worker threads.
    pub parallelism: usize,
    /// Runs.
    pub repeat: usize,
    /// Nexmark's definitions.
    pub variant: NexmarkVariant,
    /// Paces the source at this many events per second (`None`: as fast as it goes).
    pub rate: Option<f64>,
    /// Serves `/metrics` and the dashboard on a free loopback port during the run
    /// (to measure what the server costs).
    pub http: bool,
    /// Nexmark's event rate in event time (events per second of `dateTime`): 10 000
    /// by default, [`FLINK_EVENT_RATE`] as the Flink suite runs it.
    pub event_rate: u64,
    /// Checkpoints every 250 ms (at-least-once, into a temporary folder) to measure
    /// the query's state: the largest checkpoint's bytes.
    pub state: bool,
}

/// One run's figures: the fields of the throughput harness's line, plus the source
/// alone and memory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchLine {
    /// `w1`-`w3`, `q0`-`q11`.
    pub query: String,
    /// Events generated.
    pub events: u64,
    /// Worker threads.
    pub parallelism: usize,
    /// Which run of the repeat (from 0).
    pub run: usize,
    /// From the first event generated to the last result received.
    pub seconds: f64,
    /// Events through the pipeline per second.
    pub events_per_sec: f64,
    /// The source alone into a counting sink, in the same process just before.
    pub source_events_per_sec: f64,
    /// `events_per_sec / source_events_per_sec`: how close the pipeline runs to its
    /// generator's ceiling.
    pub source_ratio: f64,
    /// End-to-end latency percentiles (ms).
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Result rows.
    pub rows: u64,
    /// Workloads: the rows and count sums against `BENCHMARKS.md`'s formulas (`pass` or
    /// `fail`); Nexmark: `none` (its tests check its rows).
    pub check: String,
    /// The process's peak resident memory so far (bytes; Linux).
    pub peak_rss_bytes: Option<u64>,
    /// Nexmark's definitions (`flink`, `beam`).
    pub variant: NexmarkVariant,
    /// The pace asked for (events per second), when paced.
    pub rate: Option<f64>,
    /// The metrics and dashboard server ran beside the pipeline.
    pub http: bool,
    /// With `state`: the largest checkpoint's bytes (the query's peak state, as
    /// Flink's checkpointed data size reports it) and how many checkpoints were taken.
    pub state_bytes: Option<u64>,
    /// Checkpoints taken, with `state`.
    pub checkpoints: Option<u64>,
    /// Nexmark's event rate in event time.
    pub event_rate: u64,
}

/// Counts rows (and, for window results, sums their counts); each worker publishes
/// its totals once, at the end.
struct Counting<T> {
    rows: Arc<AtomicU64>,
    sum: Arc<AtomicU64>,
    weight: fn(&T) -> u64,
}

impl<T> Clone for Counting<T> {
    fn clone(&self) -> Self {
        Counting {
            rows: self.rows.clone(),
            sum: self.sum.clone(),
            weight: self.weight,
        }
    }
}

impl<T> Counting<T> {
    fn new(weight: fn(&T) -> u64) -> Self {
        Counting {
            rows: Arc::default(),
            sum: Arc::default(),
            weight,
        }
    }
}

struct CountingWriter<T> {
    rows: u64,
    sum: u64,
    into: Counting<T>,
}

impl<T: Send + 'static> Sink<T> for Counting<T> {
    type Writer = CountingWriter<T>;

    fn name(&self) -> String {
        "counting_sink".into()
    }

    fn create_writer(&self, _: &WorkerInfo) -> tidewater_engine::error::Result<Self::Writer> {
        Ok(CountingWriter {
            rows: 0,
            sum: 0,
            into: self.clone(),
        })
    }
}

impl<T: 'static> SinkWriter<T> for CountingWriter<T> {
    fn write_batch(&mut self, batch: Batch<T>) -> tidewater_engine::error::Result<()> {
        self.rows += batch.len() as u64;
        self.sum += batch
            .iter()
            .map(|r| (self.into.weight)(&r.value))
            .sum::<u64>();
        Ok(())
    }

    fn finish(&mut self) -> tidewater_engine::error::Result<()> {
        self.into.rows.fetch_add(self.rows, Ordering::Relaxed);
        self.into.sum.fetch_add(self.sum, Ordering::Relaxed);
        Ok(())
    }
}

fn one<T>(_: &T) -> u64 {
    1
}

fn nexmark_source(spec: &BenchSpec) -> GeneratorSource<NexmarkGenerator> {
    paced(
        GeneratorSource::new(NexmarkGenerator::new(
            NexmarkConfig {
                event_rate: spec.event_rate,
                ..NexmarkConfig::default()
            },
            42,
        ))
        .with_max_events(spec.events),
        spec,
    )
}

/// `source` paced at the spec's rate, if it has one: Poisson arrivals released through
/// a token bucket on the wall clock, as a real feed would arrive.
fn paced<G: Generator>(source: GeneratorSource<G>, spec: &BenchSpec) -> GeneratorSource<G> {
    match spec.rate {
        Some(rate) => source.realtime(Pacing::rate(rate)),
        None => source,
    }
}

/// A workload's events as a generator, for paced runs (the unpaced ones use the
/// workload's own, faster source).
struct WorkloadEvents {
    workload: Workload,
    events: u64,
}

impl Generator for WorkloadEvents {
    type Event = WorkloadEvent;

    fn name(&self) -> String {
        format!("{:?}", self.workload).to_lowercase()
    }

    fn seed(&self) -> u64 {
        0
    }

    fn event(&self, index: u64) -> WorkloadEvent {
        self.workload.event(index)
    }

    fn event_time(&self, index: u64) -> Timestamp {
        self.workload.event(index).ts
    }

    fn len(&self) -> Option<u64> {
        Some(self.events)
    }
}

fn config(spec: &BenchSpec) -> Config {
    let mut config = Config::default()
        .with_name(format!("bench-{}", spec.query.name()))
        .with_parallelism(spec.parallelism);
    if spec.http {
        config = config.with_http("127.0.0.1:0");
    }
    config
}

/// A folder of its own for one measured run (checkpoints, Q10's files), removed when
/// dropped.
struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn new(spec: &BenchSpec, run: usize, what: &str) -> Self {
        let name = format!(
            "tidewater-bench-{}-{what}-{}-{run}",
            spec.query.name(),
            std::process::id()
        );
        ScratchDir(std::env::temp_dir().join(name))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The source alone into a counting sink: events per second.
fn source_alone(spec: &BenchSpec) -> Result<f64> {
    let mut p = Pipeline::new(config(spec));
    match spec.query {
        BenchQuery::Workload(w) => {
            let source = WorkloadSource::new(w, spec.events).with_keys(w.keys());
            p.source(source).sink(Counting::new(one));
        }
        BenchQuery::Nexmark(_) => {
            p.source(nexmark_source(spec))
                .sink(Counting::<Event>::new(one));
        }
    }
    let started = Instant::now();
    p.run()?;
    Ok(spec.events as f64 / started.elapsed().as_secs_f64())
}

/// How a run's result rows are counted.
enum Rows {
    /// By a counting sink: rows and the sum of their weights.
    Counted(Arc<AtomicU64>, Arc<AtomicU64>),
    /// By the records into the named sink (Q10's files).
    IntoSink {
        /// The sink's operator name.
        sink: &'static str,
        /// The folder it writes, removed when the run's line is made.
        _files: ScratchDir,
    },
}

impl Rows {
    /// Rows and weight sum once the run has ended.
    fn totals(&self, metrics: &Metrics) -> (u64, u64) {
        match self {
            Rows::Counted(rows, sum) => (rows.load(Ordering::Relaxed), sum.load(Ordering::Relaxed)),
            Rows::IntoSink { sink, .. } => {
                let rows = metrics
                    .operators
                    .iter()
                    .filter(|op| op.name.starts_with(sink))
                    .map(|op| op.records_in)
                    .sum();
                (rows, rows)
            }
        }
    }
}

/// Wires the query into `p` for run `run`; how its results are counted.
fn pipeline(spec: &BenchSpec, run: usize, p: &mut Pipeline) -> Rows {
    macro_rules! count {
        ($stream:expr, $weight:expr) => {{
            let sink = Counting::new($weight);
            let totals = Rows::Counted(sink.rows.clone(), sink.sum.clone());
            $stream.sink(sink);
            totals
        }};
    }
    let v = spec.variant;
    match spec.query {
        BenchQuery::Workload(w) if spec.rate.is_some() => {
            let events = WorkloadEvents {
                workload: w,
                events: spec.events,
            };
            let source = p.source(paced(GeneratorSource::new(events), spec));
            count!(super::workload_query(source, w), |r: &WindowResult<
                u32,
                u64,
            >| r.value)
        }
        BenchQuery::Workload(w) => count!(
            super::workload_counts(p, w, spec.events, w.keys()),
            |r: &WindowResult<u32, u64>| r.value
        ),
        BenchQuery::Nexmark(n) => {
            let events = nexmark::with_event_time(p.source(nexmark_source(spec)));
            match n {
                0 => count!(nexmark::q0(events, v), one),
                1 => count!(nexmark::q1(nexmark::bids(events), v), one),
                2 => count!(nexmark::q2(nexmark::bids(events)), one),
                3 => count!(nexmark::q3(events), one),
                4 => count!(nexmark::q4(events, v), one),
                5 => count!(nexmark::q5(nexmark::bids(events), v), one),
                6 => count!(nexmark::q6(events, v), one),
                7 => count!(nexmark::q7(nexmark::bids(events), v), one),
                8 => count!(nexmark::q8(events), one),
                9 => count!(nexmark::q9(events, v), one),
                10 => {
                    // As the Flink suite: every bid written to partitioned files.
                    let dir = ScratchDir::new(spec, run, "files");
                    let mode = tidewater_connectors::file::FileSinkMode::Direct;
                    nexmark::q10(nexmark::bids(events)).sink(nexmark::q10_sink(&dir.0, mode));
                    Rows::IntoSink {
                        sink: "file_sink",
                        _files: dir,
                    }
                }
                12 => count!(nexmark::q12(nexmark::bids(events)), one),
                13 => count!(
                    nexmark::q13(nexmark::bids(events), nexmark::SideInput::generated(10_000)),
                    one
                ),
                14 => count!(nexmark::q14(nexmark::bids(events)), one),
                15 => count!(nexmark::q15(nexmark::bids(events)), one),
                16 => count!(nexmark::q16(nexmark::bids(events)), one),
                17 => count!(nexmark::q17(nexmark::bids(events)), one),
                18 => count!(nexmark::q18(nexmark::bids(events)), one),
                19 => count!(nexmark::q19(nexmark::bids(events)), one),
                20 => count!(nexmark::q20(events), one),
                21 => count!(nexmark::q21(nexmark::bids(events)), one),
                22 => count!(nexmark::q22(nexmark::bids(events)), one),
                _ => count!(nexmark::q11(nexmark::bids(events), v), one),
            }
        }
    }
}

/// The process's peak resident memory (Linux: `VmHWM` of `/proc/self/status`).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs `spec.repeat` times; one line per run.
pub fn run_bench(spec: &BenchSpec) -> Result<Vec<BenchLine>> {
    Ok(run_bench_sampled(spec)?.0)
}

/// As [`run_bench`], with each run's throughput sampled every 50 ms while it ran.
pub fn run_bench_sampled(spec: &BenchSpec) -> Result<(Vec<BenchLine>, Vec<ThroughputSeries>)> {
    let mut lines = Vec::with_capacity(spec.repeat);
    let mut series = Vec::with_capacity(spec.repeat);
    for run in 0..spec.repeat.max(1) {
        let source_eps = source_alone(spec)?;
        let state_dir = spec.state.then(|| ScratchDir::new(spec, run, "state"));
        let mut config = config(spec);
        if let Some(dir) = &state_dir {
            config = config.with_checkpointing(
                &dir.0,
                Duration::from_millis(250),
                tidewater_engine::config::DeliveryGuarantee::AtLeastOnce,
            );
        }
        let mut p = Pipeline::new(config);
        let counted = pipeline(spec, run, &mut p);
        let started = Instant::now();
        let processor = p.start()?;
        let mut points = Vec::new();
        let mut last = (0.0f64, 0u64);
        while !processor.await_termination(Some(Duration::from_millis(50))) {
            let now = started.elapsed().as_secs_f64();
            let read = processor.metrics().source_records;
            if now > last.0 {
                points.push((now, (read - last.1.min(read)) as f64 / (now - last.0)));
            }
            last = (now, read);
        }
        let metrics = processor.join()?;
        let seconds = started.elapsed().as_secs_f64();
        let (rows, sum) = counted.totals(&metrics);
        let check = match spec.query {
            BenchQuery::Workload(w) => {
                let pass = (rows, sum) == w.expected(spec.events, w.keys());
                if pass { "pass" } else { "fail" }.to_string()
            }
            BenchQuery::Nexmark(_) => "none".to_string(),
        };
        let eps = spec.events as f64 / seconds;
        let line = BenchLine {
            query: spec.query.name(),
            events: spec.events,
            parallelism: spec.parallelism,
            run,
            seconds,
            events_per_sec: eps,
            source_events_per_sec: source_eps,
            source_ratio: eps / source_eps,
            p50_ms: metrics.latency.p50_ms,
            p99_ms: metrics.latency.p99_ms,
            p999_ms: metrics.latency.p999_ms,
            rows,
            check,
            peak_rss_bytes: peak_rss_bytes(),
            variant: spec.variant,
            rate: spec.rate,
            http: spec.http,
            state_bytes: metrics.checkpoints.as_ref().map(|c| c.max_size_bytes),
            checkpoints: metrics.checkpoints.as_ref().map(|c| c.completed),
            event_rate: spec.event_rate,
        };
        series.push(ThroughputSeries {
            label: super::report::run_label(&line),
            points,
        });
        lines.push(line);
    }
    Ok((lines, series))
}

/// The highest sustainable rate: paced runs of about `probe_seconds` each, searched
/// between nothing and the unpaced throughput; a rate is sustained when the pipeline
/// keeps up (at least 95% of it goes through) and the p99 end-to-end latency stays
/// within `p99_ms` (the Nexmark and Yahoo benchmarks' definition).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaxRate {
    /// `w1`-`w3`, `q0`-`q11`.
    pub query: String,
    /// Worker threads.
    pub parallelism: usize,
    /// The latency bound (ms).
    pub p99_bound_ms: f64,
    /// The highest rate sustained (events per second).
    pub max_sustainable_rate: f64,
    /// Every probe: the rate tried and the run's line.
    pub probes: Vec<BenchLine>,
}

/// Searches the highest rate `spec.query` sustains with p99 under `p99_ms`.
pub fn find_max_rate(spec: &BenchSpec, p99_ms: f64, probe_seconds: f64) -> Result<MaxRate> {
    let unpaced = BenchSpec {
        rate: None,
        repeat: 1,
        ..*spec
    };
    let ceiling = run_bench(&unpaced)?[0].events_per_sec;
    let (mut lo, mut hi) = (0.0f64, ceiling);
    let mut probes = Vec::new();
    for _ in 0..7 {
        let rate = if lo == 0.0 { hi / 2.0 } else { (lo + hi) / 2.0 };
        let probe = BenchSpec {
            rate: Some(rate),
            events: ((rate * probe_seconds) as u64).max(1_000),
            repeat: 1,
            ..*spec
        };
        let line = run_bench(&probe)?.remove(0);
        let kept_up = line.events_per_sec >= 0.95 * rate;
        if kept_up && line.p99_ms <= p99_ms {
            lo = rate;
        } else {
            hi = rate;
        }
        probes.push(line);
    }
    Ok(MaxRate {
        query: spec.query.name(),
        parallelism: spec.parallelism,
        p99_bound_ms: p99_ms,
        max_sustainable_rate: lo,
        probes,
    })
}
