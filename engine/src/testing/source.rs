//! [`TestSource`]: a source a test feeds by hand, records, watermarks, idleness and
//! end, in the order given.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::connector::{Source, SourcePoll, SourceReader, WorkerInfo};
use crate::error::Result;
use crate::record::{Batch, Record};
use crate::time::{IntoDuration, ManualClock, Timestamp, NO_TIMESTAMP};

/// What a test asked of the source, in order.
enum Command<T> {
    Records(Vec<Record<T>>),
    Watermark(Timestamp),
    Idle,
    Finish,
}

type Stamp<T> = Arc<dyn Fn(&T) -> Timestamp + Send + Sync>;

struct Shared<T> {
    /// One queue per reader (worker); empty until the pipeline is built.
    queues: Vec<VecDeque<Command<T>>>,
    /// What was asked before the readers existed.
    backlog: Vec<Command<T>>,
    /// The next reader a record goes to: records are dealt round-robin.
    next: usize,
    stamp: Option<Stamp<T>>,
    clock: Option<ManualClock>,
    name: String,
}

impl<T> Shared<T> {
    fn route(&mut self, command: Command<T>) {
        let n = self.queues.len();
        if n == 0 {
            self.backlog.push(command);
            return;
        }
        match command {
            Command::Records(records) => {
                let mut dealt: Vec<Vec<Record<T>>> = (0..n).map(|_| Vec::new()).collect();
                for r in records {
                    dealt[self.next % n].push(r);
                    self.next += 1;
                }
                for (queue, records) in self.queues.iter_mut().zip(dealt) {
                    if !records.is_empty() {
                        queue.push_back(Command::Records(records));
                    }
                }
            }
            Command::Watermark(ts) => self
                .queues
                .iter_mut()
                .for_each(|q| q.push_back(Command::Watermark(ts))),
            Command::Idle => self
                .queues
                .iter_mut()
                .for_each(|q| q.push_back(Command::Idle)),
            Command::Finish => self
                .queues
                .iter_mut()
                .for_each(|q| q.push_back(Command::Finish)),
        }
    }
}

/// A source fed by the test that holds it: records (dealt round-robin over the
/// workers, so exchanges are exercised), watermarks, idleness and the end, each
/// reaching the pipeline in the order given once the run is stepped
/// ([`TestRun::run_until_idle`](super::TestRun::run_until_idle)).
///
/// A source made with [`event_time`](Self::event_time) carries event time: records
/// are stamped by the function (or by [`push_at`](Self::push_at)) and the watermark
/// moves only when [`advance_watermark_to`](Self::advance_watermark_to) says, so a test
/// decides exactly when windows fire. [`new`](Self::new) makes an untimed source (give
/// it `with_watermark` downstream, or none).
///
/// ```
/// use tidewater_engine::prelude::*;
/// use tidewater_engine::testing::{TestPipeline, TestSink, TestSource};
///
/// let clicks = TestSource::event_time(|c: &(char, i64)| c.1);
/// let counts = TestSink::new();
/// let mut t = TestPipeline::new(Config::default().with_parallelism(2));
/// t.source(&clicks)
///     .key_by(|c: &(char, i64)| c.0)
///     .window(TumblingWindow::of("10 seconds"))
///     .count()
///     .map(|r| (r.key, r.window_start, r.value))
///     .sink(counts.clone());
/// let mut run = t.start().unwrap();
/// clicks.push([('a', 1_000), ('b', 2_000), ('a', 9_999)]);
/// run.run_until_idle().unwrap();
/// assert!(counts.is_empty()); // the watermark has not moved
/// clicks.advance_watermark_to(10_000);
/// run.run_until_idle().unwrap();
/// counts.assert_sorted_eq([('a', 0, 2), ('b', 0, 1)]);
/// ```
pub struct TestSource<T> {
    shared: Arc<Mutex<Shared<T>>>,
    timed: bool,
}

impl<T> Clone for TestSource<T> {
    fn clone(&self) -> Self {
        TestSource {
            shared: self.shared.clone(),
            timed: self.timed,
        }
    }
}

impl<T: Send + 'static> TestSource<T> {
    fn make(stamp: Option<Stamp<T>>) -> Self {
        let timed = stamp.is_some();
        TestSource {
            shared: Arc::new(Mutex::new(Shared {
                queues: Vec::new(),
                backlog: Vec::new(),
                next: 0,
                stamp,
                clock: None,
                name: "test_source".into(),
            })),
            timed,
        }
    }

    /// An untimed source: records carry no event time.
    pub fn new() -> Self {
        Self::make(None)
    }

    /// A source with event time read by `stamp`, and a watermark the test moves.
    pub fn event_time(stamp: impl Fn(&T) -> Timestamp + Send + Sync + 'static) -> Self {
        Self::make(Some(Arc::new(stamp)))
    }

    /// Names the source in metrics and errors (default `test_source`).
    pub fn named(self, name: impl Into<String>) -> Self {
        self.lock().name = name.into();
        self
    }

    fn lock(&self) -> MutexGuard<'_, Shared<T>> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records, stamped with their event time if the source has one.
    pub fn push(&self, records: impl IntoIterator<Item = T>) {
        let mut shared = self.lock();
        let stamp = shared.stamp.clone();
        let records = records
            .into_iter()
            .map(|v| Record::new(stamp.as_ref().map_or(NO_TIMESTAMP, |f| f(&v)), v))
            .collect();
        shared.route(Command::Records(records));
    }

    /// One record with event time `ts`.
    pub fn push_at(&self, ts: Timestamp, record: T) {
        self.lock()
            .route(Command::Records(vec![Record::new(ts, record)]));
    }

    /// No record with an earlier event time will follow (every worker's reader).
    pub fn advance_watermark_to(&self, ts: Timestamp) {
        self.lock().route(Command::Watermark(ts));
    }

    /// Moves the run's processing-time clock (a source of a
    /// [`TestPipeline`](super::TestPipeline) shares its clock); an error if the source
    /// is in no `TestPipeline` or `by` is not a duration.
    pub fn advance_processing_time(&self, by: impl IntoDuration) -> Result<()> {
        let clock = self.lock().clock.clone();
        let clock = clock.ok_or_else(|| crate::error::EngineError::InvalidState {
            action: "advance processing time".into(),
            status: "a source outside any TestPipeline, which has no clock".into(),
        })?;
        let ms = by.into_duration().map(crate::time::duration_ms)?;
        clock.advance_ms(ms);
        Ok(())
    }

    /// The source has nothing for now: it stops holding back the watermark of
    /// operators with several inputs until it produces again.
    pub fn mark_idle(&self) {
        self.lock().route(Command::Idle);
    }

    /// The input is over: once read, windows still open close (outside the
    /// Spark-compatible mode) and the run can finish.
    pub fn finish(&self) {
        self.lock().route(Command::Finish);
    }

    pub(super) fn set_clock(&self, clock: ManualClock) {
        self.lock().clock = Some(clock);
    }
}

impl<T: Send + 'static> Default for TestSource<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + 'static> Source for TestSource<T> {
    type Item = T;
    type Reader = TestReader<T>;

    fn name(&self) -> String {
        self.lock().name.clone()
    }

    fn event_time(&self) -> bool {
        self.timed
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<TestReader<T>> {
        let mut shared = self.lock();
        if shared.queues.len() != worker.parallelism {
            shared.queues = (0..worker.parallelism).map(|_| VecDeque::new()).collect();
            for command in std::mem::take(&mut shared.backlog) {
                shared.route(command);
            }
        }
        Ok(TestReader {
            shared: self.shared.clone(),
            index: worker.index,
            finished: false,
        })
    }
}

/// One worker's share of a [`TestSource`].
pub struct TestReader<T> {
    shared: Arc<Mutex<Shared<T>>>,
    index: usize,
    finished: bool,
}

impl<T: 'static> SourceReader for TestReader<T> {
    type Item = T;

    fn poll_batch(&mut self, out: &mut Batch<T>) -> Result<SourcePoll> {
        if self.finished {
            return Ok(SourcePoll::Finished);
        }
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        Ok(match shared.queues[self.index].pop_front() {
            None => SourcePoll::Pending,
            Some(Command::Records(records)) => {
                out.extend(records);
                SourcePoll::Ready
            }
            Some(Command::Watermark(ts)) => SourcePoll::Watermark(ts),
            Some(Command::Idle) => SourcePoll::Idle,
            Some(Command::Finish) => {
                self.finished = true;
                SourcePoll::Finished
            }
        })
    }
}
