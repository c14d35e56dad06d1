//! When a checkpoint is complete and what it holds, as pure functions over what the
//! coordinator has collected (the coordinator only locks, collects and sends).

use std::collections::{BTreeMap, BTreeSet};

use super::StateKey;

/// The oldest pending checkpoint that is complete: every sink instance has
/// acknowledged its barrier or has already ended (an ended sink gets no more barriers).
/// `acks` holds, per pending checkpoint, the sinks that acknowledged it.
pub fn next_complete(
    acks: &BTreeMap<u64, BTreeSet<usize>>,
    sinks: usize,
    finished: &BTreeSet<usize>,
) -> Option<u64> {
    let (&id, acked) = acks.iter().next()?;
    (0..sinks)
        .all(|s| acked.contains(&s) || finished.contains(&s))
        .then_some(id)
}

/// The entries of a complete checkpoint: its own, plus the final entries of sources
/// and sinks that already reached their end (without them a restore would restart
/// those sources from the beginning). Operators' final state is not carried over: a
/// stateful operator flushed everything at its end of input.
pub fn assemble(
    own: BTreeMap<StateKey, Vec<u8>>,
    ended: Option<&BTreeMap<StateKey, Vec<u8>>>,
) -> BTreeMap<StateKey, Vec<u8>> {
    let mut states = own;
    for (key, bytes) in ended.into_iter().flatten() {
        if key.kind != "operator" {
            states.entry(key.clone()).or_insert_with(|| bytes.clone());
        }
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[usize]) -> BTreeSet<usize> {
        items.iter().copied().collect()
    }

    #[test]
    fn a_checkpoint_completes_when_every_sink_acked_or_ended() {
        /// (acks per checkpoint, sinks, finished sinks, complete)
        type Case<'a> = (Vec<(u64, &'a [usize])>, usize, &'a [usize], Option<u64>);
        let cases: Vec<Case> = vec![
            (vec![], 2, &[], None),
            (vec![(4, &[0])], 2, &[], None),
            (vec![(4, &[0, 1])], 2, &[], Some(4)),
            (vec![(4, &[1])], 2, &[0], Some(4)),
            // The oldest first: a newer complete one waits behind it.
            (vec![(4, &[0]), (5, &[0, 1])], 2, &[], None),
            (vec![(4, &[0, 1]), (5, &[0])], 2, &[], Some(4)),
            // Every sink ended: nothing holds it back.
            (vec![(6, &[])], 3, &[0, 1, 2], Some(6)),
        ];
        for (acks, sinks, finished, want) in cases {
            let acks: BTreeMap<u64, BTreeSet<usize>> =
                acks.into_iter().map(|(id, s)| (id, set(s))).collect();
            assert_eq!(
                next_complete(&acks, sinks, &set(finished)),
                want,
                "{acks:?}"
            );
        }
    }

    #[test]
    fn ended_sources_and_sinks_join_later_checkpoints_but_operators_do_not() {
        let key = |kind: &str, node: &str| StateKey {
            kind: kind.into(),
            node: node.into(),
            worker: 0,
        };
        let own = BTreeMap::from([(key("source", "a#0"), b"pos 10".to_vec())]);
        let ended = BTreeMap::from([
            (key("source", "a#0"), b"end".to_vec()),
            (key("source", "b#1"), b"end".to_vec()),
            (key("sink", "s#5"), b"tx".to_vec()),
            (key("operator", "w#3"), b"flushed".to_vec()),
        ]);
        let got = assemble(own, Some(&ended));
        assert_eq!(
            got,
            BTreeMap::from([
                (key("sink", "s#5"), b"tx".to_vec()),
                (key("source", "a#0"), b"pos 10".to_vec()),
                (key("source", "b#1"), b"end".to_vec()),
            ])
        );
    }
}
