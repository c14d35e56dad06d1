//! The Gaussian part of the copula: a correlation matrix of normal scores, its Cholesky
//! factor, and the conditional normal distributions that conditions need.

use nalgebra::{DMatrix, SymmetricEigen};
use rand::Rng;
use rand_distr::StandardNormal;
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

/// Smallest eigenvalue kept when repairing a correlation matrix.
const MIN_EIGENVALUE: f64 = 1e-9;

fn standard() -> Normal {
    // Mean 0 and deviation 1 are valid parameters: `Normal::new` cannot fail on them.
    Normal::standard()
}

/// The standard normal CDF.
pub(crate) fn cdf(z: f64) -> f64 {
    standard().cdf(z)
}

/// The standard normal quantile (`±inf` at 0 and 1).
pub(crate) fn quantile(u: f64) -> f64 {
    if u <= 0.0 {
        f64::NEG_INFINITY
    } else if u >= 1.0 {
        f64::INFINITY
    } else {
        standard().inverse_cdf(u)
    }
}

/// The standard normal density.
pub(crate) fn density(z: f64) -> f64 {
    standard().pdf(z)
}

/// The copula's correlation matrix from the columns' uniform scores (ranks scaled to
/// `[0, 1]`; NaN marks a missing score): each pair's Spearman correlation over the rows
/// where both are present, turned into the normal correlation that has it
/// (`2 sin(pi rho_s / 6)`), then repaired into a valid correlation matrix. Matching rank
/// correlations, rather than the correlation of normal scores, keeps the synthetic
/// rank correlations right when the data's dependence is not exactly Gaussian.
pub(crate) fn correlation_from_ranks(scores: &[Vec<f64>]) -> DMatrix<f64> {
    let d = scores.len();
    let mut m = DMatrix::identity(d, d);
    for i in 0..d {
        for j in 0..i {
            let spearman = pearson(&scores[i], &scores[j]);
            let r = (2.0 * (std::f64::consts::PI * spearman / 6.0).sin()).clamp(-1.0, 1.0);
            m[(i, j)] = r;
            m[(j, i)] = r;
        }
    }
    repair(m)
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let pairs = a.iter().zip(b).filter(|(x, y)| !x.is_nan() && !y.is_nan());
    let (mut n, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs.clone() {
        n += 1.0;
        sx += x;
        sy += y;
    }
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (sx / n, sy / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return 0.0;
    }
    (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0)
}

/// The nearest positive definite matrix with a unit diagonal: pairwise correlations over
/// different rows, or duplicated columns, can give a matrix that is not one.
pub(crate) fn repair(m: DMatrix<f64>) -> DMatrix<f64> {
    let eigen = SymmetricEigen::new(m.clone());
    if eigen.eigenvalues.iter().all(|&l| l >= MIN_EIGENVALUE) {
        return m;
    }
    let clipped = eigen.eigenvalues.map(|l| l.max(MIN_EIGENVALUE));
    let v = &eigen.eigenvectors;
    let rebuilt = v * DMatrix::from_diagonal(&clipped) * v.transpose();
    let scale: Vec<f64> = (0..rebuilt.nrows())
        .map(|i| rebuilt[(i, i)].sqrt())
        .collect();
    DMatrix::from_fn(rebuilt.nrows(), rebuilt.ncols(), |i, j| {
        if i == j {
            1.0
        } else {
            rebuilt[(i, j)] / (scale[i] * scale[j])
        }
    })
}

/// The lower Cholesky factor of a covariance matrix, with a growing ridge added when
/// rounding left it barely indefinite (a singular conditional covariance is expected
/// when columns are perfectly correlated).
pub(crate) fn lower_factor(cov: &DMatrix<f64>) -> DMatrix<f64> {
    let n = cov.nrows();
    let mut ridge = 0.0;
    loop {
        let m = cov + DMatrix::identity(n, n) * ridge;
        if let Some(c) = m.cholesky() {
            return c.l();
        }
        ridge = if ridge == 0.0 { 1e-12 } else { ridge * 10.0 };
        if ridge > 1.0 {
            return DMatrix::zeros(n, n);
        }
    }
}

/// `out = lower * e` for fresh standard normal `e`, plus `mean`.
pub(crate) fn draw<R: Rng>(lower: &DMatrix<f64>, mean: &[f64], rng: &mut R, out: &mut [f64]) {
    let n = lower.nrows();
    let mut e = [0.0f64; 64];
    let mut heap = Vec::new();
    let e: &mut [f64] = if n <= e.len() {
        &mut e[..n]
    } else {
        heap.resize(n, 0.0);
        &mut heap
    };
    for x in e.iter_mut() {
        *x = rng.sample(StandardNormal);
    }
    for i in 0..n {
        let mut sum = mean[i];
        for (j, x) in e.iter().enumerate().take(i + 1) {
            sum += lower[(i, j)] * x;
        }
        out[i] = sum;
    }
}

/// The normal distribution of the coordinates `rest` given the coordinates `given` of a
/// zero-mean normal with covariance `cov`: mean `coef * z_given`, covariance `cov`.
#[derive(Debug, Clone)]
pub(crate) struct Conditional {
    /// The coordinates it describes, in order.
    pub rest: Vec<usize>,
    /// `cov(rest, given) * cov(given)^-1`.
    pub coef: DMatrix<f64>,
    /// The conditional covariance.
    pub cov: DMatrix<f64>,
    /// Its lower Cholesky factor.
    pub lower: DMatrix<f64>,
}

impl Conditional {
    /// Conditions `cov` on the coordinates `given`.
    pub fn new(cov: &DMatrix<f64>, given: &[usize]) -> Conditional {
        let n = cov.nrows();
        let rest: Vec<usize> = (0..n).filter(|i| !given.contains(i)).collect();
        let pick = |rows: &[usize], cols: &[usize]| {
            DMatrix::from_fn(rows.len(), cols.len(), |i, j| cov[(rows[i], cols[j])])
        };
        let s_rr = pick(&rest, &rest);
        if given.is_empty() {
            let lower = lower_factor(&s_rr);
            return Conditional {
                coef: DMatrix::zeros(rest.len(), 0),
                cov: s_rr,
                lower,
                rest,
            };
        }
        let s_gg = pick(given, given);
        let s_rg = pick(&rest, given);
        let g_lower = lower_factor(&s_gg);
        // coef = s_rg * s_gg^-1, solved through s_gg's factor: s_gg * coef^T = s_rg^T.
        let solve = |b: &DMatrix<f64>| {
            let y = g_lower
                .solve_lower_triangular(b)
                .unwrap_or_else(|| DMatrix::zeros(b.nrows(), b.ncols()));
            g_lower
                .transpose()
                .solve_upper_triangular(&y)
                .unwrap_or_else(|| DMatrix::zeros(b.nrows(), b.ncols()))
        };
        let coef = solve(&s_rg.transpose()).transpose();
        let cov_c = &s_rr - &coef * s_rg.transpose();
        let cov_c = (&cov_c + cov_c.transpose()) * 0.5;
        Conditional {
            lower: lower_factor(&cov_c),
            cov: cov_c,
            coef,
            rest,
        }
    }

    /// The same distribution restricted to one of its coordinates.
    pub fn only(self, coordinate: usize) -> Conditional {
        let k = self.rest.iter().position(|&c| c == coordinate).unwrap_or(0);
        let variance = self.cov[(k, k)].max(0.0);
        Conditional {
            rest: vec![coordinate],
            coef: self.coef.rows(k, 1).into_owned(),
            cov: DMatrix::from_element(1, 1, variance),
            lower: DMatrix::from_element(1, 1, variance.sqrt()),
        }
    }

    /// The conditional mean given the values of the `given` coordinates (in their order)
    /// and the prior means `prior` of every coordinate.
    pub fn mean(&self, prior: &[f64], given_prior: &[f64], given: &[f64]) -> Vec<f64> {
        (0..self.rest.len())
            .map(|i| {
                let mut m = prior[i];
                for j in 0..given.len() {
                    m += self.coef[(i, j)] * (given[j] - given_prior[j]);
                }
                m
            })
            .collect()
    }
}

/// Draws from a normal with mean `mean` and deviation `sd` restricted to a union of
/// intervals, by inverting the CDF inside an interval chosen by its mass. `None` when
/// the set has no mass.
pub(crate) fn truncated<R: Rng>(
    mean: f64,
    sd: f64,
    intervals: &[(f64, f64)],
    rng: &mut R,
) -> Option<f64> {
    let masses: Vec<(f64, f64)> = intervals
        .iter()
        .map(|&(a, b)| {
            if sd <= 0.0 {
                let inside = a <= mean && mean <= b;
                (f64::from(u8::from(inside)), f64::from(u8::from(inside)))
            } else {
                (cdf((a - mean) / sd), cdf((b - mean) / sd))
            }
        })
        .collect();
    let total: f64 = masses.iter().map(|(lo, hi)| hi - lo).sum();
    if total <= 0.0 || total.is_nan() {
        return None;
    }
    if sd <= 0.0 {
        return Some(mean);
    }
    let mut pick = rng.random::<f64>() * total;
    for &(lo, hi) in &masses {
        let mass = hi - lo;
        if pick < mass {
            let u = lo + rng.random::<f64>() * mass;
            let z = mean + sd * quantile(u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON));
            return Some(z);
        }
        pick -= mass;
    }
    let &(lo, hi) = masses.iter().rev().find(|(lo, hi)| hi > lo)?;
    Some(mean + sd * quantile((lo + hi) / 2.0))
}

/// The mass of a normal on a union of intervals.
pub(crate) fn mass(mean: f64, sd: f64, intervals: &[(f64, f64)]) -> f64 {
    intervals
        .iter()
        .map(|&(a, b)| {
            if sd <= 0.0 {
                f64::from(u8::from(a <= mean && mean <= b))
            } else {
                cdf((b - mean) / sd) - cdf((a - mean) / sd)
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn conditioning_a_bivariate_normal() {
        let cov = DMatrix::from_row_slice(2, 2, &[1.0, 0.8, 0.8, 1.0]);
        let c = Conditional::new(&cov, &[0]);
        assert_eq!(c.rest, vec![1]);
        assert!((c.coef[(0, 0)] - 0.8).abs() < 1e-12);
        assert!((c.cov[(0, 0)] - 0.36).abs() < 1e-12);
        assert!((c.mean(&[0.0], &[0.0], &[2.0])[0] - 1.6).abs() < 1e-12);
    }

    #[test]
    fn repair_gives_a_valid_correlation() {
        // Pairwise correlations that no three variables can have together.
        let m = DMatrix::from_row_slice(3, 3, &[1.0, 0.9, -0.9, 0.9, 1.0, 0.9, -0.9, 0.9, 1.0]);
        let fixed = repair(m);
        assert!(fixed.clone().cholesky().is_some());
        for i in 0..3 {
            assert!((fixed[(i, i)] - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn truncated_draws_stay_inside() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(1);
        for _ in 0..1000 {
            let z = truncated(0.0, 1.0, &[(-3.0, -2.0), (1.5, 1.7)], &mut rng).unwrap();
            assert!(
                (-3.0..=-2.0).contains(&z) || (1.5..=1.7).contains(&z),
                "{z}"
            );
        }
        assert_eq!(truncated(0.0, 1.0, &[], &mut rng), None);
        assert!((mass(0.0, 1.0, &[(f64::NEG_INFINITY, 0.0)]) - 0.5).abs() < 1e-12);
    }
}
