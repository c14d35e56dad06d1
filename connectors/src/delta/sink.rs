//! The Delta Lake sink.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use deltalake::kernel::Add;
use deltalake::writer::{DeltaWriter as _, RecordBatchWriter};
use serde::{Deserialize, Serialize};
use tidewater_engine::connector::{Commit, Sink, SinkWriter, WorkerInfo};
use tidewater_engine::error::{EngineError, Problems, Result};
use tidewater_engine::record::Batch;
use tidewater_engine::row::Row;
use tidewater_formats::arrow_rows::rows_to_batch;

use super::committer::{Committer, Committers};
use super::table::{conform, TableLocation};
use crate::file::FileSinkMode;
use crate::run_id::run_id;

/// Appends records (structs or maps, as rows) to a Delta Lake table, creating it from
/// the first rows' columns when the folder holds none.
///
/// * [`FileSinkMode::Transactional`] (exactly-once): each worker writes its rows since
///   the last barrier as Parquet data files at the barrier (invisible until committed)
///   and stores their `add` actions in the checkpoint; when the checkpoint is written,
///   one Delta commit adds every worker's files of that checkpoint, with the run's
///   application transaction (`txn`: app id, checkpoint). Recovery commits the
///   restored checkpoint's files unless the table's `txn` for the run already covers
///   them, so a crash between checkpoint and commit neither loses nor duplicates a
///   commit; files of checkpoints that never completed stay uncommitted (Delta's
///   `VACUUM` removes them).
/// * [`FileSinkMode::Direct`] (at-least-once): a commit every
///   [`rows_per_commit`](Self::rows_per_commit) rows, at each barrier and at the end.
///
/// ```
/// use tidewater_connectors::delta::{DeltaSink, DeltaSource, DeltaSourceConfig};
/// use tidewater_connectors::file::FileSinkMode;
/// use tidewater_engine::prelude::*;
///
/// #[derive(serde::Serialize, Clone)]
/// struct Reading { sensor: i64, value: f64 }
///
/// let dir = tempfile::tempdir().unwrap();
/// let mut p = Pipeline::new(Config::default());
/// p.source(VecSource::new(vec![Reading { sensor: 1, value: 2.5 }, Reading { sensor: 2, value: 0.5 }]))
///     .sink(DeltaSink::new(dir.path(), FileSinkMode::Transactional));
/// p.run().unwrap();
///
/// let rows = MemorySink::new();
/// let mut read = Pipeline::new(Config::default());
/// read.source(DeltaSource::new(DeltaSourceConfig::new(dir.path())))
///     .dead_letters(MemorySink::new())
///     .sink(rows.clone());
/// read.run().unwrap();
/// let mut values: Vec<(i64, f64)> = rows.values().iter()
///     .map(|r| (r.get("sensor").and_then(Value::as_i64).unwrap(), r.get("value").and_then(Value::as_f64).unwrap()))
///     .collect();
/// values.sort_by_key(|v| v.0);
/// assert_eq!(values, vec![(1, 2.5), (2, 0.5)]);
/// ```
#[derive(Clone)]
pub struct DeltaSink {
    path: PathBuf,
    mode: FileSinkMode,
    partition_by: Vec<String>,
    merge_schema: bool,
    rows_per_commit: usize,
    target_file_size: Option<u64>,
    name: String,
    committers: Arc<Committers>,
}

impl std::fmt::Debug for DeltaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaSink")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .field("partition_by", &self.partition_by)
            .field("merge_schema", &self.merge_schema)
            .finish_non_exhaustive()
    }
}

impl DeltaSink {
    /// A sink appending to the Delta table in `path`.
    pub fn new(path: impl Into<PathBuf>, mode: FileSinkMode) -> Self {
        DeltaSink {
            path: path.into(),
            mode,
            partition_by: Vec::new(),
            merge_schema: false,
            rows_per_commit: 100_000,
            target_file_size: None,
            name: "delta_sink".into(),
            committers: Arc::default(),
        }
    }

    /// Partition a table this sink creates by these columns (Hive-style folders).
    pub fn partition_by<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.partition_by = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Add columns the table lacks instead of failing (Delta's `mergeSchema`).
    pub fn merge_schema(mut self, merge: bool) -> Self {
        self.merge_schema = merge;
        self
    }

    /// Direct mode: commit once this many rows are buffered (default 100,000).
    pub fn rows_per_commit(mut self, rows: usize) -> Self {
        self.rows_per_commit = rows;
        self
    }

    /// Roll a new data file once one reaches this many bytes (default: one file per
    /// partition and commit).
    pub fn target_file_size(mut self, bytes: u64) -> Self {
        self.target_file_size = Some(bytes);
        self
    }

    /// Names the sink in metrics and errors.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

impl<T: Serialize + 'static> Sink<T> for DeltaSink {
    type Writer = DeltaTableWriter;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn commit(&self) -> Commit {
        match self.mode {
            FileSinkMode::Transactional => Commit::Transactional,
            FileSinkMode::Direct => Commit::Immediate,
        }
    }

    fn validate(&self) -> Result<()> {
        let mut p = Problems::new();
        p.check(
            !self.path.as_os_str().is_empty(),
            &self.name,
            "path",
            "a folder",
            "an empty path",
        );
        p.check(
            self.rows_per_commit > 0,
            &self.name,
            "rows_per_commit",
            "at least 1",
            self.rows_per_commit,
        );
        for column in &self.partition_by {
            p.check(
                !column.is_empty(),
                &self.name,
                "partition_by",
                "column names",
                "an empty name",
            );
        }
        p.finish(&self.name, ())
    }

    fn create_writer(&self, worker: &WorkerInfo) -> Result<DeltaTableWriter> {
        let committer = self.committers.attach(worker.parallelism, || {
            Ok(Committer::new(
                TableLocation::new(&self.path, true)?,
                self.partition_by.clone(),
                format!("tidewater-{}-{}-{}", worker.pipeline, self.name, run_id()),
                worker.parallelism,
            ))
        })?;
        Ok(DeltaTableWriter {
            sink: self.clone(),
            worker: worker.index,
            location: TableLocation::new(&self.path, true)?,
            committer,
            rows: Vec::new(),
            pending: Vec::new(),
            files: None,
        })
    }
}

/// What a pre-commit stores in the checkpoint.
#[derive(Serialize, Deserialize)]
struct PreCommit {
    app_id: String,
    checkpoint: u64,
    /// Data files written and not yet known to be committed, with their checkpoint.
    files: Vec<(u64, Add)>,
}

/// One worker's writer of a [`DeltaSink`].
pub struct DeltaTableWriter {
    sink: DeltaSink,
    worker: usize,
    location: TableLocation,
    committer: Arc<Committer>,
    /// Rows since the last data files.
    rows: Vec<Row>,
    /// Transactional: data files not yet committed, with their checkpoint.
    pending: Vec<(u64, Add)>,
    /// The data-file writer for the table's current schema.
    files: Option<(SchemaRef, RecordBatchWriter)>,
}

impl DeltaTableWriter {
    fn fail(&self, message: impl std::fmt::Display) -> EngineError {
        EngineError::Sink {
            sink: self.sink.name.clone(),
            message: format!("{}: {message}", self.location.path.display()),
        }
    }

    /// The buffered rows as a batch of the table's schema (creating or widening the
    /// table as needed).
    fn batch(&mut self) -> Result<(SchemaRef, RecordBatch)> {
        let natural = rows_to_batch(&self.rows).map_err(|e| self.fail(e))?;
        let schema = self.committer.ensure_table(&natural.schema())?;
        let (batch, extra) = conform(natural, &schema).map_err(|e| self.fail(e))?;
        if extra.is_empty() {
            return Ok((schema, batch));
        }
        if !self.sink.merge_schema {
            return Err(self.fail(format!(
                "the rows have columns the table lacks ({}); the table has ({}); set merge_schema to add them",
                extra.join(", "),
                schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        let schema = self.committer.widen(&batch)?;
        let (batch, _) = conform(batch, &schema).map_err(|e| self.fail(e))?;
        Ok((schema, batch))
    }

    /// Writes the buffered rows as data files; returns their `add` actions.
    fn write_files(&mut self) -> Result<Vec<Add>> {
        if self.rows.is_empty() {
            return Ok(Vec::new());
        }
        let (schema, batch) = self.batch()?;
        if self.files.as_ref().is_none_or(|(s, _)| *s != schema) {
            let table = self
                .location
                .open()?
                .ok_or_else(|| self.fail("the table vanished"))?;
            let mut writer = RecordBatchWriter::for_table(&table)
                .map_err(|e| self.location.error("preparing data files", e))?;
            if let Some(bytes) = self.sink.target_file_size {
                writer = writer.with_target_file_size(bytes);
            }
            self.files = Some((schema, writer));
        }
        let Some((_, writer)) = self.files.as_mut() else {
            return Err(self.fail("no data-file writer"));
        };
        let location = &self.location;
        let adds = location
            .block_on(async {
                writer.write(batch).await?;
                writer.flush().await
            })
            .map_err(|e| location.error("writing data files", e))?;
        self.rows.clear();
        Ok(adds)
    }

    /// Writes the buffered rows and reports them with every pending file as
    /// checkpoint `checkpoint` complete.
    fn write_and_report(&mut self, checkpoint: u64) -> Result<()> {
        let adds = self.write_files()?;
        self.pending
            .extend(adds.into_iter().map(|a| (checkpoint, a)));
        let files = std::mem::take(&mut self.pending);
        self.committer.report(self.worker, checkpoint, files)
    }
}

impl<T: Serialize + 'static> SinkWriter<T> for DeltaTableWriter {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        self.rows.extend(crate::rows::into_rows(batch)?);
        if self.sink.mode == FileSinkMode::Direct && self.rows.len() >= self.sink.rows_per_commit {
            // Direct commits stand alone: each is the next "checkpoint" of this writer.
            let adds = self.write_files()?;
            self.committer.commit_direct(adds)?;
        }
        Ok(())
    }

    fn pre_commit(&mut self, checkpoint: u64) -> Result<Option<Vec<u8>>> {
        if self.sink.mode == FileSinkMode::Direct {
            let adds = self.write_files()?;
            self.committer.commit_direct(adds)?;
            return Ok(None);
        }
        let adds = self.write_files()?;
        self.pending
            .extend(adds.into_iter().map(|a| (checkpoint, a)));
        let pre = PreCommit {
            app_id: self.committer.app_id()?,
            checkpoint,
            files: self.pending.clone(),
        };
        serde_json::to_vec(&pre).map(Some).map_err(|e| self.fail(e))
    }

    fn commit(&mut self, checkpoint: u64) -> Result<()> {
        let (done, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(c, _)| *c <= checkpoint);
        self.pending = rest;
        self.committer.report(self.worker, checkpoint, done)
    }

    fn recover(&mut self, pre_committed: Option<&[u8]>) -> Result<()> {
        if self.sink.mode == FileSinkMode::Direct {
            return Ok(());
        }
        let Some(bytes) = pre_committed else {
            return Ok(());
        };
        let pre: PreCommit = serde_json::from_slice(bytes)
            .map_err(|e| self.fail(format!("unreadable pre-commit: {e}")))?;
        self.committer.recover(&pre.app_id, pre.checkpoint)?;
        self.committer
            .report_restored(self.worker, pre.checkpoint, pre.files)
    }

    fn finish(&mut self) -> Result<()> {
        match self.sink.mode {
            // Without checkpoints the end of input commits what is left; after a
            // checkpointed run's final commit this reports nothing new.
            FileSinkMode::Transactional => self.write_and_report(u64::MAX),
            FileSinkMode::Direct => {
                let adds = self.write_files()?;
                self.committer.commit_direct(adds)
            }
        }
    }
}
