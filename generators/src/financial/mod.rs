//! Financial transaction stream: card transactions on accounts, reversals after a
//! delay, fraud bursts on one account, and settlement batches that succeed or fail.
//!
//! ```
//! use tidewater_generators::financial::{FinancialStreamConfig, FinancialStreamSimulator};
//! let result = FinancialStreamSimulator::new(FinancialStreamConfig { duration_hours: 8.0, ..Default::default() })
//!     .unwrap()
//!     .run();
//! assert_eq!(result.settlements.len(), 2); // a batch every 4 hours
//! assert!(result.transactions.len() > result.reversals.len());
//! ```

mod config;
mod model;
mod simulator;

pub use config::FinancialStreamConfig;
pub use model::{
    FinancialStreamResult, FinancialStreamStats, Settlement, Transaction, TransactionKind,
};
pub use simulator::FinancialStreamSimulator;

#[cfg(test)]
mod tests;
