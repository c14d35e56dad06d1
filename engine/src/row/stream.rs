//! The name-based API over `Stream<Row>`: event time by field name, `group_by` by
//! field names, and `agg` with aggregate expressions.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::agg::{AggExpr, RowAggregate};
use super::event_time::{field_time, ReadEventTime, RequireEventTime};
use super::{DataType, Row, Schema, Value};
use crate::dead_letter::DeadLetter;
use crate::error::EngineError;
use crate::stream::{KeyedStream, Stream, WindowedStream};
use crate::time::{IntoDuration, TimeUnit, Watermark, NO_TIMESTAMP};
use crate::window::{WindowAssigner, WindowResult};

fn check_field_name(stream: &Stream<Row>, operator: &str, field: &str) {
    if field.is_empty() {
        stream.plan.error(EngineError::invalid(
            operator,
            "field",
            "the name of the event-time field",
            "an empty name",
        ));
    }
}

/// The grouping key of a `group_by`: the group fields' names and values. Equality and
/// hashing use the values only.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GroupKey {
    names: Arc<[String]>,
    /// Values of the group fields, in `group_by` order (null where missing).
    pub values: Vec<Value>,
}

impl GroupKey {
    /// Names of the group fields.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl PartialEq for GroupKey {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}
impl Eq for GroupKey {}
impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.values.hash(state);
    }
}

/// Name-based operators on row streams (implemented for `Stream<Row>`).
pub trait RowStreamExt: Sized {
    /// Event time from a field (epoch milliseconds, or an RFC 3339 / ISO-8601 string
    /// such as `2024-01-01T12:00:00Z`), with a bounded-out-of-orderness watermark. A row
    /// whose time cannot be read (missing, null, not a time) fails the run, naming the
    /// field and the value; use [`read_event_time`](Self::read_event_time) first to send
    /// such rows to a dead-letter output instead.
    fn with_event_time(self, field: &str, delay: impl IntoDuration) -> Stream<Row>;

    /// [`with_event_time`](Self::with_event_time) with numbers in `unit` (seconds,
    /// milliseconds, microseconds, nanoseconds since the epoch).
    fn with_event_time_in(
        self,
        field: &str,
        unit: TimeUnit,
        delay: impl IntoDuration,
    ) -> Stream<Row>;

    /// Fails the run on a row whose `field` holds no time, as
    /// [`with_event_time`](Self::with_event_time) does, without assigning times or
    /// watermarks: for sources that assign both themselves (a Kafka source with
    /// per-partition watermarks).
    fn require_event_time(self, field: &str) -> Stream<Row>;

    /// Checks that each row's `field` holds a time (numbers in `unit`): rows that do
    /// come out as `Ok`, the others as dead letters naming the field and what it held,
    /// for [`Stream::dead_letters`].
    ///
    /// ```
    /// use tidewater_engine::prelude::*;
    /// use tidewater_engine::time::TimeUnit;
    /// let rows: Vec<Row> = ["2024-01-01T00:00:01Z", "soon", "2024-01-01T00:00:02.5Z"]
    ///     .into_iter()
    ///     .map(|t| Row::from_pairs([("ts", Value::from(t))]))
    ///     .collect();
    /// let (out, bad) = (MemorySink::new(), MemorySink::new());
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1));
    /// p.source(VecSource::new(rows))
    ///     .read_event_time("ts", TimeUnit::Millis)
    ///     .dead_letters(bad.clone())
    ///     .with_event_time("ts", "0 s")
    ///     .group_by(["ts"])
    ///     .window(TumblingWindow::of("1 second"))
    ///     .count()
    ///     .sink(out.clone());
    /// let m = p.run().unwrap();
    /// assert_eq!(out.values().iter().map(|r| r.window_start).collect::<Vec<_>>(), vec![1_704_067_201_000, 1_704_067_202_000]);
    /// assert_eq!(bad.values()[0].error, "field `ts`: `soon` is not an RFC 3339 / ISO-8601 time (such as 2024-01-01T12:00:00Z)");
    /// assert_eq!((m.dead_letters, m.late_dropped), (1, 0));
    /// ```
    fn read_event_time(self, field: &str, unit: TimeUnit) -> Stream<Result<Row, DeadLetter>>;

    /// Partitions by the values of the named fields (null where a row lacks one).
    fn group_by<S: Into<String>>(
        self,
        fields: impl IntoIterator<Item = S>,
    ) -> KeyedStream<Row, GroupKey, impl Fn(&Row) -> GroupKey + Clone + Send + Sync + 'static>;
}

impl RowStreamExt for Stream<Row> {
    /// ```
    /// use tidewater_engine::prelude::*;
    /// use tidewater_engine::row::agg::{count, sum};
    ///
    /// let rows: Vec<Row> = [("/home", 3, 1_000), ("/cart", 5, 2_000), ("/home", 1, 61_000)]
    ///     .into_iter()
    ///     .map(|(page, ms, ts)| Row::from_pairs([
    ///         ("page", Value::from(page)), ("ms", Value::from(ms)), ("ts", Value::from(ts)),
    ///     ]))
    ///     .collect();
    /// let out = MemorySink::new();
    /// let mut p = Pipeline::new(Config::default().with_parallelism(1));
    /// p.source(VecSource::new(rows))
    ///     .with_event_time("ts", "10 seconds")
    ///     .group_by(["page"])
    ///     .window(TumblingWindow::of("1 minute"))
    ///     .agg([count("*").alias("n"), sum("ms")])
    ///     .sink(out.clone());
    /// p.run().unwrap();
    /// let lines: Vec<String> = out.values().iter().map(|r| serde_json::to_string(r).unwrap()).collect();
    /// let mut lines = lines;
    /// lines.sort();
    /// assert_eq!(lines, vec![
    ///     r#"{"page":"/cart","window_start":0,"window_end":60000,"n":1,"sum(ms)":5}"#,
    ///     r#"{"page":"/home","window_start":0,"window_end":60000,"n":1,"sum(ms)":3}"#,
    ///     r#"{"page":"/home","window_start":60000,"window_end":120000,"n":1,"sum(ms)":1}"#,
    /// ]);
    /// ```
    fn with_event_time(self, field: &str, delay: impl IntoDuration) -> Stream<Row> {
        self.with_event_time_in(field, TimeUnit::Millis, delay)
    }

    fn with_event_time_in(
        self,
        field: &str,
        unit: TimeUnit,
        delay: impl IntoDuration,
    ) -> Stream<Row> {
        check_field_name(&self, "with_event_time", field);
        let field: Arc<str> = Arc::from(field);
        let f = field.clone();
        let checked = self.then(
            "event_time",
            crate::metrics::NodeKind::Operator,
            move |_| RequireEventTime {
                operator: "with_event_time".into(),
                field: f.clone(),
                unit,
            },
        );
        checked.with_watermark(Watermark::bounded(delay, move |r: &Row| {
            field_time(r, &field, unit).unwrap_or(NO_TIMESTAMP)
        }))
    }

    fn require_event_time(self, field: &str) -> Stream<Row> {
        check_field_name(&self, "with_event_time", field);
        let field: Arc<str> = Arc::from(field);
        self.then(
            "event_time",
            crate::metrics::NodeKind::Operator,
            move |_| RequireEventTime {
                operator: "with_event_time".into(),
                field: field.clone(),
                unit: TimeUnit::Millis,
            },
        )
    }

    fn read_event_time(self, field: &str, unit: TimeUnit) -> Stream<Result<Row, DeadLetter>> {
        check_field_name(&self, "read_event_time", field);
        let field: Arc<str> = Arc::from(field);
        self.then(
            "read_event_time",
            crate::metrics::NodeKind::Operator,
            move |_| ReadEventTime {
                field: field.clone(),
                unit,
            },
        )
    }

    fn group_by<S: Into<String>>(
        self,
        fields: impl IntoIterator<Item = S>,
    ) -> KeyedStream<Row, GroupKey, impl Fn(&Row) -> GroupKey + Clone + Send + Sync + 'static> {
        let names: Arc<[String]> = fields.into_iter().map(Into::into).collect();
        if names.is_empty() {
            self.plan.error(EngineError::MissingKey {
                operator: "group_by".into(),
            });
        }
        let required = names.clone();
        let checked = self.then("group_by", crate::metrics::NodeKind::Operator, move |_| {
            super::require_fields::RequireFields::new("group_by", required.clone())
        });
        checked.key_by(move |r: &Row| GroupKey {
            names: names.clone(),
            values: names
                .iter()
                .map(|n| r.get(n).cloned().unwrap_or(Value::Null))
                .collect(),
        })
    }
}

/// `agg` on windowed row streams (implemented for `group_by(..).window(..)`).
pub trait RowWindowedExt {
    /// Aggregates each group's window; output rows hold the group fields,
    /// `window_start`, `window_end` and one field per expression, named by its alias.
    fn agg(self, exprs: impl IntoIterator<Item = AggExpr>) -> Stream<Row>;
}

impl<KF, W> RowWindowedExt for WindowedStream<Row, GroupKey, KF, W>
where
    KF: Fn(&Row) -> GroupKey + Clone + Send + Sync + 'static,
    W: WindowAssigner,
{
    fn agg(self, exprs: impl IntoIterator<Item = AggExpr>) -> Stream<Row> {
        let aggregate = RowAggregate::new(exprs.into_iter().collect());
        let aliases: Vec<String> = aggregate.exprs().iter().map(|e| e.alias.clone()).collect();
        let schema: std::sync::OnceLock<Arc<Schema>> = std::sync::OnceLock::new();
        // Update-mode rows say whether they are final (a column of their own); the
        // Spark-compatible mode keeps Spark's columns.
        let flag = self.mode == crate::window::OutputMode::Update && !self.spark();
        self.aggregate(aggregate)
            .map(move |r: WindowResult<GroupKey, Vec<Value>>| {
                let schema = schema
                    .get_or_init(|| {
                        let group = r.key.names().iter().cloned().map(|n| (n, DataType::Null));
                        let window = [
                            ("window_start".to_string(), DataType::Int),
                            ("window_end".to_string(), DataType::Int),
                        ];
                        let aggs = aliases.iter().cloned().map(|a| (a, DataType::Null));
                        let is_final = flag.then(|| ("is_final".to_string(), DataType::Bool));
                        Arc::new(Schema::new(group.chain(window).chain(aggs).chain(is_final)))
                    })
                    .clone();
                let mut values = r.key.values;
                values.push(Value::Int(r.window_start));
                values.push(Value::Int(r.window_end));
                values.extend(r.value);
                if flag {
                    values.push(Value::Bool(r.is_final));
                }
                Row::new(schema, values)
            })
    }
}
