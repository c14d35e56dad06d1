//! `/metrics`: every job's metrics in the Prometheus text format, encoded by
//! `prometheus-client` from a snapshot taken at scrape time (the data path counts as
//! it always does; nothing is recorded twice). Counters are cumulative since the run
//! started; rates (`*_per_second`) are the sampler's, over its last interval.

use std::sync::Arc;

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

use super::job::Jobs;
use super::sampler::{Sample, Sampler};
use crate::metrics::{HistogramSnapshot, Metrics, NodeKind};
use crate::processor::Status;
use crate::time::MIN_WATERMARK;

type Labels = Vec<(String, String)>;

/// One job's snapshot for a scrape.
struct Scraped {
    pipeline: String,
    status: Status,
    metrics: Metrics,
    rates: Option<Arc<Sample>>,
}

/// The collector registered with the server's registry.
#[derive(Clone)]
pub struct JobsCollector {
    pub(crate) jobs: Arc<dyn Jobs>,
    pub(crate) sampler: Arc<Sampler>,
}

impl std::fmt::Debug for JobsCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobsCollector")
    }
}

fn kind_label(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Source => "source",
        NodeKind::Operator => "operator",
        NodeKind::Watermark => "watermark",
        NodeKind::Window => "window",
        NodeKind::Sink => "sink",
        NodeKind::DeadLetters => "dead_letters",
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Writes one family: its descriptor, then one sample per label set.
fn family<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    samples: Vec<(Labels, M)>,
) -> Result<(), std::fmt::Error> {
    if samples.is_empty() {
        return Ok(());
    }
    let mut family = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, metric) in samples {
        metric.encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

fn histogram(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: Vec<(Labels, &HistogramSnapshot)>,
) -> Result<(), std::fmt::Error> {
    if samples.is_empty() {
        return Ok(());
    }
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for (labels, h) in samples {
        // Seconds, as Prometheus names durations. The encoder sums the buckets it is
        // given, so each holds its own observations; the last one is +Inf.
        let mut below = 0;
        let mut buckets: Vec<(f64, u64)> = h
            .buckets
            .iter()
            .map(|b| {
                let own = b.count.saturating_sub(below);
                below = b.count;
                (b.le_ms / 1_000.0, own)
            })
            .collect();
        buckets.push((f64::INFINITY, h.count.saturating_sub(below)));
        family.encode_family(&labels)?.encode_histogram::<Labels>(
            h.sum_ms / 1_000.0,
            h.count,
            &buckets,
            None,
        )?;
    }
    Ok(())
}

impl prometheus_client::collector::Collector for JobsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let scraped: Vec<Scraped> = self
            .jobs
            .jobs()
            .iter()
            .map(|job| {
                let pipeline = job.name();
                Scraped {
                    rates: self.sampler.latest(&pipeline),
                    status: job.status(),
                    metrics: job.metrics(),
                    pipeline,
                }
            })
            .collect();
        encode_pipelines(&mut encoder, &scraped)?;
        encode_operators(&mut encoder, &scraped)?;
        encode_checkpoints(&mut encoder, &scraped)?;
        Ok(())
    }
}

fn per_job<M>(scraped: &[Scraped], f: impl Fn(&Scraped) -> Option<M>) -> Vec<(Labels, M)> {
    scraped
        .iter()
        .filter_map(|s| f(s).map(|m| (labels(&[("pipeline", &s.pipeline)]), m)))
        .collect()
}

fn encode_pipelines(e: &mut DescriptorEncoder, scraped: &[Scraped]) -> Result<(), std::fmt::Error> {
    let statuses = [
        Status::Created,
        Status::Running,
        Status::Stopped,
        Status::Failed,
    ];
    let status_samples = scraped
        .iter()
        .flat_map(|s| {
            statuses.iter().map(move |st| {
                let name = format!("{st:?}").to_lowercase();
                (
                    labels(&[("pipeline", &s.pipeline), ("status", &name)]),
                    ConstGauge::new(i64::from(s.status == *st)),
                )
            })
        })
        .collect();
    family(
        e,
        "tidewater_pipeline_status",
        "1 for the pipeline's current status",
        MetricType::Gauge,
        status_samples,
    )?;
    family(
        e,
        "tidewater_pipeline_uptime_seconds",
        "Seconds since the run started",
        MetricType::Gauge,
        per_job(scraped, |s| {
            Some(ConstGauge::new(s.metrics.elapsed.as_secs_f64()))
        }),
    )?;
    family(
        e,
        "tidewater_source_records",
        "Records read by every source",
        MetricType::Counter,
        per_job(scraped, |s| {
            Some(ConstCounter::new(s.metrics.source_records))
        }),
    )?;
    family(
        e,
        "tidewater_source_records_per_second",
        "Source records per second over the last sampling interval",
        MetricType::Gauge,
        per_job(scraped, |s| {
            s.rates.as_ref().map(|r| ConstGauge::new(r.events_per_sec))
        }),
    )?;
    family(
        e,
        "tidewater_late_records",
        "Late records of every window operator (dropped or side output)",
        MetricType::Counter,
        per_job(scraped, |s| Some(ConstCounter::new(s.metrics.late_dropped))),
    )?;
    family(
        e,
        "tidewater_dead_letters",
        "Records that could not be read, sent to dead-letter outputs",
        MetricType::Counter,
        per_job(scraped, |s| Some(ConstCounter::new(s.metrics.dead_letters))),
    )?;
    family(
        e,
        "tidewater_watermark_milliseconds",
        "The sources' event-time frontier (Unix ms)",
        MetricType::Gauge,
        per_job(scraped, |s| s.metrics.watermark.map(ConstGauge::new)),
    )?;
    histogram(
        e,
        "tidewater_latency_seconds",
        "End-to-end latency of results, from the source batch that caused them to the sink",
        scraped
            .iter()
            .map(|s| {
                (
                    labels(&[("pipeline", &s.pipeline)]),
                    &s.metrics.latency_histogram,
                )
            })
            .collect(),
    )?;
    let lags = scraped
        .iter()
        .flat_map(|s| {
            s.metrics.partitions.iter().map(move |p| {
                let partition = p.partition.to_string();
                (
                    labels(&[
                        ("pipeline", &s.pipeline),
                        ("node", &p.node),
                        ("topic", &p.topic),
                        ("partition", &partition),
                    ]),
                    ConstGauge::new(p.lag),
                )
            })
        })
        .collect();
    family(
        e,
        "tidewater_source_partition_lag",
        "Records between a source partition's end and the reader's position",
        MetricType::Gauge,
        lags,
    )
}

/// Per node: labels, the node's metrics and its sampled rates.
fn per_node<M>(
    scraped: &[Scraped],
    f: impl Fn(&crate::metrics::OperatorMetrics, Option<&super::sampler::OperatorSample>) -> Option<M>,
) -> Vec<(Labels, M)> {
    scraped
        .iter()
        .flat_map(|s| {
            let f = &f;
            s.metrics.operators.iter().filter_map(move |o| {
                let rate = s
                    .rates
                    .as_ref()
                    .and_then(|r| r.operators.iter().find(|x| x.id == o.id));
                let id = o.id.to_string();
                f(o, rate).map(|m| {
                    (
                        labels(&[
                            ("pipeline", &s.pipeline),
                            ("node", &o.name),
                            ("node_id", &id),
                            ("kind", kind_label(o.kind)),
                        ]),
                        m,
                    )
                })
            })
        })
        .collect()
}

fn encode_operators(e: &mut DescriptorEncoder, scraped: &[Scraped]) -> Result<(), std::fmt::Error> {
    family(
        e,
        "tidewater_operator_records_in",
        "Records a node received",
        MetricType::Counter,
        per_node(scraped, |o, _| Some(ConstCounter::new(o.records_in))),
    )?;
    family(
        e,
        "tidewater_operator_records_out",
        "Records a node emitted",
        MetricType::Counter,
        per_node(scraped, |o, _| Some(ConstCounter::new(o.records_out))),
    )?;
    family(
        e,
        "tidewater_operator_records_in_per_second",
        "Records a node received per second, last sampling interval",
        MetricType::Gauge,
        per_node(scraped, |_, r| r.map(|r| ConstGauge::new(r.in_per_sec))),
    )?;
    family(
        e,
        "tidewater_operator_records_out_per_second",
        "Records a node emitted per second, last sampling interval",
        MetricType::Gauge,
        per_node(scraped, |_, r| r.map(|r| ConstGauge::new(r.out_per_sec))),
    )?;
    family(
        e,
        "tidewater_operator_watermark_milliseconds",
        "A node's watermark (event time, Unix ms)",
        MetricType::Gauge,
        per_node(scraped, |o, _| {
            (o.watermark != MIN_WATERMARK).then(|| ConstGauge::new(o.watermark))
        }),
    )?;
    let now = chrono::Utc::now().timestamp_millis();
    family(
        e,
        "tidewater_operator_watermark_lag_milliseconds",
        "Wall-clock time minus a node's watermark",
        MetricType::Gauge,
        per_node(scraped, |o, _| {
            (o.watermark != MIN_WATERMARK).then(|| ConstGauge::new(now.saturating_sub(o.watermark)))
        }),
    )?;
    family(
        e,
        "tidewater_operator_idle",
        "1 while every running input of the node is idle",
        MetricType::Gauge,
        per_node(scraped, |o, _| Some(ConstGauge::new(i64::from(o.idle)))),
    )?;
    let windows = |scraped: &[Scraped], side: bool| {
        per_node(scraped, move |o, _| {
            (o.kind == NodeKind::Window).then(|| {
                ConstCounter::new(if side {
                    o.late_side_output
                } else {
                    o.late_dropped.saturating_sub(o.late_side_output)
                })
            })
        })
    };
    family(
        e,
        "tidewater_operator_late_dropped",
        "Late records a window dropped",
        MetricType::Counter,
        windows(scraped, false),
    )?;
    family(
        e,
        "tidewater_operator_late_side_output",
        "Late records a window handed to its side output",
        MetricType::Counter,
        windows(scraped, true),
    )?;
    family(
        e,
        "tidewater_operator_backpressure_seconds",
        "Time records for a keyed node waited in full outboxes, summed over workers",
        MetricType::Counter,
        per_node(scraped, |o, _| {
            matches!(o.kind, NodeKind::Window | NodeKind::Operator)
                .then(|| ConstCounter::new(o.backpressure_ms / 1_000.0))
        }),
    )?;
    family(
        e,
        "tidewater_operator_backpressure_ratio",
        "Share of the last sampling interval a keyed node's inputs were blocked (0 to 1)",
        MetricType::Gauge,
        per_node(scraped, |o, r| {
            matches!(o.kind, NodeKind::Window | NodeKind::Operator)
                .then(|| ConstGauge::new(r.map_or(0.0, |r| r.backpressure_share)))
        }),
    )
}

fn encode_checkpoints(
    e: &mut DescriptorEncoder,
    scraped: &[Scraped],
) -> Result<(), std::fmt::Error> {
    let cp = |s: &Scraped| s.metrics.checkpoints.clone();
    family(
        e,
        "tidewater_checkpoints_completed",
        "Checkpoints stored",
        MetricType::Counter,
        per_job(scraped, |s| cp(s).map(|c| ConstCounter::new(c.completed))),
    )?;
    family(
        e,
        "tidewater_checkpoints_failed",
        "Checkpoints that could not be stored",
        MetricType::Counter,
        per_job(scraped, |s| cp(s).map(|c| ConstCounter::new(c.failed))),
    )?;
    family(
        e,
        "tidewater_checkpoint_last_id",
        "The newest stored checkpoint's id",
        MetricType::Gauge,
        per_job(scraped, |s| {
            cp(s)
                .and_then(|c| c.last_id)
                .map(|id| ConstGauge::new(id as i64))
        }),
    )?;
    family(
        e,
        "tidewater_checkpoint_last_duration_seconds",
        "How long the newest checkpoint took, trigger to stored",
        MetricType::Gauge,
        per_job(scraped, |s| {
            cp(s).map(|c| ConstGauge::new(c.last_duration_ms / 1_000.0))
        }),
    )?;
    family(
        e,
        "tidewater_checkpoint_last_size_bytes",
        "Bytes the newest checkpoint stored",
        MetricType::Gauge,
        per_job(scraped, |s| {
            cp(s).map(|c| ConstGauge::new(c.last_size_bytes as i64))
        }),
    )?;
    family(
        e,
        "tidewater_checkpoint_size_bytes",
        "Bytes of every stored checkpoint together",
        MetricType::Counter,
        per_job(scraped, |s| {
            cp(s).map(|c| ConstCounter::new(c.total_size_bytes))
        }),
    )?;
    let with_cp: Vec<(Labels, HistogramSnapshot)> = scraped
        .iter()
        .filter_map(|s| cp(s).map(|c| (labels(&[("pipeline", &s.pipeline)]), c.durations)))
        .collect();
    histogram(
        e,
        "tidewater_checkpoint_duration_seconds",
        "Checkpoint durations, trigger to stored",
        with_cp.iter().map(|(l, h)| (l.clone(), h)).collect(),
    )
}
