//! Workflow output rows and statistics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One state change of one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionEvent {
    /// The entity (`{prefix}_{n:06}`).
    pub entity_id: String,
    /// State left (`None` for the entity's creation).
    pub from_state: Option<String>,
    /// State entered.
    pub to_state: String,
    /// When (epoch ms).
    pub transitioned_at: i64,
    /// Hours spent in `from_state`.
    pub dwell_hours: f64,
    /// `skip`, `backward` or `None` for a regular transition.
    pub anomaly: Option<String>,
}

/// Where an entity ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntitySummary {
    /// The entity.
    pub entity_id: String,
    /// Final state.
    pub final_state: String,
    /// Transitions made (creation not counted).
    pub transitions: u64,
    /// Creation time (epoch ms).
    pub started_at: i64,
    /// Time of the last transition (epoch ms).
    pub ended_at: i64,
    /// Reached a terminal state.
    pub completed: bool,
    /// Stopped by the stuck anomaly.
    pub stuck: bool,
}

/// Aggregate statistics of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowStats {
    /// Entities simulated.
    pub entities: u64,
    /// Transition events (creations included).
    pub events: u64,
    /// Entities that reached a terminal state.
    pub completed: u64,
    /// Entities stopped by the stuck anomaly.
    pub stuck: u64,
    /// Entities stopped by `max_transitions_per_entity`.
    pub hit_transition_limit: u64,
    /// Skip anomalies injected.
    pub skips: u64,
    /// Backward anomalies injected.
    pub backwards: u64,
    /// Mean hours from creation to the last transition.
    pub mean_cycle_hours: f64,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowResult {
    /// All transitions sorted by (entity, time).
    pub events: Vec<TransitionEvent>,
    /// One row per entity.
    pub entity_summary: Vec<EntitySummary>,
    /// Entities per final state.
    pub state_distribution: BTreeMap<String, u64>,
    /// Aggregate statistics.
    pub stats: WorkflowStats,
}
