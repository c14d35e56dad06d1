//! Running a pipeline file as one instance of a consumer group (`tidewater run
//! --group NAME`): see [`tidewater_connectors::kafka::group`].

use tidewater_connectors::kafka::group::{GroupInstance, GroupTask, Repartition};
use tidewater_engine::error::{EngineError, Result};

use super::build::{options, text, RunOptions};
use super::model::{GroupTaskOf, PipelineFile};

/// One instance of a pipeline file in a consumer group, ready to [`run`](Self::run).
pub struct GroupRun {
    /// The instance (status, stop).
    pub instance: GroupInstance,
    file: PipelineFile,
    run: RunOptions,
}

impl PipelineFile {
    /// This pipeline as one instance of consumer group `group`. The input must be one
    /// Kafka topic (`subscribe`), partitioned by the pipeline's key; the file must
    /// checkpoint (each partition's task checkpoints in its own folder under
    /// `checkpoint_location`, which every instance must reach) and write to Kafka or
    /// the console.
    pub fn in_group(&self, group: &str, run: RunOptions) -> Result<GroupRun> {
        let opts = options(&self.input.options);
        let field = |name: &str, expected: &str, found: String| {
            EngineError::invalid(format!("{}: input", self.name), name, expected, found)
        };
        if self.input.format != "kafka" {
            return Err(field(
                "format",
                "kafka (a group shares the partitions of a topic)",
                self.input.format.clone(),
            ));
        }
        let topics: Vec<String> = opts
            .get("subscribe")
            .map(text)
            .unwrap_or_default()
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        let [topic] = topics.as_slice() else {
            return Err(field(
                "subscribe",
                "exactly one topic",
                format!("{topics:?}"),
            ));
        };
        if !matches!(self.output.format.as_str(), "kafka" | "console") {
            return Err(EngineError::invalid(
                format!("{}: output", self.name),
                "format",
                "kafka or console (instances write one topic, each partition's task transactionally)",
                self.output.format.clone(),
            ));
        }
        let bootstrap = opts
            .get("kafka.bootstrap.servers")
            .map(text)
            .unwrap_or_default();
        let base = self.config()?.with_group(group);
        let instance = GroupInstance::new(base, bootstrap, topic.clone())?;
        Ok(GroupRun {
            instance,
            file: self.clone(),
            run,
        })
    }
}

impl GroupRun {
    /// Repartitions the input by the JSON field `key_field` (for an input not
    /// partitioned by the pipeline's key; see
    /// [`GroupInstance::repartition`]): the input's watermark column and delay say
    /// how the repartitioning tasks keep their watermarks.
    pub fn repartition_by(mut self, key_field: &str) -> Result<Self> {
        let Some(w) = self.file.input.watermark.clone() else {
            return Err(EngineError::invalid(
                format!("{}: input", self.file.name),
                "watermark",
                "an event-time column and delay (repartitioning forwards the watermark)",
                "none",
            ));
        };
        let delay = tidewater_engine::time::parse_duration(&w.delay)?;
        self.instance = self
            .instance
            .repartition(Repartition::by_json_field(key_field, w.column, delay));
        Ok(self)
    }

    /// Joins the group and runs the tasks it assigns until the instance is stopped.
    pub fn run(&self) -> Result<()> {
        let file = self.file.clone();
        let run = self.run;
        let group = self.instance.status().group;
        self.instance.run(move |task: &GroupTask| {
            let mut copy = file.clone();
            copy.task = Some(GroupTaskOf {
                group: group.clone(),
                topic: task.topic.clone(),
                partition: task.partition,
                shuffle_producers: task.shuffle_producers,
            });
            copy.pipeline(run)
        })
    }
}
