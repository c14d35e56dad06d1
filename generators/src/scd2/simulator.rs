//! The SCD2 drop: versions are kept in memory per business key; each day some current
//! versions are expired and replaced, and new keys appear. The snapshot and each day's
//! changes are written with the shared file formats.

use crate::core::GeneratorErrors;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Duration;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tidewater_engine::row::{Row, Value};
use tidewater_formats::write_rows;

use super::Scd2FileDropConfig;
use crate::core::{event_rng, GeneratorError};
use crate::filedrop::{day_start_ms, parse_required_date};
use crate::retail::Tables;

/// Per-table statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scd2Stats {
    /// Rows of the initial snapshot.
    pub initial_rows: u64,
    /// New business keys inserted by deltas.
    pub inserts: u64,
    /// Versions replaced by deltas.
    pub updates: u64,
    /// Current versions at the end.
    pub current_rows: u64,
    /// All versions at the end (history included).
    pub total_versions: u64,
}

/// What a run wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scd2FileDropResult {
    /// Initial full-load files.
    pub initial_load_paths: Vec<PathBuf>,
    /// Daily delta files.
    pub delta_paths: Vec<PathBuf>,
    /// Manifests.
    pub manifest_paths: Vec<PathBuf>,
    /// Statistics per table.
    pub stats: BTreeMap<String, Scd2Stats>,
}

/// Simulates SCD2-versioned drops of generated tables.
#[derive(Debug, Clone)]
pub struct Scd2FileDropSimulator<'a> {
    tables: &'a Tables,
    config: Scd2FileDropConfig,
}

fn set(row: &Row, updates: &[(&str, Value)]) -> Row {
    row.with_fields(updates.iter().map(|(name, value)| (*name, value.clone())))
}

/// A changed value: numbers move by up to 10%, strings get a version suffix, booleans flip.
fn changed(value: &Value, version: u64, rng: &mut crate::core::EventRng) -> Value {
    match value {
        Value::Int(i) => Value::Int(i + rng.random_range(1..=(i.abs() / 10).max(1))),
        Value::Float(f) => {
            Value::Float((f * (1.0 + rng.random_range(-0.1..0.1)) * 100.0).round() / 100.0)
        }
        Value::Bool(b) => Value::Bool(!b),
        Value::Str(s) => Value::Str(format!("{}-v{version}", s.split("-v").next().unwrap_or(s))),
        Value::Null => Value::from(format!("v{version}")),
    }
}

impl<'a> Scd2FileDropSimulator<'a> {
    /// A simulator over `tables`; every selected table must have the business key.
    pub fn new(tables: &'a Tables, config: Scd2FileDropConfig) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        let mut problems = Vec::new();
        for name in &config.entities {
            match tables.table(name) {
                None => problems.push(GeneratorError::InvalidParameter {
                    field: "entities".into(),
                    expected: format!("table names among {:?}", tables.names()),
                    found: name.clone(),
                }),
                Some(rows)
                    if rows
                        .first()
                        .is_some_and(|r| r.get(&config.business_key_column).is_none()) =>
                {
                    problems.push(GeneratorError::InvalidParameter {
                        field: "business_key_column".into(),
                        expected: format!("a column of `{name}`"),
                        found: config.business_key_column.clone(),
                    })
                }
                Some(_) => {}
            }
        }
        if problems.is_empty() {
            Ok(Scd2FileDropSimulator { tables, config })
        } else {
            Err(problems.into())
        }
    }

    fn write(
        &self,
        dir: &Path,
        name: &str,
        rows: &[Row],
        result: &mut Vec<PathBuf>,
    ) -> Result<Vec<(String, u64)>, GeneratorError> {
        let output = |path: &Path, message: String| GeneratorError::Output {
            path: path.display().to_string(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| output(dir, e.to_string()))?;
        let mut files = Vec::new();
        for format in &self.config.formats {
            let file = format!("{name}.{}", format.extension());
            let path = dir.join(&file);
            write_rows(&path, *format, rows).map_err(|e| output(&path, e.to_string()))?;
            result.push(path);
            files.push((file, rows.len() as u64));
        }
        if self.config.manifest_enabled {
            let path = dir.join("_manifest.json");
            let manifest = serde_json::json!({
                "domain": self.config.domain,
                "drop": name,
                "files": files.iter().map(|(f, n)| serde_json::json!({"name": f, "rows": n})).collect::<Vec<_>>(),
            });
            std::fs::write(
                &path,
                serde_json::to_vec_pretty(&manifest).unwrap_or_default(),
            )
            .map_err(|e| output(&path, e.to_string()))?;
        }
        Ok(files)
    }

    /// Writes the snapshot and the deltas under `base_path`.
    pub fn run(&self) -> Result<Scd2FileDropResult, GeneratorError> {
        let c = &self.config;
        let first_day = parse_required_date("initial_load_date", &c.initial_load_date)?;
        let mut result = Scd2FileDropResult {
            initial_load_paths: Vec::new(),
            delta_paths: Vec::new(),
            manifest_paths: Vec::new(),
            stats: BTreeMap::new(),
        };
        for (e, (entity, rows)) in self.tables.iter().enumerate() {
            if !c.entities.is_empty() && !c.entities.iter().any(|x| x == entity) {
                continue;
            }
            let tracked: Vec<String> = if c.scd2_columns.is_empty() {
                rows.first()
                    .map(|r| {
                        r.schema()
                            .names()
                            .filter(|n| *n != c.business_key_column)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                c.scd2_columns.clone()
            };
            let valid_from = Value::Int(day_start_ms(first_day));
            let mut current: Vec<Row> = rows
                .iter()
                .map(|r| {
                    set(
                        r,
                        &[
                            (&c.effective_date_column, valid_from.clone()),
                            (&c.end_date_column, Value::Null),
                            (&c.is_current_column, Value::Bool(true)),
                        ],
                    )
                })
                .collect();
            let mut stats = Scd2Stats {
                initial_rows: current.len() as u64,
                ..Default::default()
            };
            let base = Path::new(&c.base_path).join(&c.domain).join(entity);
            let dir = base.join("initial");
            self.write(
                &dir,
                &format!("{}_{entity}_initial", c.domain),
                &current,
                &mut result.initial_load_paths,
            )?;
            if c.manifest_enabled {
                result.manifest_paths.push(dir.join("_manifest.json"));
            }
            let mut next_key = rows
                .iter()
                .filter_map(|r| r.get(&c.business_key_column).and_then(Value::as_i64))
                .max()
                .unwrap_or(0)
                + 1;
            let new_per_day = (rows.len() as f64 * c.daily_new_rate).round() as u64;
            let mut history = 0u64;
            for day in 1..=c.num_delta_days {
                let date = first_day + Duration::days(day as i64);
                let at = Value::Int(day_start_ms(date));
                let mut rng = event_rng(c.seed ^ ((e as u64) << 40), day as u64);
                let mut delta = Vec::new();
                for row in current.iter_mut() {
                    if rng.random::<f64>() >= c.daily_change_rate {
                        continue;
                    }
                    let expired = set(
                        row,
                        &[
                            (&c.end_date_column, at.clone()),
                            (&c.is_current_column, Value::Bool(false)),
                            ("_change_type", Value::from("EXPIRE")),
                        ],
                    );
                    let mut updates: Vec<(&str, Value)> = tracked
                        .iter()
                        .filter_map(|col| {
                            row.get(col)
                                .map(|v| (col.as_str(), changed(v, day as u64, &mut rng)))
                        })
                        .collect();
                    updates.push((&c.effective_date_column, at.clone()));
                    updates.push((&c.end_date_column, Value::Null));
                    updates.push((&c.is_current_column, Value::Bool(true)));
                    let version = set(row, &updates);
                    delta.push(expired);
                    delta.push(set(&version, &[("_change_type", Value::from("UPDATE"))]));
                    *row = version;
                    stats.updates += 1;
                    history += 1;
                }
                for _ in 0..new_per_day {
                    let Some(template) = rows.get(rng.random_range(0..rows.len().max(1))) else {
                        break;
                    };
                    let row = set(
                        template,
                        &[
                            (&c.business_key_column, Value::Int(next_key)),
                            (&c.effective_date_column, at.clone()),
                            (&c.end_date_column, Value::Null),
                            (&c.is_current_column, Value::Bool(true)),
                        ],
                    );
                    next_key += 1;
                    delta.push(set(&row, &[("_change_type", Value::from("INSERT"))]));
                    current.push(row);
                    stats.inserts += 1;
                }
                let dt = date.format("%Y-%m-%d").to_string();
                let dir = base.join("delta").join(format!("dt={dt}"));
                self.write(
                    &dir,
                    &format!("{}_{entity}_delta_{dt}", c.domain),
                    &delta,
                    &mut result.delta_paths,
                )?;
                if c.manifest_enabled {
                    result.manifest_paths.push(dir.join("_manifest.json"));
                }
            }
            stats.current_rows = current.len() as u64;
            stats.total_versions = stats.current_rows + history;
            result.stats.insert(entity.to_string(), stats);
        }
        Ok(result)
    }
}
