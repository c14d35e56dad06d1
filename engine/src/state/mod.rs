//! Operator state that can be saved and restored.
//!
//! Every stateful operator keeps what it knows in one plain-data struct (window panes,
//! session sets, pending timers, the last watermark) and returns it, encoded, from
//! [`Operator::snapshot_state`](crate::operator::Operator::snapshot_state). A snapshot
//! is keyed by the operator's stable id ([`OperatorId`]: its position in the pipeline
//! and its name), so a checkpoint stores one blob per (operator, worker) and a restore
//! can tell when the pipeline changed.

use serde::{Deserialize, Serialize};

mod rescale;
pub use rescale::KeyOwner;

use crate::error::{EngineError, Result};

/// The stable identity of an operator: its construction order and name
/// (`"window(tumbling)#3"`), the same on every run of the same pipeline code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OperatorId {
    /// Position in construction order.
    pub node: usize,
    /// Display name, including the position.
    pub name: String,
}

/// The version of the state encoding this release writes. Every encoded state starts
/// with it, so a later release can read an older checkpoint (or refuse it by name)
/// instead of misreading its bytes.
pub const STATE_VERSION: u8 = 1;

/// Encodes a state value: the [`STATE_VERSION`] byte, then bincode (compact; checkpoints
/// verify every entry's checksum before it is decoded).
pub(crate) fn encode<S: Serialize>(operator: &str, state: &S) -> Result<Vec<u8>> {
    let mut bytes = vec![STATE_VERSION];
    bincode::serialize_into(&mut bytes, state).map_err(|e| EngineError::State {
        operator: operator.to_string(),
        message: format!("cannot encode: {e}"),
    })?;
    Ok(bytes)
}

/// Decodes the states several workers took (a rescaled restore), each as [`decode`].
pub(crate) fn decode_all<S: for<'de> Deserialize<'de>>(
    operator: &str,
    parts: &[Vec<u8>],
) -> Result<Vec<S>> {
    parts.iter().map(|bytes| decode(operator, bytes)).collect()
}

/// Decodes a state value written by [`encode`], refusing a version this release does
/// not know.
pub(crate) fn decode<S: for<'de> Deserialize<'de>>(operator: &str, bytes: &[u8]) -> Result<S> {
    let fail = |message: String| EngineError::State {
        operator: operator.to_string(),
        message,
    };
    match bytes.split_first() {
        None => Err(fail("empty state: expected a version byte and the state".into())),
        Some((&STATE_VERSION, body)) => {
            bincode::deserialize(body).map_err(|e| fail(format!("unreadable state: {e}")))
        }
        Some((&version, _)) => Err(fail(format!(
            "state encoding version {version} is not supported (this release reads version {STATE_VERSION})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_with_its_version_and_other_versions_are_refused_by_name() {
        let bytes = encode("window#3", &(7u64, "x".to_string())).unwrap();
        assert_eq!(bytes[0], STATE_VERSION);
        let back: (u64, String) = decode("window#3", &bytes).unwrap();
        assert_eq!(back, (7, "x".to_string()));
        let mut newer = bytes.clone();
        newer[0] = 9;
        let cases: [(&[u8], &str); 2] = [
            (&[], "state of `window#3`: empty state: expected a version byte and the state"),
            (
                &newer,
                "state of `window#3`: state encoding version 9 is not supported (this release reads version 1)",
            ),
        ];
        for (input, message) in cases {
            let e = decode::<(u64, String)>("window#3", input).unwrap_err();
            assert_eq!(e.to_string(), message);
        }
    }
}
