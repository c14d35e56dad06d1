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
}

/// Per auction: its terms once seen, and the bids so far.
#[derive(Default, Serialize, Deserialize)]
struct AuctionBids {
    auction: Option<tidewater_generators::nexmark::Auction>,
    bids: Vec<(i64, u64)>,
}

#[derive(Clone)]
struct CloseAuctions;

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
                ctx.register_timer(a.expires);
                s.auction = Some(a);
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
        _at: i64,
        ctx: &mut KeyedContext<'_, WinningBid>,
    ) {
        if let Some(a) = &s.auction {
            let best = s
                .bids
                .iter()
                .filter(|(ts, price)| *ts >= a.date_time && *ts < a.expires && *price >= a.reserve)
                .map(|(_, price)| *price)
                .max();
            if let Some(price) = best {
                ctx.emit_at(
                    a.expires,
                    WinningBid {
                        auction: a.id,
                        seller: a.seller,
                        category: a.category,
                        price,
                        expires: a.expires,
                    },
                );
            }
        }
        ctx.clear_state();
    }
}

/// The winning bid of every auction, emitted when the watermark passes its expiry: the
/// highest bid at or above the reserve placed while the auction was open.
pub fn winning_bids(events: Stream<Event>) -> Stream<WinningBid> {
    events
        .filter(|e| !matches!(e, Event::Person(_)))
        .key_by(|e: &Event| match e {
            Event::Auction(a) => a.id,
            Event::Bid(b) => b.auction,
            Event::Person(p) => p.id,
        })
        .process(CloseAuctions)
}
