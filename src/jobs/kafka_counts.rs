//! Kafka in, windows, Kafka out: JSON events `{"key", "value", "ts"}` from the start
//! of a topic up to the end offsets seen when the job starts, 1-second tumbling windows
//! per key with a 1-second bounded watermark, and `{"key", "window_start",
//! "window_end", "count", "sum"}` JSON values (keyed by `key`) written to another
//! topic. Checkpointed; started again on the same checkpoint folder it resumes.
//! Values that are not such JSON go to the dead-letter topic (`<output>.dead-letters`
//! unless set). Missing output topics are created (the output with one partition per
//! worker, the dead-letter topic with one). The `kafka_counts` example runs it from the command line and the
//! Kafka crash tests kill and restart it.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tidewater_connectors::kafka::group::{GroupInstance, GroupTask, Repartition};
use tidewater_connectors::kafka::{
    EndingOffsets, KafkaSink, KafkaSinkConfig, KafkaSource, KafkaSourceConfig, StartingOffsets,
};
use tidewater_engine::config::DeliveryGuarantee;
use tidewater_engine::prelude::*;

/// One input event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Grouping key.
    pub key: String,
    /// Value summed per window.
    pub value: f64,
    /// Event time, epoch ms.
    pub ts: i64,
}

/// One output row: a key's window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyWindow {
    /// The key.
    pub key: String,
    /// Inclusive window start, epoch ms.
    pub window_start: i64,
    /// Exclusive window end, epoch ms.
    pub window_end: i64,
    /// Events in the window.
    pub count: u64,
    /// Sum of their values.
    pub sum: f64,
}

/// Parameters of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KafkaCounts {
    /// `host:port` of the cluster.
    pub bootstrap: String,
    /// Topic read.
    pub input: String,
    /// Topic written.
    pub output: String,
    /// Topic dead letters are written to (`None`: `<output>.dead-letters`).
    #[serde(default)]
    pub dead_letters: Option<String>,
    /// The sled checkpoint folder.
    pub checkpoint_dir: PathBuf,
    /// Delivery guarantee.
    pub delivery: DeliveryGuarantee,
    /// Processing time between checkpoints.
    pub checkpoint_interval_ms: u64,
    /// Worker threads.
    pub parallelism: usize,
}

impl KafkaCounts {
    /// The dead-letter topic.
    pub fn dead_letter_topic(&self) -> String {
        self.dead_letters
            .clone()
            .unwrap_or_else(|| format!("{}.dead-letters", self.output))
    }

    /// The run's config: name and checkpoints.
    fn config(&self) -> Config {
        Config::default()
            .with_name("kafka_counts")
            .with_checkpointing(
                &self.checkpoint_dir,
                Duration::from_millis(self.checkpoint_interval_ms),
                self.delivery,
            )
    }

    /// The pipeline, not yet started.
    pub fn pipeline(&self) -> Pipeline {
        let config = self.config().with_parallelism(self.parallelism);
        let source = KafkaSourceConfig::new(&self.bootstrap)
            .subscribe([self.input.as_str()])
            .starting_offsets(StartingOffsets::Earliest)
            .ending_offsets(EndingOffsets::Latest);
        self.build(config, source, |sink| sink)
    }

    /// The pipeline of one task of group `group` (see
    /// [`run_in_group`](Self::run_in_group)): its partition only, read without end.
    pub fn task_pipeline(&self, task: &GroupTask) -> Pipeline {
        let source = task.source(
            KafkaSourceConfig::new(&self.bootstrap).starting_offsets(StartingOffsets::Earliest),
        );
        self.build(task.config(), source, |sink| task.sink(sink))
    }

    /// One instance of consumer group `group`, not yet running (run it with
    /// [`task_pipeline`](Self::task_pipeline) as its build function). With
    /// `repartition` off the input must be partitioned by key (each key's events in
    /// one partition); on, the group repartitions it by `key` through a topic of its
    /// own first. A dead instance is noticed after 6 s.
    pub fn group_instance(&self, group: &str, repartition: bool) -> Result<GroupInstance> {
        let instance = GroupInstance::new(
            self.config().with_group(group),
            &self.bootstrap,
            &self.input,
        )?
        .property("session.timeout.ms", "6000")
        .property("heartbeat.interval.ms", "500")
        .property("max.poll.interval.ms", "10000");
        Ok(if repartition {
            instance.repartition(Repartition::by_json_field(
                "key",
                "ts",
                Duration::from_secs(1),
            ))
        } else {
            instance
        })
    }

    /// Runs as one instance of consumer group `group` (see
    /// [`group_instance`](Self::group_instance)) until the process ends.
    pub fn run_in_group(&self, group: &str, repartition: bool) -> Result<()> {
        let job = self.clone();
        self.group_instance(group, repartition)?
            .run(move |task| Ok(job.task_pipeline(task)))
    }

    fn build(
        &self,
        config: Config,
        source: KafkaSourceConfig,
        sink: impl Fn(KafkaSinkConfig) -> KafkaSinkConfig,
    ) -> Pipeline {
        let outputs = self.parallelism.max(1) as i32;
        let mut p = Pipeline::new(config);
        p.source(
            KafkaSource::json::<Event>(source)
                .with_event_time(|e: &Event| e.ts)
                .with_watermark("1 second"),
        )
        .dead_letters(
            KafkaSink::new(sink(KafkaSinkConfig::new(
                &self.bootstrap,
                self.dead_letter_topic(),
            )))
            .named("dead_letters"),
        )
        .key_by(|e: &Event| e.key.clone())
        .window(TumblingWindow::of("1 second"))
        .aggregate((Count, Sum::of(|e: &Event| e.value)))
        .map(|r: WindowResult<String, (u64, f64)>| KeyWindow {
            key: r.key,
            window_start: r.window_start,
            window_end: r.window_end,
            count: r.value.0,
            sum: r.value.1,
        })
        .sink(
            KafkaSink::new(sink(
                KafkaSinkConfig::new(&self.bootstrap, &self.output)
                    .key_field("key")
                    .create_topic(outputs),
            ))
            .named("results"),
        );
        p
    }

    /// Runs until the input read at start is processed and every result committed.
    pub fn run(&self) -> Result<Metrics> {
        self.pipeline().run()
    }
}
