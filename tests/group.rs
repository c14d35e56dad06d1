//! Scale-out through a consumer group against the test broker: instances of the Kafka
//! windowed job (`jobs::kafka_counts`, 1 s tumbling windows per key, exactly-once
//! Kafka output) run as child processes in one group while the input is produced;
//! one is killed with SIGKILL mid-run and another joins later. The output topic, read
//! with `read_committed`, equals a single-process run's, row for row.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tidewater::connectors::kafka::test_broker::TestBroker;
use tidewater::engine::config::DeliveryGuarantee;
use tidewater::jobs::kafka_counts::KafkaCounts;

mod child;

use child::Child;

const CHILD_ENV: &str = "TIDEWATER_GROUP_CHILD";

/// One scenario at a time: each runs three or four instances, which on a two-core
/// machine is load enough.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}
const PARTITIONS: i32 = 6;
const KEYS: usize = 24;

fn broker() -> &'static TestBroker {
    TestBroker::shared().unwrap_or_else(|e| panic!("the group tests need their broker: {e}"))
}

/// Runs one instance of the group described in `CHILD_ENV` when this binary is the
/// child; it runs until killed.
#[test]
fn group_child_entry() {
    if let Ok(job) = std::env::var(CHILD_ENV) {
        tidewater::logging::init();
        let (job, group, repartition): (KafkaCounts, String, bool) =
            serde_json::from_str(&job).expect("job description");
        job.run_in_group(&group, repartition)
            .expect("group instance");
    }
}

/// Event `i` of the input: key `k<n>` lives in partition `n % PARTITIONS` (the input
/// is partitioned by key), event time rises within each partition, values are
/// integers (sums exact in any order). The last event of each partition is an hour
/// later, under a key of its own, so that every real window closes.
fn event(i: usize, events: usize, keyed: bool) -> (i32, String) {
    let key = (i * 7) % KEYS;
    let partition = if keyed {
        (key % PARTITIONS as usize) as i32
    } else {
        (i % PARTITIONS as usize) as i32
    };
    if i >= events {
        let p = (i - events) as i32;
        let ts = 1_700_003_600_000_i64;
        return (p, format!(r#"{{"key":"end-{p}","value":1,"ts":{ts}}}"#));
    }
    let ts = 1_700_000_000_000_i64 + (i as i64) * 2;
    (
        partition,
        format!(r#"{{"key":"k{key}","value":{},"ts":{ts}}}"#, i % 10),
    )
}

fn produce(topic: &str, range: std::ops::Range<usize>, events: usize, keyed: bool) {
    let values: Vec<(i32, String)> = range.map(|i| event(i, events, keyed)).collect();
    broker()
        .produce_to(
            topic,
            values
                .iter()
                .map(|(p, v)| (Some(*p), Some(v.split('"').nth(3).unwrap()), v.as_str())),
        )
        .unwrap();
}

/// The committed rows of `topic`, sorted, without the windows of the closing events
/// (which only a bounded run closes).
fn committed_rows(topic: &str) -> Vec<String> {
    let mut rows: Vec<String> = broker()
        .read_committed(topic)
        .unwrap()
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap()).unwrap())
        .filter(|r| !r.contains("\"end-"))
        .collect();
    rows.sort();
    rows
}

fn job(input: &str, output: &str, dir: &std::path::Path) -> KafkaCounts {
    let b = broker();
    b.create_topic(output, 1).unwrap();
    b.create_topic(&format!("{output}.dead-letters"), 1)
        .unwrap();
    KafkaCounts {
        bootstrap: b.bootstrap(),
        input: input.to_string(),
        output: output.to_string(),
        dead_letters: None,
        checkpoint_dir: dir.to_path_buf(),
        delivery: DeliveryGuarantee::ExactlyOnce,
        checkpoint_interval_ms: 100,
        parallelism: 1,
    }
}

fn start(job: &KafkaCounts, group: &str, repartition: bool) -> child::Running {
    Child {
        entry: "group_child_entry",
        env: CHILD_ENV,
        job: serde_json::to_string(&(job, group, repartition)).unwrap(),
    }
    .spawn()
}

/// Exactly-once: the committed rows are the expected ones, each once.
fn assert_same_rows(got: &[String], expected: &[String]) {
    assert!(
        got == expected,
        "{} rows committed, {} expected; first differences (row, expected, got): {:?}",
        got.len(),
        expected.len(),
        differences(got, expected)
    );
}

/// Rows that differ: (row, expected count, committed count).
fn differences(got: &[String], expected: &[String]) -> Vec<(String, usize, usize)> {
    let mut counts: BTreeMap<&String, (usize, usize)> = BTreeMap::new();
    for r in expected {
        counts.entry(r).or_default().0 += 1;
    }
    for r in got {
        counts.entry(r).or_default().1 += 1;
    }
    counts
        .into_iter()
        .filter(|(_, (e, g))| e != g)
        .map(|(r, (e, g))| (r.clone(), e, g))
        .take(10)
        .collect()
}

/// Three instances, one killed (if `kill`) while the input arrives and one added
/// later; the output equals one process's. `keyed`: the input is partitioned by key;
/// otherwise the group repartitions it through its own topic.
fn kill_one_add_one(name: &str, keyed: bool, kill: bool) {
    let _serial = one_at_a_time();
    let events = 60_000;
    let input = format!("{name}-in");
    broker().create_topic(&input, PARTITIONS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let grouped = job(&input, &format!("{name}-out"), &dir.path().join("group"));
    let repartition = !keyed;

    // The first instance forms the group alone and leads it (in Kafka's classic
    // protocol the leader computes the assignment); the test broker, noida-db, never
    // replaces a dead leader (a real broker expires its session and picks another),
    // so the instance killed below is one of the two that join next.
    let mut instances = vec![start(&grouped, name, repartition)];
    std::thread::park_timeout(Duration::from_millis(1_500));
    instances.extend((0..2).map(|_| start(&grouped, name, repartition)));
    // The input arrives over a few seconds while the instances run.
    let chunk = events / 6;
    let started = Instant::now();
    for (n, from) in (0..events).step_by(chunk).enumerate() {
        produce(&input, from..(from + chunk).min(events), events, keyed);
        std::thread::park_timeout(Duration::from_millis(500));
        if n == 2 && kill {
            eprintln!("killing one instance at {:?}", started.elapsed());
            instances.remove(1).kill();
        }
        if n == 4 {
            eprintln!("adding an instance at {:?}", started.elapsed());
            instances.push(start(&grouped, name, repartition));
        }
    }
    produce(&input, events..events + PARTITIONS as usize, events, keyed);

    // One process over the same input, bounded: the reference.
    let single = job(
        &input,
        &format!("{name}-single"),
        &dir.path().join("single"),
    );
    single.run().unwrap();
    let expected = committed_rows(&single.output);
    assert!(expected.len() > 1_000, "{}", expected.len());

    let deadline = Instant::now() + Duration::from_secs(180);
    let mut got = committed_rows(&grouped.output);
    while got.len() < expected.len() && Instant::now() < deadline {
        for i in instances.iter_mut() {
            assert!(!i.exited(), "an instance exited by itself");
        }
        std::thread::park_timeout(Duration::from_millis(500));
        got = committed_rows(&grouped.output);
    }
    eprintln!(
        "{name}: {} rows committed by the group, {} by one process, after {:?}",
        got.len(),
        expected.len(),
        started.elapsed()
    );
    assert_same_rows(&got, &expected);
    for i in instances {
        i.kill();
    }
}

#[test]
fn three_instances_one_killed_and_one_added_write_what_one_process_writes() {
    kill_one_add_one("keyed", true, true);
}

/// The test broker (noida-db) never expires the session of a killed member; a kill
/// is only noticed at the next rebalance, after `max.poll.interval.ms`, which with the
/// repartition topic's twice as many tasks keeps the group rebalancing there. A real
/// broker expires it after `session.timeout.ms`; here an instance joins instead.
#[test]
fn an_input_not_partitioned_by_key_is_repartitioned_and_still_counted_exactly_once() {
    kill_one_add_one("shuffled", false, false);
}

/// A zombie: an instance frozen (SIGSTOP) while it runs its tasks is dropped from the
/// group when the others rebalance (an instance joins), its partitions move, and when
/// it thaws it neither writes anything twice nor loses anything: the new owners could
/// not start its tasks while it held their checkpoint folders, and once they do, their
/// producers fence its transactions. The output equals one process's.
#[test]
fn a_frozen_instance_that_thaws_after_its_partitions_moved_writes_nothing_twice() {
    let _serial = one_at_a_time();
    let events = 40_000;
    let input = "zombie-in";
    broker().create_topic(input, PARTITIONS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let grouped = job(input, "zombie-out", &dir.path().join("group"));
    // The first instance leads the group; a later one is frozen (see
    // `kill_one_add_one` on the test broker and dead leaders).
    let mut instances = vec![start(&grouped, "zombie", false)];
    std::thread::park_timeout(Duration::from_millis(1_500));
    instances.extend((0..2).map(|_| start(&grouped, "zombie", false)));
    let half = events / 2;
    produce(input, 0..half, events, true);
    std::thread::park_timeout(Duration::from_secs(2));
    let zombie = instances.remove(1);
    zombie.signal("STOP");
    instances.push(start(&grouped, "zombie", false));
    produce(input, half..events, events, true);
    produce(input, events..events + PARTITIONS as usize, events, true);
    // Past the rebalance timeout (`max.poll.interval.ms`, 10 s): the zombie is out.
    std::thread::park_timeout(Duration::from_secs(15));
    zombie.signal("CONT");
    instances.push(zombie);

    let single = job(input, "zombie-single", &dir.path().join("single"));
    single.run().unwrap();
    let expected = committed_rows(&single.output);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut got = committed_rows(&grouped.output);
    while got.len() < expected.len() && Instant::now() < deadline {
        std::thread::park_timeout(Duration::from_millis(500));
        got = committed_rows(&grouped.output);
    }
    // A little longer: a zombie's late commit would show as a repeat.
    std::thread::park_timeout(Duration::from_secs(3));
    got = committed_rows(&grouped.output);
    assert_same_rows(&got, &expected);
    for i in instances {
        i.kill();
    }
}
