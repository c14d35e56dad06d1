//! Replays Spark Structured Streaming golden cases in Tidewater's Spark-compatible
//! micro-batch mode.
//!
//! A case folder holds `case.json` (the query), `events.jsonl` (input rows in arrival
//! order) and, for golden tests, `expected.jsonl` (what Spark emitted). The replay cuts
//! the events into micro-batches of `rows_per_batch`, runs each one through a pipeline
//! on one thread, and tags every emitted row with the micro-batch that emitted it, as
//! Spark's `emit_batch` does.
//!
//! ```no_run
//! let case = tidewater::spark::SparkCase::load("../shared/fixtures/spark/cases/tumbling_late")?;
//! for row in case.replay()? {
//!     println!("{}", row.to_json(&case.query.aggregates));
//! }
//! # Ok::<(), tidewater::spark::SparkCaseError>(())
//! ```

mod replay;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tidewater_engine::prelude::*;

/// Errors reading or replaying a case.
#[derive(Debug, thiserror::Error)]
pub enum SparkCaseError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file's content is not what the format says.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line (1 for whole-file JSON).
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// The query uses something the replay does not support.
    #[error("{path}: unsupported `{field}`: expected {expected}, found {found}")]
    Unsupported {
        /// The case file.
        path: PathBuf,
        /// The field.
        field: String,
        /// What is supported.
        expected: String,
        /// What the case asked for.
        found: String,
    },
    /// The pipeline failed.
    #[error("replay failed: {0}")]
    Engine(#[from] EngineError),
}

/// Window kind of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SparkWindowMode {
    /// `window(ts, size)`.
    Tumbling,
    /// `window(ts, size, slide)`.
    Sliding,
    /// `session_window(ts, gap)`.
    Session,
}

/// The query of a case (`case.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SparkQuery {
    /// Window kind.
    pub mode: SparkWindowMode,
    /// Window size (tumbling, sliding).
    #[serde(default)]
    pub size_ms: Option<i64>,
    /// Window slide (sliding).
    #[serde(default)]
    pub slide_ms: Option<i64>,
    /// Session gap (session).
    #[serde(default)]
    pub gap_ms: Option<i64>,
    /// `withWatermark` delay.
    pub watermark_delay_ms: i64,
    /// Rows per micro-batch.
    pub rows_per_batch: usize,
    /// Whether a sentinel batch flushes the last windows.
    #[serde(default)]
    pub flush: bool,
    /// Spark's `allowMultiple=false`.
    #[serde(default)]
    pub single_watermark: bool,
    /// `append`, `update` or `complete`.
    #[serde(default = "default_output_mode")]
    pub output_mode: String,
    /// Aggregates in output order: `count`, `sum`, `avg`, `min`, `max`.
    pub aggregates: Vec<String>,
    /// Grouping columns: `["key"]` or `["key", "tag"]`.
    #[serde(default = "default_group_by")]
    pub group_by: Vec<String>,
    /// A streaming dedup before the window: `drop_duplicates` (Spark's
    /// `dropDuplicates`) or `within_watermark` (`dropDuplicatesWithinWatermark`).
    #[serde(default)]
    pub dedup: Option<String>,
    /// The dedup's columns (of `key`, `tag`, `value`, `ts`).
    #[serde(default)]
    pub dedup_columns: Vec<String>,
}

fn default_output_mode() -> String {
    "append".to_string()
}

fn default_group_by() -> Vec<String> {
    vec!["key".to_string()]
}

/// One input row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparkEvent {
    /// Grouping key.
    pub key: String,
    /// Second grouping column of two-column cases (null for the flush sentinel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Aggregated value.
    pub value: f64,
    /// Event time, epoch ms.
    pub ts: i64,
}

/// One output row, as in `expected.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparkRow {
    /// Grouping key.
    pub key: String,
    /// Second grouping column (two-column cases only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Window start, epoch ms.
    pub window_start: i64,
    /// Window end, epoch ms.
    pub window_end: i64,
    /// `count(*)`.
    pub count: u64,
    /// `sum(value)`.
    pub sum: f64,
    /// `avg(value)`.
    pub avg: f64,
    /// `min(value)`.
    pub min: f64,
    /// `max(value)`.
    pub max: f64,
    /// Micro-batch that emitted the row.
    pub emit_batch: u64,
}

impl SparkRow {
    /// The row as one JSON line with `aggregates` in the given order, formatted as the
    /// fixtures are (`", "` and `": "` separators), so outputs compare byte for byte.
    pub fn to_json(&self, aggregates: &[String]) -> String {
        let mut fields: Vec<(&str, serde_json::Value)> = vec![("key", self.key.clone().into())];
        if let Some(tag) = &self.tag {
            fields.push(("tag", tag.clone().into()));
        }
        fields.extend([
            ("window_start", self.window_start.into()),
            ("window_end", self.window_end.into()),
        ]);
        for name in aggregates {
            let value: serde_json::Value = match name.as_str() {
                "count" => self.count.into(),
                "sum" => self.sum.into(),
                "avg" => self.avg.into(),
                "min" => self.min.into(),
                "max" => self.max.into(),
                _ => continue,
            };
            fields.push((name.as_str(), value));
        }
        fields.push(("emit_batch", self.emit_batch.into()));
        let body: Vec<String> = fields
            .into_iter()
            .map(|(name, value)| format!("{}: {}", serde_json::Value::from(name), value))
            .collect();
        format!("{{{}}}", body.join(", "))
    }
}

/// What a replay produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SparkReplay {
    /// Emitted rows, sorted by `emit_batch`, key and window start.
    pub rows: Vec<SparkRow>,
    /// Watermark in force in each micro-batch (the data batches, the flush sentinel's,
    /// and the final no-data batch).
    pub batch_watermarks: Vec<i64>,
}

/// One line of Spark's `progress.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparkProgress {
    /// Micro-batch id.
    pub batch: u64,
    /// Rows read in the batch.
    pub rows_in: u64,
    /// Eviction watermark used in the batch.
    pub watermark_ms: i64,
    /// Largest event time read.
    pub max_ts: Option<i64>,
    /// (key, window) groups dropped as late.
    pub dropped: u64,
    /// Rows of state after the batch.
    pub state_rows: u64,
}

/// Key of the sentinel row that flushes the last windows.
pub const FLUSH_KEY: &str = "__flush__";

/// A loaded case: its query and input events.
#[derive(Debug, Clone)]
pub struct SparkCase {
    /// The case folder.
    pub dir: PathBuf,
    /// The query.
    pub query: SparkQuery,
    /// Input events in arrival order.
    pub events: Vec<SparkEvent>,
}

fn read(path: &Path) -> Result<String, SparkCaseError> {
    std::fs::read_to_string(path).map_err(|source| SparkCaseError::Io {
        path: path.into(),
        source,
    })
}

/// Parses a JSON-lines file, naming the line of any error.
pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, SparkCaseError> {
    read(path)?
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| SparkCaseError::Parse {
                path: path.into(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

type Aggregates = (
    Count,
    Sum<fn(&SparkEvent) -> f64, f64>,
    Avg<fn(&SparkEvent) -> f64, f64>,
    Min<fn(&SparkEvent) -> f64, f64>,
    Max<fn(&SparkEvent) -> f64, f64>,
);
type AggregateOut = (u64, f64, Option<f64>, f64, f64);

fn value(e: &SparkEvent) -> f64 {
    e.value
}

impl SparkCase {
    /// Reads `case.json` and `events.jsonl` from `dir`.
    pub fn load(dir: impl AsRef<Path>) -> Result<SparkCase, SparkCaseError> {
        let dir = dir.as_ref().to_path_buf();
        let case_path = dir.join("case.json");
        let query: SparkQuery =
            serde_json::from_str(&read(&case_path)?).map_err(|e| SparkCaseError::Parse {
                path: case_path.clone(),
                line: e.line(),
                message: e.to_string(),
            })?;
        let events = read_jsonl(&dir.join("events.jsonl"))?;
        let case = SparkCase { dir, query, events };
        case.validate()?;
        Ok(case)
    }

    /// Reads Spark's per-batch progress, `progress.jsonl`.
    pub fn progress(&self) -> Result<Vec<SparkProgress>, SparkCaseError> {
        read_jsonl(&self.dir.join("progress.jsonl"))
    }

    /// Reads Spark's output, `expected.jsonl`.
    pub fn expected(&self) -> Result<Vec<SparkRow>, SparkCaseError> {
        read_jsonl(&self.dir.join("expected.jsonl"))
    }

    fn unsupported(&self, field: &str, expected: &str, found: String) -> SparkCaseError {
        SparkCaseError::Unsupported {
            path: self.dir.join("case.json"),
            field: field.into(),
            expected: expected.into(),
            found,
        }
    }

    fn validate(&self) -> Result<(), SparkCaseError> {
        let q = &self.query;
        if q.group_by != ["key"] && q.group_by != ["key", "tag"] {
            let expected = "[\"key\"] or [\"key\", \"tag\"]";
            return Err(self.unsupported("group_by", expected, format!("{:?}", q.group_by)));
        }
        if let Some(d) = &q.dedup {
            if d != "drop_duplicates" && d != "within_watermark" {
                let expected = "drop_duplicates or within_watermark";
                return Err(self.unsupported("dedup", expected, d.clone()));
            }
            let known = ["key", "tag", "value", "ts"];
            if q.dedup_columns.is_empty() {
                return Err(self.unsupported(
                    "dedup_columns",
                    "at least one column",
                    "none".into(),
                ));
            }
            if let Some(c) = q
                .dedup_columns
                .iter()
                .find(|c| !known.contains(&c.as_str()))
            {
                return Err(self.unsupported("dedup_columns", "key, tag, value or ts", c.clone()));
            }
        }
        if let Some(a) = q
            .aggregates
            .iter()
            .find(|a| !["count", "sum", "avg", "min", "max"].contains(&a.as_str()))
        {
            return Err(self.unsupported("aggregates", "count, sum, avg, min, max", a.clone()));
        }
        if q.rows_per_batch == 0 {
            return Err(self.unsupported("rows_per_batch", "at least 1", "0".into()));
        }
        let need = |field: &str, v: Option<i64>| {
            v.ok_or_else(|| self.unsupported(field, "a number", "nothing".into()))
        };
        match q.mode {
            SparkWindowMode::Tumbling => need("size_ms", q.size_ms).map(|_| ()),
            SparkWindowMode::Sliding => need("size_ms", q.size_ms)
                .and(need("slide_ms", q.slide_ms))
                .map(|_| ()),
            SparkWindowMode::Session => need("gap_ms", q.gap_ms).map(|_| ()),
        }?;
        self.output_mode().map(|_| ())
    }

    fn output_mode(&self) -> Result<OutputMode, SparkCaseError> {
        match self.query.output_mode.as_str() {
            "append" => Ok(OutputMode::Append),
            "update" => Ok(OutputMode::Update),
            "complete" => Ok(OutputMode::Complete),
            other => {
                Err(self.unsupported("output_mode", "append, update or complete", other.into()))
            }
        }
    }
}
