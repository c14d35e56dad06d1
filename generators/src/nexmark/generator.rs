//! Event number to event, as the reference Nexmark generator computes it.
//!
//! Ids are dense and derived from the event number, so a bid always refers to an
//! auction and a person that already exist (or are a few events away, the "lead"):
//! event `n` is a person, an auction or a bid by `n mod 50` (1:3:46), the person and
//! auction ids so far follow from `n`, and bids pick a hot auction (id rounded down to
//! a multiple of 100) with probability `1 - 1/hot_auction_ratio`, otherwise one of the
//! auctions in flight.

use std::borrow::Cow;

use rand::{Rng, RngCore};
use tidewater_engine::time::Timestamp;

use super::channels::{self, CHANNELS, HOT_CHANNELS, HOT_CHANNELS_RATIO};
use super::model::{Auction, Bid, Event, Person};
use super::strings::{FIRST_NAMES, LAST_NAMES, US_CITIES, US_STATES};
use super::NexmarkConfig;
use crate::core::{event_rng, EventRng, Generator};

const FIRST_PERSON_ID: u64 = 1_000;
const FIRST_AUCTION_ID: u64 = 1_000;
const FIRST_CATEGORY_ID: u64 = 10;
/// How far past the last id a random person or auction id may reach.
const PERSON_ID_LEAD: u64 = 10;
const AUCTION_ID_LEAD: u64 = 10;
/// Hot ids are multiples of this.
const HOT_ID_ROUNDING: u64 = 100;

/// The Nexmark generator: persons, auctions and bids.
#[derive(Debug, Clone)]
pub struct NexmarkGenerator {
    config: NexmarkConfig,
    seed: u64,
}

impl NexmarkGenerator {
    /// A generator with `config` and `seed` (call [`NexmarkConfig::validate`] first for
    /// user input; zero proportions or ratios are treated as 1).
    pub fn new(mut config: NexmarkConfig, seed: u64) -> Self {
        for v in [
            &mut config.event_rate,
            &mut config.person_proportion,
            &mut config.auction_proportion,
            &mut config.num_active_people,
            &mut config.num_in_flight_auctions,
            &mut config.hot_auction_ratio,
            &mut config.hot_bidders_ratio,
            &mut config.hot_sellers_ratio,
            &mut config.num_categories,
            &mut config.out_of_order_group_size,
        ] {
            *v = (*v).max(1);
        }
        NexmarkGenerator { config, seed }
    }

    /// The configuration.
    pub fn config(&self) -> &NexmarkConfig {
        &self.config
    }

    /// The event id of event number `n` (permuted within out-of-order groups).
    pub(crate) fn event_id(&self, n: u64) -> u64 {
        let g = self.config.out_of_order_group_size;
        n / g * g + (n.wrapping_mul(953)) % g
    }

    fn timestamp(&self, n: u64) -> Timestamp {
        let c = &self.config;
        let uniform = c.base_time_ms + (n as i64).saturating_mul(1_000) / c.event_rate as i64;
        match &c.rate_curve {
            None => uniform,
            Some(curve) => curve.warp(c.base_time_ms, uniform),
        }
    }

    /// Persons created up to event `id`, minus one.
    fn last_base0_person_id(&self, id: u64) -> u64 {
        let c = &self.config;
        let epoch = id / c.proportion_denominator();
        let offset = (id % c.proportion_denominator()).min(c.person_proportion - 1);
        epoch * c.person_proportion + offset
    }

    /// Auctions created up to event `id`, minus one.
    fn last_base0_auction_id(&self, id: u64) -> u64 {
        let c = &self.config;
        let mut epoch = id / c.proportion_denominator();
        let mut offset = id % c.proportion_denominator();
        if offset < c.person_proportion {
            // Before this epoch's auctions: the last one of the previous epoch.
            epoch = epoch.saturating_sub(1);
            offset = c.auction_proportion - 1;
        } else if offset >= c.person_proportion + c.auction_proportion {
            offset = c.auction_proportion - 1;
        } else {
            offset -= c.person_proportion;
        }
        epoch * c.auction_proportion + offset
    }

    /// A random active person (base 0).
    fn next_base0_person_id(&self, id: u64, rng: &mut EventRng) -> u64 {
        let people = self.last_base0_person_id(id) + 1;
        let active = people.min(self.config.num_active_people);
        people - active + rng.random_range(0..active + PERSON_ID_LEAD)
    }

    /// A random auction in flight (base 0).
    fn next_base0_auction_id(&self, id: u64, rng: &mut EventRng) -> u64 {
        let max = self.last_base0_auction_id(id);
        let min = max.saturating_sub(self.config.num_in_flight_auctions);
        min + rng.random_range(0..max - min + 1 + AUCTION_ID_LEAD)
    }

    /// The reference's `round(10^(6u) * 100)`, computed as `e^(6u ln 10)`: `exp` costs a
    /// fraction of `pow` and agrees with it to the last bit or two, which moves a price
    /// by a cent only when it lies within 1e-8 of half a cent. Prices are positive, so
    /// adding a half and truncating is rounding half away from zero (`f64::round` is a
    /// libm call on baseline x86-64).
    #[inline]
    fn price(rng: &mut EventRng) -> u64 {
        let cents = (rng.random::<f64>() * 6.0 * std::f64::consts::LN_10).exp() * 100.0;
        (cents + 0.5) as u64
    }

    /// A word of 3 to `max_len` random lowercase letters, written into `out`. Eight
    /// letters come from each 64 random bits, as successive base-26 digits of the bits
    /// read as a fraction (each digit uniform to within 26 / 2^31), where drawing every
    /// letter alone was a seventh of the generator's time.
    #[inline]
    pub(crate) fn push_word(out: &mut String, rng: &mut EventRng, max_len: usize) {
        let len = rng.random_range(3..=max_len.max(3));
        out.reserve(len);
        let mut left = len;
        while left > 0 {
            let mut fraction = rng.next_u64();
            let letters = left.min(8);
            for _ in 0..letters {
                let scaled = u128::from(fraction) * 26;
                out.push(char::from(b'a' + (scaled >> 64) as u8));
                fraction = scaled as u64;
            }
            left -= letters;
        }
    }

    fn word(rng: &mut EventRng, max_len: usize) -> String {
        let mut word = String::new();
        Self::push_word(&mut word, rng, max_len);
        word
    }

    fn person(&self, id: u64, ts: Timestamp, rng: &mut EventRng) -> Person {
        let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
        let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
        // Each string in one allocation; the draws keep their order (card, then e-mail).
        let mut credit_card = String::with_capacity(19);
        for group in 0..4 {
            if group > 0 {
                credit_card.push(' ');
            }
            let digits = rng.random_range(0..10_000i32);
            for power in [1_000, 100, 10, 1] {
                credit_card.push((b'0' + (digits / power % 10) as u8) as char);
            }
        }
        let mut name = String::with_capacity(first.len() + 1 + last.len());
        name.push_str(first);
        name.push(' ');
        name.push_str(last);
        let mut email_address = String::with_capacity(16);
        Self::push_word(&mut email_address, rng, 7);
        email_address.push('@');
        Self::push_word(&mut email_address, rng, 5);
        email_address.push_str(".com");
        Person {
            id: self.last_base0_person_id(id) + FIRST_PERSON_ID,
            name,
            email_address,
            credit_card,
            city: Cow::Borrowed(US_CITIES[rng.random_range(0..US_CITIES.len())]),
            state: Cow::Borrowed(US_STATES[rng.random_range(0..US_STATES.len())]),
            date_time: ts,
            extra: String::new(),
        }
    }

    fn auction(&self, n: u64, id: u64, ts: Timestamp, rng: &mut EventRng) -> Auction {
        let c = &self.config;
        let seller = if rng.random_range(0..c.hot_sellers_ratio) > 0 {
            (self.last_base0_person_id(id) / HOT_ID_ROUNDING) * HOT_ID_ROUNDING
        } else {
            self.next_base0_person_id(id, rng)
        };
        let initial_bid = Self::price(rng);
        // Auctions stay open about as long as it takes to create the in-flight ones.
        let events_for_auctions =
            c.num_in_flight_auctions * c.proportion_denominator() / c.auction_proportion;
        let horizon = self.timestamp(n + events_for_auctions) - ts;
        let length = 1 + rng.random_range(0..(horizon * 2).max(1) as u64) as i64;
        Auction {
            id: self.last_base0_auction_id(id) + FIRST_AUCTION_ID,
            item_name: Self::word(rng, 20),
            description: Self::word(rng, 100),
            initial_bid,
            reserve: initial_bid + Self::price(rng),
            date_time: ts,
            expires: ts + length,
            seller: seller + FIRST_PERSON_ID,
            category: FIRST_CATEGORY_ID + rng.random_range(0..c.num_categories),
            extra: String::new(),
        }
    }

    #[inline]
    fn bid(&self, id: u64, ts: Timestamp, rng: &mut EventRng) -> Bid {
        let c = &self.config;
        let auction = if rng.random_range(0..c.hot_auction_ratio) > 0 {
            (self.last_base0_auction_id(id) / HOT_ID_ROUNDING) * HOT_ID_ROUNDING
        } else {
            self.next_base0_auction_id(id, rng)
        };
        let bidder = if rng.random_range(0..c.hot_bidders_ratio) > 0 {
            (self.last_base0_person_id(id) / HOT_ID_ROUNDING) * HOT_ID_ROUNDING + 1
        } else {
            self.next_base0_person_id(id, rng)
        };
        let (channel, url) = if rng.random_range(0..HOT_CHANNELS_RATIO) > 0 {
            channels::hot(rng.random_range(0..HOT_CHANNELS.len()))
        } else {
            channels::numbered(rng.random_range(0..CHANNELS))
        };
        Bid {
            auction: auction + FIRST_AUCTION_ID,
            bidder: bidder + FIRST_PERSON_ID,
            price: Self::price(rng),
            channel: Cow::Borrowed(channel),
            url: Cow::Borrowed(url),
            date_time: ts,
            extra: String::new(),
        }
    }
}

impl Generator for NexmarkGenerator {
    type Event = Event;

    fn name(&self) -> String {
        "nexmark".to_string()
    }

    fn seed(&self) -> u64 {
        self.seed
    }

    #[inline]
    fn event(&self, index: u64) -> Event {
        self.event_at(index, self.timestamp(index))
    }

    #[inline]
    fn event_at(&self, index: u64, ts: Timestamp) -> Event {
        let id = self.event_id(index);
        let mut rng = event_rng(self.seed, id);
        let c = &self.config;
        let rem = id % c.proportion_denominator();
        if rem < c.person_proportion {
            Event::Person(Box::new(self.person(id, ts, &mut rng)))
        } else if rem < c.person_proportion + c.auction_proportion {
            Event::Auction(Box::new(self.auction(index, id, ts, &mut rng)))
        } else {
            Event::Bid(self.bid(id, ts, &mut rng))
        }
    }

    fn event_time(&self, index: u64) -> Timestamp {
        self.timestamp(index)
    }

    fn len(&self) -> Option<u64> {
        self.config.num_events
    }
}

/// Only the bids of a Nexmark stream: bid `k` is the `k`-th bid event of the full
/// stream, identical to what [`NexmarkGenerator`] produces for it.
#[derive(Debug, Clone)]
pub struct BidGenerator {
    inner: NexmarkGenerator,
    bids: Option<u64>,
}

impl BidGenerator {
    /// The bids of `NexmarkGenerator::new(config, seed)`; `num_events` counts bids.
    pub fn new(config: NexmarkConfig, seed: u64) -> Self {
        let bids = config.num_events;
        BidGenerator {
            inner: NexmarkGenerator::new(config, seed),
            bids,
        }
    }

    /// Event number of the `k`-th bid.
    fn event_number(&self, k: u64) -> u64 {
        let c = &self.inner.config;
        let first_bid = c.person_proportion + c.auction_proportion;
        (k / c.bid_proportion.max(1)) * c.proportion_denominator()
            + first_bid
            + k % c.bid_proportion.max(1)
    }
}

impl Generator for BidGenerator {
    type Event = Bid;

    fn name(&self) -> String {
        "nexmark_bids".to_string()
    }

    fn seed(&self) -> u64 {
        self.inner.seed
    }

    #[inline]
    fn event(&self, index: u64) -> Bid {
        self.event_at(index, self.event_time(index))
    }

    #[inline]
    fn event_at(&self, index: u64, ts: Timestamp) -> Bid {
        let n = self.event_number(index);
        let mut rng = event_rng(self.inner.seed, n);
        self.inner.bid(n, ts, &mut rng)
    }

    fn event_time(&self, index: u64) -> Timestamp {
        self.inner.timestamp(self.event_number(index))
    }

    fn len(&self) -> Option<u64> {
        self.bids
    }
}
