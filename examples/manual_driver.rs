//! Driving a pipeline step by step on one thread, as a test would: push records, move
//! processing time with a manual clock, and look at the output after each step. No
//! thread, no sleep, the same result every run.
//!
//! ```text
//! cargo run --example manual_driver
//! ```

use std::time::Duration;

use tidewater::prelude::*;

fn main() -> Result<()> {
    tidewater::logging::init();
    let clock = ManualClock::new(0);
    let (sensors, input) = ChannelSource::new();
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_clock(clock.clone()));
    p.source(sensors)
        .with_watermark(
            Watermark::bounded("2 seconds", |r: &(&str, i64, f64)| r.1)
                .with_idle_timeout(Duration::from_secs(60)),
        )
        .key_by(|r: &(&str, i64, f64)| r.0.to_string())
        .window(SlidingWindow::of("10 seconds", "5 seconds"))
        .aggregate(Avg::of(|r: &(&str, i64, f64)| r.2))
        .sink(out.clone());
    let mut local = p.build_local()?;

    let steps: [&[(&str, i64, f64)]; 3] = [
        &[("boiler", 1_000, 70.0), ("boiler", 4_000, 72.0)],
        &[("boiler", 8_000, 74.0), ("pump", 9_000, 31.0)],
        &[("boiler", 17_000, 90.0)],
    ];
    for (i, batch) in steps.iter().enumerate() {
        input.send_batch(batch.to_vec())?;
        clock.advance_ms(1_000);
        local.run_until_idle()?;
        for r in out.take() {
            println!(
                "step {i}: {} [{}, {}) avg {:?}",
                r.key, r.window_start, r.window_end, r.value
            );
        }
    }
    drop(input);
    local.run_until_idle()?;
    for r in out.take() {
        println!(
            "end of input: {} [{}, {}) avg {:?}",
            r.key, r.window_start, r.window_end, r.value
        );
    }
    Ok(())
}
