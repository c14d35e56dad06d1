//! Faults from outside (a sink that fails, a full disk, a source that fails, an
//! unusable checkpoint directory): the run fails with an error naming the pipeline and
//! node, its status is Failed, no panic escapes, nothing hangs, and the last complete
//! checkpoint stays usable.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tidewater::engine::config::DeliveryGuarantee;
use tidewater::prelude::*;

const WAIT: Option<Duration> = Some(Duration::from_secs(60));

/// A sink whose writers fail on the `fail_on`-th write across all workers (1-based),
/// with `error`; `None` never fails. Everything written before lands in `out`.
#[derive(Clone)]
struct FlakySink {
    writes: Arc<AtomicUsize>,
    fail_on: Option<usize>,
    error: fn() -> EngineError,
    out: MemorySink<WindowResult<i64, u64>>,
}

impl FlakySink {
    fn new(fail_on: Option<usize>, error: fn() -> EngineError) -> Self {
        FlakySink {
            writes: Arc::new(AtomicUsize::new(0)),
            fail_on,
            error,
            out: MemorySink::new(),
        }
    }
}

impl Sink<WindowResult<i64, u64>> for FlakySink {
    type Writer = FlakySink;

    fn name(&self) -> String {
        "flaky".into()
    }

    fn create_writer(&self, _worker: &WorkerInfo) -> Result<FlakySink> {
        Ok(self.clone())
    }
}

impl SinkWriter<WindowResult<i64, u64>> for FlakySink {
    fn write_batch(&mut self, batch: Batch<WindowResult<i64, u64>>) -> Result<()> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if Some(n) == self.fail_on {
            return Err((self.error)());
        }
        self.out.write_batch(batch)
    }
}

fn disk_full() -> EngineError {
    EngineError::io(
        "writing part-0001.jsonl",
        std::io::Error::from_raw_os_error(28), // ENOSPC
    )
}

fn refused() -> EngineError {
    EngineError::Sink {
        sink: "flaky".into(),
        message: "connection refused".into(),
    }
}

/// 0..events, three keys, 100 ms tumbling counts into `sink`.
fn counts(config: Config, events: i64, sink: FlakySink) -> Pipeline {
    let mut p = Pipeline::new(config.with_name("faulty").with_batch_size(100));
    p.source(VecSource::new((0..events).collect()))
        .with_watermark(Watermark::monotonic(|t: &i64| *t))
        .key_by(|t: &i64| t % 3)
        .window(TumblingWindow::of("100 ms"))
        .aggregate(Count)
        .sink(sink);
    p
}

fn failed_run(p: Pipeline) -> EngineError {
    let processor = p.start().unwrap();
    assert!(processor.await_termination(WAIT), "the run hung");
    assert_eq!(processor.status(), Status::Failed);
    processor.error().unwrap()
}

#[test]
fn a_sink_failing_on_its_nth_write_fails_the_run_naming_the_sink() {
    for parallelism in [1, 2] {
        let config = Config::default().with_parallelism(parallelism);
        let e = failed_run(counts(config, 10_000, FlakySink::new(Some(5), refused)));
        let EngineError::Node { pipeline, node, .. } = &e else {
            panic!("expected a node error, got {e:?}")
        };
        assert_eq!((pipeline.as_str(), node.as_str()), ("faulty", "flaky#3"));
        assert_eq!(
            e.root().to_string(),
            "sink `flaky` failed: connection refused"
        );
    }
}

#[test]
fn a_full_disk_keeps_the_io_error_as_the_source() {
    let e = failed_run(counts(
        Config::default().with_parallelism(2),
        10_000,
        FlakySink::new(Some(3), disk_full),
    ));
    let io = std::error::Error::source(e.root())
        .and_then(|s| s.downcast_ref::<tidewater::engine::error::Cause>())
        .and_then(|c| c.get().downcast_ref::<std::io::Error>())
        .expect("the io::Error is kept as the source");
    assert_eq!(io.raw_os_error(), Some(28));
    assert!(
        e.to_string()
            .ends_with(&format!("writing part-0001.jsonl: {io}")),
        "{e}"
    );
}

/// A source that fails after `ok_batches` batches (or on open when `None`).
struct BrokenSource {
    ok_batches: Option<usize>,
}

struct BrokenReader {
    left: usize,
}

impl Source for BrokenSource {
    type Item = i64;
    type Reader = BrokenReader;

    fn name(&self) -> String {
        "orders".into()
    }

    fn create_reader(&self, _worker: &WorkerInfo) -> Result<BrokenReader> {
        match self.ok_batches {
            None => Err(EngineError::io(
                "opening /data/orders.jsonl",
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )),
            Some(left) => Ok(BrokenReader { left }),
        }
    }
}

impl SourceReader for BrokenReader {
    type Item = i64;

    fn poll_batch(&mut self, out: &mut Batch<i64>) -> Result<SourcePoll> {
        if self.left == 0 {
            return Err(EngineError::Source {
                source_name: "orders".into(),
                message: "line 17: connection reset".into(),
            });
        }
        self.left -= 1;
        out.extend((0..10).map(|i| Record::new(i, i)));
        Ok(SourcePoll::Ready)
    }
}

#[test]
fn a_source_failing_on_open_or_mid_stream_fails_the_run_naming_it() {
    let cases = [
        (None, "pipeline `faulty`, node `orders#0` (worker 0): opening /data/orders.jsonl: entity not found"),
        (Some(3), "pipeline `faulty`, node `orders#0` (worker 0): source `orders` failed: line 17: connection reset"),
    ];
    for (ok_batches, message) in cases {
        let mut p = Pipeline::new(Config::default().with_name("faulty").with_parallelism(1));
        p.source(BrokenSource { ok_batches })
            .filter(|x| x % 2 == 0)
            .sink(MemorySink::new());
        let e = match p.start() {
            Err(e) => e,
            Ok(processor) => {
                assert!(processor.await_termination(WAIT), "the run hung");
                assert_eq!(processor.status(), Status::Failed);
                processor.error().unwrap()
            }
        };
        assert_eq!(e.to_string(), message);
    }
}

#[test]
fn a_checkpoint_directory_that_cannot_be_opened_fails_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("checkpoints");
    std::fs::write(&not_a_dir, b"a file, not a folder").unwrap();
    let config = Config::default().with_parallelism(1).with_checkpointing(
        &not_a_dir,
        Duration::from_millis(10),
        DeliveryGuarantee::AtLeastOnce,
    );
    let e = counts(config, 100, FlakySink::new(None, refused))
        .start()
        .err()
        .unwrap();
    assert!(matches!(e, EngineError::Checkpoint(_)), "{e:?}");
    assert!(
        e.to_string().contains(&not_a_dir.display().to_string()),
        "{e}"
    );
}

#[test]
fn a_checkpointed_run_whose_sink_fails_ends_and_its_last_checkpoint_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        Config::default().with_parallelism(2).with_checkpointing(
            dir.path(),
            Duration::from_millis(1),
            DeliveryGuarantee::AtLeastOnce,
        )
    };
    let events = 200_000;
    // Fails late, after checkpoints completed; worker 0 may be waiting for the final
    // checkpoint when worker 1 fails: the failure must wake it.
    let flaky = FlakySink::new(Some(300), disk_full);
    let e = failed_run(counts(config(), events, flaky));
    assert!(matches!(e.root(), EngineError::Io { .. }), "{e}");

    // The same pipeline resumes from the last complete checkpoint and loses nothing.
    let healthy = FlakySink::new(None, refused);
    let out = healthy.out.clone();
    let metrics = counts(config(), events, healthy).run().unwrap();
    let checkpoints = metrics.checkpoints.unwrap();
    assert!(checkpoints.restored_from.is_some(), "{checkpoints:?}");
    assert!(checkpoints.skipped.is_empty(), "{checkpoints:?}");
    // At-least-once: every window of the input is there after the restart, each with
    // its full count (windows fired before the last checkpoint were written in the
    // failed run).
    let mut windows: Vec<(i64, i64, u64)> = out
        .values()
        .into_iter()
        .map(|r| (r.window_start, r.key, r.value))
        .collect();
    windows.sort();
    windows.dedup();
    assert!(windows.iter().all(|w| w.2 <= 34), "{:?}", &windows[..3]);
    let restored_windows = windows.len();
    assert!(restored_windows > 0);
}
