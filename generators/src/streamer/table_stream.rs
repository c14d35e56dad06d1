//! One table's rows as an event stream.

use crate::core::GeneratorErrors;
use std::collections::BTreeMap;
use std::sync::Arc;

use tidewater_engine::row::{Row, Value};
use tidewater_engine::time::Timestamp;

use super::AnomalyRegistry;
use crate::core::{event_rng, Generator, GeneratorError};
use crate::retail::Tables;

/// The events of one table, in event-time order, anomalies applied.
#[derive(Debug, Clone)]
pub struct TableStream {
    table: String,
    seed: u64,
    /// (event time, row, anomalous)
    events: Arc<Vec<(Timestamp, Row, bool)>>,
    anomalies: BTreeMap<String, u64>,
}

/// Integers from 2000-01-01 to 2100-01-01 in epoch ms are read as timestamps.
const EPOCH_MS: std::ops::RangeInclusive<i64> = 946_684_800_000..=4_102_444_800_000;

/// The instant a value holds, if it is a timestamp: an ISO 8601 string or epoch ms.
pub fn timestamp_of(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Int(ms) if EPOCH_MS.contains(ms) => Some(*ms),
        Value::Str(s) => crate::genesis::TimestampStyle::parse(s).map(|(ms, _)| ms),
        _ => None,
    }
}

/// True when every present value of `column` is a timestamp, and one is present.
fn is_timestamp_column(rows: &[Row], column: &str) -> bool {
    let mut present = rows
        .iter()
        .filter_map(|r| r.get(column))
        .filter(|v| !v.is_null())
        .peekable();
    present.peek().is_some() && present.all(|v| timestamp_of(v).is_some())
}

/// Where a table's event times come from.
#[derive(Debug, Clone, PartialEq)]
pub enum EventTimes<'a> {
    /// The named column, or the first column of timestamps (ISO 8601 strings or epoch
    /// ms); an error when the table has none.
    Column(Option<&'a str>),
    /// Evenly spaced from `start_ms` at `per_second` rows a second, in table order (for
    /// tables without a timestamp column).
    Sequence {
        /// Time of the first row (epoch ms).
        start_ms: Timestamp,
        /// Rows per second of event time.
        per_second: f64,
    },
}

fn problem(field: &str, expected: String, found: String) -> GeneratorErrors {
    GeneratorErrors::from(GeneratorError::InvalidParameter {
        field: field.into(),
        expected,
        found,
    })
}

impl TableStream {
    /// The rows of `table`; event time from `timestamp_column`, or the first column of
    /// timestamps (ISO 8601 strings, or integers that are epoch ms in 2000-2100). A
    /// table without one is an error naming its columns (see [`TableStream::with_times`]
    /// for tables that have no time of their own).
    pub fn new(
        tables: &Tables,
        table: &str,
        timestamp_column: Option<&str>,
        anomalies: AnomalyRegistry,
        seed: u64,
    ) -> Result<TableStream, GeneratorErrors> {
        TableStream::with_times(
            tables,
            table,
            EventTimes::Column(timestamp_column),
            anomalies,
            seed,
        )
    }

    /// Every table, in generation order: tables with a timestamp column use it, the
    /// others `fallback` (`None`: they are errors, all named at once).
    pub fn all(
        tables: &Tables,
        fallback: Option<(Timestamp, f64)>,
        anomalies: AnomalyRegistry,
        seed: u64,
    ) -> Result<Vec<TableStream>, GeneratorErrors> {
        let mut streams = Vec::new();
        let mut problems: Vec<GeneratorError> = Vec::new();
        for (name, rows) in tables.iter() {
            let names: Vec<String> = rows
                .first()
                .map(|r| r.schema().names().map(String::from).collect())
                .unwrap_or_default();
            let has_time = names.iter().any(|c| is_timestamp_column(rows, c));
            let times = match (has_time, fallback) {
                (false, Some((start_ms, per_second))) => EventTimes::Sequence {
                    start_ms,
                    per_second,
                },
                _ => EventTimes::Column(None),
            };
            match TableStream::with_times(tables, name, times, anomalies.clone(), seed) {
                Ok(stream) => streams.push(stream),
                Err(e) => problems.extend(e),
            }
        }
        crate::core::all_problems(problems)?;
        Ok(streams)
    }

    /// The rows of `table` with event times from `times`.
    pub fn with_times(
        tables: &Tables,
        table: &str,
        times: EventTimes<'_>,
        anomalies: AnomalyRegistry,
        seed: u64,
    ) -> Result<TableStream, GeneratorErrors> {
        anomalies.validate()?;
        let rows = tables.table(table).ok_or_else(|| {
            problem(
                "table",
                format!("one of {:?}", tables.names()),
                table.into(),
            )
        })?;
        let names: Vec<String> = rows
            .first()
            .map(|r| r.schema().names().map(String::from).collect())
            .unwrap_or_default();
        let column = match times {
            EventTimes::Column(Some(c)) if !names.iter().any(|n| n == c) => {
                return Err(problem(
                    "timestamp_column",
                    format!("a column of `{table}`: {names:?}"),
                    c.into(),
                ))
            }
            EventTimes::Column(Some(c)) if !is_timestamp_column(rows, c) => {
                return Err(problem(
                    "timestamp_column",
                    format!("a column of timestamps (ISO 8601 strings or epoch ms) in `{table}`"),
                    format!("`{c}`, which holds other values"),
                ))
            }
            EventTimes::Column(Some(c)) => Some(c.to_string()),
            EventTimes::Column(None) if rows.is_empty() => None,
            EventTimes::Column(None) => Some(
                names
                    .iter()
                    .find(|n| is_timestamp_column(rows, n))
                    .cloned()
                    .ok_or_else(|| {
                        problem(
                            "timestamp_column",
                            format!(
                                "a column of timestamps (ISO 8601 strings or epoch ms) in `{table}`, \
                                 or event times from a sequence"
                            ),
                            format!("none among {names:?}"),
                        )
                    })?,
            ),
            EventTimes::Sequence { per_second, .. } if per_second.is_nan() || per_second <= 0.0 => {
                return Err(problem("per_second", "a positive rate".into(), per_second.to_string()))
            }
            EventTimes::Sequence { .. } => None,
        };
        let mut events = Vec::with_capacity(rows.len());
        let mut counts = BTreeMap::new();
        for (i, row) in rows.iter().enumerate() {
            let ts = match (&column, &times) {
                (Some(c), _) => row.get(c).and_then(timestamp_of).ok_or_else(|| {
                    problem(
                        "timestamp_column",
                        format!("a timestamp in `{c}` of every row of `{table}`"),
                        format!("row {i} without one"),
                    )
                })?,
                (
                    None,
                    EventTimes::Sequence {
                        start_ms,
                        per_second,
                    },
                ) => start_ms + (i as f64 * 1000.0 / per_second) as i64,
                (None, _) => 0,
            };
            let mut rng = event_rng(seed, i as u64);
            let (out, fired) = anomalies.apply(row.clone(), &mut rng);
            let flagged = fired.is_some();
            if let Some(name) = fired {
                *counts.entry(name).or_insert(0) += 1;
            }
            events.extend(out.into_iter().map(|r| (ts, r, flagged)));
        }
        // Stable: rows with equal times keep table order.
        events.sort_by_key(|(ts, _, _)| *ts);
        Ok(TableStream {
            table: table.to_string(),
            seed,
            events: Arc::new(events),
            anomalies: counts,
        })
    }

    /// The table streamed.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Rows touched per anomaly injector.
    pub fn anomaly_counts(&self) -> &BTreeMap<String, u64> {
        &self.anomalies
    }

    /// Total rows touched by anomalies.
    pub fn anomaly_count(&self) -> u64 {
        self.anomalies.values().sum()
    }
}

impl Generator for TableStream {
    type Event = Row;

    fn name(&self) -> String {
        format!("stream_{}", self.table)
    }

    fn seed(&self) -> u64 {
        self.seed
    }

    fn event(&self, index: u64) -> Row {
        let (ts, row, _) = &self.events[index as usize];
        let mut pairs = row.to_pairs();
        pairs.push(("_spindle_table".into(), Value::from(self.table.as_str())));
        pairs.push(("_spindle_seq".into(), Value::Int(index as i64)));
        pairs.push(("_spindle_event_time".into(), Value::Int(*ts)));
        Row::from_pairs(pairs)
    }

    fn event_time(&self, index: u64) -> Timestamp {
        self.events[index as usize].0
    }

    fn len(&self) -> Option<u64> {
        Some(self.events.len() as u64)
    }

    fn is_anomaly(&self, index: u64) -> bool {
        self.events[index as usize].2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retail::{RetailDomain, Scale, Tables};
    use crate::streamer::{Duplicate, NullField, Outlier, SchemaDrift};

    #[test]
    fn rows_become_events_in_time_order_with_metadata() {
        let tables = RetailDomain::new(Scale::Small, 1).generate();
        let stream = TableStream::new(&tables, "returns", None, AnomalyRegistry::new(), 1).unwrap();
        let n = stream.len().unwrap();
        assert_eq!(n as usize, tables.table("returns").unwrap().len());
        let times: Vec<i64> = (0..n).map(|i| stream.event_time(i)).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        let e = stream.event(3);
        assert_eq!(e.get("_spindle_seq"), Some(&Value::Int(3)));
        assert_eq!(e.get("_spindle_event_time"), e.get("return_time"));
    }

    #[test]
    fn anomalies_fire_at_their_rates_and_are_flagged() {
        let tables = RetailDomain::new(Scale::Medium, 1).generate();
        let registry = AnomalyRegistry::new()
            .with(0.02, Outlier::new("total", 100.0))
            .with(0.02, NullField::new("customer_id"))
            .with(0.02, Duplicate)
            .with(0.02, SchemaDrift::new("coupon_code"));
        let stream = TableStream::new(&tables, "orders", Some("order_time"), registry, 3).unwrap();
        let counts = stream.anomaly_counts();
        // 50 000 orders; each injector sees the rows the earlier ones left: about 2% each
        for (name, count) in counts {
            assert!((800..=1_200).contains(count), "{name}: {count}");
        }
        assert_eq!(stream.len().unwrap(), 50_000 + counts["duplicate"]);
        let flagged = (0..stream.len().unwrap())
            .filter(|&i| stream.event(i).get("_spindle_anomaly").is_some())
            .count() as u64;
        assert_eq!(flagged, stream.anomaly_count() + counts["duplicate"]);
        // Streamed, the run statistics count the same flagged events.
        let source = crate::core::GeneratorSource::new(stream.clone());
        let stats = source.stats();
        let mut p =
            tidewater_engine::prelude::Pipeline::new(tidewater_engine::prelude::Config::default());
        p.source(source)
            .sink(tidewater_engine::prelude::MemorySink::new());
        p.run().unwrap();
        assert_eq!(stats.result("orders").anomaly_count, flagged);
    }

    #[test]
    fn stream_all_takes_every_table_in_generation_order() {
        let tables = RetailDomain::new(Scale::Small, 1).generate();
        // Without a fallback, each table lacking a timestamp column is named.
        let e = TableStream::all(&tables, None, AnomalyRegistry::new(), 1).unwrap_err();
        let named: Vec<String> = e.iter().map(|p| p.to_string()).collect();
        assert_eq!(named.len(), 2, "{named:?}");
        assert!(
            named[0].contains("in `products`") && named[1].contains("in `order_lines`"),
            "{named:?}"
        );
        let streams = TableStream::all(
            &tables,
            Some((1_704_067_200_000, 100.0)),
            AnomalyRegistry::new(),
            1,
        )
        .unwrap();
        let order: Vec<&str> = streams.iter().map(TableStream::table).collect();
        assert_eq!(order, tables.names());
        let products = &streams[order.iter().position(|t| *t == "products").unwrap()];
        assert_eq!(
            (products.event_time(0), products.event_time(1)),
            (1_704_067_200_000, 1_704_067_200_010)
        );
        let customers = &streams[0];
        assert_eq!(
            customers.event(0).get("_spindle_event_time"),
            customers.event(0).get("created_at")
        );
    }

    #[test]
    fn iso_strings_are_timestamps_too() {
        let mut tables = Tables::default();
        let rows = (0..3)
            .map(|i| {
                Row::from_pairs([
                    ("id", Value::Int(i)),
                    ("seen", Value::from(format!("2026-01-0{}T00:00:00Z", 3 - i))),
                ])
            })
            .collect();
        tables.insert("visits", rows);
        let stream = TableStream::new(&tables, "visits", None, AnomalyRegistry::new(), 1).unwrap();
        assert_eq!(stream.event(0).get("id"), Some(&Value::Int(2)));
        assert_eq!(stream.event_time(0), 1_767_225_600_000);
    }

    #[test]
    fn the_first_events_of_seed_42_are_pinned() {
        let tables = RetailDomain::new(Scale::Small, 42).generate();
        let stream = TableStream::new(&tables, "orders", None, AnomalyRegistry::new(), 42).unwrap();
        let first: Vec<String> = (0..2)
            .map(|i| serde_json::to_string(&stream.event(i)).unwrap())
            .collect();
        assert_eq!(
            first,
            vec![
                r#"{"order_id":1,"customer_id":910,"store_id":9,"order_time":1704067208884,"status":"cancelled","total":4357.54,"_spindle_table":"orders","_spindle_seq":0,"_spindle_event_time":1704067208884}"#,
                r#"{"order_id":2,"customer_id":616,"store_id":6,"order_time":1704068758925,"status":"completed","total":2805.03,"_spindle_table":"orders","_spindle_seq":1,"_spindle_event_time":1704068758925}"#,
            ]
        );
    }

    #[test]
    fn unknown_tables_and_columns_are_named() {
        let tables = RetailDomain::new(Scale::Small, 1).generate();
        let e = TableStream::new(&tables, "invoices", None, AnomalyRegistry::new(), 1).unwrap_err();
        assert!(
            e[0].to_string()
                .starts_with("`table`: expected one of [\"customers\""),
            "{}",
            e[0]
        );
        let e = TableStream::new(
            &tables,
            "orders",
            Some("paid_at"),
            AnomalyRegistry::new(),
            1,
        )
        .unwrap_err();
        assert!(
            e[0].to_string()
                .starts_with("`timestamp_column`: expected a column of `orders`"),
            "{}",
            e[0]
        );
        let e = TableStream::new(&tables, "orders", Some("status"), AnomalyRegistry::new(), 1)
            .unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "`timestamp_column`: expected a column of timestamps (ISO 8601 strings or epoch ms) in `orders`, found `status`, which holds other values"
        );
        let e = TableStream::new(&tables, "products", None, AnomalyRegistry::new(), 1).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "`timestamp_column`: expected a column of timestamps (ISO 8601 strings or epoch ms) in `products`, or event times from a sequence, found none among [\"product_id\", \"name\", \"category\", \"price\"]"
        );
        let bad = AnomalyRegistry::new().with(2.0, Duplicate);
        let e = TableStream::new(&tables, "orders", None, bad, 1).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "`anomalies[0] (duplicate)`: expected a probability in [0, 1], found 2"
        );
    }
}
