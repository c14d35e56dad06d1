//! The benchmark workloads of `BENCHMARKS.md` as pipelines, shared by the throughput
//! harness, the criterion benches and the tests, so all of them measure the same query.

use tidewater_engine::prelude::*;
use tidewater_generators::workload::{Workload, WorkloadEvent, WorkloadSource};

/// Adds `workload`'s query to `p`: `events` generated events over `keys` keys, a
/// bounded-out-of-orderness watermark with a 1 s delay, and per key a count over 1 s
/// tumbling windows (W1), 10 s windows every 1 s (W2) or sessions with a 5 s gap (W3).
///
/// ```
/// use tidewater::bench::workload_counts;
/// use tidewater::prelude::*;
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// workload_counts(&mut p, Workload::W2, 200_000, 1_000).sink(out.clone());
/// p.run().unwrap();
/// assert_eq!(out.len() as u64, Workload::W2.expected(200_000, 1_000).0);
/// ```
pub fn workload_counts(
    p: &mut Pipeline,
    workload: Workload,
    events: u64,
    keys: u64,
) -> Stream<WindowResult<u32, u64>> {
    workload_query(
        p.source(WorkloadSource::new(workload, events).with_keys(keys)),
        workload,
    )
}

/// `workload`'s query over `events` from any source of its events.
pub fn workload_query(
    events: Stream<WorkloadEvent>,
    workload: Workload,
) -> Stream<WindowResult<u32, u64>> {
    let keyed = events
        .with_watermark(Watermark::bounded("1 second", |e: &WorkloadEvent| e.ts))
        .key_by(|e: &WorkloadEvent| e.key);
    match workload {
        Workload::W1 => keyed
            .window(TumblingWindow::of("1 second"))
            .aggregate(Count),
        Workload::W2 => keyed
            .window(SlidingWindow::of("10 seconds", "1 second"))
            .aggregate(Count),
        Workload::W3 => keyed
            .window(SessionWindow::with_gap("5 seconds"))
            .aggregate(Count),
    }
}

mod report;
mod run;

pub use report::{run_label, write_report, ThroughputSeries};
pub use run::{
    find_max_rate, run_bench, run_bench_sampled, BenchError, BenchLine, BenchQuery, BenchSpec,
    MaxRate, DEFAULT_EVENT_RATE, FLINK_EVENT_RATE,
};
