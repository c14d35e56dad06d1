//! Q11, user sessions: bids per bidder session.

use super::imports::*;

/// Q11, user sessions: bids per bidder session, sessions closed by 10 s without bids.
pub fn q11(bids: Stream<Bid>) -> Stream<WindowResult<u64, u64>> {
    bids.key_by(|b: &Bid| b.bidder)
        .window(SessionWindow::with_gap("10 seconds"))
        .aggregate(Count)
}
