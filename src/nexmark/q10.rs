//! Q10, log to file system: every bid written to CSV files partitioned by day and
//! minute.

use std::path::PathBuf;

use super::bid_statistics::day;
use super::imports::*;
use tidewater_connectors::file::{FileSink, FileSinkMode};

/// A Q10 row: the bid's columns and its partition columns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartitionedBid {
    /// Auction id.
    pub auction: u64,
    /// Bidder.
    pub bidder: u64,
    /// Price.
    pub price: u64,
    /// Event time (epoch ms).
    pub date_time: i64,
    /// Extra.
    pub extra: String,
    /// `DATE_FORMAT(dateTime, 'yyyy-MM-dd')` (UTC): the first partition column.
    pub dt: String,
    /// `DATE_FORMAT(dateTime, 'HH:mm')` (UTC): the second.
    pub hm: String,
}

/// Q10's rows: each bid with its `dt` and `hm` partition columns. Write them with
/// [`q10_sink`]. The same in both variants (Beam's Q10 also logs bids to files).
pub fn q10(bids: Stream<Bid>) -> Stream<PartitionedBid> {
    bids.map(|b| {
        let minute = b.date_time.rem_euclid(86_400_000) / 60_000;
        PartitionedBid {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            dt: day(b.date_time),
            hm: format!("{:02}:{:02}", minute / 60, minute % 60),
            date_time: b.date_time,
            extra: b.extra,
        }
    })
}

/// The suite's file system sink for Q10: CSV part files under `dir` in Hive folders
/// `dt=.../hm=.../` (the partition columns are the folders, not in the files), rolled
/// over every minute. `Transactional` publishes files with the checkpoint that covers
/// them (the suite's commit on checkpoint); `Direct` as they are written.
pub fn q10_sink(dir: impl Into<PathBuf>, mode: FileSinkMode) -> FileSink {
    FileSink::csv(dir, mode)
        .partition_by(["dt", "hm"])
        .rollover_interval(std::time::Duration::from_secs(60))
}
