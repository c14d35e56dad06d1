//! The rate source. Value `v` counts up from 0; second `s` after the start emits the
//! values from `value_at_second(s)` to `value_at_second(s + 1)` (Spark's formula: the rate
//! climbs linearly to `rows_per_second` over `ramp_up_time_seconds`), their timestamps
//! spread evenly over that second (as Spark's are when a micro-batch covers one second),
//! so the rows do not depend on when they are read. A row is released once its
//! timestamp has passed on the source's clock. Value `v` belongs to partition
//! `v % num_partitions`; worker `i` reads the partitions `p` with `p % n == i`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tidewater_engine::connector::{Restart, Source, SourcePoll, SourceReader, WorkerInfo};
use tidewater_engine::error::{EngineError, Problems, Result};
use tidewater_engine::record::{Batch, Record};
use tidewater_engine::row::{DataType, Row, Schema, Value};
use tidewater_engine::time::{Clock, SystemClock};

/// Settings of a [`RateSource`], named as Spark names its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSourceConfig {
    /// Rows per second once ramped up.
    pub rows_per_second: u64,
    /// Seconds to climb from 0 to `rows_per_second`.
    #[serde(default)]
    pub ramp_up_time_seconds: u64,
    /// Partitions the values are split into.
    #[serde(default = "one")]
    pub num_partitions: usize,
    /// Epoch ms of value 0's second (default: when the run starts). Fixing it makes
    /// the rows identical from run to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time_ms: Option<i64>,
    /// Stop after this many rows (default: never, as Spark's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u64>,
    /// Spark's processing-time trigger: rows are released together once per interval
    /// (ms), those timestamped before the interval's end, one micro-batch each
    /// (default: each row as soon as its timestamp has passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_interval_ms: Option<u64>,
}

fn one() -> usize {
    1
}

impl RateSourceConfig {
    /// `rows_per_second` rows a second, one partition, no ramp-up.
    pub fn new(rows_per_second: u64) -> Self {
        RateSourceConfig {
            rows_per_second,
            ramp_up_time_seconds: 0,
            num_partitions: 1,
            start_time_ms: None,
            max_rows: None,
            trigger_interval_ms: None,
        }
    }

    /// Every problem of these settings, under `node`.
    pub fn validate(&self, node: &str) -> Result<()> {
        let mut p = Problems::new();
        p.check(
            self.rows_per_second > 0,
            node,
            "rows_per_second",
            "at least 1",
            self.rows_per_second,
        );
        p.check(
            self.num_partitions > 0,
            node,
            "num_partitions",
            "at least 1",
            self.num_partitions,
        );
        p.check(
            self.ramp_up_time_seconds < self.rows_per_second.max(1) * 1_000_000,
            node,
            "ramp_up_time_seconds",
            "a ramp-up shorter than a million seconds per row per second",
            self.ramp_up_time_seconds,
        );
        if self.ramp_up_time_seconds > 0 {
            // Spark refuses a ramp-up under which the rate never rises above zero.
            p.check(
                self.rows_per_second / (self.ramp_up_time_seconds + 1) > 0,
                node,
                "ramp_up_time_seconds",
                "rows_per_second / (ramp_up_time_seconds + 1) >= 1 (else the ramp emits nothing)",
                self.ramp_up_time_seconds,
            );
        }
        p.finish(node, ())
    }
}

/// How many values have been emitted at the end of second `seconds` (Spark's
/// `valueAtSecond`).
///
/// ```
/// use tidewater_connectors::rate::value_at_second;
/// // ramp-up 4 s to 10 rows/s: speeds 0 2 4 6 8 10 10, totals 0 2 6 12 20 30 40
/// let totals: Vec<u64> = (0..7).map(|s| value_at_second(s, 10, 4)).collect();
/// assert_eq!(totals, vec![0, 2, 6, 12, 20, 30, 40]);
/// ```
pub fn value_at_second(seconds: u64, rows_per_second: u64, ramp_up_seconds: u64) -> u64 {
    let delta = rows_per_second / (ramp_up_seconds + 1);
    if seconds <= ramp_up_seconds {
        if seconds % 2 == 1 {
            seconds.div_ceil(2) * delta * seconds
        } else {
            seconds / 2 * delta * (seconds + 1)
        }
    } else {
        value_at_second(ramp_up_seconds, rows_per_second, ramp_up_seconds)
            + (seconds - ramp_up_seconds) * rows_per_second
    }
}

/// Spark's rate source: rows `{"timestamp": epoch ms, "value": n}`.
///
/// ```
/// use tidewater_connectors::rate::{RateSource, RateSourceConfig};
/// use tidewater_engine::prelude::*;
/// let mut config = RateSourceConfig::new(4);
/// config.start_time_ms = Some(0);
/// config.max_rows = Some(6);
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(RateSource::new(config)).sink(out.clone());
/// p.run().unwrap();
/// let rows: Vec<String> = out.values().iter().map(|r| serde_json::to_string(r).unwrap()).collect();
/// assert_eq!(rows[..3], [
///     r#"{"timestamp":0,"value":0}"#, r#"{"timestamp":250,"value":1}"#, r#"{"timestamp":500,"value":2}"#,
/// ]);
/// assert_eq!(rows.len(), 6);
/// ```
#[derive(Clone)]
pub struct RateSource {
    config: RateSourceConfig,
    clock: Arc<dyn Clock>,
    name: String,
}

impl RateSource {
    /// A source with these settings, on the system clock.
    pub fn new(config: RateSourceConfig) -> Self {
        RateSource {
            config,
            clock: Arc::new(SystemClock),
            name: "rate".to_string(),
        }
    }

    /// Releases rows by `clock` (a `ManualClock` in tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl Source for RateSource {
    type Item = Row;
    type Reader = RateReader;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn restart(&self) -> Restart {
        Restart::FromPosition
    }

    fn validate(&self) -> Result<()> {
        self.config.validate(&self.name)
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<RateReader> {
        self.config.validate(&self.name)?;
        let partitions: Vec<u64> = (0..self.config.num_partitions as u64)
            .filter(|p| (*p as usize) % worker.parallelism == worker.index)
            .collect();
        let start = self
            .config
            .start_time_ms
            .unwrap_or_else(|| self.clock.now_ms());
        Ok(RateReader {
            config: self.config.clone(),
            clock: self.clock.clone(),
            schema: Arc::new(Schema::new([
                ("timestamp", DataType::Int),
                ("value", DataType::Int),
            ])),
            position: Position {
                start_ms: start,
                next: partitions.clone(),
            },
            partitions,
            batch_size: worker.batch_size.max(1),
        })
    }
}

/// Where a reader stands: the start of value 0's second and, per partition, its next
/// value.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Position {
    start_ms: i64,
    next: Vec<u64>,
}

/// One worker's partitions of a [`RateSource`].
pub struct RateReader {
    config: RateSourceConfig,
    clock: Arc<dyn Clock>,
    schema: Arc<Schema>,
    partitions: Vec<u64>,
    position: Position,
    batch_size: usize,
}

impl RateReader {
    /// The timestamp of value `v`.
    fn timestamp(&self, v: u64) -> i64 {
        let (rate, ramp) = (
            self.config.rows_per_second,
            self.config.ramp_up_time_seconds,
        );
        // The second holding v: the first s with value_at_second(s + 1) > v.
        let (mut lo, mut hi) = (0u64, v / rate.max(1) + ramp + 2);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if value_at_second(mid + 1, rate, ramp) > v {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let (first, end) = (
            value_at_second(lo, rate, ramp),
            value_at_second(lo + 1, rate, ramp),
        );
        let ms_per_value = 1_000.0 / (end - first) as f64;
        // Second s's rows are spread over [start + s, start + s + 1 s), as Spark's.
        self.position.start_ms
            + lo as i64 * 1_000
            + ((v - first) as f64 * ms_per_value).round() as i64
    }
}

impl SourceReader for RateReader {
    type Item = Row;

    fn poll_batch(&mut self, out: &mut Batch<Row>) -> Result<SourcePoll> {
        let now = self.clock.now_ms();
        // With a trigger, the rows before the last trigger time passed.
        let until = match self.config.trigger_interval_ms {
            Some(every) if every > 0 => {
                let every = every as i64;
                let start = self.position.start_ms;
                start + (now - start).div_euclid(every) * every - 1
            }
            _ => now,
        };
        let step = self.config.num_partitions as u64;
        let limit = self.config.max_rows.unwrap_or(u64::MAX);
        let mut finished = true;
        for i in 0..self.partitions.len() {
            while out.len() < self.batch_size {
                let v = self.position.next[i];
                if v >= limit {
                    break;
                }
                let ts = self.timestamp(v);
                if ts > until {
                    break;
                }
                let row = Row::new(
                    self.schema.clone(),
                    vec![Value::Int(ts), Value::Int(v as i64)],
                );
                out.push(Record::new(ts, row));
                self.position.next[i] = v + step;
            }
            finished &= self.position.next[i] >= limit;
        }
        Ok(if finished {
            SourcePoll::Finished
        } else if out.is_empty() {
            SourcePoll::Pending
        } else {
            SourcePoll::Ready
        })
    }

    fn snapshot_position(&self) -> Result<Option<Vec<u8>>> {
        serde_json::to_vec(&self.position)
            .map(Some)
            .map_err(|e| EngineError::external("`rate`: encoding the position", e))
    }

    fn restore_position(&mut self, bytes: &[u8]) -> Result<()> {
        let position: Position = serde_json::from_slice(bytes)
            .map_err(|e| EngineError::external("`rate`: decoding the position", e))?;
        if position.next.len() != self.partitions.len() {
            return Err(EngineError::Source {
                source_name: "rate".into(),
                message: format!(
                    "the checkpoint holds {} partitions for this worker, the settings give {}",
                    position.next.len(),
                    self.partitions.len()
                ),
            });
        }
        self.position = position;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_totals_with_and_without_ramp_up() {
        // (rows/s, ramp-up s, totals at seconds 0..6)
        let cases: [(u64, u64, [u64; 6]); 3] = [
            (10, 0, [0, 10, 20, 30, 40, 50]),
            (10, 4, [0, 2, 6, 12, 20, 30]),
            (7, 2, [0, 2, 6, 13, 20, 27]),
        ];
        for (rate, ramp, totals) in cases {
            let got: Vec<u64> = (0..6).map(|s| value_at_second(s, rate, ramp)).collect();
            assert_eq!(got, totals, "{rate} {ramp}");
        }
    }

    fn reader(
        config: RateSourceConfig,
        clock: Arc<dyn Clock>,
        index: usize,
        n: usize,
    ) -> RateReader {
        let mut w = WorkerInfo::new(&tidewater_engine::config::Config::default(), index, n);
        w.batch_size = 1_000;
        RateSource::new(config)
            .with_clock(clock)
            .create_reader(&w)
            .unwrap()
    }

    #[test]
    fn rows_are_released_as_their_time_passes_and_partitions_split_the_values() {
        use tidewater_engine::time::ManualClock;
        let clock = ManualClock::new(0);
        let mut config = RateSourceConfig::new(10);
        config.ramp_up_time_seconds = 4;
        config.num_partitions = 3;
        config.start_time_ms = Some(0);
        let mut workers: Vec<RateReader> = (0..2)
            .map(|i| reader(config.clone(), Arc::new(clock.clone()), i, 2))
            .collect();
        let poll = |workers: &mut Vec<RateReader>| {
            let mut got: Vec<(i64, i64)> = Vec::new();
            for w in workers.iter_mut() {
                let mut out = Vec::new();
                w.poll_batch(&mut out).unwrap();
                got.extend(out.iter().map(|r| match r.value.values() {
                    [Value::Int(ts), Value::Int(v)] => (*v, *ts),
                    other => panic!("{other:?}"),
                }));
            }
            got.sort();
            got
        };
        // second 0 holds values 0 and 1 (ramp 0 -> 2 rows/s), at 0 and 500 ms
        assert_eq!(poll(&mut workers), vec![(0, 0)]);
        clock.set_ms(999);
        assert_eq!(poll(&mut workers), vec![(1, 500)]);
        // second 1 holds 2..6 (4 rows: every 250 ms)
        clock.set_ms(1_999);
        assert_eq!(
            poll(&mut workers),
            vec![(2, 1_000), (3, 1_250), (4, 1_500), (5, 1_750)]
        );
    }

    #[test]
    fn a_trigger_releases_each_intervals_rows_together() {
        use tidewater_engine::time::ManualClock;
        let clock = ManualClock::new(0);
        let mut config = RateSourceConfig::new(4);
        config.start_time_ms = Some(0);
        config.trigger_interval_ms = Some(1_000);
        let mut r = reader(config, Arc::new(clock.clone()), 0, 1);
        let mut poll_at = |ms: i64| {
            clock.set_ms(ms);
            let mut out = Vec::new();
            r.poll_batch(&mut out).unwrap();
            out.iter().map(|r| r.ts).collect::<Vec<_>>()
        };
        // (clock, timestamps released)
        let table: [(i64, Vec<i64>); 4] = [
            (999, vec![]),
            (1_000, vec![0, 250, 500, 750]),
            (1_999, vec![]),
            (
                3_100,
                vec![1_000, 1_250, 1_500, 1_750, 2_000, 2_250, 2_500, 2_750],
            ),
        ];
        for (ms, want) in table {
            assert_eq!(poll_at(ms), want, "at {ms} ms");
        }
    }

    #[test]
    fn problems_are_named() {
        let mut c = RateSourceConfig::new(0);
        c.num_partitions = 0;
        let problems: Vec<String> = c
            .validate("rate")
            .unwrap_err()
            .problems()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            problems,
            vec![
                "`rate`: invalid `rows_per_second`: expected at least 1, found 0",
                "`rate`: invalid `num_partitions`: expected at least 1, found 0",
            ]
        );
        let mut ramp = RateSourceConfig::new(3);
        ramp.ramp_up_time_seconds = 5;
        assert!(ramp.validate("rate").is_err());
    }
}
