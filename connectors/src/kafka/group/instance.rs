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
use super::status::{GroupStatus, InstanceState, TaskState, TaskStatus};
use super::task::GroupTask;
use crate::kafka::client::{client_config, kafka_error};

/// Starts of a task that fail in a row before the instance gives up (a partition
/// whose previous owner still holds its checkpoint folder fails to start until that
/// owner lets go: restarts wait it out).
const MAX_ATTEMPTS: u32 = 30;
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
        let tasks = Arc::new(Tasks {
            base: self.base.clone(),
            topic: self.topic.clone(),
            build: Arc::new(build),
            running: Mutex::new(BTreeMap::new()),
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
        consumer
            .subscribe(&[self.topic.as_str()])
            .map_err(|e| kafka_error(&self.group, format!("joining with `{}`", self.topic), e))?;
        tracing::info!(group = %self.group, instance = %self.instance, topic = %self.topic, "joining the group");
        let mut failure = None;
        while !self.stop.load(Ordering::SeqCst) {
            // Rebalance callbacks run inside poll; no records arrive (all paused).
            if let Some(Err(e)) = consumer.poll(Duration::from_millis(100)) {
                tracing::warn!(group = %self.group, error = %e, "group consumer");
            }
            tasks.refresh();
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
    topic: String,
    build: Arc<Build>,
    running: Mutex<BTreeMap<i32, TaskHandle>>,
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
    /// Starts a task for each of `partitions`.
    pub fn start(self: &Arc<Self>, partitions: &[i32]) {
        let mut running = lock(&self.running);
        let mut status = lock(&self.status);
        status.rebalances += 1;
        for &partition in partitions {
            if running.contains_key(&partition) {
                continue;
            }
            status.tasks.insert(
                partition,
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
            let task = GroupTask::new(&self.base, self.topic.clone(), partition);
            let (tasks, flag, slot) = (self.clone(), stop.clone(), processor.clone());
            let thread = std::thread::Builder::new()
                .name(format!("task-{}", task.id()))
                .spawn(move || tasks.run_task(task, &flag, &slot));
            match thread {
                Ok(thread) => {
                    running.insert(
                        partition,
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
    pub fn stop(&self, partitions: &[i32]) {
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
        for handle in handles {
            let _ = handle.thread.join();
        }
        set_state(&self.status, InstanceState::Running);
    }

    fn stop_all(&self) {
        let all: Vec<i32> = lock(&self.running).keys().copied().collect();
        self.stop(&all);
    }

    fn any_running(&self) -> bool {
        !lock(&self.running).is_empty()
    }

    /// Copies each running task's records and lag into the status.
    fn refresh(&self) {
        let running = lock(&self.running);
        let mut status = lock(&self.status);
        for (partition, handle) in running.iter() {
            let Some(processor) = lock(&handle.processor).clone() else {
                continue;
            };
            let metrics = processor.metrics();
            if let Some(task) = status.tasks.get_mut(partition) {
                task.records = metrics.source_records;
                if let Some(lag) = metrics
                    .partitions
                    .iter()
                    .find(|l| l.partition == *partition)
                {
                    task.lag = Some(lag.lag);
                }
            }
        }
    }

    fn set_task(&self, partition: i32, update: impl FnOnce(&mut TaskStatus)) {
        if let Some(task) = lock(&self.status).tasks.get_mut(&partition) {
            update(task);
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
            self.set_task(task.partition, |t| {
                t.state = TaskState::Starting;
                t.attempts = attempts;
            });
            let outcome = (self.build)(&task).and_then(|p| p.start()).and_then(|p| {
                let processor = Arc::new(p);
                *lock(slot) = Some(processor.clone());
                if stop.load(Ordering::SeqCst) {
                    processor.stop(false);
                }
                self.set_task(task.partition, |t| t.state = TaskState::Running);
                let result = processor.join();
                *lock(slot) = None;
                result
            });
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let error = match outcome {
                Ok(_) => {
                    self.set_task(task.partition, |t| t.state = TaskState::Finished);
                    return;
                }
                Err(e) => e,
            };
            tracing::warn!(task = %task.id(), attempt = attempts, error = %error, "task failed");
            self.set_task(task.partition, |t| {
                t.state = TaskState::Restarting;
                t.last_error = Some(error.to_string());
            });
            if attempts >= MAX_ATTEMPTS {
                self.set_task(task.partition, |t| t.state = TaskState::Failed);
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
