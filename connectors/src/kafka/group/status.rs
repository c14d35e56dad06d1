//! What an instance of a group reports: its state, its tasks and their lag.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Where an instance stands in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceState {
    /// Joining the group; no partitions yet.
    Joining,
    /// Running its assigned tasks.
    Running,
    /// Stopping revoked tasks or starting assigned ones.
    Rebalancing,
    /// Left the group.
    Stopped,
    /// Failed (a task failed for good, or the group could not be reached).
    Failed,
}

/// Where one task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Building its pipeline and restoring its checkpoint.
    Starting,
    /// Processing.
    Running,
    /// Its input ended (a bounded read) and its output is committed.
    Finished,
    /// Failed; restarted after a pause while the partition stays assigned.
    Restarting,
    /// Failed too often; the instance fails.
    Failed,
}

/// One task as its instance sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskStatus {
    /// Its state.
    pub state: TaskState,
    /// Records its source read in the current attempt.
    pub records: u64,
    /// Records of its partition not read yet (`None` until the source reported).
    pub lag: Option<i64>,
    /// Starts so far (1 without failures).
    pub attempts: u32,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

/// An instance's report: its state, its assignment, its tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStatus {
    /// The consumer group.
    pub group: String,
    /// The input topic (and, when the group repartitions, the repartition topic).
    pub topic: String,
    /// This instance's client id.
    pub instance: String,
    /// Its state.
    pub state: InstanceState,
    /// Rebalances this instance took part in (assignments and revocations).
    pub rebalances: u64,
    /// The tasks it runs, by topic and partition.
    pub tasks: BTreeMap<(String, i32), TaskStatus>,
}

impl GroupStatus {
    /// The assigned partitions, by topic.
    pub fn assignment(&self) -> Vec<(String, i32)> {
        self.tasks.keys().cloned().collect()
    }

    /// The summed lag of the tasks that reported one.
    pub fn lag(&self) -> i64 {
        self.tasks.values().filter_map(|t| t.lag).sum()
    }

    /// The status as Prometheus text lines (`tidewater_group_*`).
    ///
    /// ```
    /// use tidewater_connectors::kafka::group::{GroupStatus, InstanceState};
    /// let status = GroupStatus {
    ///     group: "g".into(), topic: "t".into(), instance: "i".into(),
    ///     state: InstanceState::Running, rebalances: 2, tasks: Default::default(),
    /// };
    /// assert!(status.prometheus().contains("tidewater_group_rebalances_total{group=\"g\",instance=\"i\"} 2\n"));
    /// ```
    pub fn prometheus(&self) -> String {
        let labels = format!("group=\"{}\",instance=\"{}\"", self.group, self.instance);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# TYPE tidewater_group_instance_state gauge\ntidewater_group_instance_state{{{labels},state=\"{}\"}} 1",
            serde_json::to_value(self.state).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "# TYPE tidewater_group_rebalances counter\ntidewater_group_rebalances_total{{{labels}}} {}",
            self.rebalances
        );
        let _ = writeln!(out, "# TYPE tidewater_group_partition_assigned gauge");
        for (topic, partition) in self.tasks.keys() {
            let _ = writeln!(
                out,
                "tidewater_group_partition_assigned{{{labels},topic=\"{topic}\",partition=\"{partition}\"}} 1"
            );
        }
        let _ = writeln!(out, "# TYPE tidewater_group_partition_lag gauge");
        for ((topic, partition), task) in &self.tasks {
            if let Some(lag) = task.lag {
                let _ = writeln!(
                    out,
                    "tidewater_group_partition_lag{{{labels},topic=\"{topic}\",partition=\"{partition}\"}} {lag}"
                );
            }
        }
        out
    }
}
