//! One file written incrementally, for sinks that roll files by size.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{new_null_array, ArrayRef, RecordBatch};
use arrow_schema::{DataType as ArrowType, SchemaRef};
use parquet::arrow::ArrowWriter;
use tidewater_engine::row::Row;

use super::arrow_rows::rows_to_batch;
use super::columns::{column_types, text};
use super::{FileFormat, FormatError};

/// A `Write` that counts the bytes it passes on.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    // serde_json writes a row as many small pieces: forwarding them whole keeps
    // `BufWriter`'s copy-into-buffer fast path (the default loops over `write`).
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(buf)?;
        self.bytes += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

enum Inner {
    JsonLines(Counting<BufWriter<File>>),
    Csv {
        out: csv::Writer<Counting<BufWriter<File>>>,
        columns: Vec<String>,
    },
    Parquet {
        out: ArrowWriter<File>,
        schema: SchemaRef,
    },
}

/// Writes rows into one file of `format`, a chunk at a time, and tells how big it
/// has grown. A CSV file's header and a Parquet file's columns are those of the first
/// chunk; a later chunk that does not fit them (other columns, or a type the file's
/// column cannot hold without loss) is refused with `Ok(false)`, and the caller starts
/// another file. Integers fit a float column, and a column of nulls fits any column.
///
/// ```
/// use tidewater_engine::row::{Row, Value};
/// use tidewater_formats::{read_rows, FileFormat, RowFileWriter};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("t.parquet");
/// let mut w = RowFileWriter::create(&path, FileFormat::Parquet).unwrap();
/// assert!(w.write(&[Row::from_pairs([("x", Value::Float(0.5))])]).unwrap());
/// assert!(w.write(&[Row::from_pairs([("x", Value::Int(2))])]).unwrap());
/// assert!(!w.write(&[Row::from_pairs([("y", Value::Int(3))])]).unwrap());
/// w.close().unwrap();
/// let xs: Vec<Value> = read_rows(&path, FileFormat::Parquet).unwrap().iter().map(|r| r.get("x").cloned().unwrap()).collect();
/// assert_eq!(xs, vec![Value::Float(0.5), Value::Float(2.0)]);
/// ```
pub struct RowFileWriter {
    path: PathBuf,
    format: FileFormat,
    inner: Option<Inner>,
    rows: u64,
}

impl RowFileWriter {
    /// Creates (or replaces) the file at `path`; nothing is written until the first
    /// chunk.
    pub fn create(path: impl AsRef<Path>, format: FileFormat) -> Result<Self, FormatError> {
        Ok(RowFileWriter {
            path: path.as_ref().to_path_buf(),
            format,
            inner: None,
            rows: 0,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes written so far (for Parquet, the encoded size including the row group
    /// in progress).
    pub fn bytes(&self) -> u64 {
        match &self.inner {
            None => 0,
            Some(Inner::JsonLines(out)) => out.bytes,
            Some(Inner::Csv { out, .. }) => out.get_ref().bytes,
            Some(Inner::Parquet { out, .. }) => {
                (out.bytes_written() + out.in_progress_size()) as u64
            }
        }
    }

    fn open(&self) -> Result<BufWriter<File>, FormatError> {
        File::create(&self.path)
            .map(BufWriter::new)
            .map_err(|e| FormatError::io(&self.path, e))
    }

    /// Appends `rows`; `Ok(false)` (nothing written) when they do not fit the file's
    /// columns.
    pub fn write(&mut self, rows: &[Row]) -> Result<bool, FormatError> {
        if rows.is_empty() {
            return Ok(true);
        }
        if self.inner.is_none() {
            self.inner = Some(self.start(rows)?);
        }
        let path = self.path.clone();
        let written = match self.inner.as_mut() {
            Some(Inner::JsonLines(out)) => {
                for row in rows {
                    serde_json::to_writer(&mut *out, row)
                        .map_err(|e| FormatError::malformed(&path, 0, e))?;
                    out.write_all(b"\n")
                        .map_err(|e| FormatError::io(&path, e))?;
                }
                true
            }
            Some(Inner::Csv { out, columns }) => {
                let fits = rows.iter().all(|r| {
                    r.schema().len() == columns.len()
                        && r.schema().names().zip(columns.iter()).all(|(a, b)| a == b)
                });
                if fits {
                    for row in rows {
                        let cells = columns
                            .iter()
                            .map(|n| row.get(n).and_then(text).unwrap_or_default());
                        out.write_record(cells)
                            .map_err(|e| FormatError::malformed(&path, 0, e))?;
                    }
                }
                fits
            }
            Some(Inner::Parquet { out, schema }) => match conform(rows, schema) {
                Some(batch) => {
                    out.write(&batch)
                        .map_err(|e| FormatError::malformed(&path, 0, e))?;
                    true
                }
                None => false,
            },
            None => false,
        };
        if written {
            self.rows += rows.len() as u64;
        }
        Ok(written)
    }

    fn start(&self, rows: &[Row]) -> Result<Inner, FormatError> {
        Ok(match self.format {
            FileFormat::JsonLines => Inner::JsonLines(Counting {
                inner: self.open()?,
                bytes: 0,
            }),
            FileFormat::Csv => {
                let columns: Vec<String> = column_types(rows).into_iter().map(|(n, _)| n).collect();
                let mut out = csv::Writer::from_writer(Counting {
                    inner: self.open()?,
                    bytes: 0,
                });
                out.write_record(&columns)
                    .map_err(|e| FormatError::malformed(&self.path, 1, e))?;
                Inner::Csv { out, columns }
            }
            FileFormat::Parquet => {
                let schema = rows_to_batch(rows)
                    .map_err(|e| FormatError::malformed(&self.path, 0, e))?
                    .schema();
                let file = File::create(&self.path).map_err(|e| FormatError::io(&self.path, e))?;
                let out = ArrowWriter::try_new(file, schema.clone(), None)
                    .map_err(|e| FormatError::malformed(&self.path, 0, e))?;
                Inner::Parquet { out, schema }
            }
        })
    }

    /// Pushes buffered JSON lines and CSV rows to the file, so that readers see every
    /// complete row written so far (a Parquet file is readable only once closed).
    pub fn flush(&mut self) -> Result<(), FormatError> {
        let path = &self.path;
        match self.inner.as_mut() {
            Some(Inner::JsonLines(out)) => out.flush().map_err(|e| FormatError::io(path, e)),
            Some(Inner::Csv { out, .. }) => out.flush().map_err(|e| FormatError::io(path, e)),
            Some(Inner::Parquet { .. }) | None => Ok(()),
        }
    }

    /// Finishes the file (a Parquet footer, buffers flushed); returns its size in
    /// bytes. A writer that was given no rows writes an empty file (JSON lines) or
    /// none.
    pub fn close(self) -> Result<u64, FormatError> {
        let path = self.path;
        match self.inner {
            None => {
                if self.format == FileFormat::JsonLines {
                    File::create(&path).map_err(|e| FormatError::io(&path, e))?;
                }
                return Ok(0);
            }
            Some(Inner::JsonLines(mut out)) => {
                out.flush().map_err(|e| FormatError::io(&path, e))?
            }
            Some(Inner::Csv { mut out, .. }) => {
                out.flush().map_err(|e| FormatError::io(&path, e))?
            }
            Some(Inner::Parquet { out, .. }) => {
                out.close()
                    .map_err(|e| FormatError::malformed(&path, 0, e))?;
            }
        }
        std::fs::metadata(&path)
            .map(|m| m.len())
            .map_err(|e| FormatError::io(&path, e))
    }
}

/// The rows as a batch of the file's columns, or `None` when they do not fit.
fn conform(rows: &[Row], schema: &SchemaRef) -> Option<RecordBatch> {
    let natural = rows_to_batch(rows).ok()?;
    if natural
        .schema()
        .fields()
        .iter()
        .any(|f| schema.field_with_name(f.name()).is_err())
    {
        return None;
    }
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let Some(column) = natural.column_by_name(field.name()) else {
                return Some(new_null_array(field.data_type(), natural.num_rows()));
            };
            match (column.data_type(), field.data_type()) {
                (a, b) if a == b => Some(column.clone()),
                _ if column.null_count() == column.len() => {
                    Some(new_null_array(field.data_type(), column.len()))
                }
                (ArrowType::Int64, ArrowType::Float64) => {
                    let ints = column.as_any().downcast_ref::<arrow_array::Int64Array>()?;
                    let floats: arrow_array::Float64Array =
                        ints.iter().map(|v| v.map(|i| i as f64)).collect();
                    Some(Arc::new(floats) as ArrayRef)
                }
                _ => None,
            }
        })
        .collect::<Option<Vec<ArrayRef>>>()?;
    RecordBatch::try_new(schema.clone(), columns).ok()
}
