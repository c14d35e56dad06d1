//! The Nexmark queries written with the engine's API: Q0-Q22.
//!
//! Each function takes the stream it reads and returns the query's result stream, so a
//! program or a test wires source and sink around it. The definitions follow the Flink
//! Nexmark suite (the `nexmark/nexmark` SQL that the published Flink, RisingWave and
//! Feldera figures run) unless [`NexmarkVariant::Beam`] asks for Beam's Nexmark where the
//! two differ:
//!
//! | query | Flink suite (default) | Beam |
//! |---|---|---|
//! | Q0 | the bids | every event |
//! | Q1 | `0.908 * price`, three decimals kept | `price * 89 / 100`, whole units |
//! | Q4, Q6, Q9 winner | highest bid in `[dateTime, expires]`, no reserve | highest bid in `[dateTime, expires)` at or above the reserve |
//! | Q5 windows | 10 s, sliding every 2 s | 10 s, sliding every 5 s |
//! | Q6 average | the current and the 10 preceding sales (`ROWS BETWEEN 10 PRECEDING AND CURRENT ROW`) | the last 10 sales |
//! | Q7 | every bid at the window's highest price with `dateTime` in `[end - 10 s, end]` (a bid at the end also joins the window it closes) | every bid at the window's highest price in `[start, end)` |
//! | Q11 | sessions merge when they touch (Flink's windows intersect at their bounds) | sessions merge only when they overlap |
//!
//! Q2, Q3, Q5's ties (every auction with the most bids), Q8, Q11, Q14, Q21 and Q22's rows
//! are the same in both. Every query gives the same rows at any parallelism and on every rerun:
//! where a query emits a running value (Q4, Q6), closed auctions are applied in the
//! order (expiry, auction id) once the watermark has passed them.
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

mod bid_statistics;
mod changelog;
mod closed_average;
mod q0;
mod q1;
mod q10;
mod q11;
mod q12;
mod q13;
mod q14;
mod q15;
mod q16;
mod q17;
mod q18;
mod q19;
mod q2;
mod q20;
mod q21;
mod q22;
mod q3;
mod q4;
mod q5;
mod q6;
mod q7;
mod q8;
mod q9;
mod winning_bids;

pub use bid_statistics::TierCounts;
pub use changelog::{materialize, Change, ChangeOp};
pub use q0::q0;
pub use q1::{euros, q1, EuroBid};
pub use q10::{q10, q10_sink, PartitionedBid};
pub use q11::q11;
pub use q12::{q12, BidderCount};
pub use q13::{q13, BidWithSide, SideInput, SideInputError, SIDE_INPUT_KEYS};
pub use q14::{bid_time_type, q14, ClassifiedBid};
pub use q15::{q15, DailyBidStatistics};
pub use q16::{q16, ChannelStatistics};
pub use q17::{q17, AuctionStatistics};
pub use q18::{q18, BidRow};
pub use q19::{q19, RankedBid, TOP};
pub use q2::q2;
pub use q20::{q20, AuctionBid};
pub use q21::{q21, url_channel_id, ChannelBid};
pub use q22::{q22, BidDirectories};
pub use q3::{q3, LocalItem};
pub use q4::q4;
pub use q5::{q5, HotItem};
pub use q6::q6;
pub use q7::q7;
pub use q8::{q8, NewSeller};
pub use q9::{q9, AuctionWinner};
pub use winning_bids::{winning_bids, WinningBid};

use tidewater_engine::prelude::*;
use tidewater_generators::nexmark::{Bid, Event};

/// Which published definition of the queries to follow where they differ (see the
/// module's table).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum NexmarkVariant {
    /// The Flink Nexmark suite's SQL (`nexmark/nexmark`).
    #[default]
    Flink,
    /// Apache Beam's Nexmark.
    Beam,
}

impl std::str::FromStr for NexmarkVariant {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "flink" => Ok(NexmarkVariant::Flink),
            "beam" => Ok(NexmarkVariant::Beam),
            other => Err(format!("expected flink or beam, found `{other}`")),
        }
    }
}

/// What every query file uses.
mod imports {
    pub(super) use serde::{Deserialize, Serialize};
    pub(super) use tidewater_engine::prelude::*;
    pub(super) use tidewater_generators::nexmark::{Bid, Event};

    pub(super) use super::NexmarkVariant;
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
