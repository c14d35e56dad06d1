//! Name-based aggregate expressions over rows: `count("*")`, `sum("amount")`,
//! `avg`, `min`, `max`, `first`, `last`, each with an optional `alias`.
//!
//! Nulls and missing fields are ignored, as in SQL; `count("*")` counts rows.

use serde::{Deserialize, Serialize};

use super::{Row, Value};
use crate::time::Timestamp;
use crate::window::Aggregate;

/// The aggregate function of an [`AggExpr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggFunc {
    /// Number of rows (`*`) or of non-null values.
    Count,
    /// Sum: an integer while every value is an integer, a float otherwise.
    Sum,
    /// Mean as a float.
    Avg,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Value with the earliest event time.
    First,
    /// Value with the latest event time.
    Last,
}

impl AggFunc {
    fn name(&self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::First => "first",
            AggFunc::Last => "last",
        }
    }
}

/// An aggregate over one column, named in the output by its alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggExpr {
    /// The function.
    pub func: AggFunc,
    /// The input column (`*` for `count("*")`).
    pub column: String,
    /// Output column name; defaults to `func(column)`, as Spark names it.
    pub alias: String,
}

impl AggExpr {
    /// An aggregate of `func` over `column`.
    pub fn new(func: AggFunc, column: &str) -> Self {
        AggExpr {
            func,
            column: column.to_string(),
            alias: format!("{}({column})", func.name()),
        }
    }

    /// Names the output column.
    pub fn alias(mut self, alias: &str) -> Self {
        self.alias = alias.to_string();
        self
    }
}

/// `count(column)`; `count("*")` counts rows.
pub fn count(column: &str) -> AggExpr {
    AggExpr::new(AggFunc::Count, column)
}
/// `sum(column)`.
pub fn sum(column: &str) -> AggExpr {
    AggExpr::new(AggFunc::Sum, column)
}
/// `avg(column)`.
pub fn avg(column: &str) -> AggExpr {
    AggExpr::new(AggFunc::Avg, column)
}
/// `min(column)`.
pub fn min(column: &str) -> AggExpr {
    AggExpr::new(AggFunc::Min, column)
}
/// `max(column)`.
pub fn max(column: &str) -> AggExpr {
    AggExpr::new(AggFunc::Max, column)
}
/// `first(column)` by event time.
pub fn first(column: &str) -> AggExpr {
    AggExpr::new(AggFunc::First, column)
}
/// `last(column)` by event time.
pub fn last(column: &str) -> AggExpr {
    AggExpr::new(AggFunc::Last, column)
}

/// Accumulator of one expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AggState {
    /// Rows or non-null values counted.
    Count(u64),
    /// Integer sum, float sum, whether a float was seen, whether anything was seen.
    Sum(i64, f64, bool, bool),
    /// Float sum and count.
    Avg(f64, u64),
    /// Smallest or largest value so far.
    Extreme(Option<Value>),
    /// Value with its event time.
    Positional(Option<(Timestamp, Value)>),
}

/// Evaluates a list of [`AggExpr`] over rows; its output is one value per expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowAggregate {
    exprs: Vec<AggExpr>,
}

impl RowAggregate {
    /// Aggregates `exprs` in one pass.
    pub fn new(exprs: Vec<AggExpr>) -> Self {
        RowAggregate { exprs }
    }

    /// The expressions, in output order.
    pub fn exprs(&self) -> &[AggExpr] {
        &self.exprs
    }
}

fn fold(expr: &AggExpr, state: &mut AggState, value: Option<&Value>, ts: Timestamp) {
    let value = value.filter(|v| !v.is_null());
    match (state, expr.func) {
        (AggState::Count(n), _) => {
            if expr.column == "*" || value.is_some() {
                *n += 1
            }
        }
        (AggState::Sum(int, float, is_float, seen), _) => match value {
            Some(Value::Int(i)) => {
                *int = int.wrapping_add(*i);
                *float += *i as f64;
                *seen = true;
            }
            Some(v) => {
                if let Some(f) = v.as_f64() {
                    *float += f;
                    *is_float = true;
                    *seen = true;
                }
            }
            None => {}
        },
        (AggState::Avg(total, n), _) => {
            if let Some(f) = value.and_then(Value::as_f64) {
                *total += f;
                *n += 1;
            }
        }
        (AggState::Extreme(current), func) => {
            if let Some(v) = value {
                let better = match current {
                    None => true,
                    Some(c) if func == AggFunc::Min => v < c,
                    Some(c) => v > c,
                };
                if better {
                    *current = Some(v.clone());
                }
            }
        }
        (AggState::Positional(current), func) => {
            if let Some(v) = value {
                let better = match current {
                    None => true,
                    Some((t, _)) if func == AggFunc::First => ts < *t,
                    Some((t, _)) => ts >= *t,
                };
                if better {
                    *current = Some((ts, v.clone()));
                }
            }
        }
    }
}

fn merge(expr: &AggExpr, state: &mut AggState, other: &AggState) {
    match (state, other) {
        (AggState::Count(a), AggState::Count(b)) => *a += b,
        (AggState::Sum(ai, af, afl, aseen), AggState::Sum(bi, bf, bfl, bseen)) => {
            *ai = ai.wrapping_add(*bi);
            *af += bf;
            *afl |= bfl;
            *aseen |= bseen;
        }
        (AggState::Avg(at, an), AggState::Avg(bt, bn)) => {
            *at += bt;
            *an += bn;
        }
        (state @ AggState::Extreme(_), AggState::Extreme(Some(v))) => fold(expr, state, Some(v), 0),
        (state @ AggState::Positional(_), AggState::Positional(Some((t, v)))) => {
            fold(expr, state, Some(v), *t)
        }
        _ => {}
    }
}

fn finish(state: &AggState) -> Value {
    match state {
        AggState::Count(n) => Value::Int(*n as i64),
        AggState::Sum(_, _, _, false) => Value::Null,
        AggState::Sum(_, f, true, true) => Value::Float(*f),
        AggState::Sum(i, _, false, true) => Value::Int(*i),
        AggState::Avg(_, 0) => Value::Null,
        AggState::Avg(t, n) => Value::Float(t / *n as f64),
        AggState::Extreme(v) => v.clone().unwrap_or(Value::Null),
        AggState::Positional(v) => v.as_ref().map_or(Value::Null, |(_, v)| v.clone()),
    }
}

impl Aggregate<Row> for RowAggregate {
    type Acc = Vec<AggState>;
    type Out = Vec<Value>;

    fn create(&self) -> Vec<AggState> {
        self.exprs
            .iter()
            .map(|e| match e.func {
                AggFunc::Count => AggState::Count(0),
                AggFunc::Sum => AggState::Sum(0, 0.0, false, false),
                AggFunc::Avg => AggState::Avg(0.0, 0),
                AggFunc::Min | AggFunc::Max => AggState::Extreme(None),
                AggFunc::First | AggFunc::Last => AggState::Positional(None),
            })
            .collect()
    }

    fn add(&self, acc: &mut Vec<AggState>, row: &Row, ts: Timestamp) {
        for (expr, state) in self.exprs.iter().zip(acc.iter_mut()) {
            fold(expr, state, row.get(&expr.column), ts);
        }
    }

    fn merge(&self, acc: &mut Vec<AggState>, other: &Vec<AggState>) {
        for ((expr, state), o) in self.exprs.iter().zip(acc.iter_mut()).zip(other) {
            merge(expr, state, o);
        }
    }

    fn finish(&self, acc: &Vec<AggState>) -> Vec<Value> {
        acc.iter().map(finish).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_aggregates_follow_sql_null_rules_and_merge() {
        let agg = RowAggregate::new(vec![
            count("*").alias("n"),
            count("x"),
            sum("x"),
            avg("x"),
            min("x"),
            max("x"),
            first("x"),
            last("x"),
            sum("missing"),
        ]);
        let rows = [
            (Row::from_pairs([("x", Value::Int(4))]), 30),
            (Row::from_pairs([("x", Value::Null)]), 10),
            (Row::from_pairs([("x", Value::Int(-2))]), 20),
        ];
        let (mut a, mut b) = (agg.create(), agg.create());
        agg.add(&mut a, &rows[0].0, rows[0].1);
        agg.add(&mut b, &rows[1].0, rows[1].1);
        agg.add(&mut b, &rows[2].0, rows[2].1);
        agg.merge(&mut a, &b);
        // n=3 rows, 2 non-null, sum 2 (int), avg 1.0, min -2, max 4, first (ts 20) -2, last (ts 30) 4
        assert_eq!(
            agg.finish(&a),
            vec![
                Value::Int(3),
                Value::Int(2),
                Value::Int(2),
                Value::Float(1.0),
                Value::Int(-2),
                Value::Int(4),
                Value::Int(-2),
                Value::Int(4),
                Value::Null
            ]
        );
        assert_eq!(agg.exprs()[2].alias, "sum(x)");
    }
}
