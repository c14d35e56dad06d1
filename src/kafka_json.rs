//! A Kafka producer of JSON messages for the generators' Kafka outputs (the Genesis
//! Kafka generator, the Spindle sinks): sends to any topic, waits while librdkafka's
//! queue is full up to a bound, counts delivery failures and reports them at the end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tidewater_connectors::kafka::rdkafka::error::{KafkaError, RDKafkaErrorCode};
use tidewater_connectors::kafka::rdkafka::message::DeliveryResult;
use tidewater_connectors::kafka::rdkafka::producer::{
    BaseRecord, Producer, ProducerContext, ThreadedProducer,
};
use tidewater_connectors::kafka::rdkafka::{ClientConfig, ClientContext};

/// Counts delivery failures, keeping the first.
#[derive(Default)]
struct Deliveries {
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut first) = self.first_error.lock() {
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// A JSON message producer.
pub(crate) struct JsonProducer {
    producer: ThreadedProducer<Deliveries>,
    max_block: Duration,
}

/// What went wrong, in words for the caller's error type.
pub(crate) type Problem = String;

impl JsonProducer {
    /// A producer for `bootstrap` with librdkafka `settings`; `max_block` bounds the wait
    /// while the queue is full.
    pub fn new<'a>(
        bootstrap: &str,
        settings: impl IntoIterator<Item = (&'a str, &'a str)>,
        max_block: Duration,
    ) -> Result<JsonProducer, Problem> {
        let mut client = ClientConfig::new();
        client.set("bootstrap.servers", bootstrap);
        client.set("log_level", "3");
        for (k, v) in settings {
            client.set(k, v);
        }
        let producer = client
            .create_with_context(Deliveries::default())
            .map_err(|e| e.to_string())?;
        Ok(JsonProducer {
            producer,
            max_block,
        })
    }

    /// Queues one message.
    pub fn send(&self, topic: &str, key: Option<&str>, payload: &[u8]) -> Result<(), Problem> {
        let mut record = BaseRecord::<str, [u8]>::to(topic).payload(payload);
        if let Some(k) = key {
            record = record.key(k);
        }
        let blocked_since = Instant::now();
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    if blocked_since.elapsed() > self.max_block {
                        return Err(format!(
                            "the producer's queue stayed full for max_block_ms ({} ms)",
                            self.max_block.as_millis()
                        ));
                    }
                    record = back;
                    self.producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => return Err(format!("producing to `{topic}`: {e}")),
            }
        }
    }

    /// Waits until every queued message is acknowledged; an error counts the ones that
    /// were not and gives the first reason.
    pub fn flush(&self) -> Result<(), Problem> {
        self.producer
            .flush(self.max_block.max(Duration::from_secs(30)))
            .map_err(|e| format!("flushing: {e}"))?;
        let deliveries = self.producer.context();
        let failed = deliveries.failed.swap(0, Ordering::Relaxed);
        if failed > 0 {
            let first = deliveries
                .first_error
                .lock()
                .ok()
                .and_then(|mut e| e.take())
                .unwrap_or_default();
            return Err(format!(
                "{failed} messages were not delivered; the first: {first}"
            ));
        }
        Ok(())
    }
}
