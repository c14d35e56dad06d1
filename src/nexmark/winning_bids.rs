//! The winning bid of each closed auction, shared by Q4 and Q6.

use super::imports::*;

/// The highest valid bid of a closed auction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WinningBid {
    /// Auction id.
    pub auction: u64,
    /// Seller.
    pub seller: u64,
    /// Category.
    pub category: u64,
    /// Winning price.
    pub price: u64,
    /// When the auction closed (epoch ms).
    pub expires: i64,
    /// The event time the result carries: the first time at which no bid can change
    /// it (the expiry, or 1 ms after it when a bid at the expiry still counts).
    pub closed_at: i64,
}

/// Per auction: its terms once seen, and the bids so far.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct AuctionBids {
    auction: Option<tidewater_generators::nexmark::Auction>,
    bids: Vec<(i64, u64)>,
}

#[derive(Clone)]
pub(super) struct CloseAuctions {
    pub(super) variant: NexmarkVariant,
}

impl CloseAuctions {
    /// When the auction's result is final: a bid at the expiry counts in the Flink
    /// suite (`BETWEEN`), so the watermark must pass the expiry itself.
    pub(super) fn closes_at(&self, expires: i64) -> i64 {
        match self.variant {
            NexmarkVariant::Flink => expires.saturating_add(1),
            NexmarkVariant::Beam => expires,
        }
    }

    /// Whether the bid at `ts` of `price` may win `a`.
    pub(super) fn valid(
        &self,
        a: &tidewater_generators::nexmark::Auction,
        ts: i64,
        price: u64,
    ) -> bool {
        match self.variant {
            NexmarkVariant::Flink => ts >= a.date_time && ts <= a.expires,
            NexmarkVariant::Beam => ts >= a.date_time && ts < a.expires && price >= a.reserve,
        }
    }
}

impl KeyedProcessFunction<u64, Event> for CloseAuctions {
    type State = AuctionBids;
    type Out = WinningBid;

    fn process(
        &self,
        _id: &u64,
        s: &mut AuctionBids,
        e: Event,
        ctx: &mut KeyedContext<'_, WinningBid>,
    ) {
        match e {
            Event::Auction(a) => {
                ctx.register_timer(self.closes_at(a.expires));
                s.auction = Some(*a);
            }
            // Bids may arrive before their auction (across an exchange): keep them all.
            Event::Bid(b) => s.bids.push((b.date_time, b.price)),
            Event::Person(_) => {}
        }
    }

    fn on_timer(
        &self,
        _id: &u64,
        s: &mut AuctionBids,
        at: i64,
        ctx: &mut KeyedContext<'_, WinningBid>,
    ) {
        if let Some(a) = &s.auction {
            let best = s
                .bids
                .iter()
                .filter(|(ts, price)| self.valid(a, *ts, *price))
                .map(|(_, price)| *price)
                .max();
            if let Some(price) = best {
                ctx.emit_at(
                    at,
                    WinningBid {
                        auction: a.id,
                        seller: a.seller,
                        category: a.category,
                        price,
                        expires: a.expires,
                        closed_at: at,
                    },
                );
            }
        }
        ctx.clear_state();
    }
}

/// The winning bid of every auction with one, emitted when the watermark passes its
/// close (see [`WinningBid::closed_at`]): the highest bid the variant counts (the Flink
/// suite's `B.dateTime BETWEEN A.dateTime AND A.expires`, or Beam's bids before the
/// expiry at or above the reserve).
pub fn winning_bids(events: Stream<Event>, variant: NexmarkVariant) -> Stream<WinningBid> {
    per_auction(events, CloseAuctions { variant })
}

/// Auctions and bids keyed by auction id into `function` (persons left out).
pub(super) fn per_auction<F>(events: Stream<Event>, function: F) -> Stream<F::Out>
where
    F: KeyedProcessFunction<u64, Event>,
{
    events
        .filter(|e| !matches!(e, Event::Person(_)))
        .key_by(|e: &Event| match e {
            Event::Auction(a) => a.id,
            Event::Bid(b) => b.auction,
            Event::Person(p) => p.id,
        })
        .process(function)
}
