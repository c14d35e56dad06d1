//! Financial stream: determinism and rates.

use super::*;
use crate::core::pinned::assert_first_pinned;

fn run(config: FinancialStreamConfig) -> FinancialStreamResult {
    FinancialStreamSimulator::new(config).unwrap().run()
}

#[test]
fn the_same_seed_gives_the_same_transactions() {
    let small = || FinancialStreamConfig {
        duration_hours: 2.0,
        ..Default::default()
    };
    assert_eq!(run(small()), run(small()));
    assert_ne!(
        run(small()).transactions,
        run(FinancialStreamConfig { seed: 9, ..small() }).transactions
    );
}

#[test]
fn the_first_transactions_of_seed_42_are_pinned() {
    let result = run(FinancialStreamConfig {
        duration_hours: 1.0,
        ..Default::default()
    });
    assert_first_pinned(
        &result.transactions,
        3,
        include_str!("financial_seed42.jsonl"),
    );
}

#[test]
fn observed_rates_match_the_configured_ones() {
    let config = FinancialStreamConfig {
        duration_hours: 240.0,
        fraud_burst_probability: 0.1,
        settlement_batch_hours: 1.0,
        settlement_success_rate: 0.9,
        ..Default::default()
    };
    let result = run(config);
    let s = &result.stats;
    // 240 h x 1 000 per hour, Poisson: within 1%
    assert!(
        (s.purchases as f64 - 240_000.0).abs() < 2_400.0,
        "{}",
        s.purchases
    );
    assert!(
        (s.reversal_rate - 0.03).abs() < 0.002,
        "{}",
        s.reversal_rate
    );
    assert!(
        (s.fraud_bursts as f64 - 24.0).abs() <= 12.0,
        "{}",
        s.fraud_bursts
    );
    assert_eq!(s.fraud_transactions, s.fraud_bursts * 15);
    assert_eq!(s.settlements, 240);
    assert!(
        (s.settlement_success_rate - 0.9).abs() < 0.06,
        "{}",
        s.settlement_success_rate
    );
    // every reversal undoes an earlier purchase of the same account, within 48 h
    let by_id: std::collections::HashMap<&str, &Transaction> = result
        .transactions
        .iter()
        .map(|t| (t.transaction_id.as_str(), t))
        .collect();
    for r in &result.reversals {
        let original = by_id[r.reverses.as_deref().unwrap()];
        assert_eq!(
            (original.account_id.as_str(), -original.amount),
            (r.account_id.as_str(), r.amount)
        );
        assert!(r.transaction_time > original.transaction_time);
        assert!(r.transaction_time - original.transaction_time <= 48 * 3_600_000);
    }
}

#[test]
fn invalid_configs_name_each_field() {
    let config = FinancialStreamConfig {
        settlement_success_rate: 1.5,
        fraud_burst_amount_range: (100.0, 10.0),
        ..Default::default()
    };
    let problems: Vec<String> = FinancialStreamSimulator::new(config)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        vec![
            "`settlement_success_rate`: expected a probability in [0, 1], found 1.5",
            "`fraud_burst_amount_range`: expected 0 < min <= max, found (100, 10)",
        ]
    );
}
