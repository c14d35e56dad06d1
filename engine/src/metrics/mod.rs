//! Run metrics: records in/out per operator, late records, watermarks, throughput and
//! end-to-end latency percentiles (hdrhistogram).
//!
//! Each worker updates its own counters (uncontended relaxed atomics, once per batch);
//! a snapshot sums them per operator.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::time::{Timestamp, MIN_WATERMARK};

mod buckets;
mod gauges;

pub use buckets::{Bucket, HistogramSnapshot, BOUNDS_MS};
pub use gauges::{PartitionLag, SourceGauges};

/// What role a node plays, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Reads records into the pipeline.
    Source,
    /// A stateless or stateful operator.
    Operator,
    /// Assigns event time and emits watermarks.
    Watermark,
    /// A window operator.
    Window,
    /// Writes records out of the pipeline.
    Sink,
    /// Receives the records a source could not read (dead letters).
    DeadLetters,
}

/// One worker's counters for one node.
#[derive(Debug)]
pub(crate) struct OperatorCounters {
    records_in: AtomicU64,
    records_out: AtomicU64,
    late_dropped: AtomicU64,
    late_side_output: AtomicU64,
    watermark: AtomicI64,
    ended: AtomicBool,
    idle: AtomicBool,
}

impl Default for OperatorCounters {
    fn default() -> Self {
        OperatorCounters {
            records_in: AtomicU64::new(0),
            records_out: AtomicU64::new(0),
            late_dropped: AtomicU64::new(0),
            late_side_output: AtomicU64::new(0),
            watermark: AtomicI64::new(MIN_WATERMARK),
            ended: AtomicBool::new(false),
            idle: AtomicBool::new(false),
        }
    }
}

impl OperatorCounters {
    #[inline]
    pub fn add_in(&self, n: usize) {
        self.records_in.fetch_add(n as u64, Ordering::Relaxed);
    }

    #[inline]
    pub fn add_out(&self, n: usize) {
        self.records_out.fetch_add(n as u64, Ordering::Relaxed);
    }

    #[inline]
    pub fn add_late(&self, n: u64) {
        if n > 0 {
            self.late_dropped.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Late records handed to the window's side output (of those counted late).
    #[inline]
    pub fn add_late_side_output(&self, n: u64) {
        if n > 0 {
            self.late_side_output.fetch_add(n, Ordering::Relaxed);
        }
    }

    #[inline]
    pub fn set_watermark(&self, wm: Timestamp) {
        self.watermark.store(wm, Ordering::Relaxed);
    }

    /// Late records counted so far.
    #[cfg(test)]
    pub fn late(&self) -> u64 {
        self.late_dropped.load(Ordering::Relaxed)
    }

    /// This instance's input is idle (it said so), or active again.
    #[inline]
    pub fn set_idle(&self, idle: bool) {
        self.idle.store(idle, Ordering::Relaxed);
    }

    /// This instance's input ended: its watermark no longer holds the node back.
    pub fn set_ended(&self) {
        self.ended.store(true, Ordering::Relaxed);
    }
}

/// End-to-end latency histogram shared by the sinks of a run, in microseconds.
pub(crate) struct LatencyRecorder {
    histogram: Mutex<Histogram<u64>>,
}

impl LatencyRecorder {
    pub fn new() -> Self {
        // Three significant digits, auto-resizing: exact enough for p99.9.
        let mut h = Histogram::new(3).unwrap_or_else(|_| unreachable!("3 sigfigs is valid"));
        h.auto(true);
        LatencyRecorder {
            histogram: Mutex::new(h),
        }
    }

    pub fn record(&self, latency: Duration, count: u64) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut h = self.histogram.lock().unwrap_or_else(|p| p.into_inner());
        // Auto-resize makes recording infallible for any u64.
        let _ = h.record_n(micros, count);
    }

    fn percentiles(&self) -> LatencyPercentiles {
        let h = self.histogram.lock().unwrap_or_else(|p| p.into_inner());
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        LatencyPercentiles {
            count: h.len(),
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: h.max() as f64 / 1000.0,
        }
    }

    fn buckets(&self) -> HistogramSnapshot {
        let h = self.histogram.lock().unwrap_or_else(|p| p.into_inner());
        HistogramSnapshot::of_micros(&h)
    }
}

struct NodeEntry {
    id: usize,
    name: Arc<str>,
    kind: NodeKind,
    counters: Arc<OperatorCounters>,
}

/// Every node's counters in a run, registered by the workers as they build.
pub(crate) struct MetricsRegistry {
    nodes: Mutex<Vec<NodeEntry>>,
    pub latency: Arc<LatencyRecorder>,
    /// What window operators recorded for explanations (with `Config::explain`).
    pub explain: Arc<crate::explain::ExplainLog>,
    /// Per keyed node, nanoseconds its upstream outboxes held records a full channel
    /// had no room for (one entry per worker's outbox).
    backpressure: Mutex<Vec<(Arc<str>, Arc<AtomicU64>)>>,
    /// Per source node, the gauges its readers set.
    gauges: Mutex<Vec<(Arc<str>, SourceGauges)>>,
}

impl MetricsRegistry {
    pub fn new() -> Self {
        MetricsRegistry {
            nodes: Mutex::new(Vec::new()),
            latency: Arc::new(LatencyRecorder::new()),
            explain: Arc::default(),
            backpressure: Mutex::default(),
            gauges: Mutex::default(),
        }
    }

    /// A counter of the time one worker's outbox into keyed node `name` was blocked.
    pub fn backpressure_counter(&self, name: &Arc<str>) -> Arc<AtomicU64> {
        let counter = Arc::new(AtomicU64::new(0));
        self.backpressure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((name.clone(), counter.clone()));
        counter
    }

    /// The gauges of source node `name`, shared by its readers on every worker.
    pub fn source_gauges(&self, name: &Arc<str>) -> SourceGauges {
        let mut all = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, g)) = all.iter().find(|(n, _)| n == name) {
            return g.clone();
        }
        let gauges = SourceGauges::default();
        all.push((name.clone(), gauges.clone()));
        gauges
    }

    fn backpressure_ms(&self, name: &str) -> f64 {
        let all = self.backpressure.lock().unwrap_or_else(|p| p.into_inner());
        all.iter()
            .filter(|(n, _)| &**n == name)
            .map(|(_, c)| c.load(Ordering::Relaxed))
            .sum::<u64>() as f64
            / 1e6
    }

    fn partition_lags(&self) -> Vec<PartitionLag> {
        let all = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        all.iter().flat_map(|(n, g)| g.partition_lags(n)).collect()
    }

    /// Registers one worker's instance of node `id`.
    pub fn register(&self, id: usize, name: &Arc<str>, kind: NodeKind) -> Arc<OperatorCounters> {
        let counters = Arc::new(OperatorCounters::default());
        let entry = NodeEntry {
            id,
            name: name.clone(),
            kind,
            counters: counters.clone(),
        };
        self.nodes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
        counters
    }

    pub fn snapshot(&self, elapsed: Duration) -> Metrics {
        let nodes = self.nodes.lock().unwrap_or_else(|p| p.into_inner());
        let mut operators: Vec<OperatorMetrics> = Vec::new();
        // Per node: the lowest watermark of its running instances; once all have ended,
        // the highest (the frontier they reached), as a finished input holds nothing back.
        let mut frontiers: Vec<(usize, Option<Timestamp>, Timestamp)> = Vec::new();
        for entry in nodes.iter() {
            let c = &entry.counters;
            let wm = c.watermark.load(Ordering::Relaxed);
            let ended = c.ended.load(Ordering::Relaxed);
            match frontiers.iter_mut().find(|f| f.0 == entry.id) {
                Some(f) => {
                    if !ended {
                        f.1 = Some(f.1.map_or(wm, |m| m.min(wm)));
                    }
                    f.2 = f.2.max(wm);
                }
                None => frontiers.push((entry.id, (!ended).then_some(wm), wm)),
            }
            let (rin, rout) = (
                c.records_in.load(Ordering::Relaxed),
                c.records_out.load(Ordering::Relaxed),
            );
            let late = c.late_dropped.load(Ordering::Relaxed);
            let side = c.late_side_output.load(Ordering::Relaxed);
            // Idle while every running instance is (an ended one holds nothing back).
            let idle = ended || c.idle.load(Ordering::Relaxed);
            match operators.iter_mut().find(|o| o.id == entry.id) {
                Some(o) => {
                    o.records_in += rin;
                    o.records_out += rout;
                    o.late_dropped += late;
                    o.late_side_output += side;
                    o.idle &= idle;
                }
                None => operators.push(OperatorMetrics {
                    id: entry.id,
                    name: entry.name.to_string(),
                    kind: entry.kind,
                    records_in: rin,
                    records_out: rout,
                    late_dropped: late,
                    late_side_output: side,
                    watermark: wm,
                    idle,
                    backpressure_ms: 0.0,
                }),
            }
        }
        for o in operators.iter_mut() {
            if let Some(&(_, running, reached)) = frontiers.iter().find(|f| f.0 == o.id) {
                o.watermark = running.unwrap_or(reached);
                // A node whose every instance ended is done, not idle.
                o.idle &= running.is_some();
            }
        }
        operators.sort_by_key(|o| o.id);
        drop(nodes);
        for o in operators.iter_mut() {
            o.backpressure_ms = self.backpressure_ms(&o.name);
        }
        let source_records: u64 = operators
            .iter()
            .filter(|o| o.kind == NodeKind::Source)
            .map(|o| o.records_out)
            .sum();
        let watermark = operators
            .iter()
            .filter(|o| o.kind == NodeKind::Watermark)
            .map(|o| o.watermark)
            .min()
            .filter(|&wm| wm != MIN_WATERMARK);
        let secs = elapsed.as_secs_f64();
        Metrics {
            elapsed,
            source_records,
            events_per_sec: if secs > 0.0 {
                source_records as f64 / secs
            } else {
                0.0
            },
            late_dropped: operators.iter().map(|o| o.late_dropped).sum(),
            dead_letters: operators
                .iter()
                .filter(|o| o.kind == NodeKind::DeadLetters)
                .map(|o| o.records_in)
                .sum(),
            watermark,
            latency: self.latency.percentiles(),
            latency_histogram: self.latency.buckets(),
            operators,
            checkpoints: None,
            partitions: self.partition_lags(),
        }
    }
}

/// Latency percentiles, in milliseconds, from source batch to sink.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct LatencyPercentiles {
    /// Number of result records measured.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Maximum.
    pub max_ms: f64,
}

/// Counters of one node, summed over workers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorMetrics {
    /// Stable node id (order of construction).
    pub id: usize,
    /// Node name, e.g. `"window(tumbling)"`.
    pub name: String,
    /// Role of the node.
    pub kind: NodeKind,
    /// Records received.
    pub records_in: u64,
    /// Records emitted.
    pub records_out: u64,
    /// Late records (window operators): dropped, or handed to the window's side
    /// output when it has one.
    pub late_dropped: u64,
    /// Of `late_dropped`, the records handed to the side output.
    pub late_side_output: u64,
    /// Time, summed over workers, that records for this keyed node waited in a
    /// worker's outbox because its channel was full (backpressure), in milliseconds;
    /// 0 for nodes no exchange feeds.
    pub backpressure_ms: f64,
    /// Lowest watermark over the node's running workers; once every worker's input
    /// ended, the highest one reached (`i64::MIN` before the first watermark).
    pub watermark: Timestamp,
    /// Every running worker's input of this node is idle (a source or watermark node
    /// that said so): its watermark holds nothing back.
    pub idle: bool,
}

/// A snapshot of a run's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    /// Time since the run started (until it ended, for a finished run).
    pub elapsed: Duration,
    /// Records produced by all sources.
    pub source_records: u64,
    /// `source_records / elapsed`.
    pub events_per_sec: f64,
    /// Late records dropped by all window operators.
    pub late_dropped: u64,
    /// Records that could not be read (malformed input) and went to a dead-letter
    /// output ([`Stream::dead_letters`](crate::stream::Stream::dead_letters)).
    pub dead_letters: u64,
    /// The event-time frontier of the sources' watermark assigners, if any.
    pub watermark: Option<Timestamp>,
    /// End-to-end latency of results, from the source batch that caused them to the sink.
    pub latency: LatencyPercentiles,
    /// The same latencies as histogram buckets (milliseconds).
    pub latency_histogram: HistogramSnapshot,
    /// Per-node counters in construction order.
    pub operators: Vec<OperatorMetrics>,
    /// Checkpoints of the run (`None`: checkpointing off).
    pub checkpoints: Option<CheckpointMetrics>,
    /// Lag of every source partition whose reader reports it (Kafka).
    pub partitions: Vec<PartitionLag>,
}

/// Completed checkpoints and how long they took, from trigger to durable in sled, and
/// what recovery restored or skipped when the run started.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckpointMetrics {
    /// Checkpoints completed (the final one included).
    pub completed: u64,
    /// The checkpoint the run resumed from, if any.
    pub restored_from: Option<u64>,
    /// True when that was the final checkpoint of a finished run: what it read is not
    /// read again (a restart of a finished bounded job reads nothing new).
    pub restored_finished: bool,
    /// Newer checkpoints recovery passed over because they were damaged or
    /// unfinished: id and reason, newest first.
    pub skipped: Vec<(u64, String)>,
    /// Median duration (ms).
    pub p50_ms: f64,
    /// 99th percentile duration (ms).
    pub p99_ms: f64,
    /// Longest (ms).
    pub max_ms: f64,
    /// Checkpoints that failed to be stored (a failed store fails the run).
    pub failed: u64,
    /// The newest completed checkpoint's id.
    pub last_id: Option<u64>,
    /// How long the newest completed checkpoint took (ms).
    pub last_duration_ms: f64,
    /// The newest completed checkpoint's size: the bytes of every entry (state,
    /// positions, transactions) it stored.
    pub last_size_bytes: u64,
    /// Bytes of every completed checkpoint together.
    pub total_size_bytes: u64,
    /// The largest completed checkpoint's size: the run's peak state, as Flink's
    /// checkpointed data size reports it.
    pub max_size_bytes: u64,
    /// Durations as histogram buckets (milliseconds).
    pub durations: HistogramSnapshot,
}

impl CheckpointMetrics {
    /// One line on what the run resumed from, for command lines: `None` for a fresh
    /// start.
    ///
    /// ```
    /// use tidewater_engine::metrics::CheckpointMetrics;
    /// let mut m = CheckpointMetrics::from_durations(&[]);
    /// assert_eq!(m.restored(), None);
    /// m.restored_from = Some(12);
    /// m.restored_finished = true;
    /// assert_eq!(
    ///     m.restored().unwrap(),
    ///     "resumed from checkpoint 12, the final one of a finished run: its input was already read"
    /// );
    /// ```
    pub fn restored(&self) -> Option<String> {
        let id = self.restored_from?;
        Some(if self.restored_finished {
            format!("resumed from checkpoint {id}, the final one of a finished run: its input was already read")
        } else {
            format!("resumed from checkpoint {id}")
        })
    }

    /// Summarises checkpoint durations.
    pub fn from_durations(durations: &[Duration]) -> Self {
        let mut ms: Vec<f64> = durations
            .iter()
            .map(|d| d.as_secs_f64() * 1_000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        let pct = |q: f64| {
            ms.get(((ms.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        CheckpointMetrics {
            completed: ms.len() as u64,
            restored_from: None,
            restored_finished: false,
            skipped: Vec::new(),
            p50_ms: pct(0.5),
            p99_ms: pct(0.99),
            max_ms: ms.last().copied().unwrap_or(0.0),
            failed: 0,
            last_id: None,
            last_duration_ms: durations.last().map_or(0.0, |d| d.as_secs_f64() * 1_000.0),
            last_size_bytes: 0,
            total_size_bytes: 0,
            max_size_bytes: 0,
            durations: HistogramSnapshot::of_ms(&ms),
        }
    }
}

impl Metrics {
    /// The counters of the first node whose name contains `name`.
    pub fn operator(&self, name: &str) -> Option<&OperatorMetrics> {
        self.operators.iter().find(|o| o.name.contains(name))
    }
}
