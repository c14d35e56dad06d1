//! Time to a first result of a small windowed job: started on worker threads
//! (`Pipeline::run`), and as a test on the harness, from building the pipeline to its
//! first passing assertion (`tidewater::testing`).
//!
//! `cargo bench --bench first_result`
#![allow(missing_docs)] // criterion_main! generates an undocumented `main`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use tidewater::prelude::*;
use tidewater::testing::{TestPipeline, TestSink, TestSource};

/// 1 000 events, 7 keys, 100 ms windows, on worker threads.
fn threaded_job() -> u64 {
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default());
    p.source(VecSource::new((0..1_000i64).collect()))
        .with_watermark(Watermark::monotonic(|t: &i64| *t))
        .key_by(|t: &i64| t % 7)
        .window(TumblingWindow::of("100 ms"))
        .aggregate(Count)
        .sink(out.clone());
    p.run().expect("the job runs");
    out.values().iter().map(|r| r.value).sum()
}

/// A test: three events, a watermark, the first assertion.
fn harness_test() {
    let clicks = TestSource::event_time(|c: &(u8, i64)| c.1);
    let counts = TestSink::new();
    let mut t = TestPipeline::new(Config::default().with_parallelism(1));
    t.source(&clicks)
        .key_by(|c: &(u8, i64)| c.0)
        .window(TumblingWindow::of("10 seconds"))
        .count()
        .map(|r| (r.key, r.window_start, r.value))
        .sink(counts.clone());
    let mut run = t.start().expect("the test pipeline builds");
    clicks.push([(1, 1_000), (2, 2_000), (1, 9_999)]);
    clicks.advance_watermark_to(10_000);
    run.run_until_idle().expect("the test pipeline runs");
    counts.assert_sorted_eq([(1, 0, 2), (2, 0, 1)]);
}

fn first_result(c: &mut Criterion) {
    let mut group = c.benchmark_group("first_result");
    group.bench_function("threaded_job_1000_events", |b| {
        b.iter(|| black_box(threaded_job()))
    });
    group.bench_function("harness_test_to_first_assert", |b| b.iter(harness_test));
    group.finish();
}

criterion_group!(benches, first_result);
criterion_main!(benches);
