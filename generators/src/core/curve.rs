//! Daily and weekly rate curves: how many events each hour of the day and day of the
//! week gets, relative to the average. A generator that draws arrivals at a constant
//! rate passes their times through [`RateCurve::warp`], which turns a constant-rate
//! process into one whose rate follows the curve (the events of a week stay as many).

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use super::GeneratorError;

const HOUR_MS: f64 = 3_600_000.0;
const WEEK_HOURS: usize = 168;
/// 1970-01-01 was a Thursday: Monday 00:00 UTC of that week is 3 days earlier.
const MONDAY_EPOCH_MS: i64 = -3 * 86_400_000;

/// Relative event rates by hour of day (UTC) and day of week (Monday first). In
/// parameters: a preset name (`"diurnal"`) or `{"hourly": [24 numbers], "weekly": [7]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "CurveSpec")]
pub struct RateCurve {
    /// Multipliers for hours 0-23.
    pub hourly: Vec<f64>,
    /// Multipliers for Monday to Sunday.
    pub weekly: Vec<f64>,
    /// The cumulative table, made on first use (a generator warps every event).
    #[serde(skip)]
    table: Arc<OnceLock<Vec<f64>>>,
}

impl PartialEq for RateCurve {
    fn eq(&self, other: &Self) -> bool {
        self.hourly == other.hourly && self.weekly == other.weekly
    }
}

/// How a curve is written in parameters.
#[derive(Deserialize)]
#[serde(untagged)]
enum CurveSpec {
    Preset(String),
    #[serde(rename_all = "snake_case")]
    Custom {
        #[serde(default = "flat_hours")]
        hourly: Vec<f64>,
        #[serde(default = "flat_days")]
        weekly: Vec<f64>,
    },
}

fn flat_hours() -> Vec<f64> {
    vec![1.0; 24]
}

fn flat_days() -> Vec<f64> {
    vec![1.0; 7]
}

impl TryFrom<CurveSpec> for RateCurve {
    type Error = GeneratorError;

    fn try_from(spec: CurveSpec) -> Result<Self, GeneratorError> {
        let curve = match spec {
            CurveSpec::Preset(name) => RateCurve::preset(&name)?,
            CurveSpec::Custom { hourly, weekly } => RateCurve::new(hourly, weekly),
        };
        curve.validate()?;
        Ok(curve)
    }
}

impl Default for RateCurve {
    fn default() -> Self {
        RateCurve::flat()
    }
}

impl RateCurve {
    /// A curve from 24 hourly and 7 daily multipliers (see [`RateCurve::validate`]).
    pub fn new(hourly: Vec<f64>, weekly: Vec<f64>) -> Self {
        RateCurve {
            hourly,
            weekly,
            table: Arc::default(),
        }
    }

    /// Every hour alike.
    pub fn flat() -> Self {
        RateCurve::new(vec![1.0; 24], vec![1.0; 7])
    }

    /// Quiet nights, a morning ramp, a midday and an evening peak; weekends alike.
    pub fn diurnal() -> Self {
        let hourly = vec![
            0.25, 0.2, 0.15, 0.15, 0.2, 0.3, 0.5, 0.8, 1.1, 1.3, 1.4, 1.5, 1.5, 1.4, 1.3, 1.3,
            1.35, 1.45, 1.6, 1.7, 1.6, 1.3, 0.9, 0.5,
        ];
        RateCurve::new(hourly, vec![1.0; 7])
    }

    /// The diurnal day on weekdays, with weekends at 40%.
    pub fn business_week() -> Self {
        RateCurve::new(
            RateCurve::diurnal().hourly,
            vec![1.1, 1.15, 1.15, 1.1, 1.0, 0.4, 0.4],
        )
    }

    /// A preset by name: `flat`, `diurnal` or `business_week`.
    pub fn preset(name: &str) -> Result<RateCurve, GeneratorError> {
        match name {
            "flat" => Ok(RateCurve::flat()),
            "diurnal" => Ok(RateCurve::diurnal()),
            "business_week" => Ok(RateCurve::business_week()),
            other => Err(GeneratorError::InvalidParameter {
                field: "rate_curve".into(),
                expected: "flat, diurnal, business_week or {hourly: [24], weekly: [7]}".into(),
                found: other.into(),
            }),
        }
    }

    /// Checks the lengths and that every multiplier is finite, not negative, and some
    /// positive.
    pub fn validate(&self) -> Result<(), GeneratorError> {
        let bad = |expected: &str, found: String| {
            Err(GeneratorError::InvalidParameter {
                field: "rate_curve".into(),
                expected: expected.into(),
                found,
            })
        };
        if self.hourly.len() != 24 || self.weekly.len() != 7 {
            return bad(
                "24 hourly and 7 weekly multipliers",
                format!(
                    "{} hourly and {} weekly",
                    self.hourly.len(),
                    self.weekly.len()
                ),
            );
        }
        let all = self.hourly.iter().chain(&self.weekly);
        if all.clone().any(|m| !m.is_finite() || *m < 0.0) {
            return bad(
                "finite multipliers >= 0",
                format!("{:?} / {:?}", self.hourly, self.weekly),
            );
        }
        if self.hourly.iter().all(|m| *m == 0.0) || self.weekly.iter().all(|m| *m == 0.0) {
            return bad("some hour and some day with events", "all zero".into());
        }
        Ok(())
    }

    /// Cumulative intensity at the start of each hour of the week, normalized so a
    /// week's total is 168 hours (a flat curve maps every time to itself).
    fn cumulative(&self) -> &[f64] {
        self.table.get_or_init(|| self.build_table())
    }

    fn build_table(&self) -> Vec<f64> {
        if self.hourly.len() != 24 || self.weekly.len() != 7 {
            // Not validated: a flat week, so warping changes nothing.
            return (0..=WEEK_HOURS).map(|h| h as f64).collect();
        }
        let mut raw = [0.0; WEEK_HOURS];
        for (h, slot) in raw.iter_mut().enumerate() {
            *slot = self.hourly[h % 24] * self.weekly[h / 24];
        }
        let total: f64 = raw.iter().sum();
        let scale = if total > 0.0 {
            WEEK_HOURS as f64 / total
        } else {
            1.0
        };
        let mut out = vec![0.0; WEEK_HOURS + 1];
        for h in 0..WEEK_HOURS {
            out[h + 1] = out[h] + raw[h] * scale;
        }
        out
    }

    /// The problem with an optional curve of a config, if any.
    pub fn check(curve: Option<&RateCurve>) -> Option<GeneratorError> {
        curve.and_then(|c| c.validate().err())
    }

    /// `t_ms` warped by `curve` when there is one (for configs' optional curves).
    pub fn warp_opt(curve: Option<&RateCurve>, origin_ms: i64, t_ms: i64) -> i64 {
        curve.map_or(t_ms, |c| c.warp(origin_ms, t_ms))
    }

    /// Where an event of a constant-rate process at `t_ms` lands under the curve, the
    /// process having started at `origin_ms` (which stays where it is). Monotone: order
    /// is kept.
    ///
    /// ```
    /// use tidewater_generators::core::RateCurve;
    /// let monday = 1_704_067_200_000; // 2024-01-01T00:00:00Z, a Monday
    /// assert_eq!(RateCurve::flat().warp(monday, monday + 5_000), monday + 5_000);
    /// // Nights are quiet: three hours of constant-rate arrivals after midnight spread
    /// // over more of the night than three hours.
    /// let curve = RateCurve::business_week();
    /// let three_am = monday + 3 * 3_600_000;
    /// assert!(curve.warp(monday, three_am) > three_am);
    /// ```
    pub fn warp(&self, origin_ms: i64, t_ms: i64) -> i64 {
        let cumulative = self.cumulative();
        let week = cumulative[WEEK_HOURS];
        // Intensity-hours elapsed at `origin` since a Monday 00:00, plus the offset.
        let hours_since_monday = |ms: i64| (ms - MONDAY_EPOCH_MS) as f64 / HOUR_MS;
        let at = |hours: f64| -> f64 {
            let weeks = (hours / WEEK_HOURS as f64).floor();
            let inner = hours - weeks * WEEK_HOURS as f64;
            let h = (inner.floor() as usize).min(WEEK_HOURS - 1);
            weeks * week + cumulative[h] + (inner - h as f64) * (cumulative[h + 1] - cumulative[h])
        };
        let target = at(hours_since_monday(origin_ms)) + (t_ms - origin_ms) as f64 / HOUR_MS;
        // Invert: whole weeks, then the hour whose cumulative span holds the rest.
        let weeks = (target / week).floor();
        let rest = target - weeks * week;
        let h = cumulative
            .partition_point(|&c| c <= rest)
            .clamp(1, WEEK_HOURS)
            - 1;
        let span = cumulative[h + 1] - cumulative[h];
        let within = if span > 0.0 {
            (rest - cumulative[h]) / span
        } else {
            0.0
        };
        let hours = weeks * WEEK_HOURS as f64 + h as f64 + within.clamp(0.0, 1.0);
        MONDAY_EPOCH_MS + (hours * HOUR_MS).round() as i64
    }
}
