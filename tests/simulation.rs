//! The runtime under a seeded scheduler: for each seed a pipeline is generated (one or
//! two sources and a union, 1 to 3 workers, tiny batches and channels, tumbling, sliding
//! or session windows, sometimes a late side output and checkpoints with barriers at
//! random moments) and its workers are interleaved as the seed says. Properties: the run
//! ends, and every window equals a brute-force count of the input.
//!
//! 1,000 seeds by default; `TIDEWATER_SIM_SEEDS=100000` for more, `TIDEWATER_SIM_SEED=n`
//! to replay one.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use tidewater::engine::config::DeliveryGuarantee;
use tidewater::prelude::*;

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

/// Runs the pipeline seed `seed` generates; returns what it emitted and the model.
fn simulate(seed: u64) -> Result<(Vec<Row>, Vec<Row>)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let clock = ManualClock::new(0);
    let checkpoints = tempfile::tempdir().unwrap();
    let mut config = Config::default()
        .with_name(format!("sim{seed}"))
        .with_parallelism(rng.random_range(1..=3))
        .with_batch_size(rng.random_range(1..=64))
        .with_channel_capacity(rng.random_range(1..=8))
        .with_clock(clock.clone());
    if rng.random_bool(0.25) {
        let interval = Duration::from_millis(rng.random_range(1..=50));
        config =
            config.with_checkpointing(checkpoints.path(), interval, DeliveryGuarantee::AtLeastOnce);
    }
    let sources = rng.random_range(1..=2);
    let keys = rng.random_range(1..=5u8);
    let mut all = Vec::new();
    let mut p = Pipeline::new(config);
    let mut stream: Option<Stream<Event>> = None;
    for _ in 0..sources {
        let mut ts = rng.random_range(0..1_000i64);
        let events: Vec<Event> = (0..rng.random_range(0..300))
            .map(|_| {
                ts += rng.random_range(0..50);
                (rng.random_range(0..keys), ts)
            })
            .collect();
        all.extend(events.iter().copied());
        let s = p
            .source(VecSource::new(events))
            .with_watermark(Watermark::monotonic(|e: &Event| e.1));
        stream = Some(match stream {
            None => s,
            Some(previous) => previous.union(s),
        });
    }
    let kind = match rng.random_range(0..3) {
        0 => Kind::Tumbling(rng.random_range(10..200)),
        1 => {
            let size = rng.random_range(10..200);
            Kind::Sliding(size, rng.random_range(1..=size))
        }
        _ => Kind::Session(rng.random_range(5..100)),
    };
    let out = MemorySink::new();
    let late = rng.random_bool(0.5).then(MemorySink::<Event>::new);
    let keyed = stream.unwrap().key_by(|e: &Event| e.0);
    macro_rules! wire {
        ($window:expr) => {{
            let mut w = keyed.window($window);
            if let Some(late) = &late {
                w = w.late_records(late.clone());
            }
            w.aggregate(Count).sink(out.clone());
        }};
    }
    match kind {
        Kind::Tumbling(size) => wire!(TumblingWindow::of(Duration::from_millis(size as u64))),
        Kind::Sliding(size, slide) => wire!(SlidingWindow::of(
            Duration::from_millis(size as u64),
            Duration::from_millis(slide as u64)
        )),
        Kind::Session(gap) => wire!(SessionWindow::with_gap_ms(gap)),
    }
    p.build_simulation(seed, clock)?.run(10_000_000)?;
    let mut got: Vec<Row> = out
        .values()
        .into_iter()
        .map(|r| (r.key, r.window_start, r.window_end, r.value))
        .collect();
    got.sort();
    if let Some(late) = late {
        assert!(
            late.is_empty(),
            "seed {seed}: in-order input produced late records"
        );
    }
    Ok((got, model(kind, &all)))
}

#[test]
fn every_seed_ends_and_matches_the_brute_force_model() {
    let seeds: Vec<u64> = match std::env::var("TIDEWATER_SIM_SEED") {
        Ok(one) => vec![one.parse().expect("TIDEWATER_SIM_SEED is a number")],
        Err(_) => {
            let n = std::env::var("TIDEWATER_SIM_SEEDS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000u64);
            (0..n).collect()
        }
    };
    let started = Instant::now();
    for &seed in &seeds {
        let replay = format!("TIDEWATER_SIM_SEED={seed} cargo test --test simulation");
        let (got, want) =
            simulate(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}\n  replay: {replay}"));
        if got != want {
            let missing: Vec<_> = want.iter().filter(|r| !got.contains(r)).take(3).collect();
            let extra: Vec<_> = got.iter().filter(|r| !want.contains(r)).take(3).collect();
            panic!(
                "seed {seed}: {} windows, {} expected; missing {missing:?}, extra {extra:?}\n  replay: {replay}",
                got.len(),
                want.len()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "simulation: {} seeds in {secs:.1} s ({:.0} seeds/s)",
        seeds.len(),
        seeds.len() as f64 / secs
    );
}
