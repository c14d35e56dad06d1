//! Web clickstream: users, sessions, page views with dwell times, bounces, a conversion
//! funnel with drop-offs, bot sessions, referrers and devices.
//!
//! ```
//! use tidewater_generators::clickstream::{ClickstreamConfig, ClickstreamSimulator};
//! let result = ClickstreamSimulator::new(ClickstreamConfig { users: 200, ..Default::default() })
//!     .unwrap()
//!     .run();
//! assert_eq!(result.stats.total_sessions, 500); // 200 users x 2.5 sessions
//! assert_eq!(result.page_views.len() as u64, result.stats.total_page_views);
//! ```

mod config;
mod model;
mod simulator;

pub use config::ClickstreamConfig;
pub use model::{ClickstreamResult, ClickstreamStats, FunnelStep, PageView, Session};
pub use simulator::{ClickstreamGenerator, ClickstreamSimulator, SessionActivity};

#[cfg(test)]
mod tests;
