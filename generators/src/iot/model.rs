//! IoT telemetry rows and statistics.

use serde::{Deserialize, Serialize};

/// One sensor reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Device id (`dev-0007`).
    pub device_id: String,
    /// `temperature`, `humidity` or `pressure`.
    pub sensor_type: String,
    /// The reading (`None`: missing).
    pub value: Option<f64>,
    /// Drift added to the true value so far.
    pub drift: f64,
    /// Battery level in percent.
    pub battery_level: f64,
    /// Event time (epoch ms).
    pub reading_time: i64,
}

/// An alert raised by a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The device.
    pub device_id: String,
    /// When (epoch ms).
    pub alert_time: i64,
    /// `threshold` or `storm`.
    pub alert_type: String,
    /// `warning` or `critical`.
    pub severity: String,
    /// The reading that raised it, if present.
    pub value: Option<f64>,
}

/// A device's state at the end of the simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// The device.
    pub device_id: String,
    /// Sensor type.
    pub sensor_type: String,
    /// Battery level at the end (percent).
    pub battery_level: f64,
    /// Readings produced (missing included).
    pub readings: u64,
    /// Missing readings.
    pub missing: u64,
    /// The sensor drifts.
    pub drifting: bool,
    /// Drift accumulated at the end.
    pub drift: f64,
    /// `ok` or `low_battery` (below 20%).
    pub status: String,
}

/// Aggregate statistics of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IotTelemetryStats {
    /// Readings produced.
    pub readings: u64,
    /// Missing readings.
    pub missing: u64,
    /// `missing / readings`.
    pub missing_rate: f64,
    /// Drifting devices.
    pub drifting_devices: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Alert storms.
    pub storms: u64,
    /// Alerts raised during storms.
    pub storm_alerts: u64,
    /// Mean battery level at the end.
    pub mean_battery_level: f64,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IotTelemetryResult {
    /// All readings in event-time order.
    pub readings: Vec<Reading>,
    /// All alerts in event-time order.
    pub alerts: Vec<Alert>,
    /// One row per device.
    pub fleet_status: Vec<DeviceStatus>,
    /// Aggregate statistics.
    pub stats: IotTelemetryStats,
}
