//! Where a Kafka source starts and stops, in Spark's vocabulary: `earliest`, `latest`,
//! or per-partition JSON such as `{"events":{"0":23,"1":-2}}` (-2 earliest, -1 latest).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Spark's code for "the earliest offset" in per-partition JSON.
pub const EARLIEST: i64 = -2;
/// Spark's code for "the latest offset" in per-partition JSON.
pub const LATEST: i64 = -1;

/// Where a new run starts reading (a run that resumes from a checkpoint continues from
/// its offsets instead).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StartingOffsets {
    /// The first offset of each partition.
    #[default]
    Earliest,
    /// The end of each partition when the run starts: only new records.
    Latest,
    /// An offset per topic and partition (`-2` earliest, `-1` latest); every partition
    /// read must be listed.
    Specific(BTreeMap<String, BTreeMap<i32, i64>>),
}

/// Where a bounded run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndingOffsets {
    /// Never: the source is unbounded.
    #[default]
    Unbounded,
    /// The end of each partition when the run starts (Spark's `availableNow`): the
    /// source finishes once it has read that far.
    Latest,
}

/// Where one partition starts, resolved against the partition's offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionStart {
    /// Its first offset.
    Earliest,
    /// Its end.
    Latest,
    /// This offset.
    At(i64),
}

impl StartingOffsets {
    /// Where `topic`/`partition` starts, or `None` if a specific map leaves it out.
    pub fn partition(&self, topic: &str, partition: i32) -> Option<PartitionStart> {
        match self {
            StartingOffsets::Earliest => Some(PartitionStart::Earliest),
            StartingOffsets::Latest => Some(PartitionStart::Latest),
            StartingOffsets::Specific(map) => {
                let offset = *map.get(topic)?.get(&partition)?;
                Some(match offset {
                    EARLIEST => PartitionStart::Earliest,
                    LATEST => PartitionStart::Latest,
                    n => PartitionStart::At(n),
                })
            }
        }
    }

    /// Offsets below -2 are meaningless; the problem, if any.
    pub fn problem(&self) -> Option<String> {
        let StartingOffsets::Specific(map) = self else {
            return None;
        };
        map.iter()
            .flat_map(|(t, parts)| parts.iter().map(move |(p, o)| (t, p, o)))
            .find(|(_, _, &o)| o < EARLIEST)
            .map(|(t, p, o)| {
                format!("topic `{t}` partition {p}: offset {o} (expected >= 0, -1 latest or -2 earliest)")
            })
    }
}

/// Resolves a partition's start against its low and high watermarks (first offset and
/// end). An offset beyond the end starts at the end; below the first, at the first
/// (the records before it were deleted).
pub fn resolve(start: PartitionStart, low: i64, high: i64) -> i64 {
    match start {
        PartitionStart::Earliest => low,
        PartitionStart::Latest => high,
        PartitionStart::At(n) => n.clamp(low, high),
    }
}

/// Where a partition continues from `next` (a restored position, or a starting offset
/// asked for) when its first offset still in Kafka is `low`. Records below `low` were
/// deleted (retention, `deleteRecords`): with `fail_on_data_loss` (Spark's
/// `failOnDataLoss`, true by default) that fails the run naming what was lost;
/// otherwise reading continues at `low` and the loss is logged.
pub fn continue_from(
    topic: &str,
    partition: i32,
    next: i64,
    low: i64,
    fail_on_data_loss: bool,
) -> Result<i64, String> {
    if next >= low {
        return Ok(next);
    }
    let lost = format!(
        "offsets {next}..{} of topic `{topic}` partition {partition} are no longer in Kafka (the first one left is {low})",
        low - 1
    );
    if fail_on_data_loss {
        Err(format!(
            "{lost}: some data may have been lost; set failOnDataLoss to false to continue from offset {low}"
        ))
    } else {
        tracing::warn!(%topic, partition, next, low, "{lost}: continuing from offset {low} (failOnDataLoss is false)");
        Ok(low)
    }
}

impl FromStr for StartingOffsets {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "earliest" => Ok(StartingOffsets::Earliest),
            "latest" => Ok(StartingOffsets::Latest),
            json if json.starts_with('{') => {
                let raw: BTreeMap<String, BTreeMap<String, i64>> = serde_json::from_str(json)
                    .map_err(|e| format!("per-partition offsets: {e}"))?;
                let mut map = BTreeMap::new();
                for (topic, parts) in raw {
                    let mut out = BTreeMap::new();
                    for (p, o) in parts {
                        let p: i32 = p.parse().map_err(|_| {
                            format!("topic `{topic}`: partition `{p}` is not a number")
                        })?;
                        out.insert(p, o);
                    }
                    map.insert(topic, out);
                }
                let offsets = StartingOffsets::Specific(map);
                match offsets.problem() {
                    Some(p) => Err(p),
                    None => Ok(offsets),
                }
            }
            other => Err(format!(
                "`{other}` (expected `earliest`, `latest` or per-partition JSON such as \
                 {{\"topic\":{{\"0\":23}}}})"
            )),
        }
    }
}

impl fmt::Display for StartingOffsets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartingOffsets::Earliest => f.write_str("earliest"),
            StartingOffsets::Latest => f.write_str("latest"),
            StartingOffsets::Specific(map) => {
                let json: BTreeMap<&String, BTreeMap<String, i64>> = map
                    .iter()
                    .map(|(t, ps)| (t, ps.iter().map(|(p, o)| (p.to_string(), *o)).collect()))
                    .collect();
                f.write_str(&serde_json::to_string(&json).map_err(|_| fmt::Error)?)
            }
        }
    }
}

impl Serialize for StartingOffsets {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for StartingOffsets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A config file may give the per-partition map as JSON text or as a map.
        let raw = serde_json::Value::deserialize(d)?;
        let text = match raw {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for EndingOffsets {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "latest" => Ok(EndingOffsets::Latest),
            "none" | "unbounded" => Ok(EndingOffsets::Unbounded),
            other => Err(format!("`{other}` (expected `latest` or `unbounded`)")),
        }
    }
}

impl fmt::Display for EndingOffsets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EndingOffsets::Latest => "latest",
            EndingOffsets::Unbounded => "unbounded",
        })
    }
}

impl Serialize for EndingOffsets {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for EndingOffsets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_offsets_parse_as_spark_writes_them() {
        let specific = |pairs: &[(&str, i32, i64)]| {
            let mut map: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
            for &(t, p, o) in pairs {
                map.entry(t.to_string()).or_default().insert(p, o);
            }
            StartingOffsets::Specific(map)
        };
        // (text, parsed)
        let cases = [
            ("earliest", Ok(StartingOffsets::Earliest)),
            (" latest ", Ok(StartingOffsets::Latest)),
            (
                r#"{"a":{"0":23,"1":-2},"b":{"0":-1}}"#,
                Ok(specific(&[("a", 0, 23), ("a", 1, -2), ("b", 0, -1)])),
            ),
            (
                "newest",
                Err("`newest` (expected `earliest`, `latest` or per-partition JSON such as {\"topic\":{\"0\":23}})".to_string()),
            ),
            (
                r#"{"a":{"x":1}}"#,
                Err("topic `a`: partition `x` is not a number".to_string()),
            ),
            (
                r#"{"a":{"0":-3}}"#,
                Err("topic `a` partition 0: offset -3 (expected >= 0, -1 latest or -2 earliest)".to_string()),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<StartingOffsets>(), expected, "{text}");
        }
    }

    #[test]
    fn specific_offsets_round_trip_through_text() {
        let text = r#"{"a":{"0":23,"1":-2}}"#;
        let parsed: StartingOffsets = text.parse().unwrap();
        assert_eq!(parsed.to_string(), text);
        let from_config: StartingOffsets =
            serde_json::from_str(r#"{"a":{"0":23,"1":-2}}"#).unwrap();
        assert_eq!(from_config, parsed);
    }

    #[test]
    fn partition_starts_resolve_against_the_partition() {
        let offsets: StartingOffsets =
            r#"{"a":{"0":5,"1":-1,"2":-2,"3":99,"4":1}}"#.parse().unwrap();
        // (partition, low, high, resolved)
        for (p, low, high, expected) in [
            (0, 0, 10, Some(5)),
            (1, 0, 10, Some(10)),
            (2, 3, 10, Some(3)),
            (3, 0, 10, Some(10)),
            (4, 2, 10, Some(2)),
            (5, 0, 10, None),
        ] {
            let got = offsets.partition("a", p).map(|s| resolve(s, low, high));
            assert_eq!(got, expected, "partition {p}");
        }
        assert_eq!(offsets.partition("b", 0), None);
        assert_eq!(
            StartingOffsets::Latest
                .partition("x", 7)
                .map(|s| resolve(s, 1, 4)),
            Some(4)
        );
    }

    #[test]
    fn ending_offsets_parse() {
        assert_eq!("latest".parse(), Ok(EndingOffsets::Latest));
        assert_eq!("unbounded".parse(), Ok(EndingOffsets::Unbounded));
        assert!("soon".parse::<EndingOffsets>().is_err());
    }

    #[test]
    fn lost_records_fail_the_run_or_are_skipped_as_asked() {
        // (next, low, fail_on_data_loss, result)
        let table: [(i64, i64, bool, Result<i64, &str>); 5] = [
            (5, 3, true, Ok(5)),
            (3, 3, true, Ok(3)),
            (2, 3, false, Ok(3)),
            (0, 7, false, Ok(7)),
            (1, 3, true, Err("offsets 1..2 of topic `t` partition 4 are no longer in Kafka (the first one left is 3): some data may have been lost; set failOnDataLoss to false to continue from offset 3")),
        ];
        for (next, low, fail, want) in table {
            let got = continue_from("t", 4, next, low, fail);
            assert_eq!(
                got.as_ref().map_err(String::as_str),
                want.as_ref().map_err(|e| *e),
                "{next} {low} {fail}"
            );
        }
    }
}
