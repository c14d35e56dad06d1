//! Gauges a source reader sets about its input, such as a Kafka partition's lag
//! (records between the reader's position and the partition's end), read with the
//! rest of the metrics.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// One partition of a source's input and how far the reader is behind its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionLag {
    /// The source node, e.g. `"kafka#0"`.
    pub node: String,
    /// Topic (or stream) name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// Records not yet read (end offset minus the reader's position).
    pub lag: i64,
}

type Lags = BTreeMap<(String, i32), i64>;

/// The handle a source reader sets its gauges through
/// ([`WorkerInfo::gauges`](crate::connector::WorkerInfo::gauges)); every worker's
/// reader of a source shares its node's.
///
/// ```
/// use tidewater_engine::metrics::SourceGauges;
/// let gauges = SourceGauges::default();
/// gauges.set_partition_lag("clicks", 2, 40);
/// gauges.set_partition_lag("clicks", 2, 15);
/// assert_eq!(gauges.partition_lags("kafka#0")[0].lag, 15);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SourceGauges {
    lags: Arc<(Mutex<Lags>, Condvar)>,
}

impl SourceGauges {
    /// Sets the lag of `topic`'s partition `partition`.
    pub fn set_partition_lag(&self, topic: &str, partition: i32, lag: i64) {
        let mut lags = self.lags.0.lock().unwrap_or_else(|p| p.into_inner());
        lags.insert((topic.to_string(), partition), lag);
        self.lags.1.notify_all();
    }

    /// Waits until `holds` is true of the lags by (topic, partition), or `timeout`
    /// passes; returns whether it held. For tests and tools that wait on a reader.
    pub fn wait_until(
        &self,
        timeout: Duration,
        holds: impl Fn(&BTreeMap<(String, i32), i64>) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        let mut lags = self.lags.0.lock().unwrap_or_else(|p| p.into_inner());
        while !holds(&lags) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            lags = self
                .lags
                .1
                .wait_timeout(lags, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Every partition's lag, named as source `node`.
    pub fn partition_lags(&self, node: &str) -> Vec<PartitionLag> {
        let lags = self.lags.0.lock().unwrap_or_else(|p| p.into_inner());
        lags.iter()
            .map(|((topic, partition), &lag)| PartitionLag {
                node: node.to_string(),
                topic: topic.clone(),
                partition: *partition,
                lag,
            })
            .collect()
    }
}
