//! Q22, string splitting: the first three directories of each bid's URL.

use super::imports::*;

/// A Q22 row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidDirectories {
    /// Auction id.
    pub auction: u64,
    /// Bidder.
    pub bidder: u64,
    /// Price.
    pub price: u64,
    /// Channel.
    pub channel: String,
    /// The URL's part 3 when split at `/` (counting from 0; null past the end).
    pub dir1: Option<String>,
    /// Part 4.
    pub dir2: Option<String>,
    /// Part 5.
    pub dir3: Option<String>,
}

/// Q22: every bid with `SPLIT_INDEX(url, '/', 3)`, `4` and `5` (Flink's `SPLIT_INDEX`:
/// the part at that index, null when there is none). The same in both variants.
pub fn q22(bids: Stream<Bid>) -> Stream<BidDirectories> {
    bids.map(|b| {
        let part = |i: usize| b.url.split('/').nth(i).map(str::to_string);
        BidDirectories {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            dir1: part(3),
            dir2: part(4),
            dir3: part(5),
            channel: b.channel.to_string(),
        }
    })
}
