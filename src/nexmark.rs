//! The Nexmark queries written with the engine's API: Q0-Q8 and Q11.
//!
//! Each function takes the stream it reads and returns the query's result stream, so a
//! program or a test wires source and sink around it. Windows follow the Nexmark
//! definitions: Q5 counts bids per auction over 10 s windows every 2 s, Q7 and Q8 use
//! 10 s tumbling windows, Q11 sessions of a bidder with a 10 s gap.
//!
//! ```
//! use tidewater::nexmark::{bids, q2, with_event_time};
//! use tidewater::prelude::*;
//! use tidewater::generators::core::GeneratorSource;
//! use tidewater::generators::nexmark::{NexmarkConfig, NexmarkGenerator};
//!
//! let out = MemorySink::new();
//! let mut p = Pipeline::new(Config::default());
//! let events = p.source(GeneratorSource::new(NexmarkGenerator::new(NexmarkConfig::default(), 1)).with_max_events(10_000));
//! q2(bids(with_event_time(events))).sink(out.clone());
//! p.run().unwrap();
//! assert!(out.values().iter().all(|(auction, _)| auction % 123 == 0));
//! ```

use serde::{Deserialize, Serialize};
use tidewater_engine::prelude::*;
use tidewater_generators::nexmark::{Bid, Event};

/// Event time from each event's `date_time`, with a 1 s out-of-orderness bound.
pub fn with_event_time(events: Stream<Event>) -> Stream<Event> {
    events.with_watermark(Watermark::bounded("1 second", |e: &Event| e.date_time()))
}

/// The bids of an event stream.
pub fn bids(events: Stream<Event>) -> Stream<Bid> {
    events.flat_map(|e| match e {
        Event::Bid(b) => Some(b),
        _ => None,
    })
}

/// Q0, pass-through: every event unchanged (measures the engine's own overhead).
pub fn q0(events: Stream<Event>) -> Stream<Event> {
    events.map(|e| e)
}

/// Q1, currency conversion: bid prices from dollars to euros (`price * 908 / 1000`).
pub fn q1(bids: Stream<Bid>) -> Stream<Bid> {
    bids.map(|mut b| {
        b.price = b.price * 908 / 1_000;
        b
    })
}

/// Q2, selection: (auction, price) of the bids on every 123rd auction.
pub fn q2(bids: Stream<Bid>) -> Stream<(u64, u64)> {
    bids.filter(|b| b.auction % 123 == 0)
        .map(|b| (b.auction, b.price))
}

/// One row of Q5: the auctions with the most bids in a window.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HotItem {
    /// Window start (epoch ms).
    pub window_start: i64,
    /// Window end (epoch ms).
    pub window_end: i64,
    /// Auction id.
    pub auction: u64,
    /// Bids on it in the window.
    pub bids: u64,
}

/// Q5, hot items: per 10 s window sliding every 2 s, the auctions with the most bids
/// (all of them on a tie).
pub fn q5(bids: Stream<Bid>) -> Stream<HotItem> {
    bids.key_by(|b: &Bid| b.auction)
        .window(SlidingWindow::of("10 seconds", "2 seconds"))
        .aggregate(Count)
        // Each count carries event time window_end - 1: a 2 s tumbling window gathers
        // exactly the counts of one sliding window.
        .key_by(|r: &WindowResult<u64, u64>| r.window_end)
        .window(TumblingWindow::of("2 seconds"))
        .process(
            |_end: &i64, _w: Window, counts: Vec<WindowResult<u64, u64>>| {
                let max = counts.iter().map(|c| c.value).max().unwrap_or(0);
                let mut hot: Vec<HotItem> = counts
                    .into_iter()
                    .filter(|c| c.value == max)
                    .map(|c| HotItem {
                        window_start: c.window_start,
                        window_end: c.window_end,
                        auction: c.key,
                        bids: c.value,
                    })
                    .collect();
                hot.sort();
                hot
            },
        )
}

/// Q7, highest bid: per 10 s tumbling window, the bid with the highest price (ties go
/// to the smaller auction id, then the smaller bidder id).
pub fn q7(bids: Stream<Bid>) -> Stream<WindowResult<(), Bid>> {
    bids.key_by(|_: &Bid| ())
        .window(TumblingWindow::of("10 seconds"))
        .reduce(|a, b| if rank(&b) > rank(&a) { b } else { a })
}

fn rank(b: &Bid) -> (u64, std::cmp::Reverse<u64>, std::cmp::Reverse<u64>) {
    (
        b.price,
        std::cmp::Reverse(b.auction),
        std::cmp::Reverse(b.bidder),
    )
}

/// One row of Q8: a person who created an auction in the window they registered in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NewSeller {
    /// Person id.
    pub person: u64,
    /// Person name.
    pub name: String,
    /// Window start (epoch ms).
    pub window_start: i64,
}

/// Q8, monitor new users: persons who registered and opened an auction in the same 10 s
/// tumbling window.
pub fn q8(events: Stream<Event>) -> Stream<NewSeller> {
    events
        .filter(|e| !matches!(e, Event::Bid(_)))
        .key_by(|e: &Event| match e {
            Event::Person(p) => p.id,
            Event::Auction(a) => a.seller,
            Event::Bid(b) => b.bidder,
        })
        .window(TumblingWindow::of("10 seconds"))
        .process(|id: &u64, w: Window, events: Vec<Event>| {
            let person = events.iter().find_map(|e| match e {
                Event::Person(p) => Some(p.name.clone()),
                _ => None,
            });
            let sold = events.iter().any(|e| matches!(e, Event::Auction(_)));
            match (person, sold) {
                (Some(name), true) => Some(NewSeller {
                    person: *id,
                    name,
                    window_start: w.start,
                }),
                _ => None,
            }
        })
}

/// Q11, user sessions: bids per bidder session, sessions closed by 10 s without bids.
pub fn q11(bids: Stream<Bid>) -> Stream<WindowResult<u64, u64>> {
    bids.key_by(|b: &Bid| b.bidder)
        .window(SessionWindow::with_gap("10 seconds"))
        .aggregate(Count)
}

/// One row of Q3: a person from OR, ID or CA selling in category 10.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LocalItem {
    /// Seller's name.
    pub name: String,
    /// Seller's city.
    pub city: String,
    /// Seller's state.
    pub state: String,
    /// The auction.
    pub auction: u64,
}

/// Per seller: the person once seen, and auctions that arrived before them.
#[derive(Default, Serialize, Deserialize)]
struct SellerJoin {
    person: Option<(String, String, String)>,
    pending: Vec<u64>,
}

#[derive(Clone)]
struct LocalItemJoin;

impl KeyedProcessFunction<u64, Event> for LocalItemJoin {
    type State = SellerJoin;
    type Out = LocalItem;

    fn process(
        &self,
        _seller: &u64,
        s: &mut SellerJoin,
        e: Event,
        ctx: &mut KeyedContext<'_, LocalItem>,
    ) {
        match e {
            Event::Person(p) => {
                let person = (p.name, p.city.into_owned(), p.state.into_owned());
                for auction in s.pending.drain(..) {
                    let (name, city, state) = person.clone();
                    ctx.emit(LocalItem {
                        name,
                        city,
                        state,
                        auction,
                    });
                }
                s.person = Some(person);
            }
            Event::Auction(a) => match &s.person {
                Some((name, city, state)) => ctx.emit(LocalItem {
                    name: name.clone(),
                    city: city.clone(),
                    state: state.clone(),
                    auction: a.id,
                }),
                None => s.pending.push(a.id),
            },
            Event::Bid(_) => {}
        }
    }
}

/// Q3, local item suggestion: sellers from Oregon, Idaho or California and their
/// auctions in category 10 (an incremental join on seller id, in either arrival order).
pub fn q3(events: Stream<Event>) -> Stream<LocalItem> {
    events
        .filter(|e| match e {
            Event::Person(p) => matches!(p.state.as_ref(), "OR" | "ID" | "CA"),
            Event::Auction(a) => a.category == 10,
            Event::Bid(_) => false,
        })
        .key_by(|e: &Event| match e {
            Event::Person(p) => p.id,
            Event::Auction(a) => a.seller,
            Event::Bid(b) => b.bidder,
        })
        .process(LocalItemJoin)
}

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

/// Running (sum, count) per key, emitting the average after each value.
#[derive(Clone)]
struct RunningAverage;

impl KeyedProcessFunction<u64, (u64, u64)> for RunningAverage {
    type State = (u64, u64);
    type Out = (u64, f64);

    fn process(
        &self,
        key: &u64,
        s: &mut (u64, u64),
        v: (u64, u64),
        ctx: &mut KeyedContext<'_, (u64, f64)>,
    ) {
        s.0 += v.1;
        s.1 += 1;
        ctx.emit((*key, s.0 as f64 / s.1 as f64));
    }
}

/// Q4, average price per category: the running average of winning bids per category,
/// updated as each auction closes (`(category, average)`).
pub fn q4(events: Stream<Event>) -> Stream<(u64, f64)> {
    winning_bids(events)
        .map(|w| (w.category, w.price))
        .key_by(|v: &(u64, u64)| v.0)
        .process(RunningAverage)
}

/// A seller's last ten winning prices, applied in close-time order.
#[derive(Default, Serialize, Deserialize)]
struct SellerPrices {
    /// Closed auctions not yet applied, by (close time, auction id).
    pending: std::collections::BTreeMap<(i64, u64), u64>,
    last: std::collections::VecDeque<u64>,
}

#[derive(Clone)]
struct LastTenAverage;

impl KeyedProcessFunction<u64, WinningBid> for LastTenAverage {
    type State = SellerPrices;
    type Out = (u64, f64);

    fn process(
        &self,
        _seller: &u64,
        s: &mut SellerPrices,
        w: WinningBid,
        ctx: &mut KeyedContext<'_, (u64, f64)>,
    ) {
        // Across an exchange, closings of one seller arrive in any order: apply them in
        // close-time order once the watermark has passed them.
        s.pending.insert((w.expires, w.auction), w.price);
        ctx.register_timer(w.expires);
    }

    fn on_timer(
        &self,
        seller: &u64,
        s: &mut SellerPrices,
        at: i64,
        ctx: &mut KeyedContext<'_, (u64, f64)>,
    ) {
        while let Some(entry) = s.pending.first_entry() {
            if entry.key().0 > at {
                break;
            }
            s.last.push_back(entry.remove());
            if s.last.len() > 10 {
                s.last.pop_front();
            }
            ctx.emit((
                *seller,
                s.last.iter().sum::<u64>() as f64 / s.last.len() as f64,
            ));
        }
    }
}

/// Q6, average selling price by seller: per seller, the average of the winning prices
/// of their last ten closed auctions (in close-time order), updated as each closes
/// (`(seller, average)`).
pub fn q6(events: Stream<Event>) -> Stream<(u64, f64)> {
    winning_bids(events)
        .key_by(|w: &WinningBid| w.seller)
        .process(LastTenAverage)
}
