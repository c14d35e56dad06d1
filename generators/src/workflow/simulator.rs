//! The workflow simulation: entity `n` walks the state machine with its own RNG stream
//! `(seed, n)`.

use crate::core::GeneratorErrors;
use crate::core::{epoch_seed, ChunkedGenerator, RecordedGenerator};
use std::collections::BTreeMap;

use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::model::{EntitySummary, TransitionEvent, WorkflowResult, WorkflowStats};
use super::{TransitionRule, WorkflowConfig};
use crate::core::{event_rng, EventRng};

const HOUR_MS: f64 = 3_600_000.0;

/// Simulates entities moving through a workflow.
#[derive(Debug, Clone)]
pub struct WorkflowSimulator {
    config: WorkflowConfig,
}

struct Walk {
    events: Vec<TransitionEvent>,
    summary: EntitySummary,
    hit_limit: bool,
    skips: u64,
    backwards: u64,
}

impl WorkflowSimulator {
    /// A simulator for a validated configuration.
    pub fn new(config: WorkflowConfig) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        Ok(WorkflowSimulator { config })
    }

    fn outgoing(&self, state: &str) -> Vec<&TransitionRule> {
        self.config
            .transitions
            .iter()
            .filter(|t| t.from_state == state)
            .collect()
    }

    fn choose<'a>(rng: &mut EventRng, options: &[&'a TransitionRule]) -> &'a TransitionRule {
        let total: f64 = options.iter().map(|t| t.probability).sum();
        let mut pick = rng.random::<f64>() * total;
        for t in options {
            if pick < t.probability {
                return t;
            }
            pick -= t.probability;
        }
        options[options.len() - 1]
    }

    fn dwell_hours(rng: &mut EventRng, t: &TransitionRule) -> f64 {
        let sampled = Normal::new(t.dwell_hours_mean, t.dwell_hours_std)
            .map(|n| n.sample(rng))
            .unwrap_or(t.dwell_hours_mean);
        sampled.max(t.min_dwell_hours)
    }

    fn is_terminal(&self, state: &str) -> bool {
        self.config
            .states
            .iter()
            .any(|s| s.name == state && s.is_terminal)
    }

    fn walk(&self, n: u64) -> Walk {
        let c = &self.config;
        let mut rng = event_rng(c.seed, n);
        let entity_id = format!("{}_{n:06}", c.entity_prefix);
        let initial: Vec<&str> = c
            .states
            .iter()
            .filter(|s| s.is_initial)
            .map(|s| s.name.as_str())
            .collect();
        let mut state = initial[rng.random_range(0..initial.len())].to_string();
        let started_at = crate::core::RateCurve::warp_opt(
            c.rate_curve.as_ref(),
            c.start_time_ms,
            c.start_time_ms + rng.random_range(0..86_400_000),
        );
        let mut now = started_at;
        let mut events = vec![TransitionEvent {
            entity_id: entity_id.clone(),
            from_state: None,
            to_state: state.clone(),
            transitioned_at: now,
            dwell_hours: 0.0,
            anomaly: None,
        }];
        let (mut previous, mut stuck, mut hit_limit, mut skips, mut backwards) =
            (None::<String>, false, true, 0, 0);
        for _ in 0..c.max_transitions_per_entity {
            let options = self.outgoing(&state);
            if self.is_terminal(&state) || options.is_empty() {
                hit_limit = false;
                break;
            }
            if c.anomaly_enabled && rng.random::<f64>() < c.anomaly_stuck_probability {
                stuck = true;
                hit_limit = false;
                break;
            }
            let rule = Self::choose(&mut rng, &options);
            let dwell = Self::dwell_hours(&mut rng, rule);
            let mut to = rule.to_state.clone();
            let mut anomaly = None;
            if c.anomaly_enabled {
                let r = rng.random::<f64>();
                if r < c.anomaly_skip_probability {
                    let next = self.outgoing(&to);
                    if !next.is_empty() && !self.is_terminal(&to) {
                        to = Self::choose(&mut rng, &next).to_state.clone();
                        anomaly = Some("skip".to_string());
                        skips += 1;
                    }
                } else if r < c.anomaly_skip_probability + c.anomaly_backward_probability {
                    if let Some(back) = previous.clone() {
                        to = back;
                        anomaly = Some("backward".to_string());
                        backwards += 1;
                    }
                }
            }
            now += (dwell * HOUR_MS) as i64;
            events.push(TransitionEvent {
                entity_id: entity_id.clone(),
                from_state: Some(state.clone()),
                to_state: to.clone(),
                transitioned_at: now,
                dwell_hours: dwell,
                anomaly,
            });
            previous = Some(std::mem::replace(&mut state, to));
        }
        let completed = self.is_terminal(&state);
        let summary = EntitySummary {
            entity_id,
            final_state: state,
            transitions: events.len() as u64 - 1,
            started_at,
            ended_at: now,
            completed,
            stuck,
        };
        Walk {
            events,
            summary,
            hit_limit: hit_limit && !completed,
            skips,
            backwards,
        }
    }

    /// The run's transition events as a generator in event-time order, for a paced,
    /// resumable pipeline source (`GeneratorSource::new(sim.generator())`). The run is
    /// computed once, here.
    pub fn generator(&self) -> RecordedGenerator<TransitionEvent> {
        let events = self.run().events;
        RecordedGenerator::new("workflow", self.config.seed, events, |e| e.transitioned_at)
    }

    /// An endless stream: a new cohort of `entity_count` entities each day (epoch),
    /// ids marked by the epoch after the first (`ORD_000001`, then `ORD_e1_000001`), each cohort a
    /// run of its own seed (epoch 0 is the bounded run).
    pub fn unbounded(&self) -> ChunkedGenerator<TransitionEvent> {
        let config = self.config.clone();
        ChunkedGenerator::new(
            "workflow",
            config.seed,
            move |k| {
                let mut epoch = config.clone();
                epoch.seed = epoch_seed(config.seed, k);
                epoch.start_time_ms += k as i64 * 86_400_000;
                if k > 0 {
                    epoch.entity_prefix = format!("{}_e{k}", config.entity_prefix);
                }
                WorkflowSimulator { config: epoch }.run().events
            },
            |e: &TransitionEvent| e.transitioned_at,
        )
    }

    /// Runs the simulation.
    pub fn run(&self) -> WorkflowResult {
        let mut events = Vec::new();
        let mut entity_summary = Vec::new();
        let mut state_distribution = BTreeMap::new();
        let (mut limit, mut skips, mut backwards) = (0, 0, 0);
        for n in 0..self.config.entity_count {
            let walk = self.walk(n);
            *state_distribution
                .entry(walk.summary.final_state.clone())
                .or_insert(0) += 1;
            limit += walk.hit_limit as u64;
            skips += walk.skips;
            backwards += walk.backwards;
            events.extend(walk.events);
            entity_summary.push(walk.summary);
        }
        let entities = entity_summary.len() as u64;
        let cycle_hours: f64 = entity_summary
            .iter()
            .map(|s| (s.ended_at - s.started_at) as f64 / HOUR_MS)
            .sum();
        let stats = WorkflowStats {
            entities,
            events: events.len() as u64,
            completed: entity_summary.iter().filter(|s| s.completed).count() as u64,
            stuck: entity_summary.iter().filter(|s| s.stuck).count() as u64,
            hit_transition_limit: limit,
            skips,
            backwards,
            mean_cycle_hours: if entities > 0 {
                cycle_hours / entities as f64
            } else {
                0.0
            },
        };
        WorkflowResult {
            events,
            entity_summary,
            state_distribution,
            stats,
        }
    }
}
