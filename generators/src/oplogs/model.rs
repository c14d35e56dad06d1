//! Operational log rows and statistics.

use serde::{Deserialize, Serialize};

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    /// A request that succeeded.
    Info,
    /// A slow request.
    Warn,
    /// A failed request.
    Error,
}

/// One request log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEvent {
    /// Event time (epoch ms).
    pub timestamp: i64,
    /// Emitting service.
    pub service: String,
    /// Severity.
    pub level: LogLevel,
    /// HTTP status code.
    pub status_code: u16,
    /// Request latency (ms).
    pub latency_ms: f64,
    /// Human-readable message.
    pub message: String,
    /// Trace id (when tracing is enabled).
    pub trace_id: Option<String>,
    /// During an outage of the service.
    pub in_outage: bool,
    /// During a latency spike of the service.
    pub in_spike: bool,
}

/// A distributed trace rooted at one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Trace id.
    pub trace_id: String,
    /// Service of the root span.
    pub root_service: String,
    /// Spans, root included.
    pub span_count: u64,
    /// Start (epoch ms).
    pub start_time: i64,
    /// Duration of the root span (ms).
    pub duration_ms: f64,
}

/// Per-service summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceHealth {
    /// The service.
    pub service: String,
    /// Requests logged.
    pub requests: u64,
    /// Errors logged.
    pub errors: u64,
    /// `errors / requests`.
    pub error_rate: f64,
    /// Median latency (ms).
    pub p50_latency_ms: f64,
    /// 99th percentile latency (ms).
    pub p99_latency_ms: f64,
    /// Minutes in outage.
    pub outage_minutes: f64,
}

/// Aggregate statistics of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationalLogStats {
    /// Log lines.
    pub total_logs: u64,
    /// Error lines.
    pub error_logs: u64,
    /// Outages.
    pub outages: u64,
    /// Error rate of requests during outages (burst errors excluded).
    pub outage_error_rate: f64,
    /// Latency spikes.
    pub latency_spikes: u64,
    /// Error bursts.
    pub error_bursts: u64,
    /// Traces.
    pub traces: u64,
    /// Mean spans per trace.
    pub mean_spans_per_trace: f64,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationalLogResult {
    /// All log events sorted by time.
    pub logs: Vec<LogEvent>,
    /// Traces.
    pub traces: Vec<Trace>,
    /// Per-service health.
    pub service_health: Vec<ServiceHealth>,
    /// Aggregate statistics.
    pub stats: OperationalLogStats,
}
