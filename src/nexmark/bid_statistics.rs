//! What Q15, Q16 and Q17 count per day: bids by price tier (the suite's `rank1` under
//! 10 000, `rank2` under 1 000 000, `rank3` above), distinct bidders and auctions per
//! tier, prices and the latest minute, as one aggregate over a day's window.

use rustc_hash::FxHashSet;

use super::imports::*;

/// The price tiers of the suite's `count(*) filter (where price ...)` columns.
pub(super) fn tier(price: u64) -> usize {
    match price {
        0..10_000 => 0,
        10_000..1_000_000 => 1,
        _ => 2,
    }
}

/// `DATE_FORMAT(dateTime, 'yyyy-MM-dd')` in UTC.
pub(super) fn day(date_time: i64) -> String {
    chrono::DateTime::from_timestamp_millis(date_time)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Counts per tier (index 3: every tier).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct DayCounts {
    pub bids: [u64; 4],
    // Hash sets: only their sizes are read, and a hot channel's day holds a million
    // auctions (a B-tree insert there cost three times as much).
    pub bidders: [FxHashSet<u64>; 4],
    pub auctions: [FxHashSet<u64>; 4],
    /// The latest minute of the day with a bid, as minutes since midnight.
    pub last_minute: Option<u32>,
    pub min_price: Option<u64>,
    pub max_price: Option<u64>,
    pub sum_price: u64,
}

/// The aggregate behind Q15-Q17; `distinct` keeps the sets of bidders and auctions
/// (Q15, Q16), which Q17 does not need.
#[derive(Debug, Clone, Copy)]
pub(super) struct BidStatistics {
    pub distinct: bool,
}

impl Aggregate<Bid> for BidStatistics {
    type Acc = DayCounts;
    type Out = DayCounts;

    fn create(&self) -> DayCounts {
        DayCounts::default()
    }

    fn add(&self, acc: &mut DayCounts, b: &Bid, _: Timestamp) {
        for t in [tier(b.price), 3] {
            acc.bids[t] += 1;
            if self.distinct {
                acc.bidders[t].insert(b.bidder);
                acc.auctions[t].insert(b.auction);
            }
        }
        let minute = (b.date_time.rem_euclid(86_400_000) / 60_000) as u32;
        acc.last_minute = acc.last_minute.max(Some(minute));
        acc.min_price = Some(acc.min_price.map_or(b.price, |m| m.min(b.price)));
        acc.max_price = acc.max_price.max(Some(b.price));
        acc.sum_price = acc.sum_price.wrapping_add(b.price);
    }

    fn merge(&self, acc: &mut DayCounts, other: &DayCounts) {
        for t in 0..4 {
            acc.bids[t] += other.bids[t];
            acc.bidders[t].extend(&other.bidders[t]);
            acc.auctions[t].extend(&other.auctions[t]);
        }
        acc.last_minute = acc.last_minute.max(other.last_minute);
        acc.min_price = match (acc.min_price, other.min_price) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        acc.max_price = acc.max_price.max(other.max_price);
        acc.sum_price = acc.sum_price.wrapping_add(other.sum_price);
    }

    fn finish(&self, acc: &DayCounts) -> DayCounts {
        acc.clone()
    }
}

/// One day's bid counts by tier, and distinct bidders and auctions by tier: the
/// columns Q15 and Q16 share (`total_*` over every tier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierCounts {
    /// Bids.
    pub total_bids: u64,
    /// Bids under 10 000.
    pub rank1_bids: u64,
    /// Bids from 10 000 to under 1 000 000.
    pub rank2_bids: u64,
    /// Bids from 1 000 000.
    pub rank3_bids: u64,
    /// Distinct bidders.
    pub total_bidders: u64,
    /// Distinct bidders of rank-1 bids.
    pub rank1_bidders: u64,
    /// Distinct bidders of rank-2 bids.
    pub rank2_bidders: u64,
    /// Distinct bidders of rank-3 bids.
    pub rank3_bidders: u64,
    /// Distinct auctions.
    pub total_auctions: u64,
    /// Distinct auctions with rank-1 bids.
    pub rank1_auctions: u64,
    /// Distinct auctions with rank-2 bids.
    pub rank2_auctions: u64,
    /// Distinct auctions with rank-3 bids.
    pub rank3_auctions: u64,
}

impl TierCounts {
    pub(super) fn of(c: &DayCounts) -> Self {
        let n = |s: &FxHashSet<u64>| s.len() as u64;
        TierCounts {
            total_bids: c.bids[3],
            rank1_bids: c.bids[0],
            rank2_bids: c.bids[1],
            rank3_bids: c.bids[2],
            total_bidders: n(&c.bidders[3]),
            rank1_bidders: n(&c.bidders[0]),
            rank2_bidders: n(&c.bidders[1]),
            rank3_bidders: n(&c.bidders[2]),
            total_auctions: n(&c.auctions[3]),
            rank1_auctions: n(&c.auctions[0]),
            rank2_auctions: n(&c.auctions[1]),
            rank3_auctions: n(&c.auctions[2]),
        }
    }
}
