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

mod q0;
mod q1;
mod q11;
mod q2;
mod q3;
mod q4;
mod q5;
mod q6;
mod q7;
mod q8;
mod winning_bids;

pub use q0::q0;
pub use q1::q1;
pub use q11::q11;
pub use q2::q2;
pub use q3::{q3, LocalItem};
pub use q4::q4;
pub use q5::{q5, HotItem};
pub use q6::q6;
pub use q7::q7;
pub use q8::{q8, NewSeller};
pub use winning_bids::{winning_bids, WinningBid};

use tidewater_engine::prelude::*;
use tidewater_generators::nexmark::{Bid, Event};

/// What every query file uses.
mod imports {
    pub(super) use serde::{Deserialize, Serialize};
    pub(super) use tidewater_engine::prelude::*;
    pub(super) use tidewater_generators::nexmark::{Bid, Event};
}

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
