//! Q6, average selling price per seller over their last sales.

use super::closed_average::{ClosedAverage, Span};
use super::imports::*;
use super::winning_bids::{winning_bids, WinningBid};

/// Q6, average selling price by seller: `(seller, average)` of the winning prices of
/// the seller's latest closed auctions, one row as each closes, in (close time,
/// auction id) order. The Flink suite averages the current and the 10 preceding sales
/// (`ROWS BETWEEN 10 PRECEDING AND CURRENT ROW`: 11), Beam the last 10. (The SQL orders
/// by the winning bid's time; a stream can only know a winner once its auction closes,
/// so sales are ordered by close time here, as Beam's does.)
pub fn q6(events: Stream<Event>, variant: NexmarkVariant) -> Stream<(u64, f64)> {
    let span = match variant {
        NexmarkVariant::Flink => Span::Last(11),
        NexmarkVariant::Beam => Span::Last(10),
    };
    winning_bids(events, variant)
        .key_by(|w: &WinningBid| w.seller)
        .process(ClosedAverage { span })
}
