//! The Nexmark event types.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// A new user of the auction site.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Person {
    /// Person id (from 1000).
    pub id: u64,
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email_address: String,
    /// Credit card number, four groups of four digits.
    pub credit_card: String,
    /// City.
    pub city: Cow<'static, str>,
    /// US state code.
    pub state: Cow<'static, str>,
    /// Event time (epoch ms).
    pub date_time: i64,
    /// Padding (empty).
    pub extra: String,
}

/// A new auction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Auction {
    /// Auction id (from 1000).
    pub id: u64,
    /// Item name.
    pub item_name: String,
    /// Item description.
    pub description: String,
    /// Opening price (cents).
    pub initial_bid: u64,
    /// Reserve price (cents).
    pub reserve: u64,
    /// Event time (epoch ms).
    pub date_time: i64,
    /// When the auction closes (epoch ms).
    pub expires: i64,
    /// Seller's person id.
    pub seller: u64,
    /// Category id (from 10).
    pub category: u64,
    /// Padding (empty).
    pub extra: String,
}

/// A bid on an auction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Bid {
    /// Auction id.
    pub auction: u64,
    /// Bidder's person id.
    pub bidder: u64,
    /// Price (cents).
    pub price: u64,
    /// Channel the bid came through.
    pub channel: Cow<'static, str>,
    /// URL of the bid.
    pub url: Cow<'static, str>,
    /// Event time (epoch ms).
    pub date_time: i64,
    /// Padding (empty).
    pub extra: String,
}

/// One Nexmark event.
///
/// Persons and auctions are boxed: they are one event in twelve, and boxing them
/// keeps an event (and a record of one) small enough for the compiler to copy inline,
/// where an unboxed person (160 bytes) made every bid pay for a call to `memcpy` on
/// each move from generator to batch (a third of the generator's time). The JSON form
/// is the same as unboxed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A new person.
    Person(Box<Person>),
    /// A new auction.
    Auction(Box<Auction>),
    /// A bid.
    Bid(Bid),
}

impl Event {
    /// The event's time (epoch ms).
    pub fn date_time(&self) -> i64 {
        match self {
            Event::Person(p) => p.date_time,
            Event::Auction(a) => a.date_time,
            Event::Bid(b) => b.date_time,
        }
    }
}
