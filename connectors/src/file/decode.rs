//! One file's records, read incrementally: JSON lines and CSV line by line (a line
//! that does not read is a dead letter naming the file and line), Parquet a record
//! batch at a time through arrow (a file that does not read is an error naming it).
//! Hive partition columns are appended to each row.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tidewater_engine::dead_letter::{DeadLetter, Origin};
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::row::{Row, Schema, Value};
use tidewater_formats::{infer_cell, json_object_fields, FileFormat, ParquetRows, RowBuilder};

use crate::rows::{typed_cell, JsonRows};

/// CSV dialect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsvOptions {
    /// The first line names the columns (else `_c0`, `_c1`, ... as Spark names them).
    pub header: bool,
    /// Field separator.
    pub delimiter: char,
    /// Quote character.
    pub quote: char,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: true,
            delimiter: ',',
            quote: '"',
        }
    }
}

/// One decoded record: a row, or what could not be read.
pub(crate) type Decoded = std::result::Result<Row, DeadLetter>;

/// How a file's records are read.
#[derive(Debug, Clone)]
pub(crate) struct Decoder {
    pub format: FileFormat,
    pub schema: Option<Arc<Schema>>,
    pub csv: CsvOptions,
}

fn letter(path: &Path, line: u64, error: impl Into<String>, payload: &[u8]) -> DeadLetter {
    let origin = Origin::File {
        path: path.display().to_string(),
        line,
    };
    DeadLetter::new(origin, error, payload.to_vec())
}

impl Decoder {
    /// Opens the file at `path` to read its records a chunk at a time, with
    /// `partition` columns appended to each row (those a row lacks).
    pub fn open(&self, path: &Path, partition: &[(String, Value)]) -> Result<FileRecords> {
        let open = |path: &Path| {
            std::fs::File::open(path)
                .map(BufReader::new)
                .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))
        };
        let kind = match self.format {
            FileFormat::JsonLines => Kind::JsonLines {
                lines: open(path)?.split(b'\n'),
                line: 0,
                rows: self
                    .schema
                    .as_ref()
                    .map(|s| JsonRows::new(Schema::clone(s))),
            },
            FileFormat::Csv => self.csv(path, open(path)?)?,
            FileFormat::Parquet => Kind::Parquet(ParquetRows::open(path, PARQUET_BATCH)?),
        };
        Ok(FileRecords {
            path: path.to_path_buf(),
            partition: partition.to_vec(),
            schema: self.schema.clone(),
            builder: RowBuilder::default(),
            kind,
            surplus: std::collections::VecDeque::new(),
            ended: false,
        })
    }

    fn csv(&self, path: &Path, file: BufReader<File>) -> Result<Kind> {
        let ascii = |c: char, what: &str| {
            u8::try_from(c).map_err(|_| {
                EngineError::invalid("file_source", what, "an ASCII character", c.to_string())
            })
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(ascii(self.csv.delimiter, "csv.delimiter")?)
            .quote(ascii(self.csv.quote, "csv.quote")?)
            .from_reader(file);
        let mut records = reader.into_byte_records();
        let mut names: Option<Vec<String>> = self
            .schema
            .as_ref()
            .map(|s| s.names().map(String::from).collect());
        if self.csv.header {
            match records.next() {
                Some(Ok(h)) => {
                    names = Some(
                        h.iter()
                            .map(|f| String::from_utf8_lossy(f).into_owned())
                            .collect(),
                    )
                }
                Some(Err(e)) => {
                    return Err(EngineError::external(
                        format!("reading the header of {}", path.display()),
                        e,
                    ))
                }
                None => {}
            }
        }
        Ok(Kind::Csv { records, names })
    }
}

/// Parquet rows are decoded this many at a time.
const PARQUET_BATCH: usize = 8192;

enum Kind {
    JsonLines {
        lines: std::io::Split<BufReader<File>>,
        line: u64,
        rows: Option<JsonRows>,
    },
    Csv {
        records: csv::ByteRecordsIntoIter<BufReader<File>>,
        /// The header's names, else the declared schema's; else `_c0`, `_c1`, ...
        names: Option<Vec<String>>,
    },
    Parquet(ParquetRows),
}

/// The records of one open file, read a chunk at a time so that a file larger than
/// memory streams through.
pub(crate) struct FileRecords {
    path: PathBuf,
    partition: Vec<(String, Value)>,
    schema: Option<Arc<Schema>>,
    builder: RowBuilder,
    kind: Kind,
    /// Decoded beyond what was asked for (the rest of a Parquet batch).
    surplus: std::collections::VecDeque<Decoded>,
    /// The file has no more to decode.
    ended: bool,
}

impl FileRecords {
    /// Whether every record has been read.
    pub fn ended(&self) -> bool {
        self.ended && self.surplus.is_empty()
    }

    /// Appends up to `max` records to `out` (fewer only at the end of the file).
    pub fn read(&mut self, max: usize, out: &mut Vec<Decoded>) -> Result<()> {
        let start = out.len();
        let max = max.max(1);
        let from_surplus = max.min(self.surplus.len());
        out.extend(self.surplus.drain(..from_surplus));
        while out.len() - start < max && !self.ended {
            let before = out.len();
            if !self.next_records(out)? {
                self.ended = true;
            }
            self.add_partition(&mut out[before..]);
        }
        if out.len() - start > max {
            // The rest of a Parquet batch waits for the next read.
            self.surplus.extend(out.drain(start + max..));
        }
        Ok(())
    }

    /// Appends the partition columns a row lacks.
    fn add_partition(&self, records: &mut [Decoded]) {
        if self.partition.is_empty() {
            return;
        }
        for row in records.iter_mut().flatten() {
            let missing: Vec<(&str, Value)> = self
                .partition
                .iter()
                .filter(|(k, _)| row.get(k).is_none())
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            if !missing.is_empty() {
                *row = row.clone().with_fields(missing);
            }
        }
    }

    /// Passes over `n` records (a restart continuing a file).
    pub fn skip(&mut self, n: u64) -> Result<()> {
        let mut skipped = 0u64;
        let mut scratch = Vec::new();
        while skipped < n && !self.ended() {
            scratch.clear();
            let want = (n - skipped).min(PARQUET_BATCH as u64) as usize;
            self.read(want, &mut scratch)?;
            skipped += scratch.len() as u64;
        }
        Ok(())
    }

    /// Reads the next record(s) into `out`; false at the end of the file.
    fn next_records(&mut self, out: &mut Vec<Decoded>) -> Result<bool> {
        let path = &self.path;
        match &mut self.kind {
            Kind::JsonLines { lines, line, rows } => loop {
                let Some(next) = lines.next() else {
                    return Ok(false);
                };
                let text =
                    next.map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
                *line += 1;
                let text = text.strip_suffix(b"\r").unwrap_or(&text);
                if text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let record = match rows {
                    Some(r) => r.parse(text),
                    None => free_row(text, &mut self.builder),
                };
                out.push(record.map_err(|e| letter(path, *line, e, text)));
                return Ok(true);
            },
            Kind::Csv { records, names } => {
                let Some(record) = records.next() else {
                    return Ok(false);
                };
                out.push(csv_record(
                    path,
                    record,
                    names.as_deref(),
                    self.schema.as_deref(),
                    &mut self.builder,
                ));
                Ok(true)
            }
            Kind::Parquet(batches) => match batches.next() {
                None => Ok(false),
                Some(rows) => {
                    out.extend(rows?.into_iter().map(Ok));
                    Ok(true)
                }
            },
        }
    }
}

/// One CSV record as a row, or a dead letter naming the line.
fn csv_record(
    path: &Path,
    record: std::result::Result<csv::ByteRecord, csv::Error>,
    names: Option<&[String]>,
    schema: Option<&Schema>,
    builder: &mut RowBuilder,
) -> Decoded {
    let record = match record {
        Ok(r) => r,
        Err(e) => {
            let line = e.position().map_or(0, |p| p.line());
            return Err(letter(path, line, e.to_string(), b""));
        }
    };
    let line = record.position().map_or(0, |p| p.line());
    let raw = record.as_slice().to_vec();
    let generated: Vec<String>;
    let names = match names {
        Some(n) => n,
        None => {
            generated = (0..record.len()).map(|i| format!("_c{i}")).collect();
            &generated
        }
    };
    if record.len() != names.len() {
        let error = format!("expected {} fields, found {}", names.len(), record.len());
        return Err(letter(path, line, error, &raw));
    }
    let mut cells = Vec::with_capacity(names.len());
    for (name, bytes) in names.iter().zip(record.iter()) {
        let text = String::from_utf8_lossy(bytes);
        let declared = schema.and_then(|s| {
            s.fields
                .iter()
                .find(|f| &f.name == name)
                .map(|f| f.data_type)
        });
        match declared {
            Some(t) => match typed_cell(&text, t) {
                Ok(v) => cells.push((name.clone(), v)),
                Err(e) => return Err(letter(path, line, format!("field `{name}`: {e}"), &raw)),
            },
            None => cells.push((name.clone(), infer_cell(&text))),
        }
    }
    Ok(builder.build(cells))
}

/// A JSON object as a row of its own fields (no schema).
fn free_row(line: &[u8], rows: &mut RowBuilder) -> std::result::Result<Row, String> {
    Ok(rows.build(json_object_fields(line)?))
}

#[cfg(test)]
mod tests {
    use tidewater_formats::write_rows;

    use super::*;

    fn ids(records: &[Decoded]) -> Vec<i64> {
        records
            .iter()
            .map(|r| {
                r.as_ref()
                    .unwrap()
                    .get("id")
                    .and_then(Value::as_i64)
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn a_file_reads_in_chunks_and_continues_after_a_skip() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Row> = (0..20_000)
            .map(|i| Row::from_pairs([("id", Value::Int(i))]))
            .collect();
        for format in [FileFormat::JsonLines, FileFormat::Csv, FileFormat::Parquet] {
            let path = dir.path().join(format!("t.{}", format.extension()));
            write_rows(&path, format, &rows).unwrap();
            let decoder = Decoder {
                format,
                schema: None,
                csv: CsvOptions::default(),
            };
            let partition = [("dt".to_string(), Value::from("d"))];
            let mut file = decoder.open(&path, &partition).unwrap();
            let mut first = Vec::new();
            file.read(100, &mut first).unwrap();
            assert_eq!(first.len(), 100, "{format:?}");
            assert_eq!(
                first[0].as_ref().unwrap().get("dt"),
                Some(&Value::from("d"))
            );
            let mut file = decoder.open(&path, &partition).unwrap();
            file.skip(12_345).unwrap();
            let mut rest = Vec::new();
            while !file.ended() {
                file.read(1_000, &mut rest).unwrap();
            }
            let rest = ids(&rest);
            assert_eq!(
                (rest.len(), rest.first(), rest.last()),
                (7_655, Some(&12_345), Some(&19_999)),
                "{format:?}"
            );
            assert!(rest.windows(2).all(|w| w[1] == w[0] + 1), "{format:?}");
        }
    }
}
