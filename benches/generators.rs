//! Generator throughput: Nexmark bids and the full Nexmark mix, generated on one core
//! (no pipeline), and the workload formulas for comparison.

#![allow(missing_docs)] // criterion_main! generates an undocumented `main`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tidewater::generators::core::Generator;
use tidewater::generators::nexmark::{BidGenerator, NexmarkConfig, NexmarkGenerator};

const EVENTS: u64 = 1_000_000;

fn generate<G: Generator>(g: &G) -> u64 {
    let mut checksum = 0u64;
    for i in 0..EVENTS {
        checksum = checksum.wrapping_add(black_box(g.event_time(i)) as u64);
        black_box(g.event(i));
    }
    checksum
}

fn generators(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    let bids = BidGenerator::new(NexmarkConfig::default(), 42);
    group.bench_function("nexmark_bids", |b| b.iter(|| generate(&bids)));
    let all = NexmarkGenerator::new(NexmarkConfig::default(), 42);
    group.bench_function("nexmark_mix", |b| b.iter(|| generate(&all)));
    group.finish();
}

criterion_group!(benches, generators);
criterion_main!(benches);
