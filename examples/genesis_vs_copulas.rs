//! Genesis beside the field's reference Gaussian copula, SDV's `copulas`
//! (`GaussianMultivariate`): the same training table, the same number of samples, the
//! same fidelity measure (per-column Kolmogorov-Smirnov statistic, correlation error),
//! and fit and sample rows per second on one core.
//!
//! ```text
//! cargo run --release --example genesis_vs_copulas [-- --rows 5000 --samples 10000]
//! ```
//!
//! Installs `copulas` into a virtualenv under `target/` on first use (pip; set
//! `TIDEWATER_COPULAS_VENV` to use another). Prints a table and one JSON line.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Gamma, Normal};
use tidewater::formats::{read_rows, write_rows, FileFormat};
use tidewater::genesis::{fidelity, Fidelity, FittedGenerator, Method};
use tidewater::prelude::*;

const COPULAS: &str = "copulas==0.14.1";

/// A table with shapes a parametric marginal finds hard: an integer age, a log-normal
/// income rising with age, a gamma tenure, a two-humped score.
fn training(rows: usize) -> Vec<Row> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let normal: Normal<f64> = Normal::new(0.0, 1.0).unwrap();
    let gamma: Gamma<f64> = Gamma::new(2.0, 200.0).unwrap();
    (0..rows)
        .map(|_| {
            let age = (42.0 + 12.0 * normal.sample(&mut rng))
                .round()
                .clamp(18.0, 80.0);
            let income = (10.0 + 0.02 * age + 0.3 * normal.sample(&mut rng)).exp();
            let tenure = gamma.sample(&mut rng) + age;
            let hump = if rng.random::<f64>() < 0.35 {
                -2.0
            } else {
                1.5
            };
            let score = hump + 0.5 * normal.sample(&mut rng) + (income.ln() - 10.84);
            Row::from_pairs([
                ("age", Value::Int(age as i64)),
                ("income", Value::Float((income * 100.0).round() / 100.0)),
                ("tenure_days", Value::Float((tenure * 10.0).round() / 10.0)),
                ("score", Value::Float((score * 1000.0).round() / 1000.0)),
            ])
        })
        .collect()
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn print_report(name: &str, report: &Fidelity) {
    let columns: Vec<String> = report
        .columns
        .iter()
        .map(|c| format!("{} {:.4}", c.column, c.distance))
        .collect();
    println!(
        "{name:<10} KS: {} | correlation error max {:.4} mean {:.4}, rank correlation error max {:.4}",
        columns.join(", "),
        report.max_correlation_error,
        report.mean_correlation_error,
        report.max_rank_correlation_error
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows = arg("--rows", 5_000);
    // copulas samples a few hundred rows a second when it picks a KDE marginal.
    let samples = arg("--samples", 10_000);
    let dir = tempfile::tempdir()?;
    let train_path = dir.path().join("train.csv");
    write_rows(&train_path, FileFormat::Csv, &training(rows))?;
    // Both fit on the table as read back from the CSV file.
    let table = read_rows(&train_path, FileFormat::Csv)?;

    let started = Instant::now();
    let fitted = FittedGenerator::fit(&table, Method::GaussianCopula)?.with_seed(7);
    let fit_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let ours = fitted.sample(samples);
    let sample_seconds = started.elapsed().as_secs_f64();

    let venv = tidewater::connectors::testing::python_venv(
        "copulas-venv",
        COPULAS,
        "TIDEWATER_COPULAS_VENV",
    )?;
    let out_path = dir.path().join("copulas.csv");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/genesis/copulas_fit_sample.py");
    let output = Command::new(venv.join("bin/python"))
        .arg(&script)
        .arg(&train_path)
        .arg(samples.to_string())
        .arg(&out_path)
        // One core, as ours: no threaded BLAS.
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "copulas failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let python: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let theirs = read_rows(&out_path, FileFormat::Csv)?;

    let our_report = fidelity(&table, &ours);
    let their_report = fidelity(&table, &theirs);
    let (their_fit, their_sample) = (
        python["fit_seconds"].as_f64().unwrap_or(f64::NAN),
        python["sample_seconds"].as_f64().unwrap_or(f64::NAN),
    );
    println!(
        "training rows {rows}, samples {samples}, copulas {}",
        python["copulas_version"]
    );
    println!("copulas marginals: {}", python["distributions"]);
    print_report("tidewater", &our_report);
    print_report("copulas", &their_report);
    println!(
        "fit rows/s: tidewater {:.0}, copulas {:.0} ({:.1}x); sample rows/s: tidewater {:.0}, copulas {:.0} ({:.1}x)",
        rows as f64 / fit_seconds,
        rows as f64 / their_fit,
        their_fit / fit_seconds,
        samples as f64 / sample_seconds,
        samples as f64 / their_sample,
        their_sample / sample_seconds
    );
    let json = serde_json::json!({
        "rows": rows,
        "samples": samples,
        "tidewater": {
            "fit_rows_per_sec": rows as f64 / fit_seconds,
            "sample_rows_per_sec": samples as f64 / sample_seconds,
            "max_ks": our_report.max_distance(),
            "ks": our_report.columns.iter().map(|c| (c.column.clone(), c.distance)).collect::<std::collections::BTreeMap<_, _>>(),
            "max_correlation_error": our_report.max_correlation_error,
            "max_rank_correlation_error": our_report.max_rank_correlation_error,
        },
        "copulas": {
            "version": python["copulas_version"],
            "fit_rows_per_sec": rows as f64 / their_fit,
            "sample_rows_per_sec": samples as f64 / their_sample,
            "max_ks": their_report.max_distance(),
            "ks": their_report.columns.iter().map(|c| (c.column.clone(), c.distance)).collect::<std::collections::BTreeMap<_, _>>(),
            "max_correlation_error": their_report.max_correlation_error,
            "max_rank_correlation_error": their_report.max_rank_correlation_error,
        },
        "fit_speedup": their_fit / fit_seconds,
        "sample_speedup": their_sample / sample_seconds,
    });
    println!("{json}");
    Ok(())
}
