//! # tidewater-formats
//!
//! One implementation of each file format Tidewater reads and writes, for dynamic
//! [`Row`]s: JSON lines, CSV (with a header) and Parquet (through the `arrow` and
//! `parquet` crates). The generators' file drops and the file connectors share it.
//!
//! ```
//! use tidewater_engine::row::{Row, Value};
//! use tidewater_formats::{read_rows, write_rows, FileFormat};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let rows = vec![
//!     Row::from_pairs([("id", Value::Int(1)), ("name", Value::from("ann")), ("score", Value::Float(2.5))]),
//!     Row::from_pairs([("id", Value::Int(2)), ("name", Value::Null), ("score", Value::Float(4.0))]),
//! ];
//! for format in [FileFormat::JsonLines, FileFormat::Csv, FileFormat::Parquet] {
//!     let path = dir.path().join(format!("t.{}", format.extension()));
//!     write_rows(&path, format, &rows).unwrap();
//!     assert_eq!(read_rows(&path, format).unwrap(), rows);
//! }
//! ```
#![deny(missing_docs)]

pub mod arrow_rows;
mod columns;
mod csv_format;
mod error;
mod jsonl;
mod parquet_format;
pub use parquet_format::ParquetRows;
mod row_builder;
mod writer;

pub use csv_format::infer_cell;
pub use error::FormatError;
pub use jsonl::json_object_fields;
pub use row_builder::RowBuilder;
pub use writer::RowFileWriter;

use std::path::Path;

use serde::{Deserialize, Serialize};
use tidewater_engine::row::Row;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Apache Parquet (snappy-compressed).
    Parquet,
    /// Comma separated values with a header line.
    Csv,
    /// One JSON object per line.
    #[serde(alias = "jsonl")]
    JsonLines,
}

impl FileFormat {
    /// The usual file extension.
    pub fn extension(&self) -> &'static str {
        match self {
            FileFormat::Parquet => "parquet",
            FileFormat::Csv => "csv",
            FileFormat::JsonLines => "jsonl",
        }
    }
}

impl std::str::FromStr for FileFormat {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, FormatError> {
        match s {
            "parquet" => Ok(FileFormat::Parquet),
            "csv" => Ok(FileFormat::Csv),
            "jsonl" | "json" | "json_lines" | "ndjson" => Ok(FileFormat::JsonLines),
            other => Err(FormatError::UnknownFormat(other.to_string())),
        }
    }
}

/// Writes `rows` to `path` (creating or replacing it); returns the bytes written.
pub fn write_rows(
    path: impl AsRef<Path>,
    format: FileFormat,
    rows: &[Row],
) -> Result<u64, FormatError> {
    let path = path.as_ref();
    match format {
        FileFormat::JsonLines => jsonl::write(path, rows)?,
        FileFormat::Csv => csv_format::write(path, rows)?,
        FileFormat::Parquet => parquet_format::write(path, rows)?,
    }
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| FormatError::io(path, e))
}

/// Reads every row of `path`.
pub fn read_rows(path: impl AsRef<Path>, format: FileFormat) -> Result<Vec<Row>, FormatError> {
    let path = path.as_ref();
    match format {
        FileFormat::JsonLines => jsonl::read(path),
        FileFormat::Csv => csv_format::read(path),
        FileFormat::Parquet => parquet_format::read(path),
    }
}

#[cfg(test)]
mod tests {
    use tidewater_engine::row::Value;

    use super::*;

    #[test]
    fn columns_widen_ints_to_floats_and_mixed_values_to_strings_in_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let rows = vec![
            Row::from_pairs([("n", Value::Int(1)), ("mixed", Value::Int(7))]),
            Row::from_pairs([("n", Value::Float(2.5)), ("mixed", Value::from("x"))]),
        ];
        write_rows(&path, FileFormat::Parquet, &rows).unwrap();
        let back = read_rows(&path, FileFormat::Parquet).unwrap();
        assert_eq!(back[0].get("n"), Some(&Value::Float(1.0)));
        assert_eq!(back[0].get("mixed"), Some(&Value::from("7")));
        assert_eq!(back[1].get("mixed"), Some(&Value::from("x")));
    }

    #[test]
    fn malformed_input_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("bad.csv");
        std::fs::write(&csv, "a,b\n1,2\n3\n").unwrap();
        let e = read_rows(&csv, FileFormat::Csv).unwrap_err().to_string();
        assert!(e.contains("bad.csv:3: "), "{e}");
        let jsonl = dir.path().join("bad.jsonl");
        std::fs::write(&jsonl, "{\"a\": 1}\n{\"a\": \n").unwrap();
        let e = read_rows(&jsonl, FileFormat::JsonLines)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.jsonl:2: "), "{e}");
        let e = write_rows(dir.path().join("missing/dir/t.csv"), FileFormat::Csv, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing/dir/t.csv"), "{e}");
        assert!("orc".parse::<FileFormat>().is_err());
    }
}
