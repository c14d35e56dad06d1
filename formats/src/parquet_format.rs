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
