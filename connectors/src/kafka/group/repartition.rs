//! Repartitioning an input that is not partitioned by the pipeline's key: a task per
//! input partition reads it and writes each record, keyed, to the group's repartition
//! topic, with its watermark as markers to every partition of that topic (see
//! [`shuffle`](crate::kafka::shuffle)); the pipeline's own tasks read the repartition
//! topic, one per partition, each partition holding whole keys.

use std::time::Duration;

use serde_json::Value;
use tidewater_engine::error::Result;
use tidewater_engine::operator::{Control, Operator};
use tidewater_engine::prelude::*;
use tidewater_engine::time::{Timestamp, NO_TIMESTAMP};

use super::task::GroupTask;
use crate::kafka::shuffle::{marker_keys, Marker};
use crate::kafka::{KafkaSink, KafkaSinkConfig, KafkaSource, KafkaSourceConfig, StartingOffsets};

/// How a group repartitions its input: JSON records keyed by `key_field`, with their
/// event time (epoch ms) in `time_field` and a watermark `delay` behind it.
///
/// ```
/// use std::time::Duration;
/// use tidewater_connectors::kafka::group::Repartition;
/// let by_user = Repartition::by_json_field("user", "ts", Duration::from_secs(1));
/// assert_eq!(by_user.topic("clicks", "events"), "clicks-events-repartition");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Repartition {
    /// The field whose value is the key (a string's text, else its JSON).
    pub key_field: String,
    /// The field holding the event time, epoch ms.
    pub time_field: String,
    /// How far the watermark trails the newest event time of an input partition.
    pub delay: Duration,
    /// Partitions of the repartition topic (the key groups); default: the input's.
    pub partitions: Option<i32>,
    /// An input partition that delivers nothing for this long stops holding the
    /// repartitioned watermark back until it delivers again (default 10 s; `None`:
    /// an empty input partition holds every window back, as in Flink without
    /// idleness).
    pub idle_timeout: Option<Duration>,
}

impl Repartition {
    /// Repartitions JSON records by the value of `key_field`.
    pub fn by_json_field(
        key_field: impl Into<String>,
        time_field: impl Into<String>,
        delay: Duration,
    ) -> Self {
        Repartition {
            key_field: key_field.into(),
            time_field: time_field.into(),
            delay,
            partitions: None,
            idle_timeout: Some(Duration::from_secs(10)),
        }
    }

    /// Sets how long an input partition may deliver nothing before it stops holding
    /// the watermark back (`None`: for ever).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets the repartition topic's partition count (created with it if missing).
    pub fn partitions(mut self, partitions: i32) -> Self {
        self.partitions = Some(partitions);
        self
    }

    /// The repartition topic of group `group` over input `input`.
    pub fn topic(&self, group: &str, input: &str) -> String {
        format!("{group}-{input}-repartition")
    }

    /// The pipeline of the task that repartitions input partition `task.partition`
    /// into `topic` (of `partitions` partitions).
    pub(crate) fn pipeline(
        &self,
        task: &GroupTask,
        bootstrap: &str,
        topic: &str,
        partitions: i32,
    ) -> Pipeline {
        let mut p = Pipeline::new(task.config());
        let time_field = self.time_field.clone();
        let source =
            KafkaSource::json::<Value>(task.source(
                KafkaSourceConfig::new(bootstrap).starting_offsets(StartingOffsets::Earliest),
            ))
            .named("input")
            .with_event_time(move |v: &Value| v[&time_field].as_i64().unwrap_or(NO_TIMESTAMP))
            .with_watermark(self.delay);
        let source = match self.idle_timeout {
            Some(t) => source.with_idle_timeout(t),
            None => source,
        };
        let markers = ShuffleMarkers {
            key_field: self.key_field.clone(),
            keys: marker_keys(partitions),
            from: task.partition.max(0) as usize,
            sent: NO_TIMESTAMP,
        };
        p.source(source)
            .dead_letters(
                KafkaSink::new(task.sink(KafkaSinkConfig::new(
                    bootstrap,
                    format!("{topic}.dead-letters"),
                )))
                .named("dead_letters"),
            )
            .transform("watermark_markers", move |_| markers.clone())
            .sink(
                KafkaSink::new(
                    task.sink(
                        KafkaSinkConfig::new(bootstrap, topic)
                            .key_field(&self.key_field)
                            .create_topic(partitions),
                    ),
                )
                .named("repartition"),
            );
        p
    }
}

/// Passes records on and, whenever the watermark advances, adds a marker for every
/// partition of the repartition topic (keyed to land there).
#[derive(Clone)]
struct ShuffleMarkers {
    key_field: String,
    keys: Vec<String>,
    from: usize,
    sent: Timestamp,
}

impl Operator for ShuffleMarkers {
    type In = Value;
    type Out = Value;

    fn process_batch(&mut self, input: Batch<Value>, output: &mut Batch<Value>) -> Result<()> {
        output.extend(input);
        Ok(())
    }

    fn on_watermark(
        &mut self,
        watermark: Timestamp,
        output: &mut Batch<Value>,
    ) -> Result<Option<Timestamp>> {
        if watermark > self.sent {
            self.sent = watermark;
            self.mark(false, output);
        }
        Ok(Some(watermark))
    }

    /// The input went idle: the readers of the repartition topic stop waiting for
    /// this producer until its next marker.
    fn on_control(
        &mut self,
        control: Control,
        output: &mut Batch<Value>,
    ) -> Result<Option<Control>> {
        if control == Control::Idle {
            self.mark(true, output);
        }
        Ok(Some(control))
    }
}

impl ShuffleMarkers {
    /// A marker of the newest watermark for every partition of the repartition topic.
    fn mark(&self, idle: bool, output: &mut Batch<Value>) {
        let marker = Marker {
            from: self.from,
            watermark: self.sent,
            idle,
        };
        for key in &self.keys {
            let mut value = serde_json::json!({ "__tidewater_marker": marker });
            value[&self.key_field] = Value::String(key.clone());
            output.push(Record::new(NO_TIMESTAMP, value));
        }
    }
}
