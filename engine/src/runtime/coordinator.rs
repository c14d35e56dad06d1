//! The checkpoint coordinator of one run: triggers barriers, collects what every
//! source, operator and sink instance reports for a checkpoint, and hands complete
//! checkpoints to a writer thread, so workers never wait for sled.
//!
//! A checkpoint is complete when every sink instance has acknowledged its barrier (a
//! sink that ended counts as acknowledged): barriers reach sinks last, after every
//! operator upstream of them, on every worker, has reported its state. At end of input
//! the sinks wait for a final checkpoint (sources at their end, sinks' last
//! transactions) before committing, so a restart after the end replays nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::checkpoint::{completion, Checkpoint, CheckpointStore, StateKey};
use crate::config::{CheckpointConfig, DeliveryGuarantee};
use crate::error::{EngineError, Result};
use crate::time::Clock;

/// A complete checkpoint on its way to the writer: its id and every entry.
type Entries = (u64, BTreeMap<StateKey, Vec<u8>>);

/// The id sources and sinks report their end-of-input entries under.
pub(crate) const FINAL: u64 = u64::MAX;

/// The entry a final checkpoint carries: the run it belongs to had finished.
fn finished_marker() -> StateKey {
    StateKey {
        kind: "run".into(),
        node: "finished".into(),
        worker: 0,
    }
}

#[derive(Default)]
struct Progress {
    states: BTreeMap<u64, BTreeMap<StateKey, Vec<u8>>>,
    acks: BTreeMap<u64, BTreeSet<usize>>,
    finished_sinks: BTreeSet<usize>,
    sinks: usize,
    final_written: Option<u64>,
    failed: Option<EngineError>,
}

pub(crate) struct Coordinator {
    delivery: DeliveryGuarantee,
    interval_ms: i64,
    clock: Arc<dyn Clock>,
    pipeline: Vec<String>,
    parallelism: usize,
    /// Newest checkpoint id triggered (ids start after the store's last).
    triggered: AtomicU64,
    next_due_ms: AtomicI64,
    first_id: u64,
    /// Newest checkpoint written to the store.
    committed: AtomicU64,
    recovered: Option<Checkpoint>,
    /// Newer checkpoints recovery passed over, and why.
    skipped: Vec<(u64, String)>,
    progress: Mutex<Progress>,
    /// The writer thread's queue; `None` when checkpoints are written inline.
    writer: Mutex<Option<std::sync::mpsc::Sender<Entries>>>,
    /// Checkpoints are written on the thread that completes them (single-thread runs:
    /// the testing harness and the simulation, where a writer thread would make when
    /// a checkpoint is stored depend on the OS scheduler).
    inline: bool,
    store: Arc<CheckpointStore>,
    /// When each checkpoint was triggered, and how long completed ones took.
    timing: Mutex<Timing>,
}

/// When each checkpoint was triggered, and what completed ones took.
#[derive(Default)]
struct Timing {
    started: BTreeMap<u64, std::time::Instant>,
    durations: Vec<std::time::Duration>,
    last_id: Option<u64>,
    last_size_bytes: u64,
    total_size_bytes: u64,
    max_size_bytes: u64,
    failed: u64,
}

impl Coordinator {
    /// Opens the store, recovers the newest intact checkpoint and starts the writer
    /// (a thread, or with `inline` the thread that completes each checkpoint).
    pub fn start(
        config: &CheckpointConfig,
        clock: Arc<dyn Clock>,
        pipeline: Vec<String>,
        parallelism: usize,
        inline: bool,
    ) -> Result<Arc<Coordinator>> {
        let store =
            Arc::new(CheckpointStore::open(&config.dir, config.retain).map_err(EngineError::from)?);
        let recovery = store.recover(&pipeline).map_err(EngineError::from)?;
        if recovery.checkpoint.is_some() {
            crate::fault::point("recovery");
        }
        for (id, reason) in &recovery.skipped {
            tracing::warn!(checkpoint = id.0, %reason, dir = %config.dir.display(), "skipped a damaged checkpoint");
        }
        match &recovery.checkpoint {
            Some(c) if c.states.contains_key(&finished_marker()) => tracing::info!(
                checkpoint = c.meta.id.0,
                dir = %config.dir.display(),
                "resuming from the final checkpoint of a finished run: the input it read is \
                 not read again; only input that arrived since is"
            ),
            Some(c) => {
                tracing::info!(checkpoint = c.meta.id.0, dir = %config.dir.display(), "resuming from checkpoint")
            }
            None => tracing::debug!(dir = %config.dir.display(), "no checkpoint to resume from"),
        }
        if let Some(c) = &recovery.checkpoint {
            if c.meta.parallelism != parallelism {
                tracing::info!(
                    checkpoint = c.meta.id.0,
                    from = c.meta.parallelism,
                    to = parallelism,
                    "restoring at another parallelism: keyed state is redistributed by key"
                );
            }
        }
        if config.delivery == DeliveryGuarantee::AtMostOnce {
            let earlier = store
                .ahead_parallelism(parallelism)
                .map_err(EngineError::from)?;
            if earlier != parallelism {
                return Err(EngineError::invalid(
                    "checkpointing",
                    "parallelism",
                    format!(
                        "{earlier} (the parallelism of the at-most-once positions in this folder)"
                    ),
                    parallelism.to_string(),
                ));
            }
        }
        let first_id = store.next_id().map_err(EngineError::from)?.0;
        let now = clock.now_ms();
        let coordinator = Arc::new(Coordinator {
            delivery: config.delivery,
            interval_ms: crate::time::duration_ms(config.interval).max(1),
            clock,
            pipeline,
            parallelism,
            triggered: AtomicU64::new(first_id - 1),
            next_due_ms: AtomicI64::new(now + crate::time::duration_ms(config.interval)),
            first_id,
            committed: AtomicU64::new(0),
            skipped: recovery
                .skipped
                .iter()
                .map(|(id, reason)| (id.0, reason.to_string()))
                .collect(),
            recovered: recovery.checkpoint,
            progress: Mutex::new(Progress::default()),
            writer: Mutex::new(None),
            inline,
            store,
            timing: Mutex::default(),
        });
        if inline {
            return Ok(coordinator);
        }
        let (tx, rx) = std::sync::mpsc::channel::<Entries>();
        let weak = Arc::downgrade(&coordinator);
        std::thread::Builder::new()
            .name("checkpoint-writer".into())
            .spawn(move || {
                for (id, states) in rx {
                    let Some(c) = weak.upgrade() else { return };
                    c.write(id, states);
                }
            })
            .map_err(|e| EngineError::Spawn(e.to_string()))?;
        *coordinator.writer.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        Ok(coordinator)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self, id: u64, states: BTreeMap<StateKey, Vec<u8>>) {
        crate::fault::point("checkpoint.before_store");
        let result = self.store.write(
            crate::checkpoint::CheckpointId(id),
            self.clock.now_ms(),
            self.pipeline.clone(),
            self.parallelism,
            &states,
        );
        let size: usize = states.iter().map(|(k, v)| k.node.len() + v.len()).sum();
        let mut timing = self.timing.lock().unwrap_or_else(|p| p.into_inner());
        let started = timing.started.remove(&id);
        match (&result, started) {
            (Ok(_), Some(started)) => {
                timing.durations.push(started.elapsed());
                timing.last_id = Some(id);
                timing.last_size_bytes = size as u64;
                timing.total_size_bytes += size as u64;
                timing.max_size_bytes = timing.max_size_bytes.max(size as u64);
            }
            (Ok(_), None) => {}
            (Err(_), _) => timing.failed += 1,
        }
        drop(timing);
        crate::fault::point("checkpoint.after_store");
        let mut progress = self.lock();
        match result {
            Ok(_) => self.committed.store(id, Ordering::SeqCst),
            Err(e) => progress.failed = Some(EngineError::from(e)),
        }
    }

    pub fn delivery(&self) -> DeliveryGuarantee {
        self.delivery
    }

    /// The recovered entry of `key`, if the run resumed from a checkpoint.
    pub fn recovered(&self, key: &StateKey) -> Option<&[u8]> {
        self.recovered.as_ref()?.states.get(key).map(Vec::as_slice)
    }

    /// The parallelism of the recovered checkpoint when it differs from this run's.
    pub fn rescaled_from(&self) -> Option<usize> {
        let taken = self.recovered.as_ref()?.meta.parallelism;
        (taken != self.parallelism).then_some(taken)
    }

    /// Every old worker's recovered entry of node `node` of `kind`, indexed by the old
    /// worker (empty where a worker stored none).
    pub fn recovered_parts(&self, kind: &str, node: &str) -> Vec<Vec<u8>> {
        let Some(c) = self.recovered.as_ref() else {
            return Vec::new();
        };
        (0..c.meta.parallelism)
            .map(|worker| {
                let key = StateKey {
                    kind: kind.to_string(),
                    node: node.to_string(),
                    worker,
                };
                c.states.get(&key).cloned().unwrap_or_default()
            })
            .collect()
    }

    /// Registers a sink instance; returns its index.
    pub fn register_sink(&self) -> usize {
        let mut p = self.lock();
        p.sinks += 1;
        p.sinks - 1
    }

    /// The next barrier a source that injected `last` should inject, if one is due.
    pub fn barrier_due(&self, last: Option<u64>) -> Option<u64> {
        if self.delivery == DeliveryGuarantee::AtMostOnce {
            return None;
        }
        let now = self.clock.now_ms();
        let due = self.next_due_ms.load(Ordering::Relaxed);
        if now >= due
            && self
                .next_due_ms
                .compare_exchange(
                    due,
                    now + self.interval_ms,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            let id = self.triggered.fetch_add(1, Ordering::SeqCst) + 1;
            self.timing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .started
                .insert(id, std::time::Instant::now());
        }
        let next = last.map_or(self.first_id, |l| l + 1);
        (next <= self.triggered.load(Ordering::SeqCst)).then_some(next)
    }

    /// Records an entry of checkpoint `id` (or of the final checkpoint).
    pub fn report(&self, id: u64, key: StateKey, bytes: Vec<u8>) {
        self.lock().states.entry(id).or_default().insert(key, bytes);
    }

    /// Stores completed checkpoints: `ready` was taken under the progress lock, which
    /// is released by now (an inline write takes it again).
    fn send_all(&self, ready: Vec<Entries>) {
        for (id, states) in ready {
            self.send(id, states);
        }
    }

    fn send(&self, id: u64, states: BTreeMap<StateKey, Vec<u8>>) {
        if self.inline {
            self.write(id, states);
            return;
        }
        if let Some(tx) = self
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            let _ = tx.send((id, states));
        }
    }

    /// Sink instance `sink` has pre-committed checkpoint `id`.
    pub fn ack(&self, id: u64, sink: usize) {
        let mut p = self.lock();
        p.acks.entry(id).or_default().insert(sink);
        let ready = Self::complete_ready(&mut p);
        drop(p);
        self.send_all(ready);
    }

    /// The checkpoints every sink has acknowledged, in order, taken out of `p`.
    fn complete_ready(p: &mut Progress) -> Vec<Entries> {
        let mut ready = Vec::new();
        while let Some(id) = completion::next_complete(&p.acks, p.sinks, &p.finished_sinks) {
            p.acks.remove(&id);
            let own = p.states.remove(&id).unwrap_or_default();
            ready.push((id, completion::assemble(own, p.states.get(&FINAL))));
        }
        ready
    }

    /// Sink instance `sink` reached end of input (its final entry is reported). When
    /// every sink has, the final checkpoint is written.
    pub fn sink_finished(&self, sink: usize) {
        let mut p = self.lock();
        p.finished_sinks.insert(sink);
        let mut ready = Self::complete_ready(&mut p);
        if p.finished_sinks.len() == p.sinks && p.final_written.is_none() {
            let id = self.triggered.load(Ordering::SeqCst).max(self.first_id - 1) + 1;
            // Later barriers cannot come: every sink has ended.
            self.triggered.store(id, Ordering::SeqCst);
            // Sources' end positions, sinks' last transactions, and the state operators
            // kept at end of input (open windows in the Spark-compatible mode).
            let mut states = p.states.remove(&FINAL).unwrap_or_default();
            // Marks the run as finished, so that a restart can say its input was read.
            states.insert(finished_marker(), Vec::new());
            p.final_written = Some(id);
            self.timing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .started
                .insert(id, std::time::Instant::now());
            ready.push((id, states));
        }
        drop(p);
        self.send_all(ready);
    }

    /// Whether the final checkpoint (triggered once every sink has
    /// [finished](Self::sink_finished)) is stored; an error if writing it or the run
    /// failed. Sinks poll it from the worker loop, so nothing blocks on it.
    pub fn final_stored(&self) -> Result<bool> {
        let p = self.lock();
        if let Some(e) = &p.failed {
            return Err(e.clone());
        }
        Ok(p.final_written
            .is_some_and(|id| self.committed.load(Ordering::SeqCst) >= id))
    }

    /// Checkpoints completed, their durations, and what recovery restored or skipped.
    pub fn metrics(&self) -> crate::metrics::CheckpointMetrics {
        let timing = self.timing.lock().unwrap_or_else(|p| p.into_inner());
        let mut m = crate::metrics::CheckpointMetrics::from_durations(&timing.durations);
        m.failed = timing.failed;
        m.last_id = timing.last_id;
        m.last_size_bytes = timing.last_size_bytes;
        m.total_size_bytes = timing.total_size_bytes;
        m.max_size_bytes = timing.max_size_bytes;
        drop(timing);
        m.restored_from = self.recovered.as_ref().map(|c| c.meta.id.0);
        m.restored_finished = self
            .recovered
            .as_ref()
            .is_some_and(|c| c.states.contains_key(&finished_marker()));
        m.skipped = self.skipped.clone();
        m
    }

    /// The run failed elsewhere: sinks polling for the final checkpoint get `error`.
    pub fn abort(&self, error: EngineError) {
        let mut p = self.lock();
        if p.failed.is_none() {
            p.failed = Some(error);
        }
    }

    /// The newest checkpoint written.
    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::SeqCst)
    }

    /// At-most-once: persists a source's position before its records are processed.
    pub fn save_position_ahead(&self, key: &StateKey, bytes: &[u8]) -> Result<()> {
        self.store.put_ahead(key, bytes).map_err(EngineError::from)
    }

    /// At-most-once: the position a source saved ahead in an earlier run.
    pub fn position_ahead(&self, key: &StateKey) -> Result<Option<Vec<u8>>> {
        self.store.get_ahead(key).map_err(EngineError::from)
    }
}
