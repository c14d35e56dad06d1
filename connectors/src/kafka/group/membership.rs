//! The consumer that makes an instance a member of the group. It reads no data (its
//! partitions stay paused); its rebalance callbacks stop and start the tasks.

use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::{ClientContext, TopicPartitionList};

use super::tasks::Tasks;

/// Rebalance callbacks of the membership consumer; they run on the thread that polls.
pub(crate) struct Membership {
    pub tasks: Arc<Tasks>,
}

fn partitions(list: &TopicPartitionList) -> Vec<(String, i32)> {
    list.elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect()
}

impl ClientContext for Membership {
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", "{error}: {reason}");
    }
}

impl ConsumerContext for Membership {
    /// A revoked partition's task stops before the callback returns, so the next
    /// owner starts only after this one stopped writing.
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let revoked = partitions(list);
            if !revoked.is_empty() {
                tracing::info!(partitions = ?revoked, "partitions revoked: stopping their tasks");
                self.tasks.stop(&revoked);
            }
        }
    }

    /// Assigned partitions are paused (the tasks read them with consumers of their
    /// own) and their tasks started.
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let assigned = partitions(list);
                if let Err(e) = consumer.pause(list) {
                    tracing::warn!(error = %e, "pausing the membership consumer's partitions");
                }
                if !assigned.is_empty() {
                    tracing::info!(partitions = ?assigned, "partitions assigned: starting their tasks");
                    self.tasks.start(&assigned);
                }
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance failed"),
        }
    }
}
