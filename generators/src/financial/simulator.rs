//! The financial simulation: purchase `n` has its own RNG stream; fraud bursts and
//! settlements draw from per-hour and per-batch streams.

use std::sync::Arc;

use crate::core::GeneratorErrors;
use crate::core::{epoch_seed, ChunkedGenerator, GeneratorError, RateCurve, RecordedGenerator};
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use tidewater_engine::row::{Row, Value};

use super::model::{
    FinancialStreamResult, FinancialStreamStats, Settlement, Transaction, TransactionKind,
};
use super::FinancialStreamConfig;
use crate::core::event_rng;

const FRAUD_SALT: u64 = 0x00F2_A0D0_0000_0001;
const SETTLE_SALT: u64 = 0x5E77_1E00_0000_0001;
const ARRIVAL_SALT: u64 = 0x00A2_21FA_0000_0001;

const REVERSAL_SALT: u64 = 0x00E7_E25A_1000_0001;

/// Simulates a stream of card transactions with reversals, fraud and settlements, on
/// generated purchases or on a transactions table the caller supplies.
#[derive(Debug, Clone)]
pub struct FinancialStreamSimulator {
    config: FinancialStreamConfig,
    table: Option<Arc<SuppliedTable>>,
}

/// Purchases read from the caller's table, with the accounts fraud may hit and the
/// time span the layers cover.
#[derive(Debug)]
struct SuppliedTable {
    purchases: Vec<Transaction>,
    accounts: Vec<String>,
    start: i64,
    end: i64,
}

fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

impl FinancialStreamSimulator {
    /// A simulator for a validated configuration.
    pub fn new(config: FinancialStreamConfig) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        Ok(FinancialStreamSimulator {
            config,
            table: None,
        })
    }

    /// Layers reversals, fraud bursts and settlements on the caller's transactions (the
    /// reference's `transactions_df`: `transaction_id`, `account_id`, `amount` and
    /// `transaction_time` as epoch ms or ISO 8601) and accounts (`account_id`; `None`:
    /// the accounts the transactions name). The layers cover the transactions' span;
    /// `start_time_ms`, `duration_hours` and `accounts` of the config are not used.
    pub fn on_table(
        config: FinancialStreamConfig,
        transactions: &[Row],
        accounts: Option<&[Row]>,
    ) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        let mut problems = Vec::new();
        let mut purchases = Vec::with_capacity(transactions.len());
        for (i, row) in transactions.iter().enumerate() {
            let mut field = |name: &str, expected: &str, read: fn(&Value) -> Option<Value>| {
                let found = row.get(name).cloned().unwrap_or(Value::Null);
                read(&found).ok_or_else(|| {
                    problems.push(GeneratorError::InvalidParameter {
                        field: format!("transactions[{i}].{name}"),
                        expected: expected.into(),
                        found: serde_json::to_string(&found).unwrap_or_default(),
                    })
                })
            };
            let id = field("transaction_id", "an id (string or integer)", identifier);
            let account = field("account_id", "an id (string or integer)", identifier);
            let amount = field("amount", "a number", |v| v.as_f64().map(Value::Float));
            let time = field("transaction_time", "epoch ms or an ISO 8601 time", |v| {
                crate::streamer::timestamp_of(v)
                    .or_else(|| v.as_i64())
                    .map(Value::Int)
            });
            if let (Ok(id), Ok(account), Ok(amount), Ok(time)) = (id, account, amount, time) {
                purchases.push(Transaction {
                    transaction_id: text(&id),
                    account_id: text(&account),
                    amount: amount.as_f64().unwrap_or(0.0),
                    transaction_time: time.as_i64().unwrap_or(0),
                    kind: TransactionKind::Purchase,
                    reverses: None,
                });
            }
        }
        if purchases.is_empty() && problems.is_empty() {
            problems.push(GeneratorError::InvalidParameter {
                field: "transactions".into(),
                expected: "at least one transaction".into(),
                found: "none".into(),
            });
        }
        let mut account_ids: Vec<String> = match accounts {
            Some(rows) => rows
                .iter()
                .enumerate()
                .filter_map(
                    |(i, row)| match row.get("account_id").and_then(identifier) {
                        Some(id) => Some(text(&id)),
                        None => {
                            problems.push(GeneratorError::InvalidParameter {
                                field: format!("accounts[{i}].account_id"),
                                expected: "an id (string or integer)".into(),
                                found: serde_json::to_string(
                                    row.get("account_id").unwrap_or(&Value::Null),
                                )
                                .unwrap_or_default(),
                            });
                            None
                        }
                    },
                )
                .collect(),
            None => purchases.iter().map(|t| t.account_id.clone()).collect(),
        };
        if account_ids.is_empty() && !purchases.is_empty() {
            problems.push(GeneratorError::InvalidParameter {
                field: "accounts".into(),
                expected: "at least one account for fraud bursts to hit".into(),
                found: "none".into(),
            });
        }
        crate::core::all_problems(problems)?;
        account_ids.sort();
        account_ids.dedup();
        purchases.sort_by(|a, b| {
            (a.transaction_time, &a.transaction_id).cmp(&(b.transaction_time, &b.transaction_id))
        });
        let start = purchases.first().map_or(0, |t| t.transaction_time);
        let end = purchases.last().map_or(0, |t| t.transaction_time) + 1;
        Ok(FinancialStreamSimulator {
            config,
            table: Some(Arc::new(SuppliedTable {
                purchases,
                accounts: account_ids,
                start,
                end,
            })),
        })
    }

    fn account(&self, n: u64) -> String {
        format!("acct-{n:04}")
    }

    /// The run's transactions (purchases, reversals, fraud) as a generator in event-time
    /// order, for a paced, resumable pipeline source (`GeneratorSource::new(sim.generator())`).
    /// The run is computed once, here.
    pub fn generator(&self) -> RecordedGenerator<Transaction> {
        let transactions = self.run().transactions;
        RecordedGenerator::new("financial", self.config.seed, transactions, |t| {
            t.transaction_time
        })
    }

    /// An endless stream: epoch after epoch of `duration_hours`, each a run of its own
    /// seed (epoch 0 is the bounded run; later epochs' ids start `e1-`, `e2-`, ...; a
    /// reversal late enough may land after the next epoch's first purchases). An error for a supplied table (it ends).
    pub fn unbounded(&self) -> Result<ChunkedGenerator<Transaction>, GeneratorErrors> {
        if self.table.is_some() {
            return Err(GeneratorError::InvalidParameter {
                field: "transactions".into(),
                expected: "generated transactions for an unbounded stream".into(),
                found: "a supplied table, which ends".into(),
            }
            .into());
        }
        let config = self.config.clone();
        let span_ms = (config.duration_hours * 3_600_000.0) as i64;
        Ok(ChunkedGenerator::new(
            "financial",
            config.seed,
            move |k| {
                let mut epoch = config.clone();
                epoch.seed = epoch_seed(config.seed, k);
                epoch.start_time_ms += k as i64 * span_ms;
                let simulator = FinancialStreamSimulator {
                    config: epoch,
                    table: None,
                };
                let mut transactions = simulator.run().transactions;
                if k > 0 {
                    // Ids stay unique across epochs: `e1-txn-00000000`, ...
                    for t in &mut transactions {
                        t.transaction_id = format!("e{k}-{}", t.transaction_id);
                        if let Some(original) = &mut t.reverses {
                            *original = format!("e{k}-{original}");
                        }
                    }
                }
                transactions
            },
            |t: &Transaction| t.transaction_time,
        ))
    }

    /// Runs the simulation.
    pub fn run(&self) -> FinancialStreamResult {
        let c = &self.config;
        let (purchases, reversals, start, end) = match &self.table {
            Some(table) => (
                table.purchases.clone(),
                self.reverse(&table.purchases),
                table.start,
                table.end,
            ),
            None => {
                let end = c.start_time_ms + (c.duration_hours * 3_600_000.0) as i64;
                let (purchases, reversals) = self.generate(end);
                (purchases, reversals, c.start_time_ms, end)
            }
        };
        self.layer(purchases, reversals, start, end)
    }

    /// Reversals of supplied purchases, each decided by the purchase's own stream.
    fn reverse(&self, purchases: &[Transaction]) -> Vec<Transaction> {
        let c = &self.config;
        if !c.reversal_enabled {
            return Vec::new();
        }
        let mut reversals: Vec<Transaction> = purchases
            .iter()
            .enumerate()
            .filter_map(|(n, txn)| {
                let mut rng = event_rng(c.seed ^ REVERSAL_SALT, n as u64);
                (rng.random::<f64>() < c.reversal_probability).then(|| {
                    let delay = rng.random_range(0.0..=c.reversal_delay_hours_max) * 3_600_000.0;
                    Transaction {
                        transaction_id: format!("rev-{}", txn.transaction_id),
                        account_id: txn.account_id.clone(),
                        amount: -txn.amount,
                        transaction_time: txn.transaction_time + delay.max(1.0) as i64,
                        kind: TransactionKind::Reversal,
                        reverses: Some(txn.transaction_id.clone()),
                    }
                })
            })
            .collect();
        reversals.sort_by_key(|t| t.transaction_time);
        reversals
    }

    /// Generated purchases up to `end`, with their reversals.
    fn generate(&self, end: i64) -> (Vec<Transaction>, Vec<Transaction>) {
        let c = &self.config;
        let mut purchases = Vec::new();
        let mut reversals = Vec::new();
        // Poisson arrivals: exponential gaps from one stream.
        let gaps = Exp::new(c.transactions_per_hour / 3_600_000.0).ok();
        let amounts = LogNormal::new(3.5, 1.0).ok(); // median about $33
        let mut arrivals = event_rng(c.seed ^ ARRIVAL_SALT, 0);
        let mut t = c.start_time_ms as f64;
        let mut n = 0u64;
        loop {
            t += gaps.map_or(1.0, |g| g.sample(&mut arrivals));
            if t >= end as f64 {
                break;
            }
            let mut rng = event_rng(c.seed, n);
            let txn = Transaction {
                transaction_id: format!("txn-{n:08}"),
                account_id: self.account(c.key_skew.pick(&mut rng, c.accounts)),
                amount: cents(amounts.map_or(50.0f64, |a| a.sample(&mut rng)).max(0.01)),
                transaction_time: RateCurve::warp_opt(
                    c.rate_curve.as_ref(),
                    c.start_time_ms,
                    t as i64,
                ),
                kind: TransactionKind::Purchase,
                reverses: None,
            };
            if c.reversal_enabled && rng.random::<f64>() < c.reversal_probability {
                let delay = rng.random_range(0.0..=c.reversal_delay_hours_max) * 3_600_000.0;
                reversals.push(Transaction {
                    transaction_id: format!("rev-{n:08}"),
                    account_id: txn.account_id.clone(),
                    amount: -txn.amount,
                    transaction_time: txn.transaction_time + delay.max(1.0) as i64,
                    kind: TransactionKind::Reversal,
                    reverses: Some(txn.transaction_id.clone()),
                });
            }
            purchases.push(txn);
            n += 1;
        }
        (purchases, reversals)
    }

    /// Fraud bursts and settlements over `start..end`, and the statistics.
    fn layer(
        &self,
        purchases: Vec<Transaction>,
        reversals: Vec<Transaction>,
        start: i64,
        end: i64,
    ) -> FinancialStreamResult {
        let c = &self.config;
        let hours = ((end - start) as f64 / 3_600_000.0).ceil() as u64;
        let mut fraud_events = Vec::new();
        let mut fraud_bursts = 0;
        if c.fraud_burst_enabled {
            for h in 0..hours {
                let mut rng = event_rng(c.seed ^ FRAUD_SALT, h);
                if rng.random::<f64>() >= c.fraud_burst_probability {
                    continue;
                }
                fraud_bursts += 1;
                let account = match &self.table {
                    Some(table) => {
                        table.accounts[rng.random_range(0..table.accounts.len())].clone()
                    }
                    None => self.account(c.key_skew.pick(&mut rng, c.accounts)),
                };
                let mut ts = start + h as i64 * 3_600_000 + rng.random_range(0..3_600_000);
                let (lo, hi) = c.fraud_burst_amount_range;
                for i in 0..c.fraud_burst_count {
                    ts += rng.random_range(5_000..60_000);
                    fraud_events.push(Transaction {
                        transaction_id: format!("fraud-{h:05}-{i:03}"),
                        account_id: account.clone(),
                        amount: cents(rng.random_range(lo..=hi)),
                        transaction_time: ts,
                        kind: TransactionKind::Fraud,
                        reverses: None,
                    });
                }
            }
        }
        let mut transactions: Vec<Transaction> = purchases
            .iter()
            .chain(&reversals)
            .chain(&fraud_events)
            .cloned()
            .collect();
        transactions.sort_by(|a, b| {
            (a.transaction_time, &a.transaction_id).cmp(&(b.transaction_time, &b.transaction_id))
        });
        let settlements = if c.settlement_enabled {
            self.settle(&transactions, start, end)
        } else {
            Vec::new()
        };
        let succeeded = settlements.iter().filter(|s| s.status == "success").count();
        let stats = FinancialStreamStats {
            purchases: purchases.len() as u64,
            reversals: reversals.len() as u64,
            reversal_rate: if purchases.is_empty() {
                0.0
            } else {
                reversals.len() as f64 / purchases.len() as f64
            },
            fraud_bursts,
            fraud_transactions: fraud_events.len() as u64,
            settlements: settlements.len() as u64,
            settlement_success_rate: if settlements.is_empty() {
                0.0
            } else {
                succeeded as f64 / settlements.len() as f64
            },
        };
        FinancialStreamResult {
            transactions,
            reversals,
            fraud_events,
            settlements,
            stats,
        }
    }

    /// One batch per `settlement_batch_hours` window inside the simulation.
    fn settle(&self, transactions: &[Transaction], start: i64, end: i64) -> Vec<Settlement> {
        let c = &self.config;
        let every = (c.settlement_batch_hours * 3_600_000.0) as i64;
        let mut out = Vec::new();
        let mut window_start = start;
        let mut batch_id = 0;
        while window_start + every <= end {
            let window_end = window_start + every;
            // `transactions` is sorted by time: the window is a contiguous slice.
            let from = transactions.partition_point(|t| t.transaction_time < window_start);
            let to = transactions.partition_point(|t| t.transaction_time < window_end);
            let settled = &transactions[from..to];
            let mut rng = event_rng(c.seed ^ SETTLE_SALT, batch_id);
            out.push(Settlement {
                batch_id,
                window_start,
                window_end,
                transaction_count: settled.len() as u64,
                total_amount: cents(settled.iter().map(|t| t.amount).sum()),
                status: if rng.random::<f64>() < c.settlement_success_rate {
                    "success"
                } else {
                    "failed"
                }
                .to_string(),
            });
            batch_id += 1;
            window_start = window_end;
        }
        out
    }
}

/// An id value as it is: strings and integers.
fn identifier(value: &Value) -> Option<Value> {
    matches!(value, Value::Str(_) | Value::Int(_)).then(|| value.clone())
}

fn text(value: &Value) -> String {
    match value {
        Value::Str(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}
