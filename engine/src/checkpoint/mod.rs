//! Checkpoint storage: complete, verifiable snapshots of a pipeline's state in sled.
//!
//! A checkpoint is the state of every stateful operator instance (keyed by stable
//! operator id and worker) and the position of every source instance, taken at one
//! barrier. It is written in one atomic sled batch together with its metadata (the
//! pipeline's operator ids and a CRC32 of every entry) and a completion marker holding
//! the metadata's own CRC32, then flushed. Only checkpoints with a marker count.
//!
//! # Recovery
//!
//! * A crash before the batch is applied leaves nothing of the checkpoint: recovery
//!   uses the previous one.
//! * A batch is atomic in sled, so a checkpoint is never half written by the store; but
//!   files can still be damaged afterwards (disk errors, a truncated copy, a bit flip).
//!   Every entry is verified against the CRC32 in the metadata, and the metadata
//!   against the marker: a damaged checkpoint is reported (which one, which entry, what
//!   is wrong) and recovery falls back to the newest intact one.
//! * If no intact checkpoint remains but damaged ones exist, recovery fails with the
//!   newest one's problem instead of silently starting over.
//! * A checkpoint taken by a different pipeline (other operator ids) is refused with
//!   the operators that differ.

pub mod completion;
mod keys;
pub mod recovery;
mod store;

pub use recovery::SkipReason;
pub use store::{
    Checkpoint, CheckpointError, CheckpointId, CheckpointMeta, CheckpointStore, Recovery, StateKey,
};
