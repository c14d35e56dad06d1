//! Golden tests: every case Spark 4 produced in `../shared/fixtures/spark/cases`
//! (append mode) and `more-cases` (update and complete modes, dedup before the window,
//! two group columns) is replayed in the Spark-compatible mode and must match Spark's
//! output byte for byte, with the same watermark in every micro-batch; the same again
//! read from a folder of files by the file source, one file per micro-batch.

use std::path::PathBuf;

use tidewater::spark::{SparkCase, SparkReplay};

fn cases() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/spark");
    let mut dirs: Vec<PathBuf> = ["cases", "more-cases"]
        .iter()
        .flat_map(|set| {
            let set = root.join(set);
            std::fs::read_dir(&set)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", set.display()))
                .map(|entry| entry.unwrap().path())
        })
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_spark_case_is_reproduced_row_for_row() {
    let dirs = cases();
    assert!(
        dirs.len() >= 13,
        "expected the 13 Spark cases, found {}",
        dirs.len()
    );
    for dir in dirs {
        let case = SparkCase::load(&dir).unwrap();
        let replay = case.replay_with_progress().unwrap();
        let ours: Vec<String> = replay
            .rows
            .iter()
            .map(|r| r.to_json(&case.query.aggregates))
            .collect();
        let expected = std::fs::read_to_string(dir.join("expected.jsonl")).unwrap();
        let expected: Vec<&str> = expected.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(ours, expected, "case {}", dir.display());
        // The parsed form agrees too (exact floats: values are multiples of 0.25).
        assert_eq!(
            replay.rows,
            case.expected().unwrap(),
            "case {}",
            dir.display()
        );
    }
}

#[test]
fn every_spark_case_has_sparks_watermark_in_every_batch() {
    for dir in cases() {
        let case = SparkCase::load(&dir).unwrap();
        let replay = case.replay_with_progress().unwrap();
        assert_sparks_watermarks(&case, &replay, &dir);
    }
}

/// The watermark in force in every batch Spark recorded (Spark records the final
/// no-data batch only when the watermark advanced).
fn assert_sparks_watermarks(case: &SparkCase, replay: &SparkReplay, dir: &std::path::Path) {
    for p in &case.progress().unwrap() {
        assert_eq!(
            replay.batch_watermarks[p.batch as usize],
            p.watermark_ms,
            "case {} batch {}",
            dir.display(),
            p.batch
        );
    }
}

#[test]
fn every_spark_case_replayed_from_a_folder_one_file_per_batch_matches() {
    for dir in cases() {
        let case = SparkCase::load(&dir).unwrap();
        let folder = tempfile::tempdir().unwrap();
        let replay = case.replay_from_folder(folder.path()).unwrap();
        assert_eq!(
            replay.rows,
            case.expected().unwrap(),
            "case {}",
            dir.display()
        );
        assert_sparks_watermarks(&case, &replay, &dir);
    }
}
