//! Sampling under conditions: exact conditional sampling of the copula where it allows
//! (values pinned by a condition, and one range condition drawn from its truncated
//! conditional normal), rejection for the remaining conditions.

use rand::Rng;
use tidewater_engine::row::{Row, Value};

use super::column::Allowed;
use super::condition::Conditions;
use super::copula::{self, Conditional};
use super::error::{GenesisError, Result};
use super::fitted::FittedGenerator;
use crate::core::event_rng;

/// Keeps conditioned draws apart from the unconditioned stream of the same seed.
const CONDITIONED_STREAM: u64 = 0xC0DE_D5A3_91E5_0001;

/// Candidates drawn before the acceptance rate is judged.
const WARM_UP: u64 = 1000;

/// (normal score, value, marginal density) of a value a condition pins.
type Candidate = (f64, f64, f64);

/// A column pinned to one of a few values of a continuous column.
struct PointStep {
    column: usize,
    candidates: Vec<Candidate>,
    /// The column given the columns pinned before it.
    given: Conditional,
}

/// A column limited to intervals of normal scores.
struct RangeColumn {
    column: usize,
    /// Position among the free coordinates.
    position: usize,
    intervals: Vec<(f64, f64)>,
    /// The other free coordinates given this one.
    others: Conditional,
}

/// Rows of a [`FittedGenerator`] that meet fixed conditions; row `i` is a pure
/// function of the model, seed, conditions and `i`.
pub struct ConditionalSampler {
    generator: FittedGenerator,
    conditions: Conditions,
    points: Vec<PointStep>,
    free: Conditional,
    ranges: Vec<RangeColumn>,
    conditioned: Vec<bool>,
    attempts: u64,
    accepted: u64,
}

impl std::fmt::Debug for ConditionalSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConditionalSampler")
            .field("conditions", &self.conditions.to_string())
            .field("attempts", &self.attempts)
            .field("accepted", &self.accepted)
            .finish()
    }
}

impl ConditionalSampler {
    pub(crate) fn new(generator: FittedGenerator, conditions: Conditions) -> Result<Self> {
        let model = generator.model();
        let d = model.columns.len();
        let mut conditioned = vec![false; d];
        let mut point_columns: Vec<(usize, Vec<Candidate>)> = Vec::new();
        let mut range_columns: Vec<(usize, Vec<(f64, f64)>)> = Vec::new();
        for (name, comparisons) in conditions.columns() {
            let column = generator.column(name)?;
            let index = model
                .columns
                .iter()
                .position(|c| c.name == *name)
                .unwrap_or(0);
            conditioned[index] = true;
            match column.allowed(comparisons)? {
                Allowed::Points(points) => point_columns.push((
                    index,
                    points
                        .into_iter()
                        .map(|(u, x, density)| (copula::quantile(u), x, density))
                        .collect(),
                )),
                Allowed::Intervals(intervals) if intervals == [(0.0, 1.0)] => {}
                Allowed::Intervals(intervals) => range_columns.push((
                    index,
                    intervals
                        .into_iter()
                        .map(|(lo, hi)| (copula::quantile(lo), copula::quantile(hi)))
                        .collect(),
                )),
            }
        }
        let cov = &model.correlation;
        let pinned: Vec<usize> = point_columns.iter().map(|(c, _)| *c).collect();
        let points = point_columns
            .into_iter()
            .enumerate()
            .map(|(step, (column, candidates))| PointStep {
                column,
                candidates,
                given: Conditional::new(cov, &pinned[..step]).only(column),
            })
            .collect();
        let free = Conditional::new(cov, &pinned);
        let ranges = range_columns
            .into_iter()
            .map(|(column, intervals)| {
                let position = free.rest.iter().position(|&c| c == column).unwrap_or(0);
                RangeColumn {
                    column,
                    position,
                    intervals,
                    others: Conditional::new(&free.cov, &[position]),
                }
            })
            .collect();
        Ok(ConditionalSampler {
            generator,
            conditions,
            points,
            free,
            ranges,
            conditioned,
            attempts: 0,
            accepted: 0,
        })
    }

    /// Candidates drawn and accepted so far.
    pub fn acceptance(&self) -> (u64, u64) {
        (self.accepted, self.attempts)
    }

    /// Conditioned row `index`.
    pub fn row(&mut self, index: u64) -> Result<Row> {
        let mut rng = event_rng(self.generator.seed() ^ CONDITIONED_STREAM, index);
        let bound = self.generator.min_acceptance();
        let per_row_limit = ((10.0 / bound) as u64).max(WARM_UP);
        for _ in 0..per_row_limit {
            self.attempts += 1;
            if let Some(row) = self.candidate(&mut rng)? {
                if self.conditions.matches(&row) {
                    self.accepted += 1;
                    return Ok(row);
                }
            }
            if self.attempts >= WARM_UP && (self.accepted as f64) < bound * self.attempts as f64 {
                return Err(self.too_low(bound));
            }
        }
        Err(self.too_low(bound))
    }

    fn too_low(&self, bound: f64) -> GenesisError {
        GenesisError::AcceptanceTooLow {
            conditions: self.conditions.to_string(),
            accepted: self.accepted,
            attempts: self.attempts,
            rate: self.accepted as f64 / self.attempts.max(1) as f64,
            bound,
        }
    }

    /// One candidate row, or `None` when a range condition rejected it.
    fn candidate<R: Rng>(&self, rng: &mut R) -> Result<Option<Row>> {
        let model = self.generator.model();
        let d = model.columns.len();
        let mut z = vec![0.0; d];
        let mut pinned_values: Vec<(usize, f64)> = Vec::with_capacity(self.points.len());
        // Pinned columns one after another, each value weighted by its density given the
        // ones pinned before it.
        let mut pinned_scores: Vec<f64> = Vec::with_capacity(self.points.len());
        for step in &self.points {
            let mean = step
                .given
                .mean(&[0.0], &vec![0.0; pinned_scores.len()], &pinned_scores)[0];
            let sd = step.given.cov[(0, 0)].max(0.0).sqrt();
            let weights: Vec<f64> = step
                .candidates
                .iter()
                .map(|&(score, _, density)| {
                    let gaussian = if sd > 0.0 {
                        copula::density((score - mean) / sd) / sd
                    } else {
                        f64::from(u8::from((score - mean).abs() < 1e-9))
                    };
                    density.min(1e300) * gaussian / copula::density(score).max(1e-300)
                })
                .collect();
            let total: f64 = weights.iter().sum();
            let chosen = if total > 0.0 && total.is_finite() {
                let mut pick = rng.random::<f64>() * total;
                weights
                    .iter()
                    .position(|w| {
                        pick -= w;
                        pick < 0.0
                    })
                    .unwrap_or(weights.len() - 1)
            } else {
                rng.random_range(0..step.candidates.len())
            };
            let (score, value, _) = step.candidates[chosen];
            z[step.column] = score;
            pinned_scores.push(score);
            pinned_values.push((step.column, value));
        }
        let zeros = vec![0.0; self.free.rest.len()];
        let free_mean = self
            .free
            .mean(&zeros, &vec![0.0; pinned_scores.len()], &pinned_scores);
        let mut free_z = vec![0.0; self.free.rest.len()];
        if self.ranges.is_empty() {
            copula::draw(&self.free.lower, &free_mean, rng, &mut free_z);
        } else {
            // The range column with the least mass is drawn exactly from its truncated
            // conditional normal, the rest given it; other ranges are checked after.
            let masses: Vec<f64> = self
                .ranges
                .iter()
                .map(|r| {
                    let sd = self.free.cov[(r.position, r.position)].max(0.0).sqrt();
                    copula::mass(free_mean[r.position], sd, &r.intervals)
                })
                .collect();
            let (chosen, &least) = masses
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1))
                .unwrap_or((0, &0.0));
            let range = &self.ranges[chosen];
            if least <= 0.0 {
                return Err(GenesisError::Infeasible {
                    column: model.columns[range.column].name.clone(),
                    condition: self.conditions.to_string(),
                    why: "the other conditions leave it no probability".into(),
                });
            }
            let sd = self.free.cov[(range.position, range.position)]
                .max(0.0)
                .sqrt();
            let mean = free_mean[range.position];
            let Some(score) = copula::truncated(mean, sd, &range.intervals, rng) else {
                return Ok(None);
            };
            let others_prior: Vec<f64> = range.others.rest.iter().map(|&p| free_mean[p]).collect();
            let others_mean = range.others.mean(&others_prior, &[mean], &[score]);
            let mut others_z = vec![0.0; others_mean.len()];
            copula::draw(&range.others.lower, &others_mean, rng, &mut others_z);
            free_z[range.position] = score;
            for (k, &p) in range.others.rest.iter().enumerate() {
                free_z[p] = others_z[k];
            }
            for other in &self.ranges {
                let s = free_z[other.position];
                if !other.intervals.iter().any(|&(lo, hi)| lo <= s && s <= hi) {
                    return Ok(None);
                }
            }
        }
        for (k, &c) in self.free.rest.iter().enumerate() {
            z[c] = free_z[k];
        }
        let values = model
            .columns
            .iter()
            .enumerate()
            .map(|(c, column)| {
                if let Some(&(_, x)) = pinned_values.iter().find(|(p, _)| *p == c) {
                    return column.pinned_value(x);
                }
                let is_null = !self.conditioned[c]
                    && column.null_rate > 0.0
                    && rng.random::<f64>() < column.null_rate;
                if is_null {
                    Value::Null
                } else {
                    column.value_at(copula::cdf(z[c]))
                }
            })
            .collect();
        Ok(Some(Row::new(model.schema.clone(), values)))
    }
}
