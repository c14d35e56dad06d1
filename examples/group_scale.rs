//! Scale-out measured: the Kafka windowed job (`jobs::kafka_counts`) run by 1, 2 and
//! 3 instances of one consumer group over a topic partitioned by key, then the time a
//! joining instance takes to run its share (cooperative rebalance, tasks restored from
//! the shared checkpoint folder), and the size of a task's checkpoints.
//!
//! ```text
//! cargo run --release --example group_scale -- [--events 600000] [--partitions 6]
//! ```
//!
//! It starts a throwaway noida-db broker (as the tests do). Instances run as threads of
//! this process, each its own group member with its own consumers and producers, as
//! separate processes would.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use tidewater::connectors::kafka::group::{GroupInstance, TaskState};
use tidewater::connectors::kafka::test_broker::TestBroker;
use tidewater::engine::config::DeliveryGuarantee;
use tidewater::engine::prelude::*;
use tidewater::jobs::kafka_counts::KafkaCounts;

#[derive(Parser)]
struct Args {
    /// Events in the input topic.
    #[arg(long, default_value_t = 600_000)]
    events: usize,
    /// Partitions of the input topic (tasks).
    #[arg(long, default_value_t = 6)]
    partitions: i32,
    /// Keys (each in one partition).
    #[arg(long, default_value_t = 1_000)]
    keys: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tidewater::logging::init();
    let args = Args::parse();
    let broker = TestBroker::start()?;
    let input = "scale-in";
    broker.create_topic(input, args.partitions)?;
    let produced = Instant::now();
    let mut windows = std::collections::BTreeSet::new();
    let records: Vec<(i32, String, String)> = (0..args.events)
        .map(|i| {
            let k = (i * 7919) % args.keys;
            let ts = 1_700_000_000_000_i64 + i as i64 / 10;
            windows.insert((k, ts / 1_000));
            let key = format!("k{k}");
            let value = format!(r#"{{"key":"{key}","value":{},"ts":{ts}}}"#, i % 10);
            ((k % args.partitions as usize) as i32, key, value)
        })
        .collect();
    let mut records = records;
    // A last event per partition, an hour on, under a key of its own, closes every
    // window of the partition.
    for p in 0..args.partitions {
        let key = format!("end-{p}");
        let value = format!(r#"{{"key":"{key}","value":0,"ts":1700003600000}}"#);
        records.push((p, key, value));
    }
    broker.produce_to(
        input,
        records
            .iter()
            .map(|(p, k, v)| (Some(*p), Some(k.as_str()), v.as_str())),
    )?;
    eprintln!(
        "produced {} events in {:?}",
        args.events,
        produced.elapsed()
    );
    // The windows a run must commit: every window of the real keys.
    let closable = windows.len();

    for instances in 1..=3 {
        let work = tempfile::tempdir()?;
        let job = KafkaCounts {
            bootstrap: broker.bootstrap(),
            input: input.to_string(),
            output: format!("scale-out-{instances}"),
            dead_letters: None,
            checkpoint_dir: work.path().to_path_buf(),
            delivery: DeliveryGuarantee::ExactlyOnce,
            checkpoint_interval_ms: 1_000,
            parallelism: 1,
        };
        broker.create_topic(&job.output, 1)?;
        broker.create_topic(&job.dead_letter_topic(), 1)?;
        let group = format!("scale-{instances}");
        let started = Instant::now();
        let members: Vec<Arc<GroupInstance>> = (0..instances)
            .map(|_| job.group_instance(&group, false).map(Arc::new))
            .collect::<Result<_>>()?;
        let threads: Vec<_> = members
            .iter()
            .map(|m| {
                let (m, job) = (m.clone(), job.clone());
                std::thread::spawn(move || m.run(move |task| Ok(job.task_pipeline(task))))
            })
            .collect();
        let mut committed = 0;
        while committed < closable && started.elapsed() < Duration::from_secs(600) {
            std::thread::sleep(Duration::from_millis(250));
            committed = broker.read_committed(&job.output)?.len();
        }
        let elapsed = started.elapsed();
        let assignment: Vec<Vec<i32>> = members
            .iter()
            .map(|m| {
                m.status()
                    .assignment()
                    .into_iter()
                    .map(|(_, p)| p)
                    .collect()
            })
            .collect();
        println!(
            "{{\"instances\":{instances},\"events\":{},\"windows\":{committed},\"seconds\":{:.2},\"events_per_sec\":{:.0},\"assignment\":{assignment:?}}}",
            args.events,
            elapsed.as_secs_f64(),
            args.events as f64 / elapsed.as_secs_f64()
        );
        if instances == 2 {
            // A third instance joins the caught-up two: how long until it runs its
            // share, restored from the checkpoints the others left.
            let joined = Instant::now();
            let third = Arc::new(job.group_instance(&group, false)?);
            let (m, j) = (third.clone(), job.clone());
            let thread = std::thread::spawn(move || m.run(move |task| Ok(j.task_pipeline(task))));
            let mut assigned = None;
            let mut running = None;
            while running.is_none() && joined.elapsed() < Duration::from_secs(120) {
                let status = third.status();
                if assigned.is_none() && !status.tasks.is_empty() {
                    assigned = Some(joined.elapsed());
                }
                if !status.tasks.is_empty()
                    && status.tasks.values().all(|t| t.state == TaskState::Running)
                {
                    running = Some(joined.elapsed());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let size = folder_size(work.path());
            println!(
                "{{\"join\":\"third instance\",\"assigned_after_s\":{:.2},\"running_after_s\":{:.2},\"moved\":{:?},\"checkpoint_bytes_all_tasks\":{size}}}",
                assigned.map_or(f64::NAN, |d| d.as_secs_f64()),
                running.map_or(f64::NAN, |d| d.as_secs_f64()),
                third
                    .status()
                    .assignment()
                    .into_iter()
                    .map(|(_, p)| p)
                    .collect::<Vec<i32>>()
            );
            third.stop();
            let _ = thread.join();
        }
        for m in &members {
            m.stop();
        }
        for t in threads {
            t.join().map_err(|_| "an instance panicked")??;
        }
    }
    Ok(())
}

fn folder_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
