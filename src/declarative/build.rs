//! A pipeline file as a pipeline: the input's source, its watermark, the windowed
//! aggregations, the output's sink and the streaming settings as the engine's config.

use std::time::Duration;

use serde_json::{Map, Value};
use tidewater_connectors::file::{
    CsvOptions, FileSink, FileSinkMode, FileSource, FileSourceConfig, Ready,
};
use tidewater_connectors::rate::{RateSource, RateSourceConfig};
use tidewater_engine::dead_letter::DeadLetter;
use tidewater_engine::operator::Deduplication;
use tidewater_engine::prelude::*;
use tidewater_engine::row::{GroupKey, Schema};
use tidewater_engine::time::parse_duration;
use tidewater_engine::window::WindowAssigner;
use tidewater_formats::FileFormat;

use super::aggregation::parse_aggregation;
use super::expr::Expression;
use super::model::{DedupSpec, PipelineFile, Transform};
use super::registry::TransformRegistry;
use super::validate::option_key;

/// How `tidewater run` may override the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Read what is there and stop (`--once`: the `available_now` trigger).
    pub once: bool,
    /// Record what goes into each window, for explanations (`--explain`).
    pub explain: bool,
}

/// The options of a section, keyed in snake_case.
pub(crate) fn options(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .map(|(k, v)| (option_key(k), v.clone()))
        .collect()
}

pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn flag(opts: &Map<String, Value>, key: &str) -> Option<bool> {
    opts.get(key)
        .map(|v| matches!(text(v).to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

fn number(opts: &Map<String, Value>, key: &str, section: &str) -> Result<Option<u64>> {
    opts.get(key)
        .map(|v| {
            text(v)
                .parse::<u64>()
                .map_err(|_| EngineError::invalid(section, key, "a whole number", text(v)))
        })
        .transpose()
}

impl PipelineFile {
    /// Whether the input is read to its end and the run finishes.
    pub fn bounded(&self, run: RunOptions) -> bool {
        run.once
            || self
                .streaming
                .trigger
                .as_ref()
                .is_some_and(|t| matches!(t.kind.as_str(), "once" | "available_now"))
    }

    /// How often sources look for new data: every trigger interval (a micro-batch
    /// each), or every 100 ms at most with the `continuous` trigger, whose interval is
    /// the checkpoint interval only (Spark's continuous processing).
    fn poll_ms(&self) -> u64 {
        let continuous = self
            .streaming
            .trigger
            .as_ref()
            .is_some_and(|t| t.kind == "continuous");
        if continuous {
            self.trigger_ms().min(100)
        } else {
            self.trigger_ms()
        }
    }

    /// The trigger interval (default 1 s): micro-batches, checkpoints.
    fn trigger_ms(&self) -> u64 {
        self.streaming
            .trigger
            .as_ref()
            .and_then(|t| t.interval.as_deref())
            .and_then(|i| parse_duration(i).ok())
            .map_or(1_000, |d| d.as_millis().max(1) as u64)
    }

    /// The group task this copy of the file is built for, if any.
    #[cfg(feature = "kafka")]
    fn group_task(&self) -> Result<Option<tidewater_connectors::kafka::group::GroupTask>> {
        let Some(t) = &self.task else {
            return Ok(None);
        };
        let base = self.file_config()?.with_group(&t.group);
        let mut task =
            tidewater_connectors::kafka::group::GroupTask::new(&base, &t.topic, t.partition);
        task.shuffle_producers = t.shuffle_producers;
        Ok(Some(task))
    }

    /// The engine configuration of the `streaming` section (of the group task's,
    /// when built for one: its own name and checkpoint folder).
    pub fn config(&self) -> Result<Config> {
        #[cfg(feature = "kafka")]
        if let Some(task) = self.group_task()? {
            return Ok(task.config());
        }
        self.file_config()
    }

    fn file_config(&self) -> Result<Config> {
        let s = &self.streaming;
        let mut config = Config::default().with_name(&self.name);
        if s.spark_compatible {
            let single = s
                .options
                .get("spark.sql.streaming.statefulOperator.allowMultiple")
                .is_some_and(|v| text(v) == "false");
            config = config.spark_compatible(single);
        }
        if let Some(dir) = &s.checkpoint_location {
            let delivery = match s.delivery.as_deref() {
                Some("at_most_once") => DeliveryGuarantee::AtMostOnce,
                Some("at_least_once") => DeliveryGuarantee::AtLeastOnce,
                Some(_) => DeliveryGuarantee::ExactlyOnce,
                // A console shows what it gets at once (Spark's console sink is not
                // transactional either): a restart may show rows again.
                None if self.output.format == "console" => DeliveryGuarantee::AtLeastOnce,
                None => DeliveryGuarantee::ExactlyOnce,
            };
            config =
                config.with_checkpointing(dir, Duration::from_millis(self.trigger_ms()), delivery);
        }
        Ok(config)
    }

    /// The pipeline this file describes, ready to run (no named transforms).
    pub fn pipeline(&self, run: RunOptions) -> Result<Pipeline> {
        self.pipeline_with(run, &TransformRegistry::default())
    }

    /// The pipeline this file describes, its `call` steps taken from `registry`.
    pub fn pipeline_with(&self, run: RunOptions, registry: &TransformRegistry) -> Result<Pipeline> {
        let mut p = Pipeline::new(self.config()?.with_explain(run.explain));
        let rows = self.source(&mut p, run)?;
        let rows = match &self.input.watermark {
            // The Kafka source keeps a watermark per partition itself: one assigned
            // after it would follow whichever partition a fetch returned first.
            Some(w) if self.watermark_at_source() => rows.require_event_time(&w.column),
            Some(w) => rows.with_event_time(&w.column, w.delay.as_str()),
            None => rows,
        };
        let mut rows = rows;
        for (i, t) in self.transforms.iter().enumerate() {
            rows = self.transform(rows, t, i, registry)?;
        }
        self.sink(rows)?;
        Ok(p)
    }

    /// Whether the input's watermark is kept by the source, per partition: Kafka rows
    /// parsed from JSON, outside Spark's micro-batch mode (whose watermark is the
    /// whole batch's, as Spark's).
    fn watermark_at_source(&self) -> bool {
        self.input.format == "kafka"
            && self.input.parses_json()
            && self.input.watermark.is_some()
            && !self.streaming.spark_compatible
    }

    fn source(&self, p: &mut Pipeline, run: RunOptions) -> Result<Stream<Row>> {
        let input = &self.input;
        let opts = options(&input.options);
        let stream = !self.bounded(run);
        let section = "input.options";
        let path = input.path.clone().unwrap_or_default();
        let letters = self.dead_letters();
        Ok(match input.format.as_str() {
            "json" | "jsonl" | "csv" | "parquet" => {
                let format = match input.format.as_str() {
                    "csv" => FileFormat::Csv,
                    "parquet" => FileFormat::Parquet,
                    _ => FileFormat::JsonLines,
                };
                let mut c = FileSourceConfig::new(path, format);
                c.stream = stream;
                c.poll_interval_ms =
                    number(&opts, "poll_interval_ms", section)?.unwrap_or_else(|| self.poll_ms());
                c.max_files_per_trigger =
                    number(&opts, "max_files_per_trigger", section)?.map(|n| n as usize);
                c.latest_first = flag(&opts, "latest_first").unwrap_or(false);
                c.csv = CsvOptions {
                    header: flag(&opts, "header").unwrap_or(true),
                    delimiter: opts
                        .get("sep")
                        .or_else(|| opts.get("delimiter"))
                        .and_then(|v| text(v).chars().next())
                        .unwrap_or(','),
                    quote: opts
                        .get("quote")
                        .and_then(|v| text(v).chars().next())
                        .unwrap_or('"'),
                };
                if let Some(ready) = opts.get("ready") {
                    c.ready = serde_json::from_value::<Ready>(Value::String(text(ready))).map_err(
                        |e| {
                            EngineError::invalid(
                                section,
                                "ready",
                                "visible, done_flag or manifest",
                                e.to_string(),
                            )
                        },
                    )?;
                }
                c.schema = self.declared_schema();
                letters.route(p.source(FileSource::new(c)))
            }
            #[cfg(feature = "delta")]
            "delta" | "delta_stream" => {
                use tidewater_connectors::delta::{DeltaSource, DeltaSourceConfig};
                let mut c = DeltaSourceConfig::new(path);
                c.stream = stream;
                c.poll_interval_ms =
                    number(&opts, "poll_interval_ms", section)?.unwrap_or_else(|| self.poll_ms());
                c.max_files_per_trigger =
                    number(&opts, "max_files_per_trigger", section)?.map(|n| n as usize);
                c.read_change_feed = flag(&opts, "read_change_feed").unwrap_or(false);
                c.skip_change_commits = flag(&opts, "skip_change_commits").unwrap_or(false);
                c.version = number(&opts, "version_as_of", section)?;
                if let Some(v) = opts.get("starting_version") {
                    c.starting_version =
                        Some(serde_json::from_value(Value::String(text(v))).map_err(|e| {
                            EngineError::invalid(
                                section,
                                "starting_version",
                                "a version or `latest`",
                                e.to_string(),
                            )
                        })?);
                }
                letters.route(p.source(DeltaSource::new(c)))
            }
            #[cfg(feature = "kafka")]
            "kafka" => {
                use tidewater_connectors::kafka::{KafkaColumns, KafkaSource};
                let config = self.kafka_config(&opts, stream)?;
                if self.input.parses_json() {
                    let schema = self.declared_schema().unwrap_or_default();
                    let source = KafkaSource::rows(config, schema).named("kafka");
                    match &self.input.watermark {
                        Some(w) if self.watermark_at_source() => {
                            let column = w.column.clone();
                            let source = source
                                .with_event_time(move |row: &Row| {
                                    row.timestamp(&column)
                                        .unwrap_or(tidewater_engine::time::NO_TIMESTAMP)
                                })
                                .with_watermark(w.delay.as_str());
                            letters.route(p.source(source))
                        }
                        _ => letters.route(p.source(source)),
                    }
                } else {
                    let columns = KafkaColumns {
                        include_headers: flag(&opts, "include_headers").unwrap_or(false),
                    };
                    let source = KafkaSource::with_decoder(config, columns).named("kafka");
                    letters.route(p.source(source))
                }
            }
            "rate" => {
                let mut c =
                    RateSourceConfig::new(number(&opts, "rows_per_second", section)?.unwrap_or(1));
                if let Some(ramp) = opts.get("ramp_up_time") {
                    let ramp = parse_duration(&text(ramp))?;
                    c.ramp_up_time_seconds = ramp.as_secs();
                }
                if let Some(n) = number(&opts, "num_partitions", section)? {
                    c.num_partitions = n as usize;
                }
                // A processing-time trigger's micro-batches: each interval's rows at once.
                let processing_time = self
                    .streaming
                    .trigger
                    .as_ref()
                    .is_some_and(|t| t.kind == "processing_time");
                if processing_time {
                    c.trigger_interval_ms = Some(self.trigger_ms());
                }
                p.source(RateSource::new(c))
            }
            other => {
                return Err(EngineError::invalid(
                    "input",
                    "format",
                    "json, csv, parquet, delta or rate",
                    other,
                ))
            }
        })
    }

    /// One transform. A row an expression cannot be evaluated on (a column missing,
    /// text where a number belongs) is a dead letter naming the transform.
    fn transform(
        &self,
        rows: Stream<Row>,
        t: &Transform,
        i: usize,
        registry: &TransformRegistry,
    ) -> Result<Stream<Row>> {
        let node = format!("transforms[{i}]");
        if let Some(name) = &t.call {
            return registry.apply(name, &node, rows);
        }
        let invalid =
            |field: &str, text: &str, e: String| EngineError::invalid(&node, field, e, text);
        if let Some(text) = &t.filter {
            let e = Expression::parse(text).map_err(|m| invalid("filter", text, m))?;
            let place = format!("{node}.filter");
            let checked = rows.flat_map(move |r: Row| match e.accepts(&r) {
                Ok(true) => Some(Ok(r)),
                Ok(false) => None,
                Err(m) => Some(Err(letter(&place, m, &r))),
            });
            return Ok(self.dead_letters().route(checked));
        }
        if let Some(items) = &t.select {
            let items = items
                .iter()
                .map(|i| select_item(i).map_err(|m| invalid("select", i, m)))
                .collect::<Result<Vec<_>>>()?;
            let place = format!("{node}.select");
            let checked =
                rows.map(move |r: Row| select(&items, &r).map_err(|m| letter(&place, m, &r)));
            return Ok(self.dead_letters().route(checked));
        }
        if let Some(columns) = &t.with_column {
            let columns = columns
                .iter()
                .map(|(name, v)| {
                    let text = text(v);
                    Expression::parse(&text)
                        .map(|e| (name.clone(), e))
                        .map_err(|m| invalid("with_column", &text, m))
                })
                .collect::<Result<Vec<_>>>()?;
            let place = format!("{node}.with_column");
            let checked = rows.map(move |r: Row| {
                with_columns(&columns, r.clone()).map_err(|m| letter(&place, m, &r))
            });
            return Ok(self.dead_letters().route(checked));
        }
        if let Some(dropped) = &t.drop {
            let dropped = dropped.clone();
            return Ok(rows.map(move |r: Row| {
                Row::from_pairs(
                    r.to_pairs()
                        .into_iter()
                        .filter(|(k, _)| !dropped.contains(k)),
                )
            }));
        }
        if let Some(d) = &t.dedup {
            return Ok(self.dedup(rows, d));
        }
        self.aggregate(rows, t, &node)
    }

    /// Spark's `dropDuplicates` / `dropDuplicatesWithinWatermark` on `d.columns`:
    /// keys expire with the watermark when the event time is part of them (or after
    /// the watermark delay with `within_watermark`), and never otherwise.
    fn dedup(&self, rows: Stream<Row>, d: &DedupSpec) -> Stream<Row> {
        let watermark = self.input.watermark.as_ref();
        let retention = match watermark {
            Some(w) if d.within_watermark => Deduplication::within_watermark(w.delay.as_str()),
            Some(w) if d.columns.is_empty() || d.columns.contains(&w.column) => {
                Deduplication::until_watermark()
            }
            _ => Deduplication::forever(),
        };
        if d.columns.is_empty() {
            rows.key_by(|r: &Row| r.to_pairs()).deduplicate(retention)
        } else {
            rows.group_by(d.columns.clone()).deduplicate(retention)
        }
    }

    fn aggregate(&self, rows: Stream<Row>, t: &Transform, node: &str) -> Result<Stream<Row>> {
        let node = node.to_string();
        let Some(w) = &t.window else {
            return Err(EngineError::invalid(&node, "window", "a transform", "none"));
        };
        let aggs = t
            .aggregations
            .iter()
            .map(|a| {
                parse_aggregation(a).map_err(|e| EngineError::invalid(&node, "aggregations", e, a))
            })
            .collect::<Result<Vec<_>>>()?;
        let mode = match self.streaming.output_mode.as_deref() {
            Some("update") => OutputMode::Update,
            Some("complete") => OutputMode::Complete,
            _ => OutputMode::Append,
        };
        let keyed = rows.group_by(t.group_by.clone());
        let duration = |field: &str, v: &Option<String>| {
            v.as_deref()
                .ok_or_else(|| EngineError::invalid(&node, field, "a duration", "none"))
                .and_then(parse_duration)
        };
        Ok(match w.kind.as_str() {
            "tumbling" => windowed(
                keyed,
                TumblingWindow::of(duration("window.size", &w.size)?),
                mode,
                aggs,
            ),
            "sliding" => windowed(
                keyed,
                SlidingWindow::of(
                    duration("window.size", &w.size)?,
                    duration("window.slide", &w.slide)?,
                ),
                mode,
                aggs,
            ),
            "session" => windowed(
                keyed,
                SessionWindow::with_gap(duration("window.gap", &w.gap)?),
                mode,
                aggs,
            ),
            other => {
                return Err(EngineError::invalid(
                    &node,
                    "window.type",
                    "tumbling, sliding or session",
                    other,
                ))
            }
        })
    }

    #[cfg(feature = "kafka")]
    fn kafka_config(
        &self,
        opts: &Map<String, Value>,
        stream: bool,
    ) -> Result<tidewater_connectors::kafka::KafkaSourceConfig> {
        use tidewater_connectors::kafka::{EndingOffsets, KafkaSourceConfig};
        let section = "input.options";
        let servers = opts
            .get("kafka.bootstrap.servers")
            .map(text)
            .unwrap_or_default();
        let mut c = KafkaSourceConfig::new(servers);
        let list = |v: &Value| -> Vec<String> {
            text(v)
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect()
        };
        if let Some(v) = opts.get("subscribe") {
            c = c.subscribe(list(v));
        }
        if let Some(v) = opts.get("subscribe_pattern") {
            c = c.subscribe_pattern(text(v));
        }
        if let Some(v) = opts.get("assign") {
            let assign: std::collections::BTreeMap<String, Vec<i32>> =
                serde_json::from_str(&text(v)).map_err(|e| {
                    EngineError::invalid(
                        section,
                        "assign",
                        "JSON such as {\"topic\": [0, 1]}",
                        e.to_string(),
                    )
                })?;
            c.assign = Some(assign);
        }
        // Spark's default for a streaming query: only what arrives from now on.
        c = c.starting_offsets(tidewater_connectors::kafka::StartingOffsets::Latest);
        if let Some(v) = opts.get("starting_offsets") {
            c = c.starting_offsets(text(v).parse().map_err(|e: String| {
                EngineError::invalid(
                    section,
                    "starting_offsets",
                    "earliest, latest or JSON offsets",
                    e,
                )
            })?);
        }
        let ending = match opts.get("ending_offsets") {
            Some(v) => text(v).parse().map_err(|e: String| {
                EngineError::invalid(section, "ending_offsets", "latest", e)
            })?,
            None if !stream => EndingOffsets::Latest,
            None => EndingOffsets::Unbounded,
        };
        c = c.ending_offsets(if stream {
            ending
        } else {
            EndingOffsets::Latest
        });
        if let Some(n) = number(opts, "max_offsets_per_trigger", section)? {
            c = c.max_offsets_per_trigger(n);
        }
        if let Some(fail) = flag(opts, "fail_on_data_loss") {
            c = c.fail_on_data_loss(fail);
        }
        for (k, v) in opts {
            match k.strip_prefix("kafka.") {
                Some("group.id") => c = c.group_id(text(v)),
                Some("bootstrap.servers") | None => {}
                Some(property) => c = c.property(property, text(v)),
            }
        }
        if let Some(task) = self.group_task()? {
            c = task.source(c);
        }
        Ok(c)
    }

    fn declared_schema(&self) -> Option<Schema> {
        self.input.declared_schema().map(super::schema::schema)
    }

    /// Records that could not be read go to JSON lines in `<output.path>/_dead_letters`
    /// (readers skip `_` folders), written as the output is (transactionally when
    /// checkpointed); with a Kafka output to the topic `<topic>.dead-letters`; with a
    /// console output to the console. Either way they are counted in the run's
    /// metrics.
    fn dead_letters(&self) -> DeadLetterSink {
        #[cfg(feature = "kafka")]
        if self.output.format == "kafka" {
            use tidewater_connectors::kafka::{KafkaSink, KafkaSinkConfig};
            let opts = options(&self.output.options);
            let servers = opts
                .get("kafka.bootstrap.servers")
                .map(text)
                .unwrap_or_default();
            let topic = format!(
                "{}.dead-letters",
                opts.get("topic").map(text).unwrap_or_default()
            );
            let mut config = KafkaSinkConfig::new(servers, topic).create_topic(1);
            if let Ok(Some(task)) = self.group_task() {
                config = task.sink(config);
            }
            return DeadLetterSink::Kafka(KafkaSink::new(config));
        }
        match &self.output.folder() {
            Some(path) => DeadLetterSink::Files(FileSink::json_lines(
                path.join("_dead_letters"),
                self.file_mode(),
            )),
            None => DeadLetterSink::Console(ConsoleSink::json()),
        }
    }

    fn file_mode(&self) -> FileSinkMode {
        if self.streaming.checkpoint_location.is_some() {
            FileSinkMode::Transactional
        } else {
            FileSinkMode::Direct
        }
    }

    fn sink(&self, rows: Stream<Row>) -> Result<()> {
        let out = &self.output;
        let opts = options(&out.options);
        let path = out.folder().unwrap_or_default();
        let mode = self.file_mode();
        let partition_by: Vec<String> = match opts.get("partition_by") {
            Some(Value::Array(cols)) => cols.iter().map(text).collect(),
            Some(v) => text(v).split(',').map(|c| c.trim().to_string()).collect(),
            None => Vec::new(),
        };
        let section = "output.options";
        match out.format.as_str() {
            "json" | "jsonl" | "csv" | "parquet" => {
                let mut sink = match out.format.as_str() {
                    "csv" => FileSink::csv(path, mode),
                    "parquet" => FileSink::parquet(path, mode),
                    _ => FileSink::json_lines(path, mode),
                }
                .partition_by(partition_by);
                if let Some(n) = number(&opts, "max_records_per_file", section)? {
                    sink = sink.max_records_per_file(n);
                }
                if let Some(n) = number(&opts, "max_file_bytes", section)? {
                    sink = sink.max_file_bytes(n);
                }
                rows.sink(sink);
            }
            #[cfg(feature = "delta")]
            "delta" => {
                use tidewater_connectors::delta::DeltaSink;
                let mut sink = DeltaSink::new(path, mode)
                    .partition_by(partition_by)
                    // tauro's Delta writer merges schemas unless told not to.
                    .merge_schema(flag(&opts, "merge_schema").unwrap_or(true));
                if let Some(n) = number(&opts, "target_file_size", section)? {
                    sink = sink.target_file_size(n);
                }
                rows.sink(sink);
            }
            #[cfg(feature = "kafka")]
            "kafka" => {
                use tidewater_connectors::kafka::{KafkaSink, KafkaSinkConfig};
                let servers = opts
                    .get("kafka.bootstrap.servers")
                    .map(text)
                    .unwrap_or_default();
                let topic = opts.get("topic").map(text).unwrap_or_default();
                let mut config = KafkaSinkConfig::new(servers, topic);
                if let Some(k) = opts.get("key_field") {
                    config = config.key_field(text(k));
                }
                for (k, v) in &opts {
                    if let Some(property) = k.strip_prefix("kafka.") {
                        if property != "bootstrap.servers" {
                            config = config.property(property, text(v));
                        }
                    }
                }
                if let Some(task) = self.group_task()? {
                    config = task.sink(config);
                }
                rows.sink(KafkaSink::new(config));
            }
            "console" => {
                let mut sink = tidewater_connectors::console::SparkConsoleSink::new();
                if let Some(n) = number(&opts, "num_rows", section)? {
                    sink = sink.num_rows(n as usize);
                }
                if let Some(t) = flag(&opts, "truncate") {
                    sink = sink.truncate(t);
                }
                rows.sink(sink);
            }
            other => {
                return Err(EngineError::invalid(
                    "output",
                    "format",
                    "json, csv, parquet, delta or console",
                    other,
                ))
            }
        }
        Ok(())
    }
}

/// A `select` item: `*`, or an expression with an optional `AS` alias (a bare column
/// keeps its name; another expression is named by its text, as Spark names it).
pub(crate) fn select_item(text: &str) -> std::result::Result<(String, Option<Expression>), String> {
    use sqlparser::ast::SelectItem;
    let item = sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect)
        .try_with_sql(text)
        .and_then(|mut p| {
            let item = p.parse_select_item()?;
            p.expect_token(&sqlparser::tokenizer::Token::EOF)?;
            Ok(item)
        })
        .map_err(|e| format!("a SQL expression with an optional AS alias ({e})"))?;
    match item {
        SelectItem::Wildcard(_) => Ok(("*".into(), None)),
        SelectItem::UnnamedExpr(e) => {
            let e = Expression::parse(&e.to_string())?;
            let name = e
                .column()
                .map_or_else(|| e.text().to_string(), String::from);
            Ok((name, Some(e)))
        }
        SelectItem::ExprWithAlias { expr, alias } => {
            Ok((alias.value, Some(Expression::parse(&expr.to_string())?)))
        }
        _ => Err("a column, an expression or `*`".into()),
    }
}

/// The row of the selected items.
fn select(items: &[(String, Option<Expression>)], row: &Row) -> std::result::Result<Row, String> {
    let mut pairs = Vec::with_capacity(items.len());
    for (name, e) in items {
        match e {
            None => pairs.extend(row.to_pairs()),
            Some(e) => pairs.push((name.clone(), e.eval(row)?)),
        }
    }
    Ok(Row::from_pairs(pairs))
}

/// The row with each column set to its expression, in order.
fn with_columns(
    columns: &[(String, Expression)],
    mut row: Row,
) -> std::result::Result<Row, String> {
    for (name, e) in columns {
        let value = e.eval(&row)?;
        let mut pairs = row.to_pairs();
        match pairs.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => pairs.push((name.clone(), value)),
        }
        row = Row::from_pairs(pairs);
    }
    Ok(row)
}

/// A row a transform could not handle, as a dead letter naming the transform.
fn letter(place: &str, error: String, row: &Row) -> DeadLetter {
    let origin = tidewater_engine::dead_letter::Origin::Other {
        description: place.to_string(),
    };
    DeadLetter::new(origin, error, serde_json::to_vec(row).unwrap_or_default())
}

/// A windowed aggregation of `keyed` by `assigner`.
fn windowed<KF, W>(
    keyed: KeyedStream<Row, GroupKey, KF>,
    assigner: W,
    mode: OutputMode,
    aggs: Vec<tidewater_engine::row::agg::AggExpr>,
) -> Stream<Row>
where
    KF: Fn(&Row) -> GroupKey + Clone + Send + Sync + 'static,
    W: WindowAssigner,
{
    keyed.window(assigner).output_mode(mode).agg(aggs)
}

/// Where dead letters go.
enum DeadLetterSink {
    Files(FileSink),
    Console(ConsoleSink),
    #[cfg(feature = "kafka")]
    Kafka(tidewater_connectors::kafka::KafkaSink),
}

impl DeadLetterSink {
    /// The readable rows of `records`; the others go to this sink.
    fn route(self, records: Stream<std::result::Result<Row, DeadLetter>>) -> Stream<Row> {
        match self {
            DeadLetterSink::Files(sink) => records.dead_letters(sink),
            DeadLetterSink::Console(sink) => records.dead_letters(sink),
            #[cfg(feature = "kafka")]
            DeadLetterSink::Kafka(sink) => records.dead_letters(sink),
        }
    }
}
