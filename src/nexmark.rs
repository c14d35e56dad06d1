//! The Nexmark queries written with the engine's API (Q0-Q2, Q5, Q7, Q8, Q11).
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
