//! The file sink.
//!
//! * [`FileSinkMode::Transactional`] (exactly-once): records since the last barrier are
//!   buffered; at the barrier they are written to hidden pending files
//!   (`.pending/[partition/]part-WWW-CCCCCCCCCCCCCCCCCCCC-runR-SSSSS.ext`, synced to
//!   disk) and their names go into the checkpoint; when the checkpoint is written,
//!   pending files are published by an atomic rename into the output folder. On
//!   recovery, pending files named by the resumed checkpoint are published and every
//!   other pending file of the worker is deleted: they belong to checkpoints that never
//!   completed and will be replayed.
//! * [`FileSinkMode::Direct`] (at-least-once, at-most-once): JSON lines are appended to
//!   a visible part file and flushed after every batch; CSV and Parquet files, which
//!   cannot be read before they are complete, are written under a hidden name and
//!   renamed in when finished: after every batch, or, with a [`RollingPolicy`], when the
//!   policy says and at every barrier.
//!
//! With `partition_by`, rows go to Hive folders (`day=2024-01-01/`) without those
//! columns. Files roll by the [`RollingPolicy`] (size, rows, time). Published output is
//! every `part-*` file in the folder and its partition folders; hidden entries
//! (`.pending`, in-progress files) are never output.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tidewater_engine::connector::{Commit, Sink, SinkWriter, WorkerInfo};
use tidewater_engine::error::{EngineError, Problems, Result};
use tidewater_engine::record::Batch;
use tidewater_engine::row::Row;
use tidewater_formats::FileFormat;

use super::partition::split;
use super::rolling::{close, OpenPart, RollingPolicy, RollingWriter};
use crate::run_id::run_id;

/// How records become visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSinkMode {
    /// Two-phase commit: visible once the checkpoint that covers them is written.
    Transactional,
    /// Visible as soon as written.
    Direct,
}

/// Writes records (structs or maps, as rows) as JSON lines, CSV or Parquet part files
/// into a folder, optionally partitioned into Hive folders and rolled by size, rows or
/// time.
///
/// ```
/// use tidewater_connectors::file::{FileSink, FileSinkMode};
/// use tidewater_engine::prelude::*;
///
/// #[derive(serde::Serialize, Clone)]
/// struct Reading { sensor: u32, value: f64 }
///
/// let dir = tempfile::tempdir().unwrap();
/// let mut p = Pipeline::new(Config::default().with_parallelism(1));
/// p.source(VecSource::new(vec![Reading { sensor: 1, value: 2.5 }, Reading { sensor: 2, value: 0.5 }]))
///     .sink(FileSink::json_lines(dir.path(), FileSinkMode::Direct));
/// p.run().unwrap();
/// assert_eq!(
///     FileSink::published_lines(dir.path()).unwrap(),
///     vec![r#"{"sensor":1,"value":2.5}"#, r#"{"sensor":2,"value":0.5}"#]
/// );
/// ```
///
/// Partitioned Parquet, at most 1,000 rows a file:
///
/// ```
/// use tidewater_connectors::file::{FileSink, FileSinkMode, FileSource, FileSourceConfig};
/// use tidewater_engine::prelude::*;
/// use tidewater_formats::FileFormat;
///
/// let dir = tempfile::tempdir().unwrap();
/// let rows: Vec<Row> = (0..2_500)
///     .map(|i| Row::from_pairs([("day", Value::from(if i < 2_000 { "d1" } else { "d2" })), ("n", Value::Int(i))]))
///     .collect();
/// let mut p = Pipeline::new(Config::default());
/// p.source(VecSource::new(rows))
///     .sink(FileSink::parquet(dir.path(), FileSinkMode::Transactional).partition_by(["day"]).max_records_per_file(1_000));
/// p.run().unwrap();
/// let files = |day: &str| std::fs::read_dir(dir.path().join(day)).unwrap().count();
/// assert_eq!((files("day=d1"), files("day=d2")), (2, 1));
///
/// let back = MemorySink::new();
/// let mut read = Pipeline::new(Config::default());
/// read.source(FileSource::new(FileSourceConfig::new(dir.path(), FileFormat::Parquet)))
///     .dead_letters(MemorySink::new())
///     .sink(back.clone());
/// read.run().unwrap();
/// let d2 = back.values().iter().filter(|r: &&Row| r.get("day") == Some(&Value::from("d2"))).count();
/// assert_eq!((back.len(), d2), (2_500, 500));
/// ```
#[derive(Debug, Clone)]
pub struct FileSink {
    dir: PathBuf,
    format: FileFormat,
    mode: FileSinkMode,
    partition_by: Vec<String>,
    rolling: RollingPolicy,
}

fn io(path: &Path, e: impl std::fmt::Display) -> EngineError {
    EngineError::Sink {
        sink: "file_sink".into(),
        message: format!("{}: {e}", path.display()),
    }
}

/// Makes a folder's entries (files created or renamed in it) durable: without it a
/// crash can lose a published file even though its data was synced.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))
}

/// What a pre-commit stores in the checkpoint: the checkpoint and the files of its
/// transaction (every pre-committed file not yet published, relative to the folder).
#[derive(serde::Serialize, serde::Deserialize)]
struct PreCommit {
    checkpoint: u64,
    files: Vec<String>,
}

impl PreCommit {
    /// Reads a pre-commit; a bare list of names is the format before the checkpoint
    /// was recorded (nothing is rolled back for it).
    fn parse(bytes: &[u8]) -> std::result::Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes).or_else(|e| {
            serde_json::from_slice::<Vec<String>>(bytes)
                .map(|files| PreCommit {
                    checkpoint: u64::MAX,
                    files,
                })
                .map_err(|_| e)
        })
    }
}

/// The start of the names of worker `worker`'s files.
fn prefix_of(worker: usize) -> String {
    format!("part-{worker:03}-")
}

/// The checkpoint a file name of `prefix` belongs to (`final` is the last one).
fn checkpoint_of(name: &str, prefix: &str) -> Option<u64> {
    let label = name.strip_prefix(prefix)?.split('-').next()?;
    if label == "final" {
        Some(u64::MAX)
    } else {
        label.parse().ok()
    }
}

/// The part of a pending file's name that says which checkpoint it belongs to.
fn checkpoint_label(checkpoint: u64) -> String {
    if checkpoint == u64::MAX {
        "final".to_string()
    } else {
        format!("{checkpoint:020}")
    }
}

/// Every file under `dir` (not under `.` or `_` folders), as paths relative to `dir`
/// with `/` separators, sorted.
fn files_under(dir: &Path) -> Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            // `.pending`, `.rolled-back`, and `_`-folders (dead letters, Delta's log)
            // are not output, as Spark's readers skip them.
            let hidden = path.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with('.') || (path.is_dir() && n.starts_with('_'))
            });
            if path.is_dir() {
                if !hidden {
                    walk(root, &path, out)?;
                }
            } else if let Ok(rel) = path.strip_prefix(root) {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if dir.is_dir() {
        walk(dir, dir, &mut out)?;
    }
    out.sort();
    Ok(out)
}

/// Direct mode: the name part file `seq` is written under (`prefix` names the worker,
/// `run` the run): hidden for CSV and Parquet, which are unreadable until complete,
/// and renamed to the visible name when finished.
fn direct_name(prefix: &str, run: &str, format: FileFormat, seq: u64) -> String {
    let visible = format!("{prefix}run{run}-{seq:06}.{}", format.extension());
    if format == FileFormat::JsonLines {
        visible
    } else {
        format!(".{visible}.inprogress")
    }
}

/// The file name of a relative path.
fn file_name(relative: &str) -> &str {
    relative.rsplit('/').next().unwrap_or(relative)
}

impl FileSink {
    fn new(dir: PathBuf, format: FileFormat, mode: FileSinkMode) -> Self {
        FileSink {
            dir,
            format,
            mode,
            partition_by: Vec::new(),
            rolling: RollingPolicy::default(),
        }
    }

    /// Parquet (snappy) part files into `dir`: one per checkpoint and worker
    /// (transactional) or per batch (direct), unless a rolling policy splits them.
    pub fn parquet(dir: impl Into<PathBuf>, mode: FileSinkMode) -> Self {
        FileSink::new(dir.into(), FileFormat::Parquet, mode)
    }

    /// JSON lines into `dir`.
    pub fn json_lines(dir: impl Into<PathBuf>, mode: FileSinkMode) -> Self {
        FileSink::new(dir.into(), FileFormat::JsonLines, mode)
    }

    /// CSV (with a header per file) into `dir`.
    pub fn csv(dir: impl Into<PathBuf>, mode: FileSinkMode) -> Self {
        FileSink::new(dir.into(), FileFormat::Csv, mode)
    }

    /// Writes rows into Hive folders by these columns (`day=2024-01-01/h=3/`), without
    /// the columns in the files (Spark's `partitionBy`); the file source reads them
    /// back as columns.
    pub fn partition_by<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.partition_by = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Finishes a part file once it holds this many bytes.
    pub fn max_file_bytes(mut self, bytes: u64) -> Self {
        self.rolling.max_file_bytes = Some(bytes);
        self
    }

    /// Finishes a part file once it holds this many rows (Spark's `maxRecordsPerFile`).
    pub fn max_records_per_file(mut self, rows: u64) -> Self {
        self.rolling.max_records_per_file = Some(rows);
        self
    }

    /// Direct mode: finishes a part file this long after it was begun.
    pub fn rollover_interval(mut self, interval: Duration) -> Self {
        self.rolling.rollover_interval = Some(interval);
        self
    }

    /// Every limit at once.
    pub fn rolling(mut self, policy: RollingPolicy) -> Self {
        self.rolling = policy;
        self
    }

    /// Every line of every published JSON-lines part file under `dir` (partition
    /// folders included), sorted by path then line; a torn last line (a crash
    /// mid-write in direct mode) is left out.
    pub fn published_lines(dir: &Path) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        for rel in files_under(dir)? {
            if !file_name(&rel).starts_with("part-") {
                continue;
            }
            let file = dir.join(&rel);
            let text = std::fs::read_to_string(&file).map_err(|e| io(&file, e))?;
            let complete = text.rfind('\n').map_or("", |end| &text[..end]);
            lines.extend(complete.lines().filter(|l| !l.is_empty()).map(String::from));
        }
        Ok(lines)
    }
}

impl<T: Serialize + 'static> Sink<T> for FileSink {
    type Writer = FileWriter;

    fn name(&self) -> String {
        "file_sink".into()
    }

    fn commit(&self) -> Commit {
        match self.mode {
            FileSinkMode::Transactional => Commit::Transactional,
            FileSinkMode::Direct => Commit::Immediate,
        }
    }

    fn validate(&self) -> Result<()> {
        let node = "file_sink";
        let mut p = Problems::new();
        for column in &self.partition_by {
            p.check(
                !column.is_empty(),
                node,
                "partition_by",
                "column names",
                "an empty name",
            );
        }
        if let Some(b) = self.rolling.max_file_bytes {
            p.check(b > 0, node, "max_file_bytes", "at least 1", b);
        }
        if let Some(r) = self.rolling.max_records_per_file {
            p.check(r > 0, node, "max_records_per_file", "at least 1", r);
        }
        if let Some(d) = self.rolling.rollover_interval {
            p.check(
                !d.is_zero(),
                node,
                "rollover_interval",
                "a positive duration",
                "0 ms",
            );
        }
        p.finish(node, ())
    }

    fn create_writer(&self, worker: &WorkerInfo) -> Result<FileWriter> {
        std::fs::create_dir_all(self.dir.join(".pending")).map_err(|e| io(&self.dir, e))?;
        sync_dir(&self.dir)?;
        Ok(FileWriter {
            run: run_id(),
            sink: self.clone(),
            worker: worker.index,
            buffer: Vec::new(),
            pending: Vec::new(),
            open: BTreeMap::new(),
            seq: 0,
            clock: worker.clock.clone(),
        })
    }
}

/// One worker's writer of a [`FileSink`].
pub struct FileWriter {
    /// This run's id in file names.
    run: String,
    sink: FileSink,
    worker: usize,
    /// Transactional: rows since the last barrier.
    buffer: Vec<Row>,
    /// Transactional: pre-committed files not yet published (relative paths), with
    /// their checkpoint.
    pending: Vec<(u64, String)>,
    /// Direct: the open part file of each partition folder.
    open: BTreeMap<String, Option<OpenPart>>,
    /// The number of the next file this run begins.
    seq: u64,
    /// The pipeline's clock, which the rollover interval follows.
    clock: std::sync::Arc<dyn tidewater_engine::time::Clock>,
}

impl FileWriter {
    fn dir(&self) -> &Path {
        &self.sink.dir
    }

    /// Publishes what worker `worker` pre-committed, sets aside what it published
    /// after, and removes its pending files of checkpoints that never completed.
    fn recover_as(&mut self, worker: usize, pre_committed: Option<&[u8]>) -> Result<()> {
        if self.sink.mode == FileSinkMode::Direct {
            return Ok(());
        }
        let prefix = prefix_of(worker);
        if let Some(bytes) = pre_committed {
            let pre = PreCommit::parse(bytes)
                .map_err(|e| io(self.dir(), format!("unreadable pre-commit: {e}")))?;
            for name in &pre.files {
                self.publish(name)?;
            }
            self.roll_back_after(&prefix, pre.checkpoint)?;
        }
        let pending_dir = self.pending_dir();
        for rel in files_under(&pending_dir)? {
            if file_name(&rel).starts_with(&prefix) {
                let path = pending_dir.join(&rel);
                std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
            }
        }
        Ok(())
    }

    fn pending_dir(&self) -> PathBuf {
        self.sink.dir.join(".pending")
    }

    fn prefix(&self) -> String {
        prefix_of(self.worker)
    }

    fn ext(&self) -> &'static str {
        self.sink.format.extension()
    }

    /// Moves a pre-committed file into the published folder (atomic rename), durably.
    /// Publishing twice is harmless; a file that is neither pending nor published is an
    /// error: the checkpoint that covered it would be lost silently.
    fn publish(&self, name: &str) -> Result<()> {
        let from = self.pending_dir().join(name);
        let to = self.dir().join(name);
        if from.exists() {
            let folder = to.parent().unwrap_or(self.dir());
            std::fs::create_dir_all(folder).map_err(|e| io(folder, e))?;
            std::fs::rename(&from, &to).map_err(|e| io(&from, e))?;
            sync_dir(folder)?;
            sync_dir(from.parent().unwrap_or(&self.pending_dir()))
        } else if to.exists() {
            Ok(())
        } else {
            Err(io(
                &from,
                "this pre-committed file is neither pending nor published: the output of its checkpoint is lost",
            ))
        }
    }

    /// Moves this worker's published files of checkpoints after `restored` into
    /// `.rolled-back/`. They exist when recovery fell back past a newer checkpoint (a
    /// damaged one): the replay from `restored` writes their rows again, so leaving
    /// them would publish those rows twice.
    fn roll_back_after(&self, prefix: &str, restored: u64) -> Result<()> {
        let rolled_back: Vec<String> = files_under(self.dir())?
            .into_iter()
            .filter(|rel| checkpoint_of(file_name(rel), prefix).is_some_and(|c| c > restored))
            .collect();
        if rolled_back.is_empty() {
            return Ok(());
        }
        let aside = self.dir().join(".rolled-back");
        for rel in &rolled_back {
            let to = aside.join(rel);
            let folder = to.parent().unwrap_or(&aside);
            std::fs::create_dir_all(folder).map_err(|e| io(folder, e))?;
            let from = self.dir().join(rel);
            std::fs::rename(&from, &to).map_err(|e| io(&from, e))?;
        }
        sync_dir(&aside)?;
        sync_dir(self.dir())?;
        tracing::warn!(
            dir = %self.dir().display(),
            files = rolled_back.len(),
            restored,
            "moved files of checkpoints newer than the restored one to .rolled-back: the replay writes their rows again"
        );
        Ok(())
    }

    /// Rows by partition folder.
    fn partitions(&self, rows: Vec<Row>) -> Result<BTreeMap<String, Vec<Row>>> {
        split(rows, &self.sink.partition_by).map_err(|e| io(self.dir(), e))
    }

    /// A writer of rolled files into `folder` named `part-WWW-<label>-SSSSS.ext`.
    fn rolled<'a>(&self, folder: &'a Path, name: &'a dyn Fn(u64) -> String) -> RollingWriter<'a> {
        RollingWriter {
            folder,
            format: self.sink.format,
            policy: self.sink.rolling,
            name,
            now_ms: self.clock.now_ms(),
        }
    }

    /// Writes the buffer as files of checkpoint `label` under `root` (each synced when
    /// `sync`); their paths relative to `root`.
    fn write_buffer(&mut self, root: &Path, label: &str, sync: bool) -> Result<Vec<String>> {
        let rows = std::mem::take(&mut self.buffer);
        let base = format!("{}{label}-run{}", self.prefix(), self.run);
        let ext = self.ext();
        let name = |seq: u64| format!("{base}-{seq:05}.{ext}");
        let mut written = Vec::new();
        for (part, rows) in self.partitions(rows)? {
            let folder = if part.is_empty() {
                root.to_path_buf()
            } else {
                root.join(&part)
            };
            let files = self
                .rolled(&folder, &name)
                .write_all(&mut self.seq, &rows)?;
            for file in &files {
                if sync {
                    File::open(file)
                        .and_then(|f| f.sync_all())
                        .map_err(|e| io(file, e))?;
                }
                let fname = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                written.push(if part.is_empty() {
                    fname
                } else {
                    format!("{part}/{fname}")
                });
            }
            if sync && !files.is_empty() {
                sync_dir(&folder)?;
            }
        }
        if sync {
            sync_dir(root)?;
        }
        Ok(written)
    }

    /// Direct mode: whether files stay open across batches (JSON lines always; CSV
    /// and Parquet under a rolling policy, else each batch is a file of its own).
    fn keeps_files_open(&self) -> bool {
        self.sink.format == FileFormat::JsonLines || !self.sink.rolling.is_unlimited()
    }

    /// Direct mode: makes finished files visible (renames the hidden ones).
    fn reveal(&self, files: Vec<PathBuf>) -> Result<()> {
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(visible) = name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(".inprogress"))
            {
                let to = file.with_file_name(visible);
                std::fs::rename(&file, &to).map_err(|e| io(&file, e))?;
            }
        }
        Ok(())
    }

    /// Direct mode: appends rows to each partition's open file, rolling by the policy.
    fn append_direct(&mut self, rows: Vec<Row>) -> Result<()> {
        let keep_open = self.keeps_files_open();
        for (part, rows) in self.partitions(rows)? {
            let folder = if part.is_empty() {
                self.dir().to_path_buf()
            } else {
                self.dir().join(&part)
            };
            let (prefix, run, format) = (self.prefix(), self.run.clone(), self.sink.format);
            let name = move |seq: u64| direct_name(&prefix, &run, format, seq);
            let writer = RollingWriter {
                folder: &folder,
                format,
                policy: self.sink.rolling,
                name: &name,
                now_ms: self.clock.now_ms(),
            };
            let mut open = self.open.remove(&part).flatten();
            let mut finished = writer.write(&mut open, &mut self.seq, &rows)?;
            if !keep_open {
                finished.extend(close(open.take())?);
            }
            if let Some(part_file) = open.as_mut() {
                part_file.file.flush().map_err(|e| io(&folder, e))?;
            }
            self.reveal(finished)?;
            self.open.insert(part, open);
        }
        self.roll_expired()
    }

    /// Direct mode: finishes files open longer than the rollover interval.
    fn roll_expired(&mut self) -> Result<()> {
        let name = |_: u64| String::new();
        let expired: Vec<String> = {
            let probe = self.rolled(self.dir(), &name);
            self.open
                .iter()
                .filter(|(_, open)| probe.expired(open))
                .map(|(part, _)| part.clone())
                .collect()
        };
        for part in expired {
            let open = self.open.remove(&part).flatten();
            let finished: Vec<PathBuf> = close(open)?.into_iter().collect();
            self.reveal(finished)?;
        }
        Ok(())
    }

    /// Direct mode: finishes every open file.
    fn roll_all(&mut self) -> Result<()> {
        let mut finished = Vec::new();
        for (_, open) in std::mem::take(&mut self.open) {
            finished.extend(close(open)?);
        }
        self.reveal(finished)
    }
}

impl<T: Serialize + 'static> SinkWriter<T> for FileWriter {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        let rows = crate::rows::into_rows(batch)?;
        match self.sink.mode {
            FileSinkMode::Transactional => {
                self.buffer.extend(rows);
                Ok(())
            }
            FileSinkMode::Direct => self.append_direct(rows),
        }
    }

    fn pre_commit(&mut self, checkpoint: u64) -> Result<Option<Vec<u8>>> {
        if self.sink.mode == FileSinkMode::Direct {
            // A barrier: what came before it becomes visible (at-least-once).
            if self.sink.format == FileFormat::JsonLines {
                for open in self.open.values_mut().flatten() {
                    open.file.flush().map_err(|e| io(&self.sink.dir, e))?;
                }
                return Ok(None);
            }
            self.roll_all()?;
            return Ok(None);
        }
        if !self.buffer.is_empty() {
            let pending_dir = self.pending_dir();
            let names = self.write_buffer(&pending_dir, &checkpoint_label(checkpoint), true)?;
            self.pending
                .extend(names.into_iter().map(|n| (checkpoint, n)));
        }
        // Everything not yet published belongs to this checkpoint's transaction.
        let pre = PreCommit {
            checkpoint,
            files: self.pending.iter().map(|(_, n)| n.clone()).collect(),
        };
        serde_json::to_vec(&pre)
            .map(Some)
            .map_err(|e| io(self.dir(), e))
    }

    fn commit(&mut self, checkpoint: u64) -> Result<()> {
        let (done, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(c, _)| *c <= checkpoint);
        self.pending = rest;
        for (_, name) in done {
            self.publish(&name)?;
        }
        Ok(())
    }

    fn recover(&mut self, pre_committed: Option<&[u8]>) -> Result<()> {
        self.recover_as(self.worker, pre_committed)
    }

    fn recover_rescaled(&mut self, assigned: &[(usize, Vec<u8>)]) -> Result<()> {
        for (old, bytes) in assigned {
            self.recover_as(*old, Some(bytes.as_slice()).filter(|b| !b.is_empty()))?;
        }
        if !assigned.iter().any(|(old, _)| *old == self.worker) {
            // A new worker: only pending files of its own from an earlier run to clear.
            self.recover_as(self.worker, None)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        match self.sink.mode {
            // Checkpointed runs commit in pre_commit/commit; without checkpointing,
            // end of input publishes what is left.
            FileSinkMode::Transactional => {
                if !self.buffer.is_empty() {
                    let dir = self.dir().to_path_buf();
                    self.write_buffer(&dir, "final", false)?;
                }
                Ok(())
            }
            FileSinkMode::Direct => self.roll_all(),
        }
    }
}

#[cfg(test)]
mod tests {
    use tidewater_engine::prelude::*;
    use tidewater_formats::read_rows;

    use super::*;

    #[derive(Serialize, Clone)]
    struct Item {
        id: u32,
    }

    fn writer(dir: &Path, format: FileFormat, mode: FileSinkMode) -> FileWriter {
        let sink = FileSink::new(dir.to_path_buf(), format, mode);
        <FileSink as Sink<Item>>::create_writer(
            &sink,
            &WorkerInfo::new(
                &tidewater_engine::config::Config::default().with_batch_size(10),
                0,
                1,
            ),
        )
        .unwrap()
    }

    fn batch(ids: &[u32]) -> Batch<Item> {
        ids.iter().map(|&id| Record::new(0, Item { id })).collect()
    }

    /// The ids of every published file (partition folders included, hidden files not).
    fn published(dir: &Path, format: FileFormat) -> Vec<i64> {
        let mut ids: Vec<i64> = files_under(dir)
            .unwrap()
            .into_iter()
            .filter(|rel| !file_name(rel).starts_with('.'))
            .flat_map(|rel| read_rows(dir.join(rel), format).unwrap())
            .map(|r| r.get("id").and_then(Value::as_i64).unwrap())
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn transactional_files_appear_only_when_their_checkpoint_commits() {
        for format in [FileFormat::JsonLines, FileFormat::Csv] {
            let dir = tempfile::tempdir().unwrap();
            let mut w = writer(dir.path(), format, FileSinkMode::Transactional);
            SinkWriter::<Item>::write_batch(&mut w, batch(&[1, 2])).unwrap();
            let pre1 = SinkWriter::<Item>::pre_commit(&mut w, 1).unwrap().unwrap();
            SinkWriter::<Item>::write_batch(&mut w, batch(&[3])).unwrap();
            SinkWriter::<Item>::pre_commit(&mut w, 2).unwrap();
            assert_eq!(published(dir.path(), format), Vec::<i64>::new());
            SinkWriter::<Item>::commit(&mut w, 1).unwrap();
            assert_eq!(published(dir.path(), format), vec![1, 2]);
            // A crash now: recovery from checkpoint 1 publishes its files (already
            // done) and drops checkpoint 2's pending file, which will be replayed.
            let mut recovered = writer(dir.path(), format, FileSinkMode::Transactional);
            SinkWriter::<Item>::recover(&mut recovered, Some(&pre1)).unwrap();
            assert_eq!(
                std::fs::read_dir(dir.path().join(".pending"))
                    .unwrap()
                    .count(),
                0
            );
            assert_eq!(published(dir.path(), format), vec![1, 2]);
        }
    }

    #[test]
    fn recovery_publishes_pre_committed_files_a_crash_left_pending() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = writer(
            dir.path(),
            FileFormat::JsonLines,
            FileSinkMode::Transactional,
        );
        SinkWriter::<Item>::write_batch(&mut w, batch(&[7])).unwrap();
        let pre = SinkWriter::<Item>::pre_commit(&mut w, 4).unwrap().unwrap();
        // the checkpoint was written, then the process died before renaming
        let mut recovered = writer(
            dir.path(),
            FileFormat::JsonLines,
            FileSinkMode::Transactional,
        );
        SinkWriter::<Item>::recover(&mut recovered, Some(&pre)).unwrap();
        assert_eq!(published(dir.path(), FileFormat::JsonLines), vec![7]);
    }

    #[test]
    fn direct_csv_batches_are_visible_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = writer(dir.path(), FileFormat::Csv, FileSinkMode::Direct);
        SinkWriter::<Item>::write_batch(&mut w, batch(&[1, 2])).unwrap();
        SinkWriter::<Item>::write_batch(&mut w, batch(&[3])).unwrap();
        assert_eq!(published(dir.path(), FileFormat::Csv), vec![1, 2, 3]);
    }

    #[test]
    fn a_pre_committed_file_that_vanished_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = FileFormat::JsonLines;
        let mut w = writer(dir.path(), jsonl, FileSinkMode::Transactional);
        SinkWriter::<Item>::write_batch(&mut w, batch(&[7])).unwrap();
        let pre = SinkWriter::<Item>::pre_commit(&mut w, 4).unwrap().unwrap();
        let names: Vec<String> = PreCommit::parse(&pre).unwrap().files;
        assert_eq!(names.len(), 1);
        assert!(
            names[0].starts_with("part-000-00000000000000000004-run"),
            "{names:?}"
        );
        let pending = dir.path().join(".pending").join(&names[0]);
        std::fs::remove_file(&pending).unwrap();
        let mut recovered = writer(dir.path(), jsonl, FileSinkMode::Transactional);
        let e = SinkWriter::<Item>::recover(&mut recovered, Some(&pre)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "sink `file_sink` failed: {}: this pre-committed file is neither pending nor published: the output of its checkpoint is lost",
                pending.display()
            )
        );
    }

    #[test]
    fn the_final_transaction_has_a_readable_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = writer(
            dir.path(),
            FileFormat::JsonLines,
            FileSinkMode::Transactional,
        );
        SinkWriter::<Item>::write_batch(&mut w, batch(&[1])).unwrap();
        let pre = SinkWriter::<Item>::pre_commit(&mut w, u64::MAX)
            .unwrap()
            .unwrap();
        let names: Vec<String> = PreCommit::parse(&pre).unwrap().files;
        assert!(names[0].starts_with("part-000-final-run"), "{names:?}");
        assert!(!names[0].contains("18446744073709551615"));
    }

    #[test]
    fn a_second_direct_run_never_overwrites_the_first() {
        for format in [FileFormat::JsonLines, FileFormat::Csv] {
            let dir = tempfile::tempdir().unwrap();
            let mut first = writer(dir.path(), format, FileSinkMode::Direct);
            SinkWriter::<Item>::write_batch(&mut first, batch(&[1, 2])).unwrap();
            SinkWriter::<Item>::finish(&mut first).unwrap();
            drop(first);
            // A restart in the same process (the same pid), as after a crash of a run.
            let mut second = writer(dir.path(), format, FileSinkMode::Direct);
            SinkWriter::<Item>::write_batch(&mut second, batch(&[3])).unwrap();
            SinkWriter::<Item>::finish(&mut second).unwrap();
            assert_eq!(published(dir.path(), format), vec![1, 2, 3], "{format:?}");
        }
    }

    #[test]
    fn recovery_from_an_older_checkpoint_rolls_back_what_newer_ones_published() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = FileFormat::JsonLines;
        let mut w = writer(dir.path(), jsonl, FileSinkMode::Transactional);
        SinkWriter::<Item>::write_batch(&mut w, batch(&[1])).unwrap();
        let pre1 = SinkWriter::<Item>::pre_commit(&mut w, 1).unwrap().unwrap();
        SinkWriter::<Item>::commit(&mut w, 1).unwrap();
        SinkWriter::<Item>::write_batch(&mut w, batch(&[2])).unwrap();
        SinkWriter::<Item>::pre_commit(&mut w, 2).unwrap();
        SinkWriter::<Item>::commit(&mut w, 2).unwrap();
        assert_eq!(published(dir.path(), jsonl), vec![1, 2]);
        // Checkpoint 2 turned out damaged: the run resumes from 1 and will write 2 again.
        let mut recovered = writer(dir.path(), jsonl, FileSinkMode::Transactional);
        SinkWriter::<Item>::recover(&mut recovered, Some(&pre1)).unwrap();
        assert_eq!(published(dir.path(), jsonl), vec![1]);
        assert_eq!(
            std::fs::read_dir(dir.path().join(".rolled-back"))
                .unwrap()
                .count(),
            1
        );
        // A recovery from the newest checkpoint rolls nothing back.
        let mut again = writer(dir.path(), jsonl, FileSinkMode::Transactional);
        SinkWriter::<Item>::recover(&mut again, Some(&pre1)).unwrap();
        assert_eq!(published(dir.path(), jsonl), vec![1]);
    }

    #[test]
    fn a_pre_commit_of_the_earlier_format_still_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = FileFormat::JsonLines;
        let mut w = writer(dir.path(), jsonl, FileSinkMode::Transactional);
        SinkWriter::<Item>::write_batch(&mut w, batch(&[5])).unwrap();
        let pre = SinkWriter::<Item>::pre_commit(&mut w, 3).unwrap().unwrap();
        let names = serde_json::from_slice::<serde_json::Value>(&pre).unwrap()["files"].clone();
        let bare = serde_json::to_vec(&names).unwrap();
        let mut recovered = writer(dir.path(), jsonl, FileSinkMode::Transactional);
        SinkWriter::<Item>::recover(&mut recovered, Some(&bare)).unwrap();
        assert_eq!(published(dir.path(), jsonl), vec![5]);
    }

    #[derive(Serialize, Clone)]
    struct Dated {
        day: &'static str,
        id: u32,
    }

    fn dated(ids: &[u32]) -> Batch<Dated> {
        ids.iter()
            .map(|&id| {
                Record::new(
                    0,
                    Dated {
                        day: if id % 2 == 0 { "even" } else { "odd" },
                        id,
                    },
                )
            })
            .collect()
    }

    fn dated_writer(dir: &Path, sink: FileSink) -> FileWriter {
        dated_writer_at(dir, sink, tidewater_engine::time::ManualClock::new(0))
    }

    fn dated_writer_at(
        dir: &Path,
        sink: FileSink,
        clock: tidewater_engine::time::ManualClock,
    ) -> FileWriter {
        let sink = FileSink {
            dir: dir.to_path_buf(),
            ..sink
        };
        let config = tidewater_engine::config::Config::default().with_clock(clock);
        <FileSink as Sink<Dated>>::create_writer(&sink, &WorkerInfo::new(&config, 0, 1)).unwrap()
    }

    #[test]
    fn partitioned_transactional_files_publish_into_hive_folders_and_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        let sink = FileSink::parquet("", FileSinkMode::Transactional)
            .partition_by(["day"])
            .max_records_per_file(2);
        let mut w = dated_writer(dir.path(), sink.clone());
        SinkWriter::<Dated>::write_batch(&mut w, dated(&[1, 2, 3, 4, 5])).unwrap();
        let pre1 = SinkWriter::<Dated>::pre_commit(&mut w, 1).unwrap().unwrap();
        let files: Vec<String> = PreCommit::parse(&pre1).unwrap().files;
        let folders: Vec<&str> = files.iter().map(|f| f.split('/').next().unwrap()).collect();
        // odd: 1, 3, 5 in two files (two rows at most); even: 2, 4 in one
        assert_eq!(folders, vec!["day=even", "day=odd", "day=odd"]);
        assert_eq!(
            published(dir.path(), FileFormat::Parquet),
            Vec::<i64>::new()
        );
        SinkWriter::<Dated>::commit(&mut w, 1).unwrap();
        assert_eq!(
            published(dir.path(), FileFormat::Parquet),
            vec![1, 2, 3, 4, 5]
        );
        // the files hold no `day` column: the folder does
        let first = read_rows(dir.path().join(&files[0]), FileFormat::Parquet).unwrap();
        assert_eq!(first[0].get("day"), None);
        SinkWriter::<Dated>::write_batch(&mut w, dated(&[6, 7])).unwrap();
        SinkWriter::<Dated>::pre_commit(&mut w, 2).unwrap();
        SinkWriter::<Dated>::commit(&mut w, 2).unwrap();
        SinkWriter::<Dated>::write_batch(&mut w, dated(&[8])).unwrap();
        SinkWriter::<Dated>::pre_commit(&mut w, 3).unwrap();
        // recovery from checkpoint 1: checkpoint 2's published files go aside,
        // checkpoint 3's pending one is deleted
        let mut recovered = dated_writer(dir.path(), sink);
        SinkWriter::<Dated>::recover(&mut recovered, Some(&pre1)).unwrap();
        assert_eq!(
            published(dir.path(), FileFormat::Parquet),
            vec![1, 2, 3, 4, 5]
        );
        assert_eq!(
            files_under(&dir.path().join(".pending")).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            files_under(&dir.path().join(".rolled-back")).unwrap().len(),
            2
        );
    }

    #[test]
    fn direct_files_roll_by_rows_by_time_and_at_barriers_hidden_until_finished() {
        let visible = |dir: &Path| {
            files_under(dir)
                .unwrap()
                .into_iter()
                .filter(|r| !file_name(r).starts_with('.'))
                .count()
        };
        // Parquet by rows and at the barrier: 3 + 3 rows finished, 1 in progress
        let dir = tempfile::tempdir().unwrap();
        let sink = FileSink::parquet("", FileSinkMode::Direct).max_records_per_file(3);
        let mut w = dated_writer(dir.path(), sink);
        SinkWriter::<Dated>::write_batch(&mut w, dated(&[1, 3, 5, 7, 9, 11, 13])).unwrap();
        let parquet = |dir: &Path| published(dir, FileFormat::Parquet).len();
        assert_eq!((visible(dir.path()), parquet(dir.path())), (2, 6));
        SinkWriter::<Dated>::pre_commit(&mut w, 1).unwrap();
        assert_eq!((visible(dir.path()), parquet(dir.path())), (3, 7));
        // JSON lines by time: visible at once, a new file once the pipeline's clock
        // has passed the interval
        let dir = tempfile::tempdir().unwrap();
        let sink = FileSink::json_lines("", FileSinkMode::Direct)
            .rollover_interval(Duration::from_millis(50));
        let clock = tidewater_engine::time::ManualClock::new(0);
        let mut w = dated_writer_at(dir.path(), sink, clock.clone());
        SinkWriter::<Dated>::write_batch(&mut w, dated(&[1])).unwrap();
        assert_eq!(published(dir.path(), FileFormat::JsonLines), vec![1]);
        clock.advance_ms(49);
        SinkWriter::<Dated>::write_batch(&mut w, dated(&[2])).unwrap();
        assert_eq!(visible(dir.path()), 1);
        clock.advance_ms(1);
        SinkWriter::<Dated>::write_batch(&mut w, dated(&[3])).unwrap();
        SinkWriter::<Dated>::finish(&mut w).unwrap();
        assert_eq!(visible(dir.path()), 2);
        assert_eq!(published(dir.path(), FileFormat::JsonLines), vec![1, 2, 3]);
    }

    #[test]
    fn problems_of_the_settings_are_reported_together() {
        let sink = FileSink::csv("out", FileSinkMode::Direct)
            .partition_by([""])
            .max_file_bytes(0)
            .max_records_per_file(0)
            .rollover_interval(Duration::ZERO);
        let e = <FileSink as Sink<Item>>::validate(&sink).unwrap_err();
        let problems: Vec<String> = e.problems().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            problems,
            vec![
                "`file_sink`: invalid `partition_by`: expected column names, found an empty name",
                "`file_sink`: invalid `max_file_bytes`: expected at least 1, found 0",
                "`file_sink`: invalid `max_records_per_file`: expected at least 1, found 0",
                "`file_sink`: invalid `rollover_interval`: expected a positive duration, found 0 ms",
            ]
        );
    }
}
