//! How close a synthetic table is to its training table: per-column Kolmogorov-Smirnov
//! statistics (total variation for categories) and the error of the numeric columns'
//! correlation matrix. The same measure is used in the tests and beside SDV's
//! `copulas` in the comparison bench.

use tidewater_engine::row::{Row, Value};

use super::column::TimestampStyle;

/// The fidelity of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnFidelity {
    /// The column.
    pub column: String,
    /// Numeric columns: the two-sample KS statistic; categorical ones: the total
    /// variation distance of the category frequencies (both in `[0, 1]`, 0 is equal).
    pub distance: f64,
    /// Whether the column was compared as numbers.
    pub numeric: bool,
}

/// The fidelity of a synthetic table.
#[derive(Debug, Clone, PartialEq)]
pub struct Fidelity {
    /// One entry per training column.
    pub columns: Vec<ColumnFidelity>,
    /// Largest absolute difference between the Pearson correlations of the numeric
    /// columns in the two tables.
    pub max_correlation_error: f64,
    /// Mean absolute difference over the pairs of numeric columns.
    pub mean_correlation_error: f64,
    /// Largest absolute difference between the Spearman (rank) correlations: what a
    /// copula keeps whatever the marginals, where Pearson's also depends on their shape.
    pub max_rank_correlation_error: f64,
}

impl Fidelity {
    /// The worst column distance.
    pub fn max_distance(&self) -> f64 {
        self.columns.iter().map(|c| c.distance).fold(0.0, f64::max)
    }
}

/// The two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical
/// CDFs of `a` and `b`.
///
/// ```
/// use tidewater_generators::genesis::ks_statistic;
/// assert_eq!(ks_statistic(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), 0.0);
/// assert_eq!(ks_statistic(&[1.0, 2.0], &[3.0, 4.0]), 1.0);
/// ```
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return if a.len() == b.len() { 0.0 } else { 1.0 };
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut gap) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        gap = gap.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    gap
}

fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(_) | Value::Float(_) => value.as_f64(),
        Value::Str(s) => TimestampStyle::parse(s).map(|(ms, _)| ms as f64),
        _ => None,
    }
}

fn column_values<'a>(rows: &'a [Row], name: &str) -> Vec<&'a Value> {
    rows.iter()
        .map(|r| r.get(name).unwrap_or(&Value::Null))
        .filter(|v| !v.is_null())
        .collect()
}

fn numbers(values: &[&Value]) -> Option<Vec<f64>> {
    values.iter().map(|v| as_number(v)).collect()
}

fn total_variation(a: &[&Value], b: &[&Value]) -> f64 {
    let mut counts: std::collections::BTreeMap<&Value, (f64, f64)> = Default::default();
    for v in a {
        counts.entry(v).or_default().0 += 1.0 / a.len() as f64;
    }
    for v in b {
        counts.entry(v).or_default().1 += 1.0 / b.len() as f64;
    }
    counts.values().map(|(p, q)| (p - q).abs()).sum::<f64>() / 2.0
}

/// A numeric column of every row (`None` where null or not a number).
fn numeric_column(rows: &[Row], name: &str) -> Vec<Option<f64>> {
    rows.iter()
        .map(|r| r.get(name).and_then(as_number))
        .collect()
}

/// Average ranks of the present values.
fn ranks(column: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut present: Vec<(f64, usize)> = column
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|x| (x, i)))
        .collect();
    present.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = vec![None; column.len()];
    let mut start = 0;
    while start < present.len() {
        let mut end = start + 1;
        while end < present.len() && present[end].0 == present[start].0 {
            end += 1;
        }
        let rank = (start + end - 1) as f64 / 2.0;
        for &(_, row) in &present[start..end] {
            out[row] = Some(rank);
        }
        start = end;
    }
    out
}

fn pearson(x: &[Option<f64>], y: &[Option<f64>]) -> f64 {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
        .collect();
    let n = pairs.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in pairs {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Compares `synthetic` with `training`, column by column (the training table's
/// columns; a column missing from the synthetic rows counts as all null).
pub fn fidelity(training: &[Row], synthetic: &[Row]) -> Fidelity {
    let names: Vec<String> = training
        .first()
        .map(|r| r.schema().names().map(str::to_string).collect())
        .unwrap_or_default();
    let mut numeric_columns = Vec::new();
    let columns = names
        .iter()
        .map(|name| {
            let a = column_values(training, name);
            let b = column_values(synthetic, name);
            match (numbers(&a), numbers(&b)) {
                (Some(x), Some(y)) if !x.is_empty() => {
                    numeric_columns.push(name.as_str());
                    ColumnFidelity {
                        column: name.clone(),
                        distance: ks_statistic(&x, &y),
                        numeric: true,
                    }
                }
                _ => ColumnFidelity {
                    column: name.clone(),
                    distance: total_variation(&a, &b),
                    numeric: false,
                },
            }
        })
        .collect();
    let values = |rows: &[Row]| -> Vec<Vec<Option<f64>>> {
        numeric_columns
            .iter()
            .map(|c| numeric_column(rows, c))
            .collect()
    };
    let (a, b) = (values(training), values(synthetic));
    let (rank_a, rank_b): (Vec<_>, Vec<_>) = (
        a.iter().map(|c| ranks(c)).collect(),
        b.iter().map(|c| ranks(c)).collect(),
    );
    let mut errors = Vec::new();
    let mut rank_errors: Vec<f64> = Vec::new();
    for i in 0..a.len() {
        for j in 0..i {
            errors.push((pearson(&a[i], &a[j]) - pearson(&b[i], &b[j])).abs());
            rank_errors
                .push((pearson(&rank_a[i], &rank_a[j]) - pearson(&rank_b[i], &rank_b[j])).abs());
        }
    }
    Fidelity {
        columns,
        max_correlation_error: errors.iter().copied().fold(0.0, f64::max),
        mean_correlation_error: if errors.is_empty() {
            0.0
        } else {
            errors.iter().sum::<f64>() / errors.len() as f64
        },
        max_rank_correlation_error: rank_errors.iter().copied().fold(0.0, f64::max),
    }
}
