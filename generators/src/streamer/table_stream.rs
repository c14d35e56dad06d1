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

/// True for columns that hold event times: `ts`, `timestamp`, `*_at`, `*_time`.
fn is_time_column(name: &str) -> bool {
    name == "ts" || name == "timestamp" || name.ends_with("_at") || name.ends_with("_time")
}

impl TableStream {
    /// The rows of `table`; event time from `timestamp_column`, or the first time-like
    /// column (`*_at`, `*_time`, `ts`).
    pub fn new(
        tables: &Tables,
        table: &str,
        timestamp_column: Option<&str>,
        anomalies: AnomalyRegistry,
        seed: u64,
    ) -> Result<TableStream, GeneratorErrors> {
        anomalies.validate()?;
        let unknown = |field: &str, found: &str, known: String| {
            GeneratorErrors::from(GeneratorError::InvalidParameter {
                field: field.into(),
                expected: known,
                found: found.into(),
            })
        };
        let rows = tables
            .table(table)
            .ok_or_else(|| unknown("table", table, format!("one of {:?}", tables.names())))?;
        let schema = rows.first().map(|r| r.schema().clone());
        let names: Vec<String> = schema
            .iter()
            .flat_map(|s| s.names().map(String::from).collect::<Vec<_>>())
            .collect();
        let column = match timestamp_column {
            Some(c) if names.iter().any(|n| n == c) => Some(c.to_string()),
            Some(c) => {
                return Err(unknown(
                    "timestamp_column",
                    c,
                    format!("a column of `{table}`: {names:?}"),
                ))
            }
            None => names.iter().find(|n| is_time_column(n)).cloned(),
        };
        let mut events = Vec::with_capacity(rows.len());
        let mut counts = BTreeMap::new();
        for (i, row) in rows.iter().enumerate() {
            let ts = column
                .as_deref()
                .and_then(|c| row.get(c))
                .and_then(Value::as_i64)
                .unwrap_or(0);
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
    use crate::retail::{RetailDomain, Scale};
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
        let bad = AnomalyRegistry::new().with(2.0, Duplicate);
        let e = TableStream::new(&tables, "orders", None, bad, 1).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "`anomalies[0] (duplicate)`: expected a probability in [0, 1], found 2"
        );
    }
}
