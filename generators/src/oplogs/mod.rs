//! Operational logs: services handling requests with log-normal latency, latency
//! spikes, outages with a high error rate, error bursts, and distributed traces.
//!
//! ```
//! use tidewater_generators::oplogs::{OperationalLogConfig, OperationalLogSimulator};
//! let result = OperationalLogSimulator::new(OperationalLogConfig { duration_hours: 1.0, ..Default::default() })
//!     .unwrap()
//!     .run();
//! assert_eq!(result.service_health.len(), 5);
//! assert!(result.logs.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
//! ```

mod config;
mod model;
mod simulator;

pub use config::{OperationalLogConfig, ServiceDefinition};
pub use model::{
    LogEvent, LogLevel, OperationalLogResult, OperationalLogStats, ServiceHealth, Trace,
};
pub use simulator::OperationalLogSimulator;

#[cfg(test)]
mod tests;
