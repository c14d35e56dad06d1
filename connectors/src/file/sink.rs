//! The file sink.
//!
//! * [`FileSinkMode::Transactional`] (exactly-once): records since the last barrier are
//!   buffered; at the barrier they are written to a hidden pending file
//!   (`.pending/part-WWW-CCCCCCCCCCCCCCCCCCCC.ext`, synced to disk) and its name goes into
//!   the checkpoint; when the checkpoint is written, pending files are published by an
//!   atomic rename into the output folder. On recovery, pending files named by the
//!   resumed checkpoint are published and every other pending file of the worker is
//!   deleted: they belong to checkpoints that never completed and will be replayed.
//! * [`FileSinkMode::Direct`] (at-least-once, at-most-once): records are appended to a
//!   visible part file of the run and flushed after every batch.
//!
//! Published output is every `part-*` file in the folder; `.pending` is never output.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tidewater_engine::connector::{Commit, Sink, SinkWriter, WorkerInfo};
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::record::Batch;
use tidewater_engine::row::Row;
use tidewater_formats::{write_rows, FileFormat};

/// How records become visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSinkMode {
    /// Two-phase commit: visible once the checkpoint that covers them is written.
    Transactional,
    /// Visible as soon as written.
    Direct,
}

/// Writes records (structs or maps, as rows) as JSON lines, CSV or Parquet part files
/// into a folder.
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
#[derive(Debug, Clone)]
pub struct FileSink {
    dir: PathBuf,
    format: FileFormat,
    mode: FileSinkMode,
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

/// A name for this run's files that no earlier run of the sink used: the wall-clock
/// time in ms and a counter (a restart may reuse the process id; names by pid would
/// overwrite the earlier run's output).
fn run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{ms:013}-{}", RUNS.fetch_add(1, Ordering::Relaxed))
}

/// What a pre-commit stores in the checkpoint: the checkpoint and the files of its
/// transaction (every pre-committed file not yet published).
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

impl FileSink {
    /// Parquet (snappy) part files into `dir`: one per checkpoint and worker
    /// (transactional) or per batch (direct).
    pub fn parquet(dir: impl Into<PathBuf>, mode: FileSinkMode) -> Self {
        FileSink {
            dir: dir.into(),
            format: FileFormat::Parquet,
            mode,
        }
    }

    /// JSON lines into `dir`.
    pub fn json_lines(dir: impl Into<PathBuf>, mode: FileSinkMode) -> Self {
        FileSink {
            dir: dir.into(),
            format: FileFormat::JsonLines,
            mode,
        }
    }

    /// CSV (with a header per file) into `dir`.
    pub fn csv(dir: impl Into<PathBuf>, mode: FileSinkMode) -> Self {
        FileSink {
            dir: dir.into(),
            format: FileFormat::Csv,
            mode,
        }
    }

    /// Every line of every published JSON-lines part file in `dir`, sorted by file name
    /// then line; a torn last line (a crash mid-write in direct mode) is left out.
    pub fn published_lines(dir: &Path) -> Result<Vec<String>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
            })
            .collect();
        files.sort();
        let mut lines = Vec::new();
        for file in files {
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

    fn create_writer(&self, worker: &WorkerInfo) -> Result<FileWriter> {
        std::fs::create_dir_all(self.dir.join(".pending")).map_err(|e| io(&self.dir, e))?;
        sync_dir(&self.dir)?;
        Ok(FileWriter {
            run: run_id(),
            dir: self.dir.clone(),
            format: self.format,
            mode: self.mode,
            worker: worker.index,
            buffer: Vec::new(),
            pending: Vec::new(),
            direct: None,
            direct_files: 0,
        })
    }
}

/// One worker's writer of a [`FileSink`].
pub struct FileWriter {
    /// This run's id in file names.
    run: String,
    dir: PathBuf,
    format: FileFormat,
    mode: FileSinkMode,
    worker: usize,
    /// Transactional: rows since the last barrier.
    buffer: Vec<Row>,
    /// Transactional: pre-committed files not yet published, with their checkpoint.
    pending: Vec<(u64, String)>,
    /// Direct: the open part file of this run (JSON lines).
    direct: Option<BufWriter<File>>,
    /// Direct: CSV part files written by this run.
    direct_files: u64,
}

impl FileWriter {
    fn pending_dir(&self) -> PathBuf {
        self.dir.join(".pending")
    }

    fn prefix(&self) -> String {
        format!("part-{:03}-", self.worker)
    }

    /// Moves a pre-committed file into the published folder (atomic rename), durably.
    /// Publishing twice is harmless; a file that is neither pending nor published is an
    /// error: the checkpoint that covered it would be lost silently.
    fn publish(&self, name: &str) -> Result<()> {
        let from = self.pending_dir().join(name);
        let to = self.dir.join(name);
        if from.exists() {
            std::fs::rename(&from, &to).map_err(|e| io(&from, e))?;
            sync_dir(&self.dir)?;
            sync_dir(&self.pending_dir())
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
    fn roll_back_after(&self, restored: u64) -> Result<()> {
        let prefix = self.prefix();
        let mut rolled_back = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| io(&self.dir, e))? {
            let path = entry.map_err(|e| io(&self.dir, e))?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if path.is_file() && checkpoint_of(&name, &prefix).is_some_and(|c| c > restored) {
                rolled_back.push((path, name));
            }
        }
        if rolled_back.is_empty() {
            return Ok(());
        }
        let aside = self.dir.join(".rolled-back");
        std::fs::create_dir_all(&aside).map_err(|e| io(&aside, e))?;
        for (path, name) in &rolled_back {
            std::fs::rename(path, aside.join(name)).map_err(|e| io(path, e))?;
        }
        sync_dir(&aside)?;
        sync_dir(&self.dir)?;
        tracing::warn!(
            dir = %self.dir.display(),
            files = rolled_back.len(),
            restored,
            "moved files of checkpoints newer than the restored one to .rolled-back: the replay writes their rows again"
        );
        Ok(())
    }

    /// Direct mode: JSON lines are appended to the run's part file and flushed; CSV
    /// and Parquet batches become part files of their own (a CSV file has one header,
    /// a Parquet file one footer).
    fn append_direct(&mut self, rows: &[Row]) -> Result<()> {
        if self.format != FileFormat::JsonLines {
            self.direct_files += 1;
            let name = format!(
                "{}run{}-{:06}.{}",
                self.prefix(),
                self.run,
                self.direct_files,
                self.format.extension()
            );
            let path = self.dir.join(name);
            return write_rows(&path, self.format, rows)
                .map(|_| ())
                .map_err(|e| io(&path, e));
        }
        if self.direct.is_none() {
            let path = self.dir.join(format!(
                "{}run{}.{}",
                self.prefix(),
                self.run,
                self.format.extension()
            ));
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| io(&path, e))?;
            self.direct = Some(BufWriter::new(file));
        }
        let dir = self.dir.clone();
        let out = self
            .direct
            .as_mut()
            .ok_or_else(|| io(&dir, "no open file"))?;
        for row in rows {
            serde_json::to_writer(&mut *out, row).map_err(|e| io(&dir, e))?;
            out.write_all(b"\n").map_err(|e| io(&dir, e))?;
        }
        out.flush().map_err(|e| io(&dir, e))
    }
}

impl<T: Serialize + 'static> SinkWriter<T> for FileWriter {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        let rows = crate::rows::into_rows(batch)?;
        match self.mode {
            FileSinkMode::Transactional => {
                self.buffer.extend(rows);
                Ok(())
            }
            FileSinkMode::Direct => self.append_direct(&rows),
        }
    }

    fn pre_commit(&mut self, checkpoint: u64) -> Result<Option<Vec<u8>>> {
        if self.mode == FileSinkMode::Direct {
            return Ok(None);
        }
        if !self.buffer.is_empty() {
            let name = format!(
                "{}{}-run{}.{}",
                self.prefix(),
                checkpoint_label(checkpoint),
                self.run,
                self.format.extension()
            );
            let path = self.pending_dir().join(&name);
            write_rows(&path, self.format, &self.buffer).map_err(|e| io(&path, e))?;
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| io(&path, e))?;
            sync_dir(&self.pending_dir())?;
            self.buffer.clear();
            self.pending.push((checkpoint, name));
        }
        // Everything not yet published belongs to this checkpoint's transaction.
        let pre = PreCommit {
            checkpoint,
            files: self.pending.iter().map(|(_, n)| n.clone()).collect(),
        };
        serde_json::to_vec(&pre)
            .map(Some)
            .map_err(|e| io(&self.dir, e))
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
        if self.mode == FileSinkMode::Direct {
            return Ok(());
        }
        if let Some(bytes) = pre_committed {
            let pre = PreCommit::parse(bytes)
                .map_err(|e| io(&self.dir, format!("unreadable pre-commit: {e}")))?;
            for name in &pre.files {
                self.publish(name)?;
            }
            self.roll_back_after(pre.checkpoint)?;
        }
        // Pending files of this worker from checkpoints that never completed.
        let pending_dir = self.pending_dir();
        let prefix = self.prefix();
        for entry in std::fs::read_dir(&pending_dir).map_err(|e| io(&pending_dir, e))? {
            let path = entry.map_err(|e| io(&pending_dir, e))?.path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
            {
                std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        match self.mode {
            // Checkpointed runs commit in pre_commit/commit; without checkpointing,
            // end of input publishes what is left.
            FileSinkMode::Transactional => {
                if !self.buffer.is_empty() {
                    let name = format!(
                        "{}final-run{}.{}",
                        self.prefix(),
                        self.run,
                        self.format.extension()
                    );
                    let path = self.dir.join(&name);
                    write_rows(&path, self.format, &self.buffer).map_err(|e| io(&path, e))?;
                    self.buffer.clear();
                }
                Ok(())
            }
            FileSinkMode::Direct => match self.direct.as_mut() {
                Some(out) => out.flush().map_err(|e| io(&self.dir, e)),
                None => Ok(()),
            },
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
        let sink = FileSink {
            dir: dir.to_path_buf(),
            format,
            mode,
        };
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

    fn published(dir: &Path, format: FileFormat) -> Vec<i64> {
        let mut ids: Vec<i64> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .flat_map(|p| read_rows(&p, format).unwrap())
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
}
