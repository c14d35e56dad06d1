//! One partition of a group's input and what a pipeline built for it needs.

use tidewater_engine::config::Config;

use crate::kafka::{KafkaSinkConfig, KafkaSourceConfig};

/// The task of one input partition: build the group's pipeline for it with
/// [`config`](Self::config) and [`source`](Self::source).
///
/// ```
/// use tidewater_connectors::kafka::group::GroupTask;
/// use tidewater_engine::config::{Config, DeliveryGuarantee};
///
/// let base = Config::default().with_name("counts").with_group("g").with_checkpointing(
///     "/shared/cp",
///     std::time::Duration::from_secs(1),
///     DeliveryGuarantee::ExactlyOnce,
/// );
/// let task = GroupTask::new(&base, "events", 3);
/// let config = task.config();
/// assert_eq!(config.name, "counts-events-3");
/// assert_eq!(config.checkpointing.unwrap().dir, std::path::Path::new("/shared/cp/events-3"));
/// ```
#[derive(Debug, Clone)]
pub struct GroupTask {
    base: Config,
    /// The input topic.
    pub topic: String,
    /// The partition this task reads.
    pub partition: i32,
    /// Producers writing this task's topic when it is the group's repartition topic
    /// (its watermark then comes from their markers).
    pub shuffle_producers: Option<usize>,
}

impl GroupTask {
    /// The task of `topic`'s partition `partition` of the group configured by `base`.
    pub fn new(base: &Config, topic: impl Into<String>, partition: i32) -> Self {
        GroupTask {
            base: base.clone(),
            topic: topic.into(),
            partition,
            shuffle_producers: None,
        }
    }

    /// `<topic>-<partition>`: names the task's checkpoint folder and pipeline.
    pub fn id(&self) -> String {
        format!("{}-{}", self.topic, self.partition)
    }

    /// The task's config: the base config named `<name>-<topic>-<partition>` (so the
    /// sinks' transactional ids are the task's, whichever instance runs it), one
    /// worker, checkpoints in the task's folder under the base checkpoint folder.
    pub fn config(&self) -> Config {
        let mut config = self.base.clone();
        config.name = format!("{}-{}", self.base.name, self.id());
        config.parallelism = 1;
        // Each instance serves its own dashboard; tasks do not open one each.
        config.http = None;
        if let Some(cp) = config.checkpointing.as_mut() {
            cp.dir = cp.dir.join(self.id());
        }
        config
    }

    /// `config` reading only this task's partition of the input topic (and not
    /// reporting offsets to a group: the group's offsets are the members').
    pub fn source(&self, config: KafkaSourceConfig) -> KafkaSourceConfig {
        let mut config = config;
        config.subscribe = None;
        config.subscribe_pattern = None;
        config.assign = None;
        config.group_id = None;
        config.shuffle_producers = self.shuffle_producers;
        config.assign(self.topic.clone(), [self.partition])
    }

    /// `config` with the group's transactional-id prefix (the pipeline name inside the
    /// id already names the task).
    pub fn sink(&self, config: KafkaSinkConfig) -> KafkaSinkConfig {
        match (&config.transactional_id_prefix, &self.base.group) {
            (None, Some(group)) => config.transactional_id_prefix(group.clone()),
            _ => config,
        }
    }
}
