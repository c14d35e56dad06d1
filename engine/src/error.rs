//! Typed errors of the engine: every variant carries the data a user needs to find
//! the problem (pipeline, node, field, value, limit) and `Display` builds the message.
//!
//! Errors travel as values: operators, sources and sinks return [`Result`], the node
//! that runs them adds the pipeline and node name ([`EngineError::Node`]), and the
//! worker loop ends the run with [`Status::Failed`](crate::processor::Status) and the
//! error. Lower errors (I/O, a connector's client library) are kept as the
//! [`source`](std::error::Error::source) through [`Cause`], not flattened to strings.
//!
//! ```
//! use tidewater_engine::prelude::*;
//!
//! let mut p = Pipeline::new(Config::default().with_name("demo").with_batch_size(0));
//! p.source(VecSource::new(vec![1_i64, 2, 3]))
//!     .with_watermark(Watermark::monotonic(|t: &i64| *t))
//!     .key_by(|t: &i64| *t % 2)
//!     .window(TumblingWindow::of("0 seconds"))
//!     .aggregate(Count)
//!     .sink(MemorySink::new());
//! let err = p.build().err().unwrap();
//! // Every problem at once, each naming where it is.
//! assert_eq!(err.problems().len(), 2);
//! assert_eq!(
//!     err.to_string(),
//!     "pipeline `demo` has 2 problems:\n  \
//!      1. `config`: invalid `batch_size`: expected at least 1, found 0\n  \
//!      2. `window(tumbling)#2`: invalid `size`: expected a duration > 0, found 0 ms"
//! );
//! ```

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

/// Result alias used throughout the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// A lower-level error kept as the source of an [`EngineError`]: shared, so engine
/// errors stay `Clone` (a failed run hands the same error to every caller).
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync + 'static>);

impl Cause {
    /// Wraps any error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Cause(Arc::new(error))
    }

    /// The wrapped error, to downcast (`cause.get().downcast_ref::<std::io::Error>()`).
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.0.as_ref()
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Two causes are equal when they say the same thing (errors rarely implement `Eq`).
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

pub use crate::error_context::ErrorContext;

/// Errors raised while building or running a pipeline.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum EngineError {
    /// A window, watermark, config or other setting has an invalid value.
    #[error("`{operator}`: invalid `{field}`: expected {expected}, found {found}")]
    InvalidParameter {
        /// The operator or settings being built (`window(tumbling)#3`, `config`).
        operator: String,
        /// Name of the offending parameter.
        field: String,
        /// What a valid value looks like.
        expected: String,
        /// The value that was given.
        found: String,
    },
    /// Several problems of one pipeline or config, reported together.
    #[error("{}", list_problems(.pipeline, .problems))]
    Invalid {
        /// The pipeline (or config) the problems belong to.
        pipeline: String,
        /// Every problem found, in the order the pipeline declares them.
        problems: Vec<EngineError>,
    },
    /// An operator needs event time, but no watermark strategy was set upstream.
    #[error("`{operator}` needs event time: call `with_watermark` before it")]
    MissingEventTime {
        /// Name of the operator that needs event time.
        operator: String,
    },
    /// A field named by a declarative (`Row`) operator does not exist in the schema.
    #[error("`{operator}`: unknown field `{field}`{}; the schema has [{available}]", suggest(.suggestion))]
    UnknownField {
        /// Name of the operator naming the field.
        operator: String,
        /// The field that was not found.
        field: String,
        /// The existing field nearest to the one named, if any is close.
        suggestion: Option<String>,
        /// Comma separated list of the fields that exist.
        available: String,
    },
    /// A keyed operator was given an empty key.
    #[error("`{operator}`: a keyed operator needs at least one key field")]
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
    #[error("the pipeline has no sink: add one with `Stream::sink` before `start`")]
    NoSink,
    /// The delivery guarantee asked for cannot be kept by a source or sink of the
    /// pipeline.
    #[error("`{node}` cannot take part in {guarantee}: {lacks}")]
    Delivery {
        /// The source or sink.
        node: String,
        /// The guarantee configured (`exactly-once`, ...).
        guarantee: String,
        /// What the node lacks.
        lacks: String,
    },
    /// A user function or operator panicked while the pipeline ran.
    #[error("`{operator}` panicked on worker {worker}: {message}")]
    OperatorPanicked {
        /// Name of the operator whose code panicked.
        operator: String,
        /// Index of the worker thread.
        worker: usize,
        /// The panic message.
        message: String,
    },
    /// A failure while a node ran, with the pipeline and node it happened in.
    #[error("pipeline `{pipeline}`, node `{node}` (worker {worker}): {error}")]
    Node {
        /// The pipeline's name.
        pipeline: String,
        /// The node's name (`sink#5`, `window(session)#3`).
        node: String,
        /// The worker the node ran on.
        worker: usize,
        /// What went wrong.
        #[source]
        error: Box<EngineError>,
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
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the file or folder.
        context: String,
        /// The I/O error.
        #[source]
        source: Cause,
    },
    /// A lower layer (a client library, a format) failed.
    #[error("{context}: {source}")]
    External {
        /// What was being done.
        context: String,
        /// The error of the lower layer.
        #[source]
        source: Cause,
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
    /// Operator state or a source position could not be saved or restored.
    #[error("state of `{operator}`: {message}")]
    State {
        /// The operator.
        operator: String,
        /// What went wrong.
        message: String,
    },
    /// The checkpoint store failed.
    #[error("checkpoint store: {0}")]
    Checkpoint(#[source] crate::checkpoint::CheckpointError),
    /// A worker thread could not be spawned.
    #[error("could not spawn worker thread: {0}")]
    Spawn(String),
    /// The metrics and dashboard server could not start.
    #[error("metrics and dashboard server on {addr}: {message}")]
    Http {
        /// The address it was to listen on.
        addr: String,
        /// Why it could not.
        message: String,
    },
}

fn list_problems(pipeline: &str, problems: &[EngineError]) -> String {
    match problems {
        [one] => format!("pipeline `{pipeline}`: {one}"),
        _ => {
            let mut text = format!("pipeline `{pipeline}` has {} problems:", problems.len());
            for (i, p) in problems.iter().enumerate() {
                text.push_str(&format!("\n  {}. {p}", i + 1));
            }
            text
        }
    }
}

fn suggest(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

impl From<crate::checkpoint::CheckpointError> for EngineError {
    fn from(e: crate::checkpoint::CheckpointError) -> Self {
        EngineError::Checkpoint(e)
    }
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

    /// An I/O error while doing `context` (which names the file or folder).
    pub fn io(context: impl Into<String>, error: std::io::Error) -> Self {
        EngineError::Io {
            context: context.into(),
            source: Cause::new(error),
        }
    }

    /// An error of a lower layer while doing `context`.
    pub fn external(
        context: impl Into<String>,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        EngineError::External {
            context: context.into(),
            source: Cause::new(error),
        }
    }

    /// Places an error of a setting (a duration that did not parse, say) at `operator`
    /// and `field`; errors that already name where they are stay as they are.
    pub fn at(self, operator: &str, field: &str) -> Self {
        match self {
            EngineError::InvalidDuration { input, reason } => EngineError::invalid(
                operator,
                field,
                format!("a duration such as `10 seconds` ({reason})"),
                format!("`{input}`"),
            ),
            other => other,
        }
    }

    /// Every single problem this error holds: the list of an
    /// [`Invalid`](EngineError::Invalid), or the error itself.
    pub fn problems(&self) -> Vec<&EngineError> {
        match self {
            EngineError::Invalid { problems, .. } => {
                problems.iter().flat_map(EngineError::problems).collect()
            }
            other => vec![other],
        }
    }

    /// The innermost error: what a [`Node`](EngineError::Node) wraps.
    pub fn root(&self) -> &EngineError {
        match self {
            EngineError::Node { error, .. } => error.root(),
            other => other,
        }
    }

    /// Wraps an error raised while node `node` ran (once: an error that already names
    /// its node is returned as it is).
    pub fn in_node(self, pipeline: &str, node: &str, worker: usize) -> Self {
        match self {
            e @ EngineError::Node { .. } => e,
            other => EngineError::Node {
                pipeline: pipeline.to_string(),
                node: node.to_string(),
                worker,
                error: Box::new(other),
            },
        }
    }
}

/// Collects every problem of a pipeline or config before failing, so a user sees them
/// all at once (as Vector's `validate` does).
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<EngineError>,
}

impl Problems {
    /// An empty collection.
    pub fn new() -> Self {
        Problems::default()
    }

    /// Adds a problem (the problems of a nested [`Invalid`](EngineError::Invalid) are
    /// added one by one).
    pub fn push(&mut self, error: EngineError) {
        match error {
            EngineError::Invalid { problems, .. } => {
                for p in problems {
                    self.push(p);
                }
            }
            other => self.list.push(other),
        }
    }

    /// Keeps the value of `result`, or records its error and returns `None`.
    pub fn take<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(e);
                None
            }
        }
    }

    /// Records `InvalidParameter` unless `ok`.
    pub fn check(
        &mut self,
        ok: bool,
        operator: &str,
        field: &str,
        expected: &str,
        found: impl fmt::Display,
    ) {
        if !ok {
            self.push(EngineError::invalid(
                operator,
                field,
                expected,
                found.to_string(),
            ));
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every problem recorded, under `pipeline` (the caller saw it is not empty).
    pub fn into_error(self, pipeline: &str) -> EngineError {
        EngineError::Invalid {
            pipeline: pipeline.to_string(),
            problems: self.list,
        }
    }

    /// `Ok(value)` when nothing was recorded, else every problem under `pipeline`.
    pub fn finish<T>(self, pipeline: &str, value: T) -> Result<T> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(EngineError::Invalid {
                pipeline: pipeline.to_string(),
                problems: self.list,
            })
        }
    }
}

/// The name among `candidates` nearest to `name` (for "did you mean"), if one is close
/// enough to be a likely typo.
pub fn nearest_name<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_name_finds_typos_and_ignores_strangers() {
        let fields = ["page", "user_id", "ts"];
        let cases = [
            ("pgae", Some("page")),
            ("user_di", Some("user_id")),
            ("userid", Some("user_id")),
            ("tz", Some("ts")),
            ("amount", None),
        ];
        for (name, want) in cases {
            assert_eq!(
                nearest_name(name, fields.iter().copied()).as_deref(),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn a_node_error_is_wrapped_once_and_keeps_its_root() {
        let e = EngineError::NoSink
            .in_node("p", "sink#2", 1)
            .in_node("p", "map#1", 1);
        assert_eq!(
            e.to_string(),
            "pipeline `p`, node `sink#2` (worker 1): the pipeline has no sink: add one with `Stream::sink` before `start`"
        );
        assert_eq!(e.root(), &EngineError::NoSink);
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn io_errors_keep_their_source() {
        let e = EngineError::io(
            "writing /tmp/x",
            std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left on device"),
        );
        assert_eq!(e.to_string(), "writing /tmp/x: no space left on device");
        let source = std::error::Error::source(&e).unwrap();
        let cause = source.downcast_ref::<Cause>().unwrap();
        assert_eq!(
            cause.get().downcast_ref::<std::io::Error>().unwrap().kind(),
            std::io::ErrorKind::StorageFull
        );
    }
}
