//! Criterion benches of the benchmark workloads (BENCHMARKS.md) end to end, generator
//! to sink, on 1 M events per iteration, at parallelism 1 and 2.
//!
//! `cargo bench --bench windows`; the full 10 M-event figures with latency percentiles
//! come from `cargo run --release --example throughput`.
#![allow(missing_docs)] // criterion_main! generates an undocumented `main`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tidewater::bench::workload_counts;
use tidewater::prelude::*;

const EVENTS: u64 = 1_000_000;

fn run(workload: Workload, parallelism: usize) -> usize {
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(parallelism));
    workload_counts(&mut p, workload, EVENTS, workload.keys()).sink(out.clone());
    p.run().expect("benchmark pipeline runs");
    out.len()
}

fn workloads(c: &mut Criterion) {
    let mut group = c.benchmark_group("workload");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    for workload in [Workload::W1, Workload::W2, Workload::W3] {
        for parallelism in [1, 2] {
            let id = BenchmarkId::new(workload.query(), format!("p{parallelism}"));
            group.bench_function(id, |b| b.iter(|| black_box(run(workload, parallelism))));
        }
    }
    group.finish();
}

criterion_group!(benches, workloads);
criterion_main!(benches);
