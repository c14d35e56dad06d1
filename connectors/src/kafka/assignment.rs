//! Which worker reads which partition: Flink's rule, stable when partitions are added.
//! A topic's partitions go round-robin over the workers from a start index drawn from
//! the topic's name, so each topic spreads evenly and a new partition never moves an
//! existing one (positions stay with the worker that checkpointed them). The start
//! index comes from FNV-1a, which never changes between builds.

/// The worker (of `parallelism`) that reads `partition` of `topic`.
///
/// ```
/// use tidewater_connectors::kafka::assignment::owner;
/// let workers: Vec<usize> = (0..6).map(|p| owner("events", p, 3)).collect();
/// // round-robin from the topic's start index
/// let start = workers[0];
/// assert_eq!(workers, (0..6).map(|p| (start + p) % 3).collect::<Vec<_>>());
/// ```
pub fn owner(topic: &str, partition: i32, parallelism: usize) -> usize {
    let n = parallelism.max(1) as u64;
    let start = crate::stable_hash::fnv1a(topic.as_bytes()) % n;
    ((start + u64::from(partition.unsigned_abs())) % n) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_and_the_owners_are_pinned() {
        // (topic, partition, parallelism, owner): fixed for ever, checkpoints depend on it
        for (topic, partition, parallelism, expected) in [
            ("events", 0, 1, 0),
            ("events", 0, 2, 0),
            ("events", 1, 2, 1),
            ("events", 5, 4, 1),
            ("orders", 0, 4, 0),
            ("orders", 3, 4, 3),
        ] {
            assert_eq!(
                owner(topic, partition, parallelism),
                expected,
                "{topic} {partition} {parallelism}"
            );
        }
    }

    #[test]
    fn a_topic_spreads_evenly_and_new_partitions_move_nothing() {
        for parallelism in 1..6 {
            let owners: Vec<usize> = (0..20).map(|p| owner("t", p, parallelism)).collect();
            for w in 0..parallelism {
                let n = owners.iter().filter(|&&o| o == w).count();
                assert!(
                    n == 20 / parallelism || n == 20 / parallelism + 1,
                    "{parallelism}: {owners:?}"
                );
            }
            let more: Vec<usize> = (0..30).map(|p| owner("t", p, parallelism)).collect();
            assert_eq!(&more[..20], &owners[..]);
        }
    }
}
