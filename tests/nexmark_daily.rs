//! Nexmark's per-day reports, Q15-Q17, against brute-force models over event time that
//! crosses midnight (20 000 events at one a second from 22:13 UTC: two days), at
//! parallelism 1, 2 and 4.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tidewater::generators::core::{Generator, GeneratorSource};
use tidewater::generators::nexmark::{Bid, Event, NexmarkConfig, NexmarkGenerator};
use tidewater::nexmark::*;
use tidewater::prelude::*;

const EVENTS: u64 = 20_000;
const SEEDS: [u64; 2] = [5, 42];

fn config() -> NexmarkConfig {
    NexmarkConfig {
        event_rate: 1,
        ..NexmarkConfig::default()
    }
}

fn bids_of(seed: u64) -> Vec<Bid> {
    let g = NexmarkGenerator::new(config(), seed);
    (0..EVENTS)
        .filter_map(|i| match g.event(i) {
            Event::Bid(b) => Some(b),
            _ => None,
        })
        .collect()
}

fn run<T: Clone + Send + Serialize + 'static>(
    seed: u64,
    parallelism: usize,
    query: impl FnOnce(Stream<Bid>) -> Stream<T>,
) -> Vec<String> {
    let out = MemorySink::new();
    let mut p = Pipeline::new(
        Config::default()
            .with_parallelism(parallelism)
            .with_batch_size(500),
    );
    let source =
        GeneratorSource::new(NexmarkGenerator::new(config(), seed)).with_max_events(EVENTS);
    query(bids(with_event_time(p.source(source)))).sink(out.clone());
    let metrics = p.run().unwrap();
    assert_eq!(metrics.late_dropped, 0);
    lines(&out.values())
}

fn lines<T: Serialize>(rows: &[T]) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    v.sort();
    v
}

fn check<T: Clone + Send + Serialize + 'static>(
    name: &str,
    query: impl Fn(Stream<Bid>) -> Stream<T>,
    model: impl Fn(&[Bid]) -> Vec<T>,
) {
    for seed in SEEDS {
        let expected = lines(&model(&bids_of(seed)));
        for parallelism in [1, 2, 4] {
            assert_eq!(
                run(seed, parallelism, &query),
                expected,
                "{name} seed {seed} at {parallelism}"
            );
        }
    }
}

fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string()
}

fn tier(price: u64) -> usize {
    if price < 10_000 {
        0
    } else if price < 1_000_000 {
        1
    } else {
        2
    }
}

/// Q15's and Q16's counts of a group of bids, written out from the SQL's filters.
fn tier_counts(bids: &[&Bid]) -> TierCounts {
    let in_tier = |t: usize| bids.iter().filter(move |b| t == 3 || tier(b.price) == t);
    let distinct = |t: usize, f: fn(&Bid) -> u64| {
        in_tier(t).map(|b| f(b)).collect::<BTreeSet<_>>().len() as u64
    };
    TierCounts {
        total_bids: in_tier(3).count() as u64,
        rank1_bids: in_tier(0).count() as u64,
        rank2_bids: in_tier(1).count() as u64,
        rank3_bids: in_tier(2).count() as u64,
        total_bidders: distinct(3, |b| b.bidder),
        rank1_bidders: distinct(0, |b| b.bidder),
        rank2_bidders: distinct(1, |b| b.bidder),
        rank3_bidders: distinct(2, |b| b.bidder),
        total_auctions: distinct(3, |b| b.auction),
        rank1_auctions: distinct(0, |b| b.auction),
        rank2_auctions: distinct(1, |b| b.auction),
        rank3_auctions: distinct(2, |b| b.auction),
    }
}

fn grouped<K: Ord>(bids: &[Bid], key: impl Fn(&Bid) -> K) -> BTreeMap<K, Vec<&Bid>> {
    let mut groups: BTreeMap<K, Vec<&Bid>> = BTreeMap::new();
    for b in bids {
        groups.entry(key(b)).or_default().push(b);
    }
    groups
}

#[test]
fn the_event_time_crosses_midnight() {
    let days: BTreeSet<String> = bids_of(42).iter().map(|b| day(b.date_time)).collect();
    assert_eq!(days.len(), 2, "{days:?}");
}

#[test]
fn q15_reports_each_days_bids_bidders_and_auctions_by_price_tier() {
    check("q15", q15, |bids| {
        grouped(bids, |b| day(b.date_time))
            .into_iter()
            .map(|(day, group)| DailyBidStatistics {
                day,
                counts: tier_counts(&group),
            })
            .collect()
    });
}

#[test]
fn q16_reports_each_channels_day_with_its_last_minute() {
    check("q16", q16, |bids| {
        grouped(bids, |b| (b.channel.to_string(), day(b.date_time)))
            .into_iter()
            .map(|((channel, day), group)| ChannelStatistics {
                channel,
                day,
                minute: group
                    .iter()
                    .map(|b| {
                        chrono::DateTime::from_timestamp_millis(b.date_time)
                            .unwrap()
                            .format("%H:%M")
                            .to_string()
                    })
                    .max()
                    .unwrap(),
                counts: tier_counts(&group),
            })
            .collect()
    });
}

#[test]
fn q17_reports_each_auctions_day_with_its_prices() {
    check("q17", q17, |bids| {
        grouped(bids, |b| (b.auction, day(b.date_time)))
            .into_iter()
            .map(|((auction, day), group)| {
                let prices: Vec<u64> = group.iter().map(|b| b.price).collect();
                let sum: u64 = prices.iter().sum();
                let in_tier = |t| prices.iter().filter(|p| tier(**p) == t).count() as u64;
                AuctionStatistics {
                    auction,
                    day,
                    total_bids: prices.len() as u64,
                    rank1_bids: in_tier(0),
                    rank2_bids: in_tier(1),
                    rank3_bids: in_tier(2),
                    min_price: *prices.iter().min().unwrap(),
                    max_price: *prices.iter().max().unwrap(),
                    avg_price: sum / prices.len() as u64,
                    sum_price: sum,
                }
            })
            .collect()
    });
}
