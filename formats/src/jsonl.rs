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
        let pairs = json_object_fields(line.as_bytes())
            .map_err(|e| FormatError::malformed(path, i + 1, e))?;
        rows.push(Row::from_pairs(pairs));
    }
    Ok(rows)
}

/// A JSON object's fields in order, read straight into values (no intermediate JSON
/// tree); a nested object or list is an error naming the field.
struct FlatObject(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for FlatObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = FlatObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<FlatObject, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(key) = map.next_key::<String>()? {
                    let value = map
                        .next_value::<Value>()
                        .map_err(|e| serde::de::Error::custom(format!("field `{key}`: {e}")))?;
                    pairs.push((key, value));
                }
                Ok(FlatObject(pairs))
            }
        }
        d.deserialize_map(Fields)
    }
}

/// The fields of one JSON object, in order, read straight into values (no intermediate
/// JSON tree); a nested object or list is an error naming the field.
///
/// ```
/// use tidewater_engine::row::Value;
/// use tidewater_formats::json_object_fields;
/// assert_eq!(
///     json_object_fields(br#"{"a": 1, "b": "x"}"#).unwrap(),
///     vec![("a".to_string(), Value::Int(1)), ("b".to_string(), Value::from("x"))]
/// );
/// assert!(json_object_fields(br#"{"a": {"n": 1}}"#).unwrap_err().starts_with("field `a`: "));
/// ```
pub fn json_object_fields(line: &[u8]) -> Result<Vec<(String, Value)>, String> {
    let FlatObject(pairs) = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    Ok(pairs)
}
