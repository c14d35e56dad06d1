//! Nexmark queries Q0-Q22 against brute-force models of their definitions
//! (the Flink suite's and Beam's where they differ), on several seeds, at parallelism
//! 1 and 2 (and the same rows again at 4).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tidewater::generators::core::{Generator, GeneratorSource};
use tidewater::generators::nexmark::{Auction, Bid, Event, NexmarkConfig, NexmarkGenerator};
use tidewater::nexmark::*;
use tidewater::prelude::*;

const EVENTS: u64 = 20_000;
const SEEDS: [u64; 3] = [3, 11, 42];
const VARIANTS: [NexmarkVariant; 2] = [NexmarkVariant::Flink, NexmarkVariant::Beam];

fn config() -> NexmarkConfig {
    // 20 s of event time
    NexmarkConfig {
        event_rate: 1_000,
        ..NexmarkConfig::default()
    }
}

fn generated(seed: u64) -> Vec<Event> {
    let g = NexmarkGenerator::new(config(), seed);
    (0..EVENTS).map(|i| g.event(i)).collect()
}

fn bids_of(events: &[Event]) -> Vec<Bid> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Bid(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

/// Runs `query` over seed `seed`'s events at `parallelism`; its output in arrival order.
fn run<T: Clone + Send + 'static>(
    seed: u64,
    parallelism: usize,
    query: impl FnOnce(Stream<Event>) -> Stream<T>,
) -> Vec<T> {
    run_with(config(), seed, parallelism, query)
}

/// [`run`] with a generator configured as `nexmark`.
fn run_with<T: Clone + Send + 'static>(
    nexmark: NexmarkConfig,
    seed: u64,
    parallelism: usize,
    query: impl FnOnce(Stream<Event>) -> Stream<T>,
) -> Vec<T> {
    let out = MemorySink::new();
    let mut p = Pipeline::new(
        Config::default()
            .with_parallelism(parallelism)
            .with_batch_size(500),
    );
    let source = GeneratorSource::new(NexmarkGenerator::new(nexmark, seed)).with_max_events(EVENTS);
    query(with_event_time(p.source(source))).sink(out.clone());
    let metrics = p.run().unwrap();
    assert_eq!(metrics.late_dropped, 0);
    out.values()
}

/// Rows as sorted JSON lines: a multiset that compares across types with floats.
fn lines<T: Serialize>(rows: &[T]) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    v.sort();
    v
}

/// For every seed and variant: the query at parallelism 1 and 2 gives the model's rows.
fn check<T, Q, M>(name: &str, query: Q, model: M)
where
    T: Clone + Send + Serialize + 'static,
    Q: Fn(Stream<Event>, NexmarkVariant) -> Stream<T>,
    M: Fn(&[Event], NexmarkVariant) -> Vec<T>,
{
    for seed in SEEDS {
        let events = generated(seed);
        for variant in VARIANTS {
            let expected = lines(&model(&events, variant));
            assert!(
                !expected.is_empty(),
                "{name} seed {seed} {variant:?}: no rows"
            );
            let p1 = lines(&run(seed, 1, |e| query(e, variant)));
            let p2 = lines(&run(seed, 2, |e| query(e, variant)));
            assert_eq!(
                p1, expected,
                "{name} seed {seed} {variant:?} at parallelism 1"
            );
            assert_eq!(
                p2, p1,
                "{name} seed {seed} {variant:?}: parallelism 2 differs from 1"
            );
        }
    }
}

/// Per key, its rows in output order (one key's rows come from one worker, in order).
fn per_key(rows: &[(u64, f64)]) -> BTreeMap<u64, Vec<f64>> {
    let mut by: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for (k, v) in rows {
        by.entry(*k).or_default().push(*v);
    }
    by
}

#[test]
fn q0_passes_the_bids_or_every_event_through_in_order() {
    for seed in SEEDS {
        let events = generated(seed);
        let only_bids: Vec<Event> = events
            .iter()
            .filter(|e| matches!(e, Event::Bid(_)))
            .cloned()
            .collect();
        assert_eq!(run(seed, 1, |e| q0(e, NexmarkVariant::Flink)), only_bids);
        assert_eq!(run(seed, 1, |e| q0(e, NexmarkVariant::Beam)), events);
    }
    check("q0", q0, |events, v| match v {
        NexmarkVariant::Flink => events
            .iter()
            .filter(|e| matches!(e, Event::Bid(_)))
            .cloned()
            .collect(),
        NexmarkVariant::Beam => events.to_vec(),
    });
}

#[test]
fn q1_converts_every_bid_price_to_euros_as_each_variant_defines() {
    check(
        "q1",
        |e, v| q1(bids(e), v),
        |events, v| {
            bids_of(events)
                .into_iter()
                .map(|b| EuroBid {
                    auction: b.auction,
                    bidder: b.bidder,
                    price: match v {
                        // 0.908 * price as a DECIMAL(23, 3): exact thousandths.
                        NexmarkVariant::Flink => {
                            format!("{}.{:03}", b.price * 908 / 1000, b.price * 908 % 1000)
                                .parse()
                                .unwrap()
                        }
                        NexmarkVariant::Beam => (b.price * 89 / 100) as f64,
                    },
                    date_time: b.date_time,
                    extra: b.extra,
                })
                .collect()
        },
    );
    assert_eq!(euros(1_234, NexmarkVariant::Flink).to_string(), "1120.472");
    assert_eq!(euros(1_234, NexmarkVariant::Beam), 1_098.0);
}

#[test]
fn q2_selects_the_bids_on_every_123rd_auction() {
    check(
        "q2",
        |e, _| q2(bids(e)),
        |events, _| {
            bids_of(events)
                .into_iter()
                .filter(|b| b.auction % 123 == 0)
                .map(|b| (b.auction, b.price))
                .collect()
        },
    );
}

#[test]
fn q3_joins_local_sellers_with_their_category_10_auctions() {
    check(
        "q3",
        |e, _| q3(e),
        |events, _| {
            let mut persons = BTreeMap::new();
            for e in events {
                if let Event::Person(p) = e {
                    if ["OR", "ID", "CA"].contains(&p.state.as_ref()) {
                        persons.insert(
                            p.id,
                            (p.name.clone(), p.city.to_string(), p.state.to_string()),
                        );
                    }
                }
            }
            events
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
                .collect()
        },
    );
}

#[test]
fn q5_finds_the_auctions_with_most_bids_per_sliding_window() {
    check(
        "q5",
        |e, v| q5(bids(e), v),
        |events, v| {
            let slide = match v {
                NexmarkVariant::Flink => 2_000,
                NexmarkVariant::Beam => 5_000,
            };
            // (window start, auction) -> bids
            let mut counts: BTreeMap<(i64, u64), u64> = BTreeMap::new();
            for b in bids_of(events) {
                let mut start = b.date_time - b.date_time.rem_euclid(slide);
                while start > b.date_time - 10_000 {
                    *counts.entry((start, b.auction)).or_default() += 1;
                    start -= slide;
                }
            }
            let mut max: BTreeMap<i64, u64> = BTreeMap::new();
            for (&(start, _), &c) in &counts {
                let m = max.entry(start).or_default();
                *m = (*m).max(c);
            }
            counts
                .iter()
                .filter(|((start, _), c)| max[start] == **c)
                .map(|(&(start, auction), &bids)| HotItem {
                    window_start: start,
                    window_end: start + 10_000,
                    auction,
                    bids,
                })
                .collect()
        },
    );
}

/// Q7's rows by brute force: per 10 s window, every bid at its highest price, and in
/// the Flink suite also the bids exactly at its end at that price.
fn q7_model(events: &[Event], v: NexmarkVariant) -> Vec<Bid> {
    let bids = bids_of(events);
    let mut max: BTreeMap<i64, u64> = BTreeMap::new();
    for b in &bids {
        let end = b.date_time - b.date_time.rem_euclid(10_000) + 10_000;
        let m = max.entry(end).or_default();
        *m = (*m).max(b.price);
    }
    let mut rows = Vec::new();
    for (&end, &price) in &max {
        let flink = v == NexmarkVariant::Flink;
        rows.extend(
            bids.iter()
                .filter(|b| {
                    let own = b.date_time >= end - 10_000 && b.date_time < end;
                    (own || (flink && b.date_time == end)) && b.price == price
                })
                .cloned(),
        );
    }
    rows
}

#[test]
fn q7_returns_every_bid_at_each_windows_highest_price() {
    check("q7", |e, v| q7(bids(e), v), q7_model);
}

#[test]
fn q8_finds_persons_who_sold_in_the_window_they_joined() {
    check(
        "q8",
        |e, _| q8(e),
        |events, _| {
            let mut persons: BTreeMap<(i64, u64), String> = BTreeMap::new();
            let mut sellers: BTreeSet<(i64, u64)> = BTreeSet::new();
            for e in events {
                match e {
                    Event::Person(p) => {
                        persons.insert(
                            (p.date_time - p.date_time.rem_euclid(10_000), p.id),
                            p.name.clone(),
                        );
                    }
                    Event::Auction(a) => {
                        sellers.insert((a.date_time - a.date_time.rem_euclid(10_000), a.seller));
                    }
                    Event::Bid(_) => {}
                }
            }
            persons
                .into_iter()
                .filter(|(k, _)| sellers.contains(k))
                .map(|((start, person), name)| NewSeller {
                    person,
                    name,
                    window_start: start,
                })
                .collect()
        },
    );
}

/// (bidder, session start, session end, bids): bids `gap` or more apart split a session
/// in Beam; in the Flink suite only more than `gap` apart (touching windows merge).
fn sessions(bids: &[Bid], v: NexmarkVariant) -> Vec<(u64, i64, i64, u64)> {
    let mut by_bidder: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
    for b in bids {
        by_bidder.entry(b.bidder).or_default().push(b.date_time);
    }
    let splits = |gap: i64| match v {
        NexmarkVariant::Flink => gap > 10_000,
        NexmarkVariant::Beam => gap >= 10_000,
    };
    let mut out = Vec::new();
    for (bidder, mut times) in by_bidder {
        times.sort();
        let (mut start, mut last, mut n) = (times[0], times[0], 0u64);
        for t in times {
            if splits(t - last) {
                out.push((bidder, start, last + 10_000, n));
                start = t;
                n = 0;
            }
            last = t;
            n += 1;
        }
        out.push((bidder, start, last + 10_000, n));
    }
    out
}

#[test]
fn q11_counts_bids_per_bidder_session() {
    check(
        "q11",
        |e, v| q11(bids(e), v).map(|r| (r.key, r.window_start, r.window_end, r.value)),
        |events, v| sessions(&bids_of(events), v),
    );
}

#[test]
fn q14_classifies_the_bids_in_its_price_band() {
    check(
        "q14",
        |e, _| q14(bids(e)),
        |events, _| {
            bids_of(events)
                .into_iter()
                .filter(|b| {
                    let euros = 0.908 * b.price as f64;
                    euros > 1_000_000.0 && euros < 50_000_000.0
                })
                .map(|b| {
                    let hour = (b.date_time / 3_600_000) % 24;
                    let kind = if (8..=18).contains(&hour) {
                        "dayTime"
                    } else if hour <= 6 || hour >= 20 {
                        "nightTime"
                    } else {
                        "otherTime"
                    };
                    ClassifiedBid {
                        auction: b.auction,
                        bidder: b.bidder,
                        price: 0.908 * b.price as f64,
                        bid_time_type: kind.to_string(),
                        date_time: b.date_time,
                        c_counts: b.extra.chars().filter(|&c| c == 'c').count() as u64,
                        extra: b.extra,
                    }
                })
                .collect()
        },
    );
    let table = [
        (0, "nightTime"),
        (7, "otherTime"),
        (8, "dayTime"),
        (18, "dayTime"),
        (19, "otherTime"),
        (20, "nightTime"),
    ];
    for (hour, kind) in table {
        assert_eq!(
            bid_time_type(1_700_006_400_000 + hour * 3_600_000),
            kind,
            "{hour} h"
        );
    }
}

#[test]
fn q22_splits_every_bid_url_into_directories() {
    check(
        "q22",
        |e, _| q22(bids(e)),
        |events, _| {
            bids_of(events)
                .into_iter()
                .map(|b| {
                    let parts: Vec<&str> = b.url.split('/').collect();
                    let at = |i: usize| parts.get(i).map(|p| p.to_string().into());
                    BidDirectories {
                        auction: b.auction,
                        bidder: b.bidder,
                        price: b.price,
                        channel: b.channel.to_string(),
                        dir1: at(3),
                        dir2: at(4),
                        dir3: at(5),
                    }
                })
                .collect()
        },
    );
}

/// Q21's SQL, with a regular expression where the query scans by hand.
fn q21_model(bids: Vec<Bid>) -> Vec<ChannelBid> {
    let channel_id = regex::Regex::new("(&|^)channel_id=([^&]*)").unwrap();
    bids.into_iter()
        .filter_map(|b| {
            let id = match b.channel.to_lowercase().as_str() {
                "apple" => "0".to_string(),
                "google" => "1".to_string(),
                "facebook" => "2".to_string(),
                "baidu" => "3".to_string(),
                _ => channel_id.captures(&b.url)?[2].to_string(),
            };
            Some(ChannelBid {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                channel: b.channel.clone(),
                channel_id: id.into(),
            })
        })
        .collect()
}

#[test]
fn q21_numbers_hot_channels_by_name_and_others_by_their_url() {
    check(
        "q21",
        |e, _| q21(bids(e)),
        |events, _| q21_model(bids_of(events)),
    );
    // What the generator draws: a half through hot channels, the rest numbered, nine
    // in ten of those with an id; Q21 keeps all but the numbered ones without.
    let all = bids_of(&generated(3));
    let kept = q21_model(all.clone());
    let hot = kept.iter().filter(|r| r.channel_id.len() == 1).count();
    let share = |n: usize| n as f64 / all.len() as f64;
    assert!(
        (0.48..0.52).contains(&share(hot)),
        "hot {hot} of {}",
        all.len()
    );
    assert!(
        (0.93..0.97).contains(&share(kept.len())),
        "kept {} of {}",
        kept.len(),
        all.len()
    );
}

#[test]
fn q21_reads_channel_ids_as_the_suite_regex_does() {
    let regex = regex::Regex::new("(&|^)channel_id=([^&]*)").unwrap();
    let table = [
        (
            "https://n.com/a/b/c/item.htm?query=1&channel_id=42",
            Some("42"),
        ),
        ("channel_id=7&query=1", Some("7")),
        ("https://n.com/item.htm?channel_id=7", None), // after `?`, not `&`
        (
            "https://n.com/item.htm?query=1&xchannel_id=1&channel_id=2",
            Some("2"),
        ),
        ("https://n.com/item.htm?query=1&channel_id=&x=1", Some("")),
        (
            "https://n.com/item.htm?query=1&channel_id=-2147483648",
            Some("-2147483648"),
        ),
        ("https://n.com/item.htm?query=1", None),
    ];
    for (url, expected) in table {
        assert_eq!(url_channel_id(url), expected, "{url}");
        let by_regex = regex.captures(url).map(|c| c.get(2).unwrap().as_str());
        assert_eq!(by_regex, expected, "the model disagrees on {url}");
    }
    // Hot channels are matched in any case.
    let out = over(
        vec![
            Bid {
                channel: "APPLE".into(),
                ..bid(1, 1, 1, 0)
            },
            Bid {
                channel: "channel-3".into(),
                url: "u?q=1".into(),
                ..bid(2, 1, 1, 0)
            },
        ],
        q21,
    );
    let ids: Vec<_> = out
        .iter()
        .map(|r| (r.auction, r.channel_id.as_ref()))
        .collect();
    assert_eq!(ids, [(1, "0")]);
}

/// Whether the variant counts bid `b` for auction `a` (Flink suite: `[dateTime,
/// expires]`; Beam: `[dateTime, expires)` at or above the reserve).
fn counted(v: NexmarkVariant, a: &Auction, b: &Bid) -> bool {
    match v {
        NexmarkVariant::Flink => b.date_time >= a.date_time && b.date_time <= a.expires,
        NexmarkVariant::Beam => {
            b.date_time >= a.date_time && b.date_time < a.expires && b.price >= a.reserve
        }
    }
}

/// Winning bids by brute force: per auction, its highest bid of those the variant
/// counts (Flink suite: `[dateTime, expires]`; Beam: `[dateTime, expires)` at or above
/// the reserve).
fn winners(events: &[Event], v: NexmarkVariant) -> Vec<WinningBid> {
    q9_model(events, v)
        .into_iter()
        .map(|AuctionWinner { auction: a, bid }| WinningBid {
            auction: a.id,
            seller: a.seller,
            category: a.category,
            price: bid.price,
            expires: a.expires,
            closed_at: match v {
                NexmarkVariant::Flink => a.expires + 1,
                NexmarkVariant::Beam => a.expires,
            },
        })
        .collect()
}

#[test]
fn winning_bids_close_every_auction_with_its_highest_counted_bid() {
    check("winning bids", winning_bids, |events, v| {
        let w = winners(events, v);
        assert!(w.len() > 50, "{}", w.len());
        w
    });
}

/// Q9 by brute force: per auction, of the bids the variant counts, the highest price,
/// then the earliest, then the lowest bidder.
fn q9_model(events: &[Event], v: NexmarkVariant) -> Vec<AuctionWinner> {
    let bids = bids_of(events);
    let counts = |a: &Auction, b: &Bid| counted(v, a, b);
    events
        .iter()
        .filter_map(|e| match e {
            Event::Auction(a) => {
                let bid = bids
                    .iter()
                    .filter(|b| b.auction == a.id && counts(a, b))
                    .max_by_key(|b| {
                        (
                            b.price,
                            std::cmp::Reverse(b.date_time),
                            std::cmp::Reverse(b.bidder),
                        )
                    })?;
                Some(AuctionWinner {
                    auction: (**a).clone(),
                    bid: bid.clone(),
                })
            }
            _ => None,
        })
        .collect()
}

#[test]
fn q9_gives_every_closed_auction_its_whole_winning_bid() {
    check("q9", q9, |events, v| {
        let rows = q9_model(events, v);
        // The winners agree with the winning prices of Q4 and Q6.
        let prices: Vec<(u64, u64)> = winners(events, v)
            .iter()
            .map(|w| (w.auction, w.price))
            .collect();
        let mut ours: Vec<(u64, u64)> = rows.iter().map(|r| (r.auction.id, r.bid.price)).collect();
        ours.sort_unstable();
        let mut theirs = prices;
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
        rows
    });
}

/// The running averages of winning prices per key, applied in (close, auction) order,
/// over all of a key's (`last` None) or its last `last`.
fn running_averages(
    winners: Vec<WinningBid>,
    key: fn(&WinningBid) -> u64,
    last: Option<usize>,
) -> Vec<(u64, f64)> {
    let mut by: BTreeMap<u64, Vec<(i64, u64, u64)>> = BTreeMap::new();
    for w in winners {
        by.entry(key(&w))
            .or_default()
            .push((w.closed_at, w.auction, w.price));
    }
    let mut rows = Vec::new();
    for (k, mut closed) in by {
        closed.sort();
        for i in 0..closed.len() {
            let from = last.map_or(0, |n| (i + 1).saturating_sub(n));
            let span = &closed[from..=i];
            let avg = span.iter().map(|c| c.2).sum::<u64>() as f64 / span.len() as f64;
            rows.push((k, avg));
        }
    }
    rows
}

#[test]
fn q4_averages_winning_prices_per_category_in_close_order() {
    let model = |events: &[Event], v| running_averages(winners(events, v), |w| w.category, None);
    check("q4", q4, model);
    // Each category's rows in the model's order, at any parallelism.
    for variant in VARIANTS {
        let expected = per_key(&model(&generated(SEEDS[0]), variant));
        for parallelism in [1, 2] {
            let got = per_key(&run(SEEDS[0], parallelism, |e| q4(e, variant)));
            assert_eq!(got, expected, "{variant:?} at parallelism {parallelism}");
        }
    }
}

#[test]
fn q6_averages_each_sellers_latest_winning_prices_in_close_order() {
    let model = |events: &[Event], v| {
        let n = match v {
            NexmarkVariant::Flink => 11,
            NexmarkVariant::Beam => 10,
        };
        running_averages(winners(events, v), |w| w.seller, Some(n))
    };
    check("q6", q6, model);
    for variant in VARIANTS {
        let expected = per_key(&model(&generated(SEEDS[0]), variant));
        let got = per_key(&run(SEEDS[0], 2, |e| q6(e, variant)));
        assert_eq!(got, expected, "{variant:?}");
    }
}

#[test]
fn every_query_gives_the_same_rows_at_parallelism_1_2_and_4_and_on_a_rerun() {
    fn same<T: Clone + Send + Serialize + 'static>(
        name: &str,
        q: impl Fn(Stream<Event>) -> Stream<T>,
    ) {
        let seed = SEEDS[1];
        let first = lines(&run(seed, 1, &q));
        for parallelism in [2, 4, 4] {
            assert_eq!(
                lines(&run(seed, parallelism, &q)),
                first,
                "{name} at {parallelism}"
            );
        }
    }
    let v = NexmarkVariant::Flink;
    same("q1", |e| q1(bids(e), v));
    same("q3", q3);
    same("q4", |e| q4(e, v));
    same("q5", |e| q5(bids(e), v));
    same("q6", |e| q6(e, v));
    same("q7", |e| q7(bids(e), v));
    same("q8", q8);
    same("q9", |e| q9(e, v));
    same("q14", |e| q14(bids(e)));
    same("q21", |e| q21(bids(e)));
    same("q22", |e| q22(bids(e)));
    same("q20", q20);
    same("q13", |e| q13(bids(e), SideInput::generated(10_000)));
    same("q11", |e| {
        q11(bids(e), v).map(|r| (r.key, r.window_start, r.window_end, r.value))
    });
}

fn bid(auction: u64, bidder: u64, price: u64, date_time: i64) -> Bid {
    Bid {
        auction,
        bidder,
        price,
        channel: "web".into(),
        url: "u".into(),
        date_time,
        extra: String::new(),
    }
}

/// Runs a query over hand-made bids (watermark one second behind).
fn over<T: Clone + Send + 'static>(
    input: Vec<Bid>,
    q: impl FnOnce(Stream<Bid>) -> Stream<T>,
) -> Vec<T> {
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(1));
    let bids = p
        .source(VecSource::new(input))
        .with_watermark(Watermark::bounded("1 second", |b: &Bid| b.date_time));
    q(bids).sink(out.clone());
    p.run().unwrap();
    out.values()
}

#[test]
fn the_variants_differ_at_window_and_session_bounds_as_stated() {
    // A bid exactly at the first window's end, at that window's highest price.
    let input = vec![
        bid(1, 1, 100, 5_000),
        bid(2, 2, 100, 10_000),
        bid(3, 3, 50, 12_000),
    ];
    let q7_rows = |v| -> Vec<(u64, i64)> {
        over(input.clone(), |b| q7(b, v))
            .iter()
            .map(|b| (b.auction, b.date_time))
            .collect()
    };
    // Flink: the bid at 10 s joins both windows; Beam: only its own.
    assert_eq!(
        q7_rows(NexmarkVariant::Flink),
        vec![(1, 5_000), (2, 10_000), (2, 10_000)]
    );
    assert_eq!(q7_rows(NexmarkVariant::Beam), vec![(1, 5_000), (2, 10_000)]);
    // Bids exactly 10 s apart: one session in the Flink suite, two in Beam.
    let input = vec![bid(1, 7, 1, 0), bid(1, 7, 1, 10_000)];
    let q11_rows = |v| -> Vec<(i64, i64, u64)> {
        over(input.clone(), |b| q11(b, v))
            .iter()
            .map(|r| (r.window_start, r.window_end, r.value))
            .collect()
    };
    assert_eq!(q11_rows(NexmarkVariant::Flink), vec![(0, 20_000, 2)]);
    assert_eq!(
        q11_rows(NexmarkVariant::Beam),
        vec![(0, 10_000, 1), (10_000, 20_000, 1)]
    );
}

#[test]
fn q20_joins_every_bid_with_its_category_10_auction() {
    check(
        "q20",
        |e, _| q20(e),
        |events, _| {
            let auctions: BTreeMap<u64, &Auction> = events
                .iter()
                .filter_map(|e| match e {
                    Event::Auction(a) if a.category == 10 => Some((a.id, &**a)),
                    _ => None,
                })
                .collect();
            bids_of(events)
                .iter()
                .filter_map(|b| auctions.get(&b.auction).map(|a| AuctionBid::of(b, a)))
                .collect()
        },
    );
}

#[test]
fn q13_looks_every_bid_up_in_the_side_table_by_auction_mod_10000() {
    // Half the keys: bids whose key the table lacks give no row (an inner join).
    let side = SideInput::generated(5_000);
    check(
        "q13",
        |e, _| q13(bids(e), side.clone()),
        |events, _| {
            bids_of(events)
                .into_iter()
                .filter(|b| b.auction % 10_000 < 5_000)
                .map(|b| BidWithSide {
                    auction: b.auction,
                    bidder: b.bidder,
                    price: b.price,
                    date_time: b.date_time,
                    value: (b.auction % 10_000).to_string(),
                })
                .collect()
        },
    );
}

#[test]
fn q13_reads_its_side_table_from_csv_and_names_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("side_input.txt");
    std::fs::write(&good, "0,zero\n7,seven, with a comma\n\n").unwrap();
    let side = SideInput::from_csv(&good).unwrap();
    assert_eq!(
        (side.get(0), side.get(7), side.get(1)),
        (Some("zero"), Some("seven, with a comma"), None)
    );
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "0,zero\nseven,7\n").unwrap();
    assert_eq!(
        SideInput::from_csv(&bad).unwrap_err().to_string(),
        format!(
            "side input {}, line 2: expected `key,value` with an integer key, found `seven,7`",
            bad.display()
        )
    );
}

/// Q12 counts bids by the clock's 10 s windows: bids sent at known clock times, the
/// clock moved by the test, windows closing as it passes their ends.
#[test]
fn q12_counts_each_bidders_bids_per_10_seconds_of_the_clock() {
    let clock = ManualClock::new(1_000_000);
    let (source, input) = ChannelSource::new();
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_clock(clock.clone()));
    q12(p.source(source)).sink(out.clone());
    let mut local = p.build_local().unwrap();
    let all = bids_of(&generated(SEEDS[0]));
    let mut expected: BTreeMap<(u64, i64), u64> = BTreeMap::new();
    // 600 bids every 3.5 s of the clock: a 10 s window holds two or three sends.
    for (i, chunk) in all.chunks(600).take(12).enumerate() {
        let now = 1_000_000 + i as i64 * 3_500;
        clock.set_ms(now);
        for b in chunk {
            *expected
                .entry((b.bidder, now - now.rem_euclid(10_000)))
                .or_default() += 1;
        }
        input.send_batch(chunk.to_vec()).unwrap();
        local.run_until_idle().unwrap();
    }
    clock.set_ms(1_000_000 + 12 * 3_500 + 10_000);
    local.run_until_idle().unwrap();
    let got: BTreeMap<(u64, i64), u64> = out
        .values()
        .into_iter()
        .map(|r| {
            assert_eq!(r.endtime - r.starttime, 10_000);
            ((r.bidder, r.starttime), r.bid_count)
        })
        .collect();
    assert_eq!(got, expected);
    assert!(expected.keys().map(|k| k.1).collect::<BTreeSet<_>>().len() >= 4);
}

/// For every seed, the table an updating query's changelog describes at parallelism
/// 1, 2 and 4 equals the model's; no change takes back a row that is not there.
fn check_changelog<T>(
    name: &str,
    query: impl Fn(Stream<Event>) -> Stream<Change<T>>,
    model: impl Fn(&[Event]) -> Vec<T>,
) where
    T: Clone + Ord + Send + Serialize + std::fmt::Debug + 'static,
{
    for seed in SEEDS {
        let mut expected = model(&generated(seed));
        expected.sort();
        assert!(!expected.is_empty(), "{name} seed {seed}: no rows");
        for parallelism in [1, 2, 4] {
            let changes = run(seed, parallelism, &query);
            let mut table: BTreeMap<T, i64> = BTreeMap::new();
            for c in &changes {
                let n = table.entry(c.row.clone()).or_default();
                *n += match c.op {
                    ChangeOp::Insert | ChangeOp::UpdateAfter => 1,
                    ChangeOp::UpdateBefore | ChangeOp::Delete => -1,
                };
                assert!(
                    *n >= 0,
                    "{name} seed {seed}: {c:?} takes back a row not there"
                );
            }
            assert_eq!(
                materialize(changes),
                expected,
                "{name} seed {seed} at {parallelism}"
            );
        }
    }
}

#[test]
fn q18_keeps_each_bidders_latest_bid_per_auction() {
    check_changelog(
        "q18",
        |e| q18(bids(e)),
        |events| {
            let mut last: BTreeMap<(u64, u64), BidRow> = BTreeMap::new();
            for b in bids_of(events) {
                let row = BidRow::from(b);
                let key = (row.bidder, row.auction);
                match last.get(&key) {
                    Some(old) if (old.date_time, old) >= (row.date_time, &row) => {}
                    _ => {
                        last.insert(key, row);
                    }
                }
            }
            last.into_values().collect()
        },
    );
}

#[test]
fn q19_keeps_each_auctions_ten_highest_bids_ranked() {
    check_changelog(
        "q19",
        |e| q19(bids(e)),
        |events| {
            let mut per_auction: BTreeMap<u64, Vec<BidRow>> = BTreeMap::new();
            for b in bids_of(events) {
                per_auction
                    .entry(b.auction)
                    .or_default()
                    .push(BidRow::from(b));
            }
            per_auction
                .into_values()
                .flat_map(|mut rows| {
                    rows.sort_by(|a, b| {
                        b.price
                            .cmp(&a.price)
                            .then(a.date_time.cmp(&b.date_time))
                            .then(a.cmp(b))
                    });
                    rows.into_iter()
                        .take(10)
                        .enumerate()
                        .map(|(i, bid)| RankedBid {
                            bid,
                            rank_number: i as u32 + 1,
                        })
                })
                .collect()
        },
    );
}

// Q15-Q17, per-day reports: event time crossing midnight (20 000 events at one a
// second from 22:13 UTC: two days), at parallelism 1, 2 and 4.

fn daily_config() -> NexmarkConfig {
    NexmarkConfig {
        event_rate: 1,
        ..NexmarkConfig::default()
    }
}

fn daily_bids(seed: u64) -> Vec<Bid> {
    let g = NexmarkGenerator::new(daily_config(), seed);
    bids_of(&(0..EVENTS).map(|i| g.event(i)).collect::<Vec<_>>())
}

fn check_daily<T: Clone + Send + Serialize + 'static>(
    name: &str,
    query: impl Fn(Stream<Bid>) -> Stream<T>,
    model: impl Fn(&[Bid]) -> Vec<T>,
) {
    for seed in SEEDS {
        let expected = lines(&model(&daily_bids(seed)));
        for parallelism in [1, 2, 4] {
            let got = run_with(daily_config(), seed, parallelism, |e| query(bids(e)));
            assert_eq!(lines(&got), expected, "{name} seed {seed} at {parallelism}");
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
    let days: BTreeSet<String> = daily_bids(42).iter().map(|b| day(b.date_time)).collect();
    assert_eq!(days.len(), 2, "{days:?}");
}

#[test]
fn q15_reports_each_days_bids_bidders_and_auctions_by_price_tier() {
    check_daily("q15", q15, |bids| {
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
    check_daily("q16", q16, |bids| {
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
    check_daily("q17", q17, |bids| {
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

/// Every CSV part file under `dir` read back as Q10 rows: the columns in the file, `dt`
/// and `hm` from its partition folders.
fn read_q10(dir: &std::path::Path) -> Vec<PartitionedBid> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, rows: &mut Vec<PartitionedBid>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, rows);
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            assert!(
                relative.ends_with(".csv"),
                "only finished CSV files: {relative}"
            );
            let columns = tidewater::connectors::file::partition_columns(&relative);
            let text = |name: &str| match columns.iter().find(|(c, _)| c == name) {
                Some((_, Value::Str(s))) => s.clone(),
                other => panic!("{relative}: partition {name} is {other:?}"),
            };
            let content = std::fs::read_to_string(&path).unwrap();
            let mut lines = content.lines();
            assert_eq!(
                lines.next(),
                Some("auction,bidder,price,date_time,extra"),
                "{relative}"
            );
            for line in lines {
                let f: Vec<&str> = line.split(',').collect();
                rows.push(PartitionedBid {
                    auction: f[0].parse().unwrap(),
                    bidder: f[1].parse().unwrap(),
                    price: f[2].parse().unwrap(),
                    date_time: f[3].parse().unwrap(),
                    extra: f[4].to_string(),
                    dt: text("dt"),
                    hm: text("hm"),
                });
            }
        }
    }
    let mut rows = Vec::new();
    walk(dir, dir, &mut rows);
    rows.sort();
    rows
}

#[test]
fn q10_writes_every_bid_into_day_and_minute_folders() {
    // One event a second: hours of event time, across midnight.
    let seed = SEEDS[0];
    let mut expected: Vec<PartitionedBid> = daily_bids(seed)
        .into_iter()
        .map(|b| {
            let t = chrono::DateTime::from_timestamp_millis(b.date_time).unwrap();
            PartitionedBid {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                date_time: b.date_time,
                extra: b.extra,
                dt: t.format("%Y-%m-%d").to_string(),
                hm: t.format("%H:%M").to_string(),
            }
        })
        .collect();
    expected.sort();
    let minutes: BTreeSet<&str> = expected.iter().map(|r| r.hm.as_str()).collect();
    let days: BTreeSet<&str> = expected.iter().map(|r| r.dt.as_str()).collect();
    assert!(
        minutes.len() > 300 && days.len() == 2,
        "{minutes:?} {days:?}"
    );
    for parallelism in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("bid");
        let sink = q10_sink(&out, tidewater::connectors::file::FileSinkMode::Direct);
        let mut p = Pipeline::new(
            Config::default()
                .with_parallelism(parallelism)
                .with_batch_size(500),
        );
        let source = GeneratorSource::new(NexmarkGenerator::new(daily_config(), seed))
            .with_max_events(EVENTS);
        q10(bids(with_event_time(p.source(source)))).sink(sink);
        p.run().unwrap();
        assert_eq!(read_q10(&out), expected, "at parallelism {parallelism}");
    }
}
