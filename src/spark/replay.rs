//! The replay itself: cutting a case's events into micro-batches and running them
//! through a pipeline in the Spark-compatible mode.

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
    /// micro-batch (Spark's `watermark_ms` in `progress.jsonl`).
    pub fn replay_with_progress(&self) -> Result<SparkReplay, SparkCaseError> {
        let q = &self.query;
        let config = Config::default()
            .with_name("spark_replay")
            .spark_compatible(q.single_watermark);
        let mut p = Pipeline::new(config);
        let (source, input) = ChannelSource::new();
        let out: MemorySink<WindowResult<String, AggregateOut>> = MemorySink::new();
        let keyed = p
            .source(source)
            .with_watermark(Watermark::bounded(
                std::time::Duration::from_millis(q.watermark_delay_ms.max(0) as u64),
                |e: &SparkEvent| e.ts,
            ))
            .key_by(|e: &SparkEvent| e.key.clone());
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
        let mut local = p.build_local()?;
        let mut rows = Vec::new();
        let collect = |batch_id: u64, rows: &mut Vec<SparkRow>| {
            rows.extend(
                out.take()
                    .into_iter()
                    .filter(|r| r.key != FLUSH_KEY)
                    .map(|r| {
                        let (count, sum, avg, min, max) = r.value;
                        SparkRow {
                            key: r.key,
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
        };
        let batches = self.micro_batches();
        let mut batch_watermarks = Vec::with_capacity(batches.len() + 1);
        let watermark = |local: &LocalExecutor| {
            local
                .metrics()
                .operator("with_watermark")
                .map(|o| o.watermark)
                .unwrap_or(i64::MIN)
        };
        for (batch_id, batch) in batches.iter().enumerate() {
            input.send_batch(batch.clone())?;
            local.run_until_idle()?;
            collect(batch_id as u64, &mut rows);
            batch_watermarks.push(watermark(&local));
        }
        // The extra no-data batch Spark runs when the watermark advanced.
        input.close();
        local.run_until_idle()?;
        collect(batches.len() as u64, &mut rows);
        batch_watermarks.push(watermark(&local));
        rows.sort_by(|a, b| {
            (a.emit_batch, &a.key, a.window_start).cmp(&(b.emit_batch, &b.key, b.window_start))
        });
        Ok(SparkReplay {
            rows,
            batch_watermarks,
        })
    }
}
