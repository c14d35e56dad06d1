//! The sled-backed checkpoint store: atomic writes, verification, retention, recovery.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{keys, recovery};

/// A checkpoint's number; later checkpoints have larger ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CheckpointId(pub u64);

impl std::fmt::Display for CheckpointId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "checkpoint {}", self.0)
    }
}

/// Whose state an entry is: an operator, source or sink instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StateKey {
    /// `operator`, `source` or `sink`.
    pub kind: String,
    /// Stable node name (`window(tumbling)#3`).
    pub node: String,
    /// Worker index.
    pub worker: usize,
}

impl std::fmt::Display for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} `{}` of worker {}", self.kind, self.node, self.worker)
    }
}

/// What a checkpoint holds and how to verify it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Format version of the metadata.
    pub version: u32,
    /// The checkpoint.
    pub id: CheckpointId,
    /// When it was taken (epoch ms, processing time).
    pub created_ms: i64,
    /// Node names of the pipeline that took it, in construction order.
    pub pipeline: Vec<String>,
    /// Parallelism of the run that took it.
    pub parallelism: usize,
    /// Every entry with its length and CRC32.
    pub entries: Vec<(StateKey, u64, u32)>,
}

/// A verified checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Its metadata.
    pub meta: CheckpointMeta,
    /// Every state entry.
    pub states: BTreeMap<StateKey, Vec<u8>>,
}

/// What recovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The newest intact checkpoint, if any.
    pub checkpoint: Option<Checkpoint>,
    /// Newer checkpoints that were damaged or incomplete, and why (newest first).
    pub skipped: Vec<(CheckpointId, super::SkipReason)>,
}

/// Checkpoint storage errors.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// sled could not open, read or write the directory.
    #[error("checkpoint store `{dir}`: {message}")]
    Storage {
        /// The checkpoint directory.
        dir: PathBuf,
        /// What sled said.
        message: String,
    },
    /// A checkpoint is damaged or incomplete.
    #[error("{id} is unusable: {reason}")]
    Corrupt {
        /// The checkpoint.
        id: CheckpointId,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint was taken by a pipeline with other operators.
    #[error("{id} was taken by a different pipeline: missing now [{missing}], new [{added}]")]
    PipelineChanged {
        /// The checkpoint.
        id: CheckpointId,
        /// Nodes the checkpoint has and the pipeline lacks.
        missing: String,
        /// Nodes the pipeline has and the checkpoint lacks.
        added: String,
    },
}

type Result<T> = std::result::Result<T, CheckpointError>;

/// Checkpoints of one pipeline under one directory.
pub struct CheckpointStore {
    dir: PathBuf,
    db: sled::Db,
    retain: usize,
}

impl std::fmt::Debug for CheckpointStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointStore")
            .field("dir", &self.dir)
            .field("retain", &self.retain)
            .finish()
    }
}

/// How long [`CheckpointStore::open`] waits for a lock that a dropped handle of this
/// process is still releasing.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// True when sled failed because another handle holds the directory's file lock.
/// sled 0.34 reports it as an `Other` I/O error whose text carries the `WouldBlock`
/// of `flock`, so the text is what identifies it.
fn is_lock_held(e: &sled::Error) -> bool {
    match e {
        sled::Error::Io(io) => {
            let text = io.to_string();
            text.starts_with("could not acquire lock") && text.contains("WouldBlock")
        }
        _ => false,
    }
}

fn crc(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

impl CheckpointStore {
    /// Opens (or creates) the store in `dir`, keeping the newest `retain` checkpoints.
    ///
    /// sled 0.34 releases its file lock on a background thread after the previous
    /// handle is dropped, so reopening right after a run in the same process can briefly
    /// find the lock held; that case is retried for up to [`LOCK_WAIT`] before it becomes
    /// an error (a second live process on the same directory still fails).
    pub fn open(dir: &Path, retain: usize) -> Result<Self> {
        // Writes flush explicitly (a checkpoint is durable when `write` returns), so
        // sled's periodic flusher thread would only add work and hold the lock longer.
        let config = sled::Config::new().path(dir).flush_every_ms(None);
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let mut pause = std::time::Duration::from_millis(5);
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(e) if is_lock_held(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(100));
                }
                Err(e) => {
                    return Err(CheckpointError::Storage {
                        dir: dir.to_path_buf(),
                        message: e.to_string(),
                    })
                }
            }
        };
        Ok(CheckpointStore {
            dir: dir.to_path_buf(),
            db,
            retain: retain.max(1),
        })
    }

    fn storage(&self, e: impl std::fmt::Display) -> CheckpointError {
        CheckpointError::Storage {
            dir: self.dir.clone(),
            message: e.to_string(),
        }
    }

    /// Every checkpoint id with any stored key, ascending.
    pub fn ids(&self) -> Result<Vec<CheckpointId>> {
        let mut ids = Vec::new();
        for item in self.db.scan_prefix(keys::root()) {
            let (key, _) = item.map_err(|e| self.storage(e))?;
            if let Some(id) = keys::id_of(&key) {
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }

    /// The id the next checkpoint should use.
    pub fn next_id(&self) -> Result<CheckpointId> {
        Ok(CheckpointId(self.ids()?.last().map_or(1, |id| id.0 + 1)))
    }

    /// Writes checkpoint `id` atomically (entries, metadata and completion marker in
    /// one batch), flushes it, then drops checkpoints beyond the retention.
    pub fn write(
        &self,
        id: CheckpointId,
        created_ms: i64,
        pipeline: Vec<String>,
        parallelism: usize,
        states: &BTreeMap<StateKey, Vec<u8>>,
    ) -> Result<CheckpointMeta> {
        let entries = states
            .iter()
            .map(|(k, v)| (k.clone(), v.len() as u64, crc(v)))
            .collect();
        let meta = CheckpointMeta {
            version: 1,
            id,
            created_ms,
            pipeline,
            parallelism,
            entries,
        };
        let meta_bytes = serde_json::to_vec(&meta).map_err(|e| self.storage(e))?;
        let mut batch = sled::Batch::default();
        for (key, value) in states {
            batch.insert(keys::state(id, key).as_bytes(), value.as_slice());
        }
        batch.insert(keys::meta(id).as_bytes(), meta_bytes.as_slice());
        batch.insert(keys::done(id).as_bytes(), &crc(&meta_bytes).to_le_bytes());
        self.db.apply_batch(batch).map_err(|e| self.storage(e))?;
        self.db.flush().map_err(|e| self.storage(e))?;
        self.enforce_retention()?;
        Ok(meta)
    }

    fn enforce_retention(&self) -> Result<()> {
        let ids = self.ids()?;
        let complete: Vec<CheckpointId> = ids
            .iter()
            .copied()
            .filter(|id| matches!(self.db.contains_key(keys::done(*id)), Ok(true)))
            .collect();
        if complete.len() <= self.retain {
            return Ok(());
        }
        let oldest_kept = complete[complete.len() - self.retain];
        for id in ids.into_iter().filter(|id| *id < oldest_kept) {
            self.delete(id)?;
        }
        self.db.flush().map_err(|e| self.storage(e))?;
        Ok(())
    }

    /// Removes every key of checkpoint `id`.
    pub fn delete(&self, id: CheckpointId) -> Result<()> {
        let mut batch = sled::Batch::default();
        for item in self.db.scan_prefix(keys::prefix(id)) {
            let (key, _) = item.map_err(|e| self.storage(e))?;
            batch.remove(key);
        }
        self.db.apply_batch(batch).map_err(|e| self.storage(e))
    }

    /// Reads and verifies checkpoint `id`.
    pub fn load(&self, id: CheckpointId) -> Result<Checkpoint> {
        recovery::verify(&self.parts(id)?).map_err(|reason| CheckpointError::Corrupt {
            id,
            reason: reason.to_string(),
        })
    }

    /// Reads the raw parts of checkpoint `id`: marker, metadata, and the entries the
    /// metadata names (when it is readable). No checks: [`recovery::verify`] does them.
    fn parts(&self, id: CheckpointId) -> Result<recovery::StoredParts> {
        let get = |key: String| -> Result<Option<Vec<u8>>> {
            Ok(self
                .db
                .get(key.as_bytes())
                .map_err(|e| self.storage(e))?
                .map(|v| v.to_vec()))
        };
        let marker = get(keys::done(id))?;
        let meta = get(keys::meta(id))?;
        let mut entries = BTreeMap::new();
        if let Some(parsed) = meta
            .as_ref()
            .and_then(|m| serde_json::from_slice::<CheckpointMeta>(m).ok())
        {
            for (key, _, _) in &parsed.entries {
                if let Some(value) = get(keys::state(id, key))? {
                    entries.insert(key.clone(), value);
                }
            }
        }
        Ok(recovery::StoredParts {
            marker,
            meta,
            entries,
        })
    }

    /// The newest intact checkpoint (newer damaged ones are reported in `skipped`).
    /// Fails if checkpoints exist but none is intact, naming the newest one's problem,
    /// or if the newest intact one was taken by another pipeline than `pipeline`.
    /// The decision is [`recovery::choose`]'s.
    pub fn recover(&self, pipeline: &[String]) -> Result<Recovery> {
        let mut verified = Vec::new();
        for id in self.ids()?.into_iter().rev() {
            let checked = recovery::verify(&self.parts(id)?);
            let intact = checked.is_ok();
            verified.push((id, checked));
            if intact {
                break;
            }
        }
        recovery::choose(pipeline, verified)
    }

    /// Stores a position written ahead of processing (at-most-once), durably.
    pub fn put_ahead(&self, key: &StateKey, bytes: &[u8]) -> Result<()> {
        self.db
            .insert(keys::ahead(key).as_bytes(), bytes)
            .map_err(|e| self.storage(e))?;
        self.db.flush().map(|_| ()).map_err(|e| self.storage(e))
    }

    /// The parallelism of the runs that wrote positions ahead (at-most-once), recording
    /// `parallelism` if none did yet. Positions are per worker: a run at another
    /// parallelism would find some workers without a position and read their share
    /// again, so the caller refuses it.
    pub fn ahead_parallelism(&self, parallelism: usize) -> Result<usize> {
        let key = keys::ahead_parallelism();
        match self.db.get(key.as_bytes()).map_err(|e| self.storage(e))? {
            Some(bytes) => {
                let raw: [u8; 8] =
                    bytes
                        .as_ref()
                        .try_into()
                        .map_err(|_| CheckpointError::Storage {
                            dir: self.dir.clone(),
                            message: format!("`{key}` has {} bytes, expected 8", bytes.len()),
                        })?;
                Ok(u64::from_le_bytes(raw) as usize)
            }
            None => {
                self.db
                    .insert(key.as_bytes(), &(parallelism as u64).to_le_bytes())
                    .map_err(|e| self.storage(e))?;
                self.db.flush().map_err(|e| self.storage(e))?;
                Ok(parallelism)
            }
        }
    }

    /// A position written ahead by an earlier run.
    pub fn get_ahead(&self, key: &StateKey) -> Result<Option<Vec<u8>>> {
        Ok(self
            .db
            .get(keys::ahead(key).as_bytes())
            .map_err(|e| self.storage(e))?
            .map(|v| v.to_vec()))
    }

    #[cfg(test)]
    pub(crate) fn raw(&self) -> &sled::Db {
        &self.db
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(node: &str, worker: usize) -> StateKey {
        StateKey {
            kind: "operator".into(),
            node: node.into(),
            worker,
        }
    }

    fn pipeline() -> Vec<String> {
        vec!["source#0".into(), "window(tumbling)#2".into()]
    }

    fn states(n: u8) -> BTreeMap<StateKey, Vec<u8>> {
        [
            (key("window(tumbling)#2", 0), vec![n; 64]),
            (key("source#0", 0), vec![n, n + 1]),
        ]
        .into_iter()
        .collect()
    }

    fn write(store: &CheckpointStore, n: u8) -> CheckpointId {
        let id = store.next_id().unwrap();
        store.write(id, 0, pipeline(), 1, &states(n)).unwrap();
        id
    }

    #[test]
    fn checkpoints_round_trip_and_only_the_newest_n_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path(), 2).unwrap();
        let ids: Vec<CheckpointId> = (1..=4).map(|n| write(&store, n)).collect();
        assert_eq!(
            ids,
            vec![
                CheckpointId(1),
                CheckpointId(2),
                CheckpointId(3),
                CheckpointId(4)
            ]
        );
        assert_eq!(store.ids().unwrap(), vec![CheckpointId(3), CheckpointId(4)]);
        let recovered = store.recover(&pipeline()).unwrap();
        assert_eq!(recovered.checkpoint.unwrap().states, states(4));
        assert!(recovered.skipped.is_empty());
    }

    #[test]
    fn a_damaged_newest_checkpoint_falls_back_to_the_previous_one() {
        // (how the newest checkpoint is damaged, what recovery reports)
        type Damage = fn(&sled::Db, CheckpointId);
        let cases: Vec<(Damage, &str)> = vec![
            (
                |db, id| {
                    let k = keys::state(id, &key("window(tumbling)#2", 0));
                    let mut v = db.get(&k).unwrap().unwrap().to_vec();
                    v[10] ^= 0x40;
                    db.insert(k, v).unwrap();
                },
                "checksum mismatch in the entry of operator `window(tumbling)#2` of worker 0",
            ),
            (
                |db, id| {
                    let k = keys::state(id, &key("window(tumbling)#2", 0));
                    let v = db.get(&k).unwrap().unwrap().to_vec();
                    db.insert(k, &v[..20]).unwrap();
                },
                "entry of operator `window(tumbling)#2` of worker 0 is truncated: expected 64 bytes, found 20",
            ),
            (|db, id| { db.remove(keys::done(id)).unwrap(); }, "no completion marker (it was never finished)"),
            (
                |db, id| {
                    let mut v = db.get(keys::meta(id)).unwrap().unwrap().to_vec();
                    let last = v.len() - 2;
                    v[last] ^= 1;
                    db.insert(keys::meta(id), v).unwrap();
                },
                "metadata checksum mismatch",
            ),
            (|db, id| { db.remove(keys::state(id, &key("source#0", 0))).unwrap(); }, "entry of operator `source#0` of worker 0 is missing"),
        ];
        for (damage, reason) in cases {
            let dir = tempfile::tempdir().unwrap();
            let store = CheckpointStore::open(dir.path(), 5).unwrap();
            write(&store, 1);
            let newest = write(&store, 2);
            damage(store.raw(), newest);
            let recovered = store.recover(&pipeline()).unwrap();
            assert_eq!(recovered.checkpoint.unwrap().states, states(1), "{reason}");
            assert_eq!(
                recovered
                    .skipped
                    .iter()
                    .map(|(id, r)| (*id, r.to_string()))
                    .collect::<Vec<_>>(),
                vec![(newest, reason.to_string())]
            );
        }
    }

    #[test]
    fn with_no_intact_checkpoint_left_recovery_fails_naming_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path(), 5).unwrap();
        let id = write(&store, 1);
        store
            .raw()
            .insert(keys::meta(id), b"{}".as_slice())
            .unwrap();
        let e = store.recover(&pipeline()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "checkpoint 1 is unusable: metadata checksum mismatch"
        );
        // an unfinished checkpoint alone is no error: nothing was ever completed
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path(), 5).unwrap();
        let id = write(&store, 1);
        store.raw().remove(keys::done(id)).unwrap();
        assert_eq!(store.recover(&pipeline()).unwrap().checkpoint, None);
    }

    #[test]
    fn reopening_right_after_a_drop_waits_for_sleds_lock() {
        let dir = tempfile::tempdir().unwrap();
        for n in 1..=30 {
            let store = CheckpointStore::open(dir.path(), 50).unwrap();
            write(&store, n);
            assert_eq!(store.ids().unwrap().len(), n as usize);
        }
    }

    #[test]
    fn a_store_held_by_a_live_handle_is_an_error_naming_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let _held = CheckpointStore::open(dir.path(), 5).unwrap();
        let started = std::time::Instant::now();
        let e = CheckpointStore::open(dir.path(), 5).unwrap_err();
        assert!(started.elapsed() >= LOCK_WAIT, "{e}");
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("checkpoint store `{}`", dir.path().display())),
            "{text}"
        );
        assert!(text.contains("could not acquire lock"), "{text}");
    }

    #[test]
    fn a_checkpoint_of_another_pipeline_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path(), 5).unwrap();
        write(&store, 1);
        let changed = vec!["source#0".to_string(), "window(session)#2".to_string()];
        let e = store.recover(&changed).unwrap_err();
        assert_eq!(
            e.to_string(),
            "checkpoint 1 was taken by a different pipeline: missing now [window(tumbling)#2], new [window(session)#2]"
        );
    }

    #[test]
    fn damaged_store_files_never_yield_wrong_state() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = CheckpointStore::open(dir.path(), 5).unwrap();
            for n in 1..=3 {
                write(&store, n);
            }
        }
        // Truncate every file of the store to half its length.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let len = std::fs::metadata(&path).unwrap().len();
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len(len / 2)
                    .unwrap();
            }
        }
        // Either the store refuses to open (naming the directory), or what it recovers
        // is exactly one of the checkpoints written.
        match CheckpointStore::open(dir.path(), 5) {
            Err(e) => assert!(e.to_string().starts_with("checkpoint store `"), "{e}"),
            Ok(store) => match store.recover(&pipeline()) {
                Ok(r) => {
                    if let Some(c) = r.checkpoint {
                        assert!((1..=3).any(|n| c.states == states(n)));
                    }
                }
                Err(e) => assert!(
                    matches!(
                        e,
                        CheckpointError::Corrupt { .. } | CheckpointError::Storage { .. }
                    ),
                    "{e}"
                ),
            },
        }
    }
}
