//! The replay itself: cutting a case's events into micro-batches and running them
//! through a pipeline in the Spark-compatible mode.

use std::path::Path;

use tidewater_engine::operator::Deduplication;
use tidewater_engine::prelude::*;

use super::*;

impl SparkCase {
    /// The micro-batches the case is replayed in, the flush sentinel included.
    pub fn micro_batches(&self) -> Vec<Vec<SparkEvent>> {
        let mut batches: Vec<Vec<SparkEvent>> = self
            .events
            .chunks(self.query.rows_per_batch)
            .map(|c| c.to_vec())
            .collect();
        if self.query.flush {
            let max_ts = self.events.iter().map(|e| e.ts).max().unwrap_or(0);
            batches.push(vec![SparkEvent {
                key: FLUSH_KEY.into(),
                tag: None,
                value: 0.0,
                ts: max_ts + 86_400_000,
            }]);
        }
        batches
    }

    /// Runs the case in the Spark-compatible mode and returns the emitted rows sorted by
    /// `emit_batch`, key and window start.
    pub fn replay(&self) -> Result<Vec<SparkRow>, SparkCaseError> {
        self.replay_with_progress().map(|r| r.rows)
    }

    /// Like [`replay`](Self::replay), also returning the watermark in force in each
    /// micro-batch (Spark's `watermark_ms` in `progress.jsonl`). Runs on the testing
    /// harness, one [`run_batch`](tidewater_engine::testing::TestRun::run_batch) per
    /// micro-batch.
    pub fn replay_with_progress(&self) -> Result<SparkReplay, SparkCaseError> {
        use tidewater_engine::testing::{TestPipeline, TestSource};
        let mut t = TestPipeline::new(self.config().with_parallelism(1));
        let input = TestSource::new().named("spark_case");
        let out = self.windows(t.source(&input))?;
        let mut run = t.start()?;
        let batches = self.micro_batches();
        let mut replay = Recorder::default();
        for (batch_id, batch) in batches.iter().enumerate() {
            input.push(batch.clone());
            let progress = run.run_batch()?;
            replay.collect(&out, batch_id as u64, progress.watermark);
        }
        // The extra no-data batch Spark runs when the watermark advanced.
        input.finish();
        run.run_until_idle()?;
        replay.collect(&out, batches.len() as u64, run.watermark());
        Ok(replay.finish())
    }

    /// Like [`replay_with_progress`](Self::replay_with_progress), reading the events from
    /// files instead: each micro-batch is written to its own JSON-lines file in `dir`
    /// (modification times one second apart), and the file source reads them with
    /// `max_files_per_trigger = 1`, so each file is one micro-batch, as Spark's file
    /// stream source does with `maxFilesPerTrigger = 1`.
    pub fn replay_from_folder(&self, dir: &Path) -> Result<SparkReplay, SparkCaseError> {
        use tidewater_connectors::file::{FileSource, FileSourceConfig};
        use tidewater_engine::dead_letter::{DeadLetter, Origin};
        let io = |path: &Path, e: std::io::Error| SparkCaseError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let batches = self.micro_batches();
        for (i, batch) in batches.iter().enumerate() {
            let path = dir.join(format!("batch-{i:05}.jsonl"));
            let text: String = batch
                .iter()
                .map(|e| serde_json::to_string(e).map(|l| l + "\n"))
                .collect::<Result<_, _>>()
                .map_err(|e| io(&path, std::io::Error::other(e)))?;
            std::fs::write(&path, text).map_err(|e| io(&path, e))?;
            let t = std::time::SystemTime::UNIX_EPOCH
                + std::time::Duration::from_secs(1_700_000_000 + i as u64);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(t))
                .map_err(|e| io(&path, e))?;
        }
        let mut config = FileSourceConfig::new(dir, tidewater_formats::FileFormat::JsonLines);
        config.max_files_per_trigger = Some(1);
        let mut p = Pipeline::new(self.config());
        let bad = MemorySink::new();
        let events = p
            .source(FileSource::new(config))
            .dead_letters(bad.clone())
            .map(|row: Row| {
                row.to_serde::<SparkEvent>().map_err(|e| {
                    let origin = Origin::Other {
                        description: "a Spark case event".into(),
                    };
                    DeadLetter::new(origin, e.to_string(), Vec::new())
                })
            })
            .dead_letters(bad.clone());
        let out = self.windows(events)?;
        let mut local = p.build_local()?;
        let mut replay = Recorder::default();
        let watermark = |local: &LocalExecutor| local.metrics().watermark;
        for batch_id in 0..batches.len() {
            local.step()?;
            replay.collect(&out, batch_id as u64, watermark(&local));
        }
        local.run_until_idle()?;
        replay.collect(&out, batches.len() as u64, watermark(&local));
        if let Some(letter) = bad.take().first() {
            return Err(SparkCaseError::Parse {
                path: dir.to_path_buf(),
                line: 0,
                message: letter.to_string(),
            });
        }
        Ok(replay.finish())
    }

    fn config(&self) -> Config {
        Config::default()
            .with_name("spark_replay")
            .spark_compatible(self.query.single_watermark)
    }

    /// The case's dedup (if any) and windowed aggregation over `events`, into the
    /// returned sink. Windows are keyed by (key, tag); tag is null in one-column cases.
    fn windows(&self, events: Stream<SparkEvent>) -> Result<ResultSink, SparkCaseError> {
        let q = &self.query;
        let out: ResultSink = MemorySink::new();
        let delay = std::time::Duration::from_millis(q.watermark_delay_ms.max(0) as u64);
        let events = events.with_watermark(Watermark::bounded(delay, |e: &SparkEvent| e.ts));
        let events = match q.dedup.as_deref() {
            Some(kind) => {
                let retention = match kind {
                    "within_watermark" => Deduplication::within_watermark(delay),
                    _ if q.dedup_columns.iter().any(|c| c == "ts") => {
                        Deduplication::until_watermark()
                    }
                    _ => Deduplication::forever(),
                };
                let columns = q.dedup_columns.clone();
                events
                    .key_by(move |e: &SparkEvent| dedup_key(e, &columns))
                    .deduplicate(retention)
            }
            None => events,
        };
        let keyed = events.key_by(|e: &SparkEvent| (e.key.clone(), e.tag.clone()));
        let aggregates: Aggregates = (
            Count,
            Sum::of(value),
            Avg::of(value),
            Min::of(value),
            Max::of(value),
        );
        let mode = self.output_mode()?;
        let ms = |v: Option<i64>| std::time::Duration::from_millis(v.unwrap_or(0).max(0) as u64);
        let results = match q.mode {
            SparkWindowMode::Tumbling => keyed
                .window(TumblingWindow::of(ms(q.size_ms)))
                .output_mode(mode)
                .aggregate(aggregates),
            SparkWindowMode::Sliding => keyed
                .window(SlidingWindow::of(ms(q.size_ms), ms(q.slide_ms)))
                .output_mode(mode)
                .aggregate(aggregates),
            SparkWindowMode::Session => keyed
                .window(SessionWindow::with_gap(ms(q.gap_ms)))
                .output_mode(mode)
                .aggregate(aggregates),
        };
        results.sink(out.clone());
        Ok(out)
    }
}

type ResultSink = MemorySink<WindowResult<(String, Option<String>), AggregateOut>>;

/// An event's dedup columns as text (`value` by its exact bits' decimal form).
fn dedup_key(e: &SparkEvent, columns: &[String]) -> Vec<String> {
    columns
        .iter()
        .map(|c| match c.as_str() {
            "key" => e.key.clone(),
            "tag" => e.tag.clone().unwrap_or_default(),
            "value" => e.value.to_string(),
            _ => e.ts.to_string(),
        })
        .collect()
}

/// Rows and watermarks gathered batch by batch.
#[derive(Default)]
struct Recorder {
    rows: Vec<SparkRow>,
    batch_watermarks: Vec<i64>,
}

impl Recorder {
    /// Takes what batch `batch_id` emitted and the watermark in force after it.
    fn collect(&mut self, out: &ResultSink, batch_id: u64, watermark: Option<i64>) {
        self.rows.extend(
            out.take()
                .into_iter()
                .filter(|r| r.key.0 != FLUSH_KEY)
                .map(|r| {
                    let (count, sum, avg, min, max) = r.value;
                    let (key, tag) = r.key;
                    SparkRow {
                        key,
                        tag,
                        window_start: r.window_start,
                        window_end: r.window_end,
                        count,
                        sum,
                        avg: avg.unwrap_or(f64::NAN),
                        min,
                        max,
                        emit_batch: batch_id,
                    }
                }),
        );
        self.batch_watermarks.push(watermark.unwrap_or(i64::MIN));
    }

    fn finish(mut self) -> SparkReplay {
        self.rows.sort_by(|a, b| {
            (a.emit_batch, &a.key, &a.tag, a.window_start).cmp(&(
                b.emit_batch,
                &b.key,
                &b.tag,
                b.window_start,
            ))
        });
        SparkReplay {
            rows: self.rows,
            batch_watermarks: self.batch_watermarks,
        }
    }
}
