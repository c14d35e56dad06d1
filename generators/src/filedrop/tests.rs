//! File drops read back: every format parses, manifests list exactly the files
//! written, late rows and duplicates are where the statistics say.

use std::collections::BTreeSet;

use tidewater_engine::row::Value;
use tidewater_formats::{read_rows, FileFormat};

use super::*;
use crate::retail::{RetailDomain, Scale};

fn config(dir: &std::path::Path) -> FileDropConfig {
    FileDropConfig {
        domain: "retail".into(),
        base_path: dir.to_string_lossy().into_owned(),
        date_range_start: "2024-01-01".into(),
        date_range_end: "2024-01-10".into(),
        entities: vec!["orders".into()],
        ..Default::default()
    }
}

/// Drops the small retail domain's orders into a fresh folder, with `edit` applied to
/// [`config`]; the folder lives as long as the returned guard.
fn drop_orders(
    edit: impl FnOnce(FileDropConfig) -> FileDropConfig,
) -> (tempfile::TempDir, FileDropResult) {
    let dir = tempfile::tempdir().unwrap();
    let tables = RetailDomain::new(Scale::Small, 5).generate();
    let config = edit(config(dir.path()));
    let result = FileDropSimulator::new(&tables, config)
        .unwrap()
        .run()
        .unwrap();
    (dir, result)
}

#[test]
fn every_format_reads_back_and_manifests_list_exactly_the_files_written() {
    let (_dir, result) = drop_orders(|c| FileDropConfig {
        formats: vec![FileFormat::Parquet, FileFormat::Csv, FileFormat::JsonLines],
        cadence: Cadence::Hourly,
        ..c
    });
    assert_eq!(result.manifest_paths.len(), 10);
    assert_eq!(result.done_flag_paths.len(), 10);
    assert_eq!(result.files_written.len(), 10 * 24 * 3);
    let mut listed = BTreeSet::new();
    for path in &result.manifest_paths {
        let manifest: Manifest = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let folder = path.parent().unwrap();
        for f in &manifest.files {
            let rows = read_rows(folder.join(&f.name), f.format).unwrap();
            assert_eq!(rows.len() as u64, f.rows, "{}", f.name);
            listed.insert(folder.join(&f.name));
        }
        assert!(folder.join("_done").exists());
    }
    let written: BTreeSet<_> = result.files_written.iter().cloned().collect();
    assert_eq!(listed, written);
    // The same rows in every format.
    let first = &result.files_written[..3];
    let parquet = read_rows(&first[0], FileFormat::Parquet).unwrap();
    assert_eq!(
        parquet,
        read_rows(&first[2], FileFormat::JsonLines).unwrap()
    );
    assert_eq!(
        parquet.len(),
        read_rows(&first[1], FileFormat::Csv).unwrap().len()
    );
}

/// Every row of every data file, with the day of the partition it landed in.
fn landed(result: &FileDropResult) -> Vec<(i64, tidewater_engine::row::Row)> {
    let mut out = Vec::new();
    for path in &result.files_written {
        let day = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace("dt=", "");
        let start = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        out.extend(
            read_rows(path, FileFormat::JsonLines)
                .unwrap()
                .into_iter()
                .map(|r| (start, r)),
        );
    }
    out
}

#[test]
fn late_rows_land_in_a_later_partition() {
    let (_dir, result) = drop_orders(|c| FileDropConfig {
        formats: vec![FileFormat::JsonLines],
        ..c
    });
    let stats = &result.stats["orders"];
    let rows = landed(&result);
    let late = rows
        .iter()
        .filter(|(start, r)| r.get("order_time").and_then(Value::as_i64).unwrap() < *start)
        .count() as u64;
    assert_eq!(late, stats.late_rows);
    assert_eq!(rows.len() as u64, stats.rows);
    // 10 of 90 days hold about 555 orders; 10% late, minus those that would land past the range
    assert!(
        stats.late_rows > 25 && stats.late_rows < 70,
        "{}",
        stats.late_rows
    );
}

#[test]
fn duplicates_are_written_twice_and_counted() {
    let (_dir, result) = drop_orders(|c| FileDropConfig {
        formats: vec![FileFormat::JsonLines],
        lateness_enabled: false,
        duplicates_enabled: true,
        duplicate_probability: 0.05,
        ..c
    });
    let stats = &result.stats["orders"];
    let rows = landed(&result);
    let ids: Vec<i64> = rows
        .iter()
        .map(|(_, r)| r.get("order_id").and_then(Value::as_i64).unwrap())
        .collect();
    let distinct: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len() - distinct.len(), stats.duplicate_rows as usize);
    assert!(
        stats.duplicate_rows > 10 && stats.duplicate_rows < 50,
        "{}",
        stats.duplicate_rows
    );
}

#[test]
fn backfills_re_drop_the_last_days() {
    let (_dir, result) = drop_orders(|c| FileDropConfig {
        backfill_enabled: true,
        max_days_back: 2,
        ..c
    });
    assert_eq!(result.stats["orders"].backfill_files, 2);
    assert_eq!(result.files_written.len(), 12);
}

#[test]
fn bad_dates_and_unwritable_paths_are_named() {
    let tables = RetailDomain::new(Scale::Small, 5).generate();
    let bad = FileDropConfig {
        date_range_start: "2024-02-01".into(),
        date_range_end: "2024-01-01".into(),
        ..Default::default()
    };
    let e = FileDropSimulator::new(&tables, bad).unwrap_err();
    assert_eq!(e[0].to_string(), "`date_range_end`: expected a date on or after date_range_start (2024-02-01), found 2024-01-01");
    let bad = FileDropConfig {
        date_range_start: "Jan 1".into(),
        ..Default::default()
    };
    assert_eq!(
        FileDropSimulator::new(&tables, bad).unwrap_err()[0].to_string(),
        "`date_range_start`: expected a date YYYY-MM-DD, found Jan 1"
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    let config = FileDropConfig {
        base_path: file.path().to_string_lossy().into_owned(),
        ..config(file.path())
    };
    let e = FileDropSimulator::new(&tables, config)
        .unwrap()
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("cannot write `{}", file.path().display())),
        "{e}"
    );
}
