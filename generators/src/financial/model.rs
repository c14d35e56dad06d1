//! Financial stream rows and statistics.

use serde::{Deserialize, Serialize};

/// What a transaction row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    /// A regular purchase.
    Purchase,
    /// The reversal of an earlier transaction (negative amount).
    Reversal,
    /// Part of a fraud burst.
    Fraud,
}

/// One transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// Transaction id (`txn-00000001`).
    pub transaction_id: String,
    /// Account id (`acct-0042`).
    pub account_id: String,
    /// Amount in dollars (negative for reversals).
    pub amount: f64,
    /// Event time (epoch ms).
    pub transaction_time: i64,
    /// What it is.
    pub kind: TransactionKind,
    /// For reversals, the transaction reversed.
    pub reverses: Option<String>,
}

/// One settlement batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settlement {
    /// Batch number, from 0.
    pub batch_id: u64,
    /// Transactions from (epoch ms, inclusive).
    pub window_start: i64,
    /// Transactions until (epoch ms, exclusive); the batch runs then.
    pub window_end: i64,
    /// Transactions settled.
    pub transaction_count: u64,
    /// Their total amount.
    pub total_amount: f64,
    /// `success` or `failed`.
    pub status: String,
}

/// Aggregate statistics of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancialStreamStats {
    /// Regular purchases.
    pub purchases: u64,
    /// Reversals.
    pub reversals: u64,
    /// `reversals / purchases`.
    pub reversal_rate: f64,
    /// Fraud bursts.
    pub fraud_bursts: u64,
    /// Fraudulent transactions.
    pub fraud_transactions: u64,
    /// Settlement batches.
    pub settlements: u64,
    /// Successful settlements / settlements.
    pub settlement_success_rate: f64,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancialStreamResult {
    /// All transactions (purchases, reversals, fraud) in event-time order.
    pub transactions: Vec<Transaction>,
    /// Only the reversals.
    pub reversals: Vec<Transaction>,
    /// Only the fraud transactions.
    pub fraud_events: Vec<Transaction>,
    /// Settlement batches.
    pub settlements: Vec<Settlement>,
    /// Aggregate statistics.
    pub stats: FinancialStreamStats,
}
