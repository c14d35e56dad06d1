//! # tidewater-engine
//!
//! The dataflow runtime of Tidewater: typed streams, event-time windows with
//! watermarks and late data, and parallel keyed execution with backpressure.
//!
//! A [`Pipeline`](stream::Pipeline) is built from sources, operators and sinks. When it
//! starts, each of `parallelism` worker threads builds its own copy of the plan: stateless
//! chains are fused into direct calls, keyed operators sit behind a hash exchange
//! (bounded crossbeam channels carrying batches, watermarks and end-of-input markers),
//! and work moves a batch at a time.
//!
//! ```
//! use tidewater_engine::prelude::*;
//!
//! #[derive(Clone, Debug)]
//! struct Reading { sensor: u32, celsius: f64, ts: i64 }
//!
//! let readings: Vec<Reading> = (0..600)
//!     .map(|i| Reading { sensor: i % 3, celsius: 20.0 + (i % 7) as f64, ts: i as i64 * 1_000 })
//!     .collect();
//! let out = MemorySink::new();
//! let mut p = Pipeline::new(Config::default().with_parallelism(2));
//! p.source(VecSource::new(readings))
//!     .filter(|r| r.celsius < 26.0)
//!     .with_watermark(Watermark::bounded("5 seconds", |r: &Reading| r.ts))
//!     .key_by(|r: &Reading| r.sensor)
//!     .window(TumblingWindow::of("1 minute"))
//!     .aggregate((Count, Max::of(|r: &Reading| r.celsius)))
//!     .sink(out.clone());
//! let metrics = p.run().unwrap();
//! assert_eq!(metrics.source_records, 600);
//! // 10 minutes x 3 sensors
//! assert_eq!(out.len(), 30);
//! ```
#![deny(missing_docs)]
#![warn(clippy::print_stdout)]

pub mod checkpoint;
pub mod config;
pub mod connector;
pub mod dead_letter;
pub mod error;
mod error_context;
pub mod explain;
pub mod fault;
pub mod http;
pub mod metrics;
pub mod operator;
pub mod plan;
pub mod processor;
pub mod record;
pub mod row;
pub(crate) mod runtime;
pub mod state;
pub mod stream;
pub mod testing;
pub mod time;
pub mod window;

pub use runtime::{LocalExecutor, Simulation, SimulationReport};

/// Everything needed to build and run a pipeline.
pub mod prelude {
    pub use crate::config::{Config, DeliveryGuarantee, TimeSemantics};
    pub use crate::connector::{
        ChannelSender, ChannelSource, Commit, ConsoleSink, FnSink, IterSource, MemorySink, Restart,
        Sink, SinkWriter, Source, SourcePoll, SourceReader, VecSource, WorkerInfo,
    };
    pub use crate::dead_letter::{DeadLetter, Origin};
    pub use crate::error::{EngineError, Problems, Result};
    pub use crate::metrics::Metrics;
    pub use crate::operator::{Control, KeyedContext, KeyedProcessFunction, Operator};
    pub use crate::processor::{Status, StreamProcessor};
    pub use crate::record::{Batch, Record};

    pub use crate::row::{agg, Row, RowStreamExt, RowWindowedExt, Schema, Value};
    pub use crate::runtime::LocalExecutor;
    pub use crate::stream::{KeyedStream, Pipeline, Stream, WindowedStream};
    pub use crate::time::{ManualClock, Timestamp, Watermark};
    pub use crate::window::aggregate::{
        AggregateExt, Avg, Collect, Count, EventSpan, First, Last, Max, Min, Numeric, Reduce, Span,
        Sum,
    };
    pub use crate::window::{
        Aggregate, OutputMode, SessionWindow, SlidingWindow, TumblingWindow, Window,
        WindowAssigner, WindowKind, WindowResult,
    };
}
