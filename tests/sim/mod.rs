//! The seeded simulation shared by `tests/simulation.rs` and
//! `tests/simulation_planted.rs`: a pipeline drawn from each seed, run under the
//! simulation's scheduler, crashed and recovered when the plan says so, and the
//! brute-force model of its windows.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use tidewater::engine::config::DeliveryGuarantee;
use tidewater::prelude::*;
use tidewater::testing::TransactionalSink;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Tumbling(i64),
    Sliding(i64, i64),
    Session(i64),
}

type Event = (u8, i64);
/// (key, window start, window end, count)
type Row = (u8, i64, i64, u64);

/// The windows a correct engine emits for `events` (every input ends, so every window
/// closes; the input of each source is in event-time order, so nothing is late).
fn model(kind: Kind, events: &[Event]) -> Vec<Row> {
    let mut counts: BTreeMap<(u8, i64, i64), u64> = BTreeMap::new();
    match kind {
        Kind::Tumbling(size) => {
            for &(k, ts) in events {
                let start = ts - ts.rem_euclid(size);
                *counts.entry((k, start, start + size)).or_default() += 1;
            }
        }
        Kind::Sliding(size, slide) => {
            for &(k, ts) in events {
                let mut start = ts - ts.rem_euclid(slide);
                while start > ts - size {
                    *counts.entry((k, start, start + size)).or_default() += 1;
                    start -= slide;
                }
            }
        }
        Kind::Session(gap) => {
            let mut per_key: BTreeMap<u8, Vec<i64>> = BTreeMap::new();
            for &(k, ts) in events {
                per_key.entry(k).or_default().push(ts);
            }
            for (k, mut times) in per_key {
                times.sort();
                let (mut start, mut end, mut n) = (times[0], times[0] + gap, 0);
                for ts in times {
                    if ts >= end {
                        counts.insert((k, start, end), n);
                        (start, n) = (ts, 0);
                    }
                    end = end.max(ts + gap);
                    n += 1;
                }
                counts.insert((k, start, end), n);
            }
        }
    }
    counts
        .into_iter()
        .map(|((k, s, e), n)| (k, s, e, n))
        .collect()
}

/// A pipeline drawn from a seed, rebuilt the same way after a simulated crash.
struct Plan {
    parallelism: usize,
    batch_size: usize,
    channel_capacity: usize,
    checkpoint_interval_ms: Option<u64>,
    sources: Vec<Vec<Event>>,
    kind: Kind,
    late_output: bool,
    /// Allowed lateness (ms): windows and sessions stay in state that long after they fire.
    lateness_ms: u64,
    /// Exactly-once into two-phase-commit sinks (checkpointed runs only).
    exactly_once: bool,
    /// At-most-once into memory (checkpointed runs only; else at-least-once).
    at_most_once: bool,
    /// Where the crash falls, as a fraction of the uninterrupted run's scheduler steps
    /// (checkpointed runs only).
    crash_at: Option<f64>,
}

impl Plan {
    fn draw(seed: u64) -> Plan {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let parallelism = rng.random_range(1..=3);
        let batch_size = rng.random_range(1..=64);
        let channel_capacity = rng.random_range(1..=8);
        let checkpoint_interval_ms = rng.random_bool(0.3).then(|| rng.random_range(1..=50));
        let keys = rng.random_range(1..=5u8);
        let sources = (0..rng.random_range(1..=2))
            .map(|_| {
                let mut ts = rng.random_range(0..1_000i64);
                (0..rng.random_range(0..300))
                    .map(|_| {
                        ts += rng.random_range(0..50);
                        (rng.random_range(0..keys), ts)
                    })
                    .collect()
            })
            .collect();
        let kind = match rng.random_range(0..3) {
            0 => Kind::Tumbling(rng.random_range(10..200)),
            1 => {
                let size = rng.random_range(10..200);
                Kind::Sliding(size, rng.random_range(1..=size))
            }
            _ => Kind::Session(rng.random_range(5..100)),
        };
        let late_output = rng.random_bool(0.5);
        let lateness_ms = if rng.random_bool(0.5) {
            rng.random_range(1..300)
        } else {
            0
        };
        let exactly_once = checkpoint_interval_ms.is_some() && rng.random_bool(0.4);
        let at_most_once =
            checkpoint_interval_ms.is_some() && !exactly_once && rng.random_bool(0.3);
        let crash_at = (checkpoint_interval_ms.is_some() && rng.random_bool(0.6))
            .then(|| rng.random_range(0.0..1.0));
        Plan {
            parallelism,
            batch_size,
            channel_capacity,
            checkpoint_interval_ms,
            sources,
            kind,
            late_output,
            lateness_ms,
            exactly_once,
            at_most_once,
            crash_at,
        }
    }

    /// The pipeline, writing into `out` and `late`, checkpointing into `dir`.
    fn build(
        &self,
        seed: u64,
        dir: &std::path::Path,
        clock: &ManualClock,
        sinks: &Sinks,
    ) -> Pipeline {
        let mut config = Config::default()
            .with_name(format!("sim{seed}"))
            .with_parallelism(self.parallelism)
            .with_batch_size(self.batch_size)
            .with_channel_capacity(self.channel_capacity)
            .with_clock(clock.clone());
        if let Some(ms) = self.checkpoint_interval_ms {
            config = config.with_checkpointing(
                dir,
                Duration::from_millis(ms),
                if self.exactly_once {
                    DeliveryGuarantee::ExactlyOnce
                } else if self.at_most_once {
                    DeliveryGuarantee::AtMostOnce
                } else {
                    DeliveryGuarantee::AtLeastOnce
                },
            );
        }
        let mut p = Pipeline::new(config);
        let mut stream: Option<Stream<Event>> = None;
        for events in &self.sources {
            let s = p
                .source(VecSource::new(events.clone()))
                .with_watermark(Watermark::monotonic(|e: &Event| e.1));
            stream = Some(match stream {
                None => s,
                Some(previous) => previous.union(s),
            });
        }
        let keyed = stream.unwrap().key_by(|e: &Event| e.0);
        macro_rules! wire {
            ($window:expr) => {{
                let mut w = keyed
                    .window($window)
                    .allowed_lateness(Duration::from_millis(self.lateness_ms));
                match (self.late_output, self.exactly_once) {
                    (true, true) => w = w.late_records(sinks.tx_late.clone()),
                    (true, false) => w = w.late_records(sinks.late.clone()),
                    _ => {}
                }
                if self.exactly_once {
                    w.aggregate(Count).sink(sinks.tx_out.clone());
                } else {
                    w.aggregate(Count).sink(sinks.out.clone());
                }
            }};
        }
        match self.kind {
            Kind::Tumbling(size) => wire!(TumblingWindow::of(Duration::from_millis(size as u64))),
            Kind::Sliding(size, slide) => wire!(SlidingWindow::of(
                Duration::from_millis(size as u64),
                Duration::from_millis(slide as u64)
            )),
            Kind::Session(gap) => wire!(SessionWindow::with_gap_ms(gap)),
        }
        p
    }
}

/// Where a simulated run writes: memory (at-least-once) or two-phase-commit sinks
/// whose "disk" outlives a crash (exactly-once); the same across a crash and restart.
#[derive(Default)]
pub struct Sinks {
    out: MemorySink<WindowResult<u8, u64>>,
    late: MemorySink<Event>,
    tx_out: TransactionalSink<WindowResult<u8, u64>>,
    tx_late: TransactionalSink<Event>,
}

/// What a simulated run did.
pub struct Outcome {
    /// It crashed and recovered.
    pub crashed: bool,
    /// How its output breaks its delivery guarantee, if it does.
    pub violation: Option<String>,
}

/// Runs the pipeline seed `seed` draws, crashing and recovering it once if the plan
/// says so, and checks its output against the model for its guarantee: exactly-once
/// (and any run without a crash) emits the model's windows exactly; at-least-once each
/// of them at least once and nothing else; at-most-once no window twice and no count
/// above the model's (a crash may lose records).
pub fn simulate(seed: u64) -> Result<Outcome> {
    let plan = Plan::draw(seed);
    let dir = tempfile::tempdir().unwrap();
    let sinks = Sinks::default();
    let clock = ManualClock::new(0);
    let mut sim = plan
        .build(seed, dir.path(), &clock, &sinks)
        .build_simulation(seed, clock.clone())?;
    let crashed = match plan.crash_at {
        None => {
            sim.run(10_000_000)?;
            false
        }
        Some(fraction) => {
            // The schedule is the seed's (checkpoints are stored on the stepping
            // thread), so an uninterrupted run elsewhere says how long this one is.
            let dry = tempfile::tempdir().unwrap();
            let steps = plan
                .build(seed, dry.path(), &ManualClock::new(0), &Sinks::default())
                .build_simulation(seed, ManualClock::new(0))?
                .run(10_000_000)?
                .steps;
            sim.run_for(((steps as f64 * fraction) as u64).max(1))?;
            !sim.is_done()
        }
    };
    // Dropping it is the crash: the restart recovers from the last stored checkpoint.
    drop(sim);
    if crashed {
        plan.build(seed, dir.path(), &clock, &sinks)
            .build_simulation(seed.wrapping_add(1), clock.clone())?
            .run(10_000_000)?;
    }
    // The input is in event-time order: a late record means a restored watermark ran
    // ahead of the replayed records (what a barrier forwarded too early does).
    if !(sinks.late.is_empty() && sinks.tx_late.published().is_empty()) {
        return Ok(Outcome {
            crashed,
            violation: Some("in-order input produced late records".into()),
        });
    }
    let all: Vec<Event> = plan.sources.concat();
    let want = model(plan.kind, &all);
    let rows = |rows: Vec<WindowResult<u8, u64>>| -> Vec<Row> {
        let mut rows: Vec<Row> = rows
            .into_iter()
            .map(|r| (r.key, r.window_start, r.window_end, r.value))
            .collect();
        rows.sort();
        rows
    };
    let violation = if plan.exactly_once || !crashed {
        let got = if plan.exactly_once {
            rows(sinks.tx_out.published())
        } else {
            rows(sinks.out.values())
        };
        differ(&got, &want)
    } else if plan.at_most_once {
        let got = rows(sinks.out.values());
        let counts: BTreeMap<(u8, i64, i64), u64> =
            want.iter().map(|&(k, s, e, n)| ((k, s, e), n)).collect();
        // What the input holds for a window: a session's bounds move when records are
        // lost (it may split), so its bound is the input's records in its span.
        let holds = |k: u8, s: i64, e: i64| match plan.kind {
            Kind::Session(gap) => Some(
                all.iter()
                    .filter(|&&(key, ts)| key == k && ts >= s && ts <= e - gap)
                    .count() as u64,
            ),
            _ => counts.get(&(k, s, e)).copied(),
        };
        let mut seen = std::collections::BTreeSet::new();
        got.iter().find_map(|&(k, s, e, n)| {
            if !seen.insert((k, s, e)) {
                Some(format!("window {:?} emitted twice", (k, s, e)))
            } else if holds(k, s, e).is_none_or(|m| n > m) {
                Some(format!(
                    "window {:?} counts {n}, more than the input holds",
                    (k, s, e)
                ))
            } else {
                None
            }
        })
    } else {
        let mut got = rows(sinks.out.values());
        got.dedup();
        differ(&got, &want)
    };
    Ok(Outcome { crashed, violation })
}

/// How `got` differs from `want`, if it does.
fn differ(got: &[Row], want: &[Row]) -> Option<String> {
    (got != want).then(|| {
        let missing: Vec<_> = want.iter().filter(|r| !got.contains(r)).take(3).collect();
        let extra: Vec<_> = got.iter().filter(|r| !want.contains(r)).take(3).collect();
        format!(
            "{} windows, {} expected; missing {missing:?}, extra {extra:?}",
            got.len(),
            want.len()
        )
    })
}
