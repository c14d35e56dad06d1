//! Crash recovery of the Kafka job (`jobs::kafka_counts`: Kafka in, 1 s windows, Kafka
//! out) against a real broker: the job runs as a child process (this test binary,
//! re-executed), is killed with SIGKILL at random moments, or aborts at an armed fault
//! point (a checkpoint just stored, a sink about to commit, a transaction written but
//! not committed), and is restarted on the same checkpoint folder until it finishes.
//! A `read_committed` consumer then reads the output and dead-letter topics:
//!
//! * exactly-once: row for row what an uninterrupted run wrote;
//! * at-least-once: nothing missing (repeats allowed).
//!
//! CI runs 20 kills; `TIDEWATER_KAFKA_KILLS=200` runs 200.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use tidewater::connectors::kafka::test_broker::TestBroker;
use tidewater::engine::config::DeliveryGuarantee;
use tidewater::jobs::kafka_counts::{KafkaCounts, KeyWindow};

mod child;

use child::{Child, Ended};

const CHILD_ENV: &str = "TIDEWATER_KAFKA_CRASH_CHILD";

fn broker() -> &'static TestBroker {
    TestBroker::shared().unwrap_or_else(|e| panic!("the Kafka crash tests need their broker: {e}"))
}

/// Runs the job described in `CHILD_ENV` when this binary is the child.
#[test]
fn kafka_crash_child_entry() {
    if let Ok(job) = std::env::var(CHILD_ENV) {
        let job: KafkaCounts = serde_json::from_str(&job).expect("job description");
        job.run().expect("kafka_counts");
    }
}

/// An input topic of `events` JSON events over 3 partitions and 12 keys, event time
/// increasing within each partition (so no record is late under any interleaving),
/// integer values (so sums are exact in any order), and a malformed value every 997.
fn input_topic(topic: &str, events: usize) {
    let b = broker();
    b.create_topic(topic, 3).unwrap();
    let values: Vec<(i32, String)> = (0..events)
        .map(|i| {
            let partition = (i % 3) as i32;
            let value = if i % 997 == 500 {
                format!("{{\"broken\": {i}")
            } else {
                format!(
                    r#"{{"key":"k{}","value":{},"ts":{}}}"#,
                    (i * 7) % 12,
                    i % 10,
                    1_700_000_000_000_i64 + (i as i64) * 3
                )
            };
            (partition, value)
        })
        .collect();
    b.produce_to(
        topic,
        values.iter().map(|(p, v)| (Some(*p), None, v.as_str())),
    )
    .unwrap();
}

fn job(name: &str, dir: &std::path::Path, delivery: DeliveryGuarantee) -> KafkaCounts {
    let b = broker();
    let output = format!("{name}-out");
    b.create_topic(&output, 2).unwrap();
    b.create_topic(&format!("{output}.dead-letters"), 1)
        .unwrap();
    KafkaCounts {
        bootstrap: b.bootstrap(),
        input: format!("{name}-in"),
        output,
        dead_letters: None,
        checkpoint_dir: dir.join(name),
        delivery,
        checkpoint_interval_ms: 100,
        parallelism: 2,
    }
}

/// Runs the job in a child process, killed after `kill_after` if given; `fault` arms a
/// fault-injection point (`point@n`). Returns whether the job finished by itself.
fn run_child(job: &KafkaCounts, kill_after: Option<Duration>, fault: Option<&str>) -> bool {
    let child = Child {
        entry: "kafka_crash_child_entry",
        env: CHILD_ENV,
        job: serde_json::to_string(job).unwrap(),
    };
    child.run(kill_after, fault, Duration::from_secs(300)) == Ended::Finished
}

/// The committed rows of a topic, sorted.
fn committed_rows(topic: &str) -> Vec<String> {
    let mut rows: Vec<String> = broker()
        .read_committed(topic)
        .unwrap()
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap()).unwrap())
        .collect();
    rows.sort();
    rows
}

/// What the job writes when it runs once, uninterrupted: (results, dead letters).
fn uninterrupted(job: &KafkaCounts, name: &str) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut clean = self::job(name, dir.path(), job.delivery);
    clean.input = job.input.clone();
    clean.run().unwrap();
    let results = committed_rows(&clean.output);
    assert!(results.len() > 100, "{}", results.len());
    (results, committed_rows(&clean.dead_letter_topic()))
}

fn kills(base: usize) -> usize {
    std::env::var("TIDEWATER_KAFKA_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(base)
}

/// Kills the job `kills` times at random moments, then lets it finish; the number of
/// runs that were killed.
fn crash_and_finish(job: &KafkaCounts, kills: usize, seed: u64) -> usize {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut killed = 0;
    for _ in 0..kills {
        let after = Duration::from_millis(rng.random_range(100..700));
        if run_child(job, Some(after), None) {
            return killed;
        }
        killed += 1;
    }
    assert!(run_child(job, None, None), "the last run failed");
    killed
}

fn windows(rows: &[String]) -> BTreeMap<(String, i64), Vec<(u64, f64)>> {
    let mut map: BTreeMap<(String, i64), Vec<(u64, f64)>> = BTreeMap::new();
    for r in rows {
        let w: KeyWindow = serde_json::from_str(r).unwrap();
        map.entry((w.key, w.window_start))
            .or_default()
            .push((w.count, w.sum));
    }
    map
}

/// Exactly-once: identical rows; on failure, the first windows that differ.
fn assert_same(got: &[String], expected: &[String], what: &str) {
    if got != expected {
        let (g, e) = (windows(got), windows(expected));
        let differing: Vec<_> = e
            .keys()
            .chain(g.keys())
            .filter(|k| g.get(k) != e.get(k))
            .take(5)
            .map(|k| (k, e.get(k), g.get(k)))
            .collect();
        panic!(
            "{what}: {} rows committed, {} expected; first differences (key, window) -> (expected, got): {differing:?}",
            got.len(),
            expected.len()
        );
    }
}

#[test]
fn exactly_once_kafka_output_after_random_kills_equals_an_uninterrupted_run() {
    let n = kills(20);
    let dir = tempfile::tempdir().unwrap();
    input_topic("eo-random-in", 16_000 * n.max(4));
    let job = job("eo-random", dir.path(), DeliveryGuarantee::ExactlyOnce);
    let started = Instant::now();
    let (expected, expected_dead) = uninterrupted(&job, "eo-random-clean");
    eprintln!("uninterrupted run: {:?}", started.elapsed());
    let killed = crash_and_finish(&job, n, 11);
    eprintln!("{killed} of {n} runs killed");
    assert!(
        killed >= n / 2,
        "only {killed} of {n} runs were killed before the job ended"
    );
    assert_same(&committed_rows(&job.output), &expected, "results");
    assert_eq!(committed_rows(&job.dead_letter_topic()), expected_dead);
}

/// Every restart after a kill runs at another parallelism (2, 1, 3, ...): each restore
/// redistributes the partitions' offsets and the windows' keys, and publishes the
/// transactions every old worker left uncommitted under that worker's transactional
/// id (fencing it); the committed output still equals an uninterrupted run's.
#[test]
fn exactly_once_kafka_output_equals_an_uninterrupted_run_when_restarts_change_parallelism() {
    let n = kills(6);
    let dir = tempfile::tempdir().unwrap();
    input_topic("eo-rescale-in", 16_000 * n.max(4));
    let mut job = job("eo-rescale", dir.path(), DeliveryGuarantee::ExactlyOnce);
    let (expected, expected_dead) = uninterrupted(&job, "eo-rescale-clean");
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let mut killed = 0;
    let mut finished = false;
    for parallelism in [2, 1, 3].into_iter().cycle().take(n) {
        job.parallelism = parallelism;
        let after = Duration::from_millis(rng.random_range(200..700));
        if run_child(&job, Some(after), None) {
            finished = true;
            break;
        }
        killed += 1;
    }
    if !finished {
        job.parallelism = 2;
        assert!(run_child(&job, None, None), "the last run failed");
    }
    eprintln!("{killed} of {n} runs killed, each restart at another parallelism");
    assert!(killed >= n / 2, "only {killed} of {n} runs were killed");
    assert_same(&committed_rows(&job.output), &expected, "results");
    assert_eq!(committed_rows(&job.dead_letter_topic()), expected_dead);
}

#[test]
fn exactly_once_kafka_output_survives_a_crash_at_every_armed_point() {
    let dir = tempfile::tempdir().unwrap();
    input_topic("eo-points-in", 20_000);
    let base = job("eo-points", dir.path(), DeliveryGuarantee::ExactlyOnce);
    let (expected, expected_dead) = uninterrupted(&base, "eo-points-clean");
    // (armed point, what it is)
    for (i, point) in [
        "checkpoint.after_store@2", // stored, no transaction committed yet
        "sink.commit@3",            // a sink about to commit a stored checkpoint
        "kafka.before_commit@3",    // a transaction holds its records and marker, uncommitted
        "sink.pre_commit@4",        // a barrier reached a sink
    ]
    .into_iter()
    .enumerate()
    {
        let mut job = job(
            &format!("eo-points-{i}"),
            dir.path(),
            DeliveryGuarantee::ExactlyOnce,
        );
        job.input = base.input.clone();
        assert!(
            !run_child(&job, None, Some(point)),
            "the job never reached `{point}`"
        );
        assert!(
            run_child(&job, None, None),
            "restart after `{point}` failed"
        );
        assert_same(&committed_rows(&job.output), &expected, point);
        assert_eq!(
            committed_rows(&job.dead_letter_topic()),
            expected_dead,
            "{point}"
        );
    }
}

#[test]
fn at_least_once_kafka_output_after_random_kills_misses_nothing() {
    let n = kills(20) / 2;
    let dir = tempfile::tempdir().unwrap();
    input_topic("alo-random-in", 16_000 * n.max(2));
    let job = job("alo-random", dir.path(), DeliveryGuarantee::AtLeastOnce);
    let (expected, _) = uninterrupted(&job, "alo-random-clean");
    crash_and_finish(&job, n, 12);
    let got = windows(&committed_rows(&job.output));
    for (window, rows) in windows(&expected) {
        let found = got.get(&window).cloned().unwrap_or_default();
        assert!(!found.is_empty(), "window {window:?} is missing");
        assert!(
            found.iter().all(|r| *r == rows[0]),
            "window {window:?}: {found:?} vs {rows:?}"
        );
    }
}
