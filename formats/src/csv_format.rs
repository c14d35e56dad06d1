//! CSV with a header line. Reading infers each cell's type: integer, float, boolean,
//! empty (null) or string.

use std::path::Path;

use tidewater_engine::row::{Row, Value};

use super::columns::{column_types, text};
use super::FormatError;

pub(crate) fn write(path: &Path, rows: &[Row]) -> Result<(), FormatError> {
    let file = std::fs::File::create(path).map_err(|e| FormatError::io(path, e))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let names: Vec<String> = column_types(rows).into_iter().map(|(n, _)| n).collect();
    out.write_record(&names)
        .map_err(|e| FormatError::malformed(path, 1, e))?;
    for (i, row) in rows.iter().enumerate() {
        let cells = names
            .iter()
            .map(|n| row.get(n).and_then(text).unwrap_or_default());
        out.write_record(cells)
            .map_err(|e| FormatError::malformed(path, i + 2, e))?;
    }
    out.flush().map_err(|e| FormatError::io(path, e))
}

/// The value a CSV cell holds when no schema says its type: empty is null, then an
/// integer, a float, a boolean, else the text.
pub fn infer_cell(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else if let Ok(i) = s.parse::<i64>() {
        Value::Int(i)
    } else if let Ok(f) = s.parse::<f64>() {
        Value::Float(f)
    } else if let Ok(b) = s.parse::<bool>() {
        Value::Bool(b)
    } else {
        Value::Str(s.to_string())
    }
}

pub(crate) fn read(path: &Path) -> Result<Vec<Row>, FormatError> {
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut reader = csv::Reader::from_reader(std::io::BufReader::new(file));
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| FormatError::malformed(path, 1, e))?
        .iter()
        .map(String::from)
        .collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| FormatError::malformed(path, i + 2, e))?;
        if record.len() != headers.len() {
            return Err(FormatError::malformed(
                path,
                i + 2,
                format!("expected {} fields, found {}", headers.len(), record.len()),
            ));
        }
        rows.push(Row::from_pairs(
            headers.iter().cloned().zip(record.iter().map(infer_cell)),
        ));
    }
    Ok(rows)
}
