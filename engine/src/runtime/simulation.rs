//! A deterministic simulation of the parallel runtime: the workers of a pipeline run as
//! interleaved tasks on the calling thread, and a seeded scheduler picks which worker
//! steps next and how far processing time moves (so when checkpoint barriers start).
//! Channel capacities and batch sizes come from the pipeline's [`Config`], which a
//! property test draws from the same seed. The same seed replays the same schedule, so
//! a failing seed is a one-line reproduction.
//!
//! ```
//! use tidewater_engine::prelude::*;
//! let clock = ManualClock::new(0);
//! let out = MemorySink::new();
//! let mut p = Pipeline::new(Config::default().with_parallelism(3).with_clock(clock.clone()));
//! p.source(VecSource::new((0..1_000i64).collect()))
//!     .with_watermark(Watermark::monotonic(|t: &i64| *t))
//!     .key_by(|t: &i64| t % 7)
//!     .window(TumblingWindow::of("100 ms"))
//!     .aggregate(Count)
//!     .sink(out.clone());
//! let report = p.build_simulation(42, clock)?.run(1_000_000)?;
//! assert!(report.steps > 0);
//! assert_eq!(out.values().iter().map(|r| r.value).sum::<u64>(), 1_000);
//! # Ok::<(), EngineError>(())
//! ```

use std::sync::Arc;

use rand::{Rng, SeedableRng};

use super::build::Terminal;
use super::coordinator::Coordinator;
use super::worker::Worker;
use crate::config::Config;
use crate::error::{EngineError, Result};
use crate::time::{Clock, ManualClock};

/// What a simulated run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulationReport {
    /// Worker steps taken (including steps that found nothing to do).
    pub steps: u64,
    /// Processing time that passed on the manual clock (ms).
    pub elapsed_ms: i64,
}

/// The workers of one pipeline, stepped by a seeded scheduler on the calling thread.
pub struct Simulation {
    workers: Vec<Worker>,
    rng: rand_pcg::Pcg64Mcg,
    clock: ManualClock,
    seed: u64,
    // Keeps the checkpoint writer alive for the run.
    _coordinator: Option<Arc<Coordinator>>,
}

impl Simulation {
    pub(crate) fn new(
        config: Config,
        terminals: &[Terminal],
        names: Vec<String>,
        seed: u64,
        clock: ManualClock,
    ) -> Result<Self> {
        let (workers, _, coordinator) = super::local::build_workers(config, terminals, names)?;
        Ok(Simulation {
            workers,
            rng: rand_pcg::Pcg64Mcg::seed_from_u64(seed),
            clock,
            seed,
            _coordinator: coordinator,
        })
    }

    /// Steps randomly chosen workers, moving the clock 0 to 20 ms at random, until every
    /// worker is done. A run that is not done after `max_steps` steps is an error naming
    /// the seed (a deadlock or a livelock).
    pub fn run(&mut self, max_steps: u64) -> Result<SimulationReport> {
        let start = self.clock.now_ms();
        let steps = self.run_for(max_steps)?;
        if !self.is_done() {
            return Err(EngineError::InvalidState {
                action: format!("finish the simulation of seed {}", self.seed),
                status: format!("still running after {max_steps} steps"),
            });
        }
        Ok(SimulationReport {
            steps,
            elapsed_ms: self.clock.now_ms() - start,
        })
    }

    /// Takes up to `steps` scheduler steps (fewer if the run ends); returns how many.
    /// Dropping the simulation afterwards is a crash at that point: nothing more is
    /// flushed, and a new simulation on the same checkpoint folder recovers.
    pub fn run_for(&mut self, steps: u64) -> Result<u64> {
        let mut taken = 0;
        while taken < steps && !self.is_done() {
            let i = self.rng.random_range(0..self.workers.len());
            // Several steps in a row sometimes: one worker runs ahead of the others.
            let burst = if self.rng.random_bool(0.1) {
                self.rng.random_range(2..16)
            } else {
                1
            };
            for _ in 0..burst {
                self.workers[i].step()?;
                taken += 1;
            }
            if self.rng.random_bool(0.3) {
                self.clock.advance_ms(self.rng.random_range(0..=20));
            }
            // A worker waiting for the final checkpoint waits for the writer thread.
            if self
                .workers
                .iter()
                .all(|w| w.is_done() || w.awaits_final_checkpoint())
            {
                std::thread::yield_now();
            }
        }
        Ok(taken)
    }

    /// True once every worker is done.
    pub fn is_done(&self) -> bool {
        self.workers.iter().all(Worker::is_done)
    }
}
