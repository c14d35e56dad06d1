//! The Delta Lake source: a table's files as of a version, then the files each new
//! commit appends (Spark's Delta `readStream`).

use std::path::PathBuf;

use deltalake::kernel::Action;
use deltalake::logstore::get_actions;
use deltalake::DeltaTableBuilder;
use serde::{Deserialize, Serialize};
use tidewater_engine::connector::{Restart, Source, WorkerInfo};
use tidewater_engine::dead_letter::DeadLetter;
use tidewater_engine::error::{EngineError, Problems, Result};
use tidewater_engine::row::{Row, Value};
use tidewater_formats::FileFormat;

use super::table::TableLocation;
use crate::file::decode::{CsvOptions, Decoder};
use crate::file::{partition_value, Catalog, FileReader, Listed, Trigger};

/// Settings of a [`DeltaSource`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaSourceConfig {
    /// The table's folder.
    pub path: PathBuf,
    /// Read the table as of this version (Delta's `versionAsOf`) instead of the
    /// latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Read no snapshot: only the files committed from this version on, or from the
    /// next commit with `"latest"` (Delta's `startingVersion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_version: Option<StartingVersion>,
    /// Read the table's changes (Delta's `readChangeFeed`): every row gets
    /// `_change_type` (`insert`, `delete`, `update_preimage`, `update_postimage`),
    /// `_commit_version` and `_commit_timestamp`; a commit's change files are read
    /// when it has them, else its added files are inserts and its removed files
    /// deletes. Without a starting version the snapshot comes first, as inserts.
    #[serde(default)]
    pub read_change_feed: bool,
    /// Keep following the table's new commits; else read up to the version current
    /// at start and finish.
    #[serde(default)]
    pub stream: bool,
    /// How often a stream looks for new commits (ms).
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// A trigger reads at most this many data files (Delta's `maxFilesPerTrigger`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_files_per_trigger: Option<usize>,
    /// Skip commits that remove data (deletes, updates, overwrites) instead of failing
    /// (Delta's `skipChangeCommits`); their added files are skipped too.
    #[serde(default)]
    pub skip_change_commits: bool,
}

fn default_poll_ms() -> u64 {
    1_000
}

impl DeltaSourceConfig {
    /// Reads the table in `path` as of its latest version.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DeltaSourceConfig {
            path: path.into(),
            version: None,
            starting_version: None,
            stream: false,
            poll_interval_ms: default_poll_ms(),
            max_files_per_trigger: None,
            skip_change_commits: false,
            read_change_feed: false,
        }
    }

    /// Every problem of these settings, under `node`.
    pub fn validate(&self, node: &str) -> Result<()> {
        let mut p = Problems::new();
        p.check(
            !self.path.as_os_str().is_empty(),
            node,
            "path",
            "a table's folder",
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
        if self.version.is_some() && self.starting_version.is_some() {
            p.push(EngineError::invalid(
                node,
                "starting_version",
                "either a snapshot `version` or a `starting_version`, not both",
                "both",
            ));
        }
        p.finish(node, ())
    }
}

/// Reads a Delta table's data files into rows; yields `Result<Row, DeadLetter>` (an
/// unreadable data file fails the run naming it). Files go to workers by a stable hash
/// of their path; a snapshot's files are read oldest first, then each commit's in
/// commit order. The position is the snapshot version plus the files read, so a
/// restart neither skips nor rereads a file, even after the table was compacted. A
/// commit that removes data fails the stream unless
/// [`skip_change_commits`](DeltaSourceConfig::skip_change_commits) is set; files with
/// deletion vectors are refused. Partition values become columns. See
/// [`DeltaSink`](super::DeltaSink) for an example.
#[derive(Debug, Clone)]
pub struct DeltaSource {
    config: DeltaSourceConfig,
    name: String,
}

impl DeltaSource {
    /// A source with these settings.
    pub fn new(config: DeltaSourceConfig) -> Self {
        DeltaSource {
            config,
            name: "delta_source".into(),
        }
    }

    /// Names the source in metrics, errors and checkpoints.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

impl Source for DeltaSource {
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
        let c = &self.config;
        c.validate(&self.name)?;
        let trigger = Trigger {
            stream: c.stream,
            poll_interval_ms: c.poll_interval_ms,
            max_files_per_trigger: c.max_files_per_trigger,
            latest_first: false,
        };
        let decoder = Decoder {
            format: FileFormat::Parquet,
            schema: None,
            csv: CsvOptions::default(),
        };
        let anchor = Anchor {
            snapshot: c.version,
            changes_from: match c.starting_version {
                Some(StartingVersion::Version(v)) => Some(v),
                _ => None,
            },
            latest: c.starting_version == Some(StartingVersion::Latest),
        };
        let log = DeltaLog {
            name: self.name.clone(),
            location: TableLocation::new(&c.path, false)?,
            anchor,
            latest_at_start: c.version,
            stream: c.stream,
            skip_change_commits: c.skip_change_commits,
            change_feed: c.read_change_feed,
            read: None,
            columns: Vec::new(),
        };
        FileReader::new(&self.name, trigger, decoder, Box::new(log), worker)
    }
}

/// Where a reading of the table starts: only the commits from `changes_from` when
/// set (or, with `latest`, from the commit after the newest at the first listing);
/// else a snapshot (of version `snapshot`, or the latest), then the commits after.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Anchor {
    snapshot: Option<u64>,
    changes_from: Option<u64>,
    #[serde(default)]
    latest: bool,
}

/// Where reading changes starts (Delta's `startingVersion`): a version, or the next
/// commit (`"latest"`). Reads as a number, a number in a string, or `"latest"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingVersion {
    /// The commits from this version on.
    Version(u64),
    /// The commits after the newest one when the stream starts.
    Latest,
}

impl From<u64> for StartingVersion {
    fn from(v: u64) -> Self {
        StartingVersion::Version(v)
    }
}

impl Serialize for StartingVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            StartingVersion::Version(v) => s.serialize_u64(*v),
            StartingVersion::Latest => s.serialize_str("latest"),
        }
    }
}

impl<'de> Deserialize<'de> for StartingVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let version = match &value {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) if s == "latest" => return Ok(StartingVersion::Latest),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        };
        version.map(StartingVersion::Version).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a version (0 or more) or \"latest\", found {value}"
            ))
        })
    }
}

/// What the log has given so far.
struct Read {
    /// The files in reading order.
    files: Vec<Listed>,
    /// The next commit to read.
    next: u64,
    /// A bounded read stops after this version.
    last: Option<u64>,
}

/// A Delta table's log as a [`Catalog`] of data files.
struct DeltaLog {
    name: String,
    location: TableLocation,
    anchor: Anchor,
    latest_at_start: Option<u64>,
    stream: bool,
    skip_change_commits: bool,
    change_feed: bool,
    read: Option<Read>,
    /// The table's columns as of the commit being read: a file written before a
    /// column was added reads it as null.
    columns: Vec<String>,
}

impl DeltaLog {
    fn fail(&self, message: impl std::fmt::Display) -> EngineError {
        EngineError::Source {
            source_name: self.name.clone(),
            message: format!("Delta table {}: {message}", self.location.path.display()),
        }
    }

    fn listed(
        &self,
        path: &str,
        modified_ms: i64,
        mut partition: Vec<(String, Value)>,
        change: Option<Change>,
    ) -> Listed {
        // Columns the file may lack come last, as nulls (the decoder adds only those
        // a row lacks).
        let absent: Vec<(String, Value)> = self
            .columns
            .iter()
            .filter(|c| !partition.iter().any(|(k, _)| k == *c))
            .map(|c| (c.clone(), Value::Null))
            .collect();
        partition.extend(absent);
        // A change feed reads a file once per change (added, then removed): the
        // version makes each reading its own.
        let relative = match &change {
            Some(c) => format!("{path}@{}", c.version),
            None => path.to_string(),
        };
        partition.extend(change.map(Change::columns).unwrap_or_default());
        let file = match url::Url::parse(path)
            .ok()
            .and_then(|u| u.to_file_path().ok())
        {
            Some(absolute) => absolute,
            None => self.location.path.join(path),
        };
        Listed {
            path: file,
            relative,
            modified_ms,
            partition,
        }
    }

    /// The snapshot's files (oldest first, then by path) and the version after it;
    /// `None` when there is no table yet.
    fn snapshot(&mut self) -> Result<Option<(Vec<Listed>, u64)>> {
        if self.anchor.changes_from.is_some() || self.anchor.latest {
            let latest = self.location.open()?;
            if let Some(table) = &latest {
                self.columns = columns_of(&self.location, table)?;
            }
            if self.anchor.latest {
                // Fixed now, so that a restart starts where this run did.
                self.anchor.latest = false;
                self.anchor.changes_from =
                    Some(latest.and_then(|t| t.version()).map_or(0, |v| v + 1));
            }
            return Ok(self.anchor.changes_from.map(|from| (Vec::new(), from)));
        }
        let table = match self.anchor.snapshot {
            Some(v) => self.location.open_version(v)?,
            None => match self.location.open()? {
                Some(t) => t,
                None => return Ok(None),
            },
        };
        let version = table.version().unwrap_or(0);
        self.columns = columns_of(&self.location, &table)?;
        let change = if self.change_feed {
            let store = table.log_store();
            let actions = self.commit(store.as_ref(), version)?.unwrap_or_default();
            Some(Change {
                kind: Some("insert"),
                version,
                timestamp: commit_timestamp(&actions),
            })
        } else {
            None
        };
        let log = table
            .snapshot()
            .and_then(|s| s.snapshot().try_log_data())
            .map_err(|e| self.location.error("listing the snapshot's files", e))?;
        let mut files = Vec::new();
        for file in log.iter() {
            if file.deletion_vector_descriptor().is_some() {
                return Err(self.fail(format!(
                    "{} has a deletion vector, which this source does not apply",
                    file.path()
                )));
            }
            let partition = partition_of(file.partition_values_map());
            files.push(self.listed(
                &file.path(),
                file.modification_time(),
                partition,
                change.clone(),
            ));
        }
        files.sort_by(|a, b| (a.modified_ms, &a.relative).cmp(&(b.modified_ms, &b.relative)));
        Ok(Some((files, version + 1)))
    }

    /// The actions of commit `version`; `None` when it does not exist (yet).
    fn commit(
        &self,
        store: &dyn deltalake::logstore::LogStore,
        version: u64,
    ) -> Result<Option<Vec<Action>>> {
        let Some(bytes) = self
            .location
            .block_on(store.read_commit_entry(version))
            .map_err(|e| {
                self.location
                    .error(&format!("reading version {version}"), e)
            })?
        else {
            return Ok(None);
        };
        get_actions(version, &bytes).map(Some).map_err(|e| {
            self.location
                .error(&format!("reading version {version}"), e)
        })
    }

    /// Appends the files of every commit from `read.next` on.
    fn follow(&mut self, read: &mut Read) -> Result<()> {
        let store = DeltaTableBuilder::from_url(self.location.url.clone())
            .and_then(|b| b.build())
            .map_err(|e| self.location.error("opening the log", e))?
            .log_store();
        while read.last.is_none_or(|last| read.next <= last) {
            let version = read.next;
            let Some(actions) = self.commit(store.as_ref(), version)? else {
                break;
            };
            for action in &actions {
                if let Action::Metadata(m) = action {
                    let schema = m.parse_schema().map_err(|e| {
                        self.location
                            .error(&format!("reading version {version}'s schema"), e.into())
                    })?;
                    self.columns = schema.fields().map(|f| f.name().clone()).collect();
                }
            }
            let files = if self.change_feed {
                self.changes(version, actions)?
            } else {
                self.appends(version, actions)?
            };
            read.files.extend(files);
            read.next = version + 1;
        }
        Ok(())
    }

    fn no_deletion_vector(&self, path: &str, dv: bool) -> Result<()> {
        if dv {
            return Err(self.fail(format!(
                "{path} has a deletion vector, which this source does not apply"
            )));
        }
        Ok(())
    }

    /// The files a commit appends; a commit that removes data is an error unless
    /// change commits are skipped (then it gives nothing).
    fn appends(&self, version: u64, actions: Vec<Action>) -> Result<Vec<Listed>> {
        let changes = actions
            .iter()
            .any(|a| matches!(a, Action::Remove(r) if r.data_change));
        if changes && !self.skip_change_commits {
            return Err(self.fail(format!(
                "version {version} removes data (a delete, update or overwrite); the stream reads appends only: set skip_change_commits to skip such commits"
            )));
        }
        let mut files = Vec::new();
        if changes {
            return Ok(files);
        }
        for action in actions {
            if let Action::Add(add) = action {
                if !add.data_change {
                    continue;
                }
                self.no_deletion_vector(&add.path, add.deletion_vector.is_some())?;
                let partition = partition_of(add.partition_values);
                files.push(self.listed(&add.path, add.modification_time, partition, None));
            }
        }
        Ok(files)
    }

    /// A commit's changes: its change files when it has them, else its added files
    /// as inserts and removed files as deletes.
    fn changes(&self, version: u64, actions: Vec<Action>) -> Result<Vec<Listed>> {
        let timestamp = commit_timestamp(&actions);
        let change = |kind| {
            Some(Change {
                kind,
                version,
                timestamp,
            })
        };
        let has_change_files = actions.iter().any(|a| matches!(a, Action::Cdc(_)));
        let mut files = Vec::new();
        for action in actions {
            match action {
                Action::Cdc(cdc) if has_change_files => {
                    let partition = partition_of(cdc.partition_values);
                    files.push(self.listed(&cdc.path, timestamp, partition, change(None)));
                }
                Action::Add(add) if !has_change_files && add.data_change => {
                    self.no_deletion_vector(&add.path, add.deletion_vector.is_some())?;
                    let partition = partition_of(add.partition_values);
                    let insert = change(Some("insert"));
                    files.push(self.listed(&add.path, add.modification_time, partition, insert));
                }
                Action::Remove(remove) if !has_change_files && remove.data_change => {
                    self.no_deletion_vector(&remove.path, remove.deletion_vector.is_some())?;
                    let partition = partition_of(remove.partition_values.unwrap_or_default());
                    let delete = change(Some("delete"));
                    files.push(self.listed(&remove.path, timestamp, partition, delete));
                }
                _ => {}
            }
        }
        Ok(files)
    }
}

/// A file read as a change: its change type (`None`: the file holds a
/// `_change_type` column), commit version and commit time.
#[derive(Debug, Clone)]
struct Change {
    kind: Option<&'static str>,
    version: u64,
    timestamp: i64,
}

impl Change {
    /// The change columns every row of the file gets.
    fn columns(self) -> Vec<(String, Value)> {
        let mut columns = Vec::new();
        if let Some(kind) = self.kind {
            columns.push(("_change_type".to_string(), Value::from(kind)));
        }
        columns.push((
            "_commit_version".to_string(),
            Value::Int(i64::try_from(self.version).unwrap_or(i64::MAX)),
        ));
        let time = chrono::DateTime::from_timestamp_millis(self.timestamp)
            .map_or(Value::Null, |t| {
                Value::Str(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            });
        columns.push(("_commit_timestamp".to_string(), time));
        columns
    }
}

/// When a commit was made (its commit info's in-commit or wall-clock timestamp).
fn commit_timestamp(actions: &[Action]) -> i64 {
    actions
        .iter()
        .find_map(|a| match a {
            Action::CommitInfo(ci) => ci.in_commit_timestamp.or(ci.timestamp),
            _ => None,
        })
        .unwrap_or(0)
}

/// The table's column names.
fn columns_of(location: &TableLocation, table: &deltalake::DeltaTable) -> Result<Vec<String>> {
    Ok(table
        .snapshot()
        .map_err(|e| location.error("reading the schema", e))?
        .snapshot()
        .arrow_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect())
}

fn partition_of(values: std::collections::HashMap<String, Option<String>>) -> Vec<(String, Value)> {
    let mut columns: Vec<(String, Value)> = values
        .into_iter()
        .map(|(k, v)| (k, v.as_deref().map_or(Value::Null, partition_value)))
        .collect();
    columns.sort_by(|a, b| a.0.cmp(&b.0));
    columns
}

impl Catalog for DeltaLog {
    fn list(&mut self) -> Result<Vec<Listed>> {
        if self.read.is_none() {
            let Some((files, next)) = self.snapshot()? else {
                if self.stream {
                    return Ok(Vec::new());
                }
                return Err(self.fail("no Delta table here (no _delta_log)"));
            };
            // A bounded read stops at the version current at start.
            let last = if self.stream {
                None
            } else {
                let latest = self
                    .location
                    .open()?
                    .and_then(|t| t.version())
                    .unwrap_or(next.saturating_sub(1));
                Some(self.latest_at_start.unwrap_or(latest))
            };
            // The snapshot is fixed now: a restart rebuilds the same listing.
            if self.anchor.changes_from.is_none() {
                self.anchor.snapshot = Some(next.saturating_sub(1));
            }
            self.read = Some(Read { files, next, last });
        }
        let mut read = self.read.take().unwrap_or(Read {
            files: Vec::new(),
            next: 0,
            last: None,
        });
        let followed = self.follow(&mut read);
        let files = read.files.clone();
        self.read = Some(read);
        followed.map(|()| files)
    }

    fn position(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self.anchor).ok()
    }

    fn restore(&mut self, position: serde_json::Value) -> Result<()> {
        self.anchor = serde_json::from_value(position)
            .map_err(|e| self.fail(format!("unreadable checkpointed position: {e}")))?;
        self.read = None;
        Ok(())
    }
}
