//! Q9, winning bids: every closed auction with its whole winning bid.

use tidewater_generators::nexmark::Auction;

use super::imports::*;
use super::winning_bids::{per_auction, CloseAuctions};

/// A closed auction and the bid that won it (the Flink suite's Q9 row: `A.*` with the
/// bid's auction, bidder, price, time and extra; here the whole bid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionWinner {
    /// The auction.
    pub auction: Auction,
    /// Its winning bid.
    pub bid: Bid,
}

/// Per auction: its terms once seen, the bids that came before them, then only the best.
#[derive(Default, Serialize, Deserialize)]
struct Candidates {
    auction: Option<Auction>,
    bids: Vec<Bid>,
}

/// Highest price first, then the earliest (the suite's `ORDER BY B.price DESC,
/// B.dateTime ASC`), then the lowest bidder so ties have one answer.
fn better(a: &Bid, b: &Bid) -> bool {
    (
        a.price,
        std::cmp::Reverse(a.date_time),
        std::cmp::Reverse(a.bidder),
    ) > (
        b.price,
        std::cmp::Reverse(b.date_time),
        std::cmp::Reverse(b.bidder),
    )
}

#[derive(Clone)]
struct TopBid {
    rules: CloseAuctions,
}

impl TopBid {
    /// Keeps only the best counted bid once the auction is known.
    fn keep_best(&self, c: &mut Candidates) {
        let Some(a) = &c.auction else { return };
        let best = std::mem::take(&mut c.bids)
            .into_iter()
            .filter(|b| self.rules.valid(a, b.date_time, b.price))
            .reduce(|x, y| if better(&y, &x) { y } else { x });
        c.bids.extend(best);
    }
}

impl KeyedProcessFunction<u64, Event> for TopBid {
    type State = Candidates;
    type Out = AuctionWinner;

    fn process(
        &self,
        _id: &u64,
        c: &mut Candidates,
        e: Event,
        ctx: &mut KeyedContext<'_, AuctionWinner>,
    ) {
        match e {
            Event::Auction(a) => {
                ctx.register_timer(self.rules.closes_at(a.expires));
                c.auction = Some(*a);
            }
            // Bids may arrive before their auction (across an exchange).
            Event::Bid(b) => c.bids.push(b),
            Event::Person(_) => return,
        }
        self.keep_best(c);
    }

    fn on_timer(
        &self,
        _id: &u64,
        c: &mut Candidates,
        at: i64,
        ctx: &mut KeyedContext<'_, AuctionWinner>,
    ) {
        self.keep_best(c);
        if let (Some(auction), Some(bid)) = (c.auction.take(), c.bids.pop()) {
            ctx.emit_at(at, AuctionWinner { auction, bid });
        }
        ctx.clear_state();
    }
}

/// Q9, winning bids: each auction that got a bid the variant counts, with that bid,
/// emitted when the watermark passes the auction's close (the final row of the Flink
/// suite's top-1 per auction: highest price, then earliest; Beam's winner rule with
/// [`NexmarkVariant::Beam`]).
pub fn q9(events: Stream<Event>, variant: NexmarkVariant) -> Stream<AuctionWinner> {
    let rules = CloseAuctions { variant };
    per_auction(events, TopBid { rules })
}
