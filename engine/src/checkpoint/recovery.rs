//! Recovery as pure functions over what the store read (as `arroyo-state-protocol`
//! keeps its protocol apart from storage): [`verify`] decides whether one stored
//! checkpoint is intact, [`choose`] which checkpoint a run resumes from. The store only
//! loads bytes; every decision is here and table-tested.

use std::collections::BTreeMap;

use thiserror::Error;

use super::store::{Checkpoint, CheckpointError, CheckpointId, CheckpointMeta, Recovery, StateKey};

/// Why recovery passed over a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// No completion marker: the run stopped while writing it.
    #[error("no completion marker (it was never finished)")]
    Unfinished,
    /// The marker exists but the metadata does not.
    #[error("its metadata is missing")]
    MissingMetadata,
    /// The marker is not a 4-byte checksum.
    #[error("completion marker has {0} bytes, expected 4")]
    MalformedMarker(usize),
    /// The metadata does not match the marker's checksum.
    #[error("metadata checksum mismatch")]
    MetadataChecksum,
    /// The metadata is not readable.
    #[error("unreadable metadata: {0}")]
    UnreadableMetadata(String),
    /// An entry the metadata lists is not stored.
    #[error("entry of {0} is missing")]
    MissingEntry(StateKey),
    /// An entry is shorter or longer than the metadata says.
    #[error("entry of {key} is truncated: expected {expected} bytes, found {found}")]
    TruncatedEntry {
        /// The entry.
        key: StateKey,
        /// Its length in the metadata.
        expected: u64,
        /// Its stored length.
        found: u64,
    },
    /// An entry does not match its checksum.
    #[error("checksum mismatch in the entry of {0}")]
    EntryChecksum(StateKey),
}

/// The raw parts of one stored checkpoint, as read from the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredParts {
    /// The completion marker (the metadata's CRC32, little endian).
    pub marker: Option<Vec<u8>>,
    /// The metadata (JSON).
    pub meta: Option<Vec<u8>>,
    /// Every state entry found under the checkpoint.
    pub entries: BTreeMap<StateKey, Vec<u8>>,
}

/// Checks one stored checkpoint: marker, metadata checksum, then every entry's length
/// and checksum.
pub fn verify(parts: &StoredParts) -> Result<Checkpoint, SkipReason> {
    let marker = parts.marker.as_ref().ok_or(SkipReason::Unfinished)?;
    let meta_bytes = parts.meta.as_ref().ok_or(SkipReason::MissingMetadata)?;
    let expected: [u8; 4] = marker
        .as_slice()
        .try_into()
        .map_err(|_| SkipReason::MalformedMarker(marker.len()))?;
    if crc32fast::hash(meta_bytes) != u32::from_le_bytes(expected) {
        return Err(SkipReason::MetadataChecksum);
    }
    let meta: CheckpointMeta = serde_json::from_slice(meta_bytes)
        .map_err(|e| SkipReason::UnreadableMetadata(e.to_string()))?;
    let mut states = BTreeMap::new();
    for (key, len, sum) in &meta.entries {
        let value = parts
            .entries
            .get(key)
            .ok_or_else(|| SkipReason::MissingEntry(key.clone()))?;
        if value.len() as u64 != *len {
            return Err(SkipReason::TruncatedEntry {
                key: key.clone(),
                expected: *len,
                found: value.len() as u64,
            });
        }
        if crc32fast::hash(value) != *sum {
            return Err(SkipReason::EntryChecksum(key.clone()));
        }
        states.insert(key.clone(), value.clone());
    }
    Ok(Checkpoint { meta, states })
}

/// Chooses the checkpoint to resume from among `newest_first` (each verified): the
/// newest intact one, refused if another pipeline took it. Damaged newer ones are
/// reported as skipped. When none is intact: a fresh start if every one is merely
/// unfinished (the run stopped while writing its first), else the newest damaged one's
/// problem as an error, so a damaged store is never silently started over.
pub fn choose(
    pipeline: &[String],
    newest_first: Vec<(CheckpointId, Result<Checkpoint, SkipReason>)>,
) -> Result<Recovery, CheckpointError> {
    let mut skipped: Vec<(CheckpointId, SkipReason)> = Vec::new();
    for (id, verified) in newest_first {
        match verified {
            Ok(checkpoint) => {
                check_pipeline(&checkpoint.meta, pipeline)?;
                return Ok(Recovery {
                    checkpoint: Some(checkpoint),
                    skipped,
                });
            }
            Err(reason) => skipped.push((id, reason)),
        }
    }
    match skipped.iter().find(|(_, r)| *r != SkipReason::Unfinished) {
        Some((id, reason)) => Err(CheckpointError::Corrupt {
            id: *id,
            reason: reason.to_string(),
        }),
        None => Ok(Recovery {
            checkpoint: None,
            skipped,
        }),
    }
}

/// Refuses a checkpoint taken by a pipeline with other nodes. The local halves of
/// two-phase windows (`….local`) run only at parallelism above 1 and send their
/// partials on at every barrier, so a checkpoint with or without them restores in a
/// plan without or with them (another parallelism).
pub fn check_pipeline(meta: &CheckpointMeta, pipeline: &[String]) -> Result<(), CheckpointError> {
    let is_local = |n: &&String| n.ends_with(".local");
    let missing: Vec<&str> = meta
        .pipeline
        .iter()
        .filter(|n| !is_local(n))
        .filter(|n| !pipeline.contains(n))
        .map(String::as_str)
        .collect();
    let added: Vec<&str> = pipeline
        .iter()
        .filter(|n| !is_local(n))
        .filter(|n| !meta.pipeline.contains(n))
        .map(String::as_str)
        .collect();
    if missing.is_empty() && added.is_empty() {
        Ok(())
    } else {
        Err(CheckpointError::PipelineChanged {
            id: meta.id,
            missing: missing.join(", "),
            added: added.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(node: &str) -> StateKey {
        StateKey {
            kind: "operator".into(),
            node: node.into(),
            worker: 0,
        }
    }

    fn meta(id: u64, pipeline: &[&str], entries: &[(&str, &[u8])]) -> CheckpointMeta {
        CheckpointMeta {
            version: 1,
            id: CheckpointId(id),
            created_ms: 0,
            pipeline: pipeline.iter().map(|s| s.to_string()).collect(),
            parallelism: 1,
            entries: entries
                .iter()
                .map(|(n, v)| (key(n), v.len() as u64, crc32fast::hash(v)))
                .collect(),
        }
    }

    /// The parts a correct store write leaves.
    fn intact(id: u64, entries: &[(&str, &[u8])]) -> StoredParts {
        let meta = serde_json::to_vec(&meta(id, &["src#0", "w#1"], entries)).unwrap();
        StoredParts {
            marker: Some(crc32fast::hash(&meta).to_le_bytes().to_vec()),
            meta: Some(meta),
            entries: entries.iter().map(|(n, v)| (key(n), v.to_vec())).collect(),
        }
    }

    #[test]
    fn verify_names_what_is_wrong_with_a_stored_checkpoint() {
        let good = intact(3, &[("w#1", b"state")]);
        let cases: Vec<(&str, StoredParts, Result<(), SkipReason>)> = vec![
            ("intact", good.clone(), Ok(())),
            (
                "no marker",
                StoredParts {
                    marker: None,
                    ..good.clone()
                },
                Err(SkipReason::Unfinished),
            ),
            (
                "no metadata",
                StoredParts {
                    meta: None,
                    ..good.clone()
                },
                Err(SkipReason::MissingMetadata),
            ),
            (
                "short marker",
                StoredParts {
                    marker: Some(vec![1, 2]),
                    ..good.clone()
                },
                Err(SkipReason::MalformedMarker(2)),
            ),
            (
                "marker of other metadata",
                StoredParts {
                    marker: Some(vec![0, 0, 0, 0]),
                    ..good.clone()
                },
                Err(SkipReason::MetadataChecksum),
            ),
            (
                "entry missing",
                StoredParts {
                    entries: BTreeMap::new(),
                    ..good.clone()
                },
                Err(SkipReason::MissingEntry(key("w#1"))),
            ),
            (
                "entry truncated",
                StoredParts {
                    entries: [(key("w#1"), b"sta".to_vec())].into(),
                    ..good.clone()
                },
                Err(SkipReason::TruncatedEntry {
                    key: key("w#1"),
                    expected: 5,
                    found: 3,
                }),
            ),
            (
                "entry flipped",
                StoredParts {
                    entries: [(key("w#1"), b"stbte".to_vec())].into(),
                    ..good.clone()
                },
                Err(SkipReason::EntryChecksum(key("w#1"))),
            ),
        ];
        for (what, parts, want) in cases {
            assert_eq!(verify(&parts).map(|_| ()), want, "{what}");
        }
        let garbage = b"{not json".to_vec();
        let unreadable = StoredParts {
            marker: Some(crc32fast::hash(&garbage).to_le_bytes().to_vec()),
            meta: Some(garbage),
            entries: BTreeMap::new(),
        };
        assert!(matches!(
            verify(&unreadable),
            Err(SkipReason::UnreadableMetadata(_))
        ));
    }

    #[test]
    fn choose_resumes_from_the_newest_intact_checkpoint_and_reports_the_rest() {
        let pipeline: Vec<String> = vec!["src#0".into(), "w#1".into()];
        let ok = |id: u64| (CheckpointId(id), verify(&intact(id, &[("w#1", b"s")])));
        let bad = |id: u64, r: SkipReason| (CheckpointId(id), Err(r));
        type Want = Result<(Option<u64>, Vec<u64>), String>;
        type Verified = Vec<(CheckpointId, Result<Checkpoint, SkipReason>)>;
        let cases: Vec<(&str, Verified, Want)> = vec![
            ("empty store", vec![], Ok((None, vec![]))),
            ("newest intact", vec![ok(5), ok(4)], Ok((Some(5), vec![]))),
            ("newest unfinished", vec![bad(5, SkipReason::Unfinished), ok(4)], Ok((Some(4), vec![5]))),
            ("newest damaged", vec![bad(5, SkipReason::MetadataChecksum), ok(4)], Ok((Some(4), vec![5]))),
            ("only an unfinished first", vec![bad(1, SkipReason::Unfinished)], Ok((None, vec![1]))),
            ("only damaged ones", vec![bad(2, SkipReason::MetadataChecksum), bad(1, SkipReason::Unfinished)],
             Err("checkpoint 2 is unusable: metadata checksum mismatch".into())),
            ("unfinished over damaged", vec![bad(2, SkipReason::Unfinished), bad(1, SkipReason::EntryChecksum(key("w#1")))],
             Err("checkpoint 1 is unusable: checksum mismatch in the entry of operator `w#1` of worker 0".into())),
        ];
        for (what, input, want) in cases {
            let got: Want = choose(&pipeline, input)
                .map(|r| {
                    (
                        r.checkpoint.map(|c| c.meta.id.0),
                        r.skipped.iter().map(|(id, _)| id.0).collect(),
                    )
                })
                .map_err(|e| e.to_string());
            assert_eq!(got, want, "{what}");
        }
        let changed = choose(&["src#0".to_string(), "w#2".to_string()], vec![ok(7)]).unwrap_err();
        assert_eq!(
            changed.to_string(),
            "checkpoint 7 was taken by a different pipeline: missing now [w#1], new [w#2]"
        );
    }
}
