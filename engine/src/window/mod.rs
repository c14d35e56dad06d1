//! Event-time windows: assigners (which windows a record belongs to), aggregates (what
//! is computed per window) and the operators that keep window state and fire results.
//!
//! Windows are epoch aligned and end exclusive: `[start, end)`. A window fires when the
//! watermark reaches its end. Every result carries its key and window bounds.

pub mod aggregate;
pub mod assigner;
pub(crate) mod operator;
mod output_mode;
mod result;

pub use aggregate::Aggregate;
pub use assigner::{SessionWindow, SlidingWindow, TumblingWindow, WindowAssigner, WindowKind};
pub use output_mode::OutputMode;
pub use result::{Window, WindowResult};
