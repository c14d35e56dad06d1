//! The pipeline file: tauro's streaming node (`input`, `transforms`, `output`,
//! `streaming`) as Rust types.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One pipeline file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineFile {
    /// The pipeline's name (metrics, errors, checkpoints).
    pub name: String,
    /// Where records come from.
    pub input: Input,
    /// What is done to them, in order.
    #[serde(default)]
    pub transforms: Vec<Transform>,
    /// Where results go.
    pub output: Output,
    /// How the query runs.
    #[serde(default)]
    pub streaming: Streaming,
    /// Set when this copy of the file is built as one task of a consumer group
    /// (`tidewater run --group`): never read from a file.
    #[serde(skip)]
    pub(crate) task: Option<GroupTaskOf>,
}

/// The group task a pipeline is built for: the group and the input partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupTaskOf {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    /// Producers of the topic when it is the group's repartition topic.
    pub shuffle_producers: Option<usize>,
}

/// The `input` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// `json`, `csv`, `parquet`, `delta`/`delta_stream`, `rate`.
    pub format: String,
    /// A folder or file (file formats, Delta).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Format options, in Spark's spelling (`maxFilesPerTrigger`) or snake_case.
    #[serde(default)]
    pub options: Map<String, Value>,
    /// Declared column types for JSON lines, CSV and Kafka JSON values: a mapping
    /// (`{key: string, value: double, ts: long}`), Spark DDL text (`"key STRING, ts
    /// BIGINT"`) or a `StructType`'s JSON.
    #[serde(default)]
    pub schema: Option<Value>,
    /// Kafka: parse each value as a JSON object into columns (tauro's `parse_json`);
    /// otherwise rows carry Spark's Kafka columns (`key`, `value`, `topic`, ...).
    /// Defaults to true when a schema is declared.
    #[serde(default)]
    pub parse_json: Option<bool>,
    /// The columns of the JSON values (tauro's `json_schema`), in any form `schema`
    /// takes; `schema` is the same thing.
    #[serde(default)]
    pub json_schema: Option<Value>,
    /// Event time and its watermark.
    #[serde(default)]
    pub watermark: Option<WatermarkSpec>,
}

impl Input {
    /// The declared columns: `json_schema`, else `schema`.
    pub fn declared_schema(&self) -> Option<&Value> {
        self.json_schema.as_ref().or(self.schema.as_ref())
    }

    /// Whether Kafka values are parsed as JSON (`parse_json`, by default when a
    /// schema is declared).
    pub fn parses_json(&self) -> bool {
        self.parse_json
            .unwrap_or_else(|| self.declared_schema().is_some())
    }
}

/// `withWatermark(column, delay)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatermarkSpec {
    /// The event-time column (epoch ms or ISO-8601 text).
    pub column: String,
    /// How far behind the newest event time the watermark trails (`"10 seconds"`).
    pub delay: String,
}

/// One step of `transforms`: exactly one of `filter`, `select`, `with_column`, `drop`,
/// `dedup`, `call` (a transform registered by name from Rust; a bare name as the step,
/// `- parse_and_enrich`, means the same), or a windowed aggregation (`window` with
/// `group_by` and `aggregations`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    /// Keeps the rows for which this SQL boolean expression is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The output columns as SQL expressions (`"price * qty AS total"`, `"*"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<Vec<String>>,
    /// Columns added or replaced, each a SQL expression (`{total: "price * qty"}`),
    /// in order: a later one sees the earlier ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_column: Option<Map<String, Value>>,
    /// Columns removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<Vec<String>>,
    /// Drops rows whose columns repeat an earlier row's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<DedupSpec>,
    /// A transform registered from Rust under this name
    /// ([`TransformRegistry`](super::TransformRegistry)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// The window of a windowed aggregation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowSpec>,
    /// Grouping columns besides the window.
    #[serde(default)]
    pub group_by: Vec<String>,
    /// `"count(*) AS n"`, `"sum(value) AS total"`, `"avg(value)"`, `"min(ts)"`,
    /// `"max(ts)"`.
    #[serde(default)]
    pub aggregations: Vec<String>,
}

/// `dedup: {columns, within_watermark}`: Spark's `dropDuplicates(columns)`, or with
/// `within_watermark` its `dropDuplicatesWithinWatermark(columns)`.
///
/// Rows at or behind the watermark are dropped as late (their own event time, not a
/// window's). A row's columns are remembered until the watermark passes its event time
/// when the event-time column is among them (or `columns` is empty: the whole row), for
/// the watermark delay longer with `within_watermark`, and for the whole run otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupSpec {
    /// The columns that make two rows duplicates (empty: every column).
    #[serde(default)]
    pub columns: Vec<String>,
    /// Spark's `dropDuplicatesWithinWatermark`: columns are remembered for the
    /// watermark delay after the first row's event time (needs `input.watermark`).
    #[serde(default)]
    pub within_watermark: bool,
}

/// A window of a windowed aggregation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpec {
    /// `tumbling`, `sliding` or `session`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The event-time column (the watermark's).
    #[serde(default)]
    pub column: Option<String>,
    /// Window length (tumbling, sliding).
    #[serde(default)]
    pub size: Option<String>,
    /// Slide (sliding).
    #[serde(default)]
    pub slide: Option<String>,
    /// Inactivity gap (session).
    #[serde(default)]
    pub gap: Option<String>,
}

/// The `output` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// `json`, `csv`, `parquet`, `delta`, `console`.
    pub format: String,
    /// A folder (file formats, Delta).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// A Delta table by name instead of `path` (tauro's `table_name`): the folder
    /// `spark-warehouse/<table_name>`, where Spark's default warehouse keeps it.
    #[serde(default)]
    pub table_name: Option<String>,
    /// Format options.
    #[serde(default)]
    pub options: Map<String, Value>,
}

impl Output {
    /// The folder written: `path`, else the named table's folder.
    pub fn folder(&self) -> Option<PathBuf> {
        self.path.clone().or_else(|| {
            self.table_name
                .as_ref()
                .map(|t| PathBuf::from("spark-warehouse").join(t))
        })
    }
}

/// The `streaming` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Streaming {
    /// When micro-batches run.
    #[serde(default)]
    pub trigger: Option<TriggerSpec>,
    /// `append` (default), `update` or `complete`.
    #[serde(default)]
    pub output_mode: Option<String>,
    /// Where checkpoints are kept.
    #[serde(default)]
    pub checkpoint_location: Option<PathBuf>,
    /// The query's name.
    #[serde(default)]
    pub query_name: Option<String>,
    /// Spark's micro-batch semantics: one micro-batch per trigger, Spark's rows.
    #[serde(default)]
    pub spark_compatible: bool,
    /// `at_most_once`, `at_least_once` or `exactly_once` (default with a
    /// checkpoint location: exactly-once).
    #[serde(default)]
    pub delivery: Option<String>,
    /// Spark's streaming options (`spark.sql.streaming.statefulOperator.allowMultiple`).
    #[serde(default)]
    pub options: Map<String, Value>,
}

/// `trigger: {type, interval}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerSpec {
    /// `processing_time`, `once`, `available_now` or `continuous`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The interval of `processing_time` (and `continuous`'s checkpoint interval).
    #[serde(default)]
    pub interval: Option<String>,
}
