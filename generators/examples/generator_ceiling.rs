//! The Nexmark generator's ceiling on one core, through the same reader a pipeline's
//! source uses (batches of 1024 records): `cargo run --release -p tidewater-generators
//! --example generator_ceiling -- [EVENTS]`.

use std::time::Instant;

use tidewater_engine::config::Config;
use tidewater_engine::connector::{Source, SourcePoll, SourceReader, WorkerInfo};
use tidewater_generators::core::GeneratorSource;
use tidewater_generators::nexmark::{NexmarkConfig, NexmarkGenerator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(20_000_000);
    let source = GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 42))
        .with_max_events(events);
    let config = Config::default();
    let mut reader = source.create_reader(&WorkerInfo::new(&config, 0, 1))?;
    let mut batch = Vec::with_capacity(config.batch_size);
    let mut checksum = 0i64;
    let start = Instant::now();
    loop {
        batch.clear();
        let poll = reader.poll_batch(&mut batch)?;
        checksum = checksum.wrapping_add(batch.iter().map(|r| r.ts).sum::<i64>());
        if poll == SourcePoll::Finished {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{events} events in {seconds:.3} s: {:.2} M events/s ({:.1} ns/event, checksum {checksum})",
        events as f64 / seconds / 1e6,
        seconds * 1e9 / events as f64
    );
    Ok(())
}
