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
use tidewater_generators::core::{Generator, GeneratorSource, Pacing};
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
    /// What the job computes (default: bid counts per auction).
    #[serde(default)]
    pub topology: Topology,
}

/// The dataflow the job runs over its bids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    /// Bids per auction in 1-second tumbling windows, into one file sink.
    #[default]
    AuctionCounts,
    /// Bids per bidder session (gap 2 s, allowed lateness 2 s), into one file sink, and
    /// records too late for any session into a second one (`output_dir/late`): a
    /// session operator with lateness, a late side output and two sinks, all under
    /// the checkpoint protocol.
    BidderSessions,
}

impl std::str::FromStr for Topology {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auction-counts" => Ok(Topology::AuctionCounts),
            "bidder-sessions" => Ok(Topology::BidderSessions),
            other => Err(EngineError::invalid(
                "checkpointed job",
                "topology",
                "auction-counts or bidder-sessions",
                other,
            )),
        }
    }
}

/// One output row of [`Topology::BidderSessions`]: bids of a bidder in one session.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BidderSession {
    /// Bidder id.
    pub bidder: u64,
    /// Session start (epoch ms).
    pub start: i64,
    /// Session end: last bid + gap (epoch ms).
    pub end: i64,
    /// Bids in the session.
    pub bids: u64,
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
        match self.topology {
            Topology::AuctionCounts => bids
                .key_by(|b: &Bid| b.auction)
                .window(TumblingWindow::of("1 second"))
                .aggregate(Count)
                .map(|r| AuctionBids {
                    auction: r.key,
                    window_start: r.window_start,
                    bids: r.value,
                })
                .sink(FileSink::json_lines(&self.output_dir, mode)),
            Topology::BidderSessions => bids
                .key_by(|b: &Bid| b.bidder)
                .window(SessionWindow::with_gap("2 seconds"))
                .allowed_lateness("2 seconds")
                .late_records(FileSink::json_lines(self.output_dir.join("late"), mode))
                .aggregate(Count)
                .map(|r| BidderSession {
                    bidder: r.key,
                    start: r.window_start,
                    end: r.window_end,
                    bids: r.value,
                })
                .sink(FileSink::json_lines(&self.output_dir, mode)),
        }
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
        let start = generator.event_time(0);
        let mut source = GeneratorSource::new(generator);
        if let Some(rate) = self.rate_per_sec {
            source = source.realtime(Pacing::rate(rate / sources as f64));
        }
        let bids = p.source(source);
        let bids = match self.topology {
            Topology::AuctionCounts => bids,
            // Every 199th price, half a second (event time) into the stream, turns into a
            // bid from 30 s earlier: too late for any session however batches fall, so
            // the late side output gets the same records in every run.
            Topology::BidderSessions => bids.map(move |mut b: Bid| {
                if b.price % 199 == 0 && b.date_time >= start + 500 {
                    b.date_time -= 30_000;
                }
                b
            }),
        };
        bids.with_watermark(Watermark::bounded("1 second", |b: &Bid| b.date_time))
    }

    /// Every committed line of both outputs (results, then late records under
    /// `late/`), each sorted: what a run published, whatever the topology.
    pub fn committed_lines(&self) -> Result<(Vec<String>, Vec<String>)> {
        let read = |dir: &std::path::Path| -> Result<Vec<String>> {
            if !dir.exists() {
                return Ok(Vec::new());
            }
            let mut lines = FileSink::published_lines(dir)?;
            lines.sort();
            Ok(lines)
        };
        Ok((
            read(&self.output_dir)?,
            read(&self.output_dir.join("late"))?,
        ))
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
