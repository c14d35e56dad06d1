//! Q1, currency conversion.

use super::imports::*;

/// One row of Q1: a bid with its price in euros.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EuroBid {
    /// Auction id.
    pub auction: u64,
    /// Bidder id.
    pub bidder: u64,
    /// Price in euros: `0.908 * price` with its three decimals (Flink suite), or
    /// `price * 89 / 100` in whole units (Beam).
    pub price: f64,
    /// Bid time (epoch ms).
    pub date_time: i64,
    /// Padding.
    pub extra: String,
}

/// Q1, currency conversion: every bid with its price from dollars to euros.
/// The Flink suite's `0.908 * price` (a DECIMAL with three decimals), or Beam's
/// `price * 89 / 100`.
pub fn q1(bids: Stream<Bid>, variant: NexmarkVariant) -> Stream<EuroBid> {
    bids.map(move |b| EuroBid {
        auction: b.auction,
        bidder: b.bidder,
        price: euros(b.price, variant),
        date_time: b.date_time,
        extra: b.extra,
    })
}

/// The price in euros. The Flink suite's `0.908 * price` is a DECIMAL: the thousandths
/// are exact integers, and the double nearest `thousandths / 1000` prints as the
/// decimal.
pub fn euros(dollars: u64, variant: NexmarkVariant) -> f64 {
    match variant {
        NexmarkVariant::Flink => (dollars as u128 * 908) as f64 / 1_000.0,
        NexmarkVariant::Beam => (dollars * 89 / 100) as f64,
    }
}
