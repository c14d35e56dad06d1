//! Window assigners: one file per window kind. Each validates its parameters into a
//! [`WindowKind`], the form the window operators run on.

mod fixed;
mod session;
mod sliding;
mod tumbling;

pub use fixed::FixedWindows;
pub use session::{SessionSpec, SessionWindow};
pub use sliding::SlidingWindow;
pub use tumbling::TumblingWindow;

use crate::error::Result;

/// Validated window parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// Tumbling or sliding windows of fixed size.
    Fixed(FixedWindows),
    /// Gap-based session windows per key.
    Session(SessionSpec),
}

/// A window definition accepted by `KeyedStream::window`.
pub trait WindowAssigner: Clone + Send + Sync + 'static {
    /// Short name used in operator names (`"tumbling"`, `"sliding"`, `"session"`).
    fn name(&self) -> &'static str;

    /// Checks the parameters; `operator` names the window operator in errors.
    fn validate(&self, operator: &str) -> Result<WindowKind>;
}
