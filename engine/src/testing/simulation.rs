//! [`Simulation`]: a user's pipeline run under the deterministic simulation: seeded
//! parallelism, batch boundaries, channel sizes, interleaving of the workers, source
//! disorder, processing-time jumps and a crash with recovery from the last checkpoint,
//! against a property of its output.

use std::fmt;
use std::ops::Range;

use rand::{Rng, SeedableRng};

use super::TransactionalSink;
use crate::config::{Config, DeliveryGuarantee};
use crate::connector::VecSource;
use crate::error::EngineError;
use crate::stream::{Pipeline, Stream};
use crate::time::ManualClock;

/// Runs a pipeline under seeded schedules and checks a property of what it published
/// (exactly-once, into a [`TransactionalSink`]), crash and recovery included. A failure
/// names its seed and the line that reproduces it.
///
/// ```
/// use tidewater_engine::prelude::*;
/// use tidewater_engine::testing::Simulation;
///
/// // (user, event time): counts per user and 10 s window must not depend on the
/// // schedule, the parallelism or a crash.
/// let events: Vec<(u8, i64)> = (0..400).map(|i| ((i % 5) as u8, i * 137)).collect();
/// let windowed = |s: Stream<(u8, i64)>| {
///     s.with_watermark(Watermark::monotonic(|e: &(u8, i64)| e.1))
///         .key_by(|e: &(u8, i64)| e.0)
///         .window(TumblingWindow::of("10 seconds"))
///         .count()
///         .map(|r| (r.key, r.window_start, r.value))
/// };
/// for seed in Simulation::seeds(0..20) {
///     seed.equals_uninterrupted(&events, windowed).unwrap();
/// }
/// // A property over the output: every event is counted once.
/// let total = |rows: &[(u8, i64, u64)]| {
///     let n: u64 = rows.iter().map(|r| r.2).sum();
///     if n == 400 { Ok(()) } else { Err(format!("{n} events counted")) }
/// };
/// Simulation::new(7).check(&events, windowed, total).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simulation {
    seed: u64,
    parallelism: Option<usize>,
    disorder: usize,
    crash: bool,
}

/// What a seed drew.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// The seed.
    pub seed: u64,
    /// Workers.
    pub parallelism: usize,
    /// Records per source batch.
    pub batch_size: usize,
    /// Messages per exchange channel.
    pub channel_capacity: usize,
    /// Checkpoint interval (ms of the simulation's clock).
    pub checkpoint_interval_ms: u64,
    /// Where the crash fell, as a fraction of the run (`None`: no crash).
    pub crash_at: Option<f64>,
    /// Scheduler steps of the run (of the run after the crash, if any).
    pub steps: u64,
}

/// A seed whose run broke the property, or failed.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationFailure {
    /// What the seed drew.
    pub schedule: Schedule,
    /// What was wrong.
    pub message: String,
    /// The line that runs this seed again.
    pub reproduce: String,
}

impl fmt::Display for SimulationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {}: {}\n  schedule: {:?}\n  reproduce: {}",
            self.schedule.seed, self.message, self.schedule, self.reproduce
        )
    }
}

impl std::error::Error for SimulationFailure {}

impl Simulation {
    /// The simulation of `seed`: parallelism 1 to 4, a crash in most runs, no disorder.
    pub fn new(seed: u64) -> Self {
        Simulation {
            seed,
            parallelism: None,
            disorder: 0,
            crash: true,
        }
    }

    /// One simulation per seed of `seeds`, for property-style runs.
    pub fn seeds(seeds: Range<u64>) -> impl Iterator<Item = Simulation> {
        seeds.map(Simulation::new)
    }

    /// Runs at `n` workers instead of a drawn number.
    pub fn parallelism(mut self, n: usize) -> Self {
        self.parallelism = Some(n.max(1));
        self
    }

    /// Each record may arrive up to `positions` places from its place in the input
    /// (source disorder; keep it within what the pipeline's watermark tolerates).
    pub fn disorder(mut self, positions: usize) -> Self {
        self.disorder = positions;
        self
    }

    /// Whether a run may crash and recover (on by default).
    pub fn crash(mut self, on: bool) -> Self {
        self.crash = on;
        self
    }

    fn reproduce(&self) -> String {
        let mut line = format!("Simulation::new({})", self.seed);
        if let Some(n) = self.parallelism {
            line.push_str(&format!(".parallelism({n})"));
        }
        if self.disorder > 0 {
            line.push_str(&format!(".disorder({})", self.disorder));
        }
        if !self.crash {
            line.push_str(".crash(false)");
        }
        line
    }

    fn draw(&self) -> (Schedule, rand_pcg::Pcg64Mcg) {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(self.seed);
        let schedule = Schedule {
            seed: self.seed,
            parallelism: self.parallelism.unwrap_or_else(|| rng.random_range(1..=4)),
            batch_size: rng.random_range(1..=64),
            channel_capacity: rng.random_range(1..=8),
            checkpoint_interval_ms: rng.random_range(1..=50),
            crash_at: (self.crash && rng.random_bool(0.7)).then(|| rng.random_range(0.0..1.0)),
            steps: 0,
        };
        (schedule, rng)
    }

    /// Runs `pipeline` over `input` under this seed and checks `property` over what it
    /// published.
    pub fn check<T, O>(
        &self,
        input: &[T],
        pipeline: impl Fn(Stream<T>) -> Stream<O>,
        property: impl Fn(&[O]) -> std::result::Result<(), String>,
    ) -> std::result::Result<Schedule, SimulationFailure>
    where
        T: Clone + Send + Sync + 'static,
        O: Clone + Send + 'static,
    {
        let (mut schedule, mut rng) = self.draw();
        let fail = |schedule: Schedule, message: String| SimulationFailure {
            schedule,
            message,
            reproduce: self.reproduce(),
        };
        let events = disordered(input, self.disorder, &mut rng);
        let run = |schedule: &mut Schedule| -> crate::error::Result<Vec<O>> {
            self.run_once(schedule, &events, &pipeline)
        };
        let output = run(&mut schedule).map_err(|e| fail(schedule, e.to_string()))?;
        property(&output).map_err(|m| fail(schedule, m))?;
        Ok(schedule)
    }

    /// Runs `pipeline` over `input` under this seed and checks that it published what
    /// an uninterrupted run of the same pipeline over the input in order, on one worker,
    /// gives (as multisets).
    pub fn equals_uninterrupted<T, O>(
        &self,
        input: &[T],
        pipeline: impl Fn(Stream<T>) -> Stream<O>,
    ) -> std::result::Result<Schedule, SimulationFailure>
    where
        T: Clone + Send + Sync + 'static,
        O: Clone + Send + Ord + fmt::Debug + 'static,
    {
        let reference = uninterrupted(input, &pipeline).map_err(|e| SimulationFailure {
            schedule: self.draw().0,
            message: format!("the uninterrupted run failed: {e}"),
            reproduce: self.reproduce(),
        })?;
        self.check(input, &pipeline, |output| {
            let mut got = output.to_vec();
            got.sort();
            if got == reference {
                Ok(())
            } else {
                let missing: Vec<_> = reference.iter().filter(|r| !got.contains(r)).take(3).collect();
                let extra: Vec<_> = got.iter().filter(|r| !reference.contains(r)).take(3).collect();
                Err(format!(
                    "{} rows where the uninterrupted run has {}; missing {missing:?}, unexpected {extra:?}",
                    got.len(),
                    reference.len()
                ))
            }
        })
    }

    /// One run, crashed and recovered if the schedule says so; what it published.
    fn run_once<T, O>(
        &self,
        schedule: &mut Schedule,
        events: &[T],
        pipeline: &impl Fn(Stream<T>) -> Stream<O>,
    ) -> crate::error::Result<Vec<O>>
    where
        T: Clone + Send + Sync + 'static,
        O: Clone + Send + 'static,
    {
        let io = |e: std::io::Error| EngineError::Io {
            context: "a temporary checkpoint folder for the simulation".into(),
            source: crate::error::Cause::new(e),
        };
        let build = |dir: &std::path::Path, clock: &ManualClock, sink: &TransactionalSink<O>| {
            let config = Config::default()
                .with_name(format!("simulation{}", self.seed))
                .with_parallelism(schedule.parallelism)
                .with_batch_size(schedule.batch_size)
                .with_channel_capacity(schedule.channel_capacity)
                .with_clock(clock.clone())
                .with_checkpointing(
                    dir,
                    std::time::Duration::from_millis(schedule.checkpoint_interval_ms),
                    DeliveryGuarantee::ExactlyOnce,
                );
            let mut p = Pipeline::new(config);
            pipeline(p.source(VecSource::new(events.to_vec()))).sink(sink.clone());
            p
        };
        let limit = 100_000_000;
        let sink = TransactionalSink::new();
        let dir = tempfile::tempdir().map_err(io)?;
        let clock = ManualClock::new(0);
        let mut sim =
            build(dir.path(), &clock, &sink).build_simulation(self.seed, clock.clone())?;
        match schedule.crash_at {
            None => schedule.steps = sim.run(limit)?.steps,
            Some(fraction) => {
                // The schedule is the seed's, so an uninterrupted run elsewhere says
                // how long this one is.
                let dry = tempfile::tempdir().map_err(io)?;
                let dry_clock = ManualClock::new(0);
                let steps = build(dry.path(), &dry_clock, &TransactionalSink::new())
                    .build_simulation(self.seed, dry_clock)?
                    .run(limit)?
                    .steps;
                sim.run_for(((steps as f64 * fraction) as u64).max(1))?;
                // Dropping it is the crash; the restart recovers from the checkpoint.
                drop(sim);
                let restarted = build(dir.path(), &clock, &sink)
                    .build_simulation(self.seed.wrapping_add(1), clock.clone())?;
                let mut restarted = restarted;
                schedule.steps = restarted.run(limit)?.steps;
            }
        }
        Ok(sink.published())
    }
}

/// The input with each record moved at most `positions` places: record `i` is sorted
/// by `i` plus a seeded jitter in `[0, positions + 1)`, so only records less than
/// `positions + 1` places apart can pass each other.
fn disordered<T: Clone>(input: &[T], positions: usize, rng: &mut impl Rng) -> Vec<T> {
    if positions == 0 {
        return input.to_vec();
    }
    let mut keyed: Vec<(f64, &T)> = input
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (
                i as f64 + rng.random_range(0.0..(positions as f64 + 1.0)),
                e,
            )
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    keyed.into_iter().map(|(_, e)| e.clone()).collect()
}

/// The pipeline over the input in order, on one worker, to its end, sorted.
fn uninterrupted<T, O>(
    input: &[T],
    pipeline: &impl Fn(Stream<T>) -> Stream<O>,
) -> crate::error::Result<Vec<O>>
where
    T: Clone + Send + Sync + 'static,
    O: Clone + Send + Ord + 'static,
{
    let out = crate::connector::MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_name("uninterrupted"));
    pipeline(p.source(VecSource::new(input.to_vec()))).sink(out.clone());
    let mut local = p.build_local()?;
    local.run_until_idle()?;
    let mut rows = out.values();
    rows.sort();
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disorder_moves_no_record_further_than_asked_and_keeps_them_all() {
        for (seed, positions) in [(1u64, 0usize), (2, 1), (3, 5), (4, 40)] {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            let input: Vec<usize> = (0..500).collect();
            let out = disordered(&input, positions, &mut rng);
            let mut sorted = out.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, input);
            for (place, &record) in out.iter().enumerate() {
                assert!(place.abs_diff(record) <= positions, "{record} at {place}");
            }
            assert_eq!(positions == 0, out == input, "seed {seed}");
        }
    }
}
