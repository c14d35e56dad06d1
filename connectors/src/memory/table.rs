//! Named in-memory tables. Each worker owns a part of a table; a query reads every
//! part in worker order. In append mode a batch's rows are added to the worker's part;
//! in complete mode a batch replaces it (the complete output mode emits its whole result
//! at every trigger, as Spark's complete mode into a memory sink does).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use tidewater_engine::connector::{Sink, SinkWriter, WorkerInfo};
use tidewater_engine::error::Result;
use tidewater_engine::record::Batch;
use tidewater_engine::row::Row;

type Parts = Arc<Mutex<Vec<Vec<Row>>>>;

fn registry() -> &'static Mutex<HashMap<String, Parts>> {
    static TABLES: OnceLock<Mutex<HashMap<String, Parts>>> = OnceLock::new();
    TABLES.get_or_init(|| Mutex::new(HashMap::new()))
}

fn parts(name: &str) -> Parts {
    registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(name.to_string())
        .or_default()
        .clone()
}

/// The rows of table `name` now (`None` if no sink created it).
pub fn table(name: &str) -> Option<Vec<Row>> {
    let parts = registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(name)?
        .clone();
    let parts = parts.lock().unwrap_or_else(|p| p.into_inner());
    Some(parts.iter().flatten().cloned().collect())
}

/// Forgets table `name`.
pub fn drop_table(name: &str) {
    registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(name);
}

/// How a batch changes the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableMode {
    /// Rows are added.
    #[default]
    Append,
    /// Each batch is the worker's whole result (the complete output mode).
    Complete,
}

/// Writes records (as rows) into the named table.
///
/// ```
/// use tidewater_connectors::memory::{table, MemoryTableSink, TableMode};
/// use tidewater_engine::prelude::*;
/// let mut p = Pipeline::new(Config::default());
/// p.source(VecSource::new(vec![1_000i64, 2_000, 61_000]))
///     .with_watermark(Watermark::monotonic(|t: &i64| *t))
///     .key_by(|_: &i64| "all".to_string())
///     .window(TumblingWindow::of("1 minute"))
///     .output_mode(OutputMode::Complete)
///     .count()
///     .sink(MemoryTableSink::new("minute_counts", TableMode::Complete));
/// p.run().unwrap();
/// let rows: Vec<String> = table("minute_counts").unwrap().iter().map(|r| serde_json::to_string(r).unwrap()).collect();
/// assert_eq!(rows, vec![
///     r#"{"key":"all","window_start":0,"window_end":60000,"value":2}"#,
///     r#"{"key":"all","window_start":60000,"window_end":120000,"value":1}"#,
/// ]);
/// ```
#[derive(Debug, Clone)]
pub struct MemoryTableSink {
    name: String,
    mode: TableMode,
}

impl MemoryTableSink {
    /// A sink into table `name` (emptied when the pipeline builds its writers).
    pub fn new(name: impl Into<String>, mode: TableMode) -> Self {
        MemoryTableSink {
            name: name.into(),
            mode,
        }
    }
}

impl<T: Serialize + Send + 'static> Sink<T> for MemoryTableSink {
    type Writer = TableWriter;

    fn name(&self) -> String {
        format!("memory:{}", self.name)
    }

    fn create_writer(&self, worker: &WorkerInfo) -> Result<TableWriter> {
        let parts = parts(&self.name);
        {
            let mut p = parts.lock().unwrap_or_else(|p| p.into_inner());
            p.resize(worker.parallelism, Vec::new());
            p[worker.index].clear();
        }
        Ok(TableWriter {
            parts,
            index: worker.index,
            mode: self.mode,
        })
    }
}

/// A worker's writer of a [`MemoryTableSink`].
pub struct TableWriter {
    parts: Parts,
    index: usize,
    mode: TableMode,
}

impl<T: Serialize> SinkWriter<T> for TableWriter {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        let rows: Vec<Row> = batch
            .iter()
            .map(|r| Row::from_serde(&r.value))
            .collect::<Result<_>>()?;
        let mut parts = self.parts.lock().unwrap_or_else(|p| p.into_inner());
        match self.mode {
            TableMode::Append => parts[self.index].extend(rows),
            TableMode::Complete => parts[self.index] = rows,
        }
        Ok(())
    }
}
