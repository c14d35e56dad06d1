//! Q13, bounded side input join: each bid with the value its auction maps to in a
//! side table.

use std::collections::HashMap;
use std::sync::Arc;

use super::imports::*;

/// The suite's side table: `key BIGINT, value VARCHAR`, looked up by
/// `mod(auction, 10000)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SideInput {
    values: Arc<HashMap<u64, String>>,
}

/// Why a side table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SideInputError {
    /// The file could not be read.
    #[error("side input {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// A line is not `key,value` with an integer key.
    #[error(
        "side input {path}, line {line}: expected `key,value` with an integer key, found `{found}`"
    )]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The line.
        found: String,
    },
}

/// The modulus of Q13's join key.
pub const SIDE_INPUT_KEYS: u64 = 10_000;

impl SideInput {
    /// `n` rows, key `i` with value `i` as text (the table the suite's `side_input.txt`
    /// holds when it is generated with the keys 0 to 9 999).
    pub fn generated(n: u64) -> Self {
        SideInput {
            values: Arc::new((0..n).map(|k| (k, k.to_string())).collect()),
        }
    }

    /// Rows of a CSV file of `key,value` lines (no header; the value is the rest of
    /// the line). Every bad line is an error naming it.
    pub fn from_csv(path: &std::path::Path) -> Result<Self, SideInputError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SideInputError::Read {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        let mut values = HashMap::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let parsed = line
                .split_once(',')
                .and_then(|(k, v)| Some((k.trim().parse::<u64>().ok()?, v.to_string())));
            let (key, value) = parsed.ok_or_else(|| SideInputError::Line {
                path: shown.clone(),
                line: i + 1,
                found: line.to_string(),
            })?;
            values.insert(key, value);
        }
        Ok(SideInput {
            values: Arc::new(values),
        })
    }

    /// The value of `key`.
    pub fn get(&self, key: u64) -> Option<&str> {
        self.values.get(&key).map(String::as_str)
    }
}

/// A Q13 row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidWithSide {
    /// Auction id.
    pub auction: u64,
    /// Bidder.
    pub bidder: u64,
    /// Price.
    pub price: u64,
    /// Event time.
    pub date_time: i64,
    /// The side table's value for `auction % 10 000`.
    pub value: String,
}

/// Q13: each bid with the side table's value at key `auction % 10 000` (an inner
/// lookup join: a bid whose key the table lacks gives no row). The table is loaded
/// once and shared by every worker. The same in both variants.
pub fn q13(bids: Stream<Bid>, side: SideInput) -> Stream<BidWithSide> {
    bids.flat_map(move |b| {
        side.get(b.auction % SIDE_INPUT_KEYS)
            .map(|value| BidWithSide {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                date_time: b.date_time,
                value: value.to_string(),
            })
    })
}
