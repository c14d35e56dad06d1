//! Crash recovery of the file job (`jobs::file_counts`: a watched folder of JSON-lines
//! events -> 1 s windows -> exactly-once Parquet part files, or a Delta table): files
//! keep arriving while the job runs as a child process and is killed with SIGKILL at
//! random moments; once every file has arrived a last run reads what is left and
//! finishes. The published rows equal an uninterrupted run's, row for row: no file
//! skipped, none read twice, no window written twice. `TIDEWATER_FILE_KILLS=N` sets the
//! number of kills (default 12 for Parquet, 8 for Delta).

use std::path::Path;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use tidewater::jobs::file_counts::{FileCounts, Output};

mod child;

use child::{Child, Ended};

const CHILD_ENV: &str = "TIDEWATER_FILE_CRASH_CHILD";

/// Runs the job described in `CHILD_ENV` when this binary is the child.
#[test]
fn file_crash_child_entry() {
    if let Ok(job) = std::env::var(CHILD_ENV) {
        let job: FileCounts = serde_json::from_str(&job).expect("job description");
        job.run().expect("file_counts");
    }
}

/// File `i`: 400 events, keys k0..k6, event times in second `i` (and a malformed line),
/// written under a hidden name and renamed in, as a careful writer does.
fn land(dir: &Path, i: usize) {
    let mut text = String::new();
    for j in 0..400 {
        let ts = 1_700_000_000_000_i64 + i as i64 * 1_000 + j as i64 * 2;
        text.push_str(&format!(
            "{{\"key\":\"k{}\",\"value\":{},\"ts\":{ts}}}\n",
            (i * 7 + j) % 7,
            j % 10
        ));
        if j == 200 {
            text.push_str("{not json\n");
        }
    }
    let hidden = dir.join(format!(".events-{i:04}.jsonl.tmp"));
    std::fs::write(&hidden, text).unwrap();
    std::fs::rename(&hidden, dir.join(format!("events-{i:04}.jsonl"))).unwrap();
}

fn job(root: &Path, stream: bool, output: Output) -> FileCounts {
    FileCounts {
        input_dir: root.join("in"),
        output_dir: root.join("out"),
        checkpoint_dir: root.join("checkpoints"),
        stream,
        parallelism: 2,
        checkpoint_interval_ms: 30,
        output,
    }
}

/// Starts the child; kills it after `kill_after` (a stream never ends by itself).
/// Returns whether it finished by itself.
fn run_child(job: &FileCounts, kill_after: Option<Duration>) -> bool {
    let child = Child {
        entry: "file_crash_child_entry",
        env: CHILD_ENV,
        job: serde_json::to_string(job).unwrap(),
    };
    child.run(kill_after, None, Duration::from_secs(120)) == Ended::Finished
}

#[test]
fn exactly_once_parquet_output_after_kills_while_files_arrive_equals_an_uninterrupted_run() {
    kills_while_files_arrive(Output::Parquet, 12);
}

#[cfg(feature = "delta")]
#[test]
fn exactly_once_delta_output_after_kills_while_files_arrive_equals_an_uninterrupted_run() {
    kills_while_files_arrive(Output::Delta, 8);
}

fn kills_while_files_arrive(output: Output, default_kills: usize) {
    let kills: usize = std::env::var("TIDEWATER_FILE_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_kills);
    let files = 4 * kills.max(3);
    let root = tempfile::tempdir().unwrap();
    let crashed = job(root.path(), true, output);
    std::fs::create_dir_all(&crashed.input_dir).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    let mut landed = 0;
    for _ in 0..kills {
        // a few files arrive, then a run is killed at a random moment while more arrive
        for _ in 0..2 {
            land(&crashed.input_dir, landed);
            landed += 1;
        }
        let after = Duration::from_millis(rng.random_range(100..600));
        let feeder_dir = crashed.input_dir.clone();
        let first = landed;
        // Two more files, 40 ms apart while the run goes (at once once it has ended).
        let (ended, run_over) = std::sync::mpsc::channel::<()>();
        let feeder = std::thread::spawn(move || {
            for i in first..first + 2 {
                let _ = run_over.recv_timeout(Duration::from_millis(40));
                land(&feeder_dir, i);
            }
        });
        assert!(
            !run_child(&crashed, Some(after)),
            "a stream does not end by itself"
        );
        drop(ended);
        feeder.join().unwrap();
        landed += 2;
    }
    while landed < files {
        land(&crashed.input_dir, landed);
        landed += 1;
    }
    // Every file is there: a bounded run on the same checkpoint reads the rest and ends.
    let last = job(root.path(), false, output);
    assert!(run_child(&last, None), "the final run failed");

    let clean_root = tempfile::tempdir().unwrap();
    let clean = job(clean_root.path(), false, output);
    std::fs::create_dir_all(&clean.input_dir).unwrap();
    for i in 0..landed {
        land(&clean.input_dir, i);
    }
    clean.run().unwrap();
    let expected = clean.committed().unwrap();
    assert_eq!(expected.len(), landed * 7, "one row per key and second");
    assert_eq!(last.committed().unwrap(), expected);
}
