//! The channels bids come through, as the Flink suite's generator makes them.
//!
//! Half the bids (one in [`HOT_CHANNELS_RATIO`]) come through one of four hot channels
//! named after companies; the rest through one of [`CHANNELS`] numbered channels
//! (`channel-N`). Every channel has a URL with three short random directories
//! (`https://www.nexmark.com/abc/defg/hij/item.htm?query=1`); nine in ten numbered
//! channels add `&channel_id=` and the bits of `N` reversed, as Flink's
//! `Math.abs(Integer.reverse(N))` (Q21 extracts it).
//!
//! Flink draws the URLs from the generator's random source as channels are first
//! used; here they follow from the channel number alone, so that every generator
//! shares one table built once and a bid borrows its strings instead of allocating
//! them.

use std::sync::LazyLock;

use rand::Rng;

use crate::core::event_rng;
use crate::core::rng::splitmix;

/// One bid in this many comes through a numbered channel; the rest through a hot one.
pub const HOT_CHANNELS_RATIO: u64 = 2;
/// Numbered channels (`channel-0` to `channel-9999`).
pub const CHANNELS: u64 = 10_000;
/// The hot channels, in the order of their Q21 `channel_id` (`apple` is not first:
/// Q21 numbers apple 0, google 1, facebook 2, baidu 3).
pub const HOT_CHANNELS: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];

/// Seed of the URLs' directory names (any constant: it only has to stay the same).
const URL_SALT: u64 = 0x6E65_786D_6172_6B21;

/// Channel names and URLs (hot ones first), borrowed from one arena of text that
/// lives as long as the program, like the table itself.
struct ChannelTable {
    channels: Vec<(&'static str, &'static str)>,
}

static TABLE: LazyLock<ChannelTable> = LazyLock::new(ChannelTable::build);

impl ChannelTable {
    fn build() -> ChannelTable {
        let mut text = String::new();
        let mut ends = Vec::new();
        let mut push = |name: &str, url: &str| {
            text.push_str(name);
            let name_end = text.len();
            text.push_str(url);
            ends.push((name_end, text.len()));
        };
        for (i, name) in HOT_CHANNELS.iter().enumerate() {
            push(name, &base_url(CHANNELS + i as u64));
        }
        for n in 0..CHANNELS {
            let mut url = base_url(n);
            if splitmix(URL_SALT ^ !n) % 10 > 0 {
                url.push_str("&channel_id=");
                url.push_str(&channel_id(n).to_string());
            }
            push(&format!("channel-{n}"), &url);
        }
        // Built once per process (a static), so leaking its text is not a leak that
        // grows; it lets a bid hold `&'static str` without reading the text, where
        // slicing a `String` checks the character boundaries (a cache miss per bid).
        let text: &'static str = String::leak(text);
        let mut start = 0;
        let channels = ends
            .into_iter()
            .map(|(name_end, url_end)| {
                let channel = (&text[start..name_end], &text[name_end..url_end]);
                start = url_end;
                channel
            })
            .collect();
        ChannelTable { channels }
    }
}

/// Flink's `channel_id` of numbered channel `n`: `Math.abs(Integer.reverse(n))` (which
/// stays negative for `n = 1`, whose reversal is `i32::MIN`).
pub fn channel_id(n: u64) -> i32 {
    (n as i32).reverse_bits().wrapping_abs()
}

/// `https://www.nexmark.com/` and three directories of 3 to 5 letters.
fn base_url(n: u64) -> String {
    let mut rng = event_rng(URL_SALT, n);
    let mut url = String::from("https://www.nexmark.com/");
    for _ in 0..3 {
        for _ in 0..rng.random_range(3..=5) {
            url.push(char::from(b'a' + rng.random_range(0..26u8)));
        }
        url.push('/');
    }
    url.push_str("item.htm?query=1");
    url
}

/// Hot channel `i` (`0..4`): its name and URL.
#[inline]
pub(crate) fn hot(i: usize) -> (&'static str, &'static str) {
    TABLE.channels[i]
}

/// Numbered channel `n` (`0..CHANNELS`): its name and URL.
#[inline]
pub(crate) fn numbered(n: u64) -> (&'static str, &'static str) {
    TABLE.channels[HOT_CHANNELS.len() + n as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_channels_are_named_by_number_and_most_urls_carry_the_reversed_id() {
        let (name, url) = numbered(6);
        assert_eq!(name, "channel-6");
        assert!(url.starts_with("https://www.nexmark.com/"), "{url}");
        let with_id = (0..CHANNELS)
            .filter(|&n| numbered(n).1.contains("&channel_id="))
            .count();
        assert!((8_800..9_200).contains(&with_id), "{with_id} of 10 000");
        for n in 0..CHANNELS {
            let (name, url) = numbered(n);
            assert_eq!(name, format!("channel-{n}"));
            let path: Vec<&str> = url.split('/').collect();
            assert_eq!(path.len(), 7, "{url}");
            assert!(
                path[3..6].iter().all(|d| (3..=5).contains(&d.len())),
                "{url}"
            );
            if let Some((_, id)) = url.split_once("&channel_id=") {
                assert_eq!(id, channel_id(n).to_string());
            }
        }
    }

    #[test]
    fn channel_ids_are_the_bits_reversed_as_java_computes_them() {
        for (n, id) in [
            (0, 0),
            (1, i32::MIN),
            (2, 1 << 30),
            (3, 1 << 30),
            (6, 1 << 30 | 1 << 29),
        ] {
            assert_eq!(channel_id(n), id, "channel {n}");
        }
    }

    #[test]
    fn hot_channels_have_their_names_and_urls_without_an_id() {
        for (i, expected) in HOT_CHANNELS.iter().enumerate() {
            let (name, url) = hot(i);
            assert_eq!(&name, expected);
            assert!(url.ends_with("/item.htm?query=1"), "{url}");
        }
    }
}
