//! Declared columns (`input.schema`, `input.json_schema`) in the three forms a Spark
//! user has at hand: a mapping (`{user: string, ts: long}`), Spark's DDL text
//! (`"user STRING, ts BIGINT"`), or a `StructType` as JSON (what PySpark's
//! `schema.json()` prints: `{"type": "struct", "fields": [{"name": ..., "type": ...}]}`).

use serde_json::Value;
use tidewater_engine::row::{DataType, Schema};

/// A declared column type (Spark's names) as a row type.
pub(crate) fn data_type(name: &str) -> Option<DataType> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "string" | "str" | "text" | "varchar" => DataType::Str,
        "long" | "bigint" | "int" | "integer" | "short" | "smallint" | "byte" | "tinyint" => {
            DataType::Int
        }
        "double" | "float" | "real" => DataType::Float,
        "boolean" | "bool" => DataType::Bool,
        // Timestamps stay as written (epoch ms or ISO text) for `with_event_time`.
        "timestamp" => DataType::Str,
        _ => return None,
    })
}

const TYPES: &str = "a type: string, long, int, double, float, boolean, timestamp";

/// One problem of a declared schema: the column's path below the schema, what was
/// expected, what was found.
pub(crate) type SchemaProblem = (String, String, String);

/// The declared columns, or every problem (each relative to the schema's path:
/// `.value`, `.fields[2]`, `` for the whole).
pub(crate) fn columns(declared: &Value) -> Result<Vec<(String, DataType)>, Vec<SchemaProblem>> {
    let column = |path: String, name: &str, ty: &Value| match ty.as_str().and_then(data_type) {
        Some(t) => Ok((name.to_string(), t)),
        None => Err((path, TYPES.to_string(), shown(ty))),
    };
    let problem = |path: String, expected: &str, found: String| Err((path, expected.into(), found));
    let results: Vec<Result<(String, DataType), SchemaProblem>> = match declared {
        Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("struct") => {
            match m.get("fields").and_then(Value::as_array) {
                Some(fields) => fields
                    .iter()
                    .enumerate()
                    .map(
                        |(i, f)| match (f.get("name").and_then(Value::as_str), f.get("type")) {
                            (Some(name), Some(ty)) => column(format!(".fields[{i}]"), name, ty),
                            _ => problem(
                                format!(".fields[{i}]"),
                                "a field with `name` and `type`",
                                shown(f),
                            ),
                        },
                    )
                    .collect(),
                None => vec![problem(
                    ".fields".into(),
                    "the StructType's list of fields",
                    "none".into(),
                )],
            }
        }
        Value::Object(m) => m
            .iter()
            .map(|(name, ty)| column(format!(".{name}"), name, ty))
            .collect(),
        Value::String(ddl) => ddl
            .split(',')
            .enumerate()
            .map(|(i, part)| {
                let words: Vec<&str> = part.split_whitespace().collect();
                match words[..] {
                    [name, ty] => {
                        column(format!("[{i}]"), name.trim_matches('`'), &Value::from(ty))
                    }
                    _ => problem(
                        format!("[{i}]"),
                        "`name TYPE` (Spark's DDL, such as `user STRING, ts BIGINT`)",
                        format!("`{}`", part.trim()),
                    ),
                }
            })
            .collect(),
        other => vec![problem(
            String::new(),
            "columns as a mapping, Spark DDL text or a StructType's JSON",
            shown(other),
        )],
    };
    let (ok, bad): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    if bad.is_empty() {
        Ok(ok.into_iter().flatten().collect())
    } else {
        Err(bad.into_iter().filter_map(Result::err).collect())
    }
}

/// The declared columns as a row schema (columns of an unknown type as text; the
/// validation reports them before a pipeline is built).
pub(crate) fn schema(declared: &Value) -> Schema {
    Schema::new(columns(declared).unwrap_or_default())
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        Value::Null => "none".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
        other => format!("`{other}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_three_forms_give_the_same_columns_and_bad_ones_every_problem() {
        let want = vec![
            ("user".to_string(), DataType::Str),
            ("ts".into(), DataType::Int),
        ];
        let forms = [
            json!({"user": "string", "ts": "long"}),
            json!("user STRING, `ts` BIGINT"),
            json!({"type": "struct", "fields": [
                {"name": "user", "type": "string", "nullable": true, "metadata": {}},
                {"name": "ts", "type": "long", "nullable": true, "metadata": {}},
            ]}),
        ];
        for f in &forms {
            assert_eq!(columns(f).unwrap(), want, "{f}");
        }
        // (declared, problems)
        let table = [
            (
                json!({"user": "decimal", "ts": 5}),
                vec![(".user", TYPES, "`decimal`"), (".ts", TYPES, "`5`")],
            ),
            (
                json!("user STRING, ts"),
                vec![(
                    "[1]",
                    "`name TYPE` (Spark's DDL, such as `user STRING, ts BIGINT`)",
                    "`ts`",
                )],
            ),
            (
                json!({"type": "struct", "fields": [{"name": "user"}]}),
                vec![(".fields[0]", "a field with `name` and `type`", "a mapping")],
            ),
            (
                json!(["user"]),
                vec![(
                    "",
                    "columns as a mapping, Spark DDL text or a StructType's JSON",
                    "a list",
                )],
            ),
        ];
        for (declared, problems) in table {
            let want: Vec<SchemaProblem> = problems
                .into_iter()
                .map(|(p, e, f)| (p.to_string(), e.to_string(), f.to_string()))
                .collect();
            assert_eq!(columns(&declared).unwrap_err(), want, "{declared}");
        }
    }
}
