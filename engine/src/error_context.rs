//! An error's context as fields, for programs that act on errors rather than print
//! them (tauro's `.context` dictionary): what was being done, by which component of
//! which pipeline, on which field, what was expected and found, and the whole message.

use serde::Serialize;

use crate::error::EngineError;

/// What an error is about.
///
/// ```
/// use tidewater_engine::prelude::*;
/// let mut p = Pipeline::new(Config::default().with_name("orders"));
/// p.source(VecSource::new(vec![(1u8, 5i64)]))
///     .with_watermark(Watermark::monotonic(|e: &(u8, i64)| e.1))
///     .key_by(|e: &(u8, i64)| e.0)
///     .window(TumblingWindow::of("0 seconds"))
///     .count()
///     .sink(MemorySink::new());
/// let c = p.build().err().unwrap().context();
/// assert_eq!(c.operation, "build");
/// assert_eq!(c.pipeline.as_deref(), Some("orders"));
/// assert_eq!(c.component.as_deref(), Some("window(tumbling)#2"));
/// assert_eq!(c.field.as_deref(), Some("size"));
/// assert_eq!(c.expected.as_deref(), Some("a duration > 0"));
/// assert_eq!(c.found.as_deref(), Some("0 ms"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErrorContext {
    /// What was being done: `build`, `run`, `read`, `write`, `checkpoint`, `validate`,
    /// or the description an I/O or client error carries.
    pub operation: String,
    /// The pipeline, when known.
    pub pipeline: Option<String>,
    /// The node, source, sink, operator or section (`window(tumbling)#3`, `config`).
    pub component: Option<String>,
    /// The setting or field.
    pub field: Option<String>,
    /// What was expected there.
    pub expected: Option<String>,
    /// What was found.
    pub found: Option<String>,
    /// The whole message.
    pub cause: String,
}

impl ErrorContext {
    fn new(operation: &str, error: &EngineError) -> Self {
        ErrorContext {
            operation: operation.to_string(),
            cause: error.to_string(),
            ..Default::default()
        }
    }

    fn component(mut self, c: &str) -> Self {
        self.component = Some(c.to_string());
        self
    }

    fn field(mut self, f: &str) -> Self {
        self.field = Some(f.to_string());
        self
    }
}

impl EngineError {
    /// This error's context as fields. A list of problems gives its first one's (with
    /// the pipeline); a node's failure gives the failure's, with its pipeline and node.
    pub fn context(&self) -> ErrorContext {
        use EngineError as E;
        let c = |op: &str| ErrorContext::new(op, self);
        match self {
            E::InvalidParameter {
                operator,
                field,
                expected,
                found,
            } => ErrorContext {
                expected: Some(expected.clone()),
                found: Some(found.clone()),
                ..c("build").component(operator).field(field)
            },
            E::Invalid { pipeline, problems } => {
                let first = problems
                    .first()
                    .map_or_else(|| c("build"), EngineError::context);
                ErrorContext {
                    pipeline: Some(pipeline.clone()),
                    cause: self.to_string(),
                    ..first
                }
            }
            E::MissingEventTime { operator } => c("build").component(operator).field("watermark"),
            E::UnknownField {
                operator, field, ..
            } => c("run").component(operator).field(field),
            E::MissingKey { operator } => c("build").component(operator).field("key"),
            E::InvalidDuration { input, reason } => ErrorContext {
                expected: Some(format!("a duration ({reason})")),
                found: Some(input.clone()),
                ..c("build")
            },
            E::NoSink => c("build").component("pipeline").field("sink"),
            E::Delivery {
                node,
                guarantee,
                lacks,
            } => ErrorContext {
                expected: Some(guarantee.clone()),
                found: Some(lacks.clone()),
                ..c("build").component(node).field("delivery")
            },
            E::OperatorPanicked { operator, .. } => c("run").component(operator),
            E::Node {
                pipeline,
                node,
                error,
                ..
            } => {
                let inner = error.context();
                ErrorContext {
                    operation: if inner.operation == "build" {
                        "run".into()
                    } else {
                        inner.operation
                    },
                    pipeline: Some(pipeline.clone()),
                    component: Some(node.clone()),
                    cause: self.to_string(),
                    ..inner
                }
            }
            E::Source { source_name, .. } => c("read").component(source_name),
            E::Sink { sink, .. } => c("write").component(sink),
            E::Io { context, .. } | E::External { context, .. } => c(context),
            E::RowConversion(_) => c("convert a row"),
            E::InvalidState { action, .. } => c(action),
            E::State { operator, .. } => c("checkpoint").component(operator),
            E::Checkpoint(_) => c("checkpoint").component("checkpoint store"),
            E::Spawn(_) => c("start a worker"),
            E::Http { addr, .. } => ErrorContext {
                expected: Some("an address to listen on".into()),
                found: Some(addr.clone()),
                ..c("start the metrics server").field("http")
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_error_names_its_operation_component_and_field() {
        let invalid = EngineError::invalid("config", "parallelism", "at least 1", "0");
        /// (error, operation, pipeline, component, field)
        type Row = (
            EngineError,
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let table: Vec<Row> = vec![
            (
                invalid.clone(),
                "build",
                None,
                Some("config"),
                Some("parallelism"),
            ),
            (
                EngineError::Invalid {
                    pipeline: "p".into(),
                    problems: vec![invalid.clone()],
                },
                "build",
                Some("p"),
                Some("config"),
                Some("parallelism"),
            ),
            (
                EngineError::Node {
                    pipeline: "p".into(),
                    node: "sink#4".into(),
                    worker: 1,
                    error: Box::new(EngineError::Sink {
                        sink: "files".into(),
                        message: "disk full".into(),
                    }),
                },
                "write",
                Some("p"),
                Some("sink#4"),
                None,
            ),
            (
                EngineError::MissingEventTime {
                    operator: "window#2".into(),
                },
                "build",
                None,
                Some("window#2"),
                Some("watermark"),
            ),
            (
                EngineError::Source {
                    source_name: "kafka".into(),
                    message: "gone".into(),
                },
                "read",
                None,
                Some("kafka"),
                None,
            ),
        ];
        for (error, operation, pipeline, component, field) in table {
            let c = error.context();
            assert_eq!(
                (
                    c.operation.as_str(),
                    c.pipeline.as_deref(),
                    c.component.as_deref(),
                    c.field.as_deref()
                ),
                (operation, pipeline, component, field),
                "{error}"
            );
            assert_eq!(c.cause, error.to_string());
        }
    }
}
