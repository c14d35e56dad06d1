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

/// 2 000 purchases over 20 hours on 50 accounts, times as ISO strings and epoch ms.
fn supplied() -> Vec<tidewater_engine::row::Row> {
    use tidewater_engine::row::{Row, Value};
    (0..2_000i64)
        .map(|i| {
            let ms = 1_704_067_200_000 + i * 36_000;
            let time = if i % 2 == 0 {
                Value::Int(ms)
            } else {
                Value::from(
                    chrono::DateTime::from_timestamp_millis(ms)
                        .unwrap()
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                )
            };
            Row::from_pairs([
                ("transaction_id", Value::from(format!("t{i}"))),
                ("account_id", Value::Int(i % 50)),
                ("amount", Value::Float(10.0 + (i % 7) as f64)),
                ("transaction_time", time),
            ])
        })
        .collect()
}

#[test]
fn anomalies_are_layered_on_a_supplied_table() {
    let config = FinancialStreamConfig {
        reversal_probability: 0.1,
        fraud_burst_probability: 0.5,
        ..Default::default()
    };
    let result = FinancialStreamSimulator::on_table(config.clone(), &supplied(), None)
        .unwrap()
        .run();
    assert_eq!(result.stats.purchases, 2_000);
    // Every supplied purchase is there, unchanged.
    let purchases: Vec<&Transaction> = result
        .transactions
        .iter()
        .filter(|t| t.kind == TransactionKind::Purchase)
        .collect();
    assert_eq!(purchases.len(), 2_000);
    assert_eq!(purchases[1].transaction_id, "t1");
    assert_eq!(purchases[1].transaction_time, 1_704_067_236_000);
    // Reversals reverse supplied purchases; fraud hits supplied accounts.
    assert!(
        (150..250).contains(&result.reversals.len()),
        "{}",
        result.reversals.len()
    );
    for r in &result.reversals {
        let original = r.reverses.as_deref().unwrap();
        assert!(purchases
            .iter()
            .any(|p| p.transaction_id == original && p.amount == -r.amount));
    }
    assert!(result.stats.fraud_bursts >= 5, "{:?}", result.stats);
    for f in &result.fraud_events {
        let account: i64 = f.account_id.parse().unwrap();
        assert!((0..50).contains(&account));
    }
    // Settlements cover the table's 20 hours in 4-hour batches.
    assert_eq!(result.settlements.len(), 4);
    assert_eq!(result.settlements[0].window_start, 1_704_067_200_000);
    // The same table and seed, the same result.
    let again = FinancialStreamSimulator::on_table(config, &supplied(), None)
        .unwrap()
        .run();
    assert_eq!(again, result);
}

#[test]
fn a_supplied_table_is_checked_row_by_row() {
    use tidewater_engine::row::{Row, Value};
    let mut rows = supplied()[..3].to_vec();
    rows[1] = rows[1].with_fields([("amount", Value::from("lots"))]);
    rows[2] = Row::from_pairs([("transaction_id", Value::Int(9))]);
    let e = FinancialStreamSimulator::on_table(FinancialStreamConfig::default(), &rows, None)
        .unwrap_err();
    let messages: Vec<String> = e.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        messages,
        [
            "`transactions[1].amount`: expected a number, found \"lots\"",
            "`transactions[2].account_id`: expected an id (string or integer), found null",
            "`transactions[2].amount`: expected a number, found null",
            "`transactions[2].transaction_time`: expected epoch ms or an ISO 8601 time, found null",
        ]
    );
    let e = FinancialStreamSimulator::on_table(
        FinancialStreamConfig::default(),
        &supplied(),
        Some(&[]),
    )
    .unwrap_err();
    assert_eq!(
        e[0].to_string(),
        "`accounts`: expected at least one account for fraud bursts to hit, found none"
    );
    let accounts = [Row::from_pairs([("id", Value::Int(1))])];
    let e = FinancialStreamSimulator::on_table(
        FinancialStreamConfig::default(),
        &supplied(),
        Some(&accounts),
    )
    .unwrap_err();
    assert_eq!(
        e[0].to_string(),
        "`accounts[0].account_id`: expected an id (string or integer), found null"
    );
}
