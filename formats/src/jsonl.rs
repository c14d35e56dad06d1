//! JSON lines.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use tidewater_engine::row::{Row, Value};

use super::FormatError;

pub(crate) fn write(path: &Path, rows: &[Row]) -> Result<(), FormatError> {
    let file = std::fs::File::create(path).map_err(|e| FormatError::io(path, e))?;
    let mut out = BufWriter::new(file);
    for row in rows {
        serde_json::to_writer(&mut out, row).map_err(|e| FormatError::malformed(path, 0, e))?;
        out.write_all(b"\n").map_err(|e| FormatError::io(path, e))?;
    }
    out.flush().map_err(|e| FormatError::io(path, e))
}

pub(crate) fn read(path: &Path) -> Result<Vec<Row>, FormatError> {
    let file = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut rows = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| FormatError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&line).map_err(|e| FormatError::malformed(path, i + 1, e))?;
        let pairs: Result<Vec<(String, Value)>, FormatError> = map
            .into_iter()
            .map(|(k, v)| {
                serde_json::from_value::<Value>(v)
                    .map(|v| (k.clone(), v))
                    .map_err(|e| FormatError::malformed(path, i + 1, format!("field `{k}`: {e}")))
            })
            .collect();
        rows.push(Row::from_pairs(pairs?));
    }
    Ok(rows)
}
