//! Every sled key of the checkpoint store is built here.
//!
//! `cp/{id:020}/meta`, `cp/{id:020}/done`, `cp/{id:020}/state/{kind}/{node}/{worker}`:
//! zero-padded ids sort numerically, so a prefix scan lists checkpoints in order.

use super::store::{CheckpointId, StateKey};

const ROOT: &str = "cp/";

pub(crate) fn prefix(id: CheckpointId) -> String {
    format!("{ROOT}{:020}/", id.0)
}

pub(crate) fn meta(id: CheckpointId) -> String {
    format!("{}meta", prefix(id))
}

pub(crate) fn done(id: CheckpointId) -> String {
    format!("{}done", prefix(id))
}

pub(crate) fn state(id: CheckpointId, key: &StateKey) -> String {
    format!(
        "{}state/{}/{}/{}",
        prefix(id),
        key.kind,
        key.node,
        key.worker
    )
}

/// Positions written ahead of processing (at-most-once), outside any checkpoint.
pub(crate) fn ahead(key: &StateKey) -> String {
    format!("ahead/{}/{}/{}", key.kind, key.node, key.worker)
}

/// The parallelism of the runs that wrote positions ahead.
pub(crate) fn ahead_parallelism() -> String {
    "ahead-parallelism".to_string()
}

pub(crate) fn root() -> &'static str {
    ROOT
}

/// The checkpoint id a key belongs to.
pub(crate) fn id_of(key: &[u8]) -> Option<CheckpointId> {
    let text = std::str::from_utf8(key).ok()?;
    let rest = text.strip_prefix(ROOT)?;
    rest.get(..20)?.parse().ok().map(CheckpointId)
}
