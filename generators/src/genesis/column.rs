//! One column of a fitted model: its type, null rate and marginal distribution, the map
//! from a value to its place in `[0, 1]` and back, and the set of places a condition
//! allows.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use tidewater_engine::row::Value;

use super::condition::{Comparison, Op};
use super::error::{GenesisError, Result};

/// At most this many quantiles are kept per numeric column: the sampled CDF is then
/// within `1 / 4096` of the training one, whatever the table's size.
const MAX_KNOTS: usize = 4097;

/// How a timestamp column's strings are written, kept so samples look like the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampStyle {
    /// RFC 3339 in UTC: `2026-01-28T10:30:00Z` (`millis`: `.123` before the `Z`).
    Rfc3339 {
        /// Whether the training data had fractional seconds.
        millis: bool,
    },
    /// `2026-01-28 10:30:00`, no zone.
    Naive {
        /// Whether the training data had fractional seconds.
        millis: bool,
    },
    /// `2026-01-28`.
    Date,
}

impl TimestampStyle {
    /// Parses `text` in any of the styles: (epoch ms, style).
    pub fn parse(text: &str) -> Option<(i64, TimestampStyle)> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            let ms = t.timestamp_millis();
            return Some((
                ms,
                TimestampStyle::Rfc3339 {
                    millis: ms % 1000 != 0,
                },
            ));
        }
        for pattern in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(text, pattern) {
                let ms = t.and_utc().timestamp_millis();
                return Some((
                    ms,
                    TimestampStyle::Naive {
                        millis: ms % 1000 != 0,
                    },
                ));
            }
        }
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        Some((
            date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(),
            TimestampStyle::Date,
        ))
    }

    /// Writes epoch ms in this style.
    pub fn format(self, ms: i64) -> String {
        let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
        match self {
            TimestampStyle::Rfc3339 { millis: true } => t.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            TimestampStyle::Rfc3339 { millis: false } => t.format("%Y-%m-%dT%H:%M:%SZ"),
            TimestampStyle::Naive { millis: true } => t.format("%Y-%m-%d %H:%M:%S%.3f"),
            TimestampStyle::Naive { millis: false } => t.format("%Y-%m-%d %H:%M:%S"),
            TimestampStyle::Date => t.format("%Y-%m-%d"),
        }
        .to_string()
    }

    /// The style two values share (the finer one when only the fraction differs).
    fn join(self, other: TimestampStyle) -> Option<TimestampStyle> {
        use TimestampStyle::*;
        match (self, other) {
            (Rfc3339 { millis: a }, Rfc3339 { millis: b }) => Some(Rfc3339 { millis: a || b }),
            (Naive { millis: a }, Naive { millis: b }) => Some(Naive { millis: a || b }),
            (Date, Date) => Some(Date),
            _ => None,
        }
    }
}

/// What a numeric column's samples are turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum NumericKind {
    /// 64-bit floats, as sampled.
    Float,
    /// Integers: samples are rounded.
    Int,
    /// Timestamps as strings: samples are epoch ms, rounded and formatted.
    Timestamp {
        /// How the training data wrote them.
        style: TimestampStyle,
    },
}

/// The distribution of a column's non-null values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "distribution")]
pub enum Marginal {
    /// Empirical quantiles at evenly spaced probabilities (`knots[i]` is the quantile at
    /// `i / (len - 1)`), interpolated linearly between them.
    Numeric {
        /// What samples become.
        kind: NumericKind,
        /// The quantiles, non-decreasing.
        knots: Vec<f64>,
    },
    /// Category frequencies, most frequent first; category `i` owns the slice
    /// `[cumulative(i), cumulative(i + 1))` of `[0, 1]`.
    Categorical {
        /// The categories.
        categories: Vec<Value>,
        /// Their frequencies among non-null values (summing to 1).
        probabilities: Vec<f64>,
    },
}

/// One column of a fitted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnModel {
    /// The column's name.
    pub name: String,
    /// Share of nulls in the training data.
    pub null_rate: f64,
    /// The distribution of its other values.
    pub marginal: Marginal,
    /// Upper ends of the categories' slices (categorical columns only).
    #[serde(skip)]
    upper: Vec<f64>,
}

/// Where a condition lets a column's place in `[0, 1]` be.
#[derive(Debug, Clone, PartialEq)]
pub enum Allowed {
    /// Closed intervals of `[0, 1]` with positive length, sorted and disjoint.
    Intervals(Vec<(f64, f64)>),
    /// Single values of a continuous column: (place, value, density of the marginal).
    Points(Vec<(f64, f64, f64)>),
}

impl ColumnModel {
    /// Fits the column from its values.
    pub fn fit(name: &str, values: &[&Value]) -> ColumnModel {
        let present: Vec<&Value> = values.iter().copied().filter(|v| !v.is_null()).collect();
        let null_rate = if values.is_empty() {
            0.0
        } else {
            (values.len() - present.len()) as f64 / values.len() as f64
        };
        let marginal = match numeric_view(&present) {
            Some((kind, mut numbers)) => {
                numbers.sort_by(f64::total_cmp);
                Marginal::Numeric {
                    kind,
                    knots: quantile_knots(&numbers),
                }
            }
            None => categorical(&present),
        };
        ColumnModel::new(name.to_string(), null_rate, marginal)
    }

    /// A column from its parts (used by `fit` and after loading a saved model).
    pub fn new(name: String, null_rate: f64, marginal: Marginal) -> ColumnModel {
        let upper = match &marginal {
            Marginal::Categorical { probabilities, .. } => {
                let mut sum = 0.0;
                let mut upper: Vec<f64> = probabilities
                    .iter()
                    .map(|p| {
                        sum += p;
                        sum
                    })
                    .collect();
                if let Some(last) = upper.last_mut() {
                    *last = 1.0;
                }
                upper
            }
            Marginal::Numeric { .. } => Vec::new(),
        };
        ColumnModel {
            name,
            null_rate,
            marginal,
            upper,
        }
    }

    /// Checks a loaded column: probabilities, knots and rates in range.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(0.0..=1.0).contains(&self.null_rate) {
            return Err(format!(
                "`{}`: null_rate {} outside [0, 1]",
                self.name, self.null_rate
            ));
        }
        match &self.marginal {
            Marginal::Numeric { knots, .. } => {
                if knots.is_empty() || knots.windows(2).any(|w| w[0] > w[1] || w[1].is_nan()) {
                    return Err(format!(
                        "`{}`: knots must be non-empty and sorted",
                        self.name
                    ));
                }
            }
            Marginal::Categorical {
                categories,
                probabilities,
            } => {
                let sum: f64 = probabilities.iter().sum();
                if categories.len() != probabilities.len()
                    || probabilities.iter().any(|p| !(0.0..=1.0).contains(p))
                    || (!categories.is_empty() && (sum - 1.0).abs() > 1e-6)
                {
                    return Err(format!(
                        "`{}`: one probability per category, summing to 1",
                        self.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// The place in `[0, 1]` of the `i`th value of a categorical column, spread over the
    /// category's slice by `jitter` in `[0, 1)` (numeric columns use ranks instead).
    pub fn category_place(&self, value: &Value, jitter: f64) -> Option<f64> {
        let Marginal::Categorical { categories, .. } = &self.marginal else {
            return None;
        };
        let i = categories.iter().position(|c| c == value)?;
        let lower = if i == 0 { 0.0 } else { self.upper[i - 1] };
        Some(lower + jitter * (self.upper[i] - lower))
    }

    /// The value at place `u` of `[0, 1]`.
    pub fn value_at(&self, u: f64) -> Value {
        match &self.marginal {
            Marginal::Numeric { kind, knots } => numeric_value(*kind, quantile(knots, u)),
            Marginal::Categorical { categories, .. } => {
                if categories.is_empty() {
                    return Value::Null;
                }
                let i = self.upper.partition_point(|&upper| upper <= u);
                categories[i.min(categories.len() - 1)].clone()
            }
        }
    }

    /// The value a point condition pins (a sampled float, converted like samples are).
    pub fn pinned_value(&self, x: f64) -> Value {
        match &self.marginal {
            Marginal::Numeric { kind, .. } => numeric_value(*kind, x),
            Marginal::Categorical { .. } => Value::Float(x),
        }
    }

    /// The places of `[0, 1]` whose values meet every comparison.
    pub fn allowed(&self, comparisons: &[Comparison]) -> Result<Allowed> {
        let mut allowed = Allowed::Intervals(vec![(0.0, 1.0)]);
        for comparison in comparisons {
            let next = match &self.marginal {
                Marginal::Categorical { categories, .. } => {
                    Allowed::Intervals(self.category_intervals(categories, comparison))
                }
                Marginal::Numeric { kind, knots } => {
                    numeric_allowed(&self.name, *kind, knots, comparison)?
                }
            };
            allowed = intersect(allowed, next);
        }
        let empty = match &allowed {
            Allowed::Intervals(intervals) => intervals.is_empty(),
            Allowed::Points(points) => points.is_empty(),
        };
        if empty {
            return Err(GenesisError::Infeasible {
                column: self.name.clone(),
                condition: comparisons
                    .iter()
                    .map(Comparison::to_string)
                    .collect::<Vec<_>>()
                    .join(" and "),
                why: self.describe(),
            });
        }
        Ok(allowed)
    }

    fn category_intervals(&self, categories: &[Value], comparison: &Comparison) -> Vec<(f64, f64)> {
        let mut intervals: Vec<(f64, f64)> = Vec::new();
        for (i, category) in categories.iter().enumerate() {
            if !comparison.matches(category) {
                continue;
            }
            let lower = if i == 0 { 0.0 } else { self.upper[i - 1] };
            let upper = self.upper[i];
            if upper <= lower {
                continue;
            }
            match intervals.last_mut() {
                Some(last) if last.1 == lower => last.1 = upper,
                _ => intervals.push((lower, upper)),
            }
        }
        intervals
    }

    /// What the model knows of the column's values, for errors.
    pub fn describe(&self) -> String {
        match &self.marginal {
            Marginal::Numeric { kind, knots } => {
                let (lo, hi) = (knots[0], knots[knots.len() - 1]);
                match kind {
                    NumericKind::Timestamp { style } => format!(
                        "the training values run from {} to {}",
                        style.format(lo.round() as i64),
                        style.format(hi.round() as i64)
                    ),
                    _ => format!("the training values run from {lo} to {hi}"),
                }
            }
            Marginal::Categorical { categories, .. } => {
                let shown: Vec<String> = categories.iter().take(20).map(show).collect();
                let more = if categories.len() > 20 { ", ..." } else { "" };
                format!("the categories are {}{more}", shown.join(", "))
            }
        }
    }
}

fn show(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The column as numbers if every present value is one (or a timestamp string).
fn numeric_view(present: &[&Value]) -> Option<(NumericKind, Vec<f64>)> {
    if present.is_empty() {
        return None;
    }
    if present
        .iter()
        .all(|v| matches!(v, Value::Int(_) | Value::Float(_)))
    {
        let kind = if present.iter().all(|v| matches!(v, Value::Int(_))) {
            NumericKind::Int
        } else {
            NumericKind::Float
        };
        return Some((kind, present.iter().filter_map(|v| v.as_f64()).collect()));
    }
    let mut style: Option<TimestampStyle> = None;
    let mut numbers = Vec::with_capacity(present.len());
    for value in present {
        let (ms, this) = TimestampStyle::parse(value.as_str()?)?;
        style = Some(match style {
            None => this,
            Some(seen) => seen.join(this)?,
        });
        numbers.push(ms as f64);
    }
    Some((NumericKind::Timestamp { style: style? }, numbers))
}

fn categorical(present: &[&Value]) -> Marginal {
    let mut counts: std::collections::BTreeMap<&Value, u64> = Default::default();
    for value in present {
        *counts.entry(value).or_default() += 1;
    }
    let mut ranked: Vec<(&Value, u64)> = counts.into_iter().collect();
    // Most frequent first, ties in value order: deterministic whatever the input order.
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let total = present.len() as f64;
    Marginal::Categorical {
        categories: ranked.iter().map(|(v, _)| (*v).clone()).collect(),
        probabilities: ranked.iter().map(|(_, n)| *n as f64 / total).collect(),
    }
}

/// Quantiles of sorted numbers at evenly spaced probabilities, at most `MAX_KNOTS`.
fn quantile_knots(sorted: &[f64]) -> Vec<f64> {
    if sorted.len() <= MAX_KNOTS {
        return sorted.to_vec();
    }
    (0..MAX_KNOTS)
        .map(|i| quantile(sorted, i as f64 / (MAX_KNOTS - 1) as f64))
        .collect()
}

/// The value at probability `u` of evenly spaced quantiles, interpolated.
fn quantile(knots: &[f64], u: f64) -> f64 {
    let last = knots.len() - 1;
    if last == 0 {
        return knots[0];
    }
    let position = u.clamp(0.0, 1.0) * last as f64;
    let j = (position.floor() as usize).min(last - 1);
    let t = position - j as f64;
    knots[j] + t * (knots[j + 1] - knots[j])
}

/// `inf { u : quantile(u) >= a }`, or `+inf` when no value reaches `a`.
fn first_place_at_least(knots: &[f64], a: f64) -> f64 {
    let last = knots.len() - 1;
    if a <= knots[0] {
        return 0.0;
    }
    if a > knots[last] {
        return f64::INFINITY;
    }
    let j = knots.partition_point(|&k| k < a);
    let (lo, hi) = (knots[j - 1], knots[j]);
    ((j - 1) as f64 + (a - lo) / (hi - lo)) / last as f64
}

/// `sup { u : quantile(u) <= b }`, or `-inf` when every value exceeds `b`.
fn last_place_at_most(knots: &[f64], b: f64) -> f64 {
    let last = knots.len() - 1;
    if b >= knots[last] {
        return 1.0;
    }
    if b < knots[0] {
        return f64::NEG_INFINITY;
    }
    let j = knots.partition_point(|&k| k <= b) - 1;
    let (lo, hi) = (knots[j], knots[j + 1]);
    (j as f64 + (b - lo) / (hi - lo)) / last as f64
}

fn numeric_value(kind: NumericKind, x: f64) -> Value {
    match kind {
        NumericKind::Float => Value::Float(x),
        NumericKind::Int => Value::Int(x.round() as i64),
        NumericKind::Timestamp { style } => Value::Str(style.format(x.round() as i64)),
    }
}

/// A comparison's operand as a number of the column's kind.
fn operand(column: &str, kind: NumericKind, value: &Value) -> Result<f64> {
    let found = || GenesisError::InvalidCondition {
        column: column.to_string(),
        expected: match kind {
            NumericKind::Timestamp { .. } => "a timestamp string or epoch milliseconds".into(),
            _ => "a number".into(),
        },
        found: show(value),
    };
    match (kind, value) {
        (NumericKind::Timestamp { .. }, Value::Str(s)) => TimestampStyle::parse(s)
            .map(|(ms, _)| ms as f64)
            .ok_or_else(found),
        (_, v) => v.as_f64().filter(|x| x.is_finite()).ok_or_else(found),
    }
}

fn numeric_allowed(
    column: &str,
    kind: NumericKind,
    knots: &[f64],
    comparison: &Comparison,
) -> Result<Allowed> {
    let rounded = !matches!(kind, NumericKind::Float);
    let operands = comparison
        .operands()
        .iter()
        .map(|v| operand(column, kind, v))
        .collect::<Result<Vec<f64>>>()?;
    let at_least = |a: f64| first_place_at_least(knots, a);
    let at_most = |b: f64| last_place_at_most(knots, b);
    // Rounded columns: `round(x) >= t` is `x >= ceil(t) - 0.5`, and so on.
    let range = |lo: Option<f64>, hi: Option<f64>| -> Vec<(f64, f64)> {
        let lo = lo.map_or(0.0, at_least);
        let hi = hi.map_or(1.0, at_most);
        if lo < hi {
            vec![(lo, hi)]
        } else {
            Vec::new()
        }
    };
    let point = |t: f64| -> Allowed {
        if rounded {
            if t.fract() != 0.0 {
                return Allowed::Intervals(Vec::new());
            }
            return Allowed::Intervals(range(Some(t - 0.5), Some(t + 0.5)));
        }
        let (lo, hi) = (at_least(t), at_most(t));
        if lo < hi {
            Allowed::Intervals(vec![(lo, hi)])
        } else if lo.is_finite() && hi.is_finite() {
            Allowed::Points(vec![(lo, t, density(knots, lo))])
        } else {
            Allowed::Points(Vec::new())
        }
    };
    let t = operands.first().copied().unwrap_or(0.0);
    Ok(match comparison.op {
        Op::Gte if rounded => Allowed::Intervals(range(Some(t.ceil() - 0.5), None)),
        Op::Gt if rounded => Allowed::Intervals(range(Some(t.floor() + 0.5), None)),
        Op::Lte if rounded => Allowed::Intervals(range(None, Some(t.floor() + 0.5))),
        Op::Lt if rounded => Allowed::Intervals(range(None, Some(t.ceil() - 0.5))),
        Op::Gte | Op::Gt => Allowed::Intervals(range(Some(t), None)),
        Op::Lte | Op::Lt => Allowed::Intervals(range(None, Some(t))),
        Op::Eq => point(t),
        Op::In => operands
            .iter()
            .map(|&t| point(t))
            .fold(Allowed::Points(Vec::new()), union),
        Op::Ne => match point(t) {
            // A single value of a continuous column has no mass: every sample differs
            // from it but for rounding, which the final check catches.
            Allowed::Points(_) => Allowed::Intervals(vec![(0.0, 1.0)]),
            Allowed::Intervals(removed) => Allowed::Intervals(complement(&removed)),
        },
    })
}

/// The marginal's density (per unit of place) at place `u`, for weighting point values.
fn density(knots: &[f64], u: f64) -> f64 {
    let last = knots.len() - 1;
    if last == 0 {
        return 1.0;
    }
    let j = ((u * last as f64).floor() as usize).min(last - 1);
    let width = knots[j + 1] - knots[j];
    if width > 0.0 {
        1.0 / (last as f64 * width)
    } else {
        f64::MAX
    }
}

fn complement(intervals: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut start = 0.0;
    for &(lo, hi) in intervals {
        if lo > start {
            out.push((start, lo));
        }
        start = hi;
    }
    if start < 1.0 {
        out.push((start, 1.0));
    }
    out
}

fn union(a: Allowed, b: Allowed) -> Allowed {
    match (a, b) {
        (Allowed::Points(mut p), Allowed::Points(q)) => {
            p.extend(q);
            Allowed::Points(p)
        }
        (Allowed::Intervals(mut i), Allowed::Intervals(j)) => {
            i.extend(j);
            Allowed::Intervals(merge(i))
        }
        // A value with mass and one without: the one without has probability zero.
        (Allowed::Intervals(i), Allowed::Points(_))
        | (Allowed::Points(_), Allowed::Intervals(i)) => {
            if i.is_empty() {
                Allowed::Points(Vec::new())
            } else {
                Allowed::Intervals(i)
            }
        }
    }
}

fn merge(mut intervals: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (lo, hi) in intervals {
        match out.last_mut() {
            Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn intersect(a: Allowed, b: Allowed) -> Allowed {
    match (a, b) {
        (Allowed::Intervals(i), Allowed::Intervals(j)) => {
            let mut out = Vec::new();
            for &(a0, a1) in &i {
                for &(b0, b1) in &j {
                    let (lo, hi) = (a0.max(b0), a1.min(b1));
                    if lo < hi {
                        out.push((lo, hi));
                    }
                }
            }
            Allowed::Intervals(merge(out))
        }
        (Allowed::Points(p), Allowed::Intervals(i))
        | (Allowed::Intervals(i), Allowed::Points(p)) => Allowed::Points(
            p.into_iter()
                .filter(|(u, ..)| i.iter().any(|&(lo, hi)| lo <= *u && *u <= hi))
                .collect(),
        ),
        (Allowed::Points(p), Allowed::Points(q)) => Allowed::Points(
            p.into_iter()
                .filter(|(_, x, _)| q.iter().any(|(_, y, _)| x == y))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[Value]) -> ColumnModel {
        let refs: Vec<&Value> = values.iter().collect();
        ColumnModel::fit("c", &refs)
    }

    #[test]
    fn quantiles_interpolate_and_invert() {
        let knots = [0.0, 10.0, 10.0, 20.0];
        assert_eq!(quantile(&knots, 0.0), 0.0);
        assert_eq!(quantile(&knots, 0.5), 10.0);
        assert_eq!(quantile(&knots, 1.0), 20.0);
        assert_eq!(quantile(&knots, 1.0 / 6.0), 5.0);
        // The tie at 10 owns the places [1/3, 2/3].
        assert_eq!(first_place_at_least(&knots, 10.0), 1.0 / 3.0);
        assert_eq!(last_place_at_most(&knots, 10.0), 2.0 / 3.0);
        assert_eq!(first_place_at_least(&knots, 25.0), f64::INFINITY);
        assert_eq!(last_place_at_most(&knots, -1.0), f64::NEG_INFINITY);
    }

    #[test]
    fn types_are_inferred() {
        let ints = column(&[Value::Int(1), Value::Null, Value::Int(3), Value::Int(2)]);
        assert_eq!(ints.null_rate, 0.25);
        assert!(matches!(
            ints.marginal,
            Marginal::Numeric {
                kind: NumericKind::Int,
                ..
            }
        ));
        let times = column(&[
            Value::from("2026-01-28T10:30:00Z"),
            Value::from("2026-01-29T10:30:00Z"),
        ]);
        assert_eq!(times.value_at(0.5), Value::from("2026-01-28T22:30:00Z"));
        let words = column(&[Value::from("b"), Value::from("a"), Value::from("b")]);
        assert_eq!(words.value_at(0.1), Value::from("b"));
        assert_eq!(words.value_at(0.9), Value::from("a"));
        let mixed = column(&[Value::from("x"), Value::Int(1)]);
        assert!(matches!(mixed.marginal, Marginal::Categorical { .. }));
    }

    #[test]
    fn conditions_become_places() {
        let ages = column(&(18..=27).map(Value::Int).collect::<Vec<_>>());
        let gte = Comparison::new(Op::Gte, vec![Value::Int(21)]);
        let Allowed::Intervals(at_least_21) = ages.allowed(&[gte]).unwrap() else {
            panic!("an integer column gives intervals")
        };
        // 20.5 sits halfway between the knots 20 and 21 (places 2/9 and 3/9).
        assert_eq!(at_least_21.len(), 1);
        assert!((at_least_21[0].0 - 2.5 / 9.0).abs() < 1e-12);
        let far = Comparison::new(Op::Gt, vec![Value::Int(99)]);
        let err = ages.allowed(&[far]).unwrap_err().to_string();
        assert_eq!(
            err,
            "condition on `c` cannot be met: gt 99 while the training values run from 18 to 27"
        );
    }
}
