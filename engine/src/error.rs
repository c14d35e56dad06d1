//! Typed errors of the engine: every variant carries the data a user needs to find
//! the problem (operator, field, value, limit) and `Display` builds the message.

use thiserror::Error;

/// Result alias used throughout the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Errors raised while building or running a pipeline.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum EngineError {
    /// A window, watermark or other operator was configured with an invalid value.
    #[error("operator `{operator}`: invalid `{field}`: expected {expected}, found {found}")]
    InvalidParameter {
        /// Name of the operator being built.
        operator: String,
        /// Name of the offending parameter.
        field: String,
        /// What a valid value looks like.
        expected: String,
        /// The value that was given.
        found: String,
    },
    /// An operator needs event time, but no watermark strategy was set upstream.
    #[error("operator `{operator}` needs event time: call `with_watermark` before it")]
    MissingEventTime {
        /// Name of the operator that needs event time.
        operator: String,
    },
    /// A field named by a declarative (`Row`) operator does not exist in the schema.
    #[error("operator `{operator}`: unknown field `{field}`; the schema has [{available}]")]
    UnknownField {
        /// Name of the operator naming the field.
        operator: String,
        /// The field that was not found.
        field: String,
        /// Comma separated list of the fields that exist.
        available: String,
    },
    /// A keyed operator was given an empty key.
    #[error("operator `{operator}`: a keyed operator needs at least one key field")]
    MissingKey {
        /// Name of the keyed operator.
        operator: String,
    },
    /// A duration string such as `"10 seconds"` could not be parsed.
    #[error("invalid duration `{input}`: {reason}")]
    InvalidDuration {
        /// The text that was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A pipeline was started without any sink, so it would compute nothing.
    #[error("pipeline has no sink: add one with `Stream::sink` before `start`")]
    NoSink,
    /// A user function or operator panicked while the pipeline ran.
    #[error("operator `{operator}` panicked on worker {worker}: {message}")]
    OperatorPanicked {
        /// Name of the operator whose code panicked.
        operator: String,
        /// Index of the worker thread.
        worker: usize,
        /// The panic message.
        message: String,
    },
    /// A source failed to start or to read.
    #[error("source `{source_name}` failed: {message}")]
    Source {
        /// Name of the source.
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// A sink failed to write.
    #[error("sink `{sink}` failed: {message}")]
    Sink {
        /// Name of the sink.
        sink: String,
        /// What went wrong.
        message: String,
    },
    /// A value could not be converted between a `Row` and a typed struct.
    #[error("row conversion failed: {0}")]
    RowConversion(String),
    /// The pipeline is not in a state that allows the requested action.
    #[error("cannot {action}: pipeline is {status}")]
    InvalidState {
        /// What was attempted.
        action: String,
        /// The state the pipeline was in.
        status: String,
    },
    /// Operator state could not be saved or restored.
    #[error("state of operator `{operator}`: {message}")]
    State {
        /// The operator.
        operator: String,
        /// What went wrong.
        message: String,
    },
    /// A worker thread could not be spawned.
    #[error("could not spawn worker thread: {0}")]
    Spawn(String),
}

impl EngineError {
    /// Shorthand for [`EngineError::InvalidParameter`].
    pub fn invalid(
        operator: impl Into<String>,
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        EngineError::InvalidParameter {
            operator: operator.into(),
            field: field.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}
