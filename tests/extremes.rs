//! Event times at the ends of the supported range: windows, lateness and end of input
//! stay exact (no saturation, no endless loop), and times outside the range fail the
//! run naming the value and the range.

use std::time::Duration;

use tidewater::engine::time::{MAX_EVENT_TIME, MIN_EVENT_TIME};
use tidewater::prelude::*;

const WAIT: Option<Duration> = Some(Duration::from_secs(30));

fn windows(
    times: Vec<i64>,
    window: TumblingWindow,
    lateness: &str,
) -> Result<Vec<(i64, i64, u64)>> {
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(1).with_name("edge"));
    p.source(VecSource::new(times))
        .with_watermark(Watermark::bounded("1 second", |t: &i64| *t))
        .key_by(|_: &i64| 0u8)
        .window(window)
        .allowed_lateness(lateness)
        .aggregate(Count)
        .sink(out.clone());
    let processor = p.start()?;
    assert!(processor.await_termination(WAIT), "the run did not end");
    processor.join()?;
    let mut rows: Vec<_> = out
        .values()
        .into_iter()
        .map(|r| (r.window_start, r.window_end, r.value))
        .collect();
    rows.sort();
    Ok(rows)
}

#[test]
fn windows_at_the_ends_of_the_range_hold_their_records() {
    let hour = 3_600_000;
    let top = MAX_EVENT_TIME - MAX_EVENT_TIME.rem_euclid(hour); // start of the last hour
    let bottom = MIN_EVENT_TIME - MIN_EVENT_TIME.rem_euclid(hour);
    // (times, lateness, expected (start, end, count))
    type Case<'a> = (Vec<i64>, &'a str, Vec<(i64, i64, u64)>);
    let cases: Vec<Case> = vec![
        (vec![MAX_EVENT_TIME], "1 minute", vec![(top, top + hour, 1)]),
        (
            vec![MAX_EVENT_TIME - 1, MAX_EVENT_TIME],
            "10 days",
            vec![(top, top + hour, 2)],
        ),
        (
            vec![MIN_EVENT_TIME],
            "1 minute",
            vec![(bottom, bottom + hour, 1)],
        ),
        (
            vec![MIN_EVENT_TIME, MIN_EVENT_TIME + 1, 0],
            "0 ms",
            vec![(bottom, bottom + hour, 2), (0, hour, 1)],
        ),
    ];
    for (times, lateness, want) in cases {
        let got = windows(times.clone(), TumblingWindow::of("1 hour"), lateness).unwrap();
        assert_eq!(got, want, "{times:?}");
        for (start, end, _) in &got {
            assert!(
                times.iter().any(|t| start <= t && t < end),
                "{start}..{end} holds none of {times:?}"
            );
        }
    }
}

#[test]
fn times_outside_the_range_fail_the_run_naming_them() {
    for ts in [i64::MAX, MAX_EVENT_TIME + 1, MIN_EVENT_TIME - 1] {
        let e = windows(vec![0, ts], TumblingWindow::of("1 hour"), "1 minute").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("pipeline `edge`, node `with_watermark#1` (worker 0): `with_watermark`: invalid `event time`: expected epoch milliseconds from {MIN_EVENT_TIME} to {MAX_EVENT_TIME}, found {ts}")
        );
    }
}

#[test]
fn durations_beyond_the_range_are_build_errors() {
    let e = windows(
        vec![0],
        TumblingWindow::of(Duration::from_millis(u64::MAX)),
        "1 minute",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("pipeline `edge`: `window(tumbling)#2`: invalid `size`: expected a duration of at most 2^60 ms, found {} ms", i64::MAX)
    );
}

#[test]
fn a_lateness_or_watermark_delay_beyond_the_range_is_a_build_error() {
    let huge = Duration::from_millis(u64::MAX);
    let e = windows(
        vec![0],
        TumblingWindow::of("1 hour"),
        "2000000000000000 seconds",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("pipeline `edge`: `window(tumbling)#2`: invalid `allowed_lateness`: expected a duration of at most 2^60 ms, found 2000000000000000000 ms")
    );
    let mut p = Pipeline::new(Config::default().with_parallelism(1).with_name("edge"));
    p.source(VecSource::new(vec![0i64]))
        .with_watermark(Watermark::bounded(huge, |t: &i64| *t))
        .sink(MemorySink::new());
    assert_eq!(
        p.build().err().unwrap().to_string(),
        format!("pipeline `edge`: `with_watermark#1`: invalid `delay`: expected a duration of at most 2^60 ms, found {} ms", i64::MAX)
    );
}
