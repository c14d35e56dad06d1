//! Q17, auction statistics report: per auction and day, bids by tier and prices.

use super::bid_statistics::{day, BidStatistics};
use super::imports::*;

/// One auction's day of Q17.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionStatistics {
    /// Auction id.
    pub auction: u64,
    /// `yyyy-MM-dd` (UTC).
    pub day: String,
    /// Bids.
    pub total_bids: u64,
    /// Bids under 10 000.
    pub rank1_bids: u64,
    /// Bids from 10 000 to under 1 000 000.
    pub rank2_bids: u64,
    /// Bids from 1 000 000.
    pub rank3_bids: u64,
    /// Lowest price.
    pub min_price: u64,
    /// Highest price.
    pub max_price: u64,
    /// `avg(price)` of a BIGINT column, which Flink SQL truncates to a BIGINT.
    pub avg_price: u64,
    /// Sum of prices.
    pub sum_price: u64,
}

/// Q17: per auction and UTC day, the bids by price tier and the lowest, highest,
/// average (truncated, as Flink's BIGINT average) and summed price; emitted once per
/// auction and day when the watermark passes the day.
pub fn q17(bids: Stream<Bid>) -> Stream<AuctionStatistics> {
    bids.key_by(|b: &Bid| b.auction)
        .window(TumblingWindow::of("1 day"))
        .aggregate(BidStatistics { distinct: false })
        .map(|r| {
            let c = &r.value;
            AuctionStatistics {
                auction: r.key,
                day: day(r.window_start),
                total_bids: c.bids[3],
                rank1_bids: c.bids[0],
                rank2_bids: c.bids[1],
                rank3_bids: c.bids[2],
                min_price: c.min_price.unwrap_or(0),
                max_price: c.max_price.unwrap_or(0),
                avg_price: c.sum_price / c.bids[3].max(1),
                sum_price: c.sum_price,
            }
        })
}
