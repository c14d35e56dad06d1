//! The partitions a source's settings select: topics listed, matched by a pattern, or
//! assigned, checked against the cluster's metadata.

use tidewater_engine::error::{EngineError, Result};

use super::client::{kafka_error, EofConsumer, REQUEST_TIMEOUT};
use super::config::{KafkaSourceConfig, Topics};
use rdkafka::consumer::Consumer;

/// Every partition the config selects, sorted by topic and partition.
pub(super) fn list_partitions(
    consumer: &EofConsumer,
    name: &str,
    config: &KafkaSourceConfig,
) -> Result<Vec<(String, i32)>> {
    let fetch = |topic: Option<&str>| {
        consumer
            .fetch_metadata(topic, REQUEST_TIMEOUT)
            .map_err(|e| {
                let what = topic.map_or("the cluster's topics".to_string(), |t| {
                    format!("topic `{t}`")
                });
                kafka_error(name, format!("reading the metadata of {what}"), e)
            })
    };
    let partitions_of = |topic: &str| -> Result<Vec<i32>> {
        let md = fetch(Some(topic))?;
        let t = md.topics().iter().find(|t| t.name() == topic);
        match t {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
                Ok(t.partitions().iter().map(|p| p.id()).collect())
            }
            _ => Err(EngineError::invalid(
                name,
                "topics",
                "existing topics",
                format!(
                    "topic `{topic}` does not exist on {}",
                    config.bootstrap_servers
                ),
            )),
        }
    };
    let mut out = Vec::new();
    match config.topics() {
        Some(Topics::Subscribe(topics)) => {
            for t in topics {
                out.extend(partitions_of(t)?.into_iter().map(|p| (t.clone(), p)));
            }
        }
        Some(Topics::Pattern(pattern)) => {
            let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                EngineError::invalid(
                    name,
                    "subscribe_pattern",
                    "a regular expression",
                    e.to_string(),
                )
            })?;
            let md = fetch(None)?;
            for t in md.topics() {
                if re.is_match(t.name()) && !t.name().starts_with("__") {
                    out.extend(
                        t.partitions()
                            .iter()
                            .map(|p| (t.name().to_string(), p.id())),
                    );
                }
            }
        }
        Some(Topics::Assign(assign)) => {
            for (t, parts) in assign {
                let existing = partitions_of(t)?;
                for &p in parts {
                    if !existing.contains(&p) {
                        return Err(EngineError::invalid(
                            name,
                            "assign",
                            "existing partitions",
                            format!("partition {p} of `{t}`, which has {}", existing.len()),
                        ));
                    }
                    out.push((t.clone(), p));
                }
            }
        }
        None => {
            return Err(config.validate(name).err().unwrap_or_else(|| {
                EngineError::invalid(name, "topics", "one way of choosing topics", "none")
            }))
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
