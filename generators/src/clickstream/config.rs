//! Clickstream parameters with the reference defaults.

use crate::core::GeneratorErrors;
use serde::{Deserialize, Serialize};

use crate::core::{all_problems, check_probability, GeneratorError};

/// Parameters of [`ClickstreamSimulator`](super::ClickstreamSimulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickstreamConfig {
    /// Number of distinct users.
    pub users: u64,
    /// Simulation window in hours.
    pub duration_hours: f64,
    /// Start of the window (epoch ms).
    #[serde(alias = "start_time", deserialize_with = "crate::core::ms_or_iso")]
    pub start_time_ms: i64,
    /// Average sessions per user.
    pub avg_sessions_per_user: f64,
    /// Average page views of a session that did not bounce.
    pub avg_pages_per_session: f64,
    /// Fraction of human sessions that are single-page bounces.
    pub bounce_rate: f64,
    /// Track conversion funnel progression.
    pub funnel_enabled: bool,
    /// Ordered funnel stages.
    pub funnel_stages: Vec<String>,
    /// Per-stage probability of abandoning the funnel.
    pub funnel_drop_rate: f64,
    /// Inject bot sessions.
    pub bot_traffic_enabled: bool,
    /// Fraction of all sessions that come from bots.
    pub bot_fraction: f64,
    /// Pages a bot crawls per session.
    pub bot_pages_per_session: u64,
    /// URL templates (`{id}` and `{slug}` are filled in).
    pub page_pool: Vec<String>,
    /// Traffic sources.
    pub referrer_sources: Vec<String>,
    /// Device types of human sessions.
    pub device_types: Vec<String>,
    /// Daily and weekly shape of the event rate (`diurnal`, `business_week`, or
    /// `{hourly, weekly}` multipliers; none: constant). The events of a week stay as
    /// many; they bunch where the curve is high.
    #[serde(default)]
    pub rate_curve: Option<crate::core::RateCurve>,
    /// Zipf exponent of the users sessions belong to (0: uniform); 1.0 and above make a few hot ones.
    #[serde(default)]
    pub key_skew: crate::core::KeySkew,
    /// Random seed.
    pub seed: u64,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Default for ClickstreamConfig {
    fn default() -> Self {
        ClickstreamConfig {
            users: 1_000,
            duration_hours: 24.0,
            start_time_ms: 1_704_067_200_000, // 2024-01-01T00:00:00Z
            avg_sessions_per_user: 2.5,
            avg_pages_per_session: 5.0,
            bounce_rate: 0.35,
            funnel_enabled: true,
            funnel_stages: strings(&["landing", "product", "cart", "checkout", "confirmation"]),
            funnel_drop_rate: 0.4,
            bot_traffic_enabled: true,
            bot_fraction: 0.15,
            bot_pages_per_session: 50,
            page_pool: strings(&[
                "/",
                "/products",
                "/products/{id}",
                "/cart",
                "/checkout",
                "/about",
                "/contact",
                "/blog",
                "/blog/{slug}",
                "/search",
                "/account",
                "/faq",
            ]),
            referrer_sources: strings(&[
                "direct", "google", "bing", "facebook", "twitter", "email", "reddit",
            ]),
            device_types: strings(&["desktop", "mobile", "tablet"]),
            rate_curve: None,
            key_skew: Default::default(),
            seed: 42,
        }
    }
}

impl ClickstreamConfig {
    /// Checks every parameter; returns all problems, each naming its field.
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let mut problems = Vec::new();
        for (field, p) in [
            ("bounce_rate", self.bounce_rate),
            ("funnel_drop_rate", self.funnel_drop_rate),
            ("bot_fraction", self.bot_fraction),
        ] {
            if let Err(e) = check_probability(field, p) {
                problems.push(e);
            }
        }
        let mut bad = |field: &str, expected: &str, found: String| {
            problems.push(GeneratorError::InvalidParameter {
                field: field.into(),
                expected: expected.into(),
                found,
            })
        };
        if self.users == 0 {
            bad("users", "at least 1", "0".into());
        }
        if !(self.duration_hours > 0.0 && self.duration_hours.is_finite()) {
            bad(
                "duration_hours",
                "a duration > 0",
                self.duration_hours.to_string(),
            );
        }
        if !(self.avg_sessions_per_user > 0.0 && self.avg_sessions_per_user.is_finite()) {
            bad(
                "avg_sessions_per_user",
                "a number > 0",
                self.avg_sessions_per_user.to_string(),
            );
        }
        if !(self.avg_pages_per_session >= 2.0 && self.avg_pages_per_session.is_finite()) {
            bad(
                "avg_pages_per_session",
                "at least 2 (a non-bounced session has 2 pages or more)",
                self.avg_pages_per_session.to_string(),
            );
        }
        if self.bot_traffic_enabled && self.bot_pages_per_session == 0 {
            bad("bot_pages_per_session", "at least 1", "0".into());
        }
        for (field, list) in [
            ("page_pool", &self.page_pool),
            ("referrer_sources", &self.referrer_sources),
            ("device_types", &self.device_types),
        ] {
            if list.is_empty() {
                bad(field, "at least one entry", "an empty list".into());
            }
        }
        if self.funnel_enabled && self.funnel_stages.is_empty() {
            bad(
                "funnel_stages",
                "at least one stage when funnel_enabled",
                "an empty list".into(),
            );
        }
        problems.extend(crate::core::RateCurve::check(self.rate_curve.as_ref()));
        problems.extend(self.key_skew.validate("key_skew").err());
        all_problems(problems)
    }
}
