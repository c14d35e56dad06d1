//! Test support: compares a generator's first records with lines pinned in a file, so a
//! change to any generator's output has to be deliberate.

use serde::Serialize;

/// Asserts that the first `n` of `records`, as JSON, are exactly the lines of
/// `pinned_jsonl` (which must hold `n` lines).
pub(crate) fn assert_first_pinned<'a, T: Serialize + 'a>(
    records: impl IntoIterator<Item = &'a T>,
    n: usize,
    pinned_jsonl: &str,
) {
    let first: Vec<String> = records
        .into_iter()
        .take(n)
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let pinned: Vec<&str> = pinned_jsonl.lines().collect();
    assert_eq!(
        pinned.len(),
        n,
        "the pinned file holds {} lines",
        pinned.len()
    );
    assert_eq!(first, pinned);
}
