//! The file drop: rows are assigned to a (day, slot) by their event time, some land
//! late (a later day's drop) or twice; each drop writes one file per format; each day's
//! partition folder gets a manifest and a done flag.

use crate::core::GeneratorErrors;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tidewater_engine::row::{Row, Value};
use tidewater_formats::{write_rows, FileFormat};

use super::config::{day_start_ms, parse_date};
use super::FileDropConfig;
use crate::core::{event_rng, GeneratorError};
use crate::retail::Tables;

const DAY_MS: i64 = 86_400_000;

/// One data file in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// File name inside the partition folder.
    pub name: String,
    /// Format.
    pub format: FileFormat,
    /// Rows in the file.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// Written by a backfill.
    pub backfill: bool,
}

/// `_manifest.json` of one partition folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Domain.
    pub domain: String,
    /// Table.
    pub entity: String,
    /// Partition folder name (`dt=2024-01-01`).
    pub partition: String,
    /// Run-level correlation id, when linked to a stream (hybrid runs).
    pub correlation_id: Option<String>,
    /// Every data file of the folder.
    pub files: Vec<ManifestFile>,
    /// Rows over all files of one format.
    pub row_count: u64,
}

/// Per-table statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityDropStats {
    /// Data files written.
    pub files: u64,
    /// Rows dropped (per format, duplicates and backfills included).
    pub rows: u64,
    /// Rows that landed after their own day.
    pub late_rows: u64,
    /// Rows written twice.
    pub duplicate_rows: u64,
    /// Files written by backfills.
    pub backfill_files: u64,
    /// Rows outside the date range, not dropped.
    pub rows_outside_range: u64,
}

/// What a run wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileDropResult {
    /// Every data file, in write order.
    pub files_written: Vec<PathBuf>,
    /// Every manifest.
    pub manifest_paths: Vec<PathBuf>,
    /// Every done flag.
    pub done_flag_paths: Vec<PathBuf>,
    /// Statistics per table.
    pub stats: BTreeMap<String, EntityDropStats>,
}

/// Simulates file drops of generated tables.
#[derive(Debug, Clone)]
pub struct FileDropSimulator<'a> {
    tables: &'a Tables,
    config: FileDropConfig,
    correlation_id: Option<String>,
}

fn time_of(row: &Row) -> Option<i64> {
    row.schema()
        .names()
        .find(|n| *n == "ts" || *n == "timestamp" || n.ends_with("_at") || n.ends_with("_time"))
        .and_then(|n| row.get(n))
        .and_then(Value::as_i64)
}

fn day_of(ms: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.date_naive())
}

impl<'a> FileDropSimulator<'a> {
    /// A simulator over `tables` with a validated configuration.
    pub fn new(tables: &'a Tables, config: FileDropConfig) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        for entity in &config.entities {
            if tables.table(entity).is_none() {
                return Err(vec![GeneratorError::InvalidParameter {
                    field: "entities".into(),
                    expected: format!("table names among {:?}", tables.names()),
                    found: entity.clone(),
                }]
                .into());
            }
        }
        Ok(FileDropSimulator {
            tables,
            config,
            correlation_id: None,
        })
    }

    /// Stamps `id` into every manifest (hybrid runs).
    pub fn with_correlation_id(mut self, id: &str) -> Self {
        self.correlation_id = Some(id.to_string());
        self
    }

    fn date_range(&self, rows: &[Row]) -> Option<(NaiveDate, NaiveDate)> {
        let c = &self.config;
        let data_days = || {
            let times: Vec<i64> = rows.iter().filter_map(time_of).collect();
            Some((day_of(*times.iter().min()?)?, day_of(*times.iter().max()?)?))
        };
        let start = parse_date("date_range_start", &c.date_range_start)
            .ok()
            .flatten();
        let end = parse_date("date_range_end", &c.date_range_end)
            .ok()
            .flatten();
        match (start, end) {
            (Some(s), Some(e)) => Some((s, e)),
            (s, e) => data_days().map(|(ds, de)| (s.unwrap_or(ds), e.unwrap_or(de))),
        }
    }

    fn write_file(
        &self,
        dir: &Path,
        name: &str,
        format: FileFormat,
        rows: &[Row],
    ) -> Result<u64, GeneratorError> {
        let path = dir.join(name);
        write_rows(&path, format, rows).map_err(|e| GeneratorError::Output {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Runs the drops, writing under `base_path`.
    pub fn run(&self) -> Result<FileDropResult, GeneratorError> {
        let c = &self.config;
        let mut result = FileDropResult {
            files_written: Vec::new(),
            manifest_paths: Vec::new(),
            done_flag_paths: Vec::new(),
            stats: BTreeMap::new(),
        };
        for (e, (entity, rows)) in self.tables.iter().enumerate() {
            if !c.entities.is_empty() && !c.entities.iter().any(|x| x == entity) {
                continue;
            }
            let Some((first, last)) = self.date_range(rows) else {
                continue;
            };
            let days = (last - first).num_days() as usize + 1;
            let slots = c.cadence.slots_per_day() as usize;
            let slot_ms = DAY_MS / slots as i64;
            let mut stats = EntityDropStats::default();
            // drops[day][slot] = rows landing in that drop
            let mut drops: Vec<Vec<Vec<Row>>> = vec![vec![Vec::new(); slots]; days];
            for (i, row) in rows.iter().enumerate() {
                let mut rng = event_rng(c.seed ^ (e as u64) << 40, i as u64);
                let (day, slot) = match time_of(row).and_then(|t| day_of(t).map(|d| (d, t))) {
                    Some((d, t)) if d >= first && d <= last => (
                        (d - first).num_days() as usize,
                        ((t - day_start_ms(d)) / slot_ms) as usize,
                    ),
                    Some(_) => {
                        stats.rows_outside_range += 1;
                        continue;
                    }
                    // No time column: round-robin over the drops.
                    None => ((i / slots) % days, i % slots),
                };
                let mut day = day;
                if c.lateness_enabled
                    && c.max_days_late > 0
                    && rng.random::<f64>() < c.lateness_probability
                {
                    let late = rng.random_range(1..=c.max_days_late) as usize;
                    if day + late < days {
                        day += late;
                        stats.late_rows += 1;
                    }
                }
                drops[day][slot.min(slots - 1)].push(row.clone());
                if c.duplicates_enabled && rng.random::<f64>() < c.duplicate_probability {
                    drops[day][slot.min(slots - 1)].push(row.clone());
                    stats.duplicate_rows += 1;
                }
            }
            let backfill_from = days.saturating_sub(if c.backfill_enabled {
                c.max_days_back as usize
            } else {
                0
            });
            for (d, day_drops) in drops.iter().enumerate() {
                let date = first + Duration::days(d as i64);
                let dt = date.format("%Y-%m-%d").to_string();
                let partition = c.partitioning.replace("YYYY-MM-DD", &dt);
                let dir = Path::new(&c.base_path)
                    .join(&c.domain)
                    .join(entity)
                    .join(&partition);
                std::fs::create_dir_all(&dir).map_err(|err| GeneratorError::Output {
                    path: dir.display().to_string(),
                    message: err.to_string(),
                })?;
                let mut files = Vec::new();
                let rounds = if d >= backfill_from { 2 } else { 1 };
                for round in 0..rounds {
                    for (slot, slot_rows) in day_drops.iter().enumerate() {
                        let seq = round * slots + slot;
                        for format in &c.formats {
                            let name = c
                                .file_naming
                                .replace("{domain}", &c.domain)
                                .replace("{entity}", entity)
                                .replace("{dt}", &dt)
                                .replace("{seq}", &seq.to_string())
                                .replace("{ext}", format.extension());
                            let bytes = self.write_file(&dir, &name, *format, slot_rows)?;
                            result.files_written.push(dir.join(&name));
                            stats.files += 1;
                            stats.rows += slot_rows.len() as u64;
                            stats.backfill_files += (round == 1) as u64;
                            files.push(ManifestFile {
                                name,
                                format: *format,
                                rows: slot_rows.len() as u64,
                                bytes,
                                backfill: round == 1,
                            });
                        }
                    }
                }
                if c.manifest_enabled {
                    let row_count = files
                        .iter()
                        .filter(|f| f.format == c.formats[0])
                        .map(|f| f.rows)
                        .sum();
                    let manifest = Manifest {
                        domain: c.domain.clone(),
                        entity: entity.to_string(),
                        partition,
                        correlation_id: self.correlation_id.clone(),
                        files,
                        row_count,
                    };
                    let path = dir.join("_manifest.json");
                    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
                    std::fs::write(&path, json).map_err(|err| GeneratorError::Output {
                        path: path.display().to_string(),
                        message: err.to_string(),
                    })?;
                    result.manifest_paths.push(path);
                }
                if c.done_flag_enabled {
                    let path = dir.join("_done");
                    std::fs::write(&path, b"").map_err(|err| GeneratorError::Output {
                        path: path.display().to_string(),
                        message: err.to_string(),
                    })?;
                    result.done_flag_paths.push(path);
                }
            }
            result.stats.insert(entity.to_string(), stats);
        }
        Ok(result)
    }
}
