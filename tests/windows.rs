//! Window semantics end to end on the testing harness: each test pushes batches
//! through a test source and states the exact windows expected after each.

use tidewater::prelude::*;
use tidewater::testing::{TestPipeline, TestRun, TestSink, TestSource};

/// (key, event time)
type Ev = (char, i64);

fn key(e: &Ev) -> char {
    e.0
}

fn ts(e: &Ev) -> i64 {
    e.1
}

/// Results as (key, start, end, count).
type Rows = Vec<(char, i64, i64, u64)>;

/// Results as (key, start, end, count), sorted.
fn drain(out: &TestSink<WindowResult<char, u64>>) -> Rows {
    let mut rows: Vec<_> = out
        .take()
        .into_iter()
        .map(|r| (r.key, r.window_start, r.window_end, r.value))
        .collect();
    rows.sort();
    rows
}

struct Harness {
    input: TestSource<Ev>,
    out: TestSink<WindowResult<char, u64>>,
    late: TestSink<Ev>,
    run: TestRun,
}

impl Harness {
    fn new<W: WindowAssigner>(
        window: W,
        delay_ms: u64,
        configure: impl FnOnce(
            WindowedStream<Ev, char, fn(&Ev) -> char, W>,
        ) -> WindowedStream<Ev, char, fn(&Ev) -> char, W>,
    ) -> Harness {
        let input = TestSource::new();
        let (out, late) = (TestSink::new(), TestSink::new());
        let mut t = TestPipeline::new(Config::default());
        let windowed = t
            .source(&input)
            .with_watermark(Watermark::bounded(
                std::time::Duration::from_millis(delay_ms),
                ts,
            ))
            .key_by(key as fn(&Ev) -> char)
            .window(window)
            .late_records(late.clone());
        configure(windowed).aggregate(Count).sink(out.clone());
        let run = t.start().unwrap();
        Harness {
            input,
            out,
            late,
            run,
        }
    }

    fn push(&mut self, events: &[Ev]) -> Rows {
        self.input.push(events.to_vec());
        self.run.run_until_idle().unwrap();
        drain(&self.out)
    }

    fn finish(mut self) -> (Rows, Vec<Ev>, Metrics) {
        self.input.finish();
        assert!(self.run.run_until_idle().unwrap());
        (drain(&self.out), self.late.take(), self.run.metrics())
    }
}

#[test]
fn tumbling_windows_fire_when_the_watermark_passes_their_end() {
    let mut h = Harness::new(TumblingWindow::of("10 seconds"), 2_000, |w| w);
    // watermark 9 s: [0, 10 s) still open
    assert_eq!(h.push(&[('a', 1_000), ('b', 4_000), ('a', 11_000)]), vec![]);
    // watermark 10 s: [0, 10 s) fires; 3 000 is now late (its window ended at 10 s <= 10 s)
    assert_eq!(
        h.push(&[('a', 12_000)]),
        vec![('a', 0, 10_000, 1), ('b', 0, 10_000, 1)]
    );
    assert_eq!(h.push(&[('a', 3_000), ('b', 19_999)]), vec![]);
    let (rest, late, metrics) = h.finish();
    // end of input closes [10 s, 20 s)
    assert_eq!(
        rest,
        vec![('a', 10_000, 20_000, 2), ('b', 10_000, 20_000, 1)]
    );
    assert_eq!(late, vec![('a', 3_000)]);
    assert_eq!(metrics.late_dropped, 1);
}

#[test]
fn tumbling_windows_honour_an_offset() {
    let mut h = Harness::new(
        TumblingWindow::of("10 seconds").with_offset("3 seconds"),
        0,
        |w| w,
    );
    // windows [-7 s, 3 s), [3 s, 13 s)
    assert_eq!(
        h.push(&[('a', 2_999), ('a', 3_000), ('a', 12_999)]),
        vec![('a', -7_000, 3_000, 1)]
    );
    let (rest, _, _) = h.finish();
    assert_eq!(rest, vec![('a', 3_000, 13_000, 2)]);
}

#[test]
fn sliding_windows_count_each_record_in_every_window_that_contains_it() {
    let mut h = Harness::new(SlidingWindow::of("10 seconds", "5 seconds"), 0, |w| w);
    // 7 s is in [0, 10 s) and [5 s, 15 s); 12 s in [5 s, 15 s) and [10 s, 20 s)
    assert_eq!(h.push(&[('a', 7_000)]), vec![]);
    assert_eq!(h.push(&[('a', 12_000)]), vec![('a', 0, 10_000, 1)]);
    // watermark 15 s fires [5 s, 15 s); then 9 s is late for [0,10) and [5,15): dropped
    assert_eq!(h.push(&[('a', 15_000)]), vec![('a', 5_000, 15_000, 2)]);
    assert_eq!(h.push(&[('a', 9_000)]), vec![]);
    // 11 s is late for [5 s, 15 s) only: counted in [10 s, 20 s)
    assert_eq!(h.push(&[('a', 11_000)]), vec![]);
    let (rest, late, _) = h.finish();
    assert_eq!(
        rest,
        vec![('a', 10_000, 20_000, 3), ('a', 15_000, 25_000, 1)]
    );
    assert_eq!(late, vec![('a', 9_000)]);
}

#[test]
fn session_windows_merge_out_of_order_records_and_fire_after_the_gap() {
    let mut h = Harness::new(SessionWindow::with_gap("5 seconds"), 10_000, |w| w);
    // a: 1 s and 9 s are separate sessions until 5 s arrives and bridges them
    assert_eq!(h.push(&[('a', 1_000), ('a', 9_000), ('b', 2_000)]), vec![]);
    assert_eq!(h.push(&[('a', 5_000)]), vec![]);
    // watermark 20 s: a [1 s, 14 s) and b [2 s, 7 s) are closed
    assert_eq!(
        h.push(&[('c', 30_000)]),
        vec![('a', 1_000, 14_000, 3), ('b', 2_000, 7_000, 1)]
    );
    let (rest, late, _) = h.finish();
    assert_eq!(rest, vec![('c', 30_000, 35_000, 1)]);
    assert_eq!(late, vec![]);
}

#[test]
fn allowed_lateness_re_fires_updated_windows_until_end_plus_lateness() {
    let mut h = Harness::new(TumblingWindow::of("10 seconds"), 0, |w| {
        w.allowed_lateness("5 seconds")
    });
    // watermark 11 s: [0, 10 s) fires with 1
    assert_eq!(
        h.push(&[('a', 1_000), ('a', 11_000)]),
        vec![('a', 0, 10_000, 1)]
    );
    // late but within lateness: updates and re-fires with 2
    assert_eq!(h.push(&[('a', 2_000)]), vec![('a', 0, 10_000, 2)]);
    // watermark 15 s: [0, 10 s) is purged; 3 s is now dropped
    assert_eq!(h.push(&[('a', 15_000)]), vec![]);
    assert_eq!(h.push(&[('a', 3_000)]), vec![]);
    let (rest, late, _) = h.finish();
    assert_eq!(rest, vec![('a', 10_000, 20_000, 2)]);
    assert_eq!(late, vec![('a', 3_000)]);
}

#[test]
fn update_mode_emits_changed_windows_at_every_trigger() {
    let mut h = Harness::new(TumblingWindow::of("10 seconds"), 0, |w| {
        w.output_mode(OutputMode::Update)
    });
    assert_eq!(
        h.push(&[('a', 1_000), ('b', 2_000)]),
        vec![('a', 0, 10_000, 1), ('b', 0, 10_000, 1)]
    );
    // only a changed
    assert_eq!(h.push(&[('a', 3_000)]), vec![('a', 0, 10_000, 2)]);
    // watermark 12 s closes [0, 10 s): its final rows, then the new window, open
    assert_eq!(
        h.push(&[('b', 12_000)]),
        vec![
            ('a', 0, 10_000, 2),
            ('b', 0, 10_000, 1),
            ('b', 10_000, 20_000, 1)
        ]
    );
    assert_eq!(h.push(&[('b', 4_000)]), vec![]);
    // the end of input closes [10 s, 20 s)
    let (rest, late, _) = h.finish();
    assert_eq!(rest, vec![('b', 10_000, 20_000, 1)]);
    assert_eq!(late, vec![('b', 4_000)]);
}

#[test]
fn update_mode_rows_say_whether_they_are_final() {
    // -> (key, start, count, is_final) in emission order: within a trigger, updates come
    // before the final rows of the windows it closes
    let events = vec![('a', 1_000_i64), ('a', 3_000), ('b', 12_000), ('b', 13_000)];
    for (assigner, expected) in [
        (
            "tumbling",
            vec![
                ('a', 0, 1, false),
                ('a', 0, 2, false),
                ('b', 10_000, 1, false),
                ('a', 0, 2, true),
                ('b', 10_000, 2, false),
                ('b', 10_000, 2, true),
            ],
        ),
        (
            "session",
            vec![
                ('a', 1_000, 1, false),
                ('a', 1_000, 2, false),
                ('b', 12_000, 1, false),
                ('a', 1_000, 2, true),
                ('b', 12_000, 2, false),
                ('b', 12_000, 2, true),
            ],
        ),
    ] {
        let out = MemorySink::new();
        let mut p = Pipeline::new(Config::default());
        let keyed = p
            .source(VecSource::new(events.clone()).with_batch_size(1))
            .with_watermark(Watermark::monotonic(|e: &(char, i64)| e.1))
            .key_by(|e: &(char, i64)| e.0);
        let counted = match assigner {
            "tumbling" => keyed
                .window(TumblingWindow::of("10 seconds"))
                .output_mode(OutputMode::Update)
                .count(),
            _ => keyed
                .window(SessionWindow::with_gap("5 seconds"))
                .output_mode(OutputMode::Update)
                .count(),
        };
        counted.sink(out.clone());
        p.run().unwrap();
        let got: Vec<(char, i64, u64, bool)> = out
            .values()
            .into_iter()
            .map(|r| (r.key, r.window_start, r.value, r.is_final))
            .collect();
        assert_eq!(got, expected, "{assigner}");
    }
}

#[test]
fn complete_mode_emits_the_whole_table_at_every_trigger() {
    let mut h = Harness::new(TumblingWindow::of("10 seconds"), 0, |w| {
        w.output_mode(OutputMode::Complete)
    });
    assert_eq!(h.push(&[('a', 1_000)]), vec![('a', 0, 10_000, 1)]);
    assert_eq!(
        h.push(&[('b', 15_000)]),
        vec![('a', 0, 10_000, 1), ('b', 10_000, 20_000, 1)]
    );
    // nothing is late in complete mode
    assert_eq!(
        h.push(&[('a', 2_000), ('a', 16_000)]),
        vec![
            ('a', 0, 10_000, 2),
            ('a', 10_000, 20_000, 1),
            ('b', 10_000, 20_000, 1)
        ]
    );
}

#[test]
fn an_idle_input_stops_holding_back_the_union_watermark() {
    let (busy, idle) = (TestSource::new(), TestSource::new());
    let out = TestSink::new();
    let mut t = TestPipeline::new(Config::default());
    let strategy =
        || Watermark::bounded("0 ms", ts).with_idle_timeout(std::time::Duration::from_secs(30));
    let a = t.source(&busy).with_watermark(strategy());
    let b = t.source(&idle).with_watermark(strategy());
    a.union(b)
        .key_by(key)
        .window(TumblingWindow::of("10 seconds"))
        .aggregate(Count)
        .sink(out.clone());
    let mut run = t.start().unwrap();
    idle.push([('i', 500)]);
    busy.push([('a', 1_000), ('a', 25_000)]);
    run.run_until_idle().unwrap();
    // the idle input's watermark (500) holds [0, 10 s) open
    assert_eq!(drain(&out), vec![]);
    busy.push([('a', 26_000)]);
    run.advance_processing_time("30 seconds").unwrap();
    // after 30 s without records the other input is idle: the watermark is the busy
    // input's 26 s
    assert_eq!(drain(&out), vec![('a', 0, 10_000, 1), ('i', 0, 10_000, 1)]);
    // when every input is idle the watermark stays where it is
    run.advance_processing_time("60 seconds").unwrap();
    assert_eq!(drain(&out), vec![]);
}

#[test]
fn process_sees_the_whole_window_in_event_time_order() {
    let input = TestSource::new();
    let out = TestSink::new();
    let mut t = TestPipeline::new(Config::default());
    t.source(&input)
        .with_watermark(Watermark::bounded("1 minute", ts))
        .key_by(key)
        .window(SessionWindow::with_gap("1 second"))
        .process(|k: &char, w: Window, items: Vec<Ev>| {
            vec![(
                k.to_string(),
                w.start,
                w.end,
                items.iter().map(|e| e.1).collect::<Vec<_>>(),
            )]
        })
        .sink(out.clone());
    let mut run = t.start().unwrap();
    input.push([('k', 900), ('k', 100), ('k', 500), ('k', 5_000)]);
    input.finish();
    run.run_until_idle().unwrap();
    assert_eq!(
        out.drain_sorted(),
        vec![
            ("k".to_string(), 100, 1_900, vec![100, 500, 900]),
            ("k".to_string(), 5_000, 6_000, vec![5_000])
        ]
    );
}

/// An input whose every record is filtered out before its watermark still goes idle
/// (a source that keeps producing keeps ticking), so it stops holding back the union's
/// watermark. Run under the simulation: the manual clock moves, nothing sleeps.
#[test]
fn an_input_whose_records_are_all_filtered_out_goes_idle() {
    use tidewater::engine::time::Clock;
    let clock = ManualClock::new(0);
    let (clicks, click_input) = ChannelSource::new();
    let out = MemorySink::new();
    let mut p = Pipeline::new(
        Config::default()
            .with_parallelism(1)
            .with_clock(clock.clone()),
    );
    let idle_after = std::time::Duration::from_millis(50);
    let clicks = p.source(clicks).with_watermark(
        Watermark::bounded("0 ms", |e: &(u8, i64)| e.1).with_idle_timeout(idle_after),
    );
    // Never pending, never ending, every record dropped by the filter.
    let noise = p
        .source(IterSource::new(|_w: &WorkerInfo| {
            (0i64..).map(|i| (9u8, i))
        }))
        .filter(|e: &(u8, i64)| e.0 != 9)
        .with_watermark(
            Watermark::bounded("0 ms", |e: &(u8, i64)| e.1).with_idle_timeout(idle_after),
        );
    clicks
        .union(noise)
        .key_by(|e: &(u8, i64)| e.0)
        .window(TumblingWindow::of("1 second"))
        .aggregate(Count)
        .sink(out.clone());
    click_input
        .send_batch((0..8).map(|s| (1u8, s * 1_000 + 500)).collect())
        .unwrap();
    let mut simulation = p.build_simulation(7, clock.clone()).unwrap();
    simulation.run_for(5_000).unwrap();
    // The noise input never ends; once it is idle the clicks' watermark (7.5 s) alone
    // closes [0, 1 s) ... [6 s, 7 s).
    assert!(clock.now_ms() > 50, "the clock moved {} ms", clock.now_ms());
    let mut fired: Vec<(i64, u64)> = out
        .values()
        .iter()
        .map(|r| (r.window_start, r.value))
        .collect();
    fired.sort();
    assert_eq!(fired, (0..7).map(|s| (s * 1_000, 1)).collect::<Vec<_>>());
}

#[test]
fn a_late_record_bridging_a_fired_and_an_open_session_fires_at_the_merged_end() {
    let input = TestSource::new();
    let (out, late) = (TestSink::new(), TestSink::new());
    let mut t = TestPipeline::new(Config::default().with_parallelism(1));
    t.source(&input)
        .with_watermark(Watermark::bounded("0 ms", |e: &(char, i64)| e.1))
        .key_by(|e: &(char, i64)| e.0)
        .window(SessionWindow::with_gap("10 seconds"))
        .allowed_lateness("1 minute")
        .late_records(late.clone())
        .aggregate(Count)
        .sink(out.clone());
    let mut run = t.start().unwrap();
    let mut step = |events: Vec<(char, i64)>| {
        input.push(events);
        run.run_until_idle().unwrap();
        let mut fired: Vec<_> = out
            .take()
            .into_iter()
            .map(|r| (r.key, r.window_start, r.window_end, r.value))
            .collect();
        fired.sort();
        fired
    };
    let s = 1_000;
    // (events, what fires)
    type Fired = Vec<(char, i64, i64, u64)>;
    let cases: Vec<(Vec<(char, i64)>, Fired)> = vec![
        (vec![('a', 0)], vec![]),
        (vec![('b', 12 * s)], vec![('a', 0, 10 * s, 1)]), // watermark 12 s
        (vec![('a', 15 * s)], vec![]),                    // open session [15 s, 25 s)
        // Late, within the lateness: bridges [0, 10 s) (fired) and [15 s, 25 s) (open)
        // into [0, 25 s), which the watermark (15 s) has not reached.
        (vec![('a', 9 * s)], vec![]),
        (
            vec![('b', 30 * s)],
            vec![('a', 0, 25 * s, 3), ('b', 12 * s, 22 * s, 1)],
        ),
        // Watermark 90 s: [0, 25 s) expired at 85 s; b's session fires.
        (vec![('b', 90 * s)], vec![('b', 30 * s, 40 * s, 1)]),
        // Past the lateness of every session it could join: late, not a re-fire.
        (vec![('a', 20 * s)], vec![]),
    ];
    for (i, (events, fires)) in cases.into_iter().enumerate() {
        assert_eq!(step(events), fires, "step {i}");
    }
    assert_eq!(late.take(), vec![('a', 20 * s)]);
}
