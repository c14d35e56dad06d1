//! Parquet through Arrow record batches.

use std::path::Path;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use tidewater_engine::row::Row;

use super::arrow_rows::{batch_rows, rows_to_batch};
use super::FormatError;

pub(crate) fn write(path: &Path, rows: &[Row]) -> Result<(), FormatError> {
    let batch = rows_to_batch(rows).map_err(|e| FormatError::malformed(path, 0, e))?;
    let file = std::fs::File::create(path).map_err(|e| FormatError::io(path, e))?;
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None)
        .map_err(|e| FormatError::malformed(path, 0, e))?;
    if batch.num_columns() > 0 {
        writer
            .write(&batch)
            .map_err(|e| FormatError::malformed(path, 0, e))?;
    }
    writer
        .close()
        .map_err(|e| FormatError::malformed(path, 0, e))?;
    Ok(())
}

pub(crate) fn read(path: &Path) -> Result<Vec<Row>, FormatError> {
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| FormatError::malformed(path, 0, e))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| FormatError::malformed(path, 0, e))?;
        rows.extend(batch_rows(&batch));
    }
    Ok(rows)
}

/// The rows of a Parquet file, a record batch at a time, so that a file larger than
/// memory can be read.
///
/// ```
/// use tidewater_engine::row::{Row, Value};
/// use tidewater_formats::{write_rows, FileFormat, ParquetRows};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("t.parquet");
/// let rows: Vec<Row> = (0..10).map(|i| Row::from_pairs([("n", Value::Int(i))])).collect();
/// write_rows(&path, FileFormat::Parquet, &rows).unwrap();
/// let chunks: Vec<usize> = ParquetRows::open(&path, 4).unwrap().map(|c| c.unwrap().len()).collect();
/// assert_eq!(chunks, vec![4, 4, 2]);
/// ```
pub struct ParquetRows {
    path: std::path::PathBuf,
    batches: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
}

impl ParquetRows {
    /// Opens `path`, to be read `batch_size` rows at a time.
    pub fn open(path: &Path, batch_size: usize) -> Result<Self, FormatError> {
        let file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
        let batches = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(batch_size.max(1)).build())
            .map_err(|e| FormatError::malformed(path, 0, e))?;
        Ok(ParquetRows {
            path: path.to_path_buf(),
            batches,
        })
    }
}

impl Iterator for ParquetRows {
    type Item = Result<Vec<Row>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.batches.next()?;
        Some(
            batch
                .map(|b| batch_rows(&b))
                .map_err(|e| FormatError::malformed(&self.path, 0, e)),
        )
    }
}
