//! Key skew: which key of `n` an event gets. Uniform by default; Zipf's law with an
//! exponent `s > 0` makes key `0` the most frequent, key `1` the next (`1 / 2^s` as
//! often), and so on, as real traffic is: a few hot users, accounts or services.

use rand::Rng;
use rand_distr::{Distribution, Zipf};
use serde::{Deserialize, Serialize};

use super::GeneratorError;

/// How keys are picked.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeySkew {
    /// Zipf exponent: 0 is uniform, 1 is classic Zipf, larger is hotter.
    pub exponent: f64,
}

impl KeySkew {
    /// Every key alike.
    pub fn uniform() -> Self {
        KeySkew { exponent: 0.0 }
    }

    /// Zipf's law with exponent `s`.
    pub fn zipf(s: f64) -> Self {
        KeySkew { exponent: s }
    }

    /// Checks the exponent (`field` names it in the error).
    pub fn validate(&self, field: &str) -> Result<(), GeneratorError> {
        if self.exponent.is_finite() && self.exponent >= 0.0 {
            Ok(())
        } else {
            Err(GeneratorError::InvalidParameter {
                field: field.into(),
                expected: "a Zipf exponent >= 0 (0: uniform)".into(),
                found: self.exponent.to_string(),
            })
        }
    }

    /// A key in `0..n` (`n >= 1`). Uniform draws exactly as `rng.random_range(0..n)`
    /// does, so a generator's uniform streams are the same with or without this.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tidewater_generators::core::KeySkew;
    /// let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(1);
    /// let skew = KeySkew::zipf(1.2);
    /// let mut counts = [0u32; 100];
    /// for _ in 0..100_000 {
    ///     counts[skew.pick(&mut rng, 100) as usize] += 1;
    /// }
    /// assert!(counts[0] > 10 * counts[20], "{} vs {}", counts[0], counts[20]);
    /// ```
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R, n: u64) -> u64 {
        let n = n.max(1);
        if self.exponent <= 0.0 {
            return rng.random_range(0..n);
        }
        match Zipf::new(n as f64, self.exponent) {
            Ok(zipf) => (zipf.sample(rng) as u64).clamp(1, n) - 1,
            Err(_) => rng.random_range(0..n),
        }
    }
}
