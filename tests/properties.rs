//! Property tests: window assignment and aggregation against a brute-force model, for
//! random events, windows, batch sizes, out-of-order delivery within the watermark
//! delay, and parallelism.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tidewater::prelude::*;

/// (key, event time, value)
type Ev = (u8, i64, i64);

#[derive(Debug, Clone, Copy)]
enum Kind {
    Tumbling(i64),
    Sliding(i64, i64),
    Session(i64),
}

/// (key, window start, window end) -> (count, sum of values)
type Table = BTreeMap<(u8, i64, i64), (u64, i64)>;

/// The brute-force reference: every event added to every window it belongs to.
fn model(events: &[Ev], kind: Kind) -> Table {
    let mut table = Table::new();
    let mut add = |k: u8, start: i64, end: i64, v: i64| {
        let e = table.entry((k, start, end)).or_insert((0, 0));
        e.0 += 1;
        e.1 += v;
    };
    match kind {
        Kind::Tumbling(size) => {
            for &(k, ts, v) in events {
                let start = ts - ts.rem_euclid(size);
                add(k, start, start + size, v);
            }
        }
        Kind::Sliding(size, slide) => {
            for &(k, ts, v) in events {
                let mut start = ts - ts.rem_euclid(slide);
                while start > ts - size {
                    add(k, start, start + size, v);
                    start -= slide;
                }
            }
        }
        Kind::Session(gap) => {
            let mut by_key: BTreeMap<u8, Vec<(i64, i64)>> = BTreeMap::new();
            for &(k, ts, v) in events {
                by_key.entry(k).or_default().push((ts, v));
            }
            for (k, mut list) in by_key {
                list.sort();
                let mut session: Vec<(i64, i64)> = Vec::new();
                for (ts, v) in list {
                    if let Some(&(last, _)) = session.last() {
                        if ts - last >= gap {
                            let start = session[0].0;
                            for &(_, sv) in &session {
                                add(k, start, last + gap, sv);
                            }
                            session.clear();
                        }
                    }
                    session.push((ts, v));
                }
                if let Some(&(last, _)) = session.last() {
                    let start = session[0].0;
                    for &(_, sv) in &session {
                        add(k, start, last + gap, sv);
                    }
                }
            }
        }
    }
    table
}

/// Runs the events, in the given order, through the engine.
fn run(events: &[Ev], kind: Kind, delay_ms: u64, parallelism: usize, batch: usize) -> Table {
    let config = Config::default()
        .with_parallelism(parallelism)
        .with_batch_size(batch);
    run_with(config, events, kind, delay_ms)
}

/// Runs the events through the engine with `config`.
fn run_with(config: Config, events: &[Ev], kind: Kind, delay_ms: u64) -> Table {
    let out = MemorySink::new();
    let mut p = Pipeline::new(config);
    let keyed = p
        .source(VecSource::new(events.to_vec()))
        .with_watermark(Watermark::bounded(
            std::time::Duration::from_millis(delay_ms),
            |e: &Ev| e.1,
        ))
        .key_by(|e: &Ev| e.0);
    let agg = (Count, Sum::of(|e: &Ev| e.2));
    let results = match kind {
        Kind::Tumbling(size) => keyed.window(TumblingWindow::of(ms(size))).aggregate(agg),
        Kind::Sliding(size, slide) => keyed
            .window(SlidingWindow::of(ms(size), ms(slide)))
            .aggregate(agg),
        Kind::Session(gap) => keyed
            .window(SessionWindow::with_gap(ms(gap)))
            .aggregate(agg),
    };
    results.sink(out.clone());
    let metrics = p.run().unwrap();
    assert_eq!(
        metrics.late_dropped, 0,
        "no record may be late within the delay"
    );
    let mut table = Table::new();
    for r in out.values() {
        let previous = table.insert((r.key, r.window_start, r.window_end), r.value);
        assert!(
            previous.is_none(),
            "window emitted twice: {:?}",
            (r.key, r.window_start)
        );
    }
    table
}

fn ms(v: i64) -> std::time::Duration {
    std::time::Duration::from_millis(v as u64)
}

fn kinds() -> impl Strategy<Value = Kind> {
    prop_oneof![
        (1i64..5_000).prop_map(Kind::Tumbling),
        (1i64..20, 1i64..6).prop_map(|(panes, slide)| {
            let slide = slide * 250;
            Kind::Sliding(slide * panes.max(1), slide)
        }),
        (1i64..3_000, 1i64..2_000).prop_map(|(size, slide)| Kind::Sliding(size.max(slide), slide)),
        (1i64..4_000).prop_map(Kind::Session),
    ]
}

fn sorted_events() -> impl Strategy<Value = Vec<Ev>> {
    prop::collection::vec((0u8..5, -5_000i64..60_000, -100i64..100), 0..200).prop_map(|mut v| {
        v.sort_by_key(|e| e.1);
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn ordered_input_matches_the_brute_force_model(
        events in sorted_events(), kind in kinds(), batch in 1usize..64,
    ) {
        prop_assert_eq!(run(&events, kind, 0, 1, batch), model(&events, kind));
    }

    #[test]
    fn disorder_within_the_delay_gives_the_results_of_sorted_input(
        events in sorted_events(),
        kind in kinds(),
        delay in 0i64..5_000,
        jitter in prop::collection::vec(0.0f64..1.0, 200),
        batch in 1usize..64,
    ) {
        // Each event arrives at ts + jitter * delay: whatever arrived before it has
        // ts <= its ts + delay, so the watermark never passes it.
        let mut shuffled: Vec<(i64, Ev)> = events
            .iter()
            .zip(&jitter)
            .map(|(e, j)| (e.1 + (j * delay as f64) as i64, *e))
            .collect();
        shuffled.sort_by_key(|(arrival, _)| *arrival);
        let shuffled: Vec<Ev> = shuffled.into_iter().map(|(_, e)| e).collect();
        prop_assert_eq!(run(&shuffled, kind, delay as u64, 1, batch), model(&events, kind));
    }

    #[test]
    fn parallelism_does_not_change_the_results(
        events in sorted_events(), kind in kinds(), batch in 1usize..32,
    ) {
        // Across an exchange a key's records interleave from several workers: the
        // delay covers the skew between workers' event times.
        // Tumbling and sliding windows run as local-global aggregation at parallelism
        // 4 unless it is turned off; both plans must agree with one worker.
        let one = run(&events, kind, 70_000, 1, batch);
        prop_assert_eq!(&one, &run(&events, kind, 70_000, 4, batch));
        let single_phase = Config::default()
            .with_parallelism(4)
            .with_batch_size(batch)
            .with_local_aggregation(false);
        prop_assert_eq!(&one, &run_with(single_phase, &events, kind, 70_000));
        prop_assert_eq!(one, model(&events, kind));
    }
}

/// The model with lateness: events arrive in batches of `batch`; during a batch the
/// watermark is the largest event time of the batches before it minus the delay; a
/// record counts in a window iff that window's end is past the watermark it arrived
/// under, and is late (dropped) iff it counts in none.
fn model_with_lateness(arrivals: &[Ev], kind: Kind, delay: i64, batch: usize) -> (Table, u64) {
    let mut table = Table::new();
    let mut late = 0;
    let mut max_ts = i64::MIN;
    for chunk in arrivals.chunks(batch) {
        let wm = if max_ts == i64::MIN {
            i64::MIN
        } else {
            max_ts - delay
        };
        for &(k, ts, v) in chunk {
            let windows = model(&[(k, ts, v)], kind);
            let on_time: Vec<_> = windows.keys().filter(|(_, _, end)| *end > wm).collect();
            if on_time.is_empty() {
                late += 1;
            }
            for key in on_time {
                let e = table.entry(*key).or_insert((0, 0));
                e.0 += 1;
                e.1 += v;
            }
        }
        max_ts = max_ts.max(chunk.iter().map(|e| e.1).max().unwrap_or(i64::MIN));
    }
    (table, late)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn late_records_are_dropped_per_window_exactly_as_the_model_says(
        events in prop::collection::vec((0u8..4, 0i64..30_000, -50i64..50), 0..150),
        kind in prop_oneof![
            (1i64..5_000).prop_map(Kind::Tumbling),
            (1i64..8, 1i64..4).prop_map(|(panes, slide)| Kind::Sliding(slide * 500 * panes, slide * 500)),
        ],
        delay in 0i64..3_000,
        batch in 1usize..20,
    ) {
        let (expected, expected_late) = model_with_lateness(&events, kind, delay, batch);
        let out = MemorySink::new();
        let late = MemorySink::new();
        let mut p = Pipeline::new(Config::default().with_parallelism(1).with_batch_size(batch));
        let windowed = p
            .source(VecSource::new(events.clone()))
            .with_watermark(Watermark::bounded(ms(delay), |e: &Ev| e.1))
            .key_by(|e: &Ev| e.0);
        let windowed = match kind {
            Kind::Tumbling(size) => windowed.window(TumblingWindow::of(ms(size))).late_records(late.clone()).aggregate((Count, Sum::of(|e: &Ev| e.2))),
            Kind::Sliding(size, slide) => windowed.window(SlidingWindow::of(ms(size), ms(slide))).late_records(late.clone()).aggregate((Count, Sum::of(|e: &Ev| e.2))),
            Kind::Session(_) => unreachable!(),
        };
        windowed.sink(out.clone());
        let metrics = p.run().unwrap();
        let got: Table = out.values().into_iter().map(|r| ((r.key, r.window_start, r.window_end), r.value)).collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(metrics.late_dropped, expected_late);
        prop_assert_eq!(late.len() as u64, expected_late);
    }
}
