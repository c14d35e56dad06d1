//! Column types of a set of rows: the narrowest type that holds every value.

use tidewater_engine::row::{DataType, Row, Value};

/// The type of each field of the first row's schema over all rows: ints widen to
/// floats; any other mix, or strings, become strings; all-null columns are strings.
pub(crate) fn column_types(rows: &[Row]) -> Vec<(String, DataType)> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    first
        .schema()
        .names()
        .enumerate()
        .map(|(i, name)| {
            let mut ty = DataType::Null;
            for value in rows.iter().filter_map(|r| field(r, first, i, name)) {
                ty = match (ty, value) {
                    (t, Value::Null) => t,
                    (DataType::Null, v) => DataType::of(v),
                    (DataType::Int, Value::Float(_)) | (DataType::Float, Value::Int(_)) => {
                        DataType::Float
                    }
                    (t, v) if t == DataType::of(v) => t,
                    _ => DataType::Str,
                };
            }
            let ty = if ty == DataType::Null {
                DataType::Str
            } else {
                ty
            };
            (name.to_string(), ty)
        })
        .collect()
}

/// Field `i` (called `name`) of `first`'s schema in `row`: by position when `row`
/// shares that schema (the common case: no name comparisons), else by name.
pub(crate) fn field<'r>(row: &'r Row, first: &Row, i: usize, name: &str) -> Option<&'r Value> {
    if std::sync::Arc::ptr_eq(row.schema(), first.schema()) {
        row.values().get(i)
    } else {
        row.get(name)
    }
}

/// A value rendered as text (CSV cells, string columns of mixed values).
pub(crate) fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(format!("{f:?}")),
        Value::Str(s) => Some(s.clone()),
    }
}
