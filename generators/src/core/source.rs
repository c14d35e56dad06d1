//! Any [`Generator`] as an engine source: as fast as possible with synthetic event
//! time, or paced in real time; bounded by `max_events`; with controlled out-of-order
//! delivery; resumable from saved positions; with run statistics.
//!
//! Work is split by blocks of one batch: worker `w` of `n` reads blocks `b` with
//! `b % n == w`, so all workers move through event time together.

use crate::core::GeneratorErrors;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tidewater_engine::connector::{Source, SourcePoll, SourceReader, WorkerInfo};
use tidewater_engine::error::Result;
use tidewater_engine::record::{Batch, Record};
use tidewater_engine::time::{Clock, SystemClock};

use super::pacing::Pacer;
use super::{check_probability, event_rng, Generator, GeneratorError, GeneratorPosition, Pacing};

/// Salt that separates the reordering RNG from the events' own.
const REORDER_SALT: u64 = 0x005E_ED0F_0D15_0DE5;
/// Salt of the late-delivery RNG.
const LATE_SALT: u64 = 0x0074_7E00_0000_0001;

/// How fast event time passes against the wall clock when streaming.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeMode {
    /// Every event as soon as it can be made.
    #[default]
    AsFastAsPossible,
    /// An event goes out when as much wall-clock time has passed since the start as
    /// event time has since the first event.
    RealTime,
    /// As [`TimeMode::RealTime`], with event time running this many times faster
    /// (`Accelerated(60.0)`: an hour of events a minute).
    Accelerated(f64),
}

impl TimeMode {
    /// Event-time milliseconds per wall-clock millisecond (`None`: unpaced).
    pub fn speed(self) -> Option<f64> {
        match self {
            TimeMode::AsFastAsPossible => None,
            TimeMode::RealTime => Some(1.0),
            TimeMode::Accelerated(factor) => Some(factor),
        }
    }
}

/// How a generator is streamed.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Stop after this many events (`None`: the generator's own length).
    pub max_events: Option<u64>,
    /// Real-time pacing (`None`: as fast as possible).
    pub pacing: Option<Pacing>,
    /// Probability that an event is delivered after some of its successors.
    pub out_of_order_probability: f64,
    /// How many positions a reordered event moves back at most.
    pub max_displacement: usize,
    /// Probability that an event is held back and delivered late.
    pub late_probability: f64,
    /// How far (in event time) past its own time a late event is delivered, at most (ms).
    pub max_lateness_ms: i64,
    /// Processing-time clock for pacing.
    pub clock: Arc<dyn Clock>,
    /// Event time against the wall clock: as fast as possible, real time, or N times
    /// real time (on top of `pacing`, when both are set).
    pub time_mode: TimeMode,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            max_events: None,
            pacing: None,
            out_of_order_probability: 0.0,
            max_displacement: 10,
            late_probability: 0.0,
            max_lateness_ms: 0,
            clock: Arc::new(SystemClock),
            time_mode: TimeMode::AsFastAsPossible,
        }
    }
}

impl StreamOptions {
    /// Checks every option; returns all problems at once.
    pub fn validate(&self) -> std::result::Result<(), GeneratorErrors> {
        let mut problems = Vec::new();
        if let Err(e) = check_probability("out_of_order_probability", self.out_of_order_probability)
        {
            problems.push(e);
        }
        if self.out_of_order_probability > 0.0 && self.max_displacement == 0 {
            problems.push(GeneratorError::InvalidParameter {
                field: "max_displacement".into(),
                expected: "at least 1 when out_of_order_probability > 0".into(),
                found: "0".into(),
            });
        }
        if let Err(e) = check_probability("late_probability", self.late_probability) {
            problems.push(e);
        }
        if self.late_probability > 0.0 && self.max_lateness_ms <= 0 {
            problems.push(GeneratorError::InvalidParameter {
                field: "max_lateness_ms".into(),
                expected: "at least 1 when late_probability > 0".into(),
                found: self.max_lateness_ms.to_string(),
            });
        }
        if let TimeMode::Accelerated(factor) = self.time_mode {
            if !(factor.is_finite() && factor > 0.0) {
                problems.push(GeneratorError::InvalidParameter {
                    field: "time_mode".into(),
                    expected: "a positive, finite speed-up factor".into(),
                    found: factor.to_string(),
                });
            }
        }
        if let Some(Err(e)) = self.pacing.as_ref().map(Pacing::validate) {
            problems.extend(e);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.into())
        }
    }
}

/// Live counters of a streaming run, shared by all readers.
#[derive(Debug, Default)]
pub struct StreamStats {
    events_sent: AtomicU64,
    out_of_order: AtomicU64,
    late: AtomicU64,
    anomalies: AtomicU64,
    started: Mutex<Option<Instant>>,
    last_event: Mutex<Option<Instant>>,
}

/// Statistics of a streaming run, as the Spindle streamer reports them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamResult {
    /// The generator streamed.
    pub generator: String,
    /// Events delivered.
    pub events_sent: u64,
    /// Events deliberately delivered out of order.
    pub out_of_order_count: u64,
    /// Events held back and delivered late.
    pub late_count: u64,
    /// Events flagged as anomalous by the generator.
    pub anomaly_count: u64,
    /// Seconds from the first read to the last event.
    pub elapsed_seconds: f64,
    /// Measured throughput.
    pub events_per_second_actual: f64,
}

impl StreamStats {
    fn record(&self, sent: usize, reordered: u64, late: u64) {
        self.late.fetch_add(late, Ordering::Relaxed);
        let now = Instant::now();
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(now);
        *self.last_event.lock().unwrap_or_else(|p| p.into_inner()) = Some(now);
        self.events_sent.fetch_add(sent as u64, Ordering::Relaxed);
        self.out_of_order.fetch_add(reordered, Ordering::Relaxed);
    }

    /// A snapshot of the run so far.
    pub fn result(&self, generator: &str) -> StreamResult {
        let started = *self.started.lock().unwrap_or_else(|p| p.into_inner());
        let last = *self.last_event.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = match (started, last) {
            (Some(s), Some(l)) => (l - s).as_secs_f64(),
            _ => 0.0,
        };
        let sent = self.events_sent.load(Ordering::Relaxed);
        StreamResult {
            generator: generator.to_string(),
            events_sent: sent,
            out_of_order_count: self.out_of_order.load(Ordering::Relaxed),
            late_count: self.late.load(Ordering::Relaxed),
            anomaly_count: self.anomalies.load(Ordering::Relaxed),
            elapsed_seconds: elapsed,
            events_per_second_actual: if elapsed > 0.0 {
                sent as f64 / elapsed
            } else {
                0.0
            },
        }
    }
}

/// A generator as a parallel engine source.
///
/// ```
/// use tidewater_engine::prelude::*;
/// use tidewater_generators::core::GeneratorSource;
/// use tidewater_generators::nexmark::{NexmarkConfig, NexmarkGenerator};
///
/// let source = GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 7))
///     .with_max_events(5_000)
///     .with_out_of_order(0.1, 8);
/// let stats = source.stats();
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(source).sink(out.clone());
/// p.run().unwrap();
/// assert_eq!(out.len(), 5_000);
/// let result = stats.result("nexmark");
/// assert_eq!(result.events_sent, 5_000);
/// assert!(result.out_of_order_count > 300 && result.out_of_order_count < 700);
/// ```
pub struct GeneratorSource<G> {
    generator: Arc<G>,
    options: StreamOptions,
    stats: Arc<StreamStats>,
    resume: Vec<GeneratorPosition>,
}

impl<G: Generator> GeneratorSource<G> {
    /// Streams `generator` as fast as possible.
    pub fn new(generator: G) -> Self {
        GeneratorSource {
            generator: Arc::new(generator),
            options: StreamOptions::default(),
            stats: Arc::new(StreamStats::default()),
            resume: Vec::new(),
        }
    }

    /// Replaces all options.
    pub fn with_options(mut self, options: StreamOptions) -> Self {
        self.options = options;
        self
    }

    /// Stops after `n` events.
    pub fn with_max_events(mut self, n: u64) -> Self {
        self.options.max_events = Some(n);
        self
    }

    /// Paces events in real time.
    pub fn realtime(mut self, pacing: Pacing) -> Self {
        self.options.pacing = Some(pacing);
        self
    }

    /// Delivers a fraction of events up to `max_displacement` positions late (within a
    /// batch). Both this and [`with_late_events`](Self::with_late_events) act on the
    /// generator's events as they are: a Nexmark person, auction or bid; for
    /// clickstream a whole session (`SessionActivity`, its page views together); for
    /// the recorded simulators (`generator()` of financial, IoT, oplogs, workflow) one
    /// transaction, reading, log line or transition.
    pub fn with_out_of_order(mut self, probability: f64, max_displacement: usize) -> Self {
        self.options.out_of_order_probability = probability;
        self.options.max_displacement = max_displacement;
        self
    }

    /// Holds back a fraction (`probability`) of events and delivers each late by a
    /// lateness drawn in `1..=max_lateness_ms` of event time: it goes out first in the
    /// first batch after one whose events reached its time + lateness, so a bounded
    /// watermark of delay `D` has already moved past its time + lateness - `D` when it
    /// arrives, whatever the batch size. With windows of size `W`, events whose
    /// lateness exceeds `D + W` are late for their window (counted in
    /// `Metrics::late_dropped`, or sent to the late side output); the others still land
    /// in it. Held events are part of the resumable position.
    ///
    /// ```
    /// use tidewater_generators::core::GeneratorSource;
    /// use tidewater_generators::nexmark::{Event, NexmarkConfig, NexmarkGenerator};
    /// use tidewater_engine::prelude::*;
    /// // 10% of bids held back by up to 10 s, 1 s windows, 100 ms watermark delay,
    /// // at any batch size: many arrive behind the watermark.
    /// for (batch_size, expected_late) in [(64, 934), (4096, 959), (100_000, 986)] {
    ///     let source = GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 1))
    ///         .with_max_events(20_000)
    ///         .with_late_events(0.1, 10_000);
    ///     let mut p = Pipeline::new(Config::default().with_parallelism(1).with_batch_size(batch_size));
    ///     p.source(source)
    ///         .with_watermark(Watermark::bounded("100 ms", |e: &Event| e.date_time()))
    ///         .key_by(|_: &Event| 0u8)
    ///         .window(TumblingWindow::of("1 second"))
    ///         .count()
    ///         .sink(MemorySink::new());
    ///     assert_eq!(p.run().unwrap().late_dropped, expected_late, "batch size {batch_size}");
    /// }
    /// ```
    pub fn with_late_events(mut self, probability: f64, max_lateness_ms: i64) -> Self {
        self.options.late_probability = probability;
        self.options.max_lateness_ms = max_lateness_ms;
        self
    }

    /// Streams in event time: real time, or `TimeMode::Accelerated(n)` times faster.
    ///
    /// ```
    /// use tidewater_engine::connector::{Source, SourcePoll, SourceReader, WorkerInfo};
    /// use tidewater_engine::prelude::*;
    /// use tidewater_engine::time::ManualClock;
    /// use tidewater_generators::core::{GeneratorSource, RecordedGenerator, TimeMode};
    ///
    /// // One event a second of event time, replayed ten times faster than real time.
    /// let ticks = RecordedGenerator::new("ticks", 1, (0..10).map(|i| i * 1_000).collect(), |t| *t);
    /// let clock = ManualClock::new(0);
    /// let source = GeneratorSource::new(ticks)
    ///     .with_time_mode(TimeMode::Accelerated(10.0))
    ///     .with_clock(clock.clone());
    /// let mut reader = source.create_reader(&WorkerInfo::new(&Config::default(), 0, 1))?;
    /// let mut out = Vec::new();
    /// reader.poll_batch(&mut out)?;
    /// assert_eq!(out.len(), 1); // the event at 0 s
    /// assert_eq!(reader.poll_batch(&mut out)?, SourcePoll::Pending);
    /// clock.advance_ms(250); // 2.5 s of event time
    /// reader.poll_batch(&mut out)?;
    /// assert_eq!(out.iter().map(|r| r.ts).collect::<Vec<_>>(), vec![0, 1_000, 2_000]);
    /// # Ok::<(), tidewater_engine::error::EngineError>(())
    /// ```
    pub fn with_time_mode(mut self, mode: TimeMode) -> Self {
        self.options.time_mode = mode;
        self
    }

    /// Uses `clock` for pacing.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.options.clock = Arc::new(clock);
        self
    }

    /// Continues from positions saved by readers of an earlier run.
    pub fn resuming_from(mut self, positions: Vec<GeneratorPosition>) -> Self {
        self.resume = positions;
        self
    }

    /// The run's live statistics.
    pub fn stats(&self) -> Arc<StreamStats> {
        self.stats.clone()
    }

    /// The number of events this source will deliver (`None`: unbounded).
    pub fn total(&self) -> Option<u64> {
        match (self.generator.len(), self.options.max_events) {
            (Some(len), Some(max)) => Some(len.min(max)),
            (len, max) => len.or(max),
        }
    }
}

impl<G: Generator> Source for GeneratorSource<G> {
    type Item = G::Event;
    type Reader = GeneratorReader<G>;

    fn restart(&self) -> tidewater_engine::connector::Restart {
        tidewater_engine::connector::Restart::FromPosition
    }

    fn name(&self) -> String {
        self.generator.name()
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<GeneratorReader<G>> {
        if let Err(problems) = self.options.validate() {
            return Err(tidewater_engine::error::EngineError::Source {
                source_name: self.generator.name(),
                message: super::error::describe(&problems),
            });
        }
        let block = worker.batch_size.max(1) as u64;
        let mut reader = GeneratorReader {
            generator: self.generator.clone(),
            total: self.total().unwrap_or(u64::MAX),
            block,
            stride: block * worker.parallelism as u64,
            next: block * worker.index as u64,
            emitted: 0,
            worker: (worker.index, worker.parallelism),
            out_of_order: self.options.out_of_order_probability,
            max_displacement: self.options.max_displacement,
            late_probability: self.options.late_probability,
            max_lateness_ms: self.options.max_lateness_ms,
            held: Vec::new(),
            frontier: i64::MIN,
            done: VecDeque::new(),
            pacer: self.options.pacing.clone().map(|mut pacing| {
                pacing.rate_per_sec /= worker.parallelism as f64;
                Pacer::new(pacing, self.options.clock.now_ms())
            }),
            clock: self.options.clock.clone(),
            stats: self.stats.clone(),
            time_mode: self.options.time_mode,
            anchor: None,
        };
        if let Some(position) = self.resume.iter().find(|p| p.worker.0 == worker.index) {
            reader.resume(position)?;
        }
        Ok(reader)
    }
}

/// One worker's share of a [`GeneratorSource`].
pub struct GeneratorReader<G> {
    generator: Arc<G>,
    total: u64,
    block: u64,
    stride: u64,
    next: u64,
    emitted: u64,
    worker: (usize, usize),
    out_of_order: f64,
    max_displacement: usize,
    late_probability: f64,
    max_lateness_ms: i64,
    /// Events held back: (event time to release at, index), sorted.
    held: Vec<(i64, u64)>,
    /// Newest event time delivered by an earlier batch.
    frontier: i64,
    /// Ranges ahead of `next` that readers of an earlier parallelism read (sorted).
    done: VecDeque<(u64, u64)>,
    pacer: Option<Pacer>,
    clock: Arc<dyn Clock>,
    stats: Arc<StreamStats>,
    time_mode: TimeMode,
    /// (event time, wall-clock time) the event-time pacing started at: the first event
    /// read, or the first after a restore.
    anchor: Option<(i64, i64)>,
}

impl<G: Generator> GeneratorReader<G> {
    /// Where this reader stands.
    pub fn position(&self) -> GeneratorPosition {
        GeneratorPosition {
            generator: self.generator.name(),
            seed: self.generator.seed(),
            worker: self.worker,
            next_index: self.next,
            emitted: self.emitted,
            held: self.held.clone(),
            frontier: self.frontier,
            block: self.block,
            done: self.done.iter().copied().collect(),
        }
    }

    /// Continues from `position` (same generator, seed and parallelism).
    pub fn resume(
        &mut self,
        position: &GeneratorPosition,
    ) -> std::result::Result<(), GeneratorError> {
        let same = position.generator == self.generator.name()
            && position.seed == self.generator.seed()
            && position.worker == self.worker;
        if !same {
            return Err(GeneratorError::PositionMismatch {
                generator: format!(
                    "{} seed {} worker {:?}",
                    self.generator.name(),
                    self.generator.seed(),
                    self.worker
                ),
                found: format!(
                    "{} seed {} worker {:?}",
                    position.generator, position.seed, position.worker
                ),
            });
        }
        self.next = position.next_index;
        self.emitted = position.emitted;
        self.held = position.held.clone();
        self.frontier = position.frontier;
        self.done = position.done.iter().copied().collect();
        // Event-time pacing starts again from where the position stands.
        self.anchor = None;
        Ok(())
    }

    /// A position taken by [`snapshot_position`](SourceReader::snapshot_position).
    fn decode_position(&self, bytes: &[u8]) -> Result<GeneratorPosition> {
        serde_json::from_slice(bytes).map_err(|e| tidewater_engine::error::EngineError::Source {
            source_name: self.generator.name(),
            message: format!("unreadable position: {e}"),
        })
    }

    /// Moves `next` past the ranges readers of an earlier parallelism read; returns
    /// where the next such range starts (reading stops there).
    fn skip_done(&mut self) -> u64 {
        loop {
            while self.done.front().is_some_and(|&(_, end)| end <= self.next) {
                self.done.pop_front();
            }
            match self.done.front() {
                Some(&(start, end)) if start <= self.next => {
                    self.next = super::rescale::first_own(end, self.block, self.worker);
                }
                Some(&(start, _)) => return start,
                None => return u64::MAX,
            }
        }
    }

    /// Takes over this reader's share of what the readers of a run at another
    /// parallelism (`parts`, by old index) had not read.
    pub fn resume_rescaled(
        &mut self,
        parts: &[GeneratorPosition],
    ) -> std::result::Result<(), GeneratorError> {
        let position = super::rescale::rescaled(parts, self.block, self.total, self.worker)?;
        self.resume(&position)
    }

    /// How many of the next `want` events event-time pacing lets out now.
    fn due_in_event_time(&mut self, speed: f64, want: usize) -> usize {
        let now = self.clock.now_ms();
        let generator = &self.generator;
        let (t0, wall0) = *self
            .anchor
            .get_or_insert_with(|| (generator.event_time(self.next), now));
        let reached = t0 as f64 + (now - wall0) as f64 * speed;
        (0..want as u64)
            .take_while(|k| generator.event_time(self.next + k) as f64 <= reached)
            .count()
    }

    /// Moves some events back by up to `max_displacement` positions.
    fn reorder(&self, batch: &mut [Record<G::Event>], first_index: u64) -> u64 {
        if self.out_of_order <= 0.0 || batch.len() < 2 {
            return 0;
        }
        let mut rng = event_rng(self.generator.seed() ^ REORDER_SALT, first_index);
        let mut moved = 0;
        for i in 0..batch.len() - 1 {
            if rng.random::<f64>() < self.out_of_order {
                let span = self.max_displacement.min(batch.len() - 1 - i);
                let j = i + rng.random_range(1..=span);
                // Event i now arrives after the events up to j.
                batch[i..=j].rotate_left(1);
                moved += 1;
            }
        }
        moved
    }
}

impl<G: Generator> SourceReader for GeneratorReader<G> {
    type Item = G::Event;

    fn snapshot_position(&self) -> Result<Option<Vec<u8>>> {
        serde_json::to_vec(&self.position()).map(Some).map_err(|e| {
            tidewater_engine::error::EngineError::external(
                format!(
                    "generator `{}`: encoding its position",
                    self.generator.name()
                ),
                e,
            )
        })
    }

    fn restore_position(&mut self, bytes: &[u8]) -> Result<()> {
        let position = self.decode_position(bytes)?;
        self.resume(&position)?;
        Ok(())
    }

    fn restore_rescaled(&mut self, parts: &[Vec<u8>], _worker: &WorkerInfo) -> Result<()> {
        let positions = parts
            .iter()
            .map(|bytes| self.decode_position(bytes))
            .collect::<Result<Vec<GeneratorPosition>>>()?;
        self.resume_rescaled(&positions)?;
        Ok(())
    }

    fn poll_batch(&mut self, out: &mut Batch<G::Event>) -> Result<SourcePoll> {
        let skip_at = self.skip_done();
        if self.next >= self.total {
            // The input is exhausted: deliver what was held back, then finish.
            let held = std::mem::take(&mut self.held);
            let generator = &self.generator;
            out.extend(held.iter().map(|&(_, i)| {
                let ts = generator.event_time(i);
                Record::new(ts, generator.event_at(i, ts))
            }));
            self.stats.record(held.len(), 0, 0);
            return Ok(SourcePoll::Finished);
        }
        let block_start = (self.next / self.block) * self.block;
        let block_end = (block_start + self.block).min(self.total);
        let mut want = (block_end.min(skip_at) - self.next) as usize;
        if let Some(pacer) = self.pacer.as_mut() {
            let mut rng = event_rng(self.generator.seed() ^ REORDER_SALT, !self.next);
            want = pacer.due(self.clock.now_ms(), want, &mut rng);
            if want == 0 {
                return Ok(SourcePoll::Pending);
            }
        }
        if let Some(speed) = self.time_mode.speed() {
            want = self.due_in_event_time(speed, want);
            if want == 0 {
                return Ok(SourcePoll::Pending);
            }
        }
        let first = self.next;
        let generator = self.generator.clone();
        // Held events whose time an earlier batch reached go first: the watermark has
        // seen that batch, so they arrive behind it (in the same batch they would not).
        let start = out.len();
        let due = self
            .held
            .partition_point(|&(release, _)| release <= self.frontier);
        out.reserve(due + want);
        for (_, i) in self.held.drain(..due) {
            let ts = generator.event_time(i);
            out.push(Record::new(ts, generator.event_at(i, ts)));
        }
        let fresh = out.len();
        let mut late = 0;
        let mut newest = i64::MIN;
        let anomalies = (first..first + want as u64)
            .filter(|&i| generator.is_anomaly(i))
            .count();
        self.stats
            .anomalies
            .fetch_add(anomalies as u64, Ordering::Relaxed);
        for i in first..first + want as u64 {
            let ts = generator.event_time(i);
            newest = newest.max(ts);
            if self.late_probability > 0.0 {
                let mut rng = event_rng(generator.seed() ^ LATE_SALT, i);
                if rng.random::<f64>() < self.late_probability {
                    let release = ts.saturating_add(rng.random_range(1..=self.max_lateness_ms));
                    let at = self.held.partition_point(|h| *h <= (release, i));
                    self.held.insert(at, (release, i));
                    late += 1;
                    continue;
                }
            }
            out.push(Record::new(ts, generator.event_at(i, ts)));
        }
        let reordered = self.reorder(&mut out[fresh..], first);
        self.frontier = self.frontier.max(newest);
        self.next += want as u64;
        self.emitted += want as u64;
        if self.next == block_end {
            self.next = block_start + self.stride;
        }
        self.stats.record(out.len() - start, reordered, late);
        Ok(SourcePoll::Ready)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nexmark::{NexmarkConfig, NexmarkGenerator};

    fn worker(index: usize, parallelism: usize) -> WorkerInfo {
        let config = tidewater_engine::config::Config::default().with_batch_size(100);
        WorkerInfo::new(&config, index, parallelism)
    }

    fn read(
        reader: &mut GeneratorReader<NexmarkGenerator>,
        batches: usize,
    ) -> Vec<Record<crate::nexmark::Event>> {
        let mut out = Vec::new();
        for _ in 0..batches {
            reader.poll_batch(&mut out).unwrap();
        }
        out
    }

    fn source() -> GeneratorSource<NexmarkGenerator> {
        GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 5))
            .with_max_events(2_000)
            .with_out_of_order(0.2, 5)
    }

    #[test]
    fn a_restored_position_continues_with_exactly_the_events_that_follow() {
        for parallelism in [1, 3] {
            let original = source();
            let mut reader = original
                .create_reader(&worker(parallelism - 1, parallelism))
                .unwrap();
            read(&mut reader, 2);
            let position = reader.position();
            let expected = read(&mut reader, 3);
            let resumed = source().resuming_from(vec![position]);
            let mut reader = resumed
                .create_reader(&worker(parallelism - 1, parallelism))
                .unwrap();
            assert_eq!(read(&mut reader, 3), expected);
        }
    }

    #[test]
    fn workers_split_the_events_between_them_without_overlap() {
        let src = source();
        let mut indices: Vec<i64> = Vec::new();
        for w in 0..3 {
            let mut reader = src.create_reader(&worker(w, 3)).unwrap();
            let mut out = Vec::new();
            while reader.poll_batch(&mut out).unwrap() != SourcePoll::Finished {}
            indices.extend(out.iter().map(|r| r.ts));
        }
        assert_eq!(indices.len(), 2_000);
        assert_eq!(src.stats().result("nexmark").events_sent, 2_000);
    }

    #[test]
    fn a_position_of_another_seed_is_refused() {
        let mut reader = source().create_reader(&worker(0, 1)).unwrap();
        let mut position = reader.position();
        position.seed = 6;
        let e = reader.resume(&position).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot resume `nexmark seed 5 worker (0, 1)` from a position of `nexmark seed 6 worker (0, 1)`"
        );
    }

    #[test]
    fn invalid_options_are_reported_together_naming_each_field() {
        let src = source().with_out_of_order(1.5, 0);
        let e = src.create_reader(&worker(0, 1)).err().unwrap();
        assert_eq!(
            e.to_string(),
            "source `nexmark` failed: `out_of_order_probability`: expected a probability in [0, 1], \
             found 1.5; `max_displacement`: expected at least 1 when out_of_order_probability > 0, found 0"
        );
    }

    #[test]
    fn late_events_are_delivered_behind_the_watermark_and_still_delivered() {
        use tidewater_engine::prelude::*;
        let source = GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 5))
            .with_max_events(20_000)
            .with_late_events(0.05, 5_000);
        let stats = source.stats();
        let out = MemorySink::new();
        let mut p = Pipeline::new(Config::default().with_parallelism(1));
        p.source(source)
            .with_watermark(Watermark::bounded("100 ms", |e: &crate::nexmark::Event| {
                e.date_time()
            }))
            .key_by(|_: &crate::nexmark::Event| 0u8)
            .window(TumblingWindow::of("1 second"))
            .aggregate(Count)
            .sink(out.clone());
        let metrics = p.run().unwrap();
        let result = stats.result("nexmark");
        assert_eq!(result.events_sent, 20_000);
        assert!(
            (800..1_200).contains(&result.late_count),
            "{}",
            result.late_count
        );
        // Held back by up to 5 s against 1 s windows and a 100 ms delay, many land behind
        // the watermark (the rest are counted in their window); nothing is lost.
        let counted: u64 = out.values().iter().map(|r| r.value).sum();
        assert_eq!(counted + metrics.late_dropped, 20_000);
        assert!(metrics.late_dropped > 300, "{}", metrics.late_dropped);
    }

    #[test]
    fn a_restored_position_keeps_the_events_held_back() {
        let src = || source().with_late_events(0.3, 50_000);
        let mut reader = src().create_reader(&worker(0, 1)).unwrap();
        read(&mut reader, 2);
        let position = reader.position();
        assert!(!position.held.is_empty());
        let mut rest = Vec::new();
        while reader.poll_batch(&mut rest).unwrap() != SourcePoll::Finished {}
        let mut resumed = src()
            .resuming_from(vec![position])
            .create_reader(&worker(0, 1))
            .unwrap();
        let mut again = Vec::new();
        while resumed.poll_batch(&mut again).unwrap() != SourcePoll::Finished {}
        assert_eq!(again, rest);
    }

    #[test]
    fn realtime_pacing_holds_events_until_they_are_due() {
        let clock = tidewater_engine::time::ManualClock::new(0);
        let src = GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 5))
            .with_max_events(10_000)
            .realtime(Pacing::rate(1_000.0))
            .with_clock(clock.clone());
        let mut reader = src.create_reader(&worker(0, 1)).unwrap();
        let mut out = Vec::new();
        let mut per_step = Vec::new();
        for _ in 0..5 {
            clock.advance_ms(100);
            let before = out.len();
            while let SourcePoll::Ready = reader.poll_batch(&mut out).unwrap() {}
            per_step.push(out.len() - before);
        }
        // about 100 events per 100 ms (Poisson), never everything at once
        assert!(
            per_step.iter().all(|&n| (60..=140).contains(&n)),
            "{per_step:?}"
        );
    }
}

#[cfg(test)]
mod rescale_tests {
    use super::*;
    use crate::nexmark::{NexmarkConfig, NexmarkGenerator};

    fn source() -> GeneratorSource<NexmarkGenerator> {
        GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 9))
            .with_max_events(3_000)
            .with_out_of_order(0.2, 5)
            .with_late_events(0.05, 2_000)
    }

    fn reader(index: usize, parallelism: usize) -> GeneratorReader<NexmarkGenerator> {
        let config = tidewater_engine::config::Config::default().with_batch_size(100);
        source()
            .create_reader(&WorkerInfo::new(&config, index, parallelism))
            .unwrap()
    }

    /// Every event as JSON, sorted: what a set of readers delivered, order aside.
    fn sorted(records: &[Record<crate::nexmark::Event>]) -> Vec<String> {
        let mut lines: Vec<String> = records
            .iter()
            .map(|r| format!("{} {}", r.ts, serde_json::to_string(&r.value).unwrap()))
            .collect();
        lines.sort();
        lines
    }

    fn drain(
        reader: &mut GeneratorReader<NexmarkGenerator>,
        out: &mut Vec<Record<crate::nexmark::Event>>,
    ) {
        while reader.poll_batch(out).unwrap() != SourcePoll::Finished {}
    }

    #[test]
    fn readers_at_another_parallelism_read_exactly_what_was_left() {
        let mut whole = Vec::new();
        drain(&mut reader(0, 1), &mut whole);
        // Two readers stopped at different points: 3 and 11 batches in.
        for (first, second) in [(3, 11), (0, 5), (14, 14)] {
            let mut delivered = Vec::new();
            let mut old = [reader(0, 2), reader(1, 2)];
            for _ in 0..first {
                old[0].poll_batch(&mut delivered).unwrap();
            }
            for _ in 0..second {
                old[1].poll_batch(&mut delivered).unwrap();
            }
            let parts: Vec<Vec<u8>> = old
                .iter()
                .map(|r| r.snapshot_position().unwrap().unwrap())
                .collect();
            for parallelism in [1, 3, 4] {
                let mut got = delivered.clone();
                for index in 0..parallelism {
                    let mut new = reader(index, parallelism);
                    let config = tidewater_engine::config::Config::default();
                    new.restore_rescaled(&parts, &WorkerInfo::new(&config, index, parallelism))
                        .unwrap();
                    drain(&mut new, &mut got);
                }
                assert_eq!(
                    sorted(&got),
                    sorted(&whole),
                    "stopped at {first}/{second}, restored at {parallelism}"
                );
            }
        }
    }
}
