//! Cumulative histogram buckets, the shape Prometheus histograms take, read off the
//! run's hdrhistogram (latency) or list of durations (checkpoints) when metrics are
//! taken, so that the data path records nothing extra.

use serde::Serialize;

/// Upper bounds, in milliseconds, of the latency and checkpoint-duration buckets: a
/// 1-2.5-5 series from 0.1 ms to 10 s (a paced run's latencies sit in the low ones, a
/// slow checkpoint in the high ones).
pub const BOUNDS_MS: [f64; 16] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0,
    5_000.0, 10_000.0,
];

/// Observations at or below `le_ms` (cumulative, as Prometheus counts them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bucket {
    /// Upper bound, milliseconds.
    pub le_ms: f64,
    /// Observations `<= le_ms`.
    pub count: u64,
}

/// A histogram's buckets, count and sum.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct HistogramSnapshot {
    /// Cumulative buckets at [`BOUNDS_MS`] (the `+Inf` bucket is `count`).
    pub buckets: Vec<Bucket>,
    /// Observations.
    pub count: u64,
    /// Sum of the observations, milliseconds.
    pub sum_ms: f64,
}

impl HistogramSnapshot {
    /// Buckets of a list of observations in milliseconds.
    ///
    /// ```
    /// use tidewater_engine::metrics::HistogramSnapshot;
    /// let h = HistogramSnapshot::of_ms(&[0.2, 3.0, 3.0, 20_000.0]);
    /// assert_eq!((h.count, h.sum_ms), (4, 20_006.2));
    /// let at = |le: f64| h.buckets.iter().find(|b| b.le_ms == le).unwrap().count;
    /// assert_eq!((at(0.1), at(0.25), at(2.5), at(5.0), at(10_000.0)), (0, 1, 1, 3, 3));
    /// ```
    pub fn of_ms(observations: &[f64]) -> Self {
        HistogramSnapshot {
            buckets: BOUNDS_MS
                .iter()
                .map(|&le_ms| Bucket {
                    le_ms,
                    count: observations.iter().filter(|&&o| o <= le_ms).count() as u64,
                })
                .collect(),
            count: observations.len() as u64,
            sum_ms: observations.iter().sum(),
        }
    }

    /// Buckets of an hdrhistogram of microseconds.
    pub(crate) fn of_micros(h: &hdrhistogram::Histogram<u64>) -> Self {
        let mut counts = [0u64; BOUNDS_MS.len()];
        for v in h.iter_recorded() {
            let ms = h.highest_equivalent(v.value_iterated_to()) as f64 / 1_000.0;
            // Values equivalent at the histogram's resolution (3 digits) share a
            // bucket: a value counts below a bound when its whole range does.
            if let Some(i) = BOUNDS_MS.iter().position(|&le| ms <= le) {
                counts[i] += v.count_at_value();
            }
        }
        let mut below = 0;
        let buckets = BOUNDS_MS
            .iter()
            .zip(counts)
            .map(|(&le_ms, n)| {
                below += n;
                Bucket {
                    le_ms,
                    count: below,
                }
            })
            .collect();
        HistogramSnapshot {
            buckets,
            count: h.len(),
            sum_ms: h.mean() * h.len() as f64 / 1_000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_fall_in_the_buckets_of_their_milliseconds() {
        let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        for (micros, n) in [(40, 5), (900, 2), (3_000, 1), (20_000_000, 1)] {
            h.record_n(micros, n).unwrap();
        }
        let s = HistogramSnapshot::of_micros(&h);
        let at = |le: f64| s.buckets.iter().find(|b| b.le_ms == le).unwrap().count;
        let table = [
            (0.1, 5),
            (0.5, 5),
            (1.0, 7),
            (2.5, 7),
            (5.0, 8),
            (10_000.0, 8),
        ];
        for (le, expected) in table {
            assert_eq!(at(le), expected, "le {le} ms");
        }
        assert_eq!(s.count, 9);
    }
}
