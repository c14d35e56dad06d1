//! The IoT simulation: device `d` reads from its own RNG stream; storms are drawn per
//! hour from a separate stream, so they hit the whole fleet at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::core::GeneratorErrors;
use crate::core::{all_problems, epoch_seed, ChunkedGenerator, GeneratorError, RecordedGenerator};
use crate::streamer::timestamp_of;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use tidewater_engine::row::{Row, Value};

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
    table: Option<Arc<SuppliedReadings>>,
}

/// Readings from the caller's table, grouped by device in time order.
#[derive(Debug)]
struct SuppliedReadings {
    devices: Vec<SuppliedDevice>,
    start: i64,
    end: i64,
}

/// (device id, sensor type, battery level at the start if the devices table has one,
/// (time, value) in time order)
type SuppliedDevice = (String, String, Option<f64>, Vec<(i64, f64)>);

const TABLE_SALT: u64 = 0x7AB1_E000_0000_0001;

impl IotTelemetrySimulator {
    /// A simulator for a validated configuration.
    pub fn new(config: IotTelemetryConfig) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        Ok(IotTelemetrySimulator {
            config,
            table: None,
        })
    }

    /// Layers drift, missing readings, alert storms and battery drain on the caller's
    /// readings (the reference's `readings_df`: `device_id` or `sensor_id`, a numeric
    /// `value` column, and `reading_time` or `created_at` as epoch ms or ISO 8601;
    /// `sensor_type` kept when present) and devices (`device_id`, optional
    /// `battery_level` to start from). The layers cover the readings' span; the
    /// config's fleet, interval, start and duration are not used.
    pub fn on_table(
        config: IotTelemetryConfig,
        readings: &[Row],
        devices: Option<&[Row]>,
    ) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        let mut problems = Vec::new();
        let pick = |row: &Row, names: &[&str]| -> Option<(String, Value)> {
            names.iter().find_map(|n| {
                row.get(n)
                    .filter(|v| !v.is_null())
                    .map(|v| (n.to_string(), v.clone()))
            })
        };
        let mut by_device: BTreeMap<String, (String, Vec<(i64, f64)>)> = BTreeMap::new();
        for (i, row) in readings.iter().enumerate() {
            let mut problem = |field: &str, expected: &str, found: Option<&Value>| {
                problems.push(GeneratorError::InvalidParameter {
                    field: format!("readings[{i}].{field}"),
                    expected: expected.into(),
                    found: serde_json::to_string(found.unwrap_or(&Value::Null)).unwrap_or_default(),
                })
            };
            let device = match pick(row, &["device_id", "sensor_id"]) {
                Some((_, Value::Str(s))) => Some(s),
                Some((_, Value::Int(n))) => Some(n.to_string()),
                other => {
                    problem(
                        "device_id",
                        "a device_id or sensor_id",
                        other.as_ref().map(|o| &o.1),
                    );
                    None
                }
            };
            let value = match row.get("value") {
                Some(v) if v.as_f64().is_some() => v.as_f64(),
                other => {
                    problem("value", "a number", other);
                    None
                }
            };
            let time = match pick(row, &["reading_time", "created_at"]) {
                Some((_, v)) => timestamp_of(&v).or_else(|| v.as_i64()),
                None => None,
            };
            if time.is_none() {
                problem(
                    "reading_time",
                    "epoch ms or an ISO 8601 time in reading_time or created_at",
                    row.get("reading_time"),
                );
            }
            let sensor = row
                .get("sensor_type")
                .and_then(Value::as_str)
                .unwrap_or("value")
                .to_string();
            if let (Some(device), Some(value), Some(time)) = (device, value, time) {
                by_device
                    .entry(device)
                    .or_insert_with(|| (sensor, Vec::new()))
                    .1
                    .push((time, value));
            }
        }
        if by_device.is_empty() && problems.is_empty() {
            problems.push(GeneratorError::InvalidParameter {
                field: "readings".into(),
                expected: "at least one reading".into(),
                found: "none".into(),
            });
        }
        let mut batteries: BTreeMap<String, f64> = BTreeMap::new();
        for (i, row) in devices.unwrap_or(&[]).iter().enumerate() {
            let id = match row.get("device_id") {
                Some(Value::Str(s)) => s.clone(),
                Some(Value::Int(n)) => n.to_string(),
                other => {
                    problems.push(GeneratorError::InvalidParameter {
                        field: format!("devices[{i}].device_id"),
                        expected: "an id (string or integer)".into(),
                        found: serde_json::to_string(other.unwrap_or(&Value::Null))
                            .unwrap_or_default(),
                    });
                    continue;
                }
            };
            if let Some(level) = row.get("battery_level").and_then(Value::as_f64) {
                batteries.insert(id, level);
            }
        }
        all_problems(problems)?;
        let mut start = i64::MAX;
        let mut end = i64::MIN;
        let devices = by_device
            .into_iter()
            .map(|(id, (sensor, mut series))| {
                series.sort_by_key(|(t, _)| *t);
                start = start.min(series[0].0);
                end = end.max(series[series.len() - 1].0 + 1);
                let battery = batteries.get(&id).copied();
                (id, sensor, battery, series)
            })
            .collect();
        Ok(IotTelemetrySimulator {
            config,
            table: Some(Arc::new(SuppliedReadings {
                devices,
                start,
                end,
            })),
        })
    }

    /// Alert storm windows `[start, end)` in epoch ms.
    pub fn storms(&self) -> Vec<(i64, i64)> {
        let c = &self.config;
        match &self.table {
            Some(t) => self.storms_in(
                0,
                t.start,
                ((t.end - t.start) as f64 / 3_600_000.0).ceil() as u64,
            ),
            None => self.storms_in(0, c.start_time_ms, c.duration_hours.ceil() as u64),
        }
    }

    /// Storms of the `hours` from `start_ms`, hour `h` drawing from stream
    /// `first_hour + h`.
    fn storms_in(&self, first_hour: u64, start_ms: i64, hours: u64) -> Vec<(i64, i64)> {
        let c = &self.config;
        if !c.alert_storm_enabled {
            return Vec::new();
        }
        let length = (c.alert_storm_duration_minutes * 60_000.0) as i64;
        (0..hours)
            .filter_map(|h| {
                let mut rng = event_rng(c.seed ^ STORM_SALT, first_hour + h);
                (rng.random::<f64>() < c.alert_storm_probability).then(|| {
                    let start = start_ms + h as i64 * 3_600_000 + rng.random_range(0..3_600_000);
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

    /// An endless stream of readings: epoch after epoch of `duration_hours`. The fleet
    /// is the same in every epoch (ids, sensors, drifting devices, batteries draining
    /// from the start); each epoch draws fresh readings, storms and alerts, and drift
    /// starts again from zero. An error for readings supplied as a table (they end).
    pub fn unbounded(&self) -> Result<ChunkedGenerator<Reading>, GeneratorErrors> {
        if self.table.is_some() {
            return Err(GeneratorError::InvalidParameter {
                field: "readings".into(),
                expected: "generated readings for an unbounded stream".into(),
                found: "a supplied table, which ends".into(),
            }
            .into());
        }
        let simulator = self.clone();
        Ok(ChunkedGenerator::new(
            "iot",
            self.config.seed,
            move |k| simulator.run_epoch(k).readings,
            |r: &Reading| r.reading_time,
        ))
    }

    /// Runs the simulation.
    pub fn run(&self) -> IotTelemetryResult {
        match &self.table {
            Some(table) => self.run_on(table),
            None => self.run_epoch(0),
        }
    }

    /// Epoch `k` of the generated fleet (epoch 0 is the bounded run).
    fn run_epoch(&self, epoch: u64) -> IotTelemetryResult {
        let c = &self.config;
        let interval_ms = (c.reading_interval_seconds * 1_000.0) as i64;
        let span_ms = (c.duration_hours * 3_600_000.0) as i64;
        let per_device = (span_ms / interval_ms.max(1)) as u64;
        let hours = c.duration_hours.ceil() as u64;
        let epoch_start = c.start_time_ms + epoch as i64 * span_ms;
        let mut run = Layers::new(c, self.storms_in(epoch * hours, epoch_start, hours));
        for d in 0..c.fleet_size {
            // The device's properties come from its own stream in every epoch; epoch 0
            // goes on with that stream for its readings, later ones start a new one.
            let mut properties = event_rng(c.seed, d);
            let device_id = format!("dev-{d:04}");
            let (sensor_type, base, noise) = SENSORS[properties.random_range(0..SENSORS.len())];
            let noise = Normal::new(0.0, noise).ok();
            let drifting = c.drift_enabled && properties.random::<f64>() < c.drift_probability;
            let battery_start = 100.0 - properties.random_range(0.0..20.0);
            let mut rng = if epoch == 0 {
                properties
            } else {
                event_rng(epoch_seed(c.seed, epoch), d)
            };
            let mut device = Device::new(
                &device_id,
                sensor_type,
                drifting,
                battery_start,
                c.start_time_ms,
            );
            for k in 0..per_device {
                let ts = epoch_start
                    + k as i64 * interval_ms
                    + rng.random_range(0..interval_ms.clamp(1, 1_000));
                run.reading(&mut device, ts, &mut rng, |rng| {
                    base + noise.map_or(0.0, |n| n.sample(rng))
                });
            }
            run.close(device);
        }
        run.finish()
    }
}

impl IotTelemetrySimulator {
    /// The anomaly layers over supplied readings: each device draws from its own
    /// stream; drift, missing readings and alerts as for generated readings.
    fn run_on(&self, table: &SuppliedReadings) -> IotTelemetryResult {
        let c = &self.config;
        let mut run = Layers::new(c, self.storms());
        for (d, (device_id, sensor_type, battery, series)) in table.devices.iter().enumerate() {
            let mut rng = event_rng(c.seed ^ TABLE_SALT, d as u64);
            let drifting = c.drift_enabled && rng.random::<f64>() < c.drift_probability;
            let battery_start = battery.unwrap_or_else(|| 100.0 - rng.random_range(0.0..20.0));
            let mut device =
                Device::new(device_id, sensor_type, drifting, battery_start, series[0].0);
            for &(ts, true_value) in series {
                run.reading(&mut device, ts, &mut rng, |_| true_value);
            }
            run.close(device);
        }
        run.finish()
    }
}

/// One device's layer state: its drift so far, missing readings, battery.
struct Device {
    id: String,
    sensor_type: String,
    drifting: bool,
    battery_start: f64,
    /// Battery drain counts from here.
    first_ms: i64,
    drift: f64,
    missing: u64,
    battery: f64,
    readings: u64,
}

impl Device {
    fn new(id: &str, sensor_type: &str, drifting: bool, battery_start: f64, first_ms: i64) -> Self {
        Device {
            id: id.to_string(),
            sensor_type: sensor_type.to_string(),
            drifting,
            battery_start,
            first_ms,
            drift: 0.0,
            missing: 0,
            battery: battery_start,
            readings: 0,
        }
    }
}

/// The anomaly layers of one run and what they produced.
struct Layers<'a> {
    config: &'a IotTelemetryConfig,
    storms: Vec<(i64, i64)>,
    readings: Vec<Reading>,
    alerts: Vec<Alert>,
    fleet_status: Vec<DeviceStatus>,
    storm_alerts: u64,
}

impl<'a> Layers<'a> {
    fn new(config: &'a IotTelemetryConfig, storms: Vec<(i64, i64)>) -> Self {
        Layers {
            config,
            storms,
            readings: Vec::new(),
            alerts: Vec::new(),
            fleet_status: Vec::new(),
            storm_alerts: 0,
        }
    }

    /// One reading at `ts` through the layers: drift, battery drain, the true value
    /// (drawn between them, so generated runs keep their streams), missing, alerts.
    fn reading<R: Rng>(
        &mut self,
        device: &mut Device,
        ts: i64,
        rng: &mut R,
        true_value: impl FnOnce(&mut R) -> f64,
    ) {
        let c = self.config;
        if device.drifting {
            device.drift += if rng.random::<bool>() {
                c.drift_rate
            } else {
                -c.drift_rate
            };
        }
        if c.battery_drain_enabled {
            let hours = (ts - device.first_ms) as f64 / 3_600_000.0;
            device.battery = (device.battery_start - c.battery_drain_rate * hours).max(0.0);
        }
        let true_value = true_value(rng);
        let value = if c.missing_enabled && rng.random::<f64>() < c.missing_probability {
            device.missing += 1;
            None
        } else {
            Some(true_value + device.drift)
        };
        let storm = self.storms.iter().any(|&(s, e)| ts >= s && ts < e);
        let multiplier = if storm {
            c.alert_storm_rate_multiplier
        } else {
            1.0
        };
        if rng.random::<f64>() < (c.alert_probability * multiplier).min(1.0) {
            self.storm_alerts += storm as u64;
            let critical = rng.random::<f64>() < 0.2;
            self.alerts.push(Alert {
                device_id: device.id.clone(),
                alert_time: ts,
                alert_type: if storm { "storm" } else { "threshold" }.to_string(),
                severity: if critical { "critical" } else { "warning" }.to_string(),
                value,
            });
        }
        device.readings += 1;
        self.readings.push(Reading {
            device_id: device.id.clone(),
            sensor_type: device.sensor_type.clone(),
            value,
            drift: device.drift,
            battery_level: device.battery,
            reading_time: ts,
        });
    }

    /// Records the device's final status.
    fn close(&mut self, device: Device) {
        self.fleet_status.push(DeviceStatus {
            status: if device.battery < 20.0 {
                "low_battery"
            } else {
                "ok"
            }
            .to_string(),
            device_id: device.id,
            sensor_type: device.sensor_type,
            battery_level: device.battery,
            readings: device.readings,
            missing: device.missing,
            drifting: device.drifting,
            drift: device.drift,
        });
    }

    fn finish(self) -> IotTelemetryResult {
        let storms = self.storms.len() as u64;
        finish(
            self.readings,
            self.alerts,
            self.fleet_status,
            storms,
            self.storm_alerts,
        )
    }
}

/// Orders the readings and alerts and computes the statistics.
fn finish(
    mut readings: Vec<Reading>,
    mut alerts: Vec<Alert>,
    fleet_status: Vec<DeviceStatus>,
    storms: u64,
    storm_alerts: u64,
) -> IotTelemetryResult {
    readings.sort_by(|a, b| (a.reading_time, &a.device_id).cmp(&(b.reading_time, &b.device_id)));
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
        storms,
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
