//! The tasks an instance runs: one thread each, building its pipeline and running it
//! again after a failure, stopped when its partition is revoked.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tidewater_engine::config::Config;
use tidewater_engine::error::{EngineError, Result};
use tidewater_engine::prelude::Pipeline;
use tidewater_engine::processor::StreamProcessor;

use super::instance::{lock, set_state};
use super::repartition::Repartition;
use super::status::{GroupStatus, InstanceState, TaskState, TaskStatus};
use super::task::GroupTask;

/// Starts of a task that fail in a row before the instance gives up (a partition
/// whose previous owner still holds its checkpoint folder fails to start until that
/// owner lets go: restarts wait it out).
const MAX_ATTEMPTS: u32 = 30;
/// How long a revocation waits for its tasks to stop.
const STOP_WAIT: Duration = Duration::from_secs(3);
/// Pause between a task's failed start and the next.
const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// Builds the pipeline of one task.
pub(super) type Build = dyn Fn(&GroupTask) -> Result<Pipeline> + Send + Sync;

/// The group's repartition topic.
#[derive(Clone)]
pub(super) struct Shuffle {
    pub repartition: Repartition,
    pub topic: String,
    pub partitions: i32,
    pub producers: usize,
}

/// The tasks an instance runs, by partition.
pub(crate) struct Tasks {
    pub(super) base: Config,
    pub(super) input: String,
    pub(super) bootstrap: String,
    pub(super) shuffle: Option<Shuffle>,
    pub(super) build: Arc<Build>,
    pub(super) running: Mutex<BTreeMap<(String, i32), TaskHandle>>,
    /// Threads of revoked tasks that were still starting when revoked.
    pub(super) stopping: Mutex<Vec<JoinHandle<()>>>,
    pub(super) status: Arc<Mutex<GroupStatus>>,
    pub(super) fatal: Mutex<Option<EngineError>>,
}

/// A running task: its thread, its current attempt's processor, its stop flag.
pub(super) struct TaskHandle {
    pub(super) stop: Arc<AtomicBool>,
    pub(super) processor: Arc<Mutex<Option<Arc<StreamProcessor>>>>,
    pub(super) thread: JoinHandle<()>,
}

impl Tasks {
    /// Starts a task for each of `partitions` (topic, partition).
    pub(super) fn start(self: &Arc<Self>, partitions: &[(String, i32)]) {
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
    pub(super) fn stop(&self, partitions: &[(String, i32)]) {
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
    pub(super) fn join_stopping(&self) {
        let threads = std::mem::take(&mut *lock(&self.stopping));
        for t in threads {
            let _ = t.join();
        }
    }

    pub(super) fn stop_all(&self) {
        let all: Vec<(String, i32)> = lock(&self.running).keys().cloned().collect();
        self.stop(&all);
    }

    pub(super) fn any_running(&self) -> bool {
        !lock(&self.running).is_empty()
    }

    /// Copies each running task's records and lag into the status.
    pub(super) fn refresh(&self) {
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
