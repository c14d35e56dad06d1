//! A suite of small windowed tests on the testing harness (`tidewater::testing`), as a
//! user would write them: seeded events pushed in chunks at parallelism 1, 2 and 4,
//! the watermark moved by hand after each chunk, and after each step exactly the
//! windows a brute-force model says have closed. No thread, no sleep: each test starts
//! and asserts in milliseconds.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use tidewater::prelude::*;
use tidewater::testing::{TestPipeline, TestSink, TestSource};

/// (key, event time)
type Ev = (u8, i64);
/// (key, window start, window end, count)
type Row = (u8, i64, i64, u64);

#[derive(Debug, Clone, Copy)]
enum Kind {
    Tumbling,
    Sliding,
    Session,
}

/// 40 events over a minute, in time order with ties, four keys.
fn events(seed: u64) -> Vec<Ev> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut t = 0i64;
    (0..40)
        .map(|_| {
            t += rng.random_range(0..3_000);
            (rng.random_range(0..4u8), t)
        })
        .collect()
}

/// Every window of `events`, by brute force.
fn model(kind: Kind, events: &[Ev]) -> Vec<Row> {
    let mut counts: BTreeMap<(u8, i64, i64), u64> = BTreeMap::new();
    match kind {
        Kind::Tumbling => {
            for &(k, t) in events {
                let s = t - t.rem_euclid(10_000);
                *counts.entry((k, s, s + 10_000)).or_default() += 1;
            }
        }
        Kind::Sliding => {
            for &(k, t) in events {
                let mut s = t - t.rem_euclid(5_000);
                while s > t - 10_000 {
                    *counts.entry((k, s, s + 10_000)).or_default() += 1;
                    s -= 5_000;
                }
            }
        }
        Kind::Session => {
            let mut by: BTreeMap<u8, Vec<i64>> = BTreeMap::new();
            for &(k, t) in events {
                by.entry(k).or_default().push(t);
            }
            for (k, times) in by {
                let (mut start, mut last, mut n) = (times[0], times[0], 0);
                for t in times {
                    if t >= last + 5_000 {
                        counts.insert((k, start, last + 5_000), n);
                        start = t;
                        n = 0;
                    }
                    last = t;
                    n += 1;
                }
                counts.insert((k, start, last + 5_000), n);
            }
        }
    }
    counts
        .into_iter()
        .map(|((k, s, e), n)| (k, s, e, n))
        .collect()
}

/// Pushes the events in chunks of 8, moving the watermark to each chunk's last time,
/// and checks after each step that exactly the model's windows ending by then fired.
fn scenario(kind: Kind, parallelism: usize, seed: u64) {
    let events = events(seed);
    let all = model(kind, &events);
    let input = TestSource::event_time(|e: &Ev| e.1);
    let out = TestSink::new();
    let mut t = TestPipeline::new(Config::default().with_parallelism(parallelism));
    let keyed = t.source(&input).key_by(|e: &Ev| e.0);
    let counted = match kind {
        Kind::Tumbling => keyed.window(TumblingWindow::of("10 seconds")).count(),
        Kind::Sliding => keyed
            .window(SlidingWindow::of("10 seconds", "5 seconds"))
            .count(),
        Kind::Session => keyed.window(SessionWindow::with_gap("5 seconds")).count(),
    };
    counted
        .map(|r| (r.key, r.window_start, r.window_end, r.value))
        .sink(out.clone());
    let mut run = t.start().unwrap();
    let mut fired: Vec<Row> = Vec::new();
    for chunk in events.chunks(8) {
        input.push(chunk.to_vec());
        let watermark = chunk.last().unwrap().1;
        input.advance_watermark_to(watermark);
        run.run_until_idle().unwrap();
        // Closed: the window ends by the watermark, and (sessions) no event still to
        // come could extend it, which the model's final sessions already account for.
        let due: Vec<Row> = all
            .iter()
            .filter(|r| r.2 <= watermark && !fired.contains(r))
            .copied()
            .collect();
        out.assert_sorted_eq(due.clone());
        fired.extend(due);
    }
    input.finish();
    assert!(run.run_until_idle().unwrap());
    let rest: Vec<Row> = all.iter().filter(|r| !fired.contains(r)).copied().collect();
    out.assert_sorted_eq(rest);
    assert_eq!(run.metrics().late_dropped, 0);
}

macro_rules! suite {
    ($($name:ident: $kind:ident, $p:expr, $seed:expr;)*) => {
        $(
            #[test]
            fn $name() {
                scenario(Kind::$kind, $p, $seed);
            }
        )*
    };
}

suite! {
    tumbling_p1_seed0: Tumbling, 1, 0;
    tumbling_p1_seed1: Tumbling, 1, 1;
    tumbling_p1_seed2: Tumbling, 1, 2;
    tumbling_p1_seed3: Tumbling, 1, 3;
    tumbling_p1_seed4: Tumbling, 1, 4;
    tumbling_p1_seed5: Tumbling, 1, 5;
    tumbling_p1_seed6: Tumbling, 1, 6;
    tumbling_p1_seed7: Tumbling, 1, 7;
    tumbling_p1_seed8: Tumbling, 1, 8;
    tumbling_p1_seed9: Tumbling, 1, 9;
    tumbling_p1_seed10: Tumbling, 1, 10;
    tumbling_p2_seed0: Tumbling, 2, 0;
    tumbling_p2_seed1: Tumbling, 2, 1;
    tumbling_p2_seed2: Tumbling, 2, 2;
    tumbling_p2_seed3: Tumbling, 2, 3;
    tumbling_p2_seed4: Tumbling, 2, 4;
    tumbling_p2_seed5: Tumbling, 2, 5;
    tumbling_p2_seed6: Tumbling, 2, 6;
    tumbling_p2_seed7: Tumbling, 2, 7;
    tumbling_p2_seed8: Tumbling, 2, 8;
    tumbling_p2_seed9: Tumbling, 2, 9;
    tumbling_p2_seed10: Tumbling, 2, 10;
    tumbling_p4_seed0: Tumbling, 4, 0;
    tumbling_p4_seed1: Tumbling, 4, 1;
    tumbling_p4_seed2: Tumbling, 4, 2;
    tumbling_p4_seed3: Tumbling, 4, 3;
    tumbling_p4_seed4: Tumbling, 4, 4;
    tumbling_p4_seed5: Tumbling, 4, 5;
    tumbling_p4_seed6: Tumbling, 4, 6;
    tumbling_p4_seed7: Tumbling, 4, 7;
    tumbling_p4_seed8: Tumbling, 4, 8;
    tumbling_p4_seed9: Tumbling, 4, 9;
    tumbling_p4_seed10: Tumbling, 4, 10;
    sliding_p1_seed0: Sliding, 1, 0;
    sliding_p1_seed1: Sliding, 1, 1;
    sliding_p1_seed2: Sliding, 1, 2;
    sliding_p1_seed3: Sliding, 1, 3;
    sliding_p1_seed4: Sliding, 1, 4;
    sliding_p1_seed5: Sliding, 1, 5;
    sliding_p1_seed6: Sliding, 1, 6;
    sliding_p1_seed7: Sliding, 1, 7;
    sliding_p1_seed8: Sliding, 1, 8;
    sliding_p1_seed9: Sliding, 1, 9;
    sliding_p1_seed10: Sliding, 1, 10;
    sliding_p2_seed0: Sliding, 2, 0;
    sliding_p2_seed1: Sliding, 2, 1;
    sliding_p2_seed2: Sliding, 2, 2;
    sliding_p2_seed3: Sliding, 2, 3;
    sliding_p2_seed4: Sliding, 2, 4;
    sliding_p2_seed5: Sliding, 2, 5;
    sliding_p2_seed6: Sliding, 2, 6;
    sliding_p2_seed7: Sliding, 2, 7;
    sliding_p2_seed8: Sliding, 2, 8;
    sliding_p2_seed9: Sliding, 2, 9;
    sliding_p2_seed10: Sliding, 2, 10;
    sliding_p4_seed0: Sliding, 4, 0;
    sliding_p4_seed1: Sliding, 4, 1;
    sliding_p4_seed2: Sliding, 4, 2;
    sliding_p4_seed3: Sliding, 4, 3;
    sliding_p4_seed4: Sliding, 4, 4;
    sliding_p4_seed5: Sliding, 4, 5;
    sliding_p4_seed6: Sliding, 4, 6;
    sliding_p4_seed7: Sliding, 4, 7;
    sliding_p4_seed8: Sliding, 4, 8;
    sliding_p4_seed9: Sliding, 4, 9;
    sliding_p4_seed10: Sliding, 4, 10;
    session_p1_seed0: Session, 1, 0;
    session_p1_seed1: Session, 1, 1;
    session_p1_seed2: Session, 1, 2;
    session_p1_seed3: Session, 1, 3;
    session_p1_seed4: Session, 1, 4;
    session_p1_seed5: Session, 1, 5;
    session_p1_seed6: Session, 1, 6;
    session_p1_seed7: Session, 1, 7;
    session_p1_seed8: Session, 1, 8;
    session_p1_seed9: Session, 1, 9;
    session_p1_seed10: Session, 1, 10;
    session_p2_seed0: Session, 2, 0;
    session_p2_seed1: Session, 2, 1;
    session_p2_seed2: Session, 2, 2;
    session_p2_seed3: Session, 2, 3;
    session_p2_seed4: Session, 2, 4;
    session_p2_seed5: Session, 2, 5;
    session_p2_seed6: Session, 2, 6;
    session_p2_seed7: Session, 2, 7;
    session_p2_seed8: Session, 2, 8;
    session_p2_seed9: Session, 2, 9;
    session_p2_seed10: Session, 2, 10;
    session_p4_seed0: Session, 4, 0;
    session_p4_seed1: Session, 4, 1;
    session_p4_seed2: Session, 4, 2;
    session_p4_seed3: Session, 4, 3;
    session_p4_seed4: Session, 4, 4;
    session_p4_seed5: Session, 4, 5;
    session_p4_seed6: Session, 4, 6;
    session_p4_seed7: Session, 4, 7;
    session_p4_seed8: Session, 4, 8;
    session_p4_seed9: Session, 4, 9;
    session_p4_seed10: Session, 4, 10;
}
