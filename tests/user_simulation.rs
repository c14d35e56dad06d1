//! The simulation offered to users (`tidewater::testing::Simulation`): a correct
//! pipeline keeps its output under every seed (parallelism, batches, interleavings,
//! disorder, a crash and recovery); an order-dependent one is caught, with the seed and
//! the line that reproduces it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tidewater::prelude::*;
use tidewater::testing::Simulation;

type Ev = (u8, i64);

fn events() -> Vec<Ev> {
    (0..300).map(|i| ((i * 7 % 5) as u8, i * 91)).collect()
}

/// Counts per key and 5 s window, with a watermark 2 s behind.
fn windowed(s: Stream<Ev>) -> Stream<(u8, i64, u64)> {
    s.with_watermark(Watermark::bounded("2 seconds", |e: &Ev| e.1))
        .key_by(|e: &Ev| e.0)
        .window(TumblingWindow::of("5 seconds"))
        .count()
        .map(|r| (r.key, r.window_start, r.value))
}

#[test]
fn a_windowed_pipeline_gives_its_rows_under_every_seed_crashes_and_disorder_included() {
    let mut crashed = 0;
    for sim in Simulation::seeds(0..60) {
        // 10 places of disorder is at most 910 ms, within the watermark's 2 s.
        let schedule = sim
            .disorder(10)
            .equals_uninterrupted(&events(), windowed)
            .unwrap();
        crashed += usize::from(schedule.crash_at.is_some());
    }
    assert!(crashed > 20, "{crashed} of 60 seeds crashed");
}

#[test]
fn an_order_dependent_pipeline_is_caught_with_the_line_that_reproduces_it() {
    // Numbers records in arrival order from a counter the checkpoints do not hold: the
    // output depends on the schedule, and a recovery numbers replayed records again.
    let numbered = |s: Stream<Ev>| {
        let next = Arc::new(AtomicU64::new(0));
        s.map(move |e: Ev| (next.fetch_add(1, Ordering::SeqCst), e.0, e.1))
    };
    let failure = Simulation::seeds(0..50)
        .find_map(|sim| sim.equals_uninterrupted(&events(), numbered).err())
        .expect("some seed shows the order dependence");
    let text = failure.to_string();
    assert!(
        text.starts_with(&format!("seed {}: ", failure.schedule.seed)),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "reproduce: Simulation::new({})",
            failure.schedule.seed
        )),
        "{text}"
    );
    // The line does reproduce it.
    let again = Simulation::new(failure.schedule.seed)
        .equals_uninterrupted(&events(), numbered)
        .unwrap_err();
    assert_eq!(again, failure);
}

#[test]
fn a_property_over_the_output_is_checked_and_its_message_kept() {
    let total = |rows: &[(u8, i64, u64)]| {
        let n: u64 = rows.iter().map(|r| r.2).sum();
        if n == 300 {
            Ok(())
        } else {
            Err(format!("{n} events counted"))
        }
    };
    for sim in Simulation::seeds(100..110) {
        sim.check(&events(), windowed, total).unwrap();
    }
    let wrong =
        |rows: &[(u8, i64, u64)]| -> Result<(), String> { Err(format!("{} rows", rows.len())) };
    let e = Simulation::new(3)
        .parallelism(2)
        .crash(false)
        .check(&events(), windowed, wrong)
        .unwrap_err();
    assert_eq!(e.schedule.parallelism, 2);
    assert_eq!(e.schedule.crash_at, None);
    assert!(e.message.ends_with(" rows"), "{e}");
    assert_eq!(
        e.reproduce,
        "Simulation::new(3).parallelism(2).crash(false)"
    );
}
