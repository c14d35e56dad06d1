//! Business workflows as state machines: entities start in an initial state and move
//! along weighted transitions after normally distributed dwell times, with skip, stuck
//! and backward anomalies. Presets: order fulfillment, support ticket, employee
//! onboarding.
//!
//! ```
//! use tidewater_generators::workflow::{WorkflowConfig, WorkflowPreset, WorkflowSimulator};
//! let config = WorkflowConfig::preset(WorkflowPreset::SupportTicket).with_entities(50);
//! let result = WorkflowSimulator::new(config).unwrap().run();
//! assert_eq!(result.entity_summary.len(), 50);
//! assert!(result.events.len() >= 50);
//! ```

mod config;
mod model;
mod presets;
mod simulator;

pub use config::{StateDefinition, TransitionRule, WorkflowConfig, WorkflowPreset};
pub use model::{EntitySummary, TransitionEvent, WorkflowResult, WorkflowStats};
pub use simulator::WorkflowSimulator;

#[cfg(test)]
mod tests;
