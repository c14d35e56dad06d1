//! Stream emitter parameters with the reference defaults.

use crate::core::GeneratorErrors;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::{all_problems, check_probability, BurstWindow, GeneratorError};

/// Where the emitter's events are meant to go (informational here; connectors deliver).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkType {
    /// Standard output.
    Console,
    /// A file.
    File,
    /// Azure Event Hubs.
    Eventhub,
    /// Fabric Eventstream.
    Eventstream,
    /// A Kafka topic per envelope topic.
    Kafka,
}

/// Topic names of the emitter's tables: one per table in generation order, or a
/// mapping from table name to topic (tables it leaves out use their own name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Topics {
    /// One topic per table, in order (empty: the table names).
    List(Vec<String>),
    /// Table name to topic.
    Map(BTreeMap<String, String>),
}

impl Default for Topics {
    fn default() -> Self {
        Topics::List(Vec::new())
    }
}

impl From<Vec<String>> for Topics {
    fn from(list: Vec<String>) -> Self {
        Topics::List(list)
    }
}

impl<const N: usize> From<[(&str, &str); N]> for Topics {
    fn from(pairs: [(&str, &str); N]) -> Self {
        Topics::Map(
            pairs
                .iter()
                .map(|(t, q)| (t.to_string(), q.to_string()))
                .collect(),
        )
    }
}

impl Topics {
    /// The topic of table number `index`, named `table`.
    pub fn topic(&self, index: usize, table: &str) -> String {
        match self {
            Topics::List(list) => list.get(index).cloned(),
            Topics::Map(map) => map.get(table).cloned(),
        }
        .unwrap_or_else(|| table.to_string())
    }

    /// The problem with these topics for `tables`, if any.
    pub fn check(&self, tables: &[&str]) -> Option<GeneratorError> {
        match self {
            Topics::List(list) if !list.is_empty() && list.len() != tables.len() => {
                Some(GeneratorError::InvalidParameter {
                    field: "topics".into(),
                    expected: format!("one topic per table ({})", tables.len()),
                    found: format!("{} topics", list.len()),
                })
            }
            Topics::Map(map) => map.keys().find(|t| !tables.contains(&t.as_str())).map(|t| {
                GeneratorError::InvalidParameter {
                    field: "topics".into(),
                    expected: format!("a mapping from tables ({}) to topics", tables.join(", ")),
                    found: format!("table `{t}`"),
                }
            }),
            Topics::List(_) => None,
        }
    }
}

/// Parameters of [`StreamEmitter`](super::StreamEmitter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamEmitConfig {
    /// Base events per second.
    pub rate_per_sec: f64,
    /// Maximum random delay added between events (ms).
    pub jitter_ms: f64,
    /// Windows with a multiplied rate.
    pub burst_windows: Vec<BurstWindow>,
    /// Fraction of events delivered out of order.
    pub out_of_order_probability: f64,
    /// Re-emit recent events.
    pub replay_enabled: bool,
    /// How far back a replay reaches.
    pub replay_window_minutes: f64,
    /// Chance per event of triggering a replay.
    pub replay_probability: f64,
    /// Events re-emitted per replay.
    pub replay_burst_size: u64,
    /// Topic names: one per table in order, a table-to-topic mapping, or empty for the
    /// table names.
    pub topics: Topics,
    /// The envelopes' `source`.
    pub envelope_source: String,
    /// Default schema version of every topic.
    pub envelope_schema_version: String,
    /// Per-topic schema versions overriding the default.
    pub schema_versions: BTreeMap<String, String>,
    /// Intended sink.
    pub sink_type: SinkType,
    /// Connection settings of the sink.
    pub sink_connection: BTreeMap<String, String>,
    /// Stop after this many primary events.
    pub max_events: Option<u64>,
    /// Pace emission in real time: each envelope is produced when its scheduled time
    /// (relative to the start) has come on the wall clock, instead of as fast as
    /// possible. Envelope times stay the deterministic schedule.
    pub realtime: bool,
    /// Start of synthetic time (epoch ms).
    #[serde(alias = "start_time", deserialize_with = "crate::core::ms_or_iso")]
    pub start_time_ms: i64,
    /// Daily and weekly shape of the event rate (`diurnal`, `business_week`, or
    /// `{hourly, weekly}` multipliers; none: constant). The events of a week stay as
    /// many; they bunch where the curve is high.
    #[serde(default)]
    pub rate_curve: Option<crate::core::RateCurve>,
    /// Random seed.
    pub seed: u64,
}

impl Default for StreamEmitConfig {
    fn default() -> Self {
        StreamEmitConfig {
            rate_per_sec: 10.0,
            jitter_ms: 0.0,
            burst_windows: Vec::new(),
            out_of_order_probability: 0.0,
            replay_enabled: false,
            replay_window_minutes: 5.0,
            replay_probability: 0.05,
            replay_burst_size: 10,
            topics: Topics::default(),
            envelope_source: "spindle".into(),
            envelope_schema_version: "1.0".into(),
            schema_versions: BTreeMap::new(),
            sink_type: SinkType::Console,
            sink_connection: BTreeMap::new(),
            max_events: None,
            realtime: false,
            start_time_ms: 1_704_067_200_000,
            rate_curve: None,
            seed: 42,
        }
    }
}

impl StreamEmitConfig {
    /// Checks every parameter; returns all problems.
    pub fn validate(&self) -> Result<(), GeneratorErrors> {
        let mut problems: Vec<GeneratorError> = [
            ("out_of_order_probability", self.out_of_order_probability),
            ("replay_probability", self.replay_probability),
        ]
        .into_iter()
        .filter_map(|(f, p)| check_probability(f, p).err())
        .collect();
        let pacing = crate::core::Pacing {
            rate_per_sec: self.rate_per_sec,
            jitter_ms: self.jitter_ms,
            burst_windows: self.burst_windows.clone(),
            bucket_size: 1,
        };
        if let Err(e) = pacing.validate() {
            problems.extend(e);
        }
        if !(self.replay_window_minutes >= 0.0 && self.replay_window_minutes.is_finite()) {
            problems.push(GeneratorError::InvalidParameter {
                field: "replay_window_minutes".into(),
                expected: "a number >= 0".into(),
                found: self.replay_window_minutes.to_string(),
            });
        }
        problems.extend(crate::core::RateCurve::check(self.rate_curve.as_ref()));
        all_problems(problems)
    }
}
