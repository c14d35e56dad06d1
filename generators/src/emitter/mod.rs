//! The stream emitter: generated tables as CloudEvents-style envelopes (id, source,
//! type, time, topic, schema version, correlation id), one topic per table, emitted at
//! a rate with jitter and burst windows, with replays of recent events and out-of-order
//! delivery.
//!
//! ```
//! use tidewater_generators::emitter::{StreamEmitConfig, StreamEmitter};
//! use tidewater_generators::retail::{RetailDomain, Scale};
//! let tables = RetailDomain::new(Scale::Small, 1).generate();
//! let config = StreamEmitConfig { max_events: Some(100), ..Default::default() };
//! let output = StreamEmitter::new(&tables, config).unwrap().emit();
//! assert_eq!(output.result.events_sent, 100);
//! assert_eq!(output.envelopes[0].topic, "customers");
//! ```

mod config;
mod stream_emitter;

pub use config::{SinkType, StreamEmitConfig, Topics};
pub use stream_emitter::{Envelope, StreamEmitOutput, StreamEmitResult, StreamEmitter};
