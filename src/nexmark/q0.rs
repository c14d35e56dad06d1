//! Q0, pass-through.

use super::imports::*;

/// Q0, pass-through: every event unchanged (measures the engine's own overhead).
pub fn q0(events: Stream<Event>) -> Stream<Event> {
    events.map(|e| e)
}
