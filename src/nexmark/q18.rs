//! Q18, find last bid: each bidder's latest bid on each auction, kept up to date.

use super::changelog::{Change, ChangeOp};
use super::imports::*;

/// A bid as Q18 and Q19 return it (its strings owned, ordered for comparisons).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BidRow {
    /// Auction id.
    pub auction: u64,
    /// Bidder.
    pub bidder: u64,
    /// Price.
    pub price: u64,
    /// Channel.
    pub channel: String,
    /// URL.
    pub url: String,
    /// Event time.
    pub date_time: i64,
    /// Extra.
    pub extra: String,
}

impl From<Bid> for BidRow {
    fn from(b: Bid) -> Self {
        BidRow {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            channel: b.channel.into_owned(),
            url: b.url.into_owned(),
            date_time: b.date_time,
            extra: b.extra,
        }
    }
}

/// Whether `new` replaces `old` as the last bid: a later `dateTime` (Flink's
/// `ROW_NUMBER() ... ORDER BY dateTime DESC`); between bids of the same time, the
/// greater row, so that the result does not depend on arrival order.
fn later(new: &BidRow, old: &BidRow) -> bool {
    (new.date_time, new) > (old.date_time, old)
}

#[derive(Clone)]
struct LastBid;

impl KeyedProcessFunction<(u64, u64), Bid> for LastBid {
    type State = Option<BidRow>;
    type Out = Change<BidRow>;

    fn process(
        &self,
        _: &(u64, u64),
        last: &mut Option<BidRow>,
        b: Bid,
        ctx: &mut KeyedContext<'_, Change<BidRow>>,
    ) {
        let row = BidRow::from(b);
        match last.take() {
            None => {
                ctx.emit(Change::insert(row.clone()));
                *last = Some(row);
            }
            Some(old) if later(&row, &old) => {
                ctx.emit(Change {
                    op: ChangeOp::UpdateBefore,
                    row: old,
                });
                ctx.emit(Change {
                    op: ChangeOp::UpdateAfter,
                    row: row.clone(),
                });
                *last = Some(row);
            }
            Some(old) => *last = Some(old),
        }
    }
}

/// Q18: per bidder and auction, the bid with the latest `dateTime`, as a changelog
/// (`+I` the first bid, `-U`/`+U` when a later one replaces it): the suite's
/// `ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY dateTime DESC) <= 1`.
/// [`materialize`](super::materialize) gives the current table. The same in both
/// variants (Beam has no Q18).
pub fn q18(bids: Stream<Bid>) -> Stream<Change<BidRow>> {
    bids.key_by(|b: &Bid| (b.bidder, b.auction))
        .process(LastBid)
}
