//! Operator state that can be saved and restored.
//!
//! Every stateful operator keeps what it knows in one plain-data struct (window panes,
//! session sets, pending timers, the last watermark) and returns it, encoded, from
//! [`Operator::snapshot_state`](crate::operator::Operator::snapshot_state). A snapshot
//! is keyed by the operator's stable id ([`OperatorId`]: its position in the pipeline
//! and its name), so a checkpoint stores one blob per (operator, worker) and a restore
//! can tell when the pipeline changed.

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The stable identity of an operator: its construction order and name
/// (`"window(tumbling)#3"`), the same on every run of the same pipeline code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OperatorId {
    /// Position in construction order.
    pub node: usize,
    /// Display name, including the position.
    pub name: String,
}

/// Encodes a state value (bincode: compact, and checkpoints verify every entry's
/// checksum before it is decoded).
pub(crate) fn encode<S: Serialize>(operator: &str, state: &S) -> Result<Vec<u8>> {
    bincode::serialize(state).map_err(|e| crate::error::EngineError::State {
        operator: operator.to_string(),
        message: e.to_string(),
    })
}

/// Decodes a state value written by [`encode`].
pub(crate) fn decode<S: for<'de> Deserialize<'de>>(operator: &str, bytes: &[u8]) -> Result<S> {
    bincode::deserialize(bytes).map_err(|e| crate::error::EngineError::State {
        operator: operator.to_string(),
        message: e.to_string(),
    })
}
