//! Processing time on the testing harness: timers of a keyed process function and
//! processing-time windows fire as the harness's clock moves, records or not, at
//! parallelism 1 and 2 (behind an exchange).

use tidewater::prelude::*;
use tidewater::testing::{TestPipeline, TestSink, TestSource};

/// Says a key went quiet: no record for 5 s of processing time.
#[derive(Clone)]
struct QuietAfter5s;

impl KeyedProcessFunction<char, char> for QuietAfter5s {
    /// When the latest record of the key arrived.
    type State = i64;
    type Out = (char, i64);

    fn process(&self, _: &char, last: &mut i64, _: char, ctx: &mut KeyedContext<'_, (char, i64)>) {
        *last = ctx.processing_time();
        ctx.register_processing_time_timer(*last + 5_000);
    }

    fn on_processing_time_timer(
        &self,
        key: &char,
        last: &mut i64,
        at: i64,
        ctx: &mut KeyedContext<'_, (char, i64)>,
    ) {
        if at == *last + 5_000 {
            ctx.emit((*key, at));
            ctx.clear_state();
        }
    }
}

#[test]
fn processing_time_timers_fire_as_the_clock_moves_at_parallelism_1_and_2() {
    for parallelism in [1, 2] {
        let input = TestSource::new();
        let out = TestSink::new();
        let mut t = TestPipeline::new(Config::default().with_parallelism(parallelism));
        t.source(&input)
            .key_by(|c: &char| *c)
            .process(QuietAfter5s)
            .sink(out.clone());
        let mut run = t.start().unwrap();
        input.push(['a', 'b']);
        run.run_until_idle().unwrap();
        run.advance_processing_time("3 seconds").unwrap();
        input.push(['a']); // a's quiet time moves to 8 s
        run.run_until_idle().unwrap();
        assert!(out.is_empty());
        run.advance_processing_time("2 seconds").unwrap();
        out.assert_sorted_eq([('b', 5_000)]);
        run.advance_processing_time("2999 ms").unwrap();
        assert!(out.is_empty(), "p{parallelism}");
        run.advance_processing_time("1 ms").unwrap();
        out.assert_sorted_eq([('a', 8_000)]);
    }
}

#[test]
fn processing_time_windows_close_with_the_clock_behind_an_exchange() {
    let input = TestSource::new();
    let out = TestSink::new();
    let mut t = TestPipeline::new(Config::default().with_parallelism(2));
    t.source(&input)
        .with_processing_time()
        .key_by(|c: &char| *c)
        .window(TumblingWindow::of("10 seconds"))
        .count()
        .map(|r| (r.key, r.window_start, r.value))
        .sink(out.clone());
    let mut run = t.start().unwrap();
    run.advance_processing_time("2 seconds").unwrap();
    input.push(['x', 'y', 'x']);
    run.run_until_idle().unwrap();
    run.advance_processing_time("9 seconds").unwrap(); // 11 s: [0, 10 s) has closed
    out.assert_sorted_eq([('x', 0, 2), ('y', 0, 1)]);
    input.push(['x']); // read at 11 s: window [10 s, 20 s)
    run.run_until_idle().unwrap();
    run.advance_processing_time("10 seconds").unwrap();
    out.assert_sorted_eq([('x', 10_000, 1)]);
}
