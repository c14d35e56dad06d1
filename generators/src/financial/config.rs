//! Financial stream parameters with the reference defaults.

use crate::core::GeneratorErrors;
use serde::{Deserialize, Serialize};

use crate::core::{
    all_problems, check_non_negative, check_positive, check_probability, GeneratorError,
};

/// Parameters of [`FinancialStreamSimulator`](super::FinancialStreamSimulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FinancialStreamConfig {
    /// Simulation window in hours.
    pub duration_hours: f64,
    /// Start of the window (epoch ms).
    #[serde(alias = "start_time", deserialize_with = "crate::core::ms_or_iso")]
    pub start_time_ms: i64,
    /// Accounts that transact.
    pub accounts: u64,
    /// Regular transactions per hour (Poisson arrivals).
    pub transactions_per_hour: f64,
    /// Generate reversals.
    pub reversal_enabled: bool,
    /// Fraction of transactions that get reversed.
    pub reversal_probability: f64,
    /// Longest delay between a transaction and its reversal.
    pub reversal_delay_hours_max: f64,
    /// Generate fraud bursts.
    pub fraud_burst_enabled: bool,
    /// Chance per hour of a fraud burst.
    pub fraud_burst_probability: f64,
    /// Transactions per fraud burst.
    pub fraud_burst_count: u64,
    /// (min, max) amount of a fraudulent transaction.
    pub fraud_burst_amount_range: (f64, f64),
    /// Generate settlement batches.
    pub settlement_enabled: bool,
    /// A settlement batch runs every this many hours.
    pub settlement_batch_hours: f64,
    /// Fraction of settlements that succeed.
    pub settlement_success_rate: f64,
    /// Daily and weekly shape of the event rate (`diurnal`, `business_week`, or
    /// `{hourly, weekly}` multipliers; none: constant). The events of a week stay as
    /// many; they bunch where the curve is high.
    #[serde(default)]
    pub rate_curve: Option<crate::core::RateCurve>,
    /// Zipf exponent of the accounts that transact (0: uniform); 1.0 and above make a few hot ones.
    #[serde(default)]
    pub key_skew: crate::core::KeySkew,
    /// Random seed.
    pub seed: u64,
}

impl Default for FinancialStreamConfig {
    fn default() -> Self {
        FinancialStreamConfig {
            duration_hours: 24.0,
            start_time_ms: 1_704_067_200_000,
            accounts: 500,
            transactions_per_hour: 1_000.0,
            reversal_enabled: true,
            reversal_probability: 0.03,
            reversal_delay_hours_max: 48.0,
            fraud_burst_enabled: true,
            fraud_burst_probability: 0.01,
            fraud_burst_count: 15,
            fraud_burst_amount_range: (500.0, 10_000.0),
            settlement_enabled: true,
            settlement_batch_hours: 4.0,
            settlement_success_rate: 0.98,
            rate_curve: None,
            key_skew: Default::default(),
            seed: 42,
        }
    }
}

impl FinancialStreamConfig {
    /// Checks every parameter; returns all problems.
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let mut problems: Vec<GeneratorError> = [
            ("reversal_probability", self.reversal_probability),
            ("fraud_burst_probability", self.fraud_burst_probability),
            ("settlement_success_rate", self.settlement_success_rate),
        ]
        .into_iter()
        .filter_map(|(f, p)| check_probability(f, p).err())
        .collect();
        for (field, v) in [
            ("duration_hours", self.duration_hours),
            ("transactions_per_hour", self.transactions_per_hour),
            ("settlement_batch_hours", self.settlement_batch_hours),
        ] {
            problems.extend(check_positive(field, v).err());
        }
        problems.extend(
            check_non_negative("reversal_delay_hours_max", self.reversal_delay_hours_max).err(),
        );
        let mut bad = |field: &str, expected: &str, found: String| {
            problems.push(GeneratorError::InvalidParameter {
                field: field.into(),
                expected: expected.into(),
                found,
            })
        };
        let (lo, hi) = self.fraud_burst_amount_range;
        if !(lo > 0.0 && hi >= lo && hi.is_finite()) {
            bad(
                "fraud_burst_amount_range",
                "0 < min <= max",
                format!("({lo}, {hi})"),
            );
        }
        if self.accounts == 0 {
            bad("accounts", "at least 1", "0".into());
        }
        problems.extend(crate::core::RateCurve::check(self.rate_curve.as_ref()));
        problems.extend(self.key_skew.validate("key_skew").err());
        all_problems(problems)
    }
}
