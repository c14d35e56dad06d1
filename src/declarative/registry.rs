//! Transforms registered by name from Rust, for the `call` steps of pipeline files:
//! what tauro's `transforms: [parse_and_enrich]` lists of callables are in Python.

use std::collections::BTreeMap;
use std::sync::Arc;

use tidewater_engine::prelude::*;

/// A named transform: a function from a row stream to a row stream.
type NamedTransform = Arc<dyn Fn(Stream<Row>) -> Stream<Row> + Send + Sync>;

/// The transforms a pipeline file may name in a `call` step (or a bare-name step).
///
/// ```
/// use tidewater::declarative::{parse, RunOptions, TransformRegistry};
/// use tidewater::prelude::*;
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("in.jsonl"), "{\"user\":\"ann\",\"cents\":250}\n").unwrap();
/// let mut registry = TransformRegistry::new();
/// registry.register("to_euros", |rows: Stream<Row>| {
///     rows.map(|r: Row| {
///         let cents = r.get("cents").and_then(Value::as_f64).unwrap_or(0.0);
///         Row::from_pairs([("user", r.get("user").cloned().unwrap_or(Value::Null)), ("euros", Value::from(cents / 100.0))])
///     })
/// });
/// let yaml = format!(
///     "name: money\ninput: {{format: json, path: {in_}}}\ntransforms: [to_euros]\noutput: {{format: json, path: {out}}}\nstreaming: {{trigger: {{type: once}}}}\n",
///     in_ = dir.path().display(),
///     out = dir.path().join("out").display(),
/// );
/// let file = parse(&yaml, "money.yaml", false).unwrap();
/// file.pipeline_with(RunOptions::default(), &registry).unwrap().run().unwrap();
/// let lines = tidewater::connectors::file::FileSink::published_lines(&dir.path().join("out")).unwrap();
/// assert_eq!(lines, vec![r#"{"user":"ann","euros":2.5}"#]);
/// // A name nobody registered fails the build, naming the step and the names known.
/// let e = file.pipeline(RunOptions::default()).err().unwrap().to_string();
/// assert!(e.contains("`transforms[0]`: invalid `call`"), "{e}");
/// ```
#[derive(Clone, Default)]
pub struct TransformRegistry {
    transforms: BTreeMap<String, NamedTransform>,
}

impl TransformRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `transform` under `name` (replacing one registered before).
    pub fn register(
        &mut self,
        name: impl Into<String>,
        transform: impl Fn(Stream<Row>) -> Stream<Row> + Send + Sync + 'static,
    ) -> &mut Self {
        self.transforms.insert(name.into(), Arc::new(transform));
        self
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.transforms.keys().map(String::as_str).collect()
    }

    /// `rows` through the transform registered as `name`; an error naming `node`
    /// and the registered names when there is none.
    pub(crate) fn apply(&self, name: &str, node: &str, rows: Stream<Row>) -> Result<Stream<Row>> {
        match self.transforms.get(name) {
            Some(t) => Ok(t(rows)),
            None => {
                let known = if self.transforms.is_empty() {
                    "none registered".to_string()
                } else {
                    format!("registered: {}", self.names().join(", "))
                };
                Err(EngineError::invalid(
                    node,
                    "call",
                    format!("a transform registered from Rust with TransformRegistry ({known})"),
                    name,
                ))
            }
        }
    }
}

impl std::fmt::Debug for TransformRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransformRegistry")
            .field("names", &self.names())
            .finish()
    }
}
