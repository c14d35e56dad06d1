//! Hive-style partition folders for written rows: `day=2024-01-01/h=3/part-...`.

use std::collections::BTreeMap;

use tidewater_engine::row::{Row, Value};

/// The folder name of one partition value, escaped as Hive escapes it (`/`, `=`, `%`
/// and other special characters as `%XX`); null is `__HIVE_DEFAULT_PARTITION__`.
///
/// ```
/// use tidewater_connectors::file::partition_folder;
/// use tidewater_engine::row::Value;
/// assert_eq!(partition_folder("day", &Value::from("2024-01-01")), "day=2024-01-01");
/// assert_eq!(partition_folder("path", &Value::from("a/b=c")), "path=a%2Fb%3Dc");
/// assert_eq!(partition_folder("h", &Value::Null), "h=__HIVE_DEFAULT_PARTITION__");
/// ```
pub fn partition_folder(column: &str, value: &Value) -> String {
    let text = match value {
        Value::Null => return format!("{}=__HIVE_DEFAULT_PARTITION__", escape(column)),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Str(s) => s.clone(),
    };
    format!("{}={}", escape(column), escape(&text))
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '"' | '#' | '%' | '\'' | '*' | '/' | ':' | '=' | '?' | '\\' | '{' | '[' | ']' | '^'
        )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if needs_escape(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Undoes [`partition_folder`]'s escaping (`%XX` to the byte it stands for).
pub fn unescape(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits rows by their values of `columns` into partition folders (`a=1/b=x`, empty
/// without columns); the rows lose those columns, as the folders hold them. A column
/// no row has is an error naming it and the rows' columns.
pub(crate) fn split(
    rows: Vec<Row>,
    columns: &[String],
) -> Result<BTreeMap<String, Vec<Row>>, String> {
    let mut parts: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    if columns.is_empty() {
        if !rows.is_empty() {
            parts.insert(String::new(), rows);
        }
        return Ok(parts);
    }
    if let Some(first) = rows.first() {
        for c in columns {
            if first.get(c).is_none() {
                let names: Vec<&str> = first.schema().names().collect();
                return Err(format!(
                    "partition column `{c}` is not a column of the rows (they have {})",
                    names.join(", ")
                ));
            }
        }
    }
    for row in rows {
        let folder: Vec<String> = columns
            .iter()
            .map(|c| partition_folder(c, row.get(c).unwrap_or(&Value::Null)))
            .collect();
        let rest = Row::from_pairs(
            row.to_pairs()
                .into_iter()
                .filter(|(k, _)| !columns.iter().any(|c| c == k)),
        );
        parts.entry(folder.join("/")).or_default().push(rest);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_values_read_back() {
        for text in ["plain", "a/b=c", "100%", "x:y?z", "ünï", "tab\there"] {
            let folder = partition_folder("k", &Value::from(text));
            let (_, v) = folder.split_once('=').unwrap();
            assert!(!v.contains('/') && !v.contains('='), "{folder}");
            assert_eq!(unescape(v), text);
        }
    }

    #[test]
    fn rows_split_into_folders_without_their_partition_columns() {
        let row = |d: &str, h: i64, n: i64| {
            Row::from_pairs([
                ("day", Value::from(d)),
                ("h", Value::Int(h)),
                ("n", Value::Int(n)),
            ])
        };
        let parts = split(
            vec![
                row("d1", 1, 0),
                row("d2", 1, 1),
                row("d1", 1, 2),
                row("d1", 2, 3),
            ],
            &["day".to_string(), "h".to_string()],
        )
        .unwrap();
        let summary: Vec<(String, Vec<i64>)> = parts
            .into_iter()
            .map(|(k, rows)| {
                (
                    k,
                    rows.iter()
                        .map(|r| r.get("n").and_then(Value::as_i64).unwrap())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("day=d1/h=1".to_string(), vec![0, 2]),
                ("day=d1/h=2".to_string(), vec![3]),
                ("day=d2/h=1".to_string(), vec![1]),
            ]
        );
        let e = split(vec![row("d1", 1, 0)], &["dya".to_string()]).unwrap_err();
        assert_eq!(
            e,
            "partition column `dya` is not a column of the rows (they have day, h, n)"
        );
    }
}
