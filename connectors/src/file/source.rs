//! The file source: a folder (or one file) of JSON lines, CSV or Parquet, read once or
//! watched for new files (Spark's file stream).
//!
//! Files are split across workers by a stable hash of their path. Each worker reads its
//! files oldest first (then by name; newest first with `latest_first`), one at a time,
//! decoding as it emits batches (a file larger than memory streams through); its
//! position is the set of files it finished plus how far into the current one it got,
//! so a restart neither skips nor rereads a file. Only files
//! the writer has finished are read ([`Ready`]). A line that does not read is a dead
//! letter naming the file and line; a file that vanishes or cannot be read fails the
//! run naming it.

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tidewater_engine::connector::{Restart, Source, SourcePoll, SourceReader, WorkerInfo};
use tidewater_engine::dead_letter::DeadLetter;
use tidewater_engine::error::{EngineError, Problems, Result};
use tidewater_engine::record::{Batch, Record};
use tidewater_engine::row::{Row, Schema};
use tidewater_engine::time::NO_TIMESTAMP;
use tidewater_formats::FileFormat;

use super::decode::{CsvOptions, Decoded, Decoder, FileRecords};
use super::listing::{list, Listed, Ready};
use crate::stable_hash::fnv1a;

/// Settings of a [`FileSource`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// A folder (read recursively; Hive `key=value` folders become columns), a file,
    /// or a glob (`/data/*/events-*.jsonl`, `/data/**/*.csv`; `*` stays within a folder,
    /// `**` crosses folders; Hive folders below the first glob character become
    /// columns).
    pub path: PathBuf,
    /// The format of every file.
    pub format: FileFormat,
    /// Declared column types (JSON lines and CSV); without one, JSON values keep their
    /// JSON types and CSV cells are inferred (integer, float, boolean, text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Schema>,
    /// CSV dialect.
    #[serde(default)]
    pub csv: CsvOptions,
    /// Keep watching the folder for new files (Spark's `readStream`); else read the
    /// files present at start and finish.
    #[serde(default)]
    pub stream: bool,
    /// How often a stream lists the folder (ms).
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// A trigger reads at most this many files: each poll emits up to this many whole
    /// files as one batch (with 1, each file is one micro-batch in the
    /// Spark-compatible mode), and a listing admits at most this many new files per
    /// worker. Without it, files are read in batches of the pipeline's batch size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_files_per_trigger: Option<usize>,
    /// Newest files first (Spark's `latestFirst`).
    #[serde(default)]
    pub latest_first: bool,
    /// When a folder's files are complete.
    #[serde(default)]
    pub ready: Ready,
}

fn default_poll_ms() -> u64 {
    1_000
}

impl FileSourceConfig {
    /// Reads the files of `format` under `path`.
    pub fn new(path: impl Into<PathBuf>, format: FileFormat) -> Self {
        FileSourceConfig {
            path: path.into(),
            format,
            schema: None,
            csv: CsvOptions::default(),
            stream: false,
            poll_interval_ms: default_poll_ms(),
            max_files_per_trigger: None,
            latest_first: false,
            ready: Ready::Visible,
        }
    }

    /// Every problem of these settings, under `node`.
    pub fn validate(&self, node: &str) -> Result<()> {
        let mut p = Problems::new();
        p.check(
            !self.path.as_os_str().is_empty(),
            node,
            "path",
            "a folder or file",
            "an empty path",
        );
        p.check(
            self.poll_interval_ms > 0,
            node,
            "poll_interval_ms",
            "at least 1",
            self.poll_interval_ms,
        );
        if let Some(n) = self.max_files_per_trigger {
            p.check(n > 0, node, "max_files_per_trigger", "at least 1", n);
        }
        for (field, c) in [
            ("csv.delimiter", self.csv.delimiter),
            ("csv.quote", self.csv.quote),
        ] {
            p.check(c.is_ascii(), node, field, "an ASCII character", c);
        }
        if self.schema.is_some() && self.format == FileFormat::Parquet {
            p.push(EngineError::invalid(
                node,
                "schema",
                "no declared schema for Parquet (its files carry their own)",
                "a schema",
            ));
        }
        p.finish(node, ())
    }
}

/// Reads files into rows; yields `Result<Row, DeadLetter>` for
/// [`Stream::dead_letters`](tidewater_engine::stream::Stream::dead_letters).
///
/// ```
/// use tidewater_connectors::file::{FileSource, FileSourceConfig};
/// use tidewater_engine::prelude::*;
/// use tidewater_formats::FileFormat;
///
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir(dir.path().join("dt=2024-01-01")).unwrap();
/// std::fs::write(dir.path().join("dt=2024-01-01/a.jsonl"), "{\"n\": 1}\nnot json\n{\"n\": 2}\n").unwrap();
/// let (rows, bad) = (MemorySink::new(), MemorySink::new());
/// let mut p = Pipeline::new(Config::default());
/// p.source(FileSource::new(FileSourceConfig::new(dir.path(), FileFormat::JsonLines)))
///     .dead_letters(bad.clone())
///     .sink(rows.clone());
/// p.run().unwrap();
/// let lines: Vec<String> = rows.values().iter().map(|r| serde_json::to_string(r).unwrap()).collect();
/// assert_eq!(lines, vec![r#"{"n":1,"dt":"2024-01-01"}"#, r#"{"n":2,"dt":"2024-01-01"}"#]);
/// assert_eq!(bad.values()[0].origin.to_string(), format!("{}:2", dir.path().join("dt=2024-01-01/a.jsonl").display()));
/// ```
#[derive(Debug, Clone)]
pub struct FileSource {
    config: FileSourceConfig,
    name: String,
}

impl FileSource {
    /// A source with these settings.
    pub fn new(config: FileSourceConfig) -> Self {
        FileSource {
            config,
            name: "file_source".to_string(),
        }
    }

    /// Names the source in metrics, errors and checkpoints.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

impl Source for FileSource {
    type Item = std::result::Result<Row, DeadLetter>;
    type Reader = FileReader;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn restart(&self) -> Restart {
        Restart::FromPosition
    }

    fn validate(&self) -> Result<()> {
        self.config.validate(&self.name)
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<FileReader> {
        self.config.validate(&self.name)?;
        let c = &self.config;
        let decoder = Decoder {
            format: c.format,
            schema: c.schema.clone().map(Arc::new),
            csv: c.csv.clone(),
        };
        let folder = Folder {
            root: c.path.clone(),
            ready: c.ready,
        };
        FileReader::new(&self.name, c.trigger(), decoder, Box::new(folder), worker)
    }
}

/// How a file reader takes files: once or watching, how often it looks, how many
/// files a trigger takes, in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    /// Keep looking for new files; else read the files present at start and finish.
    pub stream: bool,
    /// How often a stream lists its files (ms).
    pub poll_interval_ms: u64,
    /// A trigger reads at most this many whole files as one batch.
    pub max_files_per_trigger: Option<usize>,
    /// Newest files first.
    pub latest_first: bool,
}

impl FileSourceConfig {
    /// The reading rule of these settings.
    pub fn trigger(&self) -> Trigger {
        Trigger {
            stream: self.stream,
            poll_interval_ms: self.poll_interval_ms,
            max_files_per_trigger: self.max_files_per_trigger,
            latest_first: self.latest_first,
        }
    }
}

/// Where a file reader learns which files exist: a folder's listing, a Delta table's
/// log.
pub trait Catalog: Send + 'static {
    /// Every file ready to read, in reading order; files already read may be included
    /// (the reader skips them).
    fn list(&mut self) -> Result<Vec<Listed>>;

    /// What the catalog must keep across a restart besides the files read (a Delta
    /// source's snapshot version); default: nothing.
    fn position(&self) -> Option<serde_json::Value> {
        None
    }

    /// Continues from a [`position`](Self::position).
    fn restore(&mut self, position: serde_json::Value) -> Result<()> {
        let _ = position;
        Ok(())
    }
}

/// A folder (or one file) listed by [`list`].
struct Folder {
    root: PathBuf,
    ready: Ready,
}

impl Catalog for Folder {
    fn list(&mut self) -> Result<Vec<Listed>> {
        list(&self.root, self.ready)
    }
}

/// A file being read: its records (decoded a chunk at a time) and how many were
/// emitted.
struct Current {
    relative: String,
    records: FileRecords,
    emitted: u64,
}

impl Current {
    /// Appends up to `n` records to `out`.
    fn take(&mut self, n: usize, out: &mut Batch<Decoded>) -> Result<()> {
        let mut records = Vec::with_capacity(n);
        self.records.read(n, &mut records)?;
        self.emitted += records.len() as u64;
        out.extend(records.into_iter().map(|r| Record::new(NO_TIMESTAMP, r)));
        Ok(())
    }

    /// Whether every record has been emitted.
    fn finished(&self) -> bool {
        self.records.ended()
    }

    /// Appends every record left.
    fn emit_rest(mut self, out: &mut Batch<Decoded>) -> Result<()> {
        while !self.finished() {
            self.take(8192, out)?;
        }
        Ok(())
    }
}

/// Where a reader stands, as stored in checkpoints.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Position {
    done: BTreeSet<String>,
    current: Option<(String, u64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    catalog: Option<serde_json::Value>,
}

/// One worker's share of a [`FileSource`] (or of a Delta table's files).
pub struct FileReader {
    name: String,
    trigger: Trigger,
    catalog: Box<dyn Catalog>,
    decoder: Decoder,
    worker: (usize, usize),
    batch_size: usize,
    done: BTreeSet<String>,
    queue: VecDeque<Listed>,
    current: Option<Current>,
    /// When the folder was last listed (the pipeline clock's ms).
    listed_at: Option<i64>,
    clock: std::sync::Arc<dyn tidewater_engine::time::Clock>,
    /// The last listing held more files than `max_files_per_trigger` let in.
    truncated: bool,
}

impl FileReader {
    /// A reader of the files `catalog` lists that belong to `worker`.
    pub(crate) fn new(
        name: &str,
        trigger: Trigger,
        decoder: Decoder,
        catalog: Box<dyn Catalog>,
        worker: &WorkerInfo,
    ) -> Result<FileReader> {
        let mut reader = FileReader {
            name: name.to_string(),
            trigger,
            catalog,
            decoder,
            worker: (worker.index, worker.parallelism),
            batch_size: worker.batch_size.max(1),
            done: BTreeSet::new(),
            queue: VecDeque::new(),
            current: None,
            listed_at: None,
            clock: worker.clock.clone(),
            truncated: false,
        };
        if !trigger.stream {
            // A bounded read covers the files present when the run starts.
            reader.refill()?;
        }
        Ok(reader)
    }

    fn owns(&self, relative: &str) -> bool {
        fnv1a(relative.as_bytes()) % self.worker.1.max(1) as u64 == self.worker.0 as u64
    }

    /// Lists the folder and queues this worker's new ready files.
    fn refill(&mut self) -> Result<()> {
        self.listed_at = Some(self.clock.now_ms());
        let mut files: Vec<Listed> = self
            .catalog
            .list()?
            .into_iter()
            .filter(|l| self.owns(&l.relative))
            .filter(|l| !self.done.contains(&l.relative))
            .filter(|l| {
                self.current
                    .as_ref()
                    .is_none_or(|c| c.relative != l.relative)
            })
            .filter(|l| !self.queue.iter().any(|q| q.relative == l.relative))
            .collect();
        if self.trigger.latest_first {
            files.reverse();
        }
        self.truncated = false;
        if let Some(n) = self.trigger.max_files_per_trigger {
            self.truncated = files.len() > n;
            files.truncate(n);
        }
        self.queue.extend(files);
        Ok(())
    }

    /// Starts the next queued file; false when none is queued.
    fn open_next(&mut self, skip: u64) -> Result<bool> {
        let Some(next) = self.queue.pop_front() else {
            return Ok(false);
        };
        if !next.path.exists() {
            return Err(EngineError::Source {
                source_name: self.name.clone(),
                message: format!("{} vanished before it was read", next.path.display()),
            });
        }
        let mut records = self.decoder.open(&next.path, &next.partition)?;
        records.skip(skip)?;
        self.current = Some(Current {
            relative: next.relative,
            records,
            emitted: skip,
        });
        Ok(true)
    }

    /// Emits up to `files` whole files as one batch (a trigger: one micro-batch in the
    /// Spark-compatible mode), whatever their size.
    fn poll_whole_files(
        &mut self,
        files: usize,
        out: &mut Batch<std::result::Result<Row, DeadLetter>>,
    ) -> Result<SourcePoll> {
        let mut taken = 0;
        while taken < files {
            if self.current.is_none() && !self.open_next(0)? {
                if self.listing_due() {
                    self.refill()?;
                    if self.open_next(0)? {
                        continue;
                    }
                }
                break;
            }
            if let Some(cur) = self.current.take() {
                self.done.insert(cur.relative.clone());
                cur.emit_rest(out)?;
                taken += 1;
            }
        }
        Ok(if taken > 0 {
            SourcePoll::Ready
        } else if self.trigger.stream {
            SourcePoll::Pending
        } else {
            SourcePoll::Finished
        })
    }

    /// A stream lists every poll interval; a bounded read lists again only to take
    /// the files `max_files_per_trigger` held back.
    fn listing_due(&self) -> bool {
        if !self.trigger.stream {
            return self.truncated;
        }
        let now = self.clock.now_ms();
        self.listed_at
            .is_none_or(|t| now.saturating_sub(t) as u64 >= self.trigger.poll_interval_ms)
    }
}

impl SourceReader for FileReader {
    type Item = std::result::Result<Row, DeadLetter>;

    fn poll_batch(&mut self, out: &mut Batch<Self::Item>) -> Result<SourcePoll> {
        if let Some(files) = self.trigger.max_files_per_trigger {
            return self.poll_whole_files(files, out);
        }
        while out.len() < self.batch_size {
            if let Some(cur) = self.current.as_mut() {
                cur.take(self.batch_size - out.len(), out)?;
                if cur.finished() {
                    let finished = self.current.take().map(|c| c.relative);
                    self.done.extend(finished);
                }
                continue;
            }
            if self.open_next(0)? {
                continue;
            }
            if self.listing_due() {
                self.refill()?;
                if !self.queue.is_empty() {
                    continue;
                }
            }
            break;
        }
        if !out.is_empty() {
            return Ok(SourcePoll::Ready);
        }
        Ok(if self.trigger.stream {
            SourcePoll::Pending
        } else {
            SourcePoll::Finished
        })
    }

    fn snapshot_position(&self) -> Result<Option<Vec<u8>>> {
        let position = Position {
            done: self.done.clone(),
            current: self
                .current
                .as_ref()
                .map(|c| (c.relative.clone(), c.emitted)),
            catalog: self.catalog.position(),
        };
        serde_json::to_vec(&position).map(Some).map_err(|e| {
            EngineError::external(format!("`{}`: encoding the position", self.name), e)
        })
    }

    fn restore_position(&mut self, bytes: &[u8]) -> Result<()> {
        let position: Position = serde_json::from_slice(bytes).map_err(|e| {
            EngineError::external(
                format!("`{}`: decoding the checkpointed position", self.name),
                e,
            )
        })?;
        self.done = position.done;
        self.queue.clear();
        self.current = None;
        if let Some(catalog) = position.catalog {
            self.catalog.restore(catalog)?;
        }
        if let Some((rel, emitted)) = position.current {
            let listed = self
                .catalog
                .list()?
                .into_iter()
                .find(|l| l.relative == rel)
                .ok_or_else(|| EngineError::Source {
                    source_name: self.name.clone(),
                    message: format!("{rel} was being read at the checkpoint and has vanished"),
                })?;
            self.queue.push_back(listed);
            self.open_next(emitted)?;
        }
        // The files not finished yet, including any that arrived since (a rerun of a
        // bounded read reads them, as Spark's availableNow does).
        self.refill()
    }
}
