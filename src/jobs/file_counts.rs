//! Files in, windows, Parquet or Delta out, exactly-once: JSON-lines events `{"key",
//! "value", "ts"}` from a folder (watched, or read once), 1-second tumbling count and
//! sum per key, written as Parquet part files by the transactional file sink or
//! appended to a Delta table (one commit per checkpoint). Started again on
//! the same checkpoint folder it resumes: the files it finished are not read again, the
//! one it was reading continues where the checkpoint left it. The file crash tests kill
//! and restart it.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
#[cfg(feature = "delta")]
use tidewater_connectors::delta::{DeltaSink, DeltaSource, DeltaSourceConfig};
use tidewater_connectors::file::{FileSink, FileSinkMode, FileSource, FileSourceConfig};
use tidewater_engine::prelude::*;
use tidewater_formats::FileFormat;

/// One output row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyCount {
    /// The key.
    pub key: String,
    /// Window start, epoch ms.
    pub window_start: i64,
    /// Events in the window.
    pub count: u64,
    /// Sum of their values.
    pub sum: f64,
}

/// Where the counts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// Parquet part files in `output_dir`.
    #[default]
    Parquet,
    /// A Delta table in `output_dir/table`.
    #[cfg(feature = "delta")]
    Delta,
}

/// Parameters of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileCounts {
    /// Folder of `*.jsonl` event files.
    pub input_dir: PathBuf,
    /// Where Parquet part files are published.
    pub output_dir: PathBuf,
    /// The sled checkpoint folder.
    pub checkpoint_dir: PathBuf,
    /// Watch the folder (true) or read the files present and finish (false).
    pub stream: bool,
    /// Worker threads.
    pub parallelism: usize,
    /// Processing time between checkpoints.
    pub checkpoint_interval_ms: u64,
    /// Parquet part files or a Delta table.
    #[serde(default)]
    pub output: Output,
}

impl FileCounts {
    /// The pipeline, not yet started.
    pub fn pipeline(&self) -> Pipeline {
        let config = Config::default()
            .with_name("file_counts")
            .with_parallelism(self.parallelism)
            .with_checkpointing(
                &self.checkpoint_dir,
                Duration::from_millis(self.checkpoint_interval_ms),
                DeliveryGuarantee::ExactlyOnce,
            );
        let mut source = FileSourceConfig::new(&self.input_dir, FileFormat::JsonLines);
        source.stream = self.stream;
        source.poll_interval_ms = 20;
        let mut p = Pipeline::new(config);
        let counts = p
            .source(FileSource::new(source))
            .dead_letters(FileSink::json_lines(
                self.output_dir.join("dead-letters"),
                FileSinkMode::Transactional,
            ))
            .with_event_time("ts", "0 s")
            .group_by(["key"])
            .window(TumblingWindow::of("1 second"))
            .agg([
                agg::count("*").alias("count"),
                agg::sum("value").alias("sum"),
            ])
            .map(|r: Row| {
                Row::from_pairs(r.to_pairs().into_iter().filter(|(k, _)| k != "window_end"))
            });
        match self.output {
            Output::Parquet => counts.sink(FileSink::parquet(
                &self.output_dir,
                FileSinkMode::Transactional,
            )),
            #[cfg(feature = "delta")]
            Output::Delta => counts.sink(DeltaSink::new(
                self.output_dir.join("table"),
                FileSinkMode::Transactional,
            )),
        };
        p
    }

    /// Runs until the input ends (a bounded read) or forever (a stream).
    pub fn run(&self) -> Result<Metrics> {
        std::fs::create_dir_all(self.output_dir.join("dead-letters"))
            .map_err(|e| EngineError::io(format!("creating {}", self.output_dir.display()), e))?;
        self.pipeline().run()
    }

    /// The committed output, sorted.
    pub fn committed(&self) -> Result<Vec<KeyCount>> {
        let mut rows = match self.output {
            Output::Parquet => self.committed_parquet()?,
            #[cfg(feature = "delta")]
            Output::Delta => self.committed_delta()?,
        };
        rows.sort_by(|a, b| (&a.key, a.window_start).cmp(&(&b.key, b.window_start)));
        Ok(rows)
    }

    #[cfg(feature = "delta")]
    fn committed_delta(&self) -> Result<Vec<KeyCount>> {
        let table = self.output_dir.join("table");
        if !table.join("_delta_log").exists() {
            return Ok(Vec::new());
        }
        let (out, bad) = (MemorySink::new(), MemorySink::new());
        let mut p = Pipeline::new(Config::default().with_name("file_counts_read"));
        p.source(DeltaSource::new(DeltaSourceConfig::new(table)))
            .dead_letters(bad)
            .sink(out.clone());
        p.run()?;
        out.values().iter().map(|r: &Row| r.to_serde()).collect()
    }

    fn committed_parquet(&self) -> Result<Vec<KeyCount>> {
        let mut rows = Vec::new();
        for entry in std::fs::read_dir(&self.output_dir)
            .map_err(|e| EngineError::io(format!("listing {}", self.output_dir.display()), e))?
        {
            let path = entry
                .map_err(|e| EngineError::io(format!("listing {}", self.output_dir.display()), e))?
                .path();
            let published = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("part-"));
            if published && path.extension().is_some_and(|e| e == "parquet") {
                for row in tidewater_formats::read_rows(&path, FileFormat::Parquet)? {
                    rows.push(row.to_serde::<KeyCount>()?);
                }
            }
        }
        Ok(rows)
    }
}
