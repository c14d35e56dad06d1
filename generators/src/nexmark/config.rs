//! Nexmark generator parameters, with the reference generator's defaults.

use crate::core::GeneratorErrors;
use serde::{Deserialize, Serialize};

use crate::core::{all_problems, GeneratorError};

/// Parameters of the Nexmark generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NexmarkConfig {
    /// Events per second of event time.
    pub event_rate: u64,
    /// Event time of the first event (epoch ms).
    pub base_time_ms: i64,
    /// Number of events (`None`: unbounded).
    pub num_events: Option<u64>,
    /// Relative frequency of persons.
    pub person_proportion: u64,
    /// Relative frequency of auctions.
    pub auction_proportion: u64,
    /// Relative frequency of bids.
    pub bid_proportion: u64,
    /// Persons that may bid or sell at any time.
    pub num_active_people: u64,
    /// Auctions open at any time.
    pub num_in_flight_auctions: u64,
    /// One bid in `hot_auction_ratio` goes to a hot auction (the rest: any open one).
    pub hot_auction_ratio: u64,
    /// One bid in `hot_bidders_ratio` comes from a hot bidder.
    pub hot_bidders_ratio: u64,
    /// One auction in `hot_sellers_ratio` comes from a hot seller.
    pub hot_sellers_ratio: u64,
    /// Number of auction categories.
    pub num_categories: u64,
    /// Daily and weekly shape of the event rate (`diurnal`, `business_week`, or
    /// `{hourly, weekly}` multipliers; none: constant). The events of a week stay as
    /// many; they bunch where the curve is high.
    #[serde(default)]
    pub rate_curve: Option<crate::core::RateCurve>,
    /// Events are permuted within groups of this size (1: in order).
    pub out_of_order_group_size: u64,
}

impl Default for NexmarkConfig {
    fn default() -> Self {
        NexmarkConfig {
            event_rate: 10_000,
            base_time_ms: 1_700_000_000_000,
            num_events: None,
            person_proportion: 1,
            auction_proportion: 3,
            bid_proportion: 46,
            num_active_people: 1_000,
            num_in_flight_auctions: 100,
            hot_auction_ratio: 2,
            hot_bidders_ratio: 4,
            hot_sellers_ratio: 4,
            num_categories: 5,
            out_of_order_group_size: 1,
            rate_curve: None,
        }
    }
}

impl NexmarkConfig {
    /// The sum of the three proportions.
    pub fn proportion_denominator(&self) -> u64 {
        self.person_proportion
            .saturating_add(self.auction_proportion)
            .saturating_add(self.bid_proportion)
    }

    /// Checks every parameter; returns all problems.
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let mut problems = Vec::new();
        let positive = [
            ("event_rate", self.event_rate),
            ("person_proportion", self.person_proportion),
            ("auction_proportion", self.auction_proportion),
            ("num_active_people", self.num_active_people),
            ("num_in_flight_auctions", self.num_in_flight_auctions),
            ("hot_auction_ratio", self.hot_auction_ratio),
            ("hot_bidders_ratio", self.hot_bidders_ratio),
            ("hot_sellers_ratio", self.hot_sellers_ratio),
            ("num_categories", self.num_categories),
            ("out_of_order_group_size", self.out_of_order_group_size),
        ];
        for (field, value) in positive {
            if value == 0 {
                problems.push(GeneratorError::InvalidParameter {
                    field: field.into(),
                    expected: "at least 1".into(),
                    found: "0".into(),
                });
            }
        }
        // Event ids are spread over epochs of `denominator` events and multiplied by
        // it; a larger sum would overflow u64 arithmetic for long runs.
        let sum = [
            self.person_proportion,
            self.auction_proportion,
            self.bid_proportion,
        ]
        .iter()
        .try_fold(0u64, |acc, p| acc.checked_add(*p));
        if sum.is_none_or(|s| s > MAX_PROPORTION_SUM) {
            problems.push(GeneratorError::InvalidParameter {
                field: "person_proportion + auction_proportion + bid_proportion".into(),
                expected: format!("at most {MAX_PROPORTION_SUM}"),
                found: sum.map_or("more than u64::MAX".to_string(), |s| s.to_string()),
            });
        }
        problems.extend(crate::core::RateCurve::check(self.rate_curve.as_ref()));
        all_problems(problems)
    }
}

/// The largest sum of the three event proportions.
pub const MAX_PROPORTION_SUM: u64 = 1_000_000;
