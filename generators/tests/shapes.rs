//! Daily and weekly rate curves and Zipf key skew, for every generator that draws
//! arrival times or keys: the measured shares follow the curve, hot keys are hot, and
//! both are parameters (`--param rate_curve=business_week --param key_skew=1.2`).

use std::collections::HashMap;

use tidewater_generators::clickstream::{ClickstreamConfig, ClickstreamSimulator};
use tidewater_generators::core::{apply_params, Generator, KeySkew, RateCurve};
use tidewater_generators::emitter::{StreamEmitConfig, StreamEmitter};
use tidewater_generators::financial::{FinancialStreamConfig, FinancialStreamSimulator};
use tidewater_generators::nexmark::{NexmarkConfig, NexmarkGenerator};
use tidewater_generators::oplogs::{OperationalLogConfig, OperationalLogSimulator};
use tidewater_generators::retail::{RetailDomain, Scale};
use tidewater_generators::workflow::{WorkflowConfig, WorkflowPreset, WorkflowSimulator};

/// 2024-01-01T00:00:00Z, a Monday.
const MONDAY: i64 = 1_704_067_200_000;
const WEEK_HOURS: f64 = 168.0;

/// (weekend share, events in 02-04 h per event in 10-12 h) of event times.
fn shape(times: &[i64]) -> (f64, f64) {
    let hour = |t: i64| ((t - MONDAY).rem_euclid(86_400_000) / 3_600_000) as usize;
    let day = |t: i64| ((t - MONDAY).rem_euclid(7 * 86_400_000) / 86_400_000) as usize;
    let weekend = times.iter().filter(|&&t| day(t) >= 5).count() as f64 / times.len() as f64;
    let night = times.iter().filter(|&&t| (2..4).contains(&hour(t))).count() as f64;
    let midday = times
        .iter()
        .filter(|&&t| (10..12).contains(&hour(t)))
        .count() as f64;
    (weekend, night / midday)
}

/// What the business-week curve says: weekends 0.8 of 6.3 day-weights; 02-04 h has
/// 0.15 + 0.15 against 1.5 + 1.5 at 10-12 h.
const WEEKEND: f64 = 0.8 / 6.3;
const NIGHT_PER_MIDDAY: f64 = 0.3 / 3.0;

fn assert_follows_the_curve(name: &str, times: &[i64], weekly: bool) {
    assert!(times.len() > 5_000, "{name}: only {} events", times.len());
    let (weekend, night) = shape(times);
    if weekly {
        assert!(
            (weekend - WEEKEND).abs() < 0.03,
            "{name}: weekend share {weekend}"
        );
    }
    assert!(
        (night - NIGHT_PER_MIDDAY).abs() < 0.04,
        "{name}: night per midday {night}"
    );
}

#[test]
fn every_arrival_process_follows_the_curve() {
    let curve = Some(RateCurve::business_week());
    let financial = FinancialStreamSimulator::new(FinancialStreamConfig {
        start_time_ms: MONDAY,
        duration_hours: WEEK_HOURS,
        transactions_per_hour: 300.0,
        reversal_enabled: false,
        fraud_burst_enabled: false,
        rate_curve: curve.clone(),
        ..Default::default()
    })
    .unwrap()
    .run();
    let times: Vec<i64> = financial
        .transactions
        .iter()
        .map(|t| t.transaction_time)
        .collect();
    assert_follows_the_curve("financial", &times, true);

    let clicks = ClickstreamSimulator::new(ClickstreamConfig {
        start_time_ms: MONDAY,
        duration_hours: WEEK_HOURS,
        users: 10_000,
        rate_curve: curve.clone(),
        ..Default::default()
    })
    .unwrap()
    .run();
    let times: Vec<i64> = clicks.sessions.iter().map(|s| s.started_at).collect();
    assert_follows_the_curve("clickstream", &times, true);

    let nexmark = NexmarkGenerator::new(
        NexmarkConfig {
            event_rate: 1,
            base_time_ms: MONDAY,
            rate_curve: curve.clone(),
            ..Default::default()
        },
        1,
    );
    let times: Vec<i64> = (0..604_800)
        .step_by(7)
        .map(|i| nexmark.event_time(i))
        .collect();
    assert_follows_the_curve("nexmark", &times, true);
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "warping keeps the order"
    );

    let logs = OperationalLogSimulator::new(OperationalLogConfig {
        start_time_ms: MONDAY,
        duration_hours: WEEK_HOURS,
        rate_curve: curve.clone(),
        ..Default::default()
    })
    .unwrap()
    .run();
    let times: Vec<i64> = logs
        .logs
        .iter()
        .filter(|l| !l.message.contains("burst"))
        .map(|l| l.timestamp)
        .collect();
    assert_follows_the_curve("oplogs", &times, true);

    let tables = RetailDomain::new(Scale::Medium, 1).generate();
    let emitted = StreamEmitter::new(
        &tables,
        StreamEmitConfig {
            start_time_ms: MONDAY,
            rate_per_sec: 0.2,
            max_events: Some(40_000),
            rate_curve: Some(RateCurve::diurnal()),
            ..Default::default()
        },
    )
    .unwrap()
    .emit();
    let times: Vec<i64> = emitted.envelopes.iter().map(|e| e.time).collect();
    assert_follows_the_curve("emitter", &times, false);

    let workflows = WorkflowSimulator::new(WorkflowConfig {
        start_time_ms: MONDAY,
        rate_curve: Some(RateCurve::diurnal()),
        ..WorkflowConfig::preset(WorkflowPreset::OrderFulfillment).with_entities(20_000)
    })
    .unwrap()
    .run();
    let starts: Vec<i64> = workflows
        .events
        .iter()
        .filter(|e| e.from_state.is_none())
        .map(|e| e.transitioned_at)
        .collect();
    assert_follows_the_curve("workflow", &starts, false);
}

#[test]
fn zipf_skew_makes_hot_accounts_and_users() {
    let counts = |keys: Vec<String>| {
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for k in keys {
            *by_key.entry(k).or_default() += 1;
        }
        let mut sorted: Vec<usize> = by_key.into_values().collect();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        sorted
    };
    let run = |skew: KeySkew| {
        FinancialStreamSimulator::new(FinancialStreamConfig {
            duration_hours: 48.0,
            accounts: 500,
            key_skew: skew,
            ..Default::default()
        })
        .unwrap()
        .run()
        .transactions
        .into_iter()
        .map(|t| t.account_id)
        .collect::<Vec<_>>()
    };
    let uniform = counts(run(KeySkew::uniform()));
    let hot = counts(run(KeySkew::zipf(1.2)));
    // The hottest account takes a large share under Zipf, about 1/500 uniformly.
    let share = |c: &[usize]| c[0] as f64 / c.iter().sum::<usize>() as f64;
    assert!(share(&uniform) < 0.01, "{}", share(&uniform));
    assert!(share(&hot) > 0.1, "{}", share(&hot));
    // Uniform skew draws exactly as before it existed: the default config is unchanged.
    assert_eq!(
        FinancialStreamSimulator::new(FinancialStreamConfig::default())
            .unwrap()
            .run(),
        FinancialStreamSimulator::new(FinancialStreamConfig {
            key_skew: KeySkew::uniform(),
            ..Default::default()
        })
        .unwrap()
        .run()
    );

    let sessions = ClickstreamSimulator::new(ClickstreamConfig {
        users: 1_000,
        key_skew: KeySkew::zipf(1.5),
        ..Default::default()
    })
    .unwrap()
    .run()
    .sessions;
    let users = counts(sessions.iter().map(|s| s.user_id.to_string()).collect());
    assert!(
        users[0] > 20 * users[users.len() / 2],
        "{} vs {}",
        users[0],
        users[users.len() / 2]
    );
}

#[test]
fn curves_and_skew_are_parameters() {
    let params = [
        ("rate_curve".to_string(), "business_week".to_string()),
        ("key_skew".to_string(), "1.2".to_string()),
    ];
    let config = apply_params("financial", FinancialStreamConfig::default(), &params).unwrap();
    assert_eq!(config.rate_curve, Some(RateCurve::business_week()));
    assert_eq!(config.key_skew, KeySkew::zipf(1.2));
    let custom = [(
        "rate_curve".to_string(),
        r#"{"hourly": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,5]}"#.to_string(),
    )];
    let config = apply_params("nexmark", NexmarkConfig::default(), &custom).unwrap();
    assert_eq!(config.rate_curve.unwrap().hourly[23], 5.0);
    let bad = [("rate_curve".to_string(), "weekends".to_string())];
    let e = apply_params("oplogs", OperationalLogConfig::default(), &bad).unwrap_err();
    assert!(e.to_string().contains("rate_curve"), "{e}");
    let negative = FinancialStreamConfig {
        key_skew: KeySkew::zipf(-1.0),
        ..Default::default()
    };
    let e = FinancialStreamSimulator::new(negative).unwrap_err();
    assert_eq!(
        e[0].to_string(),
        "`key_skew`: expected a Zipf exponent >= 0 (0: uniform), found -1"
    );
}
