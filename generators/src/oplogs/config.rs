//! Operational log parameters with the reference defaults.

use crate::core::GeneratorErrors;
use serde::{Deserialize, Serialize};

use crate::core::{all_problems, check_positive, check_probability, GeneratorError};

/// A service that emits logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDefinition {
    /// Service name.
    pub name: String,
    /// Fraction of requests that fail outside incidents.
    #[serde(default = "default_error_rate")]
    pub base_error_rate: f64,
}

fn default_error_rate() -> f64 {
    0.01
}

const DEFAULT_SERVICES: [&str; 8] = [
    "api-gateway",
    "auth-service",
    "order-service",
    "payment-service",
    "inventory-service",
    "search-service",
    "notification-service",
    "user-service",
];

/// Parameters of [`OperationalLogSimulator`](super::OperationalLogSimulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OperationalLogConfig {
    /// Number of services (the first N of the default list).
    pub service_count: u64,
    /// Service definitions overriding the default list (when not empty).
    pub services: Vec<ServiceDefinition>,
    /// Time span in hours.
    pub duration_hours: f64,
    /// Simulation start (epoch ms).
    #[serde(alias = "start_time", deserialize_with = "crate::core::ms_or_iso")]
    pub start_time_ms: i64,
    /// Requests per service per hour (Poisson).
    pub events_per_hour: f64,
    /// Mean request latency (log-normal).
    pub latency_mean_ms: f64,
    /// Standard deviation of request latency.
    pub latency_std_ms: f64,
    /// Inject latency spikes.
    pub latency_spike_enabled: bool,
    /// Chance per hour of a spike.
    pub latency_spike_probability: f64,
    /// Latency multiplier during a spike.
    pub latency_spike_multiplier: f64,
    /// Length of a spike.
    pub latency_spike_duration_minutes: f64,
    /// Inject outages.
    pub outage_enabled: bool,
    /// Chance per hour of an outage starting.
    pub outage_probability: f64,
    /// Length of an outage.
    pub outage_duration_minutes: f64,
    /// Fraction of requests that fail during an outage.
    pub outage_error_rate: f64,
    /// Generate distributed traces.
    pub trace_enabled: bool,
    /// Mean spans per trace.
    pub trace_depth_mean: f64,
    /// Inject error bursts.
    pub error_burst_enabled: bool,
    /// Chance per hour of an error burst.
    pub error_burst_probability: f64,
    /// Errors per burst.
    pub error_burst_count: u64,
    /// Daily and weekly shape of the event rate (`diurnal`, `business_week`, or
    /// `{hourly, weekly}` multipliers; none: constant). The events of a week stay as
    /// many; they bunch where the curve is high.
    #[serde(default)]
    pub rate_curve: Option<crate::core::RateCurve>,
    /// Random seed.
    pub seed: u64,
}

impl Default for OperationalLogConfig {
    fn default() -> Self {
        OperationalLogConfig {
            service_count: 5,
            services: Vec::new(),
            duration_hours: 24.0,
            start_time_ms: 1_704_067_200_000,
            events_per_hour: 100.0,
            latency_mean_ms: 50.0,
            latency_std_ms: 30.0,
            latency_spike_enabled: true,
            latency_spike_probability: 0.05,
            latency_spike_multiplier: 10.0,
            latency_spike_duration_minutes: 15.0,
            outage_enabled: true,
            outage_probability: 0.02,
            outage_duration_minutes: 30.0,
            outage_error_rate: 0.8,
            trace_enabled: true,
            trace_depth_mean: 3.5,
            error_burst_enabled: true,
            error_burst_probability: 0.03,
            error_burst_count: 50,
            rate_curve: None,
            seed: 42,
        }
    }
}

impl OperationalLogConfig {
    /// The services simulated.
    pub fn resolved_services(&self) -> Vec<ServiceDefinition> {
        if !self.services.is_empty() {
            return self.services.clone();
        }
        DEFAULT_SERVICES
            .iter()
            .cycle()
            .take(self.service_count as usize)
            .enumerate()
            .map(|(i, name)| {
                let name = if i < DEFAULT_SERVICES.len() {
                    name.to_string()
                } else {
                    format!("{name}-{i}")
                };
                ServiceDefinition {
                    name,
                    base_error_rate: default_error_rate(),
                }
            })
            .collect()
    }

    /// Checks every parameter; returns all problems.
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let mut problems: Vec<GeneratorError> = [
            ("latency_spike_probability", self.latency_spike_probability),
            ("outage_probability", self.outage_probability),
            ("outage_error_rate", self.outage_error_rate),
            ("error_burst_probability", self.error_burst_probability),
        ]
        .into_iter()
        .filter_map(|(f, p)| check_probability(f, p).err())
        .collect();
        for (i, s) in self.services.iter().enumerate() {
            if let Err(e) =
                check_probability(&format!("services[{i}].base_error_rate"), s.base_error_rate)
            {
                problems.push(e);
            }
        }
        for (field, v) in [
            ("duration_hours", self.duration_hours),
            ("events_per_hour", self.events_per_hour),
            ("latency_mean_ms", self.latency_mean_ms),
            ("latency_spike_multiplier", self.latency_spike_multiplier),
            ("trace_depth_mean", self.trace_depth_mean),
        ] {
            problems.extend(check_positive(field, v).err());
        }
        if self.services.is_empty() && self.service_count == 0 {
            problems.push(GeneratorError::InvalidParameter {
                field: "service_count".into(),
                expected: "at least 1 (or a services list)".into(),
                found: "0".into(),
            });
        }
        problems.extend(crate::core::RateCurve::check(self.rate_curve.as_ref()));
        all_problems(problems)
    }
}
