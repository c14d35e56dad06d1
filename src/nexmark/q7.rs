//! Q7, highest bid per tumbling window.

use super::imports::*;

const SIZE: i64 = 10_000;

/// One window's bids at its highest price so far, and (Flink suite) the bids exactly
/// at its end, which the SQL's `BETWEEN end - 10 s AND end` also joins.
#[derive(Default, Serialize, Deserialize)]
struct Highest {
    price: u64,
    bids: Vec<Bid>,
    at_end: Vec<Bid>,
}

#[derive(Clone)]
struct HighestBids;

impl KeyedProcessFunction<i64, (i64, bool, Bid)> for HighestBids {
    type State = Highest;
    type Out = Bid;

    fn process(
        &self,
        end: &i64,
        s: &mut Highest,
        (_, at_end, bid): (i64, bool, Bid),
        ctx: &mut KeyedContext<'_, Bid>,
    ) {
        // The window's first bid sets its timer: after the end itself, since a bid at
        // the end may still arrive while the watermark is at it.
        if s.bids.is_empty() && s.at_end.is_empty() {
            ctx.register_timer(*end + 1);
        }
        if at_end {
            s.at_end.push(bid);
        } else if s.bids.is_empty() || bid.price > s.price {
            s.price = bid.price;
            s.bids = vec![bid];
        } else if bid.price == s.price {
            s.bids.push(bid);
        }
    }

    fn on_timer(&self, end: &i64, s: &mut Highest, _at: i64, ctx: &mut KeyedContext<'_, Bid>) {
        let price = s.price;
        let mut out: Vec<Bid> = std::mem::take(&mut s.bids);
        out.extend(s.at_end.drain(..).filter(|b| b.price == price));
        // The same rows in the same order on every run.
        out.sort_by(|a, b| {
            (a.date_time, a.auction, a.bidder).cmp(&(b.date_time, b.auction, b.bidder))
        });
        for b in out {
            ctx.emit_at(*end - 1, b);
        }
        ctx.clear_state();
    }
}

/// Q7, highest bid: per 10 s tumbling window, every bid at the window's highest price.
/// The Flink suite joins the bids with `dateTime BETWEEN window_end - 10 s AND
/// window_end`, so a bid exactly at a window's end also counts for the window it closes
/// (when its price equals that window's highest); Beam takes the window's own bids.
/// Rows are bids, ordered within a window by (time, auction, bidder).
pub fn q7(bids: Stream<Bid>, variant: NexmarkVariant) -> Stream<Bid> {
    let boundary = variant == NexmarkVariant::Flink;
    bids.flat_map(move |b: Bid| {
        let end = b.date_time - b.date_time.rem_euclid(SIZE) + SIZE;
        let closing =
            (boundary && b.date_time.rem_euclid(SIZE) == 0).then(|| (b.date_time, true, b.clone()));
        std::iter::once((end, false, b)).chain(closing)
    })
    .key_by(|(end, _, _): &(i64, bool, Bid)| *end)
    .process(HighestBids)
}
