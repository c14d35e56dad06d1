//! One file's records: JSON lines and CSV line by line (a line that does not read is a
//! dead letter naming the file and line), Parquet through arrow (a file that does not
//! read is an error naming it). Hive partition columns are appended to each row.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tidewater_engine::dead_letter::{DeadLetter, Origin};
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::row::{Row, Schema, Value};
use tidewater_formats::RowBuilder;
use tidewater_formats::{infer_cell, json_object_fields, read_rows, FileFormat};

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
    /// Every record of the file at `path`, with `partition` columns appended.
    pub fn read(&self, path: &Path, partition: &[(String, Value)]) -> Result<Vec<Decoded>> {
        let records = match self.format {
            FileFormat::JsonLines => self.json_lines(path)?,
            FileFormat::Csv => self.csv(path)?,
            FileFormat::Parquet => read_rows(path, FileFormat::Parquet)?
                .into_iter()
                .map(Ok)
                .collect(),
        };
        if partition.is_empty() {
            return Ok(records);
        }
        Ok(records
            .into_iter()
            .map(|r| {
                r.map(|row| {
                    let missing: Vec<(&str, Value)> = partition
                        .iter()
                        .filter(|(k, _)| row.get(k).is_none())
                        .map(|(k, v)| (k.as_str(), v.clone()))
                        .collect();
                    if missing.is_empty() {
                        row
                    } else {
                        row.with_fields(missing)
                    }
                })
            })
            .collect())
    }

    fn json_lines(&self, path: &Path) -> Result<Vec<Decoded>> {
        let file = std::fs::File::open(path)
            .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
        let rows = self
            .schema
            .as_ref()
            .map(|s| JsonRows::new(Schema::clone(s)));
        let mut builder = RowBuilder::default();
        let mut out = Vec::new();
        for (i, line) in BufReader::new(file).split(b'\n').enumerate() {
            let line =
                line.map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let n = i as u64 + 1;
            let record = match &rows {
                Some(r) => r.parse(line),
                None => free_row(line, &mut builder),
            };
            out.push(record.map_err(|e| letter(path, n, e, line)));
        }
        Ok(out)
    }

    fn csv(&self, path: &Path) -> Result<Vec<Decoded>> {
        let file = std::fs::File::open(path)
            .map_err(|e| EngineError::io(format!("reading {}", path.display()), e))?;
        let ascii = |c: char, what: &str| {
            u8::try_from(c).map_err(|_| {
                EngineError::invalid("file_source", what, "an ASCII character", c.to_string())
            })
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(ascii(self.csv.delimiter, "csv.delimiter")?)
            .quote(ascii(self.csv.quote, "csv.quote")?)
            .from_reader(BufReader::new(file));
        let mut records = reader.byte_records();
        let mut header: Option<Vec<String>> = None;
        if self.csv.header {
            match records.next() {
                Some(Ok(h)) => {
                    header = Some(
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
                None => return Ok(Vec::new()),
            }
        }
        let mut builder = RowBuilder::default();
        let mut out = Vec::new();
        for record in records {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    out.push(Err(letter(path, line, e.to_string(), b"")));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            let raw = record.as_slice().to_vec();
            let names: Vec<String> = match (&header, &self.schema) {
                (Some(h), _) => h.clone(),
                (None, Some(s)) => s.names().map(String::from).collect(),
                (None, None) => (0..record.len()).map(|i| format!("_c{i}")).collect(),
            };
            if record.len() != names.len() {
                let error = format!("expected {} fields, found {}", names.len(), record.len());
                out.push(Err(letter(path, line, error, &raw)));
                continue;
            }
            let mut cells = Vec::with_capacity(names.len());
            let mut problem = None;
            for (name, bytes) in names.iter().zip(record.iter()) {
                let text = String::from_utf8_lossy(bytes);
                let declared = self.schema.as_ref().and_then(|s| {
                    s.fields
                        .iter()
                        .find(|f| &f.name == name)
                        .map(|f| f.data_type)
                });
                match declared {
                    Some(t) => match typed_cell(&text, t) {
                        Ok(v) => cells.push((name.clone(), v)),
                        Err(e) => {
                            problem = Some(format!("field `{name}`: {e}"));
                            break;
                        }
                    },
                    None => cells.push((name.clone(), infer_cell(&text))),
                }
            }
            out.push(match problem {
                Some(e) => Err(letter(path, line, e, &raw)),
                None => Ok(builder.build(cells)),
            });
        }
        Ok(out)
    }
}

/// A JSON object as a row of its own fields (no schema).
fn free_row(line: &[u8], rows: &mut RowBuilder) -> std::result::Result<Row, String> {
    Ok(rows.build(json_object_fields(line)?))
}
