//! Determinism and statistics of the clickstream simulator.

use std::hash::{DefaultHasher, Hash, Hasher};

use super::*;
use crate::core::pinned::assert_first_pinned;
use crate::core::GeneratorError;

fn fingerprint(result: &ClickstreamResult) -> u64 {
    let mut h = DefaultHasher::new();
    serde_json::to_string(&result.page_views)
        .unwrap()
        .hash(&mut h);
    serde_json::to_string(&result.sessions)
        .unwrap()
        .hash(&mut h);
    h.finish()
}

fn run(config: ClickstreamConfig) -> ClickstreamResult {
    ClickstreamSimulator::new(config).unwrap().run()
}

#[test]
fn the_same_seed_gives_the_same_data_and_another_seed_other_data() {
    let small = || ClickstreamConfig {
        users: 100,
        ..Default::default()
    };
    assert_eq!(fingerprint(&run(small())), fingerprint(&run(small())));
    assert_ne!(
        fingerprint(&run(small())),
        fingerprint(&run(ClickstreamConfig { seed: 7, ..small() }))
    );
}

#[test]
fn the_first_page_views_of_seed_42_are_pinned() {
    let result = run(ClickstreamConfig {
        users: 10,
        ..Default::default()
    });
    assert_first_pinned(
        &result.sessions,
        3,
        include_str!("clickstream_seed42.jsonl"),
    );
}

#[test]
fn observed_rates_match_the_configured_ones() {
    // 40 000 sessions: standard errors are below 0.003 for every rate checked.
    let result = run(ClickstreamConfig {
        users: 16_000,
        ..Default::default()
    });
    let s = &result.stats;
    assert_eq!(s.total_sessions, 40_000);
    assert!(
        (s.bounce_rate - 0.35).abs() < 0.015,
        "bounce rate {}",
        s.bounce_rate
    );
    assert!(
        (s.bot_fraction - 0.15).abs() < 0.015,
        "bot fraction {}",
        s.bot_fraction
    );
    assert!(
        (s.funnel_drop_rate - 0.4).abs() < 0.015,
        "drop rate {}",
        s.funnel_drop_rate
    );
    assert!(
        (s.avg_pages_per_session - 5.0).abs() < 0.1,
        "pages {}",
        s.avg_pages_per_session
    );
    // every bot session crawls exactly bot_pages_per_session pages
    let bot_views = result.page_views.iter().filter(|v| v.is_bot).count() as u64;
    assert_eq!(bot_views, s.bot_sessions * 50);
    // a funnel stage is reached by no more sessions than the one before
    assert!(
        s.funnel_stage_counts.windows(2).all(|w| w[0] >= w[1]),
        "{:?}",
        s.funnel_stage_counts
    );
}

#[test]
fn page_views_are_in_event_time_order_within_the_window() {
    let config = ClickstreamConfig {
        users: 300,
        ..Default::default()
    };
    let start = config.start_time_ms;
    let result = run(config);
    assert!(result.page_views.windows(2).all(|w| w[0].ts <= w[1].ts));
    assert!(result
        .sessions
        .iter()
        .all(|s| s.started_at >= start && s.started_at < start + 86_400_000));
}

#[test]
fn invalid_configs_report_every_problem_with_its_field() {
    let config = ClickstreamConfig {
        bounce_rate: 1.2,
        users: 0,
        device_types: vec![],
        ..Default::default()
    };
    let problems = ClickstreamSimulator::new(config).unwrap_err();
    let text: Vec<String> = problems.iter().map(GeneratorError::to_string).collect();
    assert_eq!(
        text,
        vec![
            "`bounce_rate`: expected a probability in [0, 1], found 1.2",
            "`users`: expected at least 1, found 0",
            "`device_types`: expected at least one entry, found an empty list",
        ]
    );
}
