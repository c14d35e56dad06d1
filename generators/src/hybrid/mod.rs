//! Hybrid runs: some tables go to the stream path (enveloped events), some to the
//! file-drop path, and one correlation id links both: it is stamped on every envelope
//! and every manifest. The two phases can run concurrently.
//!
//! ```
//! use tidewater_generators::hybrid::{HybridConfig, HybridSimulator};
//! use tidewater_generators::retail::{RetailDomain, Scale};
//! let dir = tempfile::tempdir().unwrap();
//! let tables = RetailDomain::new(Scale::Small, 1).generate();
//! let mut config = HybridConfig::default();
//! config.stream_tables = vec!["orders".into()];
//! config.batch_tables = vec!["customers".into()];
//! config.file_drop_config.base_path = dir.path().to_string_lossy().into_owned();
//! config.file_drop_config.date_range_start = "2024-01-01".into();
//! config.file_drop_config.date_range_end = "2024-01-02".into();
//! let result = HybridSimulator::new(&tables, config).unwrap().run().unwrap();
//! assert!(result.stream_result.envelopes.iter().all(|e| e.correlation_id == result.correlation_id));
//! ```

mod simulator;

pub use simulator::{HybridConfig, HybridResult, HybridSimulator, LinkStrategy, StreamTarget};
