//! The managers' pipelines as the metrics server sees them: a query keeps its plan
//! and result after its processor is released; a pipeline of a manager is shown under
//! the name the manager knows it by.

use std::sync::Arc;

use tidewater_engine::explain::WindowExplanation;
use tidewater_engine::http::{Observable, RecentFiring};
use tidewater_engine::metrics::Metrics;
use tidewater_engine::plan::PlanGraph;
use tidewater_engine::processor::Status;
use tidewater_engine::time::Timestamp;

use super::manager::Query;

/// A query of a [`QueryManager`](super::QueryManager).
pub(super) struct QueryView {
    pub name: String,
    pub query: Arc<Query>,
}

impl Observable for QueryView {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn status(&self) -> Status {
        self.query.status()
    }

    fn metrics(&self) -> Metrics {
        // A query that failed keeps no metrics: it shows zeros beside its error.
        self.query.metrics().unwrap_or_default()
    }

    fn plan(&self) -> PlanGraph {
        self.query.plan().clone()
    }

    fn explain(&self, key: &serde_json::Value, window_start: Timestamp) -> Vec<WindowExplanation> {
        self.query
            .with_processor(|p| p.observe().explain(key, window_start))
            .unwrap_or_default()
    }

    fn explains(&self) -> bool {
        self.query
            .with_processor(|p| p.observe().explains())
            .unwrap_or(false)
    }

    fn recent_firings(&self, limit: usize) -> Vec<RecentFiring> {
        self.query
            .with_processor(|p| p.observe().recent_firings(limit))
            .unwrap_or_default()
    }

    fn error(&self) -> Option<String> {
        self.query
            .with_processor(|p| p.error().map(|e| e.to_string()))
            .flatten()
            .or_else(|| self.query.ended_error())
    }

    fn progress(&self) -> Option<serde_json::Value> {
        Some(self.query.progress_json())
    }
}

/// `inner` shown as `name`.
pub(super) fn renamed(name: &str, inner: Arc<dyn Observable>) -> Arc<dyn Observable> {
    Arc::new(Renamed {
        name: name.to_string(),
        inner,
    })
}

struct Renamed {
    name: String,
    inner: Arc<dyn Observable>,
}

impl Observable for Renamed {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn status(&self) -> Status {
        self.inner.status()
    }
    fn metrics(&self) -> Metrics {
        self.inner.metrics()
    }
    fn plan(&self) -> PlanGraph {
        self.inner.plan()
    }
    fn explain(&self, key: &serde_json::Value, window_start: Timestamp) -> Vec<WindowExplanation> {
        self.inner.explain(key, window_start)
    }
    fn explains(&self) -> bool {
        self.inner.explains()
    }
    fn recent_firings(&self, limit: usize) -> Vec<RecentFiring> {
        self.inner.recent_firings(limit)
    }
    fn error(&self) -> Option<String> {
        self.inner.error()
    }
}
