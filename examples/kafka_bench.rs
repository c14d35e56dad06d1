//! Throughput of `kafka_counts` at-least-once and exactly-once beside the raw rate of an
//! rdkafka consumer reading the same topic alone (the ceiling).
//!
//! ```text
//! cargo run --release --example kafka_bench -- [--events 2000000] [--partitions 4]
//!     [--parallelism 2] [--checkpoint-interval-ms 1000] [--bootstrap HOST:PORT]
//! ```
//!
//! Without `--bootstrap` it starts a throwaway noida-db broker (as the tests do). It
//! fills a topic with JSON events `{"key","value","ts"}` (1,000 keys), reads it once
//! with a bare consumer, then runs the job once per guarantee, each from the start with
//! a fresh checkpoint folder and output topic, and prints one JSON line per run.

use std::time::{Duration, Instant};

use clap::Parser;
use tidewater::connectors::kafka::rdkafka::consumer::{BaseConsumer, Consumer};
use tidewater::connectors::kafka::rdkafka::error::KafkaError;
use tidewater::connectors::kafka::rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tidewater::connectors::kafka::test_broker::TestBroker;
use tidewater::connectors::kafka::QuietEof;
use tidewater::engine::config::DeliveryGuarantee;
use tidewater::jobs::kafka_counts::KafkaCounts;

#[derive(Parser)]
struct Args {
    /// Events in the input topic.
    #[arg(long, default_value_t = 2_000_000)]
    events: usize,
    /// Partitions of the input topic.
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    /// Worker threads of the job.
    #[arg(long, default_value_t = 2)]
    parallelism: usize,
    /// Processing time between checkpoints.
    #[arg(long, default_value_t = 1000)]
    checkpoint_interval_ms: u64,
    /// An existing cluster (default: start a noida-db broker).
    #[arg(long)]
    bootstrap: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tidewater::logging::init();
    let args = Args::parse();
    let own = match &args.bootstrap {
        Some(_) => None,
        None => Some(TestBroker::start()?),
    };
    let bootstrap = args
        .bootstrap
        .clone()
        .unwrap_or_else(|| own.as_ref().map(TestBroker::bootstrap).unwrap_or_default());
    let admin = TestBrokerAdmin(&bootstrap, own.as_ref());
    let run = std::process::id();
    let input = format!("bench-in-{run}");
    admin.create(&input, args.partitions)?;
    let filled = Instant::now();
    admin.fill(&input, args.events, args.partitions)?;
    eprintln!(
        "filled {} events in {:.1} s",
        args.events,
        filled.elapsed().as_secs_f64()
    );

    let (n, secs) = raw_read(&bootstrap, &input)?;
    println!(
        "{{\"run\":\"raw-consumer\",\"events\":{n},\"seconds\":{secs:.3},\"events_per_sec\":{:.0}}}",
        n as f64 / secs
    );
    let raw_rate = n as f64 / secs;
    for delivery in [
        DeliveryGuarantee::AtLeastOnce,
        DeliveryGuarantee::ExactlyOnce,
    ] {
        let dir = tempfile::tempdir()?;
        let output = format!("bench-out-{run}-{delivery:?}").to_lowercase();
        admin.create(&output, args.partitions)?;
        admin.create(&format!("{output}.dead-letters"), 1)?;
        let job = KafkaCounts {
            bootstrap: bootstrap.clone(),
            input: input.clone(),
            output,
            dead_letters: None,
            checkpoint_dir: dir.path().join("ckpt"),
            delivery,
            checkpoint_interval_ms: args.checkpoint_interval_ms,
            parallelism: args.parallelism,
        };
        let started = Instant::now();
        let m = job.run()?;
        let secs = started.elapsed().as_secs_f64();
        let rate = m.source_records as f64 / secs;
        println!(
            "{{\"run\":\"kafka_counts\",\"delivery\":\"{delivery:?}\",\"events\":{},\"seconds\":{secs:.3},\"events_per_sec\":{rate:.0},\"ratio_to_raw\":{:.3},\"p50_ms\":{:.1},\"p99_ms\":{:.1},\"checkpoints\":{}}}",
            m.source_records,
            rate / raw_rate,
            m.latency.p50_ms,
            m.latency.p99_ms,
            m.checkpoints.map_or(0, |c| c.completed)
        );
    }
    Ok(())
}

/// Topic set-up through the test broker's helpers (which work on any cluster).
struct TestBrokerAdmin<'a>(&'a str, Option<&'a TestBroker>);

impl TestBrokerAdmin<'_> {
    fn create(&self, topic: &str, partitions: i32) -> Result<(), Box<dyn std::error::Error>> {
        match self.1 {
            Some(b) => Ok(b.create_topic(topic, partitions)?),
            None => Err("creating topics on an external cluster: create them beforehand".into()),
        }
    }

    fn fill(
        &self,
        topic: &str,
        events: usize,
        partitions: i32,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let b = self.1.ok_or("filling topics needs the own broker")?;
        let chunk = 200_000;
        for start in (0..events).step_by(chunk) {
            let values: Vec<(i32, String)> = (start..(start + chunk).min(events))
                .map(|i| {
                    let p = (i % partitions as usize) as i32;
                    (
                        p,
                        format!(
                            r#"{{"key":"k{}","value":{},"ts":{}}}"#,
                            i % 1000,
                            i % 100,
                            1_700_000_000_000_i64 + i as i64 / 10
                        ),
                    )
                })
                .collect();
            b.produce_to(
                topic,
                values.iter().map(|(p, v)| (Some(*p), None, v.as_str())),
            )?;
        }
        let _ = self.0;
        Ok(())
    }
}

/// Reads every partition of `topic` to its end with one bare consumer: (records, seconds).
fn raw_read(bootstrap: &str, topic: &str) -> Result<(u64, f64), Box<dyn std::error::Error>> {
    let consumer: BaseConsumer<QuietEof> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "raw-bench")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed")
        // noida-db answers a fetch with more than fetch.max.bytes.
        .set("receive.message.max.bytes", "1000000000")
        .create_with_context(QuietEof::default())?;
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let partitions: Vec<i32> = md.topics()[0].partitions().iter().map(|p| p.id()).collect();
    let mut tpl = TopicPartitionList::new();
    for &p in &partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
    }
    let started = Instant::now();
    consumer.assign(&tpl)?;
    let mut open = partitions.len();
    let mut n = 0u64;
    let mut bytes = 0usize;
    while open > 0 {
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(_))) => open -= 1,
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(m)) => {
                n += 1;
                bytes += m.payload_len();
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!("raw consumer: {n} records, {bytes} bytes");
    Ok((n, secs))
}
