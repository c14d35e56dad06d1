//! Q12, processing-time windows: bids per bidder in 10-second windows of the clock.

use super::imports::*;

/// Bids of one bidder in one processing-time window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidderCount {
    /// Bidder.
    pub bidder: u64,
    /// Bids that arrived in the window.
    pub bid_count: u64,
    /// Window start (the pipeline clock, epoch ms).
    pub starttime: i64,
    /// Window end.
    pub endtime: i64,
}

/// Q12: per bidder, the bids that reached the query in each 10-second window of the
/// pipeline's clock (`PROCTIME()`), emitted when the clock passes the window's end,
/// bids or not. Results depend on when bids arrive, as in the suite; a test drives
/// the clock with a `ManualClock`. The same in both variants.
pub fn q12(bids: Stream<Bid>) -> Stream<BidderCount> {
    bids.with_processing_time()
        .key_by(|b: &Bid| b.bidder)
        .window(TumblingWindow::of("10 seconds"))
        .count()
        .map(|r| BidderCount {
            bidder: r.key,
            bid_count: r.value,
            starttime: r.window_start,
            endtime: r.window_end,
        })
}
