//! Window explanations: what went into a window, when and why it fired or has not,
//! which input holds the watermark back; each operator's and input's watermark.

use tidewater::prelude::*;
use tidewater::testing::{TestPipeline, TestSink, TestSource};

type Ev = (char, i64);

#[test]
fn an_unfired_window_names_the_input_that_holds_the_watermark_back() {
    let (fast, slow) = (
        TestSource::event_time(|e: &Ev| e.1).named("fast"),
        TestSource::event_time(|e: &Ev| e.1).named("slow"),
    );
    let out = TestSink::new();
    let mut t = TestPipeline::new(Config::default().with_parallelism(2).with_explain(true));
    let a = t.source(&fast);
    let b = t.source(&slow);
    a.union(b)
        .key_by(|e: &Ev| e.0)
        .window(TumblingWindow::of("10 seconds"))
        .count()
        .map(|r| (r.key, r.window_start, r.value))
        .sink(out.clone());
    let mut run = t.start().unwrap();
    fast.push([('k', 1_000), ('k', 2_000)]);
    slow.push([('k', 3_000)]);
    fast.advance_watermark_to(20_000);
    slow.advance_watermark_to(5_000);
    run.run_until_idle().unwrap();
    assert!(out.is_empty());
    let why = run.explain_window(&'k', 0);
    assert_eq!(why.len(), 1, "{why:?}");
    let why = &why[0];
    assert_eq!((why.window_start, why.window_end), (0, Some(10_000)));
    let mut on_time = why.on_time.clone();
    on_time.sort();
    assert_eq!(on_time, vec![1_000, 2_000, 3_000]);
    assert!(why.firings.is_empty() && why.late.is_empty());
    assert_eq!(why.watermark_now, Some(5_000));
    // The slow source holds the union back.
    assert_eq!(
        (
            why.inputs[0].name.as_str(),
            why.inputs[0].watermark,
            why.inputs[0].idle
        ),
        ("slow#1", Some(5_000), false)
    );
    let text = why.to_string();
    assert!(
        text.contains("not fired: the watermark is 5000, before the window's end 10000"),
        "{text}"
    );
    assert!(
        text.contains("held back by `slow#1` (watermark 5000)"),
        "{text}"
    );
    let watermarks = run.watermarks();
    assert_eq!(watermarks["fast#0"], Some(20_000));
    assert_eq!(watermarks["slow#1"], Some(5_000));
    // Once the slow input catches up the window fires, and says when.
    slow.advance_watermark_to(12_000);
    run.run_until_idle().unwrap();
    out.assert_sorted_eq([('k', 0, 3)]);
    let why = &run.explain_window(&'k', 0)[0];
    assert_eq!(why.firings.len(), 1);
    assert_eq!(
        (why.firings[0].watermark, why.firings[0].is_final),
        (12_000, true)
    );
    assert!(why
        .to_string()
        .contains("fired (final result) when the watermark reached 12000"));
    // An idle input holds nothing back, and the explanation says it is idle.
    fast.push([('k', 21_000)]);
    fast.advance_watermark_to(30_000);
    slow.mark_idle();
    run.run_until_idle().unwrap();
    out.assert_sorted_eq([('k', 20_000, 1)]);
    let why = &run.explain_window(&'k', 20_000)[0];
    let slow_input = why.inputs.iter().find(|i| i.name == "slow#1").unwrap();
    assert!(slow_input.idle, "{why}");
    assert!(why.to_string().contains("`slow#1` 12000 (idle)"), "{why}");
}

#[test]
fn late_records_refirings_and_sessions_are_explained() {
    let input = TestSource::event_time(|e: &Ev| e.1);
    let late = TestSink::new();
    let mut t = TestPipeline::new(Config::default().with_parallelism(1).with_explain(true));
    t.source(&input)
        .key_by(|e: &Ev| e.0)
        .window(TumblingWindow::of("10 seconds"))
        .allowed_lateness(std::time::Duration::from_secs(5))
        .late_records(late.clone())
        .count()
        .sink(TestSink::new());
    let mut run = t.start().unwrap();
    input.push([('a', 1_000)]);
    input.advance_watermark_to(10_000);
    run.run_until_idle().unwrap();
    input.push([('a', 4_000)]); // within the lateness: the window fires again
    input.advance_watermark_to(15_000);
    run.run_until_idle().unwrap();
    input.push([('a', 5_000)]); // past end + lateness: late
    run.run_until_idle().unwrap();
    let why = &run.explain_window(&'a', 0)[0];
    assert_eq!(why.on_time, vec![1_000, 4_000]);
    assert_eq!(why.late, vec![(5_000, 15_000)]);
    assert!(why.late_output);
    assert_eq!(why.firings.len(), 2, "{why}");
    assert_eq!(late.take(), vec![('a', 5_000)]);
    assert!(why
        .to_string()
        .contains("late records: 1 (sent to the late output)"));

    // Sessions are found by their start.
    let input = TestSource::event_time(|e: &Ev| e.1);
    let mut t = TestPipeline::new(Config::default().with_parallelism(1).with_explain(true));
    t.source(&input)
        .key_by(|e: &Ev| e.0)
        .window(SessionWindow::with_gap("1 second"))
        .count()
        .sink(TestSink::new());
    let mut run = t.start().unwrap();
    input.push([('s', 100), ('s', 600), ('s', 5_000)]);
    input.advance_watermark_to(3_000);
    run.run_until_idle().unwrap();
    let first = &run.explain_window(&'s', 100)[0];
    assert_eq!(
        (first.window_end, first.on_time.clone()),
        (Some(1_600), vec![100, 600])
    );
    let open = &run.explain_window(&'s', 5_000)[0];
    assert_eq!((open.window_end, open.on_time.clone()), (None, vec![5_000]));
    assert!(open
        .to_string()
        .contains("not fired: the session is open (watermark 3000)"));
}

#[test]
fn without_explain_there_is_nothing_to_tell() {
    let input = TestSource::event_time(|e: &Ev| e.1);
    let mut t = TestPipeline::new(Config::default());
    t.source(&input)
        .key_by(|e: &Ev| e.0)
        .window(TumblingWindow::of("10 seconds"))
        .count()
        .sink(TestSink::new());
    let mut run = t.start().unwrap();
    input.push([('a', 1_000)]);
    run.run_until_idle().unwrap();
    assert!(run.explain_window(&'a', 0).is_empty());
}
