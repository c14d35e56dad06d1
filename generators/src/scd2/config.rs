//! SCD2 file drop parameters with the reference defaults.

use crate::core::GeneratorErrors;
use serde::{Deserialize, Serialize};
use tidewater_formats::FileFormat;

use crate::core::{all_problems, check_probability, GeneratorError};

/// Parameters of [`Scd2FileDropSimulator`](super::Scd2FileDropSimulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scd2FileDropConfig {
    /// Domain name used in paths.
    pub domain: String,
    /// Root folder of the landing zone.
    pub base_path: String,
    /// Tables to drop; empty: all.
    pub entities: Vec<String>,
    /// Column that identifies the business entity.
    pub business_key_column: String,
    /// Columns whose changes create new versions; empty: every non-key column.
    pub scd2_columns: Vec<String>,
    /// Name of the valid-from column.
    pub effective_date_column: String,
    /// Name of the valid-to column.
    pub end_date_column: String,
    /// Name of the is-current flag column.
    pub is_current_column: String,
    /// Date of the initial snapshot (`YYYY-MM-DD`).
    pub initial_load_date: String,
    /// Daily delta files after the snapshot.
    pub num_delta_days: u32,
    /// Fraction of current records that change per day.
    pub daily_change_rate: f64,
    /// New records per day, as a fraction of the initial count.
    pub daily_new_rate: f64,
    /// Formats to write.
    pub formats: Vec<FileFormat>,
    /// Write a `_manifest.json` alongside each drop.
    pub manifest_enabled: bool,
    /// Random seed.
    pub seed: u64,
}

impl Default for Scd2FileDropConfig {
    fn default() -> Self {
        Scd2FileDropConfig {
            domain: "default".into(),
            base_path: "Files/landing".into(),
            entities: Vec::new(),
            business_key_column: "id".into(),
            scd2_columns: Vec::new(),
            effective_date_column: "valid_from".into(),
            end_date_column: "valid_to".into(),
            is_current_column: "is_current".into(),
            initial_load_date: "2024-01-01".into(),
            num_delta_days: 30,
            daily_change_rate: 0.05,
            daily_new_rate: 0.02,
            formats: vec![FileFormat::Parquet],
            manifest_enabled: true,
            seed: 42,
        }
    }
}

impl Scd2FileDropConfig {
    /// Checks every parameter; returns all problems.
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let mut problems: Vec<GeneratorError> = [("daily_change_rate", self.daily_change_rate)]
            .into_iter()
            .filter_map(|(f, p)| check_probability(f, p).err())
            .collect();
        if !(self.daily_new_rate >= 0.0 && self.daily_new_rate.is_finite()) {
            problems.push(GeneratorError::InvalidParameter {
                field: "daily_new_rate".into(),
                expected: "a number >= 0".into(),
                found: self.daily_new_rate.to_string(),
            });
        }
        if let Err(e) =
            crate::filedrop::parse_required_date("initial_load_date", &self.initial_load_date)
        {
            problems.push(e);
        }
        if self.formats.is_empty() {
            problems.push(GeneratorError::InvalidParameter {
                field: "formats".into(),
                expected: "at least one of parquet, csv, jsonl".into(),
                found: "an empty list".into(),
            });
        }
        all_problems(problems)
    }
}
