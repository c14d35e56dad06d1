//! What every generator shares: the [`Generator`] trait (event `i` is a pure function
//! of the configuration, the seed and `i`), its counter-based RNG, validation errors,
//! real-time pacing and the engine source adapter.

mod chunked;
mod curve;
mod error;
mod generator;
mod pacing;
mod params;
#[cfg(test)]
pub(crate) mod pinned;
mod recorded;
mod rescale;
pub(crate) mod rng;
mod skew;
mod source;
mod time;

pub use chunked::{epoch_seed, ChunkedGenerator};
pub use curve::RateCurve;
pub use error::{
    all_problems, check_non_negative, check_positive, check_probability, describe, GeneratorError,
    GeneratorErrors,
};
pub use generator::{Generator, GeneratorPosition};
pub use pacing::{BurstWindow, Pacing};
pub use params::apply_params;
pub use recorded::RecordedGenerator;
pub use rng::{event_rng, EventRng};
pub use skew::KeySkew;
pub use source::{
    GeneratorReader, GeneratorSource, StreamOptions, StreamResult, StreamStats, TimeMode,
};
pub use time::{ms_or_iso, parse_time};
