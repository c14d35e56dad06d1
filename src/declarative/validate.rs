//! Reading a pipeline file and reporting every problem in it at once, each with its
//! path (`input.options.maxFilesPerTrigger`), what was expected and what was found.

use std::fmt;

use serde_json::{Map, Value};
use tidewater_engine::time::parse_duration;

use super::aggregation::parse_aggregation;
use super::expr::Expression;
use super::model::{PipelineFile, Transform};
use super::strict_value::StrictValue;

/// One problem of a pipeline file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `input.options.subscribe`, `transforms[0].window.size`.
    pub path: String,
    /// What was expected there.
    pub expected: String,
    /// What was found.
    pub found: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}`: expected {}, found {}",
            self.path, self.expected, self.found
        )
    }
}

/// Every problem of a pipeline file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PipelineFileErrors {
    /// The file (or `<text>`).
    pub file: String,
    /// The problems, in the order of the file.
    pub problems: Vec<Problem>,
}

impl fmt::Display for PipelineFileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} problem(s)", self.file, self.problems.len())?;
        for (i, p) in self.problems.iter().enumerate() {
            write!(f, "\n  {}. {p}", i + 1)?;
        }
        Ok(())
    }
}

impl PipelineFileErrors {
    /// Each problem's context as fields (operation `validate`, component the file,
    /// field its path), as the engine's errors give theirs.
    pub fn contexts(&self) -> Vec<tidewater_engine::error::ErrorContext> {
        self.problems
            .iter()
            .map(|p| tidewater_engine::error::ErrorContext {
                operation: "validate".into(),
                pipeline: None,
                component: Some(self.file.clone()),
                field: Some(p.path.clone()),
                expected: Some(p.expected.clone()),
                found: Some(p.found.clone()),
                cause: p.to_string(),
            })
            .collect()
    }
}

#[derive(Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These problems, as the errors of `file`.
    pub fn into_errors(self, file: &str) -> PipelineFileErrors {
        PipelineFileErrors {
            file: file.to_string(),
            problems: self.0,
        }
    }

    /// Adds `other`'s problems, their paths below `prefix` (`nodes[1]`).
    pub fn nest(&mut self, prefix: &str, other: Problems) {
        for mut q in other.0 {
            q.path = match q.path.as_str() {
                "(file)" | "" => prefix.to_string(),
                rest => format!("{prefix}.{rest}"),
            };
            self.0.push(q);
        }
    }

    pub fn push(&mut self, path: &str, expected: impl Into<String>, found: impl Into<String>) {
        self.0.push(Problem {
            path: path.to_string(),
            expected: expected.into(),
            found: found.into(),
        });
    }
}

/// A key in Spark's camelCase or snake_case, as snake_case (`maxFilesPerTrigger` ->
/// `max_files_per_trigger`); dotted keys (`kafka.bootstrap.servers`) stay as they are.
pub fn option_key(key: &str) -> String {
    if key.contains('.') {
        return key.to_string();
    }
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A snake_case key spelled as the user spells theirs: camelCase when `like` is.
fn spelled_like(snake: &str, like: &str) -> String {
    if !like.chars().any(|c| c.is_ascii_uppercase()) {
        return snake.to_string();
    }
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The known name nearest to `key`, when it is near enough to be a typo.
fn nearest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let key = option_key(key);
    let near = |k: &str| {
        // A few edits, or a shared start of similar length (`checkpoint_dir`); a long
        // shared prefix alone (`spark.sql.`) is not a typo.
        let edits = strsim::normalized_damerau_levenshtein(&key, k);
        let (short, long) = (key.len().min(k.len()), key.len().max(k.len()));
        let similar_length = short as f64 >= 0.6 * long as f64;
        let score = edits.max(if similar_length {
            strsim::jaro_winkler(&key, k) - 0.1
        } else {
            0.0
        });
        (score >= 0.6).then_some(score)
    };
    known
        .iter()
        .filter_map(|k| near(k).map(|score| (score, *k)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Reports keys of `map` (at `path`) not among `known`, suggesting the nearest.
pub(crate) fn check_keys(
    map: &Map<String, Value>,
    path: &str,
    known: &[&str],
    what: &str,
    p: &mut Problems,
) {
    for key in map.keys() {
        if known.contains(&option_key(key).as_str()) {
            continue;
        }
        // librdkafka's own properties pass through (`kafka.group.id`).
        if known.contains(&"kafka.bootstrap.servers") && key.starts_with("kafka.") {
            continue;
        }
        let at = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let expected = match nearest(key, known) {
            Some(k) => format!("{what} (did you mean `{}`?)", spelled_like(k, key)),
            None => format!("{what}: one of {}", known.join(", ")),
        };
        p.push(&at, expected, format!("unknown key `{key}`"));
    }
}

const TOP: &[&str] = &["name", "input", "transforms", "output", "streaming"];
const INPUT: &[&str] = &[
    "format",
    "path",
    "options",
    "schema",
    "parse_json",
    "json_schema",
    "watermark",
];
const WATERMARK: &[&str] = &["column", "delay"];
const TRANSFORM: &[&str] = &[
    "filter",
    "select",
    "with_column",
    "drop",
    "dedup",
    "call",
    "window",
    "group_by",
    "aggregations",
];
const WINDOW: &[&str] = &["type", "column", "size", "slide", "gap"];
const DEDUP: &[&str] = &["columns", "within_watermark"];
const OUTPUT: &[&str] = &["format", "path", "table_name", "options"];
const STREAMING: &[&str] = &[
    "trigger",
    "output_mode",
    "checkpoint_location",
    "query_name",
    "spark_compatible",
    "delivery",
    "options",
];
const TRIGGER: &[&str] = &["type", "interval"];
const FILE_INPUT_OPTIONS: &[&str] = &[
    "max_files_per_trigger",
    "latest_first",
    "header",
    "sep",
    "delimiter",
    "quote",
    "ready",
    "poll_interval_ms",
];
const DELTA_INPUT_OPTIONS: &[&str] = &[
    "starting_version",
    "version_as_of",
    "max_files_per_trigger",
    "read_change_feed",
    "skip_change_commits",
    "poll_interval_ms",
];
const RATE_OPTIONS: &[&str] = &["rows_per_second", "ramp_up_time", "num_partitions"];
const KAFKA_INPUT_OPTIONS: &[&str] = &[
    "kafka.bootstrap.servers",
    "subscribe",
    "subscribe_pattern",
    "assign",
    "starting_offsets",
    "ending_offsets",
    "max_offsets_per_trigger",
    "fail_on_data_loss",
    "include_headers",
];
const KAFKA_OUTPUT_OPTIONS: &[&str] = &["kafka.bootstrap.servers", "topic", "key_field"];
const FILE_OUTPUT_OPTIONS: &[&str] = &["partition_by", "max_records_per_file", "max_file_bytes"];
const DELTA_OUTPUT_OPTIONS: &[&str] = &["partition_by", "merge_schema", "target_file_size"];
const CONSOLE_OPTIONS: &[&str] = &["num_rows", "truncate"];
const STREAMING_OPTIONS: &[&str] = &["spark.sql.streaming.statefulOperator.allowMultiple"];

/// Input formats and their options.
pub(crate) fn input_options(format: &str) -> Option<&'static [&'static str]> {
    match format {
        "json" | "jsonl" | "csv" | "parquet" => Some(FILE_INPUT_OPTIONS),
        "delta" | "delta_stream" => Some(DELTA_INPUT_OPTIONS),
        "rate" => Some(RATE_OPTIONS),
        "kafka" => Some(KAFKA_INPUT_OPTIONS),
        _ => None,
    }
}

fn output_options(format: &str) -> Option<&'static [&'static str]> {
    match format {
        "json" | "jsonl" | "csv" | "parquet" => Some(FILE_OUTPUT_OPTIONS),
        "delta" => Some(DELTA_OUTPUT_OPTIONS),
        "console" => Some(CONSOLE_OPTIONS),
        "kafka" => Some(KAFKA_OUTPUT_OPTIONS),
        _ => None,
    }
}

/// Replaces `${NAME}` with the environment variable's value; a variable that is not
/// set is a problem naming it.
fn substitute(text: &str, p: &mut Problems) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match std::env::var(name) {
            Ok(v) => out.push_str(&v),
            Err(_) => {
                p.push(
                    &format!("${{{name}}}"),
                    "a set environment variable",
                    "none",
                );
                // Left as written, so that the value's own checks do not pile on.
                out.push_str(&format!("${{{name}}}"));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

pub(crate) fn as_map<'a>(
    v: &'a Value,
    path: &str,
    p: &mut Problems,
) -> Option<&'a Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        Value::Null => None,
        other => {
            p.push(path, "a mapping", kind_of(other));
            None
        }
    }
}

pub(crate) fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) => format!("`{s}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// Checks every key of the document against the model.
fn check_structure(doc: &Value, p: &mut Problems) {
    let Some(top) = as_map(doc, "(file)", p) else {
        return;
    };
    check_keys(top, "", TOP, "a section", p);
    if let Some(input) = top.get("input").and_then(|v| as_map(v, "input", p)) {
        check_keys(input, "input", INPUT, "an input key", p);
        if let Some(w) = input
            .get("watermark")
            .and_then(|v| as_map(v, "input.watermark", p))
        {
            check_keys(w, "input.watermark", WATERMARK, "a watermark key", p);
        }
        let format = input.get("format").and_then(Value::as_str).unwrap_or("");
        if let (Some(opts), Some(known)) = (
            input
                .get("options")
                .and_then(|v| as_map(v, "input.options", p)),
            input_options(format),
        ) {
            check_keys(
                opts,
                "input.options",
                known,
                &format!("a `{format}` option"),
                p,
            );
        }
    }
    if let Some(transforms) = top.get("transforms") {
        match transforms {
            Value::Array(steps) => {
                for (i, step) in steps.iter().enumerate() {
                    let path = format!("transforms[{i}]");
                    if let Some(m) = as_map(step, &path, p) {
                        check_keys(m, &path, TRANSFORM, "a transform key", p);
                        let wpath = format!("{path}.window");
                        if let Some(w) = m.get("window").and_then(|v| as_map(v, &wpath, p)) {
                            check_keys(w, &wpath, WINDOW, "a window key", p);
                        }
                        let dpath = format!("{path}.dedup");
                        if let Some(d) = m.get("dedup").and_then(|v| as_map(v, &dpath, p)) {
                            check_keys(d, &dpath, DEDUP, "a dedup key", p);
                        }
                    }
                }
            }
            Value::Null => {}
            other => p.push("transforms", "a list of transforms", kind_of(other)),
        }
    }
    if let Some(output) = top.get("output").and_then(|v| as_map(v, "output", p)) {
        check_keys(output, "output", OUTPUT, "an output key", p);
        let format = output.get("format").and_then(Value::as_str).unwrap_or("");
        if let (Some(opts), Some(known)) = (
            output
                .get("options")
                .and_then(|v| as_map(v, "output.options", p)),
            output_options(format),
        ) {
            check_keys(
                opts,
                "output.options",
                known,
                &format!("a `{format}` option"),
                p,
            );
        }
    }
    if let Some(streaming) = top.get("streaming").and_then(|v| as_map(v, "streaming", p)) {
        check_keys(streaming, "streaming", STREAMING, "a streaming key", p);
        if let Some(t) = streaming
            .get("trigger")
            .and_then(|v| as_map(v, "streaming.trigger", p))
        {
            check_keys(t, "streaming.trigger", TRIGGER, "a trigger key", p);
        }
        if let Some(o) = streaming
            .get("options")
            .and_then(|v| as_map(v, "streaming.options", p))
        {
            check_keys(
                o,
                "streaming.options",
                STREAMING_OPTIONS,
                "a streaming option",
                p,
            );
        }
    }
}

const YEAR_MS: u128 = 366 * 86_400_000;

/// A duration field: readable, positive and no longer than a year.
fn check_interval(text: &str, path: &str, p: &mut Problems) {
    match parse_duration(text) {
        Ok(d) if d.is_zero() => p.push(path, "a positive interval", format!("`{text}`")),
        Ok(d) if d.as_millis() > YEAR_MS => {
            p.push(path, "an interval of at most a year", format!("`{text}`"))
        }
        Ok(_) => {}
        Err(_) => p.push(
            path,
            "an interval such as `10 seconds` or `5 minutes`",
            format!("`{text}`"),
        ),
    }
}

pub(crate) fn one_of(value: &str, allowed: &[&str], path: &str, p: &mut Problems) {
    if !allowed.contains(&value) {
        let hint = nearest(value, allowed)
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        p.push(
            path,
            format!("one of {}{hint}", allowed.join(", ")),
            format!("`{value}`"),
        );
    }
}

/// One transform: exactly one kind, its expressions parse, its window is whole.
fn check_transform(t: &Transform, i: usize, watermark: bool, p: &mut Problems) {
    let at = |field: &str| format!("transforms[{i}].{field}");
    let kinds: Vec<&str> = [
        ("filter", t.filter.is_some()),
        ("select", t.select.is_some()),
        ("with_column", t.with_column.is_some()),
        ("drop", t.drop.is_some()),
        ("dedup", t.dedup.is_some()),
        ("call", t.call.is_some()),
        ("window", t.window.is_some()),
    ]
    .iter()
    .filter(|(_, set)| *set)
    .map(|(k, _)| *k)
    .collect();
    if kinds.len() != 1 {
        p.push(
            &format!("transforms[{i}]"),
            "exactly one of filter, select, with_column, drop, dedup, call, window",
            if kinds.is_empty() {
                "none".to_string()
            } else {
                kinds.join(", ")
            },
        );
    }
    let expression = |text: &str, path: &str, p: &mut Problems| {
        if let Err(e) = Expression::parse(text) {
            p.push(path, e, format!("`{text}`"));
        }
    };
    if let Some(f) = &t.filter {
        expression(f, &at("filter"), p);
    }
    for (j, item) in t.select.iter().flatten().enumerate() {
        if let Err(e) = super::build::select_item(item) {
            p.push(&at(&format!("select[{j}]")), e, format!("`{item}`"));
        }
    }
    for (name, value) in t.with_column.iter().flatten() {
        let path = at(&format!("with_column.{name}"));
        match value.as_str() {
            Some(text) => expression(text, &path, p),
            None => p.push(&path, "a SQL expression as text", kind_of(value)),
        }
    }
    if t.dedup.as_ref().is_some_and(|d| d.within_watermark) && !watermark {
        p.push(
            "input.watermark",
            "a watermark (event time) for `dedup` with `within_watermark`",
            "none",
        );
    }
    let Some(w) = &t.window else {
        if !t.group_by.is_empty() || !t.aggregations.is_empty() {
            p.push(
                &at("window"),
                "a window for `group_by` and `aggregations`",
                "none",
            );
        }
        return;
    };
    one_of(
        &w.kind,
        &["tumbling", "sliding", "session"],
        &at("window.type"),
        p,
    );
    let need = |field: &str, value: &Option<String>, p: &mut Problems| match value {
        Some(v) => check_interval(v, &at(&format!("window.{field}")), p),
        None => p.push(
            &at(&format!("window.{field}")),
            format!("a {field} for a {} window", w.kind),
            "none",
        ),
    };
    match w.kind.as_str() {
        "tumbling" => need("size", &w.size, p),
        "sliding" => {
            need("size", &w.size, p);
            need("slide", &w.slide, p);
        }
        "session" => need("gap", &w.gap, p),
        _ => {}
    }
    if !watermark {
        p.push(
            "input.watermark",
            "a watermark (event time) for a windowed aggregation",
            "none",
        );
    }
    if t.aggregations.is_empty() {
        p.push(&at("aggregations"), "at least one aggregation", "none");
    }
    for (j, a) in t.aggregations.iter().enumerate() {
        if let Err(e) = parse_aggregation(a) {
            p.push(&at(&format!("aggregations[{j}]")), e, format!("`{a}`"));
        }
    }
}

/// The rules of a well-formed file beyond its shape.
fn check_meaning(file: &PipelineFile, p: &mut Problems) {
    if file.name.trim().is_empty() {
        p.push("name", "a name", "an empty name");
    }
    let input = &file.input;
    if input_options(&input.format).is_none() {
        one_of(
            &input.format,
            &[
                "json",
                "jsonl",
                "csv",
                "parquet",
                "delta",
                "delta_stream",
                "rate",
                "kafka",
            ],
            "input.format",
            p,
        );
    }
    if input.format == "kafka" {
        let opts = super::build::options(&input.options);
        if !opts.contains_key("kafka.bootstrap.servers") {
            p.push(
                "input.options.kafka.bootstrap.servers",
                "the brokers (`host:port`)",
                "none",
            );
        }
        let topics = ["subscribe", "subscribe_pattern", "assign"];
        let given: Vec<&str> = topics
            .iter()
            .copied()
            .filter(|k| opts.contains_key(*k))
            .collect();
        if given.len() != 1 {
            p.push(
                "input.options",
                "exactly one of subscribe, subscribePattern, assign",
                if given.is_empty() {
                    "none".to_string()
                } else {
                    given.join(", ")
                },
            );
        }
    }
    if file.output.format == "kafka" {
        let opts = super::build::options(&file.output.options);
        for (key, what) in [
            ("kafka.bootstrap.servers", "the brokers (`host:port`)"),
            ("topic", "the topic written to"),
        ] {
            if !opts.contains_key(key) {
                p.push(&format!("output.options.{key}"), what, "none");
            }
        }
    }
    let file_based = matches!(
        input.format.as_str(),
        "json" | "jsonl" | "csv" | "parquet" | "delta" | "delta_stream"
    );
    if file_based && input.path.is_none() {
        p.push(
            "input.path",
            format!("a path for the `{}` format", input.format),
            "none",
        );
    }
    for (field, declared) in [
        ("schema", &input.schema),
        ("json_schema", &input.json_schema),
    ] {
        if let Some(Err(problems)) = declared.as_ref().map(super::schema::columns) {
            for (path, expected, found) in problems {
                p.push(&format!("input.{field}{path}"), expected, found);
            }
        }
    }
    if input.parse_json == Some(true) && input.declared_schema().is_none() {
        p.push(
            "input.json_schema",
            "the columns of the JSON values for `parse_json`",
            "none",
        );
    }
    if let Some(w) = &input.watermark {
        check_interval(&w.delay, "input.watermark.delay", p);
    }
    for (i, t) in file.transforms.iter().enumerate() {
        check_transform(t, i, input.watermark.is_some(), p);
    }
    if output_options(&file.output.format).is_none() {
        one_of(
            &file.output.format,
            &[
                "json", "jsonl", "csv", "parquet", "delta", "console", "kafka",
            ],
            "output.format",
            p,
        );
    }
    let named_table = file.output.format == "delta" && file.output.table_name.is_some();
    if !matches!(file.output.format.as_str(), "console" | "kafka")
        && file.output.path.is_none()
        && !named_table
    {
        p.push(
            "output.path",
            format!("a path for the `{}` format", file.output.format),
            "none",
        );
    }
    let s = &file.streaming;
    if let Some(t) = &s.trigger {
        one_of(
            &t.kind,
            &["processing_time", "once", "available_now", "continuous"],
            "streaming.trigger.type",
            p,
        );
        match (&t.interval, t.kind.as_str()) {
            (Some(i), _) => check_interval(i, "streaming.trigger.interval", p),
            (None, "processing_time" | "continuous") => p.push(
                "streaming.trigger.interval",
                format!("an interval for a `{}` trigger", t.kind),
                "none",
            ),
            _ => {}
        }
    }
    if let Some(mode) = &s.output_mode {
        one_of(
            mode,
            &["append", "update", "complete"],
            "streaming.output_mode",
            p,
        );
        check_output_mode(file, mode, p);
    }
    check_continuous(file, p);
    if let Some(d) = &s.delivery {
        one_of(
            d,
            &["at_most_once", "at_least_once", "exactly_once"],
            "streaming.delivery",
            p,
        );
    }
}

/// The output modes the query allows, as Spark decides them: complete mode needs an
/// aggregation (the result table), and Spark refuses update mode for session windows.
fn check_output_mode(file: &PipelineFile, mode: &str, p: &mut Problems) {
    let windows = || file.transforms.iter().filter_map(|t| t.window.as_ref());
    if mode == "complete" && windows().next().is_none() {
        p.push(
            "streaming.output_mode",
            "append or update for a query without a windowed aggregation (complete mode emits the aggregation's whole result table)",
            "`complete`",
        );
    }
    if mode == "update" && file.streaming.spark_compatible && windows().any(|w| w.kind == "session")
    {
        p.push(
            "streaming.output_mode",
            "append or complete for a session window with `spark_compatible` (Spark refuses update mode for session windows)",
            "`update`",
        );
    }
}

/// Spark's continuous processing runs map-like queries only: with `spark_compatible`
/// a `continuous` trigger refuses windows and dedup (Tidewater itself processes
/// records continuously either way).
fn check_continuous(file: &PipelineFile, p: &mut Problems) {
    let continuous = file
        .streaming
        .trigger
        .as_ref()
        .is_some_and(|t| t.kind == "continuous");
    if !(continuous && file.streaming.spark_compatible) {
        return;
    }
    for (i, t) in file.transforms.iter().enumerate() {
        let kind = match (&t.window, &t.dedup) {
            (Some(_), _) => "a windowed aggregation",
            (_, Some(_)) => "a dedup",
            _ => continue,
        };
        p.push(
            &format!("transforms[{i}]"),
            "map-like transforms (filter, select, with_column, drop, call) with a `continuous` trigger and `spark_compatible`, as Spark's continuous processing",
            kind,
        );
    }
}

/// A transform step given as a bare name (`- parse_and_enrich`) as `{call: name}`.
fn named_steps(mut doc: Value) -> Value {
    if let Some(Value::Array(steps)) = doc.get_mut("transforms") {
        for step in steps.iter_mut() {
            if let Value::String(name) = step {
                let mut call = Map::new();
                call.insert("call".into(), Value::String(std::mem::take(name)));
                *step = Value::Object(call);
            }
        }
    }
    doc
}

/// Reads a pipeline file's text (YAML, or JSON when `json`), with `${ENV}`
/// substitution; every problem at once.
pub fn parse(text: &str, file: &str, json: bool) -> Result<PipelineFile, PipelineFileErrors> {
    let mut p = Problems::default();
    let parsed = read_document(text, json, &mut p).and_then(|doc| node(doc, &mut p));
    match parsed {
        Some(parsed) if p.0.is_empty() => Ok(parsed),
        _ => Err(p.into_errors(file)),
    }
}

/// The document of a pipeline file's text, `${ENV}` substituted, repeated keys refused.
pub(crate) fn read_document(text: &str, json: bool, p: &mut Problems) -> Option<Value> {
    let text = substitute(text, p);
    let doc = if json {
        serde_json::from_str::<StrictValue>(&text).map_err(|e| e.to_string())
    } else {
        serde_norway::from_str::<StrictValue>(&text).map_err(|e| e.to_string())
    };
    match doc {
        Ok(d) => Some(d.0),
        Err(e) => {
            p.push("(file)", if json { "JSON" } else { "YAML" }, e);
            None
        }
    }
}

/// One node (`name`, `input`, `transforms`, `output`, `streaming`) of a document;
/// its problems go to `p`.
pub(crate) fn node(doc: Value, p: &mut Problems) -> Option<PipelineFile> {
    let doc = named_steps(doc);
    check_structure(&doc, p);
    match serde_path_to_error::deserialize::<_, PipelineFile>(&doc) {
        Ok(parsed) => {
            check_meaning(&parsed, p);
            Some(parsed)
        }
        Err(e) => {
            // The shape was wrong somewhere the key check does not see (a missing
            // section, a list where a text belongs): report it with the rest.
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            if !p.0.iter().any(|q| path.starts_with(&q.path)) {
                p.push(
                    if path == "." { "(file)" } else { &path },
                    "the pipeline file's shape",
                    inner,
                );
            }
            None
        }
    }
}

/// Reads the pipeline file at `path` (`.json` as JSON, anything else as YAML).
pub fn load(path: &std::path::Path) -> Result<PipelineFile, PipelineFileErrors> {
    let (text, name, json) = read_file(path)?;
    parse(&text, &name, json)
}

/// A pipeline file's text, its name for messages, and whether it is JSON (`.json`).
pub(crate) fn read_file(
    path: &std::path::Path,
) -> Result<(String, String, bool), PipelineFileErrors> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PipelineFileErrors {
        file: name.clone(),
        problems: vec![Problem {
            path: "(file)".into(),
            expected: "a readable pipeline file".into(),
            found: e.to_string(),
        }],
    })?;
    let json = path.extension().is_some_and(|e| e == "json");
    Ok((text, name, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"name: orders
input:
  format: json
  path: /data/in
  options: {maxFilesPerTrigger: 1}
  schema: {key: string, value: double, ts: long}
  watermark: {column: ts, delay: "10 seconds"}
transforms:
  - filter: "value > 0"
  - window: {type: tumbling, column: ts, size: "10 seconds"}
    group_by: [key]
    aggregations: ["count(*) AS n", "sum(value) AS total"]
output:
  format: json
  path: /data/out
streaming:
  trigger: {type: processing_time, interval: "5 seconds"}
  output_mode: append
  checkpoint_location: /data/cp
"#;

    /// (what is changed, replaced by, every problem expected)
    type Case = (&'static str, &'static str, Vec<&'static str>);

    #[test]
    fn every_problem_of_a_file_is_named_with_its_path() {
        assert!(parse(GOOD, "good.yaml", false).is_ok());
        let cases: Vec<Case> = vec![
            ("name: orders", "name: \"\"", vec!["`name`: expected a name, found an empty name"]),
            ("name: orders\n", "name: orders\nversion: 2\n", vec!["`version`: expected a section: one of name, input, transforms, output, streaming, found unknown key `version`"]),
            ("  format: json\n  path: /data/in", "  fromat: json\n  path: /data/in", vec!["`input.fromat`: expected an input key (did you mean `format`?), found unknown key `fromat`", "`input`: expected the pipeline file's shape, found missing field `format`"]),
            ("format: json\n  path: /data/in", "format: xml\n  path: /data/in", vec!["`input.format`: expected one of json, jsonl, csv, parquet, delta, delta_stream, rate, kafka, found `xml`"]),
            ("  path: /data/in\n", "", vec!["`input.path`: expected a path for the `json` format, found none"]),
            ("{maxFilesPerTrigger: 1}", "{maxFilesPerTriger: 1}", vec!["`input.options.maxFilesPerTriger`: expected a `json` option (did you mean `maxFilesPerTrigger`?), found unknown key `maxFilesPerTriger`"]),
            ("{maxFilesPerTrigger: 1}", "{multiLine: true}", vec!["`input.options.multiLine`: expected a `json` option: one of max_files_per_trigger, latest_first, header, sep, delimiter, quote, ready, poll_interval_ms, found unknown key `multiLine`"]),
            ("value: double", "value: decimal", vec!["`input.schema.value`: expected a type: string, long, int, double, float, boolean, timestamp, found `decimal`"]),
            ("delay: \"10 seconds\"", "delay: \"ten seconds\"", vec!["`input.watermark.delay`: expected an interval such as `10 seconds` or `5 minutes`, found `ten seconds`"]),
            ("{column: ts, delay", "{colum: ts, delay", vec!["`input.watermark.colum`: expected a watermark key (did you mean `column`?), found unknown key `colum`", "`input.watermark`: expected the pipeline file's shape, found missing field `column`"]),
            ("delay: \"10 seconds\"}", "delay: \"400 days\"}", vec!["`input.watermark.delay`: expected an interval of at most a year, found `400 days`"]),
            ("  - filter: \"value > 0\"\n", "  - filter: \"value >\"\n", vec!["`transforms[0].filter`: expected a SQL expression (sql parser error: Expected: an expression, found: EOF), found `value >`"]),
            ("  - filter: \"value > 0\"\n", "  - filter: \"median(value) > 0\"\n", vec!["`transforms[0].filter`: expected a supported function: lower, upper, length, abs, coalesce, concat, round (`median` is not), found `median(value) > 0`"]),
            ("  - filter: \"value > 0\"\n", "  - filter: \"value > 0\"\n    drop: [key]\n", vec!["`transforms[0]`: expected exactly one of filter, select, with_column, drop, dedup, call, window, found filter, drop"]),
            ("  - filter: \"value > 0\"\n", "  - fliter: \"value > 0\"\n", vec!["`transforms[0].fliter`: expected a transform key (did you mean `filter`?), found unknown key `fliter`", "`transforms[0]`: expected exactly one of filter, select, with_column, drop, dedup, call, window, found none"]),
            ("type: tumbling", "type: hopping", vec!["`transforms[1].window.type`: expected one of tumbling, sliding, session, found `hopping`"]),
            ("type: tumbling, column: ts, size: \"10 seconds\"", "type: sliding, column: ts, size: \"10 seconds\"", vec!["`transforms[1].window.slide`: expected a slide for a sliding window, found none"]),
            ("type: tumbling, column: ts, size: \"10 seconds\"", "type: session, column: ts", vec!["`transforms[1].window.gap`: expected a gap for a session window, found none"]),
            ("size: \"10 seconds\"}", "size: \"0 seconds\"}", vec!["`transforms[1].window.size`: expected a positive interval, found `0 seconds`"]),
            ("\"sum(value) AS total\"", "\"median(value) AS m\"", vec!["`transforms[1].aggregations[1]`: expected an aggregation: count, sum, avg, min or max of a column (`median` is not one), found `median(value) AS m`"]),
            ("aggregations: [\"count(*) AS n\", \"sum(value) AS total\"]", "aggregations: []", vec!["`transforms[1].aggregations`: expected at least one aggregation, found none"]),
            ("  watermark: {column: ts, delay: \"10 seconds\"}\n", "", vec!["`input.watermark`: expected a watermark (event time) for a windowed aggregation, found none"]),
            ("  format: json\n  path: /data/out", "  format: avro\n  path: /data/out", vec!["`output.format`: expected one of json, jsonl, csv, parquet, delta, console, kafka, found `avro`"]),
            ("  path: /data/out\n", "", vec!["`output.path`: expected a path for the `json` format, found none"]),
            ("  path: /data/out\n", "  path: /data/out\n  options: {maxRecordsPerFil: 10}\n", vec!["`output.options.maxRecordsPerFil`: expected a `json` option (did you mean `maxRecordsPerFile`?), found unknown key `maxRecordsPerFil`"]),
            ("type: processing_time, interval: \"5 seconds\"", "type: processing_time", vec!["`streaming.trigger.interval`: expected an interval for a `processing_time` trigger, found none"]),
            ("type: processing_time, interval: \"5 seconds\"", "type: sometimes", vec!["`streaming.trigger.type`: expected one of processing_time, once, available_now, continuous, found `sometimes`"]),
            ("interval: \"5 seconds\"", "interval: \"-5 seconds\"", vec!["`streaming.trigger.interval`: expected an interval such as `10 seconds` or `5 minutes`, found `-5 seconds`"]),
            ("output_mode: append", "output_mode: apend", vec!["`streaming.output_mode`: expected one of append, update, complete (did you mean `append`?), found `apend`"]),
            ("output_mode: append", "output_mode: append\n  delivery: twice", vec!["`streaming.delivery`: expected one of at_most_once, at_least_once, exactly_once, found `twice`"]),
            ("output_mode: append", "output_mode: append\n  checkpoint_dir: /x", vec!["`streaming.checkpoint_dir`: expected a streaming key (did you mean `checkpoint_location`?), found unknown key `checkpoint_dir`"]),
            ("output_mode: append", "output_mode: append\n  options: {spark.sql.shuffle.partitions: 4}", vec!["`streaming.options.spark.sql.shuffle.partitions`: expected a streaming option: one of spark.sql.streaming.statefulOperator.allowMultiple, found unknown key `spark.sql.shuffle.partitions`"]),
            ("path: /data/in", "path: ${TIDEWATER_SURELY_UNSET_VAR}", vec!["`${TIDEWATER_SURELY_UNSET_VAR}`: expected a set environment variable, found none"]),
            ("  format: json\n  path: /data/in\n  options: {maxFilesPerTrigger: 1}", "  format: kafka\n  options: {subscribe: a, assign: \"{}\"}", vec!["`input.options.kafka.bootstrap.servers`: expected the brokers (`host:port`), found none", "`input.options`: expected exactly one of subscribe, subscribePattern, assign, found subscribe, assign"]),
            ("name: orders", "name: [a, b]", vec!["`name`: expected the pipeline file's shape, found invalid type: sequence, expected a string"]),
            ("  - filter: \"value > 0\"\n", "  - select: [\"value +\"]\n", vec!["`transforms[0].select[0]`: expected a SQL expression with an optional AS alias (sql parser error: Expected: an expression, found: EOF), found `value +`"]),
            ("  - filter: \"value > 0\"\n", "  - with_column: {x: 5}\n", vec!["`transforms[0].with_column.x`: expected a SQL expression as text, found `5`"]),
            ("  - filter: \"value > 0\"\n", "  - filter: \"value > 0\"\n    group_by: [key]\n", vec!["`transforms[0].window`: expected a window for `group_by` and `aggregations`, found none"]),
            ("type: tumbling, column: ts, size: \"10 seconds\"", "type: sliding, column: ts, slide: \"5 seconds\"", vec!["`transforms[1].window.size`: expected a size for a sliding window, found none"]),
            ("  format: json\n  path: /data/out", "  format: delta", vec!["`output.path`: expected a path for the `delta` format, found none"]),
            ("  format: json\n  path: /data/out", "  format: json\n  table_name: events", vec!["`output.path`: expected a path for the `json` format, found none"]),
            ("  format: json\n  path: /data/out", "  format: kafka", vec!["`output.options.kafka.bootstrap.servers`: expected the brokers (`host:port`), found none", "`output.options.topic`: expected the topic written to, found none"]),
            ("  format: json\n  path: /data/in\n  options: {maxFilesPerTrigger: 1}\n  schema: {key: string, value: double, ts: long}", "  format: kafka\n  options: {kafka.bootstrap.servers: \"b:9092\", subscribe: t}\n  parse_json: true", vec!["`input.json_schema`: expected the columns of the JSON values for `parse_json`, found none"]),
            ("  schema: {key: string, value: double, ts: long}", "  json_schema: \"key STRING, value, ts BIGINT\"", vec!["`input.json_schema[1]`: expected `name TYPE` (Spark's DDL, such as `user STRING, ts BIGINT`), found `value`"]),
            ("value: double", "value: 5", vec!["`input.schema.value`: expected a type: string, long, int, double, float, boolean, timestamp, found `5`"]),
            ("interval: \"5 seconds\"", "interval: \"2 years\"", vec!["`streaming.trigger.interval`: expected an interval such as `10 seconds` or `5 minutes`, found `2 years`"]),
            ("  trigger: {type: processing_time, interval: \"5 seconds\"}", "  trigger: [processing_time]", vec!["`streaming.trigger`: expected a mapping, found a list", "`streaming.trigger.interval`: expected an interval for a `processing_time` trigger, found none"]),
            ("output_mode: append", "output_mode: append\n  delivery: exactly-once", vec!["`streaming.delivery`: expected one of at_most_once, at_least_once, exactly_once (did you mean `exactly_once`?), found `exactly-once`"]),
            ("output_mode: append", "output_mode: Update", vec!["`streaming.output_mode`: expected one of append, update, complete (did you mean `update`?), found `Update`"]),
            ("type: tumbling", "type: Tumbling", vec!["`transforms[1].window.type`: expected one of tumbling, sliding, session (did you mean `tumbling`?), found `Tumbling`"]),
            ("\"count(*) AS n\"", "\"count(*) AS\"", vec!["`transforms[1].aggregations[0]`: expected an aggregation such as `count(*) AS n` or `sum(value) AS total`, found `count(*) AS`"]),
            ("delay: \"10 seconds\"", "delay: \"10\"", vec!["`input.watermark.delay`: expected an interval such as `10 seconds` or `5 minutes`, found `10`"]),
            ("size: \"10 seconds\"}", "size: \"10 seconds\", slide_ms: 5}", vec!["`transforms[1].window.slide_ms`: expected a window key (did you mean `slide`?), found unknown key `slide_ms`"]),
            ("  trigger: {type: processing_time, interval: \"5 seconds\"}", "  trigger: {type: continuous, interval: \"1 second\"}\n  spark_compatible: true", vec!["`transforms[1]`: expected map-like transforms (filter, select, with_column, drop, call) with a `continuous` trigger and `spark_compatible`, as Spark's continuous processing, found a windowed aggregation"]),
            ("input:\n", "input:\n  parse_jsn: true\n", vec!["`input.parse_jsn`: expected an input key (did you mean `parse_json`?), found unknown key `parse_jsn`"]),
            ("  - filter: \"value > 0\"\n", "  - dedup: {columns: [key, ts], within_watermark: yes, keep: first}\n", vec!["`transforms[0].dedup.keep`: expected a dedup key: one of columns, within_watermark, found unknown key `keep`", "`transforms[0].dedup.within_watermark`: expected the pipeline file's shape, found invalid type: string \"yes\", expected a boolean"]),
            ("  - filter: \"value > 0\"\n", "  - dedup: {colums: [key]}\n", vec!["`transforms[0].dedup.colums`: expected a dedup key (did you mean `columns`?), found unknown key `colums`"]),
            ("  watermark: {column: ts, delay: \"10 seconds\"}\ntransforms:\n  - filter: \"value > 0\"\n  - window: {type: tumbling, column: ts, size: \"10 seconds\"}\n    group_by: [key]\n    aggregations: [\"count(*) AS n\", \"sum(value) AS total\"]\n", "transforms:\n  - dedup: {columns: [key], within_watermark: true}\n", vec!["`input.watermark`: expected a watermark (event time) for `dedup` with `within_watermark`, found none"]),
            ("  - filter: \"value > 0\"\n", "  - dedup: {columns: [key]}\n    filter: \"value > 0\"\n", vec!["`transforms[0]`: expected exactly one of filter, select, with_column, drop, dedup, call, window, found filter, dedup"]),
            ("name: orders\n", "name: orders\nname: other\n", vec!["`(file)`: expected YAML, found key `name` twice at the top level (a key may appear once in a mapping)"]),
            ("  format: json\n  path: /data/in\n", "  format: json\n  path: /data/in\n  format: csv\n", vec!["`(file)`: expected YAML, found input: key `format` twice in `input` (a key may appear once in a mapping) at line 3 column 3"]),
        ];
        for (i, (from, to, expected)) in cases.into_iter().enumerate() {
            assert!(GOOD.contains(from), "case {i}: `{from}` is not in the file");
            let text = GOOD.replacen(from, to, 1);
            let problems: Vec<String> = match parse(&text, "f.yaml", false) {
                Ok(_) => Vec::new(),
                Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
            };
            assert_eq!(problems, expected, "case {i}: {from} -> {to}");
        }
    }

    #[test]
    fn output_modes_are_those_the_query_allows() {
        let session = GOOD.replace(
            "type: tumbling, column: ts, size: \"10 seconds\"",
            "type: session, column: ts, gap: \"5 seconds\"",
        );
        let no_window = GOOD.replace("  - window: {type: tumbling, column: ts, size: \"10 seconds\"}\n    group_by: [key]\n    aggregations: [\"count(*) AS n\", \"sum(value) AS total\"]\n", "");
        let spark_update = "output_mode: update\n  spark_compatible: true";
        // (file, output mode line, the problem or none)
        let table = [
            (GOOD.to_string(), spark_update, None),
            (session.clone(), "output_mode: update", None),
            (session.clone(), "output_mode: complete\n  spark_compatible: true", None),
            (session, spark_update, Some("`streaming.output_mode`: expected append or complete for a session window with `spark_compatible` (Spark refuses update mode for session windows), found `update`")),
            (no_window.clone(), "output_mode: update", None),
            (no_window, "output_mode: complete", Some("`streaming.output_mode`: expected append or update for a query without a windowed aggregation (complete mode emits the aggregation's whole result table), found `complete`")),
        ];
        for (i, (file, mode, problem)) in table.into_iter().enumerate() {
            let text = file.replace("output_mode: append", mode);
            let found = parse(&text, "f.yaml", false)
                .err()
                .map(|e| e.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>());
            assert_eq!(found, problem.map(|p| vec![p.to_string()]), "row {i}");
        }
    }

    #[test]
    fn problems_of_several_sections_come_together_in_file_order() {
        let text = GOOD
            .replace("{maxFilesPerTrigger: 1}", "{maxFilesPerTriger: 1}")
            .replace("size: \"10 seconds\"}", "size: \"0 seconds\"}")
            .replace("output_mode: append", "output_mode: apend");
        let e = parse(&text, "f.yaml", false).unwrap_err();
        assert_eq!(e.problems.len(), 3, "{e}");
        let c = &e.contexts()[1];
        assert_eq!(
            (
                c.operation.as_str(),
                c.component.as_deref(),
                c.field.as_deref()
            ),
            (
                "validate",
                Some("f.yaml"),
                Some("transforms[1].window.size")
            )
        );
        assert_eq!(c.expected.as_deref(), Some("a positive interval"));
        assert_eq!(c.found.as_deref(), Some("`0 seconds`"));
        assert!(
            e.to_string()
                .starts_with("f.yaml: 3 problem(s)\n  1. `input.options.maxFilesPerTriger`"),
            "{e}"
        );
    }
}
