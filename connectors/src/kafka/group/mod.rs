//! Scale-out through a Kafka consumer group: one pipeline run by many instances, on
//! one machine or many, with Kafka as the only coordinator (as Kafka Streams does).
//!
//! * **Tasks.** Each partition of the input topic is a *task*: the pipeline built for
//!   that partition alone ([`GroupTask`]), with its own checkpoints, watermark and
//!   transactional ids. A partition is the key group: the input must be partitioned by
//!   the pipeline's key (produced with the key as the record key), or the group
//!   repartitions it ([`GroupInstance::repartition`]): a task per input partition
//!   writes it keyed to the group's repartition topic, with its watermark as markers
//!   ([`shuffle`](crate::kafka::shuffle)), and the pipeline's tasks read that topic.
//! * **Assignment.** Every instance joins the consumer group with the cooperative-sticky
//!   assignor ([`GroupInstance`]); the group hands out the partitions and moves only the
//!   ones that must move when an instance joins, leaves or dies. An instance stops a
//!   revoked task gracefully (a final checkpoint, its output committed) before the
//!   partition is handed on, and starts a task for each partition it is given.
//! * **State moves with the partition** through the shared checkpoint store: task
//!   `<topic>-<partition>` checkpoints into its own folder under the group's checkpoint
//!   folder, and whichever instance runs it next restores from there before it reads.
//!   Chosen over changelog topics because a task's state is then exactly what a
//!   single-process run would checkpoint (every operator, windows and timers, source
//!   offsets and the sink's pre-commits, consistent by the same barrier), restored by
//!   the code path the crash tests exercise, with no second copy of every state write
//!   in Kafka; the price is a folder every instance can reach (local disk for
//!   instances on one machine, a shared file system across machines).
//! * **Exactly-once.** A task's Kafka sinks are transactional with ids derived from
//!   the task (`…-<topic>-<partition>-…`), stable across instances: the instance that
//!   takes a task over initialises transactions with the same id, which fences the
//!   previous owner (a zombie that still believes it owns the partition can no longer
//!   commit) and aborts what it left open, then publishes what the restored
//!   checkpoint pre-committed and nothing else. Offsets are in the same checkpoint as
//!   the state and the pre-commit. This is Kafka Streams' first exactly-once design
//!   (a producer per task); its second (one producer per instance, fenced by the group
//!   generation) saves producers when an instance runs hundreds of tasks.
//!
//! ```no_run
//! use std::time::Duration;
//! use tidewater_connectors::kafka::group::{GroupInstance, GroupTask, Repartition};
//! use tidewater_connectors::kafka::{KafkaSink, KafkaSinkConfig, KafkaSource, KafkaSourceConfig};
//! use tidewater_engine::config::DeliveryGuarantee;
//! use tidewater_engine::prelude::*;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Click { user: String, ts: i64 }
//!
//! let base = Config::default()
//!     .with_name("clicks")
//!     .with_group("clicks")
//!     .with_checkpointing("/shared/checkpoints", Duration::from_secs(1), DeliveryGuarantee::ExactlyOnce);
//! let instance = GroupInstance::new(base, "localhost:9092", "clicks")?
//!     // only if the topic is not already partitioned by `user`:
//!     .repartition(Repartition::by_json_field("user", "ts", Duration::from_secs(1)));
//! instance.run(|task: &GroupTask| {
//!     let mut p = Pipeline::new(task.config());
//!     p.source(
//!         KafkaSource::json::<Click>(task.source(KafkaSourceConfig::new("localhost:9092")))
//!             .with_event_time(|c: &Click| c.ts)
//!             .with_watermark("1 second"),
//!     )
//!     .dead_letters(KafkaSink::new(task.sink(KafkaSinkConfig::new("localhost:9092", "clicks.dead"))))
//!     .key_by(|c: &Click| c.user.clone())
//!     .window(TumblingWindow::of("1 minute"))
//!     .aggregate(Count)
//!     .map(|r: WindowResult<String, u64>| (r.key, r.window_start, r.value))
//!     .sink(KafkaSink::new(task.sink(KafkaSinkConfig::new("localhost:9092", "clicks-per-minute"))));
//!     Ok(p)
//! })?;
//! # Ok::<(), tidewater_engine::error::EngineError>(())
//! ```

mod instance;
mod membership;
mod repartition;
mod status;
mod task;
mod tasks;

pub use instance::GroupInstance;
pub use repartition::Repartition;
pub use status::{GroupStatus, InstanceState, TaskState, TaskStatus};
pub use task::GroupTask;
