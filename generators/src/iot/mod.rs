//! IoT telemetry: a fleet of sensors reading at an interval, with sensor drift (random
//! walk), missing readings, alerts with fleet-wide alert storms, and battery drain.
//!
//! ```
//! use tidewater_generators::iot::{IotTelemetryConfig, IotTelemetrySimulator};
//! let result = IotTelemetrySimulator::new(IotTelemetryConfig { fleet_size: 5, duration_hours: 1.0, ..Default::default() })
//!     .unwrap()
//!     .run();
//! assert_eq!(result.readings.len(), 5 * 60); // one reading a minute
//! assert_eq!(result.fleet_status.len(), 5);
//! ```

mod config;
mod model;
mod simulator;

pub use config::IotTelemetryConfig;
pub use model::{Alert, DeviceStatus, IotTelemetryResult, IotTelemetryStats, Reading};
pub use simulator::IotTelemetrySimulator;

/// The reference's spelling of [`IotTelemetryConfig`].
pub type IoTTelemetryConfig = IotTelemetryConfig;
/// The reference's spelling of [`IotTelemetrySimulator`].
pub type IoTTelemetrySimulator = IotTelemetrySimulator;
/// The reference's spelling of [`IotTelemetryResult`].
pub type IoTTelemetryResult = IotTelemetryResult;

#[cfg(test)]
mod tests;
