//! Q19, auction top-10 price: each auction's ten highest bids, ranked, kept up to date.

use super::changelog::{Change, ChangeOp};
use super::imports::*;
use super::q18::BidRow;

/// A bid with its rank among its auction's highest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RankedBid {
    /// The bid.
    #[serde(flatten)]
    pub bid: BidRow,
    /// 1 for the highest price.
    pub rank_number: u32,
}

/// How many bids per auction Q19 keeps.
pub const TOP: usize = 10;

/// Ranking order: higher price first; among equal prices the earlier, then the
/// smaller row, so that ranks do not depend on arrival order.
fn ranks_before(a: &BidRow, b: &BidRow) -> std::cmp::Ordering {
    b.price
        .cmp(&a.price)
        .then(a.date_time.cmp(&b.date_time))
        .then(a.cmp(b))
}

#[derive(Clone)]
struct TopBids;

impl KeyedProcessFunction<u64, Bid> for TopBids {
    type State = Vec<BidRow>;
    type Out = Change<RankedBid>;

    fn process(
        &self,
        _: &u64,
        top: &mut Vec<BidRow>,
        b: Bid,
        ctx: &mut KeyedContext<'_, Change<RankedBid>>,
    ) {
        let row = BidRow::from(b);
        let at = top.partition_point(|t| ranks_before(t, &row).is_lt());
        if at >= TOP {
            return;
        }
        let before = top.clone();
        top.insert(at, row);
        top.truncate(TOP);
        // Every position whose bid changed: the old one taken back, the new one added
        // at that rank (a bid pushed down is re-sent with its new rank).
        for (i, new) in top.iter().enumerate().skip(at) {
            let rank_number = i as u32 + 1;
            let ranked = |bid: &BidRow| RankedBid {
                bid: bid.clone(),
                rank_number,
            };
            match before.get(i) {
                Some(old) => {
                    ctx.emit(Change {
                        op: ChangeOp::UpdateBefore,
                        row: ranked(old),
                    });
                    ctx.emit(Change {
                        op: ChangeOp::UpdateAfter,
                        row: ranked(new),
                    });
                }
                None => ctx.emit(Change::insert(ranked(new))),
            }
        }
    }
}

/// Q19: per auction, the ten highest-priced bids with their rank, as a changelog: the
/// suite's `ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) <= 10`. Ties
/// rank the earlier bid first. [`materialize`](super::materialize) gives the current
/// table. The same in both variants (Beam has no Q19).
pub fn q19(bids: Stream<Bid>) -> Stream<Change<RankedBid>> {
    bids.key_by(|b: &Bid| b.auction).process(TopBids)
}
