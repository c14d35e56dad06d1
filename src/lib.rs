//! # Tidewater
//!
//! A windowed stream-processing engine with embedded synthetic sources: data generation
//! and the streaming pipeline run in one process, so a pipeline can be built, tested and
//! benchmarked with no broker, no cluster and no JVM.
//!
//! This facade re-exports the three crates and a [`prelude`]:
//!
//! * [`engine`]: the dataflow runtime (streams, windows, watermarks, parallel execution).
//! * [`generators`]: seeded synthetic sources (benchmark workloads, simulators).
//! * [`connectors`]: sources and sinks for the outside world.
//! * [`formats`]: rows to and from JSON lines, CSV and Parquet files.
//! * [`spark`]: replays Spark Structured Streaming golden cases in the Spark-compatible
//!   mode.
//!
//! ```
//! use tidewater::prelude::*;
//! use tidewater::generators::workload::{Workload, WorkloadEvent, WorkloadSource};
//!
//! let out = MemorySink::new();
//! let mut p = Pipeline::new(Config::default());
//! p.source(WorkloadSource::new(Workload::W3, 50_000))
//!     .with_watermark(Watermark::bounded("1 second", |e: &WorkloadEvent| e.ts))
//!     .key_by(|e: &WorkloadEvent| e.key)
//!     .window(SessionWindow::with_gap("5 seconds"))
//!     .aggregate(Count)
//!     .sink(out.clone());
//! p.run()?;
//! let (rows, sum) = Workload::W3.expected(50_000, Workload::W3.keys());
//! assert_eq!(out.len() as u64, rows);
//! assert_eq!(out.values().iter().map(|r| r.value).sum::<u64>(), sum);
//! # Ok::<(), tidewater::prelude::EngineError>(())
//! ```
#![deny(missing_docs)]

pub mod bench;
pub mod declarative;
pub mod generate;
pub mod genesis;
pub mod jobs;
#[cfg(feature = "kafka")]
mod kafka_json;
pub mod logging;
pub mod nexmark;
pub mod spark;
pub mod spindle;

/// The README's examples, compiled and run as doctests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

pub use tidewater_connectors as connectors;
pub use tidewater_engine as engine;
pub use tidewater_formats as formats;
pub use tidewater_generators as generators;

/// The testing harness: pipelines on the calling thread at any parallelism, sources
/// and clock the test drives (see [`tidewater_engine::testing`]).
pub use tidewater_engine::testing;

/// The engine's prelude plus the generators most programs start from.
pub mod prelude {
    pub use tidewater_engine::prelude::*;
    pub use tidewater_generators::core::{Generator, GeneratorSource, Pacing, StreamOptions};
    pub use tidewater_generators::workload::{Workload, WorkloadEvent, WorkloadSource};
}
