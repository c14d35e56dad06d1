//! Pipeline files with many nodes, as tauro's streaming pipelines are written:
//! `type: streaming`, `nodes: [...]`, and a `streaming` section whose settings every
//! node takes unless it sets its own. A file with a single node (no `nodes`) is a
//! group of one.

use std::path::Path;

use serde_json::{Map, Value};

use super::model::PipelineFile;
use super::validate::{
    as_map, check_keys, kind_of, node, one_of, read_document, read_file, PipelineFileErrors,
    Problems,
};

/// The nodes of a pipeline file, run by a [`PipelineManager`](super::PipelineManager)
/// at most `max_concurrent_pipelines` at once.
///
/// ```
/// use tidewater::declarative::parse_pipelines;
///
/// let yaml = r#"
/// type: streaming
/// name: ingestion
/// max_concurrent_pipelines: 2
/// streaming: {trigger: {type: available_now}, output_mode: append}
/// nodes:
///   - {name: a, input: {format: rate}, output: {format: console}}
///   - name: b
///     input: {format: rate}
///     output: {format: console}
///     streaming: {trigger: {type: processing_time, interval: "5 seconds"}}
/// "#;
/// let group = parse_pipelines(yaml, "ingestion.yaml", false).unwrap();
/// assert_eq!(group.max_concurrent_pipelines, 2);
/// let triggers: Vec<&str> = group.nodes.iter().map(|n| n.streaming.trigger.as_ref().unwrap().kind.as_str()).collect();
/// assert_eq!(triggers, ["available_now", "processing_time"]);
///
/// let bad = yaml.replace("type: streaming", "type: batch").replace("name: b", "name: a");
/// let problems: Vec<String> = parse_pipelines(&bad, "f.yaml", false).unwrap_err().problems.iter().map(|p| p.to_string()).collect();
/// assert_eq!(problems, [
///     "`type`: expected one of streaming, hybrid, found `batch`",
///     "`nodes[1].name`: expected a name no other node has, found `a`",
/// ]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineGroup {
    /// The pipeline's name (the file's `name`, else its one node's).
    pub name: String,
    /// How many nodes run at once (default: all of them).
    pub max_concurrent_pipelines: usize,
    /// The nodes, in file order.
    pub nodes: Vec<PipelineFile>,
}

const GROUP: &[&str] = &[
    "type",
    "name",
    "nodes",
    "streaming",
    "max_concurrent_pipelines",
];

/// Reads a pipeline file's text with one node or many; every problem at once, a
/// node's under `nodes[i]`.
pub fn parse_pipelines(
    text: &str,
    file: &str,
    json: bool,
) -> Result<PipelineGroup, PipelineFileErrors> {
    let mut p = Problems::default();
    let group = read_document(text, json, &mut p).and_then(|doc| match doc.get("nodes") {
        Some(_) => group(&doc, &mut p),
        None => node(doc, &mut p).map(|n| PipelineGroup {
            name: n.name.clone(),
            max_concurrent_pipelines: 1,
            nodes: vec![n],
        }),
    });
    match group {
        Some(g) if p.is_empty() => Ok(g),
        _ => Err(p.into_errors(file)),
    }
}

/// Reads the pipeline file at `path` (`.json` as JSON, anything else as YAML), with
/// one node or many.
pub fn load_pipelines(path: &Path) -> Result<PipelineGroup, PipelineFileErrors> {
    let (text, name, json) = read_file(path)?;
    parse_pipelines(&text, &name, json)
}

fn group(doc: &Value, p: &mut Problems) -> Option<PipelineGroup> {
    let top = as_map(doc, "(file)", p)?;
    check_keys(top, "", GROUP, "a pipeline key", p);
    match top.get("type") {
        Some(Value::String(t)) => one_of(t, &["streaming", "hybrid"], "type", p),
        Some(other) => p.push("type", "streaming or hybrid", kind_of(other)),
        None => {}
    }
    let limit = match top.get("max_concurrent_pipelines") {
        None => None,
        Some(v) => match v.as_u64().filter(|n| *n > 0) {
            Some(n) => Some(n as usize),
            None => {
                p.push(
                    "max_concurrent_pipelines",
                    "a whole number >= 1",
                    kind_of(v),
                );
                None
            }
        },
    };
    let defaults = top
        .get("streaming")
        .and_then(|s| as_map(s, "streaming", p))
        .cloned()
        .unwrap_or_default();
    let nodes = match top.get("nodes") {
        Some(Value::Array(nodes)) if !nodes.is_empty() => nodes,
        Some(Value::Array(_)) => {
            p.push("nodes", "at least one node", "an empty list");
            return None;
        }
        other => {
            let found = other.map_or_else(|| "none".to_string(), kind_of);
            p.push("nodes", "a list of nodes", found);
            return None;
        }
    };
    let mut parsed = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let mut own = Problems::default();
        if let Some(n) = node(with_defaults(n, &defaults), &mut own) {
            parsed.push((i, n));
        }
        p.nest(&format!("nodes[{i}]"), own);
    }
    check_distinct(&parsed, p);
    let nodes: Vec<PipelineFile> = parsed.into_iter().map(|(_, n)| n).collect();
    let name = match top.get("name").and_then(Value::as_str) {
        Some(name) => name.to_string(),
        None => nodes.first().map(|n| n.name.clone()).unwrap_or_default(),
    };
    Some(PipelineGroup {
        name,
        max_concurrent_pipelines: limit.unwrap_or(nodes.len()).max(1),
        nodes,
    })
}

/// The node with the group's `streaming` settings it does not set itself (the
/// `options` maps merged the same way).
fn with_defaults(node: &Value, defaults: &Map<String, Value>) -> Value {
    let mut node = node.clone();
    if let Some(map) = node.as_object_mut() {
        let own = map
            .entry("streaming")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(own) = own.as_object_mut() {
            for (k, v) in defaults {
                match (own.get_mut(k), v) {
                    (Some(Value::Object(mine)), Value::Object(theirs)) if k == "options" => {
                        for (ok, ov) in theirs {
                            mine.entry(ok.clone()).or_insert_with(|| ov.clone());
                        }
                    }
                    (Some(_), _) => {}
                    (None, v) => {
                        own.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    node
}

/// Node names and checkpoint locations are each one node's own (two queries on one
/// checkpoint would corrupt each other's state).
fn check_distinct(nodes: &[(usize, PipelineFile)], p: &mut Problems) {
    for (j, (i, n)) in nodes.iter().enumerate() {
        let earlier = &nodes[..j];
        if earlier.iter().any(|(_, m)| m.name == n.name) {
            p.push(
                &format!("nodes[{i}].name"),
                "a name no other node has",
                format!("`{}`", n.name),
            );
        }
        if let Some(cp) = &n.streaming.checkpoint_location {
            if earlier
                .iter()
                .any(|(_, m)| m.streaming.checkpoint_location.as_ref() == Some(cp))
            {
                p.push(
                    &format!("nodes[{i}].streaming.checkpoint_location"),
                    "a checkpoint location no other node uses",
                    format!("`{}`", cp.display()),
                );
            }
        }
    }
}
