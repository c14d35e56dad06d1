//! Q14, a filter with computed columns (the Flink suite's UDF query).

use super::imports::*;

/// A Q14 row: the bid's price in euros, when in the day it came, and how many `c`s its
/// `extra` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifiedBid {
    /// Auction id.
    pub auction: u64,
    /// Bidder.
    pub bidder: u64,
    /// `0.908 * price`.
    pub price: f64,
    /// `dayTime` (08-18 h UTC), `nightTime` (up to 06 h or from 20 h) or `otherTime`.
    pub bid_time_type: String,
    /// Event time (epoch ms).
    pub date_time: i64,
    /// The bid's extra.
    pub extra: String,
    /// Occurrences of `c` in `extra` (the suite's `count_char` UDF).
    pub c_counts: u64,
}

/// The suite's `bidTimeType` of a time: by its hour of the day (UTC).
pub fn bid_time_type(date_time: i64) -> &'static str {
    let hour = date_time.rem_euclid(86_400_000) / 3_600_000;
    match hour {
        8..=18 => "dayTime",
        h if h <= 6 || h >= 20 => "nightTime",
        _ => "otherTime",
    }
}

/// Q14: the bids whose price in euros (`0.908 * price`) lies strictly between 1 000 000
/// and 50 000 000, with the computed columns of [`ClassifiedBid`]. The same in both
/// variants (Beam has no Q14).
pub fn q14(bids: Stream<Bid>) -> Stream<ClassifiedBid> {
    bids.flat_map(|b| {
        let price = 0.908 * b.price as f64;
        (price > 1_000_000.0 && price < 50_000_000.0).then(|| ClassifiedBid {
            auction: b.auction,
            bidder: b.bidder,
            price,
            bid_time_type: bid_time_type(b.date_time).to_string(),
            date_time: b.date_time,
            c_counts: b.extra.matches('c').count() as u64,
            extra: b.extra,
        })
    })
}
