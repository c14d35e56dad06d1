//! Conditions on generated rows: `{"age": {"gte": 21}, "region": "West"}`.
//!
//! A column's condition is a value (equality) or an object of comparisons that must all
//! hold: `eq`, `ne`, `gt`, `gte`, `lt`, `lte` and `in` (a list).

use std::cmp::Ordering;
use std::fmt;

use tidewater_engine::row::{Row, Value};

use super::column::TimestampStyle;
use super::error::{GenesisError, Result};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal to.
    Eq,
    /// Not equal to.
    Ne,
    /// Greater than.
    Gt,
    /// Greater than or equal to.
    Gte,
    /// Less than.
    Lt,
    /// Less than or equal to.
    Lte,
    /// One of a list.
    In,
}

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "in" => Op::In,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::In => "in",
        }
    }
}

/// One comparison of a column's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The operator.
    pub op: Op,
    operands: Vec<Value>,
}

impl Comparison {
    /// A comparison; `In` takes every operand, the others the first.
    pub fn new(op: Op, operands: Vec<Value>) -> Comparison {
        Comparison { op, operands }
    }

    /// The operands (one, or the list of `in`).
    pub fn operands(&self) -> &[Value] {
        &self.operands
    }

    /// Whether `value` meets the comparison. Nulls never do; numbers compare as
    /// numbers, timestamp strings as instants, other values of one type by their order.
    pub fn matches(&self, value: &Value) -> bool {
        if value.is_null() {
            return false;
        }
        let first = || self.operands.first().and_then(|o| compare(value, o));
        match self.op {
            Op::Eq => first() == Some(Ordering::Equal),
            Op::Ne => first() != Some(Ordering::Equal),
            Op::Gt => first() == Some(Ordering::Greater),
            Op::Gte => matches!(first(), Some(Ordering::Greater | Ordering::Equal)),
            Op::Lt => first() == Some(Ordering::Less),
            Op::Lte => matches!(first(), Some(Ordering::Less | Ordering::Equal)),
            Op::In => self
                .operands
                .iter()
                .any(|o| compare(value, o) == Some(Ordering::Equal)),
        }
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) {
        return x.partial_cmp(&y);
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => {
            match (TimestampStyle::parse(x), TimestampStyle::parse(y)) {
                (Some((x, _)), Some((y, _))) => Some(x.cmp(&y)),
                _ => Some(x.cmp(y)),
            }
        }
        (Value::Str(x), Value::Int(ms)) => TimestampStyle::parse(x).map(|(t, _)| t.cmp(ms)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self
            .operands
            .iter()
            .map(|v| serde_json::to_string(v).unwrap_or_default())
            .collect();
        match self.op {
            Op::In => write!(f, "in [{}]", shown.join(", ")),
            op => write!(f, "{} {}", op.name(), shown.join(", ")),
        }
    }
}

/// Conditions on several columns, all of which a generated row meets.
///
/// ```
/// use tidewater_generators::genesis::Conditions;
/// let conditions = Conditions::from_json(r#"{"age": {"gte": 21}, "region": "West"}"#).unwrap();
/// assert_eq!(conditions.to_string(), r#"age gte 21, region eq "West""#);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions {
    columns: Vec<(String, Vec<Comparison>)>,
}

impl Conditions {
    /// No conditions.
    pub fn none() -> Conditions {
        Conditions::default()
    }

    /// Adds a comparison on `column`.
    pub fn with(mut self, column: &str, op: Op, operand: impl Into<Value>) -> Conditions {
        let operands = vec![operand.into()];
        self.push(column, Comparison::new(op, operands));
        self
    }

    /// Adds `column in values`.
    pub fn with_in<V: Into<Value>>(
        mut self,
        column: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Conditions {
        let operands = values.into_iter().map(Into::into).collect();
        self.push(column, Comparison::new(Op::In, operands));
        self
    }

    fn push(&mut self, column: &str, comparison: Comparison) {
        match self.columns.iter_mut().find(|(c, _)| c == column) {
            Some((_, list)) => list.push(comparison),
            None => self.columns.push((column.to_string(), vec![comparison])),
        }
    }

    /// Parses the JSON form.
    pub fn from_json(text: &str) -> Result<Conditions> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| GenesisError::InvalidCondition {
                column: "(conditions)".into(),
                expected: "a JSON object of column conditions".into(),
                found: e.to_string(),
            })?;
        Conditions::from_value(&value)
    }

    /// Reads the JSON form from a parsed value: an object whose keys are columns and
    /// whose values are a value (equality) or an object of comparisons.
    pub fn from_value(value: &serde_json::Value) -> Result<Conditions> {
        let invalid = |column: &str, expected: &str, found: &serde_json::Value| {
            GenesisError::InvalidCondition {
                column: column.to_string(),
                expected: expected.to_string(),
                found: found.to_string(),
            }
        };
        let object = match value {
            serde_json::Value::Null => return Ok(Conditions::none()),
            serde_json::Value::Object(object) => object,
            other => {
                return Err(invalid(
                    "(conditions)",
                    "an object of column conditions",
                    other,
                ))
            }
        };
        let mut conditions = Conditions::none();
        for (column, condition) in object {
            match condition {
                serde_json::Value::Object(ops) if !ops.is_empty() => {
                    for (name, operand) in ops {
                        let op = Op::parse(name).ok_or_else(|| {
                            invalid(
                                column,
                                "one of eq, ne, gt, gte, lt, lte, in",
                                &name.as_str().into(),
                            )
                        })?;
                        let operands = match (op, operand) {
                            (Op::In, serde_json::Value::Array(list)) => {
                                list.iter().map(scalar).collect::<Option<Vec<_>>>()
                            }
                            (Op::In, other) => {
                                return Err(invalid(column, "a list after `in`", other))
                            }
                            (_, other) => scalar(other).map(|v| vec![v]),
                        }
                        .ok_or_else(|| invalid(column, "a string, number or boolean", operand))?;
                        conditions.push(column, Comparison::new(op, operands));
                    }
                }
                other => {
                    let operand = scalar(other).ok_or_else(|| {
                        invalid(column, "a value or an object of comparisons", other)
                    })?;
                    conditions.push(column, Comparison::new(Op::Eq, vec![operand]));
                }
            }
        }
        Ok(conditions)
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Each conditioned column with its comparisons.
    pub fn columns(&self) -> &[(String, Vec<Comparison>)] {
        &self.columns
    }

    /// Whether `row` meets every condition.
    pub fn matches(&self, row: &Row) -> bool {
        self.columns.iter().all(|(column, comparisons)| {
            let value = row.get(column).unwrap_or(&Value::Null);
            comparisons.iter().all(|c| c.matches(value))
        })
    }
}

fn scalar(value: &serde_json::Value) -> Option<Value> {
    Some(match value {
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64()?),
        },
        serde_json::Value::String(s) => Value::Str(s.clone()),
        _ => return None,
    })
}

impl fmt::Display for Conditions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .columns
            .iter()
            .flat_map(|(column, list)| list.iter().map(move |c| format!("{column} {c}")))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_operator() {
        let c = Conditions::from_json(
            r#"{"a": {"gt": 1, "lte": 5}, "b": {"in": ["x", "y"]}, "c": {"ne": true}, "d": 2.5}"#,
        )
        .unwrap();
        assert_eq!(
            c.to_string(),
            r#"a gt 1, a lte 5, b in ["x", "y"], c ne true, d eq 2.5"#
        );
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        let cases = [
            (
                r#"{"a": {"between": 1}}"#,
                "condition on `a`: expected one of eq, ne, gt, gte, lt, lte, in, found \"between\"",
            ),
            (
                r#"{"a": {"in": 3}}"#,
                "condition on `a`: expected a list after `in`, found 3",
            ),
            (
                r#"{"a": [1]}"#,
                "condition on `a`: expected a value or an object of comparisons, found [1]",
            ),
            (
                r#"[1]"#,
                "condition on `(conditions)`: expected an object of column conditions, found [1]",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(
                Conditions::from_json(text).unwrap_err().to_string(),
                message,
                "{text}"
            );
        }
    }

    #[test]
    fn matches_compare_by_type() {
        let row = Row::from_pairs([
            ("age", Value::Int(30)),
            ("at", Value::from("2026-01-28T10:30:00Z")),
            ("region", Value::from("West")),
        ]);
        let table = [
            (r#"{"age": {"gte": 21}}"#, true),
            (r#"{"age": {"gt": 30.0}}"#, false),
            (r#"{"age": {"in": [29, 30]}}"#, true),
            (r#"{"region": "West", "age": {"lt": 31}}"#, true),
            (r#"{"region": {"ne": "West"}}"#, false),
            (r#"{"at": {"gte": "2026-01-28 10:30:00"}}"#, true),
            (r#"{"missing": 1}"#, false),
        ];
        for (text, expected) in table {
            assert_eq!(
                Conditions::from_json(text).unwrap().matches(&row),
                expected,
                "{text}"
            );
        }
    }
}
