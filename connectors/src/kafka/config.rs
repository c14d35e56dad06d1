//! Settings of the Kafka source and sink: serde structs that reject unknown keys (so a
//! config file's typo is an error, not a silently ignored setting) and a `validate`
//! that reports every problem at once, naming the field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tidewater_engine::error::{EngineError, Problems, Result};

use super::offsets::{EndingOffsets, StartingOffsets};

/// Client properties the connectors set themselves; passing them through would break
/// the source's positions or the sink's guarantees.
const SOURCE_MANAGED: &[&str] = &[
    "enable.auto.commit",
    "enable.auto.offset.store",
    "enable.partition.eof",
    "auto.offset.reset",
];
const SINK_MANAGED: &[&str] = &["transactional.id", "enable.idempotence"];

/// Which partitions a source reads: exactly one of the three ways, as in Spark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topics<'a> {
    /// Every partition of these topics.
    Subscribe(&'a [String]),
    /// Every partition of every topic whose whole name matches this regex.
    Pattern(&'a str),
    /// These partitions.
    Assign(&'a BTreeMap<String, Vec<i32>>),
}

/// Settings of a [`KafkaSource`](super::KafkaSource).
///
/// ```
/// use tidewater_connectors::kafka::{KafkaSourceConfig, StartingOffsets};
/// let config: KafkaSourceConfig = serde_json::from_str(r#"{
///     "bootstrap_servers": "localhost:9092",
///     "subscribe": ["events"],
///     "starting_offsets": {"events": {"0": 42, "1": -2}}
/// }"#).unwrap();
/// assert!(config.validate("kafka").is_ok());
/// assert_eq!(config.starting_offsets.to_string(), r#"{"events":{"0":42,"1":-2}}"#);
///
/// let both = KafkaSourceConfig::new("localhost:9092").subscribe(["a"]).subscribe_pattern("b.*");
/// assert_eq!(
///     both.validate("kafka").unwrap_err().to_string(),
///     "pipeline `kafka`: `kafka`: invalid `topics`: expected exactly one of `subscribe`, \
///      `subscribe_pattern` and `assign`, found `subscribe` and `subscribe_pattern`"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSourceConfig {
    /// `host:port[,host:port...]`.
    pub bootstrap_servers: String,
    /// Topics to read, all their partitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Vec<String>>,
    /// A regex; every topic whose whole name matches is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe_pattern: Option<String>,
    /// Partitions to read, by topic (Spark's `assign`: `{"topic": [0, 1]}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign: Option<BTreeMap<String, Vec<i32>>>,
    /// Where a new run starts (a resumed run continues from its checkpoint).
    #[serde(default)]
    pub starting_offsets: StartingOffsets,
    /// Where a run stops: `latest` reads up to the end seen at start, then finishes.
    #[serde(default)]
    pub ending_offsets: EndingOffsets,
    /// At most this many records per batch of one reader (Spark's rate limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_offsets_per_trigger: Option<u64>,
    /// Consumer group id. The group is not used for positions (the checkpoint holds
    /// them); offsets are committed back to it after each checkpoint, for monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Other librdkafka consumer properties, passed through
    /// (`isolation.level` defaults to `read_committed`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// How often an unbounded `subscribe` or `subscribe_pattern` source looks for new
    /// partitions and topics (read from their earliest offset, as Spark does); default
    /// 30 000 ms, 0 turns it off. Bounded runs and `assign` read a fixed set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_discovery_interval_ms: Option<u64>,
    /// Spark's `failOnDataLoss`: when records a run needs (from its checkpoint or its
    /// starting offsets) were deleted from Kafka, fail the run (default) or, with
    /// `Some(false)`, continue from the first offset still there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on_data_loss: Option<bool>,
    /// The topics read are repartition topics written by this many producers, each
    /// sending its watermark to every partition (see [`shuffle`](super::shuffle)): a
    /// partition's watermark is the producers' least, and the markers are not records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shuffle_producers: Option<usize>,
}

impl KafkaSourceConfig {
    /// Settings for the cluster at `bootstrap_servers`; choose topics next.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        KafkaSourceConfig {
            bootstrap_servers: bootstrap_servers.into(),
            ..Default::default()
        }
    }

    /// Whether deleted records a run needs fail it (Spark's `failOnDataLoss`,
    /// default true).
    pub fn fail_on_data_loss(mut self, fail: bool) -> Self {
        self.fail_on_data_loss = Some(fail);
        self
    }

    /// Reads every partition of `topics`.
    pub fn subscribe<S: Into<String>>(mut self, topics: impl IntoIterator<Item = S>) -> Self {
        self.subscribe = Some(topics.into_iter().map(Into::into).collect());
        self
    }

    /// Reads every topic whose whole name matches `regex`.
    pub fn subscribe_pattern(mut self, regex: impl Into<String>) -> Self {
        self.subscribe_pattern = Some(regex.into());
        self
    }

    /// Reads these partitions of `topic` (call again for more topics).
    pub fn assign(
        mut self,
        topic: impl Into<String>,
        partitions: impl IntoIterator<Item = i32>,
    ) -> Self {
        self.assign
            .get_or_insert_with(BTreeMap::new)
            .entry(topic.into())
            .or_default()
            .extend(partitions);
        self
    }

    /// Where a new run starts.
    pub fn starting_offsets(mut self, offsets: StartingOffsets) -> Self {
        self.starting_offsets = offsets;
        self
    }

    /// Where the run stops.
    pub fn ending_offsets(mut self, offsets: EndingOffsets) -> Self {
        self.ending_offsets = offsets;
        self
    }

    /// At most `n` records per batch of one reader.
    pub fn max_offsets_per_trigger(mut self, n: u64) -> Self {
        self.max_offsets_per_trigger = Some(n);
        self
    }

    /// The consumer group offsets are reported to.
    pub fn group_id(mut self, group: impl Into<String>) -> Self {
        self.group_id = Some(group.into());
        self
    }

    /// Sets a librdkafka consumer property.
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// Looks for new partitions and topics every `interval_ms` (0: never).
    pub fn partition_discovery_interval_ms(mut self, interval_ms: u64) -> Self {
        self.partition_discovery_interval_ms = Some(interval_ms);
        self
    }

    /// The discovery interval in effect: `None` when this source reads a fixed set.
    pub fn discovery_interval_ms(&self) -> Option<u64> {
        let fixed = self.ending_offsets == EndingOffsets::Latest
            || matches!(self.topics(), Some(Topics::Assign(_)) | None);
        match self.partition_discovery_interval_ms.unwrap_or(30_000) {
            0 => None,
            _ if fixed => None,
            ms => Some(ms),
        }
    }

    /// The one way of choosing partitions that is set (after [`validate`](Self::validate)).
    pub fn topics(&self) -> Option<Topics<'_>> {
        match (&self.subscribe, &self.subscribe_pattern, &self.assign) {
            (Some(t), None, None) => Some(Topics::Subscribe(t)),
            (None, Some(p), None) => Some(Topics::Pattern(p)),
            (None, None, Some(a)) => Some(Topics::Assign(a)),
            _ => None,
        }
    }

    /// Every problem of these settings, under `node` (the source's name).
    pub fn validate(&self, node: &str) -> Result<()> {
        let mut problems = Problems::new();
        check_bootstrap(&mut problems, node, &self.bootstrap_servers);
        let set: Vec<&str> = [
            ("subscribe", self.subscribe.is_some()),
            ("subscribe_pattern", self.subscribe_pattern.is_some()),
            ("assign", self.assign.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| name)
        .collect();
        if set.len() != 1 {
            let found = match set.as_slice() {
                [] => "none".to_string(),
                [a, b] => format!("`{a}` and `{b}`"),
                _ => "all three".to_string(),
            };
            problems.push(EngineError::invalid(
                node,
                "topics",
                "exactly one of `subscribe`, `subscribe_pattern` and `assign`",
                found,
            ));
        }
        if let Some(topics) = &self.subscribe {
            problems.check(
                !topics.is_empty(),
                node,
                "subscribe",
                "at least one topic",
                "[]",
            );
            for t in topics {
                check_topic(&mut problems, node, "subscribe", t);
            }
        }
        if let Some(pattern) = &self.subscribe_pattern {
            if let Err(e) = regex::Regex::new(pattern) {
                problems.push(EngineError::invalid(
                    node,
                    "subscribe_pattern",
                    "a regular expression",
                    format!("`{pattern}` ({})", first_line(&e.to_string())),
                ));
            }
        }
        if let Some(assign) = &self.assign {
            problems.check(
                !assign.is_empty(),
                node,
                "assign",
                "at least one topic",
                "{}",
            );
            for (topic, parts) in assign {
                check_topic(&mut problems, node, "assign", topic);
                problems.check(
                    !parts.is_empty(),
                    node,
                    "assign",
                    "at least one partition per topic",
                    format!("no partition for `{topic}`"),
                );
                if let Some(p) = parts.iter().find(|&&p| p < 0) {
                    problems.push(EngineError::invalid(
                        node,
                        "assign",
                        "partitions >= 0",
                        format!("partition {p} of `{topic}`"),
                    ));
                }
            }
        }
        if let Some(p) = self.starting_offsets.problem() {
            problems.push(EngineError::invalid(
                node,
                "starting_offsets",
                "valid offsets",
                p,
            ));
        }
        if let Some(n) = self.max_offsets_per_trigger {
            problems.check(n > 0, node, "max_offsets_per_trigger", "at least 1", n);
        }
        if let Some(g) = &self.group_id {
            problems.check(
                !g.trim().is_empty(),
                node,
                "group_id",
                "a non-empty name",
                "\"\"",
            );
        }
        check_managed(&mut problems, node, &self.properties, SOURCE_MANAGED);
        problems.finish(node, ())
    }
}

/// Settings of a [`KafkaSink`](super::KafkaSink).
///
/// ```
/// use tidewater_connectors::kafka::KafkaSinkConfig;
/// let config = KafkaSinkConfig::new("localhost:9092", "results").key_field("key");
/// assert!(config.validate("kafka_sink").is_ok());
/// let bad: Result<KafkaSinkConfig, _> = serde_json::from_str(r#"{"bootstrap_servers": "h:1", "topik": "x"}"#);
/// assert!(bad.unwrap_err().to_string().starts_with("unknown field `topik`, expected one of"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSinkConfig {
    /// `host:port[,host:port...]`.
    pub bootstrap_servers: String,
    /// The topic written to.
    pub topic: String,
    /// The field of a written record whose value becomes the Kafka key (records with
    /// the same key go to the same partition); none: no key, partitions round-robin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_field: Option<String>,
    /// Prefix of the transactional ids (exactly-once); default `tidewater`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactional_id_prefix: Option<String>,
    /// If the topic does not exist when the sink starts, create it with this many
    /// partitions (the broker's default replication); none: a missing topic is the
    /// broker's business (auto-creation or an error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_topic: Option<i32>,
    /// Other librdkafka producer properties, passed through.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
}

impl KafkaSinkConfig {
    /// Settings to write `topic` on the cluster at `bootstrap_servers`.
    pub fn new(bootstrap_servers: impl Into<String>, topic: impl Into<String>) -> Self {
        KafkaSinkConfig {
            bootstrap_servers: bootstrap_servers.into(),
            topic: topic.into(),
            ..Default::default()
        }
    }

    /// Keys records by this field.
    pub fn key_field(mut self, field: impl Into<String>) -> Self {
        self.key_field = Some(field.into());
        self
    }

    /// Prefix of the transactional ids.
    pub fn transactional_id_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.transactional_id_prefix = Some(prefix.into());
        self
    }

    /// Sets a librdkafka producer property.
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// Creates the topic with `partitions` partitions if it is missing at start.
    pub fn create_topic(mut self, partitions: i32) -> Self {
        self.create_topic = Some(partitions);
        self
    }

    /// Every problem of these settings, under `node` (the sink's name).
    pub fn validate(&self, node: &str) -> Result<()> {
        let mut problems = Problems::new();
        check_bootstrap(&mut problems, node, &self.bootstrap_servers);
        check_topic(&mut problems, node, "topic", &self.topic);
        if let Some(f) = &self.key_field {
            problems.check(!f.is_empty(), node, "key_field", "a field name", "\"\"");
        }
        if let Some(p) = &self.transactional_id_prefix {
            problems.check(
                !p.is_empty(),
                node,
                "transactional_id_prefix",
                "a non-empty prefix",
                "\"\"",
            );
        }
        if let Some(n) = self.create_topic {
            problems.check(n > 0, node, "create_topic", "at least 1 partition", n);
        }
        check_managed(&mut problems, node, &self.properties, SINK_MANAGED);
        problems.finish(node, ())
    }
}

fn check_bootstrap(problems: &mut Problems, node: &str, servers: &str) {
    let ok = !servers.trim().is_empty()
        && servers.split(',').all(|s| {
            s.trim()
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
        });
    problems.check(
        ok,
        node,
        "bootstrap_servers",
        "host:port[,host:port...]",
        format!("`{servers}`"),
    );
}

/// Kafka's own rule for topic names.
fn check_topic(problems: &mut Problems, node: &str, field: &str, topic: &str) {
    let ok = !topic.is_empty()
        && topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    problems.check(
        ok,
        node,
        field,
        "a topic name (1-249 of [a-zA-Z0-9._-])",
        format!("`{topic}`"),
    );
}

fn check_managed(
    problems: &mut Problems,
    node: &str,
    properties: &BTreeMap<String, String>,
    managed: &[&str],
) {
    for key in properties.keys().filter(|k| managed.contains(&k.as_str())) {
        problems.push(EngineError::invalid(
            node,
            "properties",
            "properties the connector does not set itself",
            format!("`{key}`, which the connector manages"),
        ));
    }
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(e: EngineError) -> Vec<String> {
        e.problems().iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn every_problem_of_a_source_config_is_reported() {
        let config = KafkaSourceConfig {
            bootstrap_servers: "localhost".into(),
            subscribe: Some(vec!["ok".into(), "bad topic".into()]),
            assign: Some(BTreeMap::from([("t".to_string(), vec![-1])])),
            max_offsets_per_trigger: Some(0),
            properties: BTreeMap::from([("enable.auto.commit".to_string(), "true".to_string())]),
            ..Default::default()
        };
        assert_eq!(
            messages(config.validate("kafka").unwrap_err()),
            vec![
                "`kafka`: invalid `bootstrap_servers`: expected host:port[,host:port...], found `localhost`",
                "`kafka`: invalid `topics`: expected exactly one of `subscribe`, `subscribe_pattern` and `assign`, found `subscribe` and `assign`",
                "`kafka`: invalid `subscribe`: expected a topic name (1-249 of [a-zA-Z0-9._-]), found `bad topic`",
                "`kafka`: invalid `assign`: expected partitions >= 0, found partition -1 of `t`",
                "`kafka`: invalid `max_offsets_per_trigger`: expected at least 1, found 0",
                "`kafka`: invalid `properties`: expected properties the connector does not set itself, found `enable.auto.commit`, which the connector manages",
            ]
        );
    }

    #[test]
    fn a_source_needs_one_way_to_choose_topics() {
        let none = KafkaSourceConfig::new("h:9092");
        assert_eq!(
            messages(none.validate("k").unwrap_err()),
            vec!["`k`: invalid `topics`: expected exactly one of `subscribe`, `subscribe_pattern` and `assign`, found none"]
        );
        let pattern = KafkaSourceConfig::new("h:9092").subscribe_pattern("(unclosed");
        let msg = messages(pattern.validate("k").unwrap_err());
        assert_eq!(msg.len(), 1);
        assert!(msg[0].starts_with("`k`: invalid `subscribe_pattern`: expected a regular expression, found `(unclosed` ("), "{}", msg[0]);
        let assign = KafkaSourceConfig::new("a:1,b:2")
            .assign("t", [0, 2])
            .assign("u", [1]);
        assert!(assign.validate("k").is_ok());
        assert_eq!(
            assign.topics(),
            Some(Topics::Assign(assign.assign.as_ref().unwrap()))
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = serde_json::from_str::<KafkaSourceConfig>(
            r#"{"bootstrap_servers": "h:1", "subscribe": ["a"], "startingOffsets": "earliest"}"#,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("unknown field `startingOffsets`"),
            "{e}"
        );
    }

    #[test]
    fn every_problem_of_a_sink_config_is_reported() {
        let config = KafkaSinkConfig {
            bootstrap_servers: String::new(),
            topic: String::new(),
            key_field: Some(String::new()),
            properties: BTreeMap::from([("transactional.id".to_string(), "x".to_string())]),
            ..Default::default()
        };
        assert_eq!(
            messages(config.validate("out").unwrap_err()),
            vec![
                "`out`: invalid `bootstrap_servers`: expected host:port[,host:port...], found ``",
                "`out`: invalid `topic`: expected a topic name (1-249 of [a-zA-Z0-9._-]), found ``",
                "`out`: invalid `key_field`: expected a field name, found \"\"",
                "`out`: invalid `properties`: expected properties the connector does not set itself, found `transactional.id`, which the connector manages",
            ]
        );
    }
}
