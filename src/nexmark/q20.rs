//! Q20, expand bid with auction: every bid joined with its auction, for auctions in
//! category 10.

use super::imports::*;
use tidewater_generators::nexmark::Auction;

/// A bid with its auction's columns (Q20's row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionBid {
    /// Auction id.
    pub auction: u64,
    /// Bidder.
    pub bidder: u64,
    /// Bid price.
    pub price: u64,
    /// The bid's channel.
    pub channel: String,
    /// The bid's URL.
    pub url: String,
    /// The bid's time.
    pub bid_date_time: i64,
    /// The bid's extra.
    pub bid_extra: String,
    /// The auction's item.
    pub item_name: String,
    /// The auction's description.
    pub description: String,
    /// Opening bid.
    pub initial_bid: u64,
    /// Reserve price.
    pub reserve: u64,
    /// When the auction opened.
    pub auction_date_time: i64,
    /// When it closes.
    pub expires: i64,
    /// Seller.
    pub seller: u64,
    /// Category (10).
    pub category: u64,
    /// The auction's extra.
    pub auction_extra: String,
}

impl AuctionBid {
    /// `b` joined with `a`.
    pub fn of(b: &Bid, a: &Auction) -> Self {
        AuctionBid {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            channel: b.channel.to_string(),
            url: b.url.to_string(),
            bid_date_time: b.date_time,
            bid_extra: b.extra.clone(),
            item_name: a.item_name.clone(),
            description: a.description.clone(),
            initial_bid: a.initial_bid,
            reserve: a.reserve,
            auction_date_time: a.date_time,
            expires: a.expires,
            seller: a.seller,
            category: a.category,
            auction_extra: a.extra.clone(),
        }
    }
}

/// Per auction: the auction once seen (category 10 only), and the bids that came
/// before it.
#[derive(Default, Serialize, Deserialize)]
struct AuctionJoin {
    auction: Option<Auction>,
    /// `true` once an auction of another category was seen: its bids join nothing.
    other_category: bool,
    pending: Vec<Bid>,
}

#[derive(Clone)]
struct BidAuctionJoin;

impl KeyedProcessFunction<u64, Event> for BidAuctionJoin {
    type State = AuctionJoin;
    type Out = AuctionBid;

    fn process(
        &self,
        _: &u64,
        s: &mut AuctionJoin,
        e: Event,
        ctx: &mut KeyedContext<'_, AuctionBid>,
    ) {
        match e {
            Event::Auction(a) if a.category == 10 => {
                for b in s.pending.drain(..) {
                    ctx.emit(AuctionBid::of(&b, &a));
                }
                s.auction = Some(*a);
            }
            // An auction id is unique: bids on another category's auction never join,
            // so they are not kept (Flink's join keeps them; the rows are the same).
            Event::Auction(_) => {
                s.other_category = true;
                s.pending.clear();
            }
            Event::Bid(b) => match &s.auction {
                Some(a) => ctx.emit(AuctionBid::of(&b, a)),
                None if !s.other_category => s.pending.push(b),
                None => {}
            },
            Event::Person(_) => {}
        }
    }
}

/// Q20: every bid with the columns of its auction, for auctions in category 10 (an
/// incremental inner join on auction id, in either arrival order). The same in both
/// variants (Beam has no Q20).
pub fn q20(events: Stream<Event>) -> Stream<AuctionBid> {
    events
        .filter(|e| matches!(e, Event::Auction(_) | Event::Bid(_)))
        .key_by(|e: &Event| match e {
            Event::Auction(a) => a.id,
            Event::Bid(b) => b.auction,
            Event::Person(p) => p.id,
        })
        .process(BidAuctionJoin)
}
