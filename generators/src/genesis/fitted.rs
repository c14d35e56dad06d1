//! A generator fitted to a table with a Gaussian copula: per-column marginals joined by
//! the correlations of the columns' normal scores.

use std::path::Path;
use std::sync::Arc;

use nalgebra::DMatrix;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tidewater_engine::row::{DataType, Row, Schema, Value};
use tidewater_engine::time::Timestamp;
use tidewater_formats::{read_rows, FileFormat};

use super::column::{ColumnModel, Marginal, NumericKind, TimestampStyle};
use super::condition::Conditions;
use super::copula;
use super::error::{GenesisError, Result};
use super::sampler::ConditionalSampler;
use crate::core::{event_rng, Generator};

/// How a model is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Method {
    /// Empirical marginals joined by a Gaussian copula (SDV's `GaussianMultivariate`
    /// with empirical marginals).
    #[default]
    GaussianCopula,
}

/// Where the event time of row `i` comes from when the generator feeds a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventTime {
    /// Evenly spaced: row `i` at `start_ms + i * 1000 / per_second`.
    Sequence {
        /// The first row's time (epoch ms).
        start_ms: i64,
        /// Rows per second of event time.
        per_second: f64,
    },
    /// A timestamp or integer (epoch ms) column of the generated rows.
    Column(String),
}

impl Default for EventTime {
    fn default() -> Self {
        EventTime::Sequence {
            start_ms: 1_767_225_600_000, // 2026-01-01T00:00:00Z
            per_second: 1000.0,
        }
    }
}

/// The saved form of a model (`FittedGenerator::to_json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedModel {
    format: String,
    version: u32,
    method: Method,
    training_rows: u64,
    seed: u64,
    columns: Vec<ColumnModel>,
    correlation: Vec<Vec<f64>>,
}

const FORMAT: &str = "tidewater-genesis";

pub(crate) struct Model {
    pub columns: Vec<ColumnModel>,
    pub correlation: DMatrix<f64>,
    pub lower: DMatrix<f64>,
    pub schema: Arc<Schema>,
    pub training_rows: u64,
}

/// A seeded generator fitted to a table: row `i` is a pure function of the model, the
/// seed and `i`.
///
/// ```
/// use tidewater_engine::row::{Row, Value};
/// use tidewater_generators::genesis::{Conditions, FittedGenerator, Method};
///
/// let training: Vec<Row> = (0..200)
///     .map(|i| Row::from_pairs([
///         ("age", Value::Int(20 + i % 50)),
///         ("income", Value::Float(20_000.0 + 900.0 * (i % 50) as f64)),
///         ("region", Value::from(if i % 3 == 0 { "West" } else { "East" })),
///     ]))
///     .collect();
/// let generator = FittedGenerator::fit(&training, Method::GaussianCopula)?.with_seed(7);
/// let rows = generator.sample(100);
/// assert_eq!(rows.len(), 100);
/// assert_eq!(rows, generator.sample(100)); // same seed, same rows
///
/// let west_adults = Conditions::from_json(r#"{"age": {"gte": 21}, "region": "West"}"#)?;
/// for row in generator.sample_where(&west_adults, 50)? {
///     assert!(row.get("age").unwrap().as_i64().unwrap() >= 21);
///     assert_eq!(row.get("region"), Some(&Value::from("West")));
/// }
/// # Ok::<(), tidewater_generators::genesis::GenesisError>(())
/// ```
#[derive(Clone)]
pub struct FittedGenerator {
    model: Arc<Model>,
    seed: u64,
    min_acceptance: f64,
    event_time: EventTime,
    /// The event-time column, never null in generated rows.
    event_column: Option<usize>,
}

impl std::fmt::Debug for FittedGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FittedGenerator")
            .field("columns", &self.model.schema.names().collect::<Vec<_>>())
            .field("training_rows", &self.model.training_rows)
            .field("seed", &self.seed)
            .finish()
    }
}

impl FittedGenerator {
    /// Fits a model to `rows` (columns are the union of the rows' fields, in order of
    /// first appearance; a field missing from a row counts as null).
    pub fn fit(rows: &[Row], method: Method) -> Result<FittedGenerator> {
        let Method::GaussianCopula = method;
        if rows.is_empty() {
            return Err(GenesisError::EmptyTable);
        }
        let mut names: Vec<String> = Vec::new();
        for row in rows {
            for name in row.schema().names() {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
        if names.is_empty() {
            return Err(GenesisError::NoColumns);
        }
        let null = Value::Null;
        let columns: Vec<Vec<&Value>> = names
            .iter()
            .map(|name| rows.iter().map(|r| r.get(name).unwrap_or(&null)).collect())
            .collect();
        let models: Vec<ColumnModel> = names
            .iter()
            .zip(&columns)
            .map(|(name, values)| ColumnModel::fit(name, values))
            .collect();
        let scores: Vec<Vec<f64>> = models
            .iter()
            .zip(&columns)
            .enumerate()
            .map(|(c, (model, values))| uniform_scores(c, model, values))
            .collect();
        let correlation = copula::correlation_from_ranks(&scores);
        Ok(FittedGenerator::from_parts(
            models,
            correlation,
            rows.len() as u64,
        ))
    }

    /// Fits a model to a CSV (with a header), Parquet or JSON-lines file, the format
    /// taken from the extension.
    pub fn fit_file(path: impl AsRef<Path>, method: Method) -> Result<FittedGenerator> {
        let path = path.as_ref();
        let io = |message: String| GenesisError::Io {
            path: path.display().to_string(),
            message,
        };
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let format: FileFormat = extension.parse().map_err(|_| {
            io(format!(
                "expected a .csv, .parquet or .jsonl file, found extension `{extension}`"
            ))
        })?;
        let rows = read_rows(path, format).map_err(|e| io(e.to_string()))?;
        FittedGenerator::fit(&rows, method)
    }

    /// Fits a model to serializable records (structs or maps with flat fields).
    pub fn fit_serde<T: Serialize>(records: &[T], method: Method) -> Result<FittedGenerator> {
        let rows = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Row::from_serde(r).map_err(|e| GenesisError::InvalidParameter {
                    field: format!("records[{i}]"),
                    expected: "a struct or map of flat fields".into(),
                    found: e.to_string(),
                })
            })
            .collect::<Result<Vec<Row>>>()?;
        FittedGenerator::fit(&rows, method)
    }

    fn from_parts(
        columns: Vec<ColumnModel>,
        correlation: DMatrix<f64>,
        training_rows: u64,
    ) -> FittedGenerator {
        let schema = Schema::new(columns.iter().map(|c| (c.name.clone(), data_type(c))));
        let lower = copula::lower_factor(&correlation);
        FittedGenerator {
            model: Arc::new(Model {
                columns,
                correlation,
                lower,
                schema: Arc::new(schema),
                training_rows,
            }),
            seed: 0,
            min_acceptance: 1e-3,
            event_time: EventTime::default(),
            event_column: None,
        }
    }

    /// Uses `seed` (the default is 0).
    pub fn with_seed(mut self, seed: u64) -> FittedGenerator {
        self.seed = seed;
        self
    }

    /// The lowest share of candidates that conditional sampling may accept before it
    /// gives up with [`GenesisError::AcceptanceTooLow`] (default `0.001`).
    pub fn with_min_acceptance(mut self, bound: f64) -> Result<FittedGenerator> {
        if bound.is_nan() || bound <= 0.0 || bound > 1.0 {
            return Err(GenesisError::InvalidParameter {
                field: "min_acceptance".into(),
                expected: "a share in (0, 1]".into(),
                found: bound.to_string(),
            });
        }
        self.min_acceptance = bound;
        Ok(self)
    }

    /// Where event times come from when the generator feeds a pipeline.
    pub fn with_event_time(mut self, event_time: EventTime) -> Result<FittedGenerator> {
        match &event_time {
            EventTime::Column(name) => {
                let column = self.column(name)?;
                let usable = matches!(
                    column.marginal,
                    Marginal::Numeric {
                        kind: NumericKind::Int | NumericKind::Timestamp { .. },
                        ..
                    }
                );
                if !usable {
                    return Err(GenesisError::InvalidParameter {
                        field: "event_time".into(),
                        expected: "a timestamp or integer (epoch ms) column".into(),
                        found: format!("`{name}`, {}", column.describe()),
                    });
                }
            }
            EventTime::Sequence { per_second, .. } if per_second.is_nan() || *per_second <= 0.0 => {
                return Err(GenesisError::InvalidParameter {
                    field: "per_second".into(),
                    expected: "a positive rate".into(),
                    found: per_second.to_string(),
                });
            }
            EventTime::Sequence { .. } => {}
        }
        self.event_column = match &event_time {
            EventTime::Column(name) => self.model.columns.iter().position(|c| c.name == *name),
            EventTime::Sequence { .. } => None,
        };
        self.event_time = event_time;
        Ok(self)
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The schema of generated rows (the training table's columns).
    pub fn schema(&self) -> &Arc<Schema> {
        &self.model.schema
    }

    /// The fitted columns.
    pub fn columns(&self) -> &[ColumnModel] {
        &self.model.columns
    }

    /// How many rows the model was fitted on.
    pub fn training_rows(&self) -> u64 {
        self.model.training_rows
    }

    /// The copula's correlation matrix, row by row, in column order.
    pub fn correlation(&self) -> Vec<Vec<f64>> {
        let m = &self.model.correlation;
        (0..m.nrows())
            .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
            .collect()
    }

    pub(crate) fn model(&self) -> &Model {
        &self.model
    }

    pub(crate) fn min_acceptance(&self) -> f64 {
        self.min_acceptance
    }

    pub(crate) fn column(&self, name: &str) -> Result<&ColumnModel> {
        self.model
            .columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| GenesisError::UnknownColumn {
                column: name.to_string(),
                known: self.model.schema.names().collect::<Vec<_>>().join(", "),
            })
    }

    /// The position of column `name`, or an error naming the model's columns.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.column(name)?;
        Ok(self
            .model
            .columns
            .iter()
            .position(|c| c.name == name)
            .unwrap_or(0))
    }

    /// Row `index` of the unconditioned stream.
    pub fn row(&self, index: u64) -> Row {
        let model = &self.model;
        let d = model.columns.len();
        let mut rng = event_rng(self.seed, index);
        let mut z = vec![0.0; d];
        copula::draw(&model.lower, &vec![0.0; d], &mut rng, &mut z);
        let values = model
            .columns
            .iter()
            .zip(&z)
            .enumerate()
            .map(|(c, (column, &z))| {
                let is_null = column.null_rate > 0.0
                    && rng.random::<f64>() < column.null_rate
                    && self.event_column != Some(c);
                if is_null {
                    Value::Null
                } else {
                    column.value_at(copula::cdf(z))
                }
            })
            .collect();
        Row::new(model.schema.clone(), values)
    }

    /// The first `n` rows.
    pub fn sample(&self, n: usize) -> Vec<Row> {
        self.sample_range(0, n)
    }

    /// Rows `start .. start + n`.
    pub fn sample_range(&self, start: u64, n: usize) -> Vec<Row> {
        (start..start + n as u64).map(|i| self.row(i)).collect()
    }

    /// A sampler of rows that meet `conditions`, or an error naming the condition that
    /// no row can meet.
    pub fn sampler(&self, conditions: &Conditions) -> Result<ConditionalSampler> {
        ConditionalSampler::new(self.clone(), conditions.clone())
    }

    /// The first `n` rows that meet `conditions`.
    pub fn sample_where(&self, conditions: &Conditions, n: usize) -> Result<Vec<Row>> {
        if conditions.is_empty() {
            return Ok(self.sample(n));
        }
        let mut sampler = self.sampler(conditions)?;
        (0..n as u64).map(|i| sampler.row(i)).collect()
    }

    /// The model as JSON, with the seed; [`FittedGenerator::from_json`] reads it back
    /// into a generator that produces the same rows.
    pub fn to_json(&self) -> String {
        let saved = SavedModel {
            format: FORMAT.into(),
            version: 1,
            method: Method::GaussianCopula,
            training_rows: self.model.training_rows,
            seed: self.seed,
            columns: self.model.columns.clone(),
            correlation: self.correlation(),
        };
        // Plain data of numbers, strings and lists: serializing it cannot fail.
        serde_json::to_string_pretty(&saved).unwrap_or_default()
    }

    /// Reads a model written by [`FittedGenerator::to_json`].
    pub fn from_json(text: &str) -> Result<FittedGenerator> {
        let saved: SavedModel =
            serde_json::from_str(text).map_err(|e| GenesisError::InvalidModel(e.to_string()))?;
        if saved.format != FORMAT || saved.version != 1 {
            return Err(GenesisError::InvalidModel(format!(
                "expected format `{FORMAT}` version 1, found `{}` version {}",
                saved.format, saved.version
            )));
        }
        let d = saved.columns.len();
        if d == 0 || saved.correlation.len() != d || saved.correlation.iter().any(|r| r.len() != d)
        {
            return Err(GenesisError::InvalidModel(format!(
                "expected a {d} x {d} correlation matrix for {d} columns"
            )));
        }
        let columns = saved
            .columns
            .into_iter()
            .map(|c| {
                let c = ColumnModel::new(c.name, c.null_rate, c.marginal);
                c.validate().map(|_| c)
            })
            .collect::<std::result::Result<Vec<_>, String>>()
            .map_err(GenesisError::InvalidModel)?;
        let correlation = DMatrix::from_fn(d, d, |i, j| saved.correlation[i][j]);
        Ok(
            FittedGenerator::from_parts(columns, correlation, saved.training_rows)
                .with_seed(saved.seed),
        )
    }

    /// Writes the model to a JSON file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json()).map_err(|e| GenesisError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Reads a model from a JSON file.
    pub fn load(path: impl AsRef<Path>) -> Result<FittedGenerator> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| GenesisError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        FittedGenerator::from_json(&text)
    }
}

fn data_type(column: &ColumnModel) -> DataType {
    match &column.marginal {
        Marginal::Numeric {
            kind: NumericKind::Float,
            ..
        } => DataType::Float,
        Marginal::Numeric {
            kind: NumericKind::Int,
            ..
        } => DataType::Int,
        Marginal::Numeric {
            kind: NumericKind::Timestamp { .. },
            ..
        } => DataType::Str,
        Marginal::Categorical { categories, .. } => {
            categories.first().map_or(DataType::Null, DataType::of)
        }
    }
}

/// Uniform scores of one column: mid-ranks for numbers, a seeded spot inside the
/// category's slice for categories; NaN for nulls.
fn uniform_scores(column_index: usize, model: &ColumnModel, values: &[&Value]) -> Vec<f64> {
    let mut scores = vec![f64::NAN; values.len()];
    match &model.marginal {
        Marginal::Numeric { kind, .. } => {
            let mut present: Vec<(f64, usize)> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| numeric(*kind, v).map(|x| (x, i)))
                .collect();
            present.sort_by(|a, b| a.0.total_cmp(&b.0));
            let n = present.len() as f64;
            let mut start = 0;
            while start < present.len() {
                let mut end = start + 1;
                while end < present.len() && present[end].0 == present[start].0 {
                    end += 1;
                }
                // Ranks start..end share their average: (start + end - 1) / 2, zero based.
                let u = ((start + end) as f64 / 2.0) / n;
                for &(_, row) in &present[start..end] {
                    scores[row] = u;
                }
                start = end;
            }
        }
        Marginal::Categorical { .. } => {
            // The spread is seeded by position only, so fitting is deterministic.
            for (row, value) in values.iter().enumerate() {
                let jitter = event_rng(
                    0x0067_656e_6573_6973,
                    (row as u64) << 16 | column_index as u64,
                )
                .random::<f64>();
                if let Some(u) = model.category_place(value, jitter) {
                    scores[row] = u;
                }
            }
        }
    }
    scores
}

fn numeric(kind: NumericKind, value: &Value) -> Option<f64> {
    match kind {
        NumericKind::Timestamp { .. } => {
            TimestampStyle::parse(value.as_str()?).map(|(ms, _)| ms as f64)
        }
        _ => value.as_f64(),
    }
}

impl Generator for FittedGenerator {
    type Event = Row;

    fn name(&self) -> String {
        "genesis".into()
    }

    fn seed(&self) -> u64 {
        self.seed
    }

    fn event(&self, index: u64) -> Row {
        self.row(index)
    }

    fn event_time(&self, index: u64) -> Timestamp {
        match &self.event_time {
            EventTime::Sequence {
                start_ms,
                per_second,
            } => start_ms + (index as f64 * 1000.0 / per_second) as i64,
            EventTime::Column(name) => match self.row(index).get(name) {
                Some(Value::Int(ms)) => *ms,
                Some(Value::Str(s)) => TimestampStyle::parse(s).map_or(0, |(ms, _)| ms),
                _ => 0,
            },
        }
    }

    fn len(&self) -> Option<u64> {
        None
    }
}
