//! Nexmark: the standard streaming benchmark's online auction (persons, auctions and
//! bids in the usual 1:3:46 mix, hot auctions, bidders and sellers), generated as in the
//! reference generator, event by event from the event number.
//!
//! ```
//! use tidewater_generators::core::Generator;
//! use tidewater_generators::nexmark::{Event, NexmarkConfig, NexmarkGenerator};
//!
//! let g = NexmarkGenerator::new(NexmarkConfig::default(), 42);
//! // event 0 of every 50 is a person, events 1-3 auctions, 4-49 bids
//! assert!(matches!(g.event(0), Event::Person(_)));
//! assert!(matches!(g.event(1), Event::Auction(_)));
//! assert!(matches!(g.event(4), Event::Bid(_)));
//! ```

mod channels;
mod config;
mod generator;
mod model;
mod strings;

pub use channels::{channel_id, CHANNELS, HOT_CHANNELS, HOT_CHANNELS_RATIO};
pub use config::NexmarkConfig;
pub use generator::{BidGenerator, NexmarkGenerator};
pub use model::{Auction, Bid, Event, Person};

#[cfg(test)]
mod tests;
