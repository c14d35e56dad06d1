//! Envelope emission in synthetic time: arrivals are Poisson at the (burst-adjusted)
//! rate, tables are emitted in order, each row once, then replays and reordering.

use crate::core::GeneratorErrors;
use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;
use rand_distr::{Distribution, Exp};
use serde::{Deserialize, Serialize};
use tidewater_engine::row::Row;

use super::StreamEmitConfig;
use crate::core::{event_rng, GeneratorError, Pacing};
use crate::retail::Tables;

const REPLAY_SALT: u64 = 0x2E91_A400_0000_0001;

/// A CloudEvents-style envelope around one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope {
    /// Unique event id.
    pub id: String,
    /// Producer.
    pub source: String,
    /// `{table}.created`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Emission time (epoch ms).
    pub time: i64,
    /// Topic.
    pub topic: String,
    /// Schema version of the topic.
    pub schema_version: String,
    /// Run-level correlation id.
    pub correlation_id: String,
    /// Re-emitted by a replay.
    pub replay: bool,
    /// The row.
    pub data: Row,
}

/// Statistics of an emission, as the reference reports them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamEmitResult {
    /// Primary events emitted.
    pub events_sent: u64,
    /// Events re-emitted by replays.
    pub replay_events_sent: u64,
    /// Topics written to.
    pub topics_used: BTreeSet<String>,
    /// Span of synthetic time covered (seconds).
    pub elapsed_seconds: f64,
    /// Schema version per topic.
    pub schema_versions: BTreeMap<String, String>,
    /// Envelopes delivered out of order.
    pub out_of_order_count: u64,
}

/// Envelopes in delivery order plus statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamEmitOutput {
    /// Every envelope, replays included, in delivery order.
    pub envelopes: Vec<Envelope>,
    /// Statistics.
    pub result: StreamEmitResult,
}

/// Emits tables as enveloped events.
#[derive(Debug, Clone)]
pub struct StreamEmitter<'a> {
    tables: &'a Tables,
    config: StreamEmitConfig,
    correlation_id: String,
}

impl<'a> StreamEmitter<'a> {
    /// An emitter over `tables` with a validated configuration.
    pub fn new(tables: &'a Tables, config: StreamEmitConfig) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        let names = tables.names();
        if !config.topics.is_empty() && config.topics.len() != names.len() {
            return Err(vec![GeneratorError::InvalidParameter {
                field: "topics".into(),
                expected: format!("one topic per table ({})", names.len()),
                found: format!("{} topics", config.topics.len()),
            }]
            .into());
        }
        let correlation_id = format!(
            "run-{:016x}",
            event_rng(config.seed, u64::MAX).random::<u64>()
        );
        Ok(StreamEmitter {
            tables,
            config,
            correlation_id,
        })
    }

    /// The run-level correlation id stamped on every envelope.
    pub fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    fn topic(&self, table_index: usize, table: &str) -> String {
        self.config
            .topics
            .get(table_index)
            .cloned()
            .unwrap_or_else(|| table.to_string())
    }

    fn schema_version(&self, topic: &str) -> String {
        self.config
            .schema_versions
            .get(topic)
            .cloned()
            .unwrap_or_else(|| self.config.envelope_schema_version.clone())
    }

    /// Emits every row of every table (up to `max_events`).
    pub fn emit(&self) -> StreamEmitOutput {
        let c = &self.config;
        let pacing = Pacing {
            rate_per_sec: c.rate_per_sec,
            jitter_ms: c.jitter_ms,
            burst_windows: c.burst_windows.clone(),
            bucket_size: 1,
        };
        let mut envelopes: Vec<Envelope> = Vec::new();
        let mut topics_used = BTreeSet::new();
        let mut schema_versions = BTreeMap::new();
        let mut t = c.start_time_ms as f64;
        let mut n = 0u64;
        let wall_start = std::time::Instant::now();
        let limit = c.max_events.unwrap_or(u64::MAX);
        let (mut replays, mut reordered) = (0u64, 0u64);
        'tables: for (ti, (table, rows)) in self.tables.iter().enumerate() {
            let topic = self.topic(ti, table);
            for row in rows {
                if n >= limit {
                    break 'tables;
                }
                let mut rng = event_rng(c.seed, n);
                let rate = pacing.rate_at((t - c.start_time_ms as f64) / 1_000.0);
                t += Exp::new(rate / 1_000.0).map_or(1.0, |e| e.sample(&mut rng));
                if c.jitter_ms > 0.0 {
                    t += rng.random_range(0.0..c.jitter_ms);
                }
                if c.realtime {
                    let due = std::time::Duration::from_secs_f64(
                        ((t - c.start_time_ms as f64) / 1_000.0).max(0.0),
                    );
                    if let Some(wait) = due.checked_sub(wall_start.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                let version = self.schema_version(&topic);
                topics_used.insert(topic.clone());
                schema_versions.insert(topic.clone(), version.clone());
                envelopes.push(Envelope {
                    id: format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>()),
                    source: c.envelope_source.clone(),
                    event_type: format!("{table}.created"),
                    time: t as i64,
                    topic: topic.clone(),
                    schema_version: version,
                    correlation_id: self.correlation_id.clone(),
                    replay: false,
                    data: row.clone(),
                });
                n += 1;
                if c.replay_enabled {
                    let mut rr = event_rng(c.seed ^ REPLAY_SALT, n);
                    if rr.random::<f64>() < c.replay_probability {
                        let since = t as i64 - (c.replay_window_minutes * 60_000.0) as i64;
                        let recent: Vec<Envelope> = envelopes
                            .iter()
                            .rev()
                            .filter(|e| !e.replay && e.time >= since)
                            .take(c.replay_burst_size as usize)
                            .cloned()
                            .collect();
                        for mut e in recent.into_iter().rev() {
                            e.replay = true;
                            e.time = t as i64;
                            envelopes.push(e);
                            replays += 1;
                        }
                    }
                }
            }
        }
        if c.out_of_order_probability > 0.0 {
            let mut rng = event_rng(c.seed ^ REPLAY_SALT, u64::MAX);
            for i in 0..envelopes.len().saturating_sub(1) {
                if rng.random::<f64>() < c.out_of_order_probability {
                    envelopes.swap(i, i + 1);
                    reordered += 1;
                }
            }
        }
        let first = envelopes
            .iter()
            .map(|e| e.time)
            .min()
            .unwrap_or(c.start_time_ms);
        let last = envelopes
            .iter()
            .map(|e| e.time)
            .max()
            .unwrap_or(c.start_time_ms);
        StreamEmitOutput {
            result: StreamEmitResult {
                events_sent: n,
                replay_events_sent: replays,
                topics_used,
                elapsed_seconds: (last - first) as f64 / 1_000.0,
                schema_versions,
                out_of_order_count: reordered,
            },
            envelopes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retail::{RetailDomain, Scale};

    fn tables() -> Tables {
        RetailDomain::new(Scale::Small, 3).generate()
    }

    #[test]
    fn every_row_is_enveloped_once_with_its_topic_and_the_run_correlation_id() {
        let t = tables();
        let total: usize = t.iter().map(|(_, r)| r.len()).sum();
        let output = StreamEmitter::new(&t, StreamEmitConfig::default())
            .unwrap()
            .emit();
        assert_eq!(output.envelopes.len(), total);
        assert_eq!(output.result.topics_used.len(), 6);
        let ids: BTreeSet<&str> = output.envelopes.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), total);
        let correlation = &output.envelopes[0].correlation_id;
        assert!(output
            .envelopes
            .iter()
            .all(|e| &e.correlation_id == correlation));
        // 10 events per second: about total / 10 seconds of synthetic time
        let expected = total as f64 / 10.0;
        assert!((output.result.elapsed_seconds - expected).abs() < expected * 0.05);
    }

    #[test]
    fn replays_re_emit_recent_events_and_versions_follow_the_topic() {
        let t = tables();
        let mut config = StreamEmitConfig {
            replay_enabled: true,
            max_events: Some(5_000),
            ..Default::default()
        };
        config.schema_versions.insert("orders".into(), "2.1".into());
        config.topics = vec![
            "c".into(),
            "p".into(),
            "s".into(),
            "orders".into(),
            "l".into(),
            "r".into(),
        ];
        let output = StreamEmitter::new(&t, config).unwrap().emit();
        let r = &output.result;
        assert_eq!(r.events_sent, 5_000);
        // 5% of events trigger a replay of up to 10 events
        assert!(
            r.replay_events_sent > 1_500 && r.replay_events_sent < 3_500,
            "{}",
            r.replay_events_sent
        );
        assert_eq!(
            output.envelopes.iter().filter(|e| e.replay).count() as u64,
            r.replay_events_sent
        );
        assert_eq!(
            r.schema_versions.get("orders").map(String::as_str),
            Some("2.1")
        );
        assert_eq!(r.schema_versions.get("c").map(String::as_str), Some("1.0"));
    }

    #[test]
    fn bursts_raise_the_rate_inside_their_window() {
        let t = tables();
        let config = StreamEmitConfig {
            max_events: Some(2_000),
            burst_windows: vec![crate::core::BurstWindow {
                start_offset_secs: 10.0,
                duration_secs: 10.0,
                multiplier: 10.0,
            }],
            ..Default::default()
        };
        let output = StreamEmitter::new(&t, config).unwrap().emit();
        let start = 1_704_067_200_000;
        let in_window = |a: i64, b: i64| {
            output
                .envelopes
                .iter()
                .filter(|e| e.time >= start + a && e.time < start + b)
                .count()
        };
        // 10 s at 10/s = about 100 events before; 10 s at 100/s = about 1 000 during
        assert!(in_window(0, 10_000) < 150, "{}", in_window(0, 10_000));
        assert!(
            in_window(10_000, 20_000) > 800,
            "{}",
            in_window(10_000, 20_000)
        );
    }

    #[test]
    fn the_first_envelope_of_seed_42_is_pinned() {
        let t = RetailDomain::new(Scale::Small, 42).generate();
        let output = StreamEmitter::new(&t, StreamEmitConfig::default())
            .unwrap()
            .emit();
        let first = &output.envelopes[0];
        assert_eq!(
            (first.id.as_str(), first.time, first.correlation_id.as_str()),
            (
                "e89e4b3c4c8b5ff395f0596f5513e6b3",
                1_704_067_200_245,
                "run-6e97d7a8ce289474"
            )
        );
    }

    #[test]
    fn realtime_emission_follows_the_wall_clock() {
        let t = tables();
        let config = StreamEmitConfig {
            rate_per_sec: 200.0,
            max_events: Some(40),
            realtime: true,
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let output = StreamEmitter::new(&t, config.clone()).unwrap().emit();
        let took = started.elapsed().as_secs_f64();
        let span = (output.envelopes.last().unwrap().time - config.start_time_ms) as f64 / 1_000.0;
        // 40 events at 200/s: about 0.2 s, never faster than the schedule
        assert!(took >= span * 0.95, "{took} < {span}");
        assert_eq!(
            output.envelopes,
            StreamEmitter::new(
                &t,
                StreamEmitConfig {
                    realtime: false,
                    ..config
                }
            )
            .unwrap()
            .emit()
            .envelopes
        );
    }

    #[test]
    fn topic_count_must_match_the_tables() {
        let t = tables();
        let config = StreamEmitConfig {
            topics: vec!["one".into()],
            ..Default::default()
        };
        let e = StreamEmitter::new(&t, config).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "`topics`: expected one topic per table (6), found 1 topics"
        );
    }
}
