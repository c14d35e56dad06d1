//! Genesis fitted generators against a table whose distribution is known: marginals
//! and correlations reproduced within pinned bounds, conditions always met, infeasible
//! conditions refused, models saved and loaded, rows replayable as a pipeline source.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use tidewater_engine::prelude::*;
use tidewater_engine::row::{Row, Value};
use tidewater_formats::{write_rows, FileFormat};
use tidewater_generators::core::GeneratorSource;
use tidewater_generators::genesis::{
    fidelity, Conditions, EventTime, FittedGenerator, GenesisError, Method,
};

/// 4000 customers: age ~ N(42, 12) in [18, 80]; income log-normal rising with age;
/// region skewed by income; a signup timestamp; a score with 10% nulls; a flag.
fn customers() -> Vec<Row> {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2026);
    let noise: Normal<f64> = Normal::new(0.0, 1.0).unwrap();
    (0..4000)
        .map(|i| {
            let age = (42.0 + 12.0 * noise.sample(&mut rng))
                .round()
                .clamp(18.0, 80.0);
            let income = (10.0 + 0.02 * age + 0.3 * noise.sample(&mut rng)).exp();
            let pick: f64 = rng.random::<f64>() + (income.ln() - 10.84) * 0.3;
            let region = match pick {
                p if p < 0.4 => "West",
                p if p < 0.7 => "East",
                p if p < 0.9 => "North",
                _ => "South",
            };
            let signup_ms = 1_735_689_600_000i64
                + (age as i64) * 3_600_000 * 24
                + rng.random_range(0..86_400_000);
            let signup = chrono::DateTime::from_timestamp_millis(signup_ms)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            let score = if rng.random::<f64>() < 0.1 {
                Value::Null
            } else {
                Value::Float(((age - 42.0) / 12.0 * 0.5 + noise.sample(&mut rng)) * 10.0)
            };
            Row::from_pairs([
                ("customer_id", Value::from(format!("C{:05}", i % 500))),
                ("age", Value::Int(age as i64)),
                ("income", Value::Float((income * 100.0).round() / 100.0)),
                ("region", Value::from(region)),
                ("signup", Value::from(signup)),
                ("score", score),
                ("active", Value::Bool(rng.random::<f64>() < 0.7)),
            ])
        })
        .collect()
}

fn fitted() -> FittedGenerator {
    FittedGenerator::fit(&customers(), Method::GaussianCopula)
        .unwrap()
        .with_seed(11)
}

#[test]
fn sampling_reproduces_marginals_and_correlations() {
    let training = customers();
    let generator = fitted();
    let synthetic = generator.sample(20_000);
    let report = fidelity(&training, &synthetic);
    // (column, largest KS statistic or total variation allowed). 500 ids of 8 rows each:
    // 20 000 draws from any 500 equally likely values are 0.063 apart in total
    // variation by chance alone.
    let bounds = [
        ("customer_id", 0.07),
        ("age", 0.01),
        ("income", 0.01),
        ("region", 0.01),
        ("signup", 0.01),
        ("score", 0.01),
        ("active", 0.01),
    ];
    for ((column, bound), measured) in bounds.iter().zip(&report.columns) {
        assert_eq!(measured.column, *column);
        assert!(
            measured.distance <= *bound,
            "{column}: distance {} > {bound}",
            measured.distance
        );
    }
    assert!(
        report.max_correlation_error <= 0.02,
        "correlation error {}",
        report.max_correlation_error
    );
    assert!(
        report.max_rank_correlation_error <= 0.01,
        "rank correlation error {}",
        report.max_rank_correlation_error
    );
    // The null rate of score (10% in training) is kept.
    let nulls = synthetic
        .iter()
        .filter(|r| r.get("score") == Some(&Value::Null))
        .count();
    assert!((1_800..2_200).contains(&nulls), "{nulls}");
    // Types are kept: integers, floats, booleans, timestamps in the training style.
    let row = &synthetic[0];
    assert!(matches!(row.get("age"), Some(Value::Int(_))));
    assert!(matches!(row.get("income"), Some(Value::Float(_))));
    assert!(matches!(row.get("active"), Some(Value::Bool(_))));
    let signup = row.get("signup").unwrap().as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(signup).is_ok() && signup.ends_with('Z'),
        "{signup}"
    );
}

#[test]
fn the_same_seed_gives_the_same_rows_and_another_seed_others() {
    let a = fitted();
    assert_eq!(a.sample(500), fitted().sample(500));
    assert_ne!(a.sample(500), a.clone().with_seed(12).sample(500));
    // Row i does not depend on the rows before it.
    assert_eq!(a.sample_range(300, 10), a.sample(310)[300..].to_vec());
}

#[test]
fn conditions_always_hold_and_keep_the_dependence() {
    let generator = fitted();
    let table = [
        r#"{"age": {"gte": 21}, "region": "West"}"#,
        r#"{"age": {"gt": 60}}"#,
        r#"{"age": {"lt": 25}, "active": true}"#,
        r#"{"region": {"in": ["North", "South"]}, "income": {"gte": 60000}}"#,
        r#"{"region": {"ne": "West"}, "age": {"gte": 30, "lte": 40}}"#,
        r#"{"signup": {"gte": "2025-03-01T00:00:00Z"}}"#,
        r#"{"age": 50}"#,
        r#"{"income": {"lt": 30000}, "score": {"gt": 0}}"#,
        r#"{"customer_id": "C00042"}"#,
    ];
    for text in table {
        let conditions = Conditions::from_json(text).unwrap();
        let rows = generator.sample_where(&conditions, 500).unwrap();
        assert_eq!(rows.len(), 500, "{text}");
        for row in &rows {
            assert!(conditions.matches(row), "{text}: {row:?}");
        }
    }
    // The copula carries the condition to the other columns: older customers earn more,
    // as in the training table.
    let mean_income = |rows: &[Row]| {
        rows.iter()
            .map(|r| r.get("income").unwrap().as_f64().unwrap())
            .sum::<f64>()
            / rows.len() as f64
    };
    let old = generator
        .sample_where(
            &Conditions::from_json(r#"{"age": {"gte": 60}}"#).unwrap(),
            2_000,
        )
        .unwrap();
    let young = generator
        .sample_where(
            &Conditions::from_json(r#"{"age": {"lte": 30}}"#).unwrap(),
            2_000,
        )
        .unwrap();
    let training = customers();
    let train_old: Vec<Row> = training
        .iter()
        .filter(|r| r.get("age").unwrap().as_i64().unwrap() >= 60)
        .cloned()
        .collect();
    let train_young: Vec<Row> = training
        .iter()
        .filter(|r| r.get("age").unwrap().as_i64().unwrap() <= 30)
        .cloned()
        .collect();
    let ratio = mean_income(&old) / mean_income(&young);
    let train_ratio = mean_income(&train_old) / mean_income(&train_young);
    assert!(
        (ratio - train_ratio).abs() < 0.1,
        "synthetic {ratio}, training {train_ratio}"
    );
}

#[test]
fn impossible_conditions_are_errors_that_say_why() {
    let generator = fitted();
    let table = [
        (
            r#"{"age": {"gt": 200}}"#,
            "condition on `age` cannot be met: gt 200 while the training values run from 18 to 80",
        ),
        (
            r#"{"region": "Mars"}"#,
            "condition on `region` cannot be met: eq \"Mars\" while the categories are \"West\", \"East\", \"North\", \"South\"",
        ),
        (
            r#"{"age": {"gte": 30, "lt": 30}}"#,
            "condition on `age` cannot be met: gte 30 and lt 30 while the training values run from 18 to 80",
        ),
        (
            r#"{"planet": "Earth"}"#,
            "unknown column `planet`; the model's columns are: customer_id, age, income, region, signup, score, active",
        ),
        (
            r#"{"age": {"gte": "old"}}"#,
            "condition on `age`: expected a number, found \"old\"",
        ),
    ];
    for (text, message) in table {
        let conditions = Conditions::from_json(text).unwrap();
        let err = generator.sample_where(&conditions, 10).unwrap_err();
        assert_eq!(err.to_string(), message, "{text}");
    }
}

#[test]
fn rejection_below_the_acceptance_bound_is_an_error() {
    // Young and rich at once is rare: one range is drawn exactly, the other rejects.
    let generator = fitted().with_min_acceptance(0.5).unwrap();
    let conditions =
        Conditions::from_json(r#"{"age": {"lte": 22}, "income": {"gte": 90000}}"#).unwrap();
    let err = generator.sample_where(&conditions, 100).unwrap_err();
    let GenesisError::AcceptanceTooLow {
        accepted,
        attempts,
        bound,
        ..
    } = &err
    else {
        panic!("expected AcceptanceTooLow, got {err}");
    };
    assert_eq!(*bound, 0.5);
    assert!(*attempts >= 1000 && (*accepted as f64) < 0.5 * *attempts as f64);
    assert!(
        err.to_string()
            .starts_with("conditions age lte 22, income gte 90000 accept "),
        "{err}"
    );
    assert!(fitted().with_min_acceptance(0.0).is_err());
}

#[test]
fn a_saved_model_loads_into_a_generator_of_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    let generator = fitted();
    generator.save(&path).unwrap();
    let loaded = FittedGenerator::load(&path).unwrap();
    assert_eq!(loaded.sample(1_000), generator.sample(1_000));
    assert_eq!(loaded.seed(), 11);
    assert_eq!(loaded.training_rows(), 4_000);
    let conditions = Conditions::from_json(r#"{"region": "East"}"#).unwrap();
    assert_eq!(
        loaded.sample_where(&conditions, 50).unwrap(),
        generator.sample_where(&conditions, 50).unwrap()
    );
    let broken = [
        ("{}", "not a fitted model: missing field `format` at line 1 column 2"),
        (
            r#"{"format": "x", "version": 1, "method": "gaussian_copula", "training_rows": 1, "seed": 0, "columns": [], "correlation": []}"#,
            "not a fitted model: expected format `tidewater-genesis` version 1, found `x` version 1",
        ),
    ];
    for (text, message) in broken {
        assert_eq!(
            FittedGenerator::from_json(text).unwrap_err().to_string(),
            message
        );
    }
    let missing = FittedGenerator::load(dir.path().join("none.json")).unwrap_err();
    assert!(matches!(missing, GenesisError::Io { .. }), "{missing}");
}

#[test]
fn fits_from_csv_parquet_json_lines_and_serde_records() {
    let dir = tempfile::tempdir().unwrap();
    let training = customers();
    for format in [FileFormat::Csv, FileFormat::Parquet, FileFormat::JsonLines] {
        let path = dir.path().join(format!("customers.{}", format.extension()));
        write_rows(&path, format, &training).unwrap();
        let from_file = FittedGenerator::fit_file(&path, Method::GaussianCopula).unwrap();
        assert_eq!(from_file.training_rows(), 4_000);
        let names: Vec<&str> = from_file.schema().names().collect();
        assert_eq!(
            names,
            [
                "customer_id",
                "age",
                "income",
                "region",
                "signup",
                "score",
                "active"
            ]
        );
        let report = fidelity(&training, &from_file.sample(5_000));
        // Every column but the 500 ids (see above: 0.126 by chance at 5 000 draws).
        let worst = report.columns[1..]
            .iter()
            .map(|c| c.distance)
            .fold(0.0, f64::max);
        assert!(worst < 0.03, "{format:?}: {report:?}");
    }
    let err =
        FittedGenerator::fit_file(dir.path().join("t.xlsx"), Method::GaussianCopula).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected a .csv, .parquet or .jsonl file"),
        "{err}"
    );

    #[derive(serde::Serialize)]
    struct Reading {
        sensor: &'static str,
        celsius: f64,
    }
    let readings: Vec<Reading> = (0..100)
        .map(|i| Reading {
            sensor: if i % 2 == 0 { "a" } else { "b" },
            celsius: 20.0 + (i % 10) as f64,
        })
        .collect();
    let g = FittedGenerator::fit_serde(&readings, Method::GaussianCopula).unwrap();
    assert_eq!(
        g.sample(1)[0].schema().names().collect::<Vec<_>>(),
        ["sensor", "celsius"]
    );
    assert_eq!(
        FittedGenerator::fit(&[], Method::GaussianCopula).unwrap_err(),
        GenesisError::EmptyTable
    );
}

#[test]
fn a_fitted_generator_feeds_a_pipeline_as_a_replayable_source() {
    let generator = fitted()
        .with_event_time(EventTime::Column("signup".into()))
        .unwrap();
    let expected: Vec<Row> = generator.sample(2_000);
    let out = MemorySink::new();
    let mut p = Pipeline::new(Config::default().with_parallelism(2));
    p.source(GeneratorSource::new(generator).with_max_events(2_000))
        .sink(out.clone());
    p.run().unwrap();
    let mut got = out.values();
    let key = |r: &Row| serde_json::to_string(r.values()).unwrap();
    got.sort_by_key(key);
    let mut want = expected;
    want.sort_by_key(key);
    assert_eq!(got, want);
    let err = fitted()
        .with_event_time(EventTime::Column("region".into()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`event_time`: expected a timestamp or integer (epoch ms) column, found `region`, \
         the categories are \"West\", \"East\", \"North\", \"South\""
    );
}
