//! Nexmark queries Q0-Q8 and Q11 on a small fixed seed, checked against
//! results computed by brute force from the same generated events, at parallelism 1
//! and 2.

use std::collections::{BTreeMap, BTreeSet};

use tidewater::generators::core::{Generator, GeneratorSource};
use tidewater::generators::nexmark::{Bid, Event, NexmarkConfig, NexmarkGenerator};
use tidewater::nexmark::*;
use tidewater::prelude::*;

const EVENTS: u64 = 20_000;
const SEED: u64 = 3;

fn config() -> NexmarkConfig {
    // 20 s of event time
    NexmarkConfig {
        event_rate: 1_000,
        ..NexmarkConfig::default()
    }
}

fn generated() -> Vec<Event> {
    let g = NexmarkGenerator::new(config(), SEED);
    (0..EVENTS).map(|i| g.event(i)).collect()
}

fn generated_bids() -> Vec<Bid> {
    generated()
        .into_iter()
        .filter_map(|e| match e {
            Event::Bid(b) => Some(b),
            _ => None,
        })
        .collect()
}

/// Runs `query` over the generated events at `parallelism` and returns its output.
fn run<T: Clone + Send + 'static>(
    parallelism: usize,
    query: impl FnOnce(Stream<Event>) -> Stream<T>,
) -> Vec<T> {
    let out = MemorySink::new();
    let mut p = Pipeline::new(
        Config::default()
            .with_parallelism(parallelism)
            .with_batch_size(500),
    );
    let source =
        GeneratorSource::new(NexmarkGenerator::new(config(), SEED)).with_max_events(EVENTS);
    query(with_event_time(p.source(source))).sink(out.clone());
    let metrics = p.run().unwrap();
    assert_eq!(metrics.late_dropped, 0);
    out.values()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn bid_key(b: &Bid) -> (i64, u64, u64, u64) {
    (b.date_time, b.auction, b.bidder, b.price)
}

#[test]
fn q0_passes_every_event_through_in_order() {
    assert_eq!(run(1, q0), generated());
    assert_eq!(run(2, q0).len() as u64, EVENTS);
}

#[test]
fn q1_converts_every_bid_price_to_euros() {
    let expected: Vec<_> = generated_bids()
        .iter()
        .map(|b| (b.date_time, b.auction, b.bidder, b.price * 908 / 1_000))
        .collect();
    for parallelism in [1, 2] {
        let got: Vec<_> = run(parallelism, |e| q1(bids(e)))
            .iter()
            .map(bid_key)
            .collect();
        assert_eq!(sorted(got), sorted(expected.clone()));
    }
}

#[test]
fn q2_selects_the_bids_on_every_123rd_auction() {
    let expected: Vec<(u64, u64)> = generated_bids()
        .iter()
        .filter(|b| b.auction % 123 == 0)
        .map(|b| (b.auction, b.price))
        .collect();
    assert!(!expected.is_empty(), "the seed must select some bids");
    for parallelism in [1, 2] {
        assert_eq!(
            sorted(run(parallelism, |e| q2(bids(e)))),
            sorted(expected.clone())
        );
    }
}

#[test]
fn q5_finds_the_auctions_with_most_bids_per_sliding_window() {
    // (window start, auction) -> bids, over windows of 10 s every 2 s
    let mut counts: BTreeMap<(i64, u64), u64> = BTreeMap::new();
    for b in generated_bids() {
        let mut start = b.date_time - b.date_time.rem_euclid(2_000);
        while start > b.date_time - 10_000 {
            *counts.entry((start, b.auction)).or_default() += 1;
            start -= 2_000;
        }
    }
    let mut max: BTreeMap<i64, u64> = BTreeMap::new();
    for (&(start, _), &c) in &counts {
        let m = max.entry(start).or_default();
        *m = (*m).max(c);
    }
    let expected: Vec<HotItem> = counts
        .iter()
        .filter(|((start, _), c)| max[start] == **c)
        .map(|(&(start, auction), &bids)| HotItem {
            window_start: start,
            window_end: start + 10_000,
            auction,
            bids,
        })
        .collect();
    for parallelism in [1, 2] {
        assert_eq!(sorted(run(parallelism, |e| q5(bids(e)))), expected);
    }
}

#[test]
fn q7_finds_the_highest_bid_per_window() {
    let mut best: BTreeMap<i64, Bid> = BTreeMap::new();
    for b in generated_bids() {
        let start = b.date_time - b.date_time.rem_euclid(10_000);
        let better = match best.get(&start) {
            None => true,
            Some(cur) => {
                (
                    b.price,
                    std::cmp::Reverse(b.auction),
                    std::cmp::Reverse(b.bidder),
                ) > (
                    cur.price,
                    std::cmp::Reverse(cur.auction),
                    std::cmp::Reverse(cur.bidder),
                )
            }
        };
        if better {
            best.insert(start, b);
        }
    }
    let expected: Vec<(i64, (i64, u64, u64, u64))> =
        best.iter().map(|(s, b)| (*s, bid_key(b))).collect();
    for parallelism in [1, 2] {
        let got: Vec<_> = run(parallelism, |e| q7(bids(e)))
            .iter()
            .map(|r| (r.window_start, bid_key(&r.value)))
            .collect();
        assert_eq!(sorted(got), expected);
    }
}

#[test]
fn q8_finds_persons_who_sold_in_the_window_they_joined() {
    let mut persons: BTreeMap<(i64, u64), String> = BTreeMap::new();
    let mut sellers: BTreeSet<(i64, u64)> = BTreeSet::new();
    for e in generated() {
        match e {
            Event::Person(p) => {
                persons.insert((p.date_time - p.date_time.rem_euclid(10_000), p.id), p.name);
            }
            Event::Auction(a) => {
                sellers.insert((a.date_time - a.date_time.rem_euclid(10_000), a.seller));
            }
            Event::Bid(_) => {}
        }
    }
    let expected: Vec<NewSeller> = persons
        .into_iter()
        .filter(|(k, _)| sellers.contains(k))
        .map(|((start, person), name)| NewSeller {
            person,
            name,
            window_start: start,
        })
        .collect();
    assert!(!expected.is_empty(), "the seed must have new sellers");
    for parallelism in [1, 2] {
        assert_eq!(sorted(run(parallelism, q8)), expected);
    }
}

#[test]
fn q11_counts_bids_per_bidder_session() {
    let mut by_bidder: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
    for b in generated_bids() {
        by_bidder.entry(b.bidder).or_default().push(b.date_time);
    }
    // (bidder, session start, session end, bids)
    let mut expected = Vec::new();
    for (bidder, mut times) in by_bidder {
        times.sort();
        let (mut start, mut last, mut n) = (times[0], times[0], 0u64);
        for t in times {
            if t - last >= 10_000 {
                expected.push((bidder, start, last + 10_000, n));
                start = t;
                n = 0;
            }
            last = t;
            n += 1;
        }
        expected.push((bidder, start, last + 10_000, n));
    }
    expected.sort();
    for parallelism in [1, 2] {
        let got: Vec<_> = run(parallelism, |e| q11(bids(e)))
            .into_iter()
            .map(|r| (r.key, r.window_start, r.window_end, r.value))
            .collect();
        assert_eq!(sorted(got), expected);
    }
}

/// Winning bids by brute force: per auction, the highest bid at or above the reserve
/// placed in [date_time, expires).
fn brute_force_winning_bids() -> Vec<WinningBid> {
    let events = generated();
    let bids = generated_bids();
    let mut out = Vec::new();
    for e in &events {
        if let Event::Auction(a) = e {
            let best = bids
                .iter()
                .filter(|b| {
                    b.auction == a.id
                        && b.date_time >= a.date_time
                        && b.date_time < a.expires
                        && b.price >= a.reserve
                })
                .map(|b| b.price)
                .max();
            if let Some(price) = best {
                out.push(WinningBid {
                    auction: a.id,
                    seller: a.seller,
                    category: a.category,
                    price,
                    expires: a.expires,
                });
            }
        }
    }
    out
}

#[test]
fn q3_joins_local_sellers_with_their_category_10_auctions() {
    let events = generated();
    let mut persons = BTreeMap::new();
    for e in &events {
        if let Event::Person(p) = e {
            if ["OR", "ID", "CA"].contains(&p.state.as_ref()) {
                persons.insert(
                    p.id,
                    (p.name.clone(), p.city.to_string(), p.state.to_string()),
                );
            }
        }
    }
    let expected: Vec<LocalItem> = events
        .iter()
        .filter_map(|e| match e {
            Event::Auction(a) if a.category == 10 => {
                persons.get(&a.seller).map(|(name, city, state)| LocalItem {
                    name: name.clone(),
                    city: city.clone(),
                    state: state.clone(),
                    auction: a.id,
                })
            }
            _ => None,
        })
        .collect();
    assert!(!expected.is_empty(), "the seed must produce local items");
    for parallelism in [1, 2] {
        assert_eq!(sorted(run(parallelism, q3)), sorted(expected.clone()));
    }
}

#[test]
fn winning_bids_close_every_auction_with_its_highest_valid_bid() {
    let expected = sorted(brute_force_winning_bids());
    assert!(expected.len() > 50, "{}", expected.len());
    for parallelism in [1, 2] {
        assert_eq!(sorted(run(parallelism, winning_bids)), expected);
    }
}

/// The last value emitted per key (outputs of one key come from one worker, in order).
fn last_per_key(rows: Vec<(u64, f64)>) -> BTreeMap<u64, f64> {
    rows.into_iter().collect()
}

#[test]
fn q4_averages_winning_prices_per_category() {
    let mut sums: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for w in brute_force_winning_bids() {
        let s = sums.entry(w.category).or_default();
        s.0 += w.price;
        s.1 += 1;
    }
    let expected: BTreeMap<u64, f64> = sums
        .into_iter()
        .map(|(c, (sum, n))| (c, sum as f64 / n as f64))
        .collect();
    for parallelism in [1, 2] {
        assert_eq!(last_per_key(run(parallelism, q4)), expected);
    }
}

#[test]
fn q6_averages_each_sellers_last_ten_winning_prices() {
    let mut by_seller: BTreeMap<u64, Vec<(i64, u64, u64)>> = BTreeMap::new();
    for w in brute_force_winning_bids() {
        by_seller
            .entry(w.seller)
            .or_default()
            .push((w.expires, w.auction, w.price));
    }
    let expected: BTreeMap<u64, f64> = by_seller
        .into_iter()
        .map(|(seller, mut closed)| {
            closed.sort();
            let last: Vec<u64> = closed.iter().rev().take(10).map(|c| c.2).collect();
            (seller, last.iter().sum::<u64>() as f64 / last.len() as f64)
        })
        .collect();
    assert_eq!(last_per_key(run(1, q6)), expected);
    assert_eq!(last_per_key(run(2, q6)), expected);
}
