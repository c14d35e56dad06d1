//! The engine's built-in connectors and the traits every source and sink implements.
//!
//! Sources split their work across workers: [`Source::create_reader`] is called once on
//! each worker with its index and the parallelism. Sinks get one writer per worker.
//! Connectors that talk to the outside (Kafka, files, sockets) live in
//! `tidewater-connectors`; the ones here serve programs and tests in one process.

mod channel_source;
mod console_sink;
mod fn_sink;
mod iter_source;
mod memory_sink;
mod vec_source;

pub use channel_source::{ChannelSender, ChannelSource};
pub use console_sink::{ConsoleFormat, ConsoleSink};
pub use fn_sink::FnSink;
pub use iter_source::IterSource;
pub use memory_sink::MemorySink;
pub use vec_source::VecSource;

use crate::error::{EngineError, Result};
use crate::record::Batch;
use crate::time::Timestamp;

/// Where a reader or writer runs.
#[derive(Clone)]
pub struct WorkerInfo {
    /// The pipeline's name (its config's `name`).
    pub pipeline: std::sync::Arc<str>,
    /// The delivery guarantee of a checkpointed run; `None` without checkpoints. A
    /// transactional sink writes at once when it is not exactly-once.
    pub delivery: Option<crate::config::DeliveryGuarantee>,
    /// Index of this worker, `0..parallelism`.
    pub index: usize,
    /// Number of workers.
    pub parallelism: usize,
    /// Preferred number of records per batch.
    pub batch_size: usize,
    /// The pipeline's clock (processing time): a connector's intervals (polling,
    /// file rollover) follow it, so a test's manual clock drives them.
    pub clock: std::sync::Arc<dyn crate::time::Clock>,
    /// Where a source reader reports gauges about its input (a Kafka partition's
    /// lag); each source node has its own, shared by its readers on every worker.
    pub gauges: crate::metrics::SourceGauges,
}

impl std::fmt::Debug for WorkerInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerInfo")
            .field("pipeline", &self.pipeline)
            .field("delivery", &self.delivery)
            .field("index", &self.index)
            .field("parallelism", &self.parallelism)
            .field("batch_size", &self.batch_size)
            .field("clock_ms", &self.clock.now_ms())
            .finish()
    }
}

impl WorkerInfo {
    /// Worker `index` of `parallelism` running a pipeline with `config`.
    pub fn new(config: &crate::config::Config, index: usize, parallelism: usize) -> Self {
        WorkerInfo {
            pipeline: std::sync::Arc::from(config.name.as_str()),
            delivery: config.checkpointing.as_ref().map(|c| c.delivery),
            index,
            parallelism,
            batch_size: config.batch_size,
            clock: config.clock.clone(),
            gauges: crate::metrics::SourceGauges::default(),
        }
    }
}

/// What a reader's poll produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourcePoll {
    /// Records were appended to the output batch (possibly none).
    Ready,
    /// Nothing to read right now; poll again later.
    Pending,
    /// The source itself asserts a watermark (for sources that know event time).
    Watermark(Timestamp),
    /// Nothing to read, and the source's watermark should not hold back operators
    /// with other inputs until it produces again (every partition of a Kafka reader
    /// idle, say); reported once when the reader becomes idle.
    Idle,
    /// The reader is exhausted; records appended in this call are still delivered.
    Finished,
}

/// What a source does when a run restarts from a checkpoint: the delivery guarantee a
/// pipeline may ask for depends on it (checked when the pipeline is built).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// Readers report a position at every checkpoint and continue from it
    /// ([`SourceReader::snapshot_position`]/[`restore_position`](SourceReader::restore_position)):
    /// fit for every guarantee.
    FromPosition,
    /// A new reader reads everything again from the beginning (an iterator, a closure):
    /// no guarantee holds across a restart, so checkpointing refuses it.
    FromBeginning,
    /// A new reader sees only records that arrive after it starts (a channel, a live
    /// socket): nothing is repeated, so at-most-once holds; nothing can be replayed.
    LiveOnly,
}

/// How a sink's writes become visible, which decides the delivery guarantees it can
/// keep (checked when the pipeline is built).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Writes are visible at once; a replay repeats them (at-least-once at best).
    Immediate,
    /// Writes are keyed so that a repeat overwrites the same result (an upsert): a
    /// replay leaves the same output, so exactly-once holds for the result.
    Idempotent,
    /// Two-phase commit: writes are pre-committed at each barrier and published only
    /// when the checkpoint is stored ([`SinkWriter::pre_commit`], [`SinkWriter::commit`],
    /// [`SinkWriter::recover`]).
    Transactional,
}

/// A parallel source of records.
pub trait Source: Send + Sync + 'static {
    /// Record type produced.
    type Item: Send + 'static;
    /// The per-worker reader.
    type Reader: SourceReader<Item = Self::Item>;

    /// Name shown in metrics and errors.
    fn name(&self) -> String {
        "source".to_string()
    }

    /// What a restart from a checkpoint does (default: reads from the beginning,
    /// which checkpointing refuses). A source whose readers keep positions returns
    /// [`Restart::FromPosition`].
    fn restart(&self) -> Restart {
        Restart::FromBeginning
    }

    /// Whether records carry event time and the readers report watermarks
    /// ([`SourcePoll::Watermark`]), so that windows may follow without a
    /// `with_watermark` (default: no).
    fn event_time(&self) -> bool {
        false
    }

    /// Every problem of the source's settings, checked when the pipeline is built
    /// (reported with the pipeline's other problems); default: none.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Creates the reader for one worker.
    fn create_reader(&self, worker: &WorkerInfo) -> Result<Self::Reader>;
}

/// Reads one worker's share of a source, a batch at a time.
pub trait SourceReader: 'static {
    /// Record type produced.
    type Item;

    /// Appends up to a batch of records to `out`.
    fn poll_batch(&mut self, out: &mut Batch<Self::Item>) -> Result<SourcePoll>;

    /// Where the reader stands, for checkpoints. Readers of a source that declares
    /// [`Restart::FromPosition`] must return `Some`; a position that cannot be taken is
    /// an error, never a silent `None`.
    fn snapshot_position(&self) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    /// Continues from a position taken by [`snapshot_position`](Self::snapshot_position).
    fn restore_position(&mut self, bytes: &[u8]) -> Result<()> {
        let _ = bytes;
        Ok(())
    }

    /// Continues from the positions every worker of a run at another parallelism took
    /// (indexed by old worker; empty where one took none): this reader takes over the
    /// part of what is left that is its share now, so that the new workers together read
    /// exactly what the old ones had not. Readers whose positions cannot be split refuse
    /// (the default, unless no old worker took a position).
    fn restore_rescaled(&mut self, parts: &[Vec<u8>], worker: &WorkerInfo) -> Result<()> {
        if parts.iter().all(Vec::is_empty) {
            return Ok(());
        }
        Err(EngineError::invalid(
            "checkpointing",
            "parallelism",
            format!(
                "{} (the parallelism the checkpoint was taken at: this source's positions \
                 do not split across another number of workers)",
                parts.len()
            ),
            worker.parallelism.to_string(),
        ))
    }
}

/// A parallel sink of records.
pub trait Sink<T>: Send + Sync + 'static {
    /// The per-worker writer.
    type Writer: SinkWriter<T>;

    /// Name shown in metrics and errors.
    fn name(&self) -> String {
        "sink".to_string()
    }

    /// How writes become visible (default: at once). Exactly-once needs
    /// [`Commit::Transactional`] or [`Commit::Idempotent`].
    fn commit(&self) -> Commit {
        Commit::Immediate
    }

    /// Every problem of the sink's settings, checked when the pipeline is built
    /// (reported with the pipeline's other problems); default: none.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Creates the writer for one worker.
    fn create_writer(&self, worker: &WorkerInfo) -> Result<Self::Writer>;
}

/// Writes one worker's share of a stream.
pub trait SinkWriter<T>: 'static {
    /// Writes a batch.
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()>;

    /// The input's watermark advanced.
    fn on_watermark(&mut self, watermark: Timestamp) -> Result<()> {
        let _ = watermark;
        Ok(())
    }

    /// The input ended; flush buffers.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }

    /// Checkpoint `checkpoint`'s barrier arrived: make everything written so far durable
    /// but not yet visible, and describe it (two-phase commit, phase one). The returned
    /// bytes are stored in the checkpoint. Non-transactional sinks flush and return
    /// `None`.
    fn pre_commit(&mut self, checkpoint: u64) -> Result<Option<Vec<u8>>> {
        let _ = checkpoint;
        Ok(None)
    }

    /// Every checkpoint up to `checkpoint` is complete: publish what was pre-committed
    /// for them (phase two).
    fn commit(&mut self, checkpoint: u64) -> Result<()> {
        let _ = checkpoint;
        Ok(())
    }

    /// The run resumed from a checkpoint holding `pre_committed` (what `pre_commit`
    /// returned then): publish it if it is not yet, and discard anything written after.
    fn recover(&mut self, pre_committed: Option<&[u8]>) -> Result<()> {
        let _ = pre_committed;
        Ok(())
    }

    /// The run resumed from a checkpoint taken at another parallelism: publish what the
    /// old workers in `assigned` pre-committed (each old worker's index and what its
    /// `pre_commit` returned; every old worker is assigned to exactly one new worker)
    /// and discard what they wrote after. Sinks that cannot recover another worker's
    /// pre-commit refuse (the default, unless nothing was pre-committed).
    fn recover_rescaled(&mut self, assigned: &[(usize, Vec<u8>)]) -> Result<()> {
        if assigned.iter().all(|(_, bytes)| bytes.is_empty()) {
            return self.recover(None);
        }
        Err(EngineError::invalid(
            "checkpointing",
            "parallelism",
            "the parallelism the checkpoint was taken at (this sink cannot publish another \
             worker's pre-committed output)",
            "another parallelism",
        ))
    }
}
