//! Q22, string splitting: the first three directories of each bid's URL.

use std::borrow::Cow;

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
    pub dir1: Option<Cow<'static, str>>,
    /// Part 4.
    pub dir2: Option<Cow<'static, str>>,
    /// Part 5.
    pub dir3: Option<Cow<'static, str>>,
}

/// Q22: every bid with `SPLIT_INDEX(url, '/', 3)`, `4` and `5` (Flink's `SPLIT_INDEX`:
/// the part at that index, null when there is none). The same in both variants.
pub fn q22(bids: Stream<Bid>) -> Stream<BidDirectories> {
    bids.map(|b| {
        // The generator's URLs are shared text: their parts are borrowed, not copied.
        let part = |i: usize| match &b.url {
            Cow::Borrowed(url) => url.split('/').nth(i).map(Cow::Borrowed),
            Cow::Owned(url) => url.split('/').nth(i).map(|p| Cow::Owned(p.to_string())),
        };
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
