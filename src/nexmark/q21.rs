//! Q21, channel ids: each bid's channel as a number, by name for the hot channels and
//! from the URL's `channel_id` parameter for the others.

use std::borrow::Cow;

use super::imports::*;

/// A Q21 row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelBid {
    /// Auction id.
    pub auction: u64,
    /// Bidder.
    pub bidder: u64,
    /// Price.
    pub price: u64,
    /// Channel.
    pub channel: Cow<'static, str>,
    /// `0` to `3` for apple, google, facebook and baidu; otherwise the URL's
    /// `channel_id` parameter.
    pub channel_id: Cow<'static, str>,
}

/// Q21: the bids whose channel is one of the four hot ones (any case) or whose URL
/// has a `channel_id` parameter, each with that id. The Flink suite's
///
/// ```sql
/// CASE WHEN lower(channel) = 'apple' THEN '0' ... WHEN 'baidu' THEN '3'
///      ELSE REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2) END
/// ```
///
/// with the same filter; the same in both variants.
///
/// ```
/// use tidewater::nexmark::url_channel_id;
///
/// let url = "https://www.nexmark.com/abc/de/fgh/item.htm?query=1&channel_id=536870912";
/// assert_eq!(url_channel_id(url), Some("536870912"));
/// assert_eq!(url_channel_id("https://www.nexmark.com/a/b/c/item.htm?xchannel_id=1"), None);
/// ```
pub fn q21(bids: Stream<Bid>) -> Stream<ChannelBid> {
    bids.flat_map(|b| {
        let channel_id = match hot_channel_id(&b.channel) {
            Some(id) => Cow::Borrowed(id),
            // The generator's URLs are shared text: their ids are borrowed, not copied.
            None => match &b.url {
                Cow::Borrowed(url) => Cow::Borrowed(url_channel_id(url)?),
                Cow::Owned(url) => Cow::Owned(url_channel_id(url)?.to_string()),
            },
        };
        Some(ChannelBid {
            auction: b.auction,
            bidder: b.bidder,
            price: b.price,
            channel_id,
            channel: b.channel,
        })
    })
}

/// Q21's number of a hot channel (`lower(channel)` is apple, google, facebook or
/// baidu).
fn hot_channel_id(channel: &str) -> Option<&'static str> {
    [
        ("apple", "0"),
        ("google", "1"),
        ("facebook", "2"),
        ("baidu", "3"),
    ]
    .into_iter()
    .find(|(name, _)| channel.eq_ignore_ascii_case(name))
    .map(|(_, id)| id)
}

/// `REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)`: the value of the first
/// `channel_id=` that starts the URL or follows a `&`, up to the next `&` (`None`
/// when there is none; an empty value is `Some("")`).
pub fn url_channel_id(url: &str) -> Option<&str> {
    const KEY: &str = "channel_id=";
    let at = url
        .match_indices(KEY)
        .map(|(at, _)| at)
        .find(|&at| at == 0 || url.as_bytes()[at - 1] == b'&')?;
    let value = &url[at + KEY.len()..];
    Some(value.split('&').next().unwrap_or(value))
}
