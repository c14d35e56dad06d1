//! The financial simulation: purchase `n` has its own RNG stream; fraud bursts and
//! settlements draw from per-hour and per-batch streams.

use crate::core::GeneratorErrors;
use crate::core::RecordedGenerator;
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};

use super::model::{
    FinancialStreamResult, FinancialStreamStats, Settlement, Transaction, TransactionKind,
};
use super::FinancialStreamConfig;
use crate::core::event_rng;

const FRAUD_SALT: u64 = 0x00F2_A0D0_0000_0001;
const SETTLE_SALT: u64 = 0x5E77_1E00_0000_0001;
const ARRIVAL_SALT: u64 = 0x00A2_21FA_0000_0001;

/// Simulates a stream of card transactions with reversals, fraud and settlements.
#[derive(Debug, Clone)]
pub struct FinancialStreamSimulator {
    config: FinancialStreamConfig,
}

fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

impl FinancialStreamSimulator {
    /// A simulator for a validated configuration.
    pub fn new(config: FinancialStreamConfig) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        Ok(FinancialStreamSimulator { config })
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

    /// Runs the simulation.
    pub fn run(&self) -> FinancialStreamResult {
        let c = &self.config;
        let end = c.start_time_ms + (c.duration_hours * 3_600_000.0) as i64;
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
                account_id: self.account(rng.random_range(0..c.accounts)),
                amount: cents(amounts.map_or(50.0f64, |a| a.sample(&mut rng)).max(0.01)),
                transaction_time: t as i64,
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
        let hours = c.duration_hours.ceil() as u64;
        let mut fraud_events = Vec::new();
        let mut fraud_bursts = 0;
        if c.fraud_burst_enabled {
            for h in 0..hours {
                let mut rng = event_rng(c.seed ^ FRAUD_SALT, h);
                if rng.random::<f64>() >= c.fraud_burst_probability {
                    continue;
                }
                fraud_bursts += 1;
                let account = self.account(rng.random_range(0..c.accounts));
                let mut ts =
                    c.start_time_ms + h as i64 * 3_600_000 + rng.random_range(0..3_600_000);
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
            self.settle(&transactions, end)
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
    fn settle(&self, transactions: &[Transaction], end: i64) -> Vec<Settlement> {
        let c = &self.config;
        let every = (c.settlement_batch_hours * 3_600_000.0) as i64;
        let mut out = Vec::new();
        let mut window_start = c.start_time_ms;
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
