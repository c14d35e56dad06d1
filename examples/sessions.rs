//! User sessions from an out-of-order click stream: session windows with a 30 s gap,
//! one minute of allowed lateness, and the clicks that arrive later than that sent to a
//! side output instead of being lost.
//!
//! ```text
//! cargo run --release --example sessions
//! ```

use tidewater::prelude::*;

#[derive(Debug, Clone)]
struct Click {
    user: u32,
    page: u32,
    ts: i64,
}

/// A deterministic click stream: 200 users, bursts of activity separated by pauses, and
/// every 97th click delayed by up to five minutes (a phone that was offline).
fn clicks(worker: &WorkerInfo) -> impl Iterator<Item = Click> {
    let (index, parallelism) = (worker.index as u64, worker.parallelism as u64);
    (0..200_000u64)
        .filter(move |i| i % parallelism == index)
        .map(|i| {
            let user = (i.wrapping_mul(2_654_435_761) % 200) as u32;
            let burst = (i / 1_000) as i64;
            let mut ts = 1_700_000_000_000 + burst * 90_000 + (i % 1_000) as i64 * 40;
            if i % 97 == 0 {
                ts -= (i % 300) as i64 * 1_000;
            }
            Click {
                user,
                page: (i % 13) as u32,
                ts,
            }
        })
}

fn main() -> Result<()> {
    tidewater::logging::init();
    let sessions = MemorySink::new();
    let too_late = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_name("sessions"));
    p.source(IterSource::new(clicks))
        .with_watermark(Watermark::bounded("10 seconds", |c: &Click| c.ts))
        .key_by(|c: &Click| c.user)
        .window(SessionWindow::with_gap("30 seconds").with_max_duration("1 hour"))
        .allowed_lateness("1 minute")
        .late_records(too_late.clone())
        .aggregate((
            Count,
            First::of(|c: &Click| c.page),
            Last::of(|c: &Click| c.page),
        ))
        .sink(sessions.clone());
    let metrics = p.run()?;

    let results = sessions.values();
    let longest = results.iter().max_by_key(|r| r.window_end - r.window_start);
    println!(
        "{} session results ({} re-fired by late clicks)",
        results.len(),
        results.len() - distinct(&results)
    );
    if let Some(s) = longest {
        println!(
            "longest: user {} for {} s, {} clicks, entered on page {:?}, left on {:?}",
            s.key,
            (s.window_end - s.window_start) / 1_000,
            s.value.0,
            s.value.1,
            s.value.2
        );
    }
    println!(
        "{} clicks too late for any session (side output: {})",
        metrics.late_dropped,
        too_late.len()
    );
    println!(
        "{:.1} M clicks/s, latency p99 {:.3} ms",
        metrics.events_per_sec / 1e6,
        metrics.latency.p99_ms
    );
    Ok(())
}

fn distinct<V>(results: &[WindowResult<u32, V>]) -> usize {
    let mut windows: Vec<_> = results.iter().map(|r| (r.key, r.window_start)).collect();
    windows.sort();
    windows.dedup();
    windows.len()
}
