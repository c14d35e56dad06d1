//! Testing pipelines without threads, sleeps or waiting: a harness that runs any
//! pipeline on the calling thread at any parallelism (exchanges included), with
//! sources the test feeds, a clock the test moves, Spark-style micro-batch stepping and
//! sinks whose assertions show the rows that differ.
//!
//! ```
//! use tidewater_engine::prelude::*;
//! use tidewater_engine::testing::{TestPipeline, TestSink, TestSource};
//!
//! // Page views per user and 1-minute window, at parallelism 4.
//! let views = TestSource::event_time(|v: &(u32, i64)| v.1);
//! let out = TestSink::new();
//! let mut t = TestPipeline::new(Config::default().with_parallelism(4));
//! t.source(&views)
//!     .key_by(|v: &(u32, i64)| v.0)
//!     .window(TumblingWindow::of("1 minute"))
//!     .count()
//!     .map(|r| (r.key, r.window_start, r.value))
//!     .sink(out.clone());
//! let mut run = t.start().unwrap();
//! views.push([(1, 5_000), (2, 30_000), (1, 59_999), (1, 61_000)]);
//! views.advance_watermark_to(60_000);
//! run.run_until_idle().unwrap();
//! out.assert_sorted_eq([(1, 0, 2), (2, 0, 1)]);
//! views.finish();
//! run.run_until_idle().unwrap();
//! out.assert_sorted_eq([(1, 60_000, 1)]);
//! ```

mod pipeline;
mod simulation;
mod sink;
mod source;
mod transactional_sink;

pub use pipeline::{BatchProgress, TestPipeline, TestRun};
pub use simulation::{Schedule, Simulation, SimulationFailure};
pub use sink::TestSink;
pub use source::{TestReader, TestSource};
pub use transactional_sink::{TransactionalSink, TransactionalWriter};
