//! Parquet through Arrow record batches.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType as ArrowType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use tidewater_engine::row::{DataType, Row, Value};

use super::columns::{column_types, text};
use super::FormatError;

fn column(rows: &[Row], name: &str, ty: DataType) -> ArrayRef {
    let values = rows.iter().map(|r| r.get(name).unwrap_or(&Value::Null));
    match ty {
        DataType::Int => Arc::new(values.map(Value::as_i64).collect::<Int64Array>()),
        DataType::Float => Arc::new(values.map(Value::as_f64).collect::<Float64Array>()),
        DataType::Bool => Arc::new(
            values
                .map(|v| {
                    if let Value::Bool(b) = v {
                        Some(*b)
                    } else {
                        None
                    }
                })
                .collect::<BooleanArray>(),
        ),
        DataType::Str | DataType::Null => Arc::new(values.map(text).collect::<StringArray>()),
    }
}

pub(crate) fn write(path: &Path, rows: &[Row]) -> Result<(), FormatError> {
    let types = column_types(rows);
    let fields: Vec<Field> = types
        .iter()
        .map(|(name, ty)| {
            let arrow = match ty {
                DataType::Int => ArrowType::Int64,
                DataType::Float => ArrowType::Float64,
                DataType::Bool => ArrowType::Boolean,
                DataType::Str | DataType::Null => ArrowType::Utf8,
            };
            Field::new(name, arrow, true)
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let columns: Vec<ArrayRef> = types
        .iter()
        .map(|(name, ty)| column(rows, name, *ty))
        .collect();
    let file = std::fs::File::create(path).map_err(|e| FormatError::io(path, e))?;
    let mut writer = ArrowWriter::try_new(file, schema.clone(), None)
        .map_err(|e| FormatError::malformed(path, 0, e))?;
    if !columns.is_empty() {
        let batch = RecordBatch::try_new(schema, columns)
            .map_err(|e| FormatError::malformed(path, 0, e))?;
        writer
            .write(&batch)
            .map_err(|e| FormatError::malformed(path, 0, e))?;
    }
    writer
        .close()
        .map_err(|e| FormatError::malformed(path, 0, e))?;
    Ok(())
}

fn value(array: &dyn Array, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    let any = array.as_any();
    if let Some(a) = any.downcast_ref::<Int64Array>() {
        Value::Int(a.value(i))
    } else if let Some(a) = any.downcast_ref::<Float64Array>() {
        Value::Float(a.value(i))
    } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
        Value::Bool(a.value(i))
    } else if let Some(a) = any.downcast_ref::<StringArray>() {
        Value::Str(a.value(i).to_string())
    } else {
        Value::Null
    }
}

pub(crate) fn read(path: &Path) -> Result<Vec<Row>, FormatError> {
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| FormatError::malformed(path, 0, e))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| FormatError::malformed(path, 0, e))?;
        let schema = batch.schema();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        for i in 0..batch.num_rows() {
            let values = batch.columns().iter().map(|c| value(c.as_ref(), i));
            rows.push(Row::from_pairs(names.iter().cloned().zip(values)));
        }
    }
    Ok(rows)
}
