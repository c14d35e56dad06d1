//! The table format of Spark's console sink: a `Batch: N` header, then the rows framed
//! as `Dataset.show(numRows, truncate)` frames them (columns padded to their widest
//! cell, at least 3; cells right-aligned; strings longer than 20 cut to 17 and `...`
//! when truncating; `only showing top N rows` below a cut table).

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tidewater_engine::connector::{Sink, SinkWriter, WorkerInfo};
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::record::Batch;
use tidewater_engine::row::{Row, Value};

/// Renders rows as Spark's `show` does.
///
/// ```
/// use tidewater_connectors::console::render_table;
/// use tidewater_engine::row::{Row, Value};
/// let rows = vec![
///     Row::from_pairs([("word", Value::from("foo")), ("count", Value::Int(12))]),
///     Row::from_pairs([("word", Value::from("a very long word indeed")), ("count", Value::Null)]),
/// ];
/// assert_eq!(render_table(&rows, 20, true), "\
/// +--------------------+-----+
/// |                word|count|
/// +--------------------+-----+
/// |                 foo|   12|
/// |a very long word ...| null|
/// +--------------------+-----+
/// ");
/// ```
pub fn render_table(rows: &[Row], num_rows: usize, truncate: bool) -> String {
    let Some(first) = rows.first() else {
        return "++\n||\n++\n++\n".to_string();
    };
    let names: Vec<String> = first.schema().names().map(String::from).collect();
    let shown = &rows[..rows.len().min(num_rows)];
    let cell = |v: Option<&Value>| {
        let text = match v {
            None | Some(Value::Null) => "null".to_string(),
            Some(Value::Str(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Int(i)) => i.to_string(),
            Some(Value::Float(f)) => f.to_string(),
        };
        if truncate && text.chars().count() > 20 {
            text.chars().take(17).collect::<String>() + "..."
        } else {
            text
        }
    };
    let cells: Vec<Vec<String>> = shown
        .iter()
        .map(|r| names.iter().map(|n| cell(r.get(n))).collect())
        .collect();
    let widths: Vec<usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([n.chars().count(), 3])
                .max()
                .unwrap_or(3)
        })
        .collect();
    let border: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(*w)))
        .collect::<String>()
        + "+\n";
    let line = |values: &[String]| {
        let mut s = String::new();
        for (v, w) in values.iter().zip(&widths) {
            let pad = w - v.chars().count();
            if truncate {
                s.push_str(&format!("|{}{v}", " ".repeat(pad)));
            } else {
                s.push_str(&format!("|{v}{}", " ".repeat(pad)));
            }
        }
        s + "|\n"
    };
    let mut out = border.clone();
    out.push_str(&line(&names));
    out.push_str(&border);
    for c in &cells {
        out.push_str(&line(c));
    }
    out.push_str(&border);
    if rows.len() > num_rows {
        out.push_str(&format!(
            "only showing top {num_rows} row{}\n",
            if num_rows == 1 { "" } else { "s" }
        ));
    }
    out
}

type Target = Arc<Mutex<Box<dyn Write + Send>>>;

/// Prints each batch it receives as Spark's console sink prints a micro-batch (rows
/// are any serializable records, shown by field).
#[derive(Clone)]
pub struct SparkConsoleSink {
    num_rows: usize,
    truncate: bool,
    target: Target,
}

impl SparkConsoleSink {
    /// To stdout, 20 rows per batch, truncating long cells (Spark's defaults).
    pub fn new() -> Self {
        SparkConsoleSink {
            num_rows: 20,
            truncate: true,
            target: Arc::new(Mutex::new(Box::new(std::io::stdout()))),
        }
    }

    /// Shows at most `n` rows of a batch (Spark's `numRows`).
    pub fn num_rows(mut self, n: usize) -> Self {
        self.num_rows = n;
        self
    }

    /// Cuts cells longer than 20 characters (Spark's `truncate`, default true).
    pub fn truncate(mut self, truncate: bool) -> Self {
        self.truncate = truncate;
        self
    }

    /// Writes to `target` instead of stdout.
    pub fn to_writer(mut self, target: impl Write + Send + 'static) -> Self {
        self.target = Arc::new(Mutex::new(Box::new(target)));
        self
    }
}

impl Default for SparkConsoleSink {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Serialize + Send + 'static> Sink<T> for SparkConsoleSink {
    type Writer = SparkConsoleWriter;

    fn name(&self) -> String {
        "console".to_string()
    }

    fn create_writer(&self, _worker: &WorkerInfo) -> Result<SparkConsoleWriter> {
        Ok(SparkConsoleWriter {
            sink: self.clone(),
            batch: 0,
        })
    }
}

/// A worker's writer of a [`SparkConsoleSink`].
pub struct SparkConsoleWriter {
    sink: SparkConsoleSink,
    batch: u64,
}

impl<T: Serialize> SinkWriter<T> for SparkConsoleWriter {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        let rows: Vec<Row> = batch
            .iter()
            .map(|r| Row::from_serde(&r.value))
            .collect::<Result<_>>()?;
        let text = format!(
            "-------------------------------------------\nBatch: {}\n-------------------------------------------\n{}\n",
            self.batch,
            render_table(&rows, self.sink.num_rows, self.sink.truncate)
        );
        self.batch += 1;
        let mut target = self.sink.target.lock().unwrap_or_else(|p| p.into_inner());
        target
            .write_all(text.as_bytes())
            .and_then(|()| target.flush())
            .map_err(|e| EngineError::io("console sink: writing to its output", e))
    }
}
