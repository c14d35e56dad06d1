//! An instance of a group: the membership consumer's poll loop and the tasks it runs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use tidewater_engine::config::Config;
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::prelude::Pipeline;
use tidewater_engine::processor::StreamProcessor;

use super::membership::Membership;
use super::repartition::Repartition;
use super::status::{GroupStatus, InstanceState, TaskState, TaskStatus};
use super::task::GroupTask;
use crate::kafka::client::{client_config, kafka_error};

/// Starts of a task that fail in a row before the instance gives up (a partition
/// whose previous owner still holds its checkpoint folder fails to start until that
/// owner lets go: restarts wait it out).
const MAX_ATTEMPTS: u32 = 30;
/// How long a revocation waits for its tasks to stop.
const STOP_WAIT: Duration = Duration::from_secs(3);
/// Pause between a task's failed start and the next.
const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// Builds the pipeline of one task.
type Build = dyn Fn(&GroupTask) -> Result<Pipeline> + Send + Sync;

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

/// The group's repartition topic.
#[derive(Clone)]
struct Shuffle {
    repartition: Repartition,
    topic: String,
    partitions: i32,
    producers: usize,
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn set_state(status: &Mutex<GroupStatus>, state: InstanceState) {
    lock(status).state = state;
}

/// The tasks an instance runs, by partition.
pub(crate) struct Tasks {
    base: Config,
    input: String,
    bootstrap: String,
    shuffle: Option<Shuffle>,
    build: Arc<Build>,
    running: Mutex<BTreeMap<(String, i32), TaskHandle>>,
    /// Threads of revoked tasks that were still starting when revoked.
    stopping: Mutex<Vec<JoinHandle<()>>>,
    status: Arc<Mutex<GroupStatus>>,
    fatal: Mutex<Option<EngineError>>,
}

/// A running task: its thread, its current attempt's processor, its stop flag.
struct TaskHandle {
    stop: Arc<AtomicBool>,
    processor: Arc<Mutex<Option<Arc<StreamProcessor>>>>,
    thread: JoinHandle<()>,
}

impl Tasks {
    /// Starts a task for each of `partitions` (topic, partition).
    pub fn start(self: &Arc<Self>, partitions: &[(String, i32)]) {
        let mut running = lock(&self.running);
        let mut status = lock(&self.status);
        status.rebalances += 1;
        for key in partitions {
            if running.contains_key(key) {
                continue;
            }
            let (topic, partition) = key.clone();
            status.tasks.insert(
                key.clone(),
                TaskStatus {
                    state: TaskState::Starting,
                    records: 0,
                    lag: None,
                    attempts: 0,
                    last_error: None,
                },
            );
            let stop = Arc::new(AtomicBool::new(false));
            let processor = Arc::new(Mutex::new(None));
            let mut task = GroupTask::new(&self.base, topic.clone(), partition);
            if let Some(s) = self.shuffle.as_ref().filter(|s| s.topic == topic) {
                task.shuffle_producers = Some(s.producers);
            }
            let (tasks, flag, slot) = (self.clone(), stop.clone(), processor.clone());
            let thread = std::thread::Builder::new()
                .name(format!("task-{}", task.id()))
                .spawn(move || tasks.run_task(task, &flag, &slot));
            match thread {
                Ok(thread) => {
                    running.insert(
                        key.clone(),
                        TaskHandle {
                            stop,
                            processor,
                            thread,
                        },
                    );
                }
                Err(e) => *lock(&self.fatal) = Some(EngineError::Spawn(e.to_string())),
            }
        }
        status.state = InstanceState::Running;
    }

    /// Stops the tasks of `partitions` and waits for them. A task stops at once, as
    /// after a crash: what it wrote since its last checkpoint is in a transaction the
    /// next owner aborts (fencing this one), and the next owner replays from that
    /// checkpoint.
    pub fn stop(&self, partitions: &[(String, i32)]) {
        let handles: Vec<TaskHandle> = {
            let mut running = lock(&self.running);
            partitions
                .iter()
                .filter_map(|p| running.remove(p))
                .collect()
        };
        {
            let mut status = lock(&self.status);
            status.rebalances += 1;
            status.state = InstanceState::Rebalancing;
            for p in partitions {
                status.tasks.remove(p);
            }
        }
        for handle in &handles {
            handle.stop.store(true, Ordering::SeqCst);
            if let Some(p) = lock(&handle.processor).as_ref() {
                p.stop(false);
            }
        }
        // A task still starting (waiting for the previous owner's checkpoint folder or
        // transactions) stops once started; the rebalance does not wait for it, or
        // the group would take this instance for dead. Until it has stopped, the
        // folder's lock and the fencing keep the next owner from running beside it.
        let deadline = Instant::now() + STOP_WAIT;
        for handle in handles {
            while !handle.thread.is_finished() && Instant::now() < deadline {
                std::thread::park_timeout(Duration::from_millis(10));
            }
            if handle.thread.is_finished() {
                let _ = handle.thread.join();
            } else {
                lock(&self.stopping).push(handle.thread);
            }
        }
        set_state(&self.status, InstanceState::Running);
    }

    /// Waits for the tasks stopped without waiting (see [`stop`](Self::stop)).
    fn join_stopping(&self) {
        let threads = std::mem::take(&mut *lock(&self.stopping));
        for t in threads {
            let _ = t.join();
        }
    }

    fn stop_all(&self) {
        let all: Vec<(String, i32)> = lock(&self.running).keys().cloned().collect();
        self.stop(&all);
    }

    fn any_running(&self) -> bool {
        !lock(&self.running).is_empty()
    }

    /// Copies each running task's records and lag into the status.
    fn refresh(&self) {
        let running = lock(&self.running);
        let mut status = lock(&self.status);
        for (key, handle) in running.iter() {
            let Some(processor) = lock(&handle.processor).clone() else {
                continue;
            };
            let metrics = processor.metrics();
            if let Some(task) = status.tasks.get_mut(key) {
                task.records = metrics.source_records;
                if let Some(lag) = metrics
                    .partitions
                    .iter()
                    .find(|l| l.topic == key.0 && l.partition == key.1)
                {
                    task.lag = Some(lag.lag);
                }
            }
        }
    }

    fn set_task(&self, task: &GroupTask, update: impl FnOnce(&mut TaskStatus)) {
        let key = (task.topic.clone(), task.partition);
        if let Some(task) = lock(&self.status).tasks.get_mut(&key) {
            update(task);
        }
    }

    /// The pipeline of `task`: the repartitioning one for a partition of a
    /// repartitioned input, else the group's.
    fn pipeline(&self, task: &GroupTask) -> Result<Pipeline> {
        match &self.shuffle {
            Some(s) if task.topic == self.input => {
                Ok(s.repartition
                    .pipeline(task, &self.bootstrap, &s.topic, s.partitions))
            }
            _ => (self.build)(task),
        }
    }

    /// A task's thread: builds and runs its pipeline, again after a failure, until
    /// it is stopped, its input ends, or it failed [`MAX_ATTEMPTS`] times in a row.
    fn run_task(
        &self,
        task: GroupTask,
        stop: &AtomicBool,
        slot: &Mutex<Option<Arc<StreamProcessor>>>,
    ) {
        let mut attempts = 0;
        while !stop.load(Ordering::SeqCst) {
            attempts += 1;
            self.set_task(&task, |t| {
                t.state = TaskState::Starting;
                t.attempts = attempts;
            });
            let outcome = self.pipeline(&task).and_then(|p| p.start()).and_then(|p| {
                let processor = Arc::new(p);
                *lock(slot) = Some(processor.clone());
                if stop.load(Ordering::SeqCst) {
                    processor.stop(false);
                }
                self.set_task(&task, |t| t.state = TaskState::Running);
                let result = processor.join();
                *lock(slot) = None;
                result
            });
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let error = match outcome {
                Ok(_) => {
                    self.set_task(&task, |t| t.state = TaskState::Finished);
                    return;
                }
                Err(e) => e,
            };
            tracing::warn!(task = %task.id(), attempt = attempts, error = %error, "task failed");
            self.set_task(&task, |t| {
                t.state = TaskState::Restarting;
                t.last_error = Some(error.to_string());
            });
            if attempts >= MAX_ATTEMPTS {
                self.set_task(&task, |t| t.state = TaskState::Failed);
                *lock(&self.fatal) = Some(error);
                return;
            }
            let resume = Instant::now() + RESTART_PAUSE;
            while Instant::now() < resume && !stop.load(Ordering::SeqCst) {
                std::thread::park_timeout(Duration::from_millis(50));
            }
        }
    }
}
