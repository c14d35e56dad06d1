//! Q2, selection.

use super::imports::*;

/// Q2, selection: (auction, price) of the bids on every 123rd auction.
/// The same in the Flink suite (`MOD(auction, 123) = 0`) and Beam.
pub fn q2(bids: Stream<Bid>) -> Stream<(u64, u64)> {
    bids.filter(|b| b.auction % 123 == 0)
        .map(|b| (b.auction, b.price))
}
