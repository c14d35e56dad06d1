//! Workflow simulation: determinism, state machine rules, anomaly rates, validation.

use super::*;
use crate::core::pinned::assert_first_pinned;
use crate::core::GeneratorError;

fn run(config: WorkflowConfig) -> WorkflowResult {
    WorkflowSimulator::new(config).unwrap().run()
}

#[test]
fn the_same_seed_gives_the_same_events() {
    let config = || WorkflowConfig::preset(WorkflowPreset::OrderFulfillment).with_entities(200);
    assert_eq!(run(config()), run(config()));
    assert_ne!(
        run(config()).events,
        run(WorkflowConfig {
            seed: 1,
            ..config()
        })
        .events
    );
}

#[test]
fn entities_follow_the_transitions_unless_an_anomaly_says_otherwise() {
    let config = WorkflowConfig::preset(WorkflowPreset::SupportTicket).with_entities(2_000);
    let rules = config.transitions.clone();
    let result = run(config);
    for e in result.events.iter().filter(|e| e.anomaly.is_none()) {
        if let Some(from) = &e.from_state {
            assert!(
                rules
                    .iter()
                    .any(|t| &t.from_state == from && t.to_state == e.to_state),
                "{e:?}"
            );
        }
    }
    // events of an entity are in time order
    assert!(result
        .events
        .windows(2)
        .all(|w| w[0].entity_id != w[1].entity_id || w[0].transitioned_at <= w[1].transitioned_at));
    let s = &result.stats;
    assert_eq!(s.completed + s.stuck + s.hit_transition_limit, 2_000);
    assert_eq!(result.state_distribution.values().sum::<u64>(), 2_000);
}

#[test]
fn stuck_anomalies_happen_at_the_configured_rate_per_step() {
    let config = WorkflowConfig {
        anomaly_stuck_probability: 0.1,
        anomaly_skip_probability: 0.0,
        anomaly_backward_probability: 0.0,
        ..WorkflowConfig::preset(WorkflowPreset::EmployeeOnboarding).with_entities(20_000)
    };
    let result = run(config);
    // Each non-terminal step is a 10% chance: P(stuck before the first step) = 0.1 exactly.
    let stuck_at_start = result
        .entity_summary
        .iter()
        .filter(|s| s.stuck && s.transitions == 0)
        .count() as f64;
    let rate = stuck_at_start / 20_000.0;
    assert!((rate - 0.1).abs() < 0.01, "{rate}");
    assert_eq!(result.stats.skips + result.stats.backwards, 0);
}

#[test]
fn order_fulfillment_mostly_delivers() {
    let result = run(WorkflowConfig::preset(WorkflowPreset::OrderFulfillment).with_entities(5_000));
    let delivered = result
        .state_distribution
        .get("delivered")
        .copied()
        .unwrap_or(0) as f64
        / 5_000.0;
    // 0.9 paid x 0.97 picked x 0.95 delivered = 0.83, less anomalies
    assert!((0.74..0.86).contains(&delivered), "{delivered}");
}

#[test]
fn broken_state_machines_report_every_problem() {
    let config = WorkflowConfig {
        states: vec![
            StateDefinition::new("a"),
            StateDefinition::new("b").terminal(),
        ],
        transitions: vec![
            TransitionRule::new("a", "c", 1.0, 1.0),
            TransitionRule::new("b", "a", 0.0, 1.0),
        ],
        anomaly_skip_probability: -0.5,
        ..WorkflowConfig::default()
    };
    let problems: Vec<String> = WorkflowSimulator::new(config)
        .unwrap_err()
        .iter()
        .map(GeneratorError::to_string)
        .collect();
    assert_eq!(
        problems,
        vec![
            "`states`: expected at least one initial state, found none marked is_initial",
            "`transitions[0].to_state`: expected the name of a state, found c",
            "`transitions[1].probability`: expected a weight > 0, found 0",
            "`transitions`: expected no transition out of a terminal state, found b",
            "`anomaly_skip_probability`: expected a probability in [0, 1], found -0.5",
        ]
    );
    assert!(
        WorkflowSimulator::new(WorkflowConfig::default()).unwrap_err()[0]
            .to_string()
            .contains("empty state machine")
    );
    assert!("returns_desk".parse::<WorkflowPreset>().is_err());
}

#[test]
fn the_first_events_of_seed_42_are_pinned() {
    let result = run(WorkflowConfig::preset(WorkflowPreset::OrderFulfillment).with_entities(3));
    assert_first_pinned(&result.events, 4, include_str!("workflow_seed42.jsonl"));
}
