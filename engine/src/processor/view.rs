//! A processor as the metrics server sees it.

use std::sync::Arc;

use super::{snapshot, Shared, Status};
use crate::explain::WindowExplanation;
use crate::http::{Observable, RecentFiring};
use crate::metrics::{Metrics, MetricsRegistry};
use crate::plan::PlanGraph;
use crate::time::Timestamp;

pub(super) struct ProcessorView {
    pub name: String,
    pub explains: bool,
    pub shared: Arc<Shared>,
    pub metrics: Arc<MetricsRegistry>,
    pub plan: PlanGraph,
}

impl Observable for ProcessorView {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn status(&self) -> Status {
        self.shared.lock().status
    }

    fn metrics(&self) -> Metrics {
        snapshot(&self.shared, &self.metrics)
    }

    fn plan(&self) -> PlanGraph {
        self.plan.clone()
    }

    fn explain(&self, key: &serde_json::Value, window_start: Timestamp) -> Vec<WindowExplanation> {
        self.metrics
            .explain
            .explain(key, window_start, &self.metrics())
    }

    fn explains(&self) -> bool {
        self.explains
    }

    fn recent_firings(&self, limit: usize) -> Vec<RecentFiring> {
        self.metrics.explain.recent_firings(limit)
    }

    fn error(&self) -> Option<String> {
        self.shared.lock().error.as_ref().map(|e| e.to_string())
    }
}
