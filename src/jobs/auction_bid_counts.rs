//! The checkpointed job that crash tests and the `checkpointed` example run: Nexmark
//! bids (from one generator, or several unioned) -> 1-second tumbling bid counts per
//! auction -> the file sink, checkpointed to sled with a chosen delivery guarantee.
//! Started again on the same checkpoint folder after a crash, it resumes; it returns
//! once the generator is exhausted and every result is committed.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tidewater_connectors::file::{FileSink, FileSinkMode};
use tidewater_engine::config::DeliveryGuarantee;
use tidewater_engine::prelude::*;
use tidewater_generators::core::{GeneratorSource, Pacing};
use tidewater_generators::nexmark::{Bid, BidGenerator, NexmarkConfig};

/// Parameters of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointedJob {
    /// The sled checkpoint folder.
    pub checkpoint_dir: PathBuf,
    /// Where committed results are published.
    pub output_dir: PathBuf,
    /// Delivery guarantee.
    pub delivery: DeliveryGuarantee,
    /// Bids to generate.
    pub events: u64,
    /// Generator seed.
    pub seed: u64,
    /// Processing time between checkpoints.
    pub checkpoint_interval_ms: u64,
    /// Real-time pacing in bids per second (`None`: as fast as possible).
    pub rate_per_sec: Option<f64>,
    /// Worker threads.
    pub parallelism: usize,
    /// Independent bid generators (seeds `seed`, `seed + 1`, ..., wrapping), each producing
    /// `events / sources` bids with its own watermark, unioned into one stream. With
    /// more than one, checkpoint barriers are aligned across the union's inputs.
    #[serde(default = "one")]
    pub sources: usize,
}

fn one() -> usize {
    1
}

/// One output row: bids on an auction in a one-second window.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AuctionBids {
    /// Auction id.
    pub auction: u64,
    /// Window start (epoch ms).
    pub window_start: i64,
    /// Bids in the window.
    pub bids: u64,
}

impl CheckpointedJob {
    /// Runs (or resumes) the job to the end of its input.
    pub fn run(&self) -> Result<Metrics> {
        let config = Config::default()
            .with_name("checkpointed")
            .with_parallelism(self.parallelism)
            .with_checkpointing(
                &self.checkpoint_dir,
                Duration::from_millis(self.checkpoint_interval_ms),
                self.delivery,
            );
        let mode = match self.delivery {
            DeliveryGuarantee::ExactlyOnce => FileSinkMode::Transactional,
            DeliveryGuarantee::AtLeastOnce | DeliveryGuarantee::AtMostOnce => FileSinkMode::Direct,
        };
        if self.sources == 0 {
            return Err(EngineError::invalid(
                "checkpointed job",
                "sources",
                "at least one bid generator",
                "0",
            ));
        }
        let sources = self.sources;
        let mut p = Pipeline::new(config);
        let mut bids = self.bids(&mut p, 0, sources);
        for index in 1..sources {
            bids = bids.union(self.bids(&mut p, index, sources));
        }
        bids.key_by(|b: &Bid| b.auction)
            .window(TumblingWindow::of("1 second"))
            .aggregate(Count)
            .map(|r| AuctionBids {
                auction: r.key,
                window_start: r.window_start,
                bids: r.value,
            })
            .sink(FileSink::json_lines(&self.output_dir, mode));
        p.run()
    }

    /// Bid stream `index` of `sources`, with its watermark.
    fn bids(&self, p: &mut Pipeline, index: usize, sources: usize) -> Stream<Bid> {
        let share =
            self.events / sources as u64 + u64::from((index as u64) < self.events % sources as u64);
        let generator = BidGenerator::new(
            NexmarkConfig {
                num_events: Some(share),
                ..NexmarkConfig::default()
            },
            self.seed.wrapping_add(index as u64),
        );
        let mut source = GeneratorSource::new(generator);
        if let Some(rate) = self.rate_per_sec {
            source = source.realtime(Pacing::rate(rate / sources as f64));
        }
        p.source(source)
            .with_watermark(Watermark::bounded("1 second", |b: &Bid| b.date_time))
    }

    /// The committed results in `output_dir`, sorted.
    pub fn committed(&self) -> Result<Vec<AuctionBids>> {
        let mut rows: Vec<AuctionBids> = FileSink::published_lines(&self.output_dir)?
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        rows.sort();
        Ok(rows)
    }
}
