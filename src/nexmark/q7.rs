//! Q7, highest bid per tumbling window.

use super::imports::*;

/// Q7, highest bid: per 10 s tumbling window, the bid with the highest price (ties go
/// to the smaller auction id, then the smaller bidder id).
pub fn q7(bids: Stream<Bid>) -> Stream<WindowResult<(), Bid>> {
    bids.key_by(|_: &Bid| ())
        .window(TumblingWindow::of("10 seconds"))
        .reduce(|a, b| if rank(&b) > rank(&a) { b } else { a })
}

fn rank(b: &Bid) -> (u64, std::cmp::Reverse<u64>, std::cmp::Reverse<u64>) {
    (
        b.price,
        std::cmp::Reverse(b.auction),
        std::cmp::Reverse(b.bidder),
    )
}
