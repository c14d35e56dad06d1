//! What the server shows: jobs it can ask for their status, metrics, plan and
//! explanations. A processor is one job; a manager lists several.

use std::sync::Arc;

use crate::explain::WindowExplanation;
use crate::metrics::Metrics;
use crate::plan::PlanGraph;
use crate::processor::Status;
use crate::time::Timestamp;

/// A running (or finished) pipeline as the server sees it.
pub trait Observable: Send + Sync {
    /// The pipeline's name (unique among a server's jobs).
    fn name(&self) -> String;
    /// Its status now.
    fn status(&self) -> Status;
    /// Its metrics now.
    fn metrics(&self) -> Metrics;
    /// Its physical plan.
    fn plan(&self) -> PlanGraph;
    /// Why `key`'s window starting at `window_start` fired or has not (empty unless
    /// the run records explanations, [`Config::with_explain`](crate::config::Config::with_explain)).
    fn explain(&self, key: &serde_json::Value, window_start: Timestamp) -> Vec<WindowExplanation>;
    /// Whether the run records explanations.
    fn explains(&self) -> bool;
    /// Windows that fired lately, newest first, at most `limit`: what the explain view
    /// offers to open.
    fn recent_firings(&self, limit: usize) -> Vec<RecentFiring>;
    /// The error of a failed run, as text.
    fn error(&self) -> Option<String>;
    /// The last progress a manager recorded for it, if any (a query's batch).
    fn progress(&self) -> Option<serde_json::Value> {
        None
    }
}

/// One window that fired, to be explained.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecentFiring {
    /// The window operator.
    pub operator: String,
    /// The key, as JSON text.
    pub key: String,
    /// Window start.
    pub window_start: Timestamp,
    /// Window end.
    pub window_end: Timestamp,
    /// The watermark that fired it (`i64::MIN`: end of input).
    pub watermark: Timestamp,
}

/// The jobs a server shows, asked on every request (a manager's list changes).
pub trait Jobs: Send + Sync + 'static {
    /// Every job now, in a stable order.
    fn jobs(&self) -> Vec<Arc<dyn Observable>>;

    /// Lines `/metrics` adds after the jobs' own, in the Prometheus text format (a
    /// group instance's assignment and lag); default none.
    fn extra_metrics(&self) -> String {
        String::new()
    }
}

/// A fixed list of jobs (one processor's server holds itself).
impl Jobs for Vec<Arc<dyn Observable>> {
    fn jobs(&self) -> Vec<Arc<dyn Observable>> {
        self.clone()
    }
}

/// Jobs listed by a function (a manager's current pipelines).
pub struct JobsFn<F>(pub F);

impl<F: Fn() -> Vec<Arc<dyn Observable>> + Send + Sync + 'static> Jobs for JobsFn<F> {
    fn jobs(&self) -> Vec<Arc<dyn Observable>> {
        (self.0)()
    }
}
