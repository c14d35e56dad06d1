//! The hybrid simulator.

use crate::core::GeneratorErrors;
use serde::{Deserialize, Serialize};

use crate::core::GeneratorError;
use crate::emitter::{StreamEmitConfig, StreamEmitOutput, StreamEmitter};
use crate::filedrop::{FileDropConfig, FileDropResult, FileDropSimulator};
use crate::retail::Tables;

/// Where the stream path is meant to land (informational).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamTarget {
    /// An eventhouse.
    Eventhouse,
    /// A lakehouse.
    Lakehouse,
    /// Both.
    Both,
}

/// How stream events and batch files are correlated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStrategy {
    /// One run-level id on every envelope and manifest.
    CorrelationId,
    /// Matching business keys across both paths (manifests carry no id).
    NaturalKeys,
}

/// Parameters of [`HybridSimulator`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HybridConfig {
    /// Streaming target.
    pub stream_to: StreamTarget,
    /// Batch target.
    pub micro_batch_to: String,
    /// Tables routed to the stream path; empty: all.
    pub stream_tables: Vec<String>,
    /// Tables routed to the file-drop path; empty: all.
    pub batch_tables: Vec<String>,
    /// The stream side.
    pub stream_config: StreamEmitConfig,
    /// The batch side.
    pub file_drop_config: FileDropConfig,
    /// How the two are linked.
    pub link_strategy: LinkStrategy,
    /// Run both phases in parallel threads.
    pub concurrent: bool,
    /// Random seed (given to both sides).
    pub seed: u64,
}

impl Default for HybridConfig {
    fn default() -> Self {
        HybridConfig {
            stream_to: StreamTarget::Eventhouse,
            micro_batch_to: "lakehouse_files".into(),
            stream_tables: Vec::new(),
            batch_tables: Vec::new(),
            stream_config: StreamEmitConfig::default(),
            file_drop_config: FileDropConfig::default(),
            link_strategy: LinkStrategy::CorrelationId,
            concurrent: false,
            seed: 42,
        }
    }
}

/// What a hybrid run produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HybridResult {
    /// The batch phase.
    pub file_drop_result: FileDropResult,
    /// The stream phase.
    pub stream_result: StreamEmitOutput,
    /// The run-level correlation id.
    pub correlation_id: String,
    /// The linking strategy applied.
    pub link_strategy: LinkStrategy,
}

/// Runs file drop and stream emission together.
#[derive(Debug, Clone)]
pub struct HybridSimulator {
    stream_tables: Tables,
    batch_tables: Tables,
    config: HybridConfig,
}

fn select(tables: &Tables, names: &[String], field: &str) -> Result<Tables, GeneratorErrors> {
    let mut out = Tables::default();
    for name in names {
        if tables.table(name).is_none() {
            return Err(vec![GeneratorError::InvalidParameter {
                field: field.into(),
                expected: format!("table names among {:?}", tables.names()),
                found: name.clone(),
            }]
            .into());
        }
    }
    for (name, rows) in tables.iter() {
        if names.is_empty() || names.iter().any(|n| n == name) {
            out.insert(name, rows.to_vec());
        }
    }
    Ok(out)
}

impl HybridSimulator {
    /// A hybrid run over `tables`.
    pub fn new(tables: &Tables, mut config: HybridConfig) -> Result<Self, GeneratorErrors> {
        config.stream_config.seed = config.seed;
        config.file_drop_config.seed = config.seed;
        config.stream_config.validate()?;
        config.file_drop_config.validate()?;
        let stream_tables = select(tables, &config.stream_tables, "stream_tables")?;
        let batch_tables = select(tables, &config.batch_tables, "batch_tables")?;
        Ok(HybridSimulator {
            stream_tables,
            batch_tables,
            config,
        })
    }

    /// Runs both phases (in parallel when `concurrent`).
    pub fn run(&self) -> Result<HybridResult, GeneratorError> {
        let first_problem = |p: GeneratorErrors| {
            p.0.into_iter()
                .next()
                .unwrap_or_else(|| GeneratorError::InvalidParameter {
                    field: "config".into(),
                    expected: "a valid configuration".into(),
                    found: "an empty list of problems".into(),
                })
        };
        let emitter = StreamEmitter::new(&self.stream_tables, self.config.stream_config.clone())
            .map_err(first_problem)?;
        let correlation_id = emitter.correlation_id().to_string();
        let mut drop =
            FileDropSimulator::new(&self.batch_tables, self.config.file_drop_config.clone())
                .map_err(first_problem)?;
        if self.config.link_strategy == LinkStrategy::CorrelationId {
            drop = drop.with_correlation_id(&correlation_id);
        }
        let (stream_result, file_drop_result) = if self.config.concurrent {
            std::thread::scope(|scope| {
                let batch = scope.spawn(|| drop.run());
                let stream = emitter.emit();
                let batch = batch.join().unwrap_or_else(|_| {
                    Err(GeneratorError::Output {
                        path: "(file drop thread)".into(),
                        message: "panicked".into(),
                    })
                });
                (stream, batch)
            })
        } else {
            (emitter.emit(), drop.run())
        };
        Ok(HybridResult {
            file_drop_result: file_drop_result?,
            stream_result,
            correlation_id,
            link_strategy: self.config.link_strategy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filedrop::Manifest;
    use crate::retail::{RetailDomain, Scale};

    fn config(dir: &std::path::Path, concurrent: bool) -> HybridConfig {
        let mut config = HybridConfig {
            concurrent,
            ..Default::default()
        };
        config.stream_tables = vec!["orders".into(), "returns".into()];
        config.batch_tables = vec!["orders".into()];
        config.stream_config.max_events = Some(500);
        config.file_drop_config.base_path = dir.to_string_lossy().into_owned();
        config.file_drop_config.date_range_start = "2024-01-01".into();
        config.file_drop_config.date_range_end = "2024-01-03".into();
        config
    }

    #[test]
    fn one_correlation_id_links_every_envelope_and_manifest_and_concurrency_changes_nothing() {
        let tables = RetailDomain::new(Scale::Small, 4).generate();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let sequential = HybridSimulator::new(&tables, config(a.path(), false))
            .unwrap()
            .run()
            .unwrap();
        let concurrent = HybridSimulator::new(&tables, config(b.path(), true))
            .unwrap()
            .run()
            .unwrap();
        // Everything but the wall-clock duration is the same.
        let without_wall_clock = |mut output: StreamEmitOutput| {
            output.result.elapsed_seconds = 0.0;
            output
        };
        assert_eq!(
            without_wall_clock(sequential.stream_result.clone()),
            without_wall_clock(concurrent.stream_result.clone())
        );
        assert_eq!(sequential.correlation_id, concurrent.correlation_id);
        let id = &sequential.correlation_id;
        assert_eq!(sequential.stream_result.envelopes.len(), 500);
        assert!(sequential
            .stream_result
            .envelopes
            .iter()
            .all(|e| &e.correlation_id == id));
        for path in &sequential.file_drop_result.manifest_paths {
            let manifest: Manifest = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            assert_eq!(manifest.correlation_id.as_ref(), Some(id));
            assert_eq!(manifest.entity, "orders");
        }
        assert_eq!(sequential.file_drop_result.manifest_paths.len(), 3);
    }

    #[test]
    fn unknown_tables_are_named() {
        let tables = RetailDomain::new(Scale::Small, 4).generate();
        let config = HybridConfig {
            batch_tables: vec!["ledger".into()],
            ..Default::default()
        };
        let e = HybridSimulator::new(&tables, config).unwrap_err();
        assert!(
            e[0].to_string()
                .starts_with("`batch_tables`: expected table names among"),
            "{}",
            e[0]
        );
    }
}
