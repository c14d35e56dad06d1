//! The streamer: any generated table's rows as events, each stamped with its table
//! name, sequence number and event time (`_spindle_table`, `_spindle_seq`,
//! `_spindle_event_time`), with pluggable anomaly injectors that flag what they touch
//! (`_spindle_anomaly`). Stream it with [`GeneratorSource`](crate::core::GeneratorSource)
//! for pacing, out-of-order delivery and run statistics.
//!
//! ```
//! use tidewater_generators::retail::{RetailDomain, Scale};
//! use tidewater_generators::streamer::{AnomalyRegistry, Outlier, TableStream};
//! use tidewater_generators::core::Generator;
//!
//! let tables = RetailDomain::new(Scale::Small, 42).generate();
//! let registry = AnomalyRegistry::new().with(0.01, Outlier::new("total", 100.0));
//! let stream = TableStream::new(&tables, "orders", None, registry, 7).unwrap();
//! let first = stream.event(0);
//! assert_eq!(first.get("_spindle_table").and_then(|v| v.as_str()), Some("orders"));
//! assert_eq!(stream.len(), Some(5_000 + stream.anomaly_counts().get("duplicate").copied().unwrap_or(0)));
//! ```

mod anomaly;
mod spindle;
mod table_stream;

pub use anomaly::{AnomalyInjector, AnomalyRegistry, Duplicate, NullField, Outlier, SchemaDrift};
pub use spindle::SpindleStreamer;
pub use table_stream::{timestamp_of, EventTimes, TableStream};
