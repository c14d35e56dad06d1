//! Q0, pass-through.

use super::imports::*;

/// Q0, pass-through (measures the engine's own overhead): the Flink suite passes the
/// bids (`SELECT auction, bidder, price, dateTime, extra FROM bid`), Beam every event,
/// unchanged and in order.
pub fn q0(events: Stream<Event>, variant: NexmarkVariant) -> Stream<Event> {
    match variant {
        NexmarkVariant::Flink => events.filter(|e| matches!(e, Event::Bid(_))),
        NexmarkVariant::Beam => events.map(|e| e),
    }
}
