//! IoT telemetry parameters with the reference defaults.

use crate::core::GeneratorErrors;
use serde::{Deserialize, Serialize};

use crate::core::{
    all_problems, check_non_negative, check_positive, check_probability, GeneratorError,
};

/// Parameters of [`IotTelemetrySimulator`](super::IotTelemetrySimulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IotTelemetryConfig {
    /// Active devices.
    pub fleet_size: u64,
    /// Simulation window in hours.
    pub duration_hours: f64,
    /// Start of the window (epoch ms).
    #[serde(alias = "start_time", deserialize_with = "crate::core::ms_or_iso")]
    pub start_time_ms: i64,
    /// Seconds between consecutive readings of a device.
    pub reading_interval_seconds: f64,
    /// Apply gradual sensor drift.
    pub drift_enabled: bool,
    /// Random-walk step per reading of a drifting sensor (in the reading's unit).
    pub drift_rate: f64,
    /// Fraction of sensors that drift.
    pub drift_probability: f64,
    /// Inject missing readings.
    pub missing_enabled: bool,
    /// Chance of a reading being missing (value null).
    pub missing_probability: f64,
    /// Chance of a reading raising an alert outside storms.
    pub alert_probability: f64,
    /// Generate alert storms.
    pub alert_storm_enabled: bool,
    /// Chance per hour of a storm starting.
    pub alert_storm_probability: f64,
    /// How long a storm lasts.
    pub alert_storm_duration_minutes: f64,
    /// Alert frequency multiplier during a storm.
    pub alert_storm_rate_multiplier: f64,
    /// Simulate battery drain.
    pub battery_drain_enabled: bool,
    /// Battery percentage lost per hour.
    pub battery_drain_rate: f64,
    /// Random seed.
    pub seed: u64,
}

impl Default for IotTelemetryConfig {
    fn default() -> Self {
        IotTelemetryConfig {
            fleet_size: 50,
            duration_hours: 24.0,
            start_time_ms: 1_704_067_200_000,
            reading_interval_seconds: 60.0,
            drift_enabled: true,
            drift_rate: 0.001,
            drift_probability: 0.1,
            missing_enabled: true,
            missing_probability: 0.05,
            alert_probability: 0.002,
            alert_storm_enabled: true,
            alert_storm_probability: 0.02,
            alert_storm_duration_minutes: 15.0,
            alert_storm_rate_multiplier: 10.0,
            battery_drain_enabled: true,
            battery_drain_rate: 0.1,
            seed: 42,
        }
    }
}

impl IotTelemetryConfig {
    /// Checks every parameter; returns all problems.
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let mut problems: Vec<GeneratorError> = [
            ("drift_probability", self.drift_probability),
            ("missing_probability", self.missing_probability),
            ("alert_probability", self.alert_probability),
            ("alert_storm_probability", self.alert_storm_probability),
        ]
        .into_iter()
        .filter_map(|(f, p)| check_probability(f, p).err())
        .collect();
        for (field, v) in [
            ("duration_hours", self.duration_hours),
            ("reading_interval_seconds", self.reading_interval_seconds),
            (
                "alert_storm_rate_multiplier",
                self.alert_storm_rate_multiplier,
            ),
        ] {
            problems.extend(check_positive(field, v).err());
        }
        for (field, v) in [
            ("drift_rate", self.drift_rate),
            ("battery_drain_rate", self.battery_drain_rate),
            (
                "alert_storm_duration_minutes",
                self.alert_storm_duration_minutes,
            ),
        ] {
            problems.extend(check_non_negative(field, v).err());
        }
        if self.fleet_size == 0 {
            problems.push(GeneratorError::InvalidParameter {
                field: "fleet_size".into(),
                expected: "at least 1".into(),
                found: "0".into(),
            });
        }
        all_problems(problems)
    }
}
