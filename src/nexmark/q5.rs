//! Q5, hot items: the auctions with the most bids per sliding window.

use super::imports::*;

/// One row of Q5: the auctions with the most bids in a window.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HotItem {
    /// Window start (epoch ms).
    pub window_start: i64,
    /// Window end (epoch ms).
    pub window_end: i64,
    /// Auction id.
    pub auction: u64,
    /// Bids on it in the window.
    pub bids: u64,
}

/// Q5, hot items: per 10 s window sliding every 2 s (Beam: every 5 s), the auctions
/// with the most bids (all of them on a tie).
pub fn q5(bids: Stream<Bid>, variant: NexmarkVariant) -> Stream<HotItem> {
    let slide = match variant {
        NexmarkVariant::Flink => std::time::Duration::from_secs(2),
        NexmarkVariant::Beam => std::time::Duration::from_secs(5),
    };
    bids.key_by(|b: &Bid| b.auction)
        .window(SlidingWindow::of(std::time::Duration::from_secs(10), slide))
        .aggregate(Count)
        // Each count carries event time window_end - 1: a tumbling window of the slide
        // gathers exactly the counts of one sliding window.
        .key_by(|r: &WindowResult<u64, u64>| r.window_end)
        .window(TumblingWindow::of(slide))
        .process(
            |_end: &i64, _w: Window, counts: Vec<WindowResult<u64, u64>>| {
                let max = counts.iter().map(|c| c.value).max().unwrap_or(0);
                let mut hot: Vec<HotItem> = counts
                    .into_iter()
                    .filter(|c| c.value == max)
                    .map(|c| HotItem {
                        window_start: c.window_start,
                        window_end: c.window_end,
                        auction: c.key,
                        bids: c.value,
                    })
                    .collect();
                hot.sort();
                hot
            },
        )
}
