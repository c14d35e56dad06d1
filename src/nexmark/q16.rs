//! Q16, channel statistics report: Q15's counts per channel and day, with the last
//! minute of the day that had a bid.

use super::bid_statistics::{day, BidStatistics, TierCounts};
use super::imports::*;

/// One channel's day of Q16.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelStatistics {
    /// The bid's channel.
    pub channel: String,
    /// `yyyy-MM-dd` (UTC).
    pub day: String,
    /// `max(DATE_FORMAT(dateTime, 'HH:mm'))`: the latest minute with a bid.
    pub minute: String,
    /// The counts.
    #[serde(flatten)]
    pub counts: TierCounts,
}

/// Q16: per channel and UTC day, Q15's counts and the latest `HH:mm` with a bid;
/// emitted once per channel and day when the watermark passes the day.
pub fn q16(bids: Stream<Bid>) -> Stream<ChannelStatistics> {
    bids.key_by(|b: &Bid| b.channel.to_string())
        .window(TumblingWindow::of("1 day"))
        .aggregate(BidStatistics { distinct: true })
        .map(|r| {
            let minute = r.value.last_minute.unwrap_or(0);
            ChannelStatistics {
                channel: r.key,
                day: day(r.window_start),
                minute: format!("{:02}:{:02}", minute / 60, minute % 60),
                counts: TierCounts::of(&r.value),
            }
        })
}
