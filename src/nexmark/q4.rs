//! Q4, average price per category of closed auctions.

use super::imports::*;
use super::winning_bids::winning_bids;

/// Running (sum, count) per key, emitting the average after each value.
#[derive(Clone)]
struct RunningAverage;

impl KeyedProcessFunction<u64, (u64, u64)> for RunningAverage {
    type State = (u64, u64);
    type Out = (u64, f64);

    fn process(
        &self,
        key: &u64,
        s: &mut (u64, u64),
        v: (u64, u64),
        ctx: &mut KeyedContext<'_, (u64, f64)>,
    ) {
        s.0 += v.1;
        s.1 += 1;
        ctx.emit((*key, s.0 as f64 / s.1 as f64));
    }
}

/// Q4, average price per category: the running average of winning bids per category,
/// updated as each auction closes (`(category, average)`).
pub fn q4(events: Stream<Event>) -> Stream<(u64, f64)> {
    winning_bids(events)
        .map(|w| (w.category, w.price))
        .key_by(|v: &(u64, u64)| v.0)
        .process(RunningAverage)
}
