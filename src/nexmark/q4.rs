//! Q4, average price per category of closed auctions.

use super::closed_average::{ClosedAverage, Span};
use super::imports::*;
use super::winning_bids::{winning_bids, WinningBid};

/// Q4, average price per category: `(category, average)` of the winning prices of the
/// category's closed auctions, one row as each closes, in (close time, auction id)
/// order. The last row of a category is the Flink suite's SQL result
/// (`AVG(final) ... GROUP BY category` over each auction's `MAX(price)`), as a double;
/// the winner rule is the variant's (see the [module](super)).
pub fn q4(events: Stream<Event>, variant: NexmarkVariant) -> Stream<(u64, f64)> {
    winning_bids(events, variant)
        .key_by(|w: &WinningBid| w.category)
        .process(ClosedAverage { span: Span::All })
}
