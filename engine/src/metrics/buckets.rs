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
        let mut below = 0u64;
        let mut buckets = Vec::with_capacity(BOUNDS_MS.len());
        let mut low = 0u64;
        for &le_ms in &BOUNDS_MS {
            let high = (le_ms * 1_000.0) as u64;
            // hdrhistogram's counts are per value range; equivalent values share a
            // bucket, so a bound splits at the histogram's resolution (3 digits).
            below += h.count_between(low, high);
            low = high + 1;
            buckets.push(Bucket {
                le_ms,
                count: below.min(h.len()),
            });
        }
        HistogramSnapshot {
            buckets,
            count: h.len(),
            sum_ms: h.mean() * h.len() as f64 / 1_000.0,
        }
    }
}
