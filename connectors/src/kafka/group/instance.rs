//! An instance of a group: the membership consumer's poll loop and the tasks it runs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use tidewater_engine::config::Config;
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::prelude::Pipeline;

use super::membership::Membership;
use super::repartition::Repartition;
use super::status::{GroupStatus, InstanceState};
use super::task::GroupTask;
use super::tasks::{Shuffle, Tasks};
use crate::kafka::client::{client_config, kafka_error};

/// One instance of a pipeline in a consumer group: joins the group, runs a task for
/// every input partition the group assigns it and stops the ones it revokes, until
/// [`stop`](Self::stop). See the [module docs](super) for the protocol.
pub struct GroupInstance {
    base: Config,
    bootstrap: String,
    topic: String,
    group: String,
    instance: String,
    properties: BTreeMap<String, String>,
    repartition: Option<Repartition>,
    stop: Arc<AtomicBool>,
    status: Arc<Mutex<GroupStatus>>,
    /// The running tasks while [`run`](Self::run) lasts (the dashboard lists them).
    tasks: Arc<Mutex<Option<Arc<Tasks>>>>,
}

impl GroupInstance {
    /// An instance of the group `base.group` reading `topic` on the cluster at
    /// `bootstrap`. The base config must name a group and checkpoint (each task
    /// checkpoints under its folder).
    pub fn new(
        base: Config,
        bootstrap: impl Into<String>,
        topic: impl Into<String>,
    ) -> Result<Self> {
        let group = base.group.clone().ok_or_else(|| {
            EngineError::invalid(
                &base.name,
                "group",
                "a consumer group (`with_group`)",
                "none",
            )
        })?;
        if base.checkpointing.is_none() {
            return Err(EngineError::invalid(
                &base.name,
                "checkpointing",
                "a checkpoint folder every instance of the group can reach",
                "none",
            ));
        }
        let topic = topic.into();
        let instance = format!(
            "{}-{}-{}",
            group,
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let status = GroupStatus {
            group: group.clone(),
            topic: topic.clone(),
            instance: instance.clone(),
            state: InstanceState::Joining,
            rebalances: 0,
            tasks: BTreeMap::new(),
        };
        Ok(GroupInstance {
            base,
            bootstrap: bootstrap.into(),
            topic,
            group,
            instance,
            properties: BTreeMap::new(),
            repartition: None,
            stop: Arc::new(AtomicBool::new(false)),
            status: Arc::new(Mutex::new(status)),
            tasks: Arc::new(Mutex::new(None)),
        })
    }

    /// Sets a property of the membership consumer (`session.timeout.ms`: how soon
    /// the group notices a dead instance and hands its partitions on; default 10 s).
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// Repartitions the input, which is not partitioned by the pipeline's key: tasks
    /// of the input's partitions write it keyed to the group's repartition topic
    /// (with their watermarks as markers), and the pipeline's tasks, built by
    /// [`run`](Self::run)'s function, read that topic's partitions instead. Every
    /// instance of the group must say the same.
    pub fn repartition(mut self, repartition: Repartition) -> Self {
        self.repartition = Some(repartition);
        self
    }

    /// The instance's state, assignment and tasks.
    pub fn status(&self) -> GroupStatus {
        lock(&self.status).clone()
    }

    /// Serves `/metrics` and the dashboard on `addr` while the server lives: every
    /// running task as a job of its own (`<name>-<topic>-<partition>`: its plan,
    /// rates, watermark, checkpoints, partition lag) and, in `/metrics`, the
    /// instance's state, assignment, rebalances and lag per partition
    /// (`tidewater_group_*`).
    pub fn serve_http(&self, addr: &str) -> Result<tidewater_engine::http::HttpServer> {
        tidewater_engine::http::HttpServer::start(
            addr,
            GroupJobs {
                status: self.status.clone(),
                tasks: self.tasks.clone(),
            },
        )
    }

    /// A flag that ends [`run`](Self::run) when set (Ctrl-C handlers set it).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Asks [`run`](Self::run) to leave the group: the tasks stop (their output
    /// committed up to their last checkpoint) and the partitions go to the others.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Joins the group and runs tasks until stopped; returns the error of a task
    /// that failed [`MAX_ATTEMPTS`] times in a row, or of the group.
    pub fn run<F>(&self, build: F) -> Result<()>
    where
        F: Fn(&GroupTask) -> Result<Pipeline> + Send + Sync + 'static,
    {
        let shuffle = match &self.repartition {
            Some(r) => Some(self.prepare_repartition(r)?),
            None => None,
        };
        let tasks = Arc::new(Tasks {
            base: self.base.clone(),
            input: self.topic.clone(),
            bootstrap: self.bootstrap.clone(),
            shuffle: shuffle.clone(),
            build: Arc::new(build),
            running: Mutex::new(BTreeMap::new()),
            stopping: Mutex::new(Vec::new()),
            status: self.status.clone(),
            fatal: Mutex::new(None),
        });
        *lock(&self.tasks) = Some(tasks.clone());
        let consumer: BaseConsumer<Membership> = client_config(
            &self.bootstrap,
            &[
                ("group.id", self.group.as_str()),
                ("client.id", self.instance.as_str()),
                ("partition.assignment.strategy", "cooperative-sticky"),
                ("enable.auto.commit", "false"),
                ("session.timeout.ms", "10000"),
                ("heartbeat.interval.ms", "1000"),
            ],
            &self.properties,
        )
        .create_with_context(Membership {
            tasks: tasks.clone(),
        })
        .map_err(|e| kafka_error(&self.group, "creating the membership consumer", e))?;
        let mut topics = vec![self.topic.as_str()];
        if let Some(s) = &shuffle {
            topics.push(s.topic.as_str());
        }
        consumer
            .subscribe(&topics)
            .map_err(|e| kafka_error(&self.group, format!("joining with {topics:?}"), e))?;
        tracing::info!(group = %self.group, instance = %self.instance, topic = %self.topic, "joining the group");
        let mut failure = None;
        while !self.stop.load(Ordering::SeqCst) {
            let polled = Instant::now();
            // Rebalance callbacks run inside poll; no records arrive (all paused).
            if let Some(Err(e)) = consumer.poll(Duration::from_millis(100)) {
                tracing::warn!(group = %self.group, error = %e, "group consumer");
            }
            tasks.refresh();
            if polled.elapsed() > Duration::from_secs(2) {
                // The group takes a member that polls less often than
                // `max.poll.interval.ms` for dead.
                tracing::warn!(group = %self.group, seconds = polled.elapsed().as_secs_f64(),
                    "the group consumer went unpolled this long (slow rebalance callbacks, or the \
                     process was paused): the group may have dropped this instance");
            }
            if let Some(e) = lock(&tasks.fatal).take() {
                failure = Some(e);
                break;
            }
        }
        // Leaving revokes every partition through the callback, which stops the tasks.
        set_state(&self.status, InstanceState::Rebalancing);
        consumer.unsubscribe();
        let deadline = Instant::now() + Duration::from_secs(5);
        while tasks.any_running() && Instant::now() < deadline {
            let _ = consumer.poll(Duration::from_millis(50));
        }
        tasks.stop_all();
        tasks.join_stopping();
        drop(consumer);
        *lock(&self.tasks) = None;
        match failure {
            Some(e) => {
                set_state(&self.status, InstanceState::Failed);
                Err(e)
            }
            None => {
                set_state(&self.status, InstanceState::Stopped);
                Ok(())
            }
        }
    }
}

impl GroupInstance {
    /// The repartition topic (created if missing) and how many producers write it.
    fn prepare_repartition(&self, r: &Repartition) -> Result<Shuffle> {
        let probe: BaseConsumer = client_config(&self.bootstrap, &[], &self.properties)
            .create()
            .map_err(|e| kafka_error(&self.group, "creating a metadata client", e))?;
        let metadata = probe
            .fetch_metadata(Some(&self.topic), Duration::from_secs(30))
            .map_err(|e| kafka_error(&self.group, format!("reading `{}`", self.topic), e))?;
        let producers = metadata
            .topics()
            .iter()
            .find(|t| t.name() == self.topic)
            .map_or(0, |t| t.partitions().len());
        if producers == 0 {
            return Err(EngineError::invalid(
                &self.group,
                "topic",
                "an input topic with partitions",
                format!("`{}` has none", self.topic),
            ));
        }
        let topic = r.topic(&self.group, &self.topic);
        let partitions = r.partitions.unwrap_or(producers as i32);
        self.create_topic(&topic, partitions)?;
        Ok(Shuffle {
            repartition: r.clone(),
            topic,
            partitions,
            producers,
        })
    }
}

impl GroupInstance {
    /// Creates `topic` with `partitions` unless it exists, asking to create it
    /// before anything reads its metadata (a metadata request can auto-create it with
    /// the broker's default partition count while another instance is creating it),
    /// then checks its partition count.
    fn create_topic(&self, topic: &str, partitions: i32) -> Result<()> {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        use rdkafka::client::DefaultClientContext;
        use rdkafka::types::RDKafkaErrorCode;
        let admin: AdminClient<DefaultClientContext> =
            client_config(&self.bootstrap, &[], &self.properties)
                .create()
                .map_err(|e| kafka_error(&self.group, "creating an admin client", e))?;
        let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1));
        let results =
            futures::executor::block_on(admin.create_topics([&new], &AdminOptions::new()))
                .map_err(|e| kafka_error(&self.group, format!("creating `{topic}`"), e))?;
        for r in results {
            if let Err((t, code)) = r {
                if code != RDKafkaErrorCode::TopicAlreadyExists {
                    return Err(kafka_error(
                        &self.group,
                        format!("creating `{t}`"),
                        rdkafka::error::KafkaError::AdminOp(code),
                    ));
                }
            }
        }
        let metadata = admin
            .inner()
            .fetch_metadata(Some(topic), Duration::from_secs(30))
            .map_err(|e| kafka_error(&self.group, format!("reading `{topic}`"), e))?;
        let found = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map_or(0, |t| t.partitions().len());
        if found != partitions as usize {
            return Err(EngineError::invalid(
                &self.group,
                "repartition topic",
                format!("`{topic}` with {partitions} partitions"),
                format!("{found} partitions"),
            ));
        }
        Ok(())
    }
}

/// What an instance's server shows.
struct GroupJobs {
    status: Arc<Mutex<GroupStatus>>,
    tasks: Arc<Mutex<Option<Arc<Tasks>>>>,
}

impl tidewater_engine::http::Jobs for GroupJobs {
    fn jobs(&self) -> Vec<Arc<dyn tidewater_engine::http::Observable>> {
        let Some(tasks) = lock(&self.tasks).clone() else {
            return Vec::new();
        };
        let running = lock(&tasks.running);
        running
            .values()
            .filter_map(|h| lock(&h.processor).clone())
            .map(|p| p.observe())
            .collect()
    }

    fn extra_metrics(&self) -> String {
        lock(&self.status).prometheus()
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) fn set_state(status: &Mutex<GroupStatus>, state: InstanceState) {
    lock(status).state = state;
}
