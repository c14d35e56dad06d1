//! Crash recovery of the checkpointed job: the job runs as a child process (this test
//! binary, re-executed), is killed with SIGKILL at random moments and restarted on the
//! same checkpoint folder until it finishes on its own; its committed output is then
//! compared with a run that never crashed.
//!
//! * exactly-once: identical output;
//! * at-least-once: nothing missing (repeats allowed);
//! * at-most-once: nothing repeated, and no count above the true one (losses allowed).
//!
//! The exactly-once case runs twice: over one generator and over a union of two.
//!
//! CI runs 25 kills in all; `TIDEWATER_CRASH_KILLS=200` runs 250 (200 over one source).

use std::collections::BTreeMap;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use tidewater::engine::config::DeliveryGuarantee;
use tidewater::jobs::auction_bid_counts::{AuctionBids, CheckpointedJob, Topology};

mod child;

use child::{Child, Ended};

const CHILD_ENV: &str = "TIDEWATER_CRASH_CHILD";

/// Runs the job described in `CHILD_ENV` when this binary is the child.
#[test]
fn crash_child_entry() {
    if let Ok(job) = std::env::var(CHILD_ENV) {
        let job: CheckpointedJob = serde_json::from_str(&job).expect("job description");
        job.run().expect("checkpointed job");
    }
}

/// A job long enough to be killed `kills` times before it ends (about 0.4 s of work per
/// kill at 10 000 bids per second).
fn job(root: &std::path::Path, delivery: DeliveryGuarantee, kills: usize) -> CheckpointedJob {
    CheckpointedJob {
        checkpoint_dir: root.join("checkpoints"),
        output_dir: root.join("output"),
        delivery,
        events: 4_000 * kills as u64,
        seed: 7,
        checkpoint_interval_ms: 40,
        rate_per_sec: Some(10_000.0),
        parallelism: 2,
        sources: 1,
        topology: Topology::AuctionCounts,
    }
}

/// Starts the child; kills it after `kill_after` unless it ends first. True if it
/// finished by itself (successfully).
fn run_child(job: &CheckpointedJob, kill_after: Option<Duration>) -> bool {
    run_child_armed(job, kill_after, None)
}

/// Runs the job in a child process, killed after `kill_after` if given; `fault` arms a
/// fault-injection point (`point@n`) at which the child aborts. Returns whether the job
/// finished.
fn run_child_armed(
    job: &CheckpointedJob,
    kill_after: Option<Duration>,
    fault: Option<&str>,
) -> bool {
    let child = Child {
        entry: "crash_child_entry",
        env: CHILD_ENV,
        job: serde_json::to_string(job).unwrap(),
    };
    match child.run(kill_after, fault, Duration::from_secs(600)) {
        Ended::Finished => true,
        Ended::Killed => false,
        Ended::Failed if fault.is_some() => false, // aborted at the armed point
        Ended::Failed => panic!("the job failed"),
    }
}

/// Kills the job `kills` times at random moments, then lets it finish.
fn crash_and_finish(job: &CheckpointedJob, kills: usize, seed: u64) -> usize {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut killed = 0;
    for _ in 0..kills {
        let after = Duration::from_millis(rng.random_range(60..500));
        if run_child(job, Some(after)) {
            return killed;
        }
        killed += 1;
    }
    assert!(run_child(job, None));
    killed
}

/// Exactly-once: the committed rows equal the uninterrupted run's; on failure, says how
/// many rows are missing or extra and shows the first few of each.
fn assert_same_rows(got: &[AuctionBids], expected: &[AuctionBids]) {
    let (got_counts, expected_counts) = (counts(got), counts(expected));
    let differing: Vec<_> = expected_counts
        .keys()
        .chain(got_counts.keys())
        .filter(|k| got_counts.get(k) != expected_counts.get(k))
        .take(5)
        .map(|k| (k, expected_counts.get(k), got_counts.get(k)))
        .collect();
    assert!(
        got == expected,
        "{} rows committed, {} expected; first differences (auction, window) -> (expected, got): {differing:?}",
        got.len(),
        expected.len()
    );
}

fn counts(rows: &[AuctionBids]) -> BTreeMap<(u64, i64), Vec<u64>> {
    let mut map: BTreeMap<(u64, i64), Vec<u64>> = BTreeMap::new();
    for r in rows {
        map.entry((r.auction, r.window_start))
            .or_default()
            .push(r.bids);
    }
    map
}

fn kills(base: usize) -> usize {
    let scale: usize = std::env::var("TIDEWATER_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(1, |total: usize| total.div_ceil(20));
    base * scale
}

/// What `read` finds after `job` runs once, uninterrupted and unpaced, in folders of
/// its own.
fn uninterrupted<R>(job: &CheckpointedJob, read: impl Fn(&CheckpointedJob) -> R) -> R {
    let dir = tempfile::tempdir().unwrap();
    let mut clean = job.clone();
    clean.checkpoint_dir = dir.path().join("checkpoints");
    clean.output_dir = dir.path().join("output");
    clean.rate_per_sec = None;
    clean.run().unwrap();
    read(&clean)
}

/// What `job` commits when it runs once, uninterrupted and unpaced.
fn expected(job: &CheckpointedJob) -> Vec<AuctionBids> {
    let rows = uninterrupted(job, |j| j.committed().unwrap());
    assert!(rows.len() > 500, "{}", rows.len());
    rows
}

#[test]
fn exactly_once_output_after_crashes_equals_an_uninterrupted_run() {
    let n = kills(10);
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), DeliveryGuarantee::ExactlyOnce, n);
    let expected = expected(&job);
    let killed = crash_and_finish(&job, n, 1);
    eprintln!("exactly-once: {killed} kills");
    assert!(
        killed >= n / 2,
        "the job should have been killed mid-run, was killed {killed} times"
    );
    assert_same_rows(&job.committed().unwrap(), &expected);
}

#[test]
fn exactly_once_through_a_union_of_two_sources_equals_an_uninterrupted_run() {
    // Barriers from the two generators reach the union at different moments; the union
    // holds the faster input until both have delivered, so no bid is counted twice or
    // lost across a restore.
    let n = kills(5);
    let dir = tempfile::tempdir().unwrap();
    let mut job = job(dir.path(), DeliveryGuarantee::ExactlyOnce, n);
    job.sources = 2;
    let expected = expected(&job);
    let killed = crash_and_finish(&job, n, 4);
    eprintln!("exactly-once through a union: {killed} kills");
    assert!(
        killed >= n / 2,
        "the job should have been killed mid-run, was killed {killed} times"
    );
    assert_same_rows(&job.committed().unwrap(), &expected);
}

#[test]
fn at_least_once_output_after_crashes_misses_nothing() {
    let n = kills(5);
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), DeliveryGuarantee::AtLeastOnce, n);
    let expected = counts(&expected(&job));
    let killed = crash_and_finish(&job, n, 2);
    eprintln!("at-least-once: {killed} kills");
    let got = counts(&job.committed().unwrap());
    for (key, truth) in &expected {
        let seen = got
            .get(key)
            .unwrap_or_else(|| panic!("result {key:?} is missing"));
        assert!(
            seen.contains(&truth[0]),
            "result {key:?}: {seen:?} lacks the true count {}",
            truth[0]
        );
    }
}

#[test]
fn at_most_once_output_after_crashes_repeats_nothing() {
    let n = kills(5);
    let dir = tempfile::tempdir().unwrap();
    let job = job(dir.path(), DeliveryGuarantee::AtMostOnce, n);
    let expected = counts(&expected(&job));
    let killed = crash_and_finish(&job, n, 3);
    eprintln!("at-most-once: {killed} kills");
    for (key, seen) in counts(&job.committed().unwrap()) {
        assert_eq!(
            seen.len(),
            1,
            "result {key:?} was emitted {} times",
            seen.len()
        );
        let truth = expected.get(&key).map_or(0, |t| t[0]);
        assert!(
            seen[0] <= truth,
            "result {key:?}: {} bids, more than the true {truth}",
            seen[0]
        );
    }
}

/// Rescaling: each restart after a kill runs at another parallelism (2, then 1, 4, 3,
/// ...), so every restore redistributes the windows' keyed state, the generator's
/// unread blocks and the file sink's pending files; the committed rows still equal an
/// uninterrupted run's.
#[test]
fn exactly_once_output_equals_an_uninterrupted_run_when_every_restart_changes_parallelism() {
    let n = kills(6);
    let dir = tempfile::tempdir().unwrap();
    let mut job = job(dir.path(), DeliveryGuarantee::ExactlyOnce, n);
    let expected = expected(&job);
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut killed = 0;
    let mut finished = false;
    for (run, parallelism) in [2, 1, 4, 3].into_iter().cycle().take(n).enumerate() {
        job.parallelism = parallelism;
        let after = Duration::from_millis(rng.random_range(150..500));
        eprintln!("run {run} at parallelism {parallelism}");
        if run_child(&job, Some(after)) {
            finished = true;
            break;
        }
        killed += 1;
    }
    if !finished {
        job.parallelism = 2;
        assert!(run_child(&job, None));
    }
    eprintln!("rescaled: {killed} kills");
    assert!(killed >= n / 2, "killed only {killed} times");
    assert_same_rows(&job.committed().unwrap(), &expected);
}

/// Both outputs (results, late records) of an uninterrupted, unpaced run of `job`.
fn expected_lines(job: &CheckpointedJob) -> (Vec<String>, Vec<String>) {
    let lines = uninterrupted(job, |j| j.committed_lines().unwrap());
    assert!(lines.0.len() > 100, "{}", lines.0.len());
    lines
}

/// Sessions with allowed lateness, a late side output and two sinks, through a union of
/// two sources, at parallelism 1 and 2: exactly-once output equals an uninterrupted
/// run's, line for line, in both sinks.
#[test]
fn exactly_once_sessions_with_a_late_side_output_equal_an_uninterrupted_run() {
    for (parallelism, sources, seed) in [(1, 1, 5), (2, 2, 6)] {
        let n = kills(4);
        let dir = tempfile::tempdir().unwrap();
        let mut job = job(dir.path(), DeliveryGuarantee::ExactlyOnce, n);
        job.topology = Topology::BidderSessions;
        job.parallelism = parallelism;
        job.sources = sources;
        let (results, late) = expected_lines(&job);
        eprintln!("expected: {} results, {} late", results.len(), late.len());
        let killed = crash_and_finish(&job, n, seed);
        eprintln!("sessions at parallelism {parallelism}: {killed} kills");
        assert!(killed >= n / 2, "killed only {killed} times");
        let (got_results, got_late) = job.committed_lines().unwrap();
        assert_eq!(
            got_late, late,
            "late side output at parallelism {parallelism}"
        );
        let missing: Vec<_> = results
            .iter()
            .filter(|l| !got_results.contains(l))
            .take(3)
            .collect();
        let extra: Vec<_> = got_results
            .iter()
            .filter(|l| !results.contains(l))
            .take(3)
            .collect();
        assert!(
            got_results == results,
            "parallelism {parallelism}: {} lines committed, {} expected; missing {missing:?}, extra {extra:?}",
            got_results.len(),
            results.len()
        );
    }
}

/// At-least-once compares row by row: every row of the uninterrupted run is there, and
/// every extra row repeats one of them.
#[test]
fn at_least_once_sessions_lose_nothing_and_only_repeat() {
    let n = kills(3);
    let dir = tempfile::tempdir().unwrap();
    let mut job = job(dir.path(), DeliveryGuarantee::AtLeastOnce, n);
    job.topology = Topology::BidderSessions;
    let (results, _) = expected_lines(&job);
    crash_and_finish(&job, n, 8);
    let (got, _) = job.committed_lines().unwrap();
    let expected: std::collections::BTreeSet<&String> = results.iter().collect();
    let seen: std::collections::BTreeSet<&String> = got.iter().collect();
    let missing: Vec<_> = expected.difference(&seen).take(3).collect();
    let invented: Vec<_> = seen.difference(&expected).take(3).collect();
    assert!(missing.is_empty(), "rows lost: {missing:?}");
    assert!(
        invented.is_empty(),
        "rows no uninterrupted run produces: {invented:?}"
    );
}

/// A crash at each armed point (before and after the sled write, between a stored
/// checkpoint and the sinks' commit, in pre-commit, in recovery), then a restart:
/// exactly-once output equals an uninterrupted run's.
#[test]
fn exactly_once_survives_a_crash_at_every_armed_point() {
    for point in tidewater::engine::fault::POINTS {
        let dir = tempfile::tempdir().unwrap();
        let mut job = job(dir.path(), DeliveryGuarantee::ExactlyOnce, 2);
        job.topology = Topology::BidderSessions;
        let expected = expected_lines(&job);
        if point == "recovery" {
            // Leave a checkpoint to recover from, then crash while recovering it.
            assert!(
                !run_child(&job, Some(Duration::from_millis(300))),
                "{point}"
            );
            assert!(!run_child_armed(&job, None, Some("recovery@1")), "{point}");
        } else {
            let armed = format!("{point}@3");
            assert!(
                !run_child_armed(&job, None, Some(&armed)),
                "the job never reached `{armed}`"
            );
        }
        assert!(run_child(&job, None), "{point}");
        assert_eq!(
            job.committed_lines().unwrap(),
            expected,
            "crash at `{point}`"
        );
    }
}
