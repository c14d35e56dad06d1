//! When a sink's part file is finished and the next begins.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::row::Row;
use tidewater_formats::{FileFormat, RowFileWriter};

/// Limits after which a part file is finished and the next one begun (Flink's rolling
/// policy, Spark's `maxRecordsPerFile`). A transactional file also ends at every
/// checkpoint; a direct one at every barrier and at the end of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollingPolicy {
    /// Finish a file once it holds this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_file_bytes: Option<u64>,
    /// Finish a file once it holds this many rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_records_per_file: Option<u64>,
    /// Finish a direct-mode file this long after it was begun.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_ms")]
    pub rollover_interval: Option<Duration>,
}

mod opt_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// Rows are written in chunks of at most this many, so that size limits are checked
/// as a file grows.
const CHUNK: u64 = 4096;

impl RollingPolicy {
    /// True when no limit is set.
    pub fn is_unlimited(&self) -> bool {
        *self == RollingPolicy::default()
    }

    /// Whether `file`, begun at `opened`, is done.
    fn full(&self, file: &RowFileWriter) -> bool {
        self.max_file_bytes.is_some_and(|max| file.bytes() >= max)
            || self
                .max_records_per_file
                .is_some_and(|max| file.rows() >= max)
    }

    /// Whether a file begun at `opened` is due to end at `now` (clock ms).
    fn expired(&self, opened: i64, now: i64) -> bool {
        self.rollover_interval
            .is_some_and(|d| now.saturating_sub(opened) >= d.as_millis() as i64)
    }

    /// How many rows to write next: no more than the record limit leaves room for,
    /// and, under a size limit, about as many as the bytes left hold at the file's
    /// bytes per row so far (one row to begin with, to learn it).
    fn chunk(&self, file: &RowFileWriter) -> usize {
        let mut n = CHUNK;
        if let Some(max) = self.max_records_per_file {
            n = n.min(max.saturating_sub(file.rows()).max(1));
        }
        if let Some(max) = self.max_file_bytes {
            n = match file.bytes().checked_div(file.rows()) {
                Some(per_row) if per_row > 0 => {
                    n.min((max.saturating_sub(file.bytes()) / per_row).max(1))
                }
                _ => 1,
            };
        }
        n as usize
    }
}

fn failed(path: &Path, e: impl std::fmt::Display) -> EngineError {
    EngineError::Sink {
        sink: "file_sink".into(),
        message: format!("{}: {e}", path.display()),
    }
}

/// A part file being written, and when it was begun.
pub(crate) struct OpenPart {
    pub file: RowFileWriter,
    /// When it was begun (the pipeline clock's ms).
    pub opened: i64,
}

/// Writes rows into a sequence of part files `name(seq)` in `folder`, finishing one
/// and beginning the next by `policy` (and when rows do not fit a file's columns).
pub(crate) struct RollingWriter<'a> {
    pub folder: &'a Path,
    pub format: FileFormat,
    pub policy: RollingPolicy,
    /// The file name of the `seq`th file.
    pub name: &'a dyn Fn(u64) -> String,
    /// The pipeline clock's time now (ms): files begin now, and expire by it.
    pub now_ms: i64,
}

impl RollingWriter<'_> {
    fn begin(&self, seq: &mut u64) -> Result<OpenPart> {
        std::fs::create_dir_all(self.folder).map_err(|e| failed(self.folder, e))?;
        let path = self.folder.join((self.name)(*seq));
        *seq += 1;
        let file = RowFileWriter::create(&path, self.format).map_err(|e| failed(&path, e))?;
        Ok(OpenPart {
            file,
            opened: self.now_ms,
        })
    }

    /// Appends `rows` to `open` (beginning files as needed, `seq` numbering them);
    /// every file finished on the way is closed and returned.
    pub fn write(
        &self,
        open: &mut Option<OpenPart>,
        seq: &mut u64,
        mut rows: &[Row],
    ) -> Result<Vec<PathBuf>> {
        let mut finished = Vec::new();
        while !rows.is_empty() {
            if open
                .as_ref()
                .is_some_and(|p| self.policy.expired(p.opened, self.now_ms))
            {
                finished.extend(close(open.take())?);
            }
            let part = match open {
                Some(part) => part,
                None => open.insert(self.begin(seq)?),
            };
            let n = self.policy.chunk(&part.file).min(rows.len());
            let fits = part
                .file
                .write(&rows[..n])
                .map_err(|e| failed(part.file.path(), e))?;
            if !fits {
                finished.extend(close(open.take())?);
                continue;
            }
            rows = &rows[n..];
            if self.policy.full(&part.file) {
                finished.extend(close(open.take())?);
            }
        }
        Ok(finished)
    }

    /// Writes `rows` into as many new files as the policy asks; all are finished.
    pub fn write_all(&self, seq: &mut u64, rows: &[Row]) -> Result<Vec<PathBuf>> {
        let mut open = None;
        let mut files = self.write(&mut open, seq, rows)?;
        files.extend(close(open)?);
        Ok(files)
    }

    /// Whether `open` has been open longer than the policy allows.
    pub fn expired(&self, open: &Option<OpenPart>) -> bool {
        open.as_ref()
            .is_some_and(|p| self.policy.expired(p.opened, self.now_ms))
    }
}

/// Finishes a part file; its path.
pub(crate) fn close(open: Option<OpenPart>) -> Result<Option<PathBuf>> {
    let Some(part) = open else {
        return Ok(None);
    };
    let path = part.file.path().to_path_buf();
    part.file.close().map_err(|e| failed(&path, e))?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use tidewater_engine::row::Value;
    use tidewater_formats::read_rows;

    use super::*;

    fn rows(n: i64) -> Vec<Row> {
        (0..n)
            .map(|i| Row::from_pairs([("id", Value::Int(i)), ("text", Value::Str("x".repeat(20)))]))
            .collect()
    }

    /// (format, policy, rows, rows per file expected)
    type Case = (FileFormat, RollingPolicy, i64, Vec<usize>);

    #[test]
    fn files_roll_by_records_and_by_size() {
        let records = |n| RollingPolicy {
            max_records_per_file: Some(n),
            ..RollingPolicy::default()
        };
        let bytes = |n| RollingPolicy {
            max_file_bytes: Some(n),
            ..RollingPolicy::default()
        };
        let cases: Vec<Case> = vec![
            (
                FileFormat::JsonLines,
                RollingPolicy::default(),
                10,
                vec![10],
            ),
            (FileFormat::JsonLines, records(4), 10, vec![4, 4, 2]),
            (FileFormat::Csv, records(5), 10, vec![5, 5]),
            (FileFormat::Parquet, records(3), 7, vec![3, 3, 1]),
            // each line is 39 bytes: a file ends with the row that reaches the limit
            (FileFormat::JsonLines, bytes(100), 10, vec![3, 3, 3, 1]),
            (FileFormat::JsonLines, bytes(1), 3, vec![1, 1, 1]),
            (FileFormat::Csv, bytes(10_000), 10, vec![10]),
        ];
        for (i, (format, policy, n, expected)) in cases.into_iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let name = |seq: u64| format!("part-{seq:03}.{}", format.extension());
            let writer = RollingWriter {
                folder: dir.path(),
                format,
                policy,
                name: &name,
                now_ms: 0,
            };
            let files = writer.write_all(&mut 0, &rows(n)).unwrap();
            let counts: Vec<usize> = files
                .iter()
                .map(|f| read_rows(f, format).unwrap().len())
                .collect();
            assert_eq!(counts, expected, "case {i}");
        }
    }

    #[test]
    fn rows_that_do_not_fit_a_files_columns_begin_another() {
        let dir = tempfile::tempdir().unwrap();
        let name = |seq: u64| format!("part-{seq}.parquet");
        let writer = RollingWriter {
            folder: dir.path(),
            format: FileFormat::Parquet,
            policy: RollingPolicy::default(),
            name: &name,
            now_ms: 0,
        };
        let mut open = None;
        let mut seq = 0;
        let a = [Row::from_pairs([("x", Value::Int(1))])];
        let b = [Row::from_pairs([("x", Value::from("text"))])];
        assert!(writer.write(&mut open, &mut seq, &a).unwrap().is_empty());
        let finished = writer.write(&mut open, &mut seq, &b).unwrap();
        assert_eq!(finished, vec![dir.path().join("part-0.parquet")]);
        assert_eq!(
            close(open).unwrap(),
            Some(dir.path().join("part-1.parquet"))
        );
    }
}
