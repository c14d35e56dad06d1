//! Operational logs: determinism, incident rates, latency distribution, traces.

use super::*;
use crate::core::pinned::assert_first_pinned;

fn run(config: OperationalLogConfig) -> OperationalLogResult {
    OperationalLogSimulator::new(config).unwrap().run()
}

#[test]
fn the_same_seed_gives_the_same_logs() {
    let small = || OperationalLogConfig {
        duration_hours: 2.0,
        ..Default::default()
    };
    assert_eq!(run(small()), run(small()));
    assert_ne!(
        run(small()).logs,
        run(OperationalLogConfig { seed: 5, ..small() }).logs
    );
}

#[test]
fn the_first_logs_of_seed_42_are_pinned() {
    let result = run(OperationalLogConfig {
        duration_hours: 1.0,
        ..Default::default()
    });
    assert_first_pinned(&result.logs, 3, include_str!("oplogs_seed42.jsonl"));
}

#[test]
fn outages_fail_requests_at_the_outage_error_rate_and_traces_have_the_mean_depth() {
    let config = OperationalLogConfig {
        duration_hours: 200.0,
        outage_probability: 0.2,
        error_burst_enabled: false,
        ..Default::default()
    };
    let result = run(config);
    let s = &result.stats;
    assert!(s.outages > 100, "{}", s.outages);
    assert!(
        (s.outage_error_rate - 0.8).abs() < 0.03,
        "{}",
        s.outage_error_rate
    );
    assert!(
        (s.mean_spans_per_trace - 3.5).abs() < 0.05,
        "{}",
        s.mean_spans_per_trace
    );
    // 5 services x 200 h x 100 per hour (Poisson)
    assert!(
        (s.total_logs as f64 - 100_000.0).abs() < 1_500.0,
        "{}",
        s.total_logs
    );
    // log-normal latency with mean 50 ms: the median is below the mean
    for h in &result.service_health {
        assert!(h.p50_latency_ms > 30.0 && h.p50_latency_ms < 50.0, "{h:?}");
    }
}

#[test]
fn error_bursts_add_their_count_of_errors() {
    let config = OperationalLogConfig {
        duration_hours: 100.0,
        error_burst_probability: 0.5,
        outage_enabled: false,
        ..Default::default()
    };
    let result = run(config);
    let burst_errors = result
        .logs
        .iter()
        .filter(|l| l.message.contains("error burst"))
        .count() as u64;
    assert_eq!(burst_errors, result.stats.error_bursts * 50);
    assert!(
        result.stats.error_bursts > 200,
        "{}",
        result.stats.error_bursts
    );
}

#[test]
fn invalid_configs_name_each_field() {
    let config = OperationalLogConfig {
        outage_error_rate: 1.1,
        latency_mean_ms: 0.0,
        ..Default::default()
    };
    let problems: Vec<String> = OperationalLogSimulator::new(config)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        vec![
            "`outage_error_rate`: expected a probability in [0, 1], found 1.1",
            "`latency_mean_ms`: expected a number > 0, found 0",
        ]
    );
}
