//! Q1, currency conversion.

use super::imports::*;

/// Q1, currency conversion: bid prices from dollars to euros (`price * 908 / 1000`).
pub fn q1(bids: Stream<Bid>) -> Stream<Bid> {
    bids.map(|mut b| {
        b.price = b.price * 908 / 1_000;
        b
    })
}
