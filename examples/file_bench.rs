//! Read and write throughput of the file and Delta connectors beside the bare libraries
//! doing the same work alone (serde_json over a buffered file; arrow's Parquet reader
//! and writer through `tidewater_formats`; for Delta, the same Parquet reader and
//! writer, which do the encoding work under the table's commits).
//!
//! ```text
//! cargo run --release --example file_bench -- [--rows 2000000] [--files 8]
//! ```
//!
//! Prints one JSON line per measurement: rows/s of the pipeline, of the bare library,
//! and their ratio. The pipeline's rows come from a source that hands over rows held
//! in memory (no copy), as the bare loops start from rows in memory.

use std::io::{BufRead, BufWriter, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::Parser;
use tidewater::connectors::delta::{DeltaSink, DeltaSource, DeltaSourceConfig};
use tidewater::connectors::file::{FileSink, FileSinkMode, FileSource, FileSourceConfig};
use tidewater::formats::{read_rows, write_rows, FileFormat};
use tidewater::prelude::*;

#[derive(Parser)]
struct Args {
    /// Rows in all.
    #[arg(long, default_value_t = 2_000_000)]
    rows: usize,
    /// Files they are spread over.
    #[arg(long, default_value_t = 8)]
    files: usize,
}

/// Rows of one schema, shared as the sources share it.
fn rows(n: usize, offset: usize) -> Vec<Row> {
    let schema = std::sync::Arc::new(tidewater::engine::row::Schema::new([
        ("key", tidewater::engine::row::DataType::Str),
        ("value", tidewater::engine::row::DataType::Float),
        ("ts", tidewater::engine::row::DataType::Int),
    ]));
    (offset..offset + n)
        .map(|i| {
            Row::new(
                schema.clone(),
                vec![
                    Value::Str(format!("k{}", i % 1000)),
                    Value::Float((i % 100) as f64 * 0.5),
                    Value::Int(1_700_000_000_000 + i as i64),
                ],
            )
        })
        .collect()
}

/// A one-worker source that moves `rows` into the pipeline.
fn moving(
    rows: Vec<Row>,
) -> IterSource<impl Fn(&WorkerInfo) -> std::vec::IntoIter<Row>, std::vec::IntoIter<Row>> {
    let rows = Arc::new(Mutex::new(Some(rows)));
    IterSource::new(move |_: &WorkerInfo| {
        rows.lock()
            .ok()
            .and_then(|mut r| r.take())
            .unwrap_or_default()
            .into_iter()
    })
}

fn report(what: &str, rows: usize, ours: f64, bare: f64) {
    let (r_ours, r_bare) = (rows as f64 / ours, rows as f64 / bare);
    println!(
        "{{\"measure\":\"{what}\",\"rows\":{rows},\"pipeline_rows_per_sec\":{r_ours:.0},\"bare_rows_per_sec\":{r_bare:.0},\"ratio\":{:.3}}}",
        r_ours / r_bare
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let per_file = args.rows / args.files;
    let total = per_file * args.files;
    let data: Vec<Vec<Row>> = (0..args.files)
        .map(|f| rows(per_file, f * per_file))
        .collect();
    for format in [FileFormat::JsonLines, FileFormat::Parquet] {
        let dir = tempfile::tempdir()?;
        // Bare write: the library alone, one file per slice.
        let bare_dir = dir.path().join("bare");
        std::fs::create_dir(&bare_dir)?;
        // Both sides start from rows they own and end with them freed, as a sink
        // consumes its input.
        let owned = data.clone();
        let started = Instant::now();
        for (f, slice) in owned.into_iter().enumerate() {
            let path = bare_dir.join(format!("part-{f}.{}", format.extension()));
            if format == FileFormat::JsonLines {
                let mut out = BufWriter::new(std::fs::File::create(&path)?);
                for r in &slice {
                    serde_json::to_writer(&mut out, r)?;
                    out.write_all(b"\n")?;
                }
                out.flush()?;
            } else {
                write_rows(&path, format, &slice)?;
            }
            drop(slice);
        }
        let bare_write = started.elapsed().as_secs_f64();
        // Pipeline write: the same rows through the transactional file sink.
        let out_dir = dir.path().join("ours");
        let all: Vec<Row> = data.concat();
        let started = Instant::now();
        let mut p = Pipeline::new(Config::default().with_batch_size(per_file));
        let sink = match format {
            FileFormat::Parquet => FileSink::parquet(&out_dir, FileSinkMode::Transactional),
            _ => FileSink::json_lines(&out_dir, FileSinkMode::Transactional),
        };
        p.source(moving(all)).sink(sink);
        p.run()?;
        let our_write = started.elapsed().as_secs_f64();
        report(&format!("write {format:?}"), total, our_write, bare_write);

        // Bare read of the bare files.
        let started = Instant::now();
        let mut n = 0usize;
        for f in 0..args.files {
            let path = bare_dir.join(format!("part-{f}.{}", format.extension()));
            if format == FileFormat::JsonLines {
                for line in std::io::BufReader::new(std::fs::File::open(&path)?).lines() {
                    let row: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(&line?)?;
                    n += row.len().min(1);
                }
            } else {
                n += read_rows(&path, format)?.len();
            }
        }
        let bare_read = started.elapsed().as_secs_f64();
        assert_eq!(n, total);
        // Pipeline read of the same files.
        let started = Instant::now();
        let mut p = Pipeline::new(Config::default());
        p.source(FileSource::new(FileSourceConfig::new(&bare_dir, format)))
            .dead_letters(MemorySink::new())
            .for_each(|_row: Row| {});
        let metrics = p.run()?;
        let our_read = started.elapsed().as_secs_f64();
        assert_eq!(metrics.source_records as usize, total);
        report(&format!("read {format:?}"), total, our_read, bare_read);

        if format == FileFormat::Parquet {
            delta(dir.path(), data.concat(), total, bare_write, bare_read)?;
        }
    }
    Ok(())
}

/// Delta: the sink and source against the bare Parquet writer and reader timed above.
fn delta(
    dir: &std::path::Path,
    all: Vec<Row>,
    total: usize,
    bare_write: f64,
    bare_read: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let table = dir.join("table");
    let started = Instant::now();
    let mut p = Pipeline::new(Config::default().with_batch_size(total));
    p.source(moving(all))
        .sink(DeltaSink::new(&table, FileSinkMode::Transactional));
    p.run()?;
    report(
        "write Delta",
        total,
        started.elapsed().as_secs_f64(),
        bare_write,
    );
    let started = Instant::now();
    let mut p = Pipeline::new(Config::default());
    p.source(DeltaSource::new(DeltaSourceConfig::new(&table)))
        .dead_letters(MemorySink::new())
        .for_each(|_row: Row| {});
    let metrics = p.run()?;
    assert_eq!(metrics.source_records as usize, total);
    report(
        "read Delta",
        total,
        started.elapsed().as_secs_f64(),
        bare_read,
    );
    Ok(())
}
