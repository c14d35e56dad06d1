//! Q15, bidding statistics report: per day, bids, bidders and auctions by price tier.

use super::bid_statistics::{day, BidStatistics, TierCounts};
use super::imports::*;

/// One day of Q15.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyBidStatistics {
    /// `yyyy-MM-dd` (UTC).
    pub day: String,
    /// The counts.
    #[serde(flatten)]
    pub counts: TierCounts,
}

/// Q15: per UTC day, the bids by price tier (under 10 000, under 1 000 000, above)
/// and the distinct bidders and auctions of each tier. The suite groups by the day
/// string without a window and updates its rows; here a day's row is emitted once,
/// final, when the watermark passes the day (a tumbling one-day window).
pub fn q15(bids: Stream<Bid>) -> Stream<DailyBidStatistics> {
    bids.key_by(|_: &Bid| 0u8)
        .window(TumblingWindow::of("1 day"))
        .aggregate(BidStatistics { distinct: true })
        .map(|r| DailyBidStatistics {
            day: day(r.window_start),
            counts: TierCounts::of(&r.value),
        })
}
