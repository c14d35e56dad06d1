//! The runtime under a seeded scheduler: for each seed a pipeline is generated (one or
//! two sources and a union, 1 to 3 workers, tiny batches and channels, tumbling, sliding
//! or session windows with or without allowed lateness, sometimes a late side output,
//! checkpoints with barriers at random moments under every delivery guarantee) and its
//! workers are interleaved as the seed says; some checkpointed runs crash at a random
//! step and restart from their last stored checkpoint. Properties: the run ends, and its
//! output keeps its guarantee against a brute-force count of the windows (see
//! `sim::simulate`).
//!
//! 1,000 seeds by default; `TIDEWATER_SIM_SEEDS=100000` for more, `TIDEWATER_SIM_SEED=n`
//! to replay one.

mod sim;

use std::time::Instant;

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
    let mut crashes = 0;
    for &seed in &seeds {
        let replay = format!("TIDEWATER_SIM_SEED={seed} cargo test --test simulation");
        let outcome =
            sim::simulate(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}\n  replay: {replay}"));
        crashes += u64::from(outcome.crashed);
        if let Some(violation) = outcome.violation {
            panic!("seed {seed}: {violation}\n  replay: {replay}");
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "simulation: {} seeds in {secs:.1} s ({:.0} seeds/s), {crashes} crashed and recovered",
        seeds.len(),
        seeds.len() as f64 / secs
    );
}
