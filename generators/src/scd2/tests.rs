//! SCD2 drops replayed: one current version per key, contiguous validity, rates.

use std::collections::BTreeMap;

use tidewater_engine::row::Value;
use tidewater_formats::{read_rows, FileFormat};

use super::*;
use crate::retail::{RetailDomain, Scale};

#[test]
fn replaying_snapshot_and_deltas_gives_one_current_version_per_key_with_contiguous_history() {
    let dir = tempfile::tempdir().unwrap();
    let tables = RetailDomain::new(Scale::Medium, 2).generate();
    let config = Scd2FileDropConfig {
        base_path: dir.path().to_string_lossy().into_owned(),
        entities: vec!["customers".into()],
        business_key_column: "customer_id".into(),
        scd2_columns: vec!["segment".into(), "email".into()],
        num_delta_days: 10,
        formats: vec![FileFormat::Parquet],
        ..Default::default()
    };
    let result = Scd2FileDropSimulator::new(&tables, config)
        .unwrap()
        .run()
        .unwrap();
    let stats = &result.stats["customers"];
    // key -> (valid_from, valid_to) of every version
    let mut versions: BTreeMap<i64, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    for row in read_rows(&result.initial_load_paths[0], FileFormat::Parquet).unwrap() {
        let key = row.get("customer_id").and_then(Value::as_i64).unwrap();
        versions
            .entry(key)
            .or_default()
            .push((row.get("valid_from").and_then(Value::as_i64).unwrap(), None));
    }
    for path in &result.delta_paths {
        for row in read_rows(path, FileFormat::Parquet).unwrap() {
            let key = row.get("customer_id").and_then(Value::as_i64).unwrap();
            let from = row.get("valid_from").and_then(Value::as_i64).unwrap();
            let to = row.get("valid_to").and_then(Value::as_i64);
            let list = versions.entry(key).or_default();
            match row.get("_change_type").and_then(Value::as_str).unwrap() {
                "EXPIRE" => {
                    let open = list
                        .iter_mut()
                        .find(|v| v.1.is_none())
                        .expect("an open version to expire");
                    assert_eq!(open.0, from);
                    open.1 = to;
                }
                "UPDATE" | "INSERT" => list.push((from, None)),
                other => panic!("unexpected change type {other}"),
            }
        }
    }
    for (key, list) in &versions {
        assert_eq!(
            list.iter().filter(|v| v.1.is_none()).count(),
            1,
            "key {key}"
        );
        // each version starts when the previous one ended
        for pair in list.windows(2) {
            assert_eq!(pair[0].1, Some(pair[1].0), "key {key}");
        }
    }
    assert_eq!(versions.len() as u64, stats.current_rows);
    assert_eq!(stats.inserts, 10 * 200); // 2% of 10 000 per day
                                         // 5% of about 10 000 current rows per day over 10 days
    assert!(
        (stats.updates as f64 - 5_100.0).abs() < 400.0,
        "{}",
        stats.updates
    );
}

#[test]
fn a_missing_business_key_is_named() {
    let tables = RetailDomain::new(Scale::Small, 2).generate();
    let config = Scd2FileDropConfig {
        entities: vec!["orders".into()],
        ..Default::default()
    };
    let e = Scd2FileDropSimulator::new(&tables, config).unwrap_err();
    assert_eq!(
        e[0].to_string(),
        "`business_key_column`: expected a column of `orders`, found id"
    );
}
