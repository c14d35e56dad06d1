//! Samples every job's metrics a few times a second: the rates between two samples
//! (records per second, the share of time spent in backpressure), a history for the
//! dashboard's charts, and a broadcast of each new sample to the pages watching.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::job::Jobs;
use crate::metrics::{CheckpointMetrics, LatencyPercentiles, Metrics, NodeKind, PartitionLag};
use crate::time::MIN_WATERMARK;

/// Time between samples: at most four updates a second reach a page.
pub const INTERVAL: Duration = Duration::from_millis(250);
/// Samples kept per job for the charts (two and a half minutes).
const HISTORY: usize = 600;

/// One node at one sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorSample {
    /// Plan node id.
    pub id: usize,
    /// Node name.
    pub name: String,
    /// Role of the node.
    pub kind: NodeKind,
    /// Records received so far.
    pub records_in: u64,
    /// Records emitted so far.
    pub records_out: u64,
    /// Records received per second since the previous sample.
    pub in_per_sec: f64,
    /// Records emitted per second since the previous sample.
    pub out_per_sec: f64,
    /// Watermark (event time, ms), if it has one.
    pub watermark: Option<i64>,
    /// Wall-clock time minus the watermark (ms), as Flink reports watermark lag.
    pub watermark_lag_ms: Option<i64>,
    /// Late records so far.
    pub late_dropped: u64,
    /// Of those, handed to a side output.
    pub late_side_output: u64,
    /// Backpressure so far (ms, summed over workers).
    pub backpressure_ms: f64,
    /// Share of the last interval the workers' outboxes into this node were blocked
    /// (0 to 1).
    pub backpressure_share: f64,
    /// Every running input of the node is idle.
    pub idle: bool,
}

/// One job at one sample: what a page and the Prometheus rates read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// Wall-clock time of the sample (Unix ms).
    pub t: i64,
    /// The job's name.
    pub job: String,
    /// `Created`, `Running`, `Stopped` or `Failed`.
    pub status: String,
    /// The error of a failed run.
    pub error: Option<String>,
    /// Seconds since the run started.
    pub elapsed_s: f64,
    /// Records read by every source so far.
    pub source_records: u64,
    /// Source records per second since the previous sample.
    pub events_per_sec: f64,
    /// Source records per second over the whole run.
    pub average_events_per_sec: f64,
    /// Records sent to dead-letter outputs.
    pub dead_letters: u64,
    /// Late records of every window.
    pub late_dropped: u64,
    /// The sources' watermark frontier.
    pub watermark: Option<i64>,
    /// End-to-end latency percentiles.
    pub latency: LatencyPercentiles,
    /// Every node.
    pub operators: Vec<OperatorSample>,
    /// Checkpoints, when on.
    pub checkpoints: Option<CheckpointMetrics>,
    /// Kafka partitions' lag.
    pub partitions: Vec<PartitionLag>,
    /// A manager's last progress of the job.
    pub progress: Option<serde_json::Value>,
}

impl Sample {
    /// A sample of `metrics` taken at `t`, with rates against `previous` (taken
    /// `dt` earlier).
    pub fn of(
        job: &dyn super::Observable,
        metrics: &Metrics,
        t: i64,
        previous: Option<(&Metrics, Duration)>,
        parallelism: usize,
    ) -> Sample {
        let rate = |now: u64, before: Option<u64>| match (before, previous) {
            (Some(b), Some((_, dt))) if dt > Duration::ZERO => {
                now.saturating_sub(b) as f64 / dt.as_secs_f64()
            }
            _ => 0.0,
        };
        let operators = metrics
            .operators
            .iter()
            .map(|o| {
                let before = previous.and_then(|(p, _)| p.operators.iter().find(|b| b.id == o.id));
                let watermark = (o.watermark != MIN_WATERMARK).then_some(o.watermark);
                let blocked = match (before, previous) {
                    (Some(b), Some((_, dt))) if dt > Duration::ZERO => {
                        let ms = (o.backpressure_ms - b.backpressure_ms).max(0.0);
                        (ms / (dt.as_secs_f64() * 1_000.0 * parallelism.max(1) as f64)).min(1.0)
                    }
                    _ => 0.0,
                };
                OperatorSample {
                    id: o.id,
                    name: o.name.clone(),
                    kind: o.kind,
                    records_in: o.records_in,
                    records_out: o.records_out,
                    in_per_sec: rate(o.records_in, before.map(|b| b.records_in)),
                    out_per_sec: rate(o.records_out, before.map(|b| b.records_out)),
                    watermark,
                    watermark_lag_ms: watermark.map(|w| t.saturating_sub(w)),
                    late_dropped: o.late_dropped,
                    late_side_output: o.late_side_output,
                    backpressure_ms: o.backpressure_ms,
                    backpressure_share: blocked,
                    idle: o.idle,
                }
            })
            .collect();
        Sample {
            t,
            job: job.name(),
            status: format!("{:?}", job.status()),
            error: job.error(),
            elapsed_s: metrics.elapsed.as_secs_f64(),
            source_records: metrics.source_records,
            events_per_sec: rate(
                metrics.source_records,
                previous.map(|(p, _)| p.source_records),
            ),
            average_events_per_sec: metrics.events_per_sec,
            dead_letters: metrics.dead_letters,
            late_dropped: metrics.late_dropped,
            watermark: metrics.watermark,
            latency: metrics.latency,
            operators,
            checkpoints: metrics.checkpoints.clone(),
            partitions: metrics.partitions.clone(),
            progress: job.progress(),
        }
    }
}

struct JobHistory {
    parallelism: usize,
    previous: Option<(Instant, Metrics)>,
    samples: VecDeque<Arc<Sample>>,
}

/// The samples of every job, and the channel new ones are announced on.
pub struct Sampler {
    jobs: Arc<dyn Jobs>,
    history: Mutex<BTreeMap<String, JobHistory>>,
    announce: tokio::sync::broadcast::Sender<Arc<Sample>>,
}

impl Sampler {
    /// A sampler of `jobs`' metrics.
    pub fn new(jobs: Arc<dyn Jobs>) -> Self {
        let (announce, _) = tokio::sync::broadcast::channel(64);
        Sampler {
            jobs,
            history: Mutex::new(BTreeMap::new()),
            announce,
        }
    }

    /// Takes one sample of every job and announces it.
    pub fn tick(&self) {
        let now = Instant::now();
        let t = chrono::Utc::now().timestamp_millis();
        for job in self.jobs.jobs() {
            let metrics = job.metrics();
            let name = job.name();
            let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
            // The plan does not change during a run: its parallelism is read once.
            let h = history.entry(name).or_insert_with(|| JobHistory {
                parallelism: job.plan().parallelism,
                previous: None,
                samples: VecDeque::new(),
            });
            let previous = h.previous.as_ref().map(|(at, m)| (m, now - *at));
            let sample = Arc::new(Sample::of(&*job, &metrics, t, previous, h.parallelism));
            h.previous = Some((now, metrics));
            if h.samples.len() == HISTORY {
                h.samples.pop_front();
            }
            h.samples.push_back(sample.clone());
            drop(history);
            // No page watching is not an error.
            let _ = self.announce.send(sample);
        }
    }

    /// The samples of `job` so far, oldest first.
    pub fn history(&self, job: &str) -> Vec<Arc<Sample>> {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        history
            .get(job)
            .map(|h| h.samples.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The newest sample of `job`.
    pub fn latest(&self, job: &str) -> Option<Arc<Sample>> {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        history.get(job).and_then(|h| h.samples.back().cloned())
    }

    /// New samples, as they are taken.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<Sample>> {
        self.announce.subscribe()
    }
}
