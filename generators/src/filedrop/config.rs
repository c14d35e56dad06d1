//! File drop parameters with the reference defaults.

use crate::core::GeneratorErrors;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tidewater_formats::FileFormat;

use crate::core::{all_problems, check_probability, GeneratorError};

/// How often files land.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// One drop per day.
    Daily,
    /// One drop per hour.
    Hourly,
    /// One drop every 15 minutes.
    #[serde(rename = "every_15m")]
    Every15m,
}

impl Cadence {
    /// Drops per day.
    pub fn slots_per_day(&self) -> u32 {
        match self {
            Cadence::Daily => 1,
            Cadence::Hourly => 24,
            Cadence::Every15m => 96,
        }
    }
}

/// Parameters of [`FileDropSimulator`](super::FileDropSimulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileDropConfig {
    /// Domain name used in paths.
    pub domain: String,
    /// Root folder of the landing zone.
    pub base_path: String,
    /// Drop cadence.
    pub cadence: Cadence,
    /// First day (`YYYY-MM-DD`, inclusive); empty: the data's first day.
    pub date_range_start: String,
    /// Last day (`YYYY-MM-DD`, inclusive); empty: the data's last day.
    pub date_range_end: String,
    /// Partition folder template (`YYYY-MM-DD` is replaced by the day).
    pub partitioning: String,
    /// Formats to write (one file per format per drop).
    pub formats: Vec<FileFormat>,
    /// File name template: `{domain}`, `{entity}`, `{dt}`, `{seq}`, `{ext}`.
    pub file_naming: String,
    /// Tables to drop; empty: all.
    pub entities: Vec<String>,
    /// Write `_manifest.json` per partition folder.
    pub manifest_enabled: bool,
    /// Write a `_done` flag per partition folder.
    pub done_flag_enabled: bool,
    /// Inject late-arriving rows.
    pub lateness_enabled: bool,
    /// Chance of a row landing late.
    pub lateness_probability: f64,
    /// Most days a late row lands after its own day.
    pub max_days_late: u32,
    /// Inject duplicate rows.
    pub duplicates_enabled: bool,
    /// Chance of a row being written twice.
    pub duplicate_probability: f64,
    /// Re-drop the last partitions after the run.
    pub backfill_enabled: bool,
    /// How many of the last days are re-dropped.
    pub max_days_back: u32,
    /// Random seed.
    pub seed: u64,
}

impl Default for FileDropConfig {
    fn default() -> Self {
        FileDropConfig {
            domain: "default".into(),
            base_path: "Files/landing".into(),
            cadence: Cadence::Daily,
            date_range_start: String::new(),
            date_range_end: String::new(),
            partitioning: "dt=YYYY-MM-DD".into(),
            formats: vec![FileFormat::Parquet],
            file_naming: "{domain}_{entity}_{dt}_{seq}.{ext}".into(),
            entities: Vec::new(),
            manifest_enabled: true,
            done_flag_enabled: true,
            lateness_enabled: true,
            lateness_probability: 0.1,
            max_days_late: 3,
            duplicates_enabled: false,
            duplicate_probability: 0.02,
            backfill_enabled: false,
            max_days_back: 0,
            seed: 42,
        }
    }
}

/// Parses a `YYYY-MM-DD` date of field `field` (empty: `None`).
pub(crate) fn parse_date(field: &str, value: &str) -> Result<Option<NaiveDate>, GeneratorError> {
    if value.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| GeneratorError::InvalidParameter {
            field: field.into(),
            expected: "a date YYYY-MM-DD".into(),
            found: value.into(),
        })
}

/// Parses a `YYYY-MM-DD` date of field `field` that must be given.
pub(crate) fn parse_required_date(field: &str, value: &str) -> Result<NaiveDate, GeneratorError> {
    parse_date(field, value)?.ok_or_else(|| GeneratorError::InvalidParameter {
        field: field.into(),
        expected: "a date YYYY-MM-DD".into(),
        found: "nothing".into(),
    })
}

impl FileDropConfig {
    /// Checks every parameter; returns all problems.
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let mut problems: Vec<GeneratorError> = [
            ("lateness_probability", self.lateness_probability),
            ("duplicate_probability", self.duplicate_probability),
        ]
        .into_iter()
        .filter_map(|(f, p)| check_probability(f, p).err())
        .collect();
        let start = parse_date("date_range_start", &self.date_range_start);
        let end = parse_date("date_range_end", &self.date_range_end);
        match (&start, &end) {
            (Ok(Some(s)), Ok(Some(e))) if e < s => {
                problems.push(GeneratorError::InvalidParameter {
                    field: "date_range_end".into(),
                    expected: format!("a date on or after date_range_start ({s})"),
                    found: e.to_string(),
                })
            }
            _ => {}
        }
        problems.extend(start.err());
        problems.extend(end.err());
        if self.formats.is_empty() {
            problems.push(GeneratorError::InvalidParameter {
                field: "formats".into(),
                expected: "at least one of parquet, csv, jsonl".into(),
                found: "an empty list".into(),
            });
        }
        if !self.partitioning.contains("YYYY-MM-DD") {
            problems.push(GeneratorError::InvalidParameter {
                field: "partitioning".into(),
                expected: "a template containing YYYY-MM-DD".into(),
                found: self.partitioning.clone(),
            });
        }
        all_problems(problems)
    }
}

/// Midnight UTC of `day`, in epoch ms.
pub(crate) fn day_start_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis())
}
