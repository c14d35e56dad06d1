//! The operational log simulation. Incidents (spikes, outages, bursts) are drawn per
//! (service, hour) from their own RNG streams; request `n` of a service from `(seed,
//! service, n)`.

use crate::core::GeneratorErrors;
use crate::core::{epoch_seed, ChunkedGenerator, RateCurve, RecordedGenerator};
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Poisson};

use super::model::{
    LogEvent, LogLevel, OperationalLogResult, OperationalLogStats, ServiceHealth, Trace,
};
use super::OperationalLogConfig;
use crate::core::event_rng;

const SPIKE_SALT: u64 = 0x5B1C_E000_0000_0001;
const OUTAGE_SALT: u64 = 0x0074_A6E0_0000_0001;
const BURST_SALT: u64 = 0xB025_7000_0000_0001;
const HOUR_MS: i64 = 3_600_000;

/// Generates operational logs, traces and service health.
#[derive(Debug, Clone)]
pub struct OperationalLogSimulator {
    config: OperationalLogConfig,
}

type Windows = Vec<(i64, i64)>;

impl OperationalLogSimulator {
    /// A simulator for a validated configuration.
    pub fn new(config: OperationalLogConfig) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        Ok(OperationalLogSimulator { config })
    }

    /// Incident windows of service `s`: one per hour drawn with `probability`.
    fn incidents(
        &self,
        salt: u64,
        s: u64,
        enabled: bool,
        probability: f64,
        minutes: f64,
    ) -> Windows {
        let c = &self.config;
        if !enabled {
            return Vec::new();
        }
        let hours = c.duration_hours.ceil() as u64;
        (0..hours)
            .filter_map(|h| {
                let mut rng = event_rng(c.seed ^ salt ^ s.wrapping_mul(0x9E37_79B9), h);
                (rng.random::<f64>() < probability).then(|| {
                    let start = c.start_time_ms + h as i64 * HOUR_MS + rng.random_range(0..HOUR_MS);
                    (start, start + (minutes * 60_000.0) as i64)
                })
            })
            .collect()
    }

    fn latency_distribution(&self) -> Option<LogNormal<f64>> {
        let (mean, std) = (
            self.config.latency_mean_ms,
            self.config.latency_std_ms.max(0.0),
        );
        let sigma2 = (1.0 + (std * std) / (mean * mean)).ln();
        LogNormal::new(mean.ln() - sigma2 / 2.0, sigma2.sqrt()).ok()
    }

    /// The run's log events as a generator in event-time order, for a paced, resumable
    /// pipeline source (`GeneratorSource::new(sim.generator())`). The run is computed
    /// once, here.
    pub fn generator(&self) -> RecordedGenerator<LogEvent> {
        let logs = self.run().logs;
        RecordedGenerator::new("oplogs", self.config.seed, logs, |l| l.timestamp)
    }

    /// An endless stream: epoch after epoch of `duration_hours`, each a run of its own
    /// seed (epoch 0 is the bounded run), for an unbounded pipeline source.
    pub fn unbounded(&self) -> ChunkedGenerator<LogEvent> {
        let config = self.config.clone();
        let span_ms = (config.duration_hours * 3_600_000.0) as i64;
        ChunkedGenerator::new(
            "oplogs",
            config.seed,
            move |k| {
                let mut epoch = config.clone();
                epoch.seed = epoch_seed(config.seed, k);
                epoch.start_time_ms += k as i64 * span_ms;
                OperationalLogSimulator { config: epoch }.run().logs
            },
            |l: &LogEvent| l.timestamp,
        )
    }

    /// Runs the simulation.
    pub fn run(&self) -> OperationalLogResult {
        let c = &self.config;
        let services = c.resolved_services();
        let end = c.start_time_ms + (c.duration_hours * HOUR_MS as f64) as i64;
        let latency = self.latency_distribution();
        let gaps = Exp::new(c.events_per_hour / HOUR_MS as f64).ok();
        let depth = Poisson::new((c.trace_depth_mean - 1.0).max(1e-9)).ok();
        let (mut logs, mut traces, mut health) = (Vec::new(), Vec::new(), Vec::new());
        let (mut outages, mut spikes, mut bursts) = (0u64, 0u64, 0u64);
        let (mut outage_requests, mut outage_errors) = (0u64, 0u64);
        for (s, service) in services.iter().enumerate() {
            let s = s as u64;
            let spike = self.incidents(
                SPIKE_SALT,
                s,
                c.latency_spike_enabled,
                c.latency_spike_probability,
                c.latency_spike_duration_minutes,
            );
            let outage = self.incidents(
                OUTAGE_SALT,
                s,
                c.outage_enabled,
                c.outage_probability,
                c.outage_duration_minutes,
            );
            let burst = self.incidents(
                BURST_SALT,
                s,
                c.error_burst_enabled,
                c.error_burst_probability,
                1.0,
            );
            outages += outage.len() as u64;
            spikes += spike.len() as u64;
            bursts += burst.len() as u64;
            let within = |w: &Windows, t: i64| w.iter().any(|&(a, b)| t >= a && t < b);
            let mut arrivals = event_rng(c.seed ^ s, u64::MAX);
            let mut t = c.start_time_ms as f64;
            let mut latencies = Vec::new();
            let (mut requests, mut errors) = (0u64, 0u64);
            let mut n = 0u64;
            loop {
                t += gaps.map_or(1.0, |g| g.sample(&mut arrivals));
                if t >= end as f64 {
                    break;
                }
                let ts = RateCurve::warp_opt(c.rate_curve.as_ref(), c.start_time_ms, t as i64);
                let mut rng = event_rng(c.seed ^ (s << 48), n);
                let (in_outage, in_spike) = (within(&outage, ts), within(&spike, ts));
                let mut ms = latency.map_or(c.latency_mean_ms, |l| l.sample(&mut rng));
                if in_spike {
                    ms *= c.latency_spike_multiplier;
                }
                let error_rate = if in_outage {
                    c.outage_error_rate
                } else {
                    service.base_error_rate
                };
                let failed = rng.random::<f64>() < error_rate;
                let (level, status_code, message) = if failed {
                    (
                        LogLevel::Error,
                        if in_outage { 503 } else { 500 },
                        "request failed",
                    )
                } else if ms > 5.0 * c.latency_mean_ms {
                    (LogLevel::Warn, 200, "slow request")
                } else {
                    (LogLevel::Info, 200, "request completed")
                };
                if in_outage {
                    outage_requests += 1;
                    outage_errors += failed as u64;
                }
                let trace_id = c
                    .trace_enabled
                    .then(|| format!("{:016x}", rng.random::<u64>()));
                if let Some(id) = &trace_id {
                    let spans = 1 + depth.map_or(0, |d| d.sample(&mut rng) as u64);
                    traces.push(Trace {
                        trace_id: id.clone(),
                        root_service: service.name.clone(),
                        span_count: spans,
                        start_time: ts,
                        duration_ms: ms,
                    });
                }
                requests += 1;
                errors += failed as u64;
                latencies.push(ms);
                logs.push(LogEvent {
                    timestamp: ts,
                    service: service.name.clone(),
                    level,
                    status_code,
                    latency_ms: (ms * 1_000.0).round() / 1_000.0,
                    message: message.to_string(),
                    trace_id,
                    in_outage,
                    in_spike,
                });
                n += 1;
            }
            for (b, &(start, _)) in burst.iter().enumerate() {
                let mut rng = event_rng(c.seed ^ BURST_SALT ^ s, b as u64);
                for _ in 0..c.error_burst_count {
                    let ts = start + rng.random_range(0..60_000);
                    errors += 1;
                    requests += 1;
                    logs.push(LogEvent {
                        timestamp: ts,
                        service: service.name.clone(),
                        level: LogLevel::Error,
                        status_code: 500,
                        latency_ms: 0.0,
                        message: "unhandled exception (error burst)".to_string(),
                        trace_id: None,
                        in_outage: within(&outage, ts),
                        in_spike: within(&spike, ts),
                    });
                }
            }
            latencies.sort_by(f64::total_cmp);
            let pct = |q: f64| {
                latencies
                    .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
                    .copied()
                    .unwrap_or(0.0)
            };
            health.push(ServiceHealth {
                service: service.name.clone(),
                requests,
                errors,
                error_rate: if requests > 0 {
                    errors as f64 / requests as f64
                } else {
                    0.0
                },
                p50_latency_ms: pct(0.5),
                p99_latency_ms: pct(0.99),
                outage_minutes: outage.len() as f64 * c.outage_duration_minutes,
            });
        }
        logs.sort_by(|a, b| (a.timestamp, &a.service).cmp(&(b.timestamp, &b.service)));
        let stats = OperationalLogStats {
            total_logs: logs.len() as u64,
            error_logs: logs.iter().filter(|l| l.level == LogLevel::Error).count() as u64,
            outages,
            outage_error_rate: if outage_requests > 0 {
                outage_errors as f64 / outage_requests as f64
            } else {
                0.0
            },
            latency_spikes: spikes,
            error_bursts: bursts,
            traces: traces.len() as u64,
            mean_spans_per_trace: if traces.is_empty() {
                0.0
            } else {
                traces.iter().map(|t| t.span_count).sum::<u64>() as f64 / traces.len() as f64
            },
        };
        OperationalLogResult {
            logs,
            traces,
            service_health: health,
            stats,
        }
    }
}
