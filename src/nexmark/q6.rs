//! Q6, average selling price per seller over their last ten sales.

use super::imports::*;
use super::winning_bids::{winning_bids, WinningBid};

/// A seller's last ten winning prices, applied in close-time order.
#[derive(Default, Serialize, Deserialize)]
struct SellerPrices {
    /// Closed auctions not yet applied, by (close time, auction id).
    pending: std::collections::BTreeMap<(i64, u64), u64>,
    last: std::collections::VecDeque<u64>,
}

#[derive(Clone)]
struct LastTenAverage;

impl KeyedProcessFunction<u64, WinningBid> for LastTenAverage {
    type State = SellerPrices;
    type Out = (u64, f64);

    fn process(
        &self,
        _seller: &u64,
        s: &mut SellerPrices,
        w: WinningBid,
        ctx: &mut KeyedContext<'_, (u64, f64)>,
    ) {
        // Across an exchange, closings of one seller arrive in any order: apply them in
        // close-time order once the watermark has passed them.
        s.pending.insert((w.expires, w.auction), w.price);
        ctx.register_timer(w.expires);
    }

    fn on_timer(
        &self,
        seller: &u64,
        s: &mut SellerPrices,
        at: i64,
        ctx: &mut KeyedContext<'_, (u64, f64)>,
    ) {
        while let Some(entry) = s.pending.first_entry() {
            if entry.key().0 > at {
                break;
            }
            s.last.push_back(entry.remove());
            if s.last.len() > 10 {
                s.last.pop_front();
            }
            ctx.emit((
                *seller,
                s.last.iter().sum::<u64>() as f64 / s.last.len() as f64,
            ));
        }
    }
}

/// Q6, average selling price by seller: per seller, the average of the winning prices
/// of their last ten closed auctions (in close-time order), updated as each closes
/// (`(seller, average)`).
pub fn q6(events: Stream<Event>) -> Stream<(u64, f64)> {
    winning_bids(events)
        .key_by(|w: &WinningBid| w.seller)
        .process(LastTenAverage)
}
