//! The IoT simulation: device `d` reads from its own RNG stream; storms are drawn per
//! hour from a separate stream, so they hit the whole fleet at once.

use crate::core::GeneratorErrors;
use crate::core::RecordedGenerator;
use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::model::{Alert, DeviceStatus, IotTelemetryResult, IotTelemetryStats, Reading};
use super::IotTelemetryConfig;
use crate::core::event_rng;

const STORM_SALT: u64 = 0x0057_0A11_5700_0001;
const SENSORS: [(&str, f64, f64); 3] = [
    ("temperature", 21.0, 0.5),
    ("humidity", 45.0, 2.0),
    ("pressure", 1_013.0, 1.5),
];

/// Simulates a fleet of sensors.
#[derive(Debug, Clone)]
pub struct IotTelemetrySimulator {
    config: IotTelemetryConfig,
}

impl IotTelemetrySimulator {
    /// A simulator for a validated configuration.
    pub fn new(config: IotTelemetryConfig) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        Ok(IotTelemetrySimulator { config })
    }

    /// Alert storm windows `[start, end)` in epoch ms.
    pub fn storms(&self) -> Vec<(i64, i64)> {
        let c = &self.config;
        if !c.alert_storm_enabled {
            return Vec::new();
        }
        let hours = c.duration_hours.ceil() as u64;
        let length = (c.alert_storm_duration_minutes * 60_000.0) as i64;
        (0..hours)
            .filter_map(|h| {
                let mut rng = event_rng(c.seed ^ STORM_SALT, h);
                (rng.random::<f64>() < c.alert_storm_probability).then(|| {
                    let start =
                        c.start_time_ms + h as i64 * 3_600_000 + rng.random_range(0..3_600_000);
                    (start, start + length)
                })
            })
            .collect()
    }

    /// The run's readings as a generator in event-time order, for a paced, resumable
    /// pipeline source (`GeneratorSource::new(sim.generator())`). The run is computed
    /// once, here.
    pub fn generator(&self) -> RecordedGenerator<Reading> {
        let readings = self.run().readings;
        RecordedGenerator::new("iot", self.config.seed, readings, |r| r.reading_time)
    }

    /// Runs the simulation.
    pub fn run(&self) -> IotTelemetryResult {
        let c = &self.config;
        let storms = self.storms();
        let in_storm = |ts: i64| storms.iter().any(|&(s, e)| ts >= s && ts < e);
        let interval_ms = (c.reading_interval_seconds * 1_000.0) as i64;
        let per_device = ((c.duration_hours * 3_600_000.0) as i64 / interval_ms.max(1)) as u64;
        let (mut readings, mut alerts, mut fleet_status) = (Vec::new(), Vec::new(), Vec::new());
        let mut storm_alerts = 0;
        for d in 0..c.fleet_size {
            let mut rng = event_rng(c.seed, d);
            let device_id = format!("dev-{d:04}");
            let (sensor_type, base, noise) = SENSORS[rng.random_range(0..SENSORS.len())];
            let noise = Normal::new(0.0, noise).ok();
            let drifting = c.drift_enabled && rng.random::<f64>() < c.drift_probability;
            let battery_start = 100.0 - rng.random_range(0.0..20.0);
            let (mut drift, mut missing, mut battery) = (0.0f64, 0u64, battery_start);
            for k in 0..per_device {
                let ts = c.start_time_ms
                    + k as i64 * interval_ms
                    + rng.random_range(0..interval_ms.clamp(1, 1_000));
                if drifting {
                    drift += if rng.random::<bool>() {
                        c.drift_rate
                    } else {
                        -c.drift_rate
                    };
                }
                if c.battery_drain_enabled {
                    let hours = (ts - c.start_time_ms) as f64 / 3_600_000.0;
                    battery = (battery_start - c.battery_drain_rate * hours).max(0.0);
                }
                let true_value = base + noise.map_or(0.0, |n| n.sample(&mut rng));
                let value = if c.missing_enabled && rng.random::<f64>() < c.missing_probability {
                    missing += 1;
                    None
                } else {
                    Some(true_value + drift)
                };
                let storm = in_storm(ts);
                let p_alert = c.alert_probability
                    * if storm {
                        c.alert_storm_rate_multiplier
                    } else {
                        1.0
                    };
                if rng.random::<f64>() < p_alert.min(1.0) {
                    storm_alerts += storm as u64;
                    alerts.push(Alert {
                        device_id: device_id.clone(),
                        alert_time: ts,
                        alert_type: if storm { "storm" } else { "threshold" }.to_string(),
                        severity: if rng.random::<f64>() < 0.2 {
                            "critical"
                        } else {
                            "warning"
                        }
                        .to_string(),
                        value,
                    });
                }
                readings.push(Reading {
                    device_id: device_id.clone(),
                    sensor_type: sensor_type.to_string(),
                    value,
                    drift,
                    battery_level: battery,
                    reading_time: ts,
                });
            }
            fleet_status.push(DeviceStatus {
                device_id,
                sensor_type: sensor_type.to_string(),
                battery_level: battery,
                readings: per_device,
                missing,
                drifting,
                drift,
                status: if battery < 20.0 { "low_battery" } else { "ok" }.to_string(),
            });
        }
        readings
            .sort_by(|a, b| (a.reading_time, &a.device_id).cmp(&(b.reading_time, &b.device_id)));
        alerts.sort_by(|a, b| (a.alert_time, &a.device_id).cmp(&(b.alert_time, &b.device_id)));
        let total = readings.len() as u64;
        let missing: u64 = fleet_status.iter().map(|d| d.missing).sum();
        let stats = IotTelemetryStats {
            readings: total,
            missing,
            missing_rate: if total > 0 {
                missing as f64 / total as f64
            } else {
                0.0
            },
            drifting_devices: fleet_status.iter().filter(|d| d.drifting).count() as u64,
            alerts: alerts.len() as u64,
            storms: storms.len() as u64,
            storm_alerts,
            mean_battery_level: fleet_status.iter().map(|d| d.battery_level).sum::<f64>()
                / fleet_status.len().max(1) as f64,
        };
        IotTelemetryResult {
            readings,
            alerts,
            fleet_status,
            stats,
        }
    }
}
