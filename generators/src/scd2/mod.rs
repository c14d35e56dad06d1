//! SCD2 file drops: an initial snapshot of each table, then daily delta files with
//! inserts (new business keys) and updates (a new version with changed tracked
//! columns, and the expired old version), tracked by valid_from / valid_to /
//! is_current.
//!
//! ```
//! use tidewater_generators::scd2::{Scd2FileDropConfig, Scd2FileDropSimulator};
//! use tidewater_generators::retail::{RetailDomain, Scale};
//! use tidewater_formats::FileFormat;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let tables = RetailDomain::new(Scale::Small, 1).generate();
//! let config = Scd2FileDropConfig {
//!     base_path: dir.path().to_string_lossy().into_owned(),
//!     entities: vec!["customers".into()],
//!     business_key_column: "customer_id".into(),
//!     scd2_columns: vec!["segment".into()],
//!     num_delta_days: 3,
//!     formats: vec![FileFormat::JsonLines],
//!     ..Default::default()
//! };
//! let result = Scd2FileDropSimulator::new(&tables, config).unwrap().run().unwrap();
//! assert_eq!(result.delta_paths.len(), 3);
//! ```

mod config;
mod simulator;

pub use config::Scd2FileDropConfig;
pub use simulator::{Scd2FileDropResult, Scd2FileDropSimulator, Scd2Stats};

/// The reference's spelling of [`Scd2FileDropConfig`].
pub type SCD2FileDropConfig = Scd2FileDropConfig;
/// The reference's spelling of [`Scd2FileDropSimulator`].
pub type SCD2FileDropSimulator<'a> = Scd2FileDropSimulator<'a>;
/// The reference's spelling of [`Scd2FileDropResult`].
pub type SCD2FileDropResult = Scd2FileDropResult;

#[cfg(test)]
mod tests;
