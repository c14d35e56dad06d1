//! Workflow events -> per-entity keyed process -> entities that waited too long in one
//! state (an SLA breach), plus the anomalies the simulator injected.
//!
//! ```text
//! cargo run --release --example workflow_sla -- [order_fulfillment|support_ticket|employee_onboarding]
//! ```

use tidewater::generators::workflow::{
    TransitionEvent, WorkflowConfig, WorkflowPreset, WorkflowSimulator,
};
use tidewater::prelude::*;

/// Flags a transition out of a state held longer than the limit.
#[derive(Clone)]
struct SlaWatch {
    limit_hours: f64,
}

impl KeyedProcessFunction<String, TransitionEvent> for SlaWatch {
    type State = u64;
    type Out = (String, String, f64);

    fn process(
        &self,
        entity: &String,
        breaches: &mut u64,
        e: TransitionEvent,
        ctx: &mut KeyedContext<'_, Self::Out>,
    ) {
        if let Some(from) = e.from_state {
            if e.dwell_hours > self.limit_hours {
                *breaches += 1;
                ctx.emit((entity.clone(), from, e.dwell_hours));
            }
        }
    }
}

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let preset: WorkflowPreset = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "support_ticket".into())
        .parse()?;
    let result = WorkflowSimulator::new(WorkflowConfig::preset(preset).with_entities(5_000))?.run();
    println!("simulated: {}", serde_json::to_string(&result.stats)?);
    println!("final states: {:?}", result.state_distribution);
    let records: Vec<Record<TransitionEvent>> = result
        .events
        .into_iter()
        .map(|e| Record::new(e.transitioned_at, e))
        .collect();
    let breaches = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_name("workflow-sla"));
    p.source(VecSource::from_records(records))
        .with_watermark(Watermark::bounded("1 day", |e: &TransitionEvent| {
            e.transitioned_at
        }))
        .key_by(|e: &TransitionEvent| e.entity_id.clone())
        .process(SlaWatch { limit_hours: 48.0 })
        .sink(breaches.clone());
    p.run()?;
    let rows = breaches.values();
    let mut by_state: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, state, _) in &rows {
        *by_state.entry(state.clone()).or_default() += 1;
    }
    println!(
        "{} SLA breaches (> 48 h in a state): {:?}",
        rows.len(),
        by_state
    );
    Ok(())
}
