//! Checkpointed pipelines richer than one chain end, fail and checkpoint correctly:
//! two sinks, a late side output, a panic on one worker, a sink whose pre-commit fails.
//!
//! The source here advances a manual clock by one checkpoint interval per batch, so a
//! barrier follows every batch and the number of checkpoints does not depend on timing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tidewater::engine::config::DeliveryGuarantee;
use tidewater::prelude::*;

const INTERVAL_MS: i64 = 10;
const WAIT: Option<Duration> = Some(Duration::from_secs(60));

/// `records` split over the workers, `batch` per poll; each poll moves `clock` one
/// checkpoint interval on.
#[derive(Clone)]
struct TickingSource {
    records: Arc<Vec<i64>>,
    batch: usize,
    clock: ManualClock,
}

struct TickingReader {
    source: TickingSource,
    next: usize,
    step: usize,
}

impl Source for TickingSource {
    type Item = i64;
    type Reader = TickingReader;

    fn name(&self) -> String {
        "ticking".into()
    }

    fn restart(&self) -> Restart {
        Restart::FromPosition
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<TickingReader> {
        Ok(TickingReader {
            source: self.clone(),
            next: worker.index * self.batch,
            step: worker.parallelism * self.batch,
        })
    }
}

impl SourceReader for TickingReader {
    type Item = i64;

    fn poll_batch(&mut self, out: &mut Batch<i64>) -> Result<SourcePoll> {
        let records = &self.source.records;
        let end = (self.next + self.source.batch).min(records.len());
        if self.next < end {
            out.extend(records[self.next..end].iter().map(|&t| Record::new(t, t)));
        }
        self.next += self.step;
        self.source.clock.advance_ms(INTERVAL_MS);
        Ok(if self.next >= records.len() {
            SourcePoll::Finished
        } else {
            SourcePoll::Ready
        })
    }

    fn snapshot_position(&self) -> Result<Option<Vec<u8>>> {
        Ok(Some((self.next as u64).to_le_bytes().to_vec()))
    }

    fn restore_position(&mut self, bytes: &[u8]) -> Result<()> {
        let raw: [u8; 8] = bytes.try_into().map_err(|_| EngineError::Source {
            source_name: "ticking".into(),
            message: "bad position".into(),
        })?;
        self.next = u64::from_le_bytes(raw) as usize;
        Ok(())
    }
}

fn ticking(records: Vec<i64>, clock: &ManualClock) -> TickingSource {
    TickingSource {
        records: Arc::new(records),
        batch: 10,
        clock: clock.clone(),
    }
}

fn config(dir: &std::path::Path, parallelism: usize, clock: &ManualClock) -> Config {
    Config::default()
        .with_name("topology")
        .with_parallelism(parallelism)
        .with_clock(clock.clone())
        .with_checkpointing(
            dir,
            Duration::from_millis(INTERVAL_MS as u64),
            DeliveryGuarantee::AtLeastOnce,
        )
}

fn run_to_end(p: Pipeline) -> Metrics {
    let processor = p.start().unwrap();
    assert!(processor.await_termination(WAIT), "the run hung");
    assert_eq!(
        processor.status(),
        Status::Stopped,
        "{:?}",
        processor.error()
    );
    processor.metrics()
}

#[test]
fn two_source_to_sink_chains_end_and_checkpoint() {
    for parallelism in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(0);
        let (a, b) = (MemorySink::new(), MemorySink::new());
        let mut p = Pipeline::new(config(dir.path(), parallelism, &clock));
        p.source(ticking((0..200).collect(), &clock))
            .sink(a.clone());
        p.source(ticking((1_000..1_300).collect(), &clock))
            .map(|x| x * 2)
            .sink(b.clone());
        let metrics = run_to_end(p);
        let mut got_a = a.values();
        got_a.sort();
        assert_eq!(got_a, (0..200).collect::<Vec<_>>());
        assert_eq!(b.len(), 300);
        assert!(metrics.checkpoints.unwrap().completed >= 2);
    }
}

#[test]
fn a_window_with_a_late_side_output_completes_checkpoints_and_ends() {
    for parallelism in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(0);
        // Every tenth record is 500 ms behind: late for its 100 ms window.
        let records: Vec<i64> = (0..400)
            .map(|i| if i % 10 == 9 { i * 10 - 500 } else { i * 10 })
            .collect();
        let (results, late) = (MemorySink::new(), MemorySink::new());
        let mut p = Pipeline::new(config(dir.path(), parallelism, &clock));
        p.source(ticking(records, &clock))
            .with_watermark(Watermark::monotonic(|t: &i64| *t))
            .key_by(|t: &i64| t % 2)
            .window(TumblingWindow::of("100 ms"))
            .late_records(late.clone())
            .aggregate(Count)
            .sink(results.clone());
        let metrics = run_to_end(p);
        let checkpoints = metrics.checkpoints.unwrap();
        // One barrier per batch (and a final one): far more than the final alone.
        assert!(checkpoints.completed >= 10, "{checkpoints:?}");
        let counted: u64 = results.values().iter().map(|r| r.value).sum();
        assert_eq!(counted + late.len() as u64, 400);
        assert!(!late.is_empty());
    }
}

#[test]
fn a_panic_on_one_worker_fails_a_checkpointed_run_instead_of_hanging_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut p = Pipeline::new(config(dir.path(), 2, &clock));
    p.source(ticking((0..2_000).collect(), &clock))
        .map(|x| {
            if x == 1_234 {
                panic!("bad record {x}")
            } else {
                x
            }
        })
        .sink(MemorySink::new());
    let processor = p.start().unwrap();
    assert!(processor.await_termination(WAIT), "the run hung");
    assert_eq!(processor.status(), Status::Failed);
    let e = processor.error().unwrap();
    assert!(
        matches!(e.root(), EngineError::OperatorPanicked { operator, .. } if operator == "map#1"),
        "{e}"
    );
}

/// A memory sink whose pre-commit fails for checkpoint `fail_at`.
#[derive(Clone)]
struct PreCommitFails {
    fail_at: u64,
    pre_commits: Arc<AtomicUsize>,
    out: MemorySink<i64>,
}

impl Sink<i64> for PreCommitFails {
    type Writer = PreCommitFails;

    fn name(&self) -> String {
        "precommit".into()
    }

    fn create_writer(&self, _worker: &WorkerInfo) -> Result<PreCommitFails> {
        Ok(self.clone())
    }
}

impl SinkWriter<i64> for PreCommitFails {
    fn write_batch(&mut self, batch: Batch<i64>) -> Result<()> {
        self.out.write_batch(batch)
    }

    fn pre_commit(&mut self, checkpoint: u64) -> Result<Option<Vec<u8>>> {
        self.pre_commits.fetch_add(1, Ordering::SeqCst);
        if checkpoint == self.fail_at {
            return Err(EngineError::io(
                format!("pre-committing checkpoint {checkpoint}"),
                std::io::Error::from_raw_os_error(28),
            ));
        }
        Ok(None)
    }
}

#[test]
fn a_sink_whose_pre_commit_fails_does_not_acknowledge_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let sink = PreCommitFails {
        fail_at: 3,
        pre_commits: Arc::new(AtomicUsize::new(0)),
        out: MemorySink::new(),
    };
    let mut p = Pipeline::new(config(dir.path(), 1, &clock));
    p.source(ticking((0..500).collect(), &clock))
        .sink(sink.clone());
    let processor = p.start().unwrap();
    assert!(processor.await_termination(WAIT), "the run hung");
    assert_eq!(processor.status(), Status::Failed);
    assert_eq!(
        processor.error().unwrap().to_string(),
        "pipeline `topology`, node `precommit#1` (worker 0): pre-committing checkpoint 3: No space left on device (os error 28)"
    );
    drop(processor);
    // A restart resumes from a checkpoint before 3: 3 was never stored.
    let clock = ManualClock::new(0);
    let healthy = PreCommitFails {
        fail_at: u64::MAX - 1,
        ..sink
    };
    let out = healthy.out.clone();
    out.take();
    let mut p = Pipeline::new(config(dir.path(), 1, &clock));
    p.source(ticking((0..500).collect(), &clock)).sink(healthy);
    let checkpoints = run_to_end(p).checkpoints.unwrap();
    // Checkpoints 1 and 2 may or may not have reached sled before the failure (the
    // writer thread stores them after the barrier): either is right, 3 never is.
    let restored = checkpoints.restored_from.unwrap_or(0);
    assert!(restored < 3, "{checkpoints:?}");
    // At-least-once: the restart replays from the restored position to the end.
    let mut got = out.values();
    got.sort();
    assert_eq!(got.last(), Some(&499));
    assert_eq!(got.len(), 500 - restored as usize * 10);
}

/// The old pipeline of [`a_changed_window_key_or_batch_size_refuses_old_checkpoints`],
/// changed by `change`.
#[derive(Clone, Copy, Debug)]
enum Change {
    None,
    WindowSize,
    KeyType,
    BatchSize,
}

fn counted(dir: &std::path::Path, change: Change) -> Result<Metrics> {
    let batch = if matches!(change, Change::BatchSize) {
        64
    } else {
        128
    };
    let config = Config::default()
        .with_name("identity")
        .with_parallelism(1)
        .with_batch_size(batch)
        .with_checkpointing(dir, Duration::from_secs(60), DeliveryGuarantee::AtLeastOnce);
    let mut p = Pipeline::new(config);
    let events = p
        .source(VecSource::new((0..1_000i64).collect()))
        .with_watermark(Watermark::monotonic(|t: &i64| *t));
    let size = if matches!(change, Change::WindowSize) {
        "200 ms"
    } else {
        "100 ms"
    };
    if matches!(change, Change::KeyType) {
        events
            .key_by(|t: &i64| (t % 3) as u16)
            .window(TumblingWindow::of(size))
            .aggregate(Count)
            .sink(MemorySink::new());
    } else {
        events
            .key_by(|t: &i64| (t % 3) as u8)
            .window(TumblingWindow::of(size))
            .aggregate(Count)
            .sink(MemorySink::new());
    }
    p.run()
}

#[test]
fn a_changed_window_key_or_batch_size_refuses_old_checkpoints() {
    // (change, what the refusal names)
    let cases = [
        (Change::WindowSize, "size: 200"),
        (Change::KeyType, "key u16"),
        (Change::BatchSize, "config {batch_size 64}"),
    ];
    for (change, named) in cases {
        let dir = tempfile::tempdir().unwrap();
        counted(dir.path(), Change::None).unwrap();
        let e = counted(dir.path(), change).unwrap_err();
        assert!(matches!(e, EngineError::Checkpoint(_)), "{change:?}: {e}");
        let text = e.to_string();
        assert!(text.contains("was taken by a different pipeline"), "{text}");
        assert!(text.contains(named), "{change:?}: `{named}` not in {text}");
        // The unchanged pipeline still resumes from it.
        let resumed = counted(dir.path(), Change::None).unwrap();
        assert!(resumed.checkpoints.unwrap().restored_from.is_some());
    }
}

#[test]
fn at_most_once_refuses_to_resume_at_another_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    let run = |parallelism: usize, fail_at: i64| {
        let config = Config::default()
            .with_name("amo")
            .with_parallelism(parallelism)
            .with_batch_size(100)
            .with_checkpointing(
                dir.path(),
                Duration::from_secs(60),
                DeliveryGuarantee::AtMostOnce,
            );
        let out = MemorySink::new();
        let mut p = Pipeline::new(config);
        p.source(VecSource::new((0..1_000i64).collect()))
            .map(move |x| {
                if x == fail_at {
                    panic!("crash at {x}")
                } else {
                    x
                }
            })
            .sink(out.clone());
        p.run().map(|_| out.len())
    };
    // A run that dies midway leaves positions written ahead, and no checkpoint.
    assert!(run(2, 500).is_err());
    let e = run(1, -1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`checkpointing`: invalid `parallelism`: expected 2 (the parallelism of the at-most-once positions in this folder), found 1"
    );
    // At the same parallelism it resumes after what was read: nothing twice.
    let delivered = run(2, -1).unwrap();
    assert!(delivered < 1_000, "{delivered}");
}

/// Every record to one key (one worker owns all of them), channels of one message,
/// checkpoints, two workers: the run ends (a finishing sink used to block its worker
/// while the peer still needed that worker to drain the exchange).
#[test]
fn skewed_keys_with_one_message_channels_end_under_checkpoints() {
    for delivery in [
        DeliveryGuarantee::AtLeastOnce,
        DeliveryGuarantee::AtMostOnce,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = MemorySink::new();
        let config = Config::default()
            .with_parallelism(2)
            .with_batch_size(7)
            .with_channel_capacity(1)
            .with_checkpointing(dir.path(), Duration::from_millis(1), delivery);
        let mut p = Pipeline::new(config);
        p.source(VecSource::new((0..10_000i64).collect()))
            .with_watermark(Watermark::monotonic(|t: &i64| *t))
            .key_by(|_: &i64| 42u8)
            .window(TumblingWindow::of("1 second"))
            .aggregate(Count)
            .sink(out.clone());
        run_to_end(p);
        assert_eq!(out.values().iter().map(|r| r.value).sum::<u64>(), 10_000);
        assert_eq!(out.len(), 10);
    }
}
