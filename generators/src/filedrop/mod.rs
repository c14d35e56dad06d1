//! File drops: an upstream system landing files on a cadence over a date range, in
//! `dt=YYYY-MM-DD` partition folders, as Parquet, CSV or JSON lines, with a
//! `_manifest.json` and a `_done` flag per partition, late rows, duplicates and
//! backfills.
//!
//! ```
//! use tidewater_generators::filedrop::{Cadence, FileDropConfig, FileDropSimulator};
//! use tidewater_generators::retail::{RetailDomain, Scale};
//! use tidewater_formats::FileFormat;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let tables = RetailDomain::new(Scale::Small, 1).generate();
//! let config = FileDropConfig {
//!     domain: "retail".into(),
//!     base_path: dir.path().to_string_lossy().into_owned(),
//!     date_range_start: "2024-01-01".into(),
//!     date_range_end: "2024-01-03".into(),
//!     formats: vec![FileFormat::JsonLines],
//!     entities: vec!["orders".into()],
//!     ..Default::default()
//! };
//! let result = FileDropSimulator::new(&tables, config).unwrap().run().unwrap();
//! assert_eq!(result.manifest_paths.len(), 3); // one per day
//! assert!(result.files_written[0].ends_with("retail/orders/dt=2024-01-01/retail_orders_2024-01-01_0.jsonl"));
//! ```

mod config;
mod simulator;

pub(crate) use config::{day_start_ms, parse_required_date};
pub use config::{Cadence, FileDropConfig};
pub use simulator::{EntityDropStats, FileDropResult, FileDropSimulator, Manifest, ManifestFile};

#[cfg(test)]
mod tests;
