//! The simulators whose events depend on each other run unbounded as pipeline sources:
//! epoch after epoch, the first epoch being the bounded run, later ones new.

use tidewater_engine::prelude::*;
use tidewater_generators::core::{Generator, GeneratorSource};
use tidewater_generators::financial::{FinancialStreamConfig, FinancialStreamSimulator};
use tidewater_generators::iot::{IotTelemetryConfig, IotTelemetrySimulator, Reading};
use tidewater_generators::oplogs::{OperationalLogConfig, OperationalLogSimulator};
use tidewater_generators::workflow::{WorkflowConfig, WorkflowPreset, WorkflowSimulator};

/// Reads `n` events of `generator` through a two-worker pipeline.
fn through_a_pipeline<G>(generator: G, n: u64) -> Vec<G::Event>
where
    G: Generator,
    G::Event: Clone + Send + Sync + 'static,
{
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(2));
    p.source(GeneratorSource::new(generator).with_max_events(n))
        .sink(out.clone());
    p.run().unwrap();
    out.values()
}

#[test]
fn financial_epochs_continue_where_the_bounded_run_ends() {
    let config = FinancialStreamConfig {
        duration_hours: 2.0,
        ..Default::default()
    };
    let simulator = FinancialStreamSimulator::new(config.clone()).unwrap();
    let bounded = simulator.generator();
    let n = bounded.len().unwrap();
    let endless = simulator.unbounded().unwrap();
    assert_eq!(endless.len(), None);
    for i in [0, n / 2, n - 1] {
        assert_eq!(endless.event(i), bounded.event(i));
    }
    // Epoch 1 covers the next two hours with other transactions.
    let next = endless.event(n);
    assert!(
        next.transaction_time >= config.start_time_ms + 2 * 3_600_000 - 60_000,
        "{next:?}"
    );
    assert_ne!(next.amount, bounded.event(0).amount);
    assert!(next.transaction_id.starts_with("e1-"), "{next:?}");
    let events = through_a_pipeline(endless, 3 * n);
    assert_eq!(events.len() as u64, 3 * n);
    let ids: std::collections::HashSet<&str> =
        events.iter().map(|t| t.transaction_id.as_str()).collect();
    assert_eq!(ids.len() as u64, 3 * n, "ids are unique across epochs");
    let latest = events.iter().map(|t| t.transaction_time).max().unwrap();
    assert!(
        latest > config.start_time_ms + 4 * 3_600_000,
        "three epochs reach the fifth hour"
    );
}

#[test]
fn the_iot_fleet_keeps_its_devices_and_drains_on() {
    let config = IotTelemetryConfig {
        fleet_size: 5,
        duration_hours: 1.0,
        battery_drain_rate: 1.0,
        ..Default::default()
    };
    let simulator = IotTelemetrySimulator::new(config.clone()).unwrap();
    let bounded = simulator.run().readings;
    let n = bounded.len() as u64;
    let endless = simulator.unbounded().unwrap();
    assert_eq!(endless.event(0), bounded[0]);
    assert_eq!(endless.event(n - 1), bounded[n as usize - 1]);
    let second: Vec<Reading> = (n..2 * n).map(|i| endless.event(i)).collect();
    let sensors = |rs: &[Reading]| {
        let mut s: Vec<(String, String)> = rs
            .iter()
            .map(|r| (r.device_id.clone(), r.sensor_type.clone()))
            .collect();
        s.sort();
        s.dedup();
        s
    };
    assert_eq!(
        sensors(&second),
        sensors(&bounded),
        "the same devices with the same sensors"
    );
    // An hour later, every battery is about an hour's drain lower.
    let first_of = |rs: &[Reading], device: &str| {
        rs.iter()
            .find(|r| r.device_id == device)
            .unwrap()
            .battery_level
    };
    for d in 0..5 {
        let device = format!("dev-{d:04}");
        let drop = first_of(&bounded, &device) - first_of(&second, &device);
        assert!((drop - 1.0).abs() < 0.05, "{device}: {drop}");
    }
    assert_ne!(second[0].value, bounded[0].value);
    assert!(simulator.run().readings.len() as u64 == n);
}

#[test]
fn logs_and_workflows_run_on_without_end() {
    let logs = OperationalLogSimulator::new(OperationalLogConfig {
        duration_hours: 1.0,
        ..Default::default()
    })
    .unwrap();
    let n = logs.generator().len().unwrap();
    let events = through_a_pipeline(logs.unbounded(), 2 * n + 10);
    assert_eq!(events.len() as u64, 2 * n + 10);

    let config = WorkflowConfig::preset(WorkflowPreset::OrderFulfillment).with_entities(20);
    let workflows = WorkflowSimulator::new(config).unwrap();
    let bounded = workflows.generator();
    let n = bounded.len().unwrap();
    let endless = workflows.unbounded();
    assert_eq!(endless.event(0), bounded.event(0));
    let later = endless.event(n + 1);
    assert!(later.entity_id.contains("_e1_"), "{}", later.entity_id);
    let events = through_a_pipeline(endless, 3 * n);
    assert_eq!(events.len() as u64, 3 * n);
}

#[test]
fn a_supplied_table_cannot_be_unbounded() {
    let rows = vec![Row::from_pairs([
        ("transaction_id", Value::from("t")),
        ("account_id", Value::from("a")),
        ("amount", Value::Float(1.0)),
        ("transaction_time", Value::Int(1_704_067_200_000)),
    ])];
    let simulator =
        FinancialStreamSimulator::on_table(FinancialStreamConfig::default(), &rows, None).unwrap();
    let e = simulator.unbounded().err().unwrap();
    assert_eq!(
        e.to_string(),
        "`transactions`: expected generated transactions for an unbounded stream, found a supplied table, which ends"
    );
}
