//! Workflow definitions and simulation parameters.

use crate::core::GeneratorErrors;
use serde::{Deserialize, Serialize};

use crate::core::{all_problems, check_probability, GeneratorError};

/// One state of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDefinition {
    /// Unique name.
    pub name: String,
    /// Entities can start here.
    #[serde(default)]
    pub is_initial: bool,
    /// The workflow ends here (no outgoing transitions).
    #[serde(default)]
    pub is_terminal: bool,
    /// Arbitrary key-value pairs attached to the state (carried, not interpreted).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metadata: std::collections::BTreeMap<String, serde_json::Value>,
}

impl StateDefinition {
    /// A state that is neither initial nor terminal.
    pub fn new(name: &str) -> Self {
        StateDefinition {
            name: name.to_string(),
            is_initial: false,
            is_terminal: false,
            metadata: Default::default(),
        }
    }

    /// Marks the state initial.
    pub fn initial(mut self) -> Self {
        self.is_initial = true;
        self
    }

    /// Marks the state terminal.
    pub fn terminal(mut self) -> Self {
        self.is_terminal = true;
        self
    }
}

/// A weighted transition between two states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionRule {
    /// Source state.
    pub from_state: String,
    /// Destination state.
    pub to_state: String,
    /// Relative weight among the source state's transitions.
    #[serde(default = "one")]
    pub probability: f64,
    /// Mean hours spent in the source state before this transition.
    #[serde(default = "one")]
    pub dwell_hours_mean: f64,
    /// Standard deviation of the dwell time (normal distribution).
    #[serde(default = "half")]
    pub dwell_hours_std: f64,
    /// Floor of the sampled dwell time.
    #[serde(default = "tenth")]
    pub min_dwell_hours: f64,
}

fn one() -> f64 {
    1.0
}
fn half() -> f64 {
    0.5
}
fn tenth() -> f64 {
    0.1
}

impl TransitionRule {
    /// A transition with weight `probability` and a mean dwell of `dwell_hours_mean`
    /// (standard deviation half of it, floor 0.1 h).
    pub fn new(from: &str, to: &str, probability: f64, dwell_hours_mean: f64) -> Self {
        TransitionRule {
            from_state: from.to_string(),
            to_state: to.to_string(),
            probability,
            dwell_hours_mean,
            dwell_hours_std: dwell_hours_mean / 2.0,
            min_dwell_hours: 0.1,
        }
    }
}

/// The built-in workflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowPreset {
    /// placed -> paid -> picked -> shipped -> delivered (with cancellations and returns).
    OrderFulfillment,
    /// opened -> triaged -> in progress -> resolved -> closed (with reopen).
    SupportTicket,
    /// offer accepted -> paperwork -> equipment -> orientation -> active.
    EmployeeOnboarding,
}

impl std::str::FromStr for WorkflowPreset {
    type Err = GeneratorError;

    fn from_str(s: &str) -> Result<Self, GeneratorError> {
        match s {
            "order_fulfillment" => Ok(WorkflowPreset::OrderFulfillment),
            "support_ticket" => Ok(WorkflowPreset::SupportTicket),
            "employee_onboarding" => Ok(WorkflowPreset::EmployeeOnboarding),
            other => Err(GeneratorError::InvalidParameter {
                field: "preset".into(),
                expected: "order_fulfillment, support_ticket or employee_onboarding".into(),
                found: other.into(),
            }),
        }
    }
}

/// Parameters of [`WorkflowSimulator`](super::WorkflowSimulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowConfig {
    /// The states.
    pub states: Vec<StateDefinition>,
    /// The transitions.
    pub transitions: Vec<TransitionRule>,
    /// Entities to simulate.
    pub entity_count: u64,
    /// Prefix of entity ids.
    pub entity_prefix: String,
    /// Start of the simulation (epoch ms).
    #[serde(alias = "start_time", deserialize_with = "crate::core::ms_or_iso")]
    pub start_time_ms: i64,
    /// Safety limit of transitions per entity.
    pub max_transitions_per_entity: u64,
    /// Inject anomalous transitions.
    pub anomaly_enabled: bool,
    /// Chance of skipping a state.
    pub anomaly_skip_probability: f64,
    /// Chance of getting stuck (no further transitions).
    pub anomaly_stuck_probability: f64,
    /// Chance of moving back to the previous state.
    pub anomaly_backward_probability: f64,
    /// Daily and weekly shape of the event rate (`diurnal`, `business_week`, or
    /// `{hourly, weekly}` multipliers; none: constant). The events of a week stay as
    /// many; they bunch where the curve is high.
    #[serde(default)]
    pub rate_curve: Option<crate::core::RateCurve>,
    /// Random seed.
    pub seed: u64,
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        WorkflowConfig {
            states: Vec::new(),
            transitions: Vec::new(),
            entity_count: 100,
            entity_prefix: "entity".into(),
            start_time_ms: 1_704_067_200_000, // 2024-01-01T00:00:00Z
            max_transitions_per_entity: 20,
            anomaly_enabled: true,
            anomaly_skip_probability: 0.02,
            anomaly_stuck_probability: 0.01,
            anomaly_backward_probability: 0.01,
            rate_curve: None,
            seed: 42,
        }
    }
}

impl WorkflowConfig {
    /// The default parameters with a preset's states and transitions.
    pub fn preset(preset: WorkflowPreset) -> Self {
        let (states, transitions) = super::presets::preset(preset);
        WorkflowConfig {
            states,
            transitions,
            ..WorkflowConfig::default()
        }
    }

    /// Sets the number of entities.
    pub fn with_entities(mut self, n: u64) -> Self {
        self.entity_count = n;
        self
    }

    /// Checks the state machine and parameters; returns every problem.
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let mut problems = Vec::new();
        let mut bad = |field: &str, expected: &str, found: String| {
            problems.push(GeneratorError::InvalidParameter {
                field: field.into(),
                expected: expected.into(),
                found,
            })
        };
        if self.states.is_empty() {
            bad(
                "states",
                "at least one state",
                "an empty state machine".into(),
            );
        } else if !self.states.iter().any(|s| s.is_initial) {
            bad(
                "states",
                "at least one initial state",
                "none marked is_initial".into(),
            );
        }
        let known = |name: &str| self.states.iter().any(|s| s.name == name);
        for (i, t) in self.transitions.iter().enumerate() {
            for (end, state) in [("from_state", &t.from_state), ("to_state", &t.to_state)] {
                if !known(state) {
                    bad(
                        &format!("transitions[{i}].{end}"),
                        "the name of a state",
                        state.clone(),
                    );
                }
            }
            if t.probability.is_nan() || t.probability <= 0.0 {
                bad(
                    &format!("transitions[{i}].probability"),
                    "a weight > 0",
                    t.probability.to_string(),
                );
            }
            if !(t.dwell_hours_mean >= 0.0 && t.dwell_hours_std >= 0.0 && t.min_dwell_hours >= 0.0)
            {
                bad(
                    &format!("transitions[{i}]"),
                    "non-negative dwell times",
                    format!("{t:?}"),
                );
            }
        }
        for s in self.states.iter().filter(|s| s.is_terminal) {
            if self.transitions.iter().any(|t| t.from_state == s.name) {
                bad(
                    "transitions",
                    "no transition out of a terminal state",
                    s.name.clone(),
                );
            }
        }
        if self.entity_count == 0 {
            bad("entity_count", "at least 1", "0".into());
        }
        for (field, p) in [
            ("anomaly_skip_probability", self.anomaly_skip_probability),
            ("anomaly_stuck_probability", self.anomaly_stuck_probability),
            (
                "anomaly_backward_probability",
                self.anomaly_backward_probability,
            ),
        ] {
            if let Err(e) = check_probability(field, p) {
                problems.push(e);
            }
        }
        problems.extend(crate::core::RateCurve::check(self.rate_curve.as_ref()));
        all_problems(problems)
    }
}
