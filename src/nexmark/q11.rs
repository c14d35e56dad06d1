//! Q11, user sessions: bids per bidder session.

use super::imports::*;

/// Q11, user sessions: bids per bidder session (`key` the bidder, `value` the bids,
/// `[window_start, window_end)` = `[first bid, last bid + 10 s)`). A session ends after
/// 10 s without bids; bids exactly 10 s apart stay in one session in the Flink suite
/// (its windows intersect at their bounds), not in Beam's.
pub fn q11(bids: Stream<Bid>, variant: NexmarkVariant) -> Stream<WindowResult<u64, u64>> {
    let sessions =
        SessionWindow::with_gap("10 seconds").merge_touching(variant == NexmarkVariant::Flink);
    bids.key_by(|b: &Bid| b.bidder)
        .window(sessions)
        .aggregate(Count)
}
