//! Q8, new users: people who opened an auction in the window they registered.

use super::imports::*;

/// One row of Q8: a person who created an auction in the window they registered in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NewSeller {
    /// Person id.
    pub person: u64,
    /// Person name.
    pub name: String,
    /// Window start (epoch ms).
    pub window_start: i64,
}

/// Q8, monitor new users: persons who registered and opened an auction in the same 10 s
/// tumbling window.
/// The same in the Flink suite (two tumbling-window groupings joined on id and
/// window) and Beam.
pub fn q8(events: Stream<Event>) -> Stream<NewSeller> {
    events
        .filter(|e| !matches!(e, Event::Bid(_)))
        .key_by(|e: &Event| match e {
            Event::Person(p) => p.id,
            Event::Auction(a) => a.seller,
            Event::Bid(b) => b.bidder,
        })
        .window(TumblingWindow::of("10 seconds"))
        .process(|id: &u64, w: Window, events: Vec<Event>| {
            let person = events.iter().find_map(|e| match e {
                Event::Person(p) => Some(p.name.clone()),
                _ => None,
            });
            let sold = events.iter().any(|e| matches!(e, Event::Auction(_)));
            match (person, sold) {
                (Some(name), true) => Some(NewSeller {
                    person: *id,
                    name,
                    window_start: w.start,
                }),
                _ => None,
            }
        })
}
