//! Q3, local item suggestion: a join of people and their auctions.

use super::imports::*;

/// One row of Q3: a person from OR, ID or CA selling in category 10.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LocalItem {
    /// Seller's name.
    pub name: String,
    /// Seller's city.
    pub city: String,
    /// Seller's state.
    pub state: String,
    /// The auction.
    pub auction: u64,
}

/// Per seller: the person once seen, and auctions that arrived before them.
#[derive(Default, Serialize, Deserialize)]
struct SellerJoin {
    person: Option<(String, String, String)>,
    pending: Vec<u64>,
}

#[derive(Clone)]
struct LocalItemJoin;

impl KeyedProcessFunction<u64, Event> for LocalItemJoin {
    type State = SellerJoin;
    type Out = LocalItem;

    fn process(
        &self,
        _seller: &u64,
        s: &mut SellerJoin,
        e: Event,
        ctx: &mut KeyedContext<'_, LocalItem>,
    ) {
        match e {
            Event::Person(p) => {
                let person = (p.name, p.city.into_owned(), p.state.into_owned());
                for auction in s.pending.drain(..) {
                    let (name, city, state) = person.clone();
                    ctx.emit(LocalItem {
                        name,
                        city,
                        state,
                        auction,
                    });
                }
                s.person = Some(person);
            }
            Event::Auction(a) => match &s.person {
                Some((name, city, state)) => ctx.emit(LocalItem {
                    name: name.clone(),
                    city: city.clone(),
                    state: state.clone(),
                    auction: a.id,
                }),
                None => s.pending.push(a.id),
            },
            Event::Bid(_) => {}
        }
    }
}

/// Q3, local item suggestion: sellers from Oregon, Idaho or California and their
/// auctions in category 10 (an incremental join on seller id, in either arrival order).
/// The same in the Flink suite (an unbounded inner join) and Beam.
pub fn q3(events: Stream<Event>) -> Stream<LocalItem> {
    events
        .filter(|e| match e {
            Event::Person(p) => matches!(p.state.as_ref(), "OR" | "ID" | "CA"),
            Event::Auction(a) => a.category == 10,
            Event::Bid(_) => false,
        })
        .key_by(|e: &Event| match e {
            Event::Person(p) => p.id,
            Event::Auction(a) => a.seller,
            Event::Bid(b) => b.bidder,
        })
        .process(LocalItemJoin)
}
