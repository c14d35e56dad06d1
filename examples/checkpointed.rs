//! A checkpointed job: Nexmark bids -> 1 s tumbling counts per auction -> file sink.
//!
//! ```text
//! cargo run --release --example checkpointed -- --checkpoint-dir D --output-dir O \
//!     --delivery at-most-once|at-least-once|exactly-once --events N --seed S \
//!     [--checkpoint-interval-ms I] [--rate R] [--parallelism P] [--sources K]
//!     [--topology auction-counts|bidder-sessions]
//! ```
//!
//! Started again on the same D after a crash, it resumes; it exits 0 once the
//! generator is exhausted and all output is committed (the published files in O).

use anyhow::{bail, Context};
use tidewater::jobs::auction_bid_counts::CheckpointedJob;

fn main() -> anyhow::Result<()> {
    tidewater::logging::init();
    let mut args = std::env::args().skip(1);
    let mut job = CheckpointedJob {
        checkpoint_dir: "checkpoints".into(),
        output_dir: "output".into(),
        delivery: tidewater::engine::config::DeliveryGuarantee::ExactlyOnce,
        events: 100_000,
        seed: 42,
        checkpoint_interval_ms: 1_000,
        rate_per_sec: None,
        parallelism: 2,
        sources: 1,
        topology: Default::default(),
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--checkpoint-dir" => job.checkpoint_dir = value.into(),
            "--output-dir" => job.output_dir = value.into(),
            "--delivery" => job.delivery = value.parse()?,
            "--events" => job.events = value.parse().context("--events")?,
            "--seed" => job.seed = value.parse().context("--seed")?,
            "--checkpoint-interval-ms" => {
                job.checkpoint_interval_ms = value.parse().context("--checkpoint-interval-ms")?
            }
            "--rate" => job.rate_per_sec = Some(value.parse().context("--rate")?),
            "--parallelism" => job.parallelism = value.parse().context("--parallelism")?,
            "--sources" => job.sources = value.parse().context("--sources")?,
            "--topology" => job.topology = value.parse()?,
            other => bail!("unknown flag `{other}`"),
        }
    }
    let metrics = job.run()?;
    if let Some(line) = metrics.checkpoints.as_ref().and_then(|c| c.restored()) {
        eprintln!("{line}");
    }
    eprintln!(
        "done: {} bids read in this run, {} results committed",
        metrics.source_records,
        job.committed()?.len()
    );
    Ok(())
}
