//! Genesis: generators fitted to a training table, and the ways their rows are
//! delivered (document 002 of the reference).
//!
//! [`FittedGenerator::fit`] learns each column's marginal distribution (empirical
//! quantiles for numbers and timestamps, frequencies for categories, null rates) and
//! the correlations of the columns' normal scores (a Gaussian copula); sampling draws
//! correlated normals and maps them back through the marginals. Row `i` is a pure
//! function of the model, the seed and `i`, so the generator is also a replayable
//! pipeline source ([`crate::core::GeneratorSource`]). Conditions
//! (`{"age": {"gte": 21}, "region": "West"}`) are met by conditional sampling where the
//! copula allows and rejection otherwise. Models save to and load from JSON.
//!
//! ```
//! use tidewater_engine::row::{Row, Value};
//! use tidewater_generators::genesis::{FittedGenerator, Method};
//!
//! let training: Vec<Row> = (0..100)
//!     .map(|i| Row::from_pairs([("x", Value::Float(i as f64)), ("y", Value::Float(2.0 * i as f64))]))
//!     .collect();
//! let generator = FittedGenerator::fit(&training, Method::GaussianCopula)?;
//! let saved = generator.to_json();
//! let loaded = FittedGenerator::from_json(&saved)?;
//! assert_eq!(loaded.sample(10), generator.sample(10));
//! // y follows x: the copula keeps the (perfect) correlation.
//! for row in generator.sample(10) {
//!     let (x, y) = (row.get("x").unwrap().as_f64().unwrap(), row.get("y").unwrap().as_f64().unwrap());
//!     assert!((y - 2.0 * x).abs() < 1.0, "{x} {y}");
//! }
//! # Ok::<(), tidewater_generators::genesis::GenesisError>(())
//! ```

mod column;
mod condition;
mod copula;
mod error;
mod fidelity;
mod fitted;
mod sampler;
mod streaming;
#[cfg(feature = "websocket")]
mod websocket;

pub use column::{Allowed, ColumnModel, Marginal, NumericKind, TimestampStyle};
pub use condition::{Comparison, Conditions, Op};
pub use error::{GenesisError, Result};
pub use fidelity::{fidelity, ks_statistic, ColumnFidelity, Fidelity};
pub use fitted::{EventTime, FittedGenerator, Method};
pub use sampler::ConditionalSampler;
pub use streaming::{
    add_metadata, batch_id, generate_to_channel, with_metadata_columns, BatchIterator,
    GenerationStats, StreamingConfig, StreamingGenerator,
};
#[cfg(feature = "websocket")]
pub use websocket::{ServerHandle, ServerStats, WebSocketConfig, WebSocketGenerator};
