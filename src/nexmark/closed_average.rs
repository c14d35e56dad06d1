//! The running average of winning prices per key (Q4 per category, Q6 per seller),
//! applied in close order so that every run gives the same rows.

use std::collections::{BTreeMap, VecDeque};

use super::imports::*;
use super::winning_bids::WinningBid;

/// Which closed auctions the average covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Span {
    /// All of the key's.
    All,
    /// The key's last `n`.
    Last(usize),
}

/// A key's closed auctions waiting for the watermark, and what was applied.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Averaged {
    /// Closed auctions not yet applied, by (close time, auction id).
    pending: BTreeMap<(i64, u64), u64>,
    /// The last prices applied (`Span::Last`).
    last: VecDeque<u64>,
    /// Sum and count of every price applied (`Span::All`).
    sum: u64,
    count: u64,
}

impl Averaged {
    /// Applies one price; the average now.
    fn apply(&mut self, price: u64, span: Span) -> f64 {
        match span {
            Span::All => {
                self.sum += price;
                self.count += 1;
                self.sum as f64 / self.count as f64
            }
            Span::Last(n) => {
                self.last.push_back(price);
                if self.last.len() > n {
                    self.last.pop_front();
                }
                self.last.iter().sum::<u64>() as f64 / self.last.len() as f64
            }
        }
    }
}

/// Emits `(key, average)` once per closed auction of the key, in (close time, auction
/// id) order: across an exchange a key's closings arrive in any order, and several
/// close in the same millisecond, so each waits until the watermark passes its close.
#[derive(Clone)]
pub(super) struct ClosedAverage {
    pub span: Span,
}

impl KeyedProcessFunction<u64, WinningBid> for ClosedAverage {
    type State = Averaged;
    type Out = (u64, f64);

    fn process(
        &self,
        _key: &u64,
        s: &mut Averaged,
        w: WinningBid,
        ctx: &mut KeyedContext<'_, (u64, f64)>,
    ) {
        s.pending.insert((w.closed_at, w.auction), w.price);
        ctx.register_timer(w.closed_at);
    }

    fn on_timer(
        &self,
        key: &u64,
        s: &mut Averaged,
        at: i64,
        ctx: &mut KeyedContext<'_, (u64, f64)>,
    ) {
        while let Some(entry) = s.pending.first_entry() {
            if entry.key().0 > at {
                break;
            }
            let price = entry.remove();
            let average = s.apply(price, self.span);
            ctx.emit((*key, average));
        }
    }
}
