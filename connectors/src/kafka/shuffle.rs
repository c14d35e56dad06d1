//! Watermarks through a repartition topic (Flink's KafkaShuffle does the same): the
//! pipelines that write the topic (the *producers*, one per input partition) send,
//! whenever their watermark advances, a marker record to every partition of it; a
//! reader of the topic takes, per partition, the least watermark over all producers
//! as that partition's watermark, and does not pass the markers on. Records keep their
//! own event time; a record behind the producers' watermark is late, as it was before
//! the repartitioning.

use serde::{Deserialize, Serialize};
use tidewater_engine::time::{Timestamp, MIN_WATERMARK};

/// The start of every marker's key.
pub const MARKER_KEY_PREFIX: &str = "__tidewater_wm";

/// A producer's watermark, sent to one partition of the repartition topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The producer (its input partition).
    pub from: usize,
    /// Its watermark.
    pub watermark: Timestamp,
    /// The producer's input went idle: until its next marker it does not hold the
    /// partitions' watermarks back (Flink's idleness).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idle: bool,
}

/// Kafka's default partitioner hash (Java's `Utils.murmur2`, which librdkafka's
/// `murmur2_random` partitioner also uses for keyed records).
///
/// ```
/// use tidewater_connectors::kafka::shuffle::murmur2;
/// assert_eq!(murmur2(b"21"), -973932308);
/// ```
pub fn murmur2(data: &[u8]) -> i32 {
    const M: i32 = 0x5bd1_e995;
    let mut h: i32 = (0x9747_b28c_u32 as i32) ^ (data.len() as i32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= ((k as u32) >> 24) as i32;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() == 3 {
        h ^= i32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= i32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= i32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= ((h as u32) >> 13) as i32;
    h = h.wrapping_mul(M);
    h ^= ((h as u32) >> 15) as i32;
    h
}

/// The partition (of `partitions`) Kafka's default partitioner gives `key`.
pub fn partition_of(key: &[u8], partitions: i32) -> i32 {
    (murmur2(key) & 0x7fff_ffff) % partitions.max(1)
}

/// For each partition of a topic of `partitions`, a marker key that lands on it.
pub fn marker_keys(partitions: i32) -> Vec<String> {
    let mut keys: Vec<Option<String>> = vec![None; partitions.max(0) as usize];
    let mut n = 0u64;
    while keys.iter().any(Option::is_none) {
        let key = format!("{MARKER_KEY_PREFIX}-{n}");
        let p = partition_of(key.as_bytes(), partitions) as usize;
        keys[p].get_or_insert(key);
        n += 1;
    }
    keys.into_iter().flatten().collect()
}

/// Per partition of the repartition topic, each producer's newest watermark and
/// whether it is idle.
#[derive(Debug, Clone)]
pub struct ShuffleProgress {
    producers: usize,
    partitions: Vec<Vec<(Timestamp, bool)>>,
}

impl ShuffleProgress {
    /// Progress over `producers` producers.
    pub fn new(producers: usize) -> Self {
        ShuffleProgress {
            producers,
            partitions: Vec::new(),
        }
    }

    /// Takes `marker` read from partition index `partition`; returns the partition's
    /// watermark: the least over the producers that are not idle (`MIN_WATERMARK`
    /// until every producer has sent a marker; the greatest if all are idle).
    ///
    /// ```
    /// use tidewater_connectors::kafka::shuffle::{Marker, ShuffleProgress};
    /// use tidewater_engine::time::MIN_WATERMARK;
    /// let mark = |from, watermark, idle| Marker { from, watermark, idle };
    /// let mut progress = ShuffleProgress::new(2);
    /// assert_eq!(progress.observe(0, &mark(0, 50, false)), MIN_WATERMARK);
    /// assert_eq!(progress.observe(0, &mark(1, 30, false)), 30);
    /// assert_eq!(progress.observe(0, &mark(1, 90, false)), 50);
    /// // producer 0 goes idle: it no longer holds the partition back
    /// assert_eq!(progress.observe(0, &mark(0, 50, true)), 90);
    /// // and holds it again from its next marker
    /// assert_eq!(progress.observe(0, &mark(0, 60, false)), 60);
    /// ```
    pub fn observe(&mut self, partition: usize, marker: &Marker) -> Timestamp {
        if self.partitions.len() <= partition {
            self.partitions
                .resize(partition + 1, vec![(MIN_WATERMARK, false); self.producers]);
        }
        let marks = &mut self.partitions[partition];
        if let Some((w, idle)) = marks.get_mut(marker.from) {
            *w = (*w).max(marker.watermark);
            *idle = marker.idle;
        }
        let active = marks
            .iter()
            .filter(|(_, idle)| !idle)
            .map(|(w, _)| *w)
            .min();
        active
            .or_else(|| marks.iter().map(|(w, _)| *w).max())
            .unwrap_or(MIN_WATERMARK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_agrees_with_kafka() {
        // Kafka's UtilsTest vectors.
        for (key, hash) in [
            ("21", -973932308),
            ("foobar", -790332482),
            ("a-little-bit-long-string", -985981536),
            ("a-little-bit-longer-string", -1486304829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            ("abc", 479470107),
        ] {
            assert_eq!(murmur2(key.as_bytes()), hash, "{key}");
        }
    }

    #[test]
    fn every_partition_gets_a_marker_key_of_its_own() {
        for partitions in [1, 2, 6, 13] {
            let keys = marker_keys(partitions);
            let landed: Vec<i32> = keys
                .iter()
                .map(|k| partition_of(k.as_bytes(), partitions))
                .collect();
            assert_eq!(landed, (0..partitions).collect::<Vec<_>>());
        }
    }
}
