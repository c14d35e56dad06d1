//! Envelope emission in synthetic time: arrivals are Poisson at the (burst-adjusted)
//! rate, tables are emitted in order, each row once, then replays and reordering.

use crate::core::GeneratorErrors;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::Rng;
use rand_distr::{Distribution, Exp};
use serde::{Deserialize, Serialize};
use tidewater_engine::row::Row;

use super::StreamEmitConfig;
use crate::core::{event_rng, GeneratorError, Pacing, RateCurve};
use crate::retail::Tables;
use crate::writer::StreamWriter;

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
    /// Wall-clock duration of the emission (seconds).
    pub elapsed_seconds: f64,
    /// Span of event time the envelopes cover (seconds).
    pub event_time_span_seconds: f64,
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
        if let Some(problem) = config.topics.check(&names) {
            return Err(vec![problem].into());
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
        self.config.topics.topic(table_index, table)
    }

    fn schema_version(&self, topic: &str) -> String {
        self.config
            .schema_versions
            .get(topic)
            .cloned()
            .unwrap_or_else(|| self.config.envelope_schema_version.clone())
    }

    /// Emits every row of every table (up to `max_events`) into memory.
    pub fn emit(&self) -> StreamEmitOutput {
        let mut envelopes = Vec::new();
        let result = self.run(|e| {
            envelopes.push(e);
            Ok::<(), std::convert::Infallible>(())
        });
        let result = match result {
            Ok(result) => result,
            Err(never) => match never {},
        };
        StreamEmitOutput { envelopes, result }
    }

    /// Emits every envelope into `writer` as it is produced (paced in real time when
    /// `realtime` is set), each as a JSON object on its topic, keyed by its id.
    pub fn emit_to(
        &self,
        writer: &mut dyn StreamWriter,
    ) -> Result<StreamEmitResult, GeneratorError> {
        let result = self.run(|e| {
            let json = serde_json::to_value(&e).map_err(|err| GeneratorError::Output {
                path: e.topic.clone(),
                message: err.to_string(),
            })?;
            writer.write(&e.topic, Some(&e.id), &json)
        })?;
        writer.flush()?;
        Ok(result)
    }

    /// The emission loop: envelopes in delivery order to `deliver`. Out-of-order
    /// delivery swaps neighbours as it goes (one envelope held back at most), so
    /// envelopes stream out as they are made.
    fn run<E>(
        &self,
        mut deliver: impl FnMut(Envelope) -> Result<(), E>,
    ) -> Result<StreamEmitResult, E> {
        let c = &self.config;
        let pacing = Pacing {
            rate_per_sec: c.rate_per_sec,
            jitter_ms: c.jitter_ms,
            burst_windows: c.burst_windows.clone(),
            bucket_size: 1,
        };
        let mut topics_used = BTreeSet::new();
        let mut schema_versions = BTreeMap::new();
        let mut t = c.start_time_ms as f64;
        let mut n = 0u64;
        let wall_start = std::time::Instant::now();
        let limit = c.max_events.unwrap_or(u64::MAX);
        let (mut replays, mut reordered) = (0u64, 0u64);
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        // The latest primary envelopes, the only ones a replay can reach.
        let mut recent: VecDeque<Envelope> = VecDeque::new();
        let mut swap_rng = event_rng(c.seed ^ REPLAY_SALT, u64::MAX);
        let mut held: Option<Envelope> = None;
        let mut out = |e: Envelope, held: &mut Option<Envelope>| -> Result<(), E> {
            first = first.min(e.time);
            last = last.max(e.time);
            let Some(previous) = held.take() else {
                *held = Some(e);
                return Ok(());
            };
            if c.out_of_order_probability > 0.0
                && swap_rng.random::<f64>() < c.out_of_order_probability
            {
                reordered += 1;
                *held = Some(previous);
                deliver(e)
            } else {
                *held = Some(e);
                deliver(previous)
            }
        };
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
                let envelope = Envelope {
                    id: format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>()),
                    source: c.envelope_source.clone(),
                    event_type: format!("{table}.created"),
                    time: RateCurve::warp_opt(c.rate_curve.as_ref(), c.start_time_ms, t as i64),
                    topic: topic.clone(),
                    schema_version: version,
                    correlation_id: self.correlation_id.clone(),
                    replay: false,
                    data: row.clone(),
                };
                if c.replay_enabled {
                    recent.push_back(envelope.clone());
                    if recent.len() > c.replay_burst_size as usize {
                        recent.pop_front();
                    }
                }
                out(envelope, &mut held)?;
                n += 1;
                if c.replay_enabled {
                    let mut rr = event_rng(c.seed ^ REPLAY_SALT, n);
                    if rr.random::<f64>() < c.replay_probability {
                        let since = t as i64 - (c.replay_window_minutes * 60_000.0) as i64;
                        let again: Vec<Envelope> =
                            recent.iter().filter(|e| e.time >= since).cloned().collect();
                        for mut e in again {
                            e.replay = true;
                            e.time = RateCurve::warp_opt(
                                c.rate_curve.as_ref(),
                                c.start_time_ms,
                                t as i64,
                            );
                            out(e, &mut held)?;
                            replays += 1;
                        }
                    }
                }
            }
        }
        if let Some(e) = held.take() {
            deliver(e)?;
        }
        let span = if first <= last {
            (last - first) as f64 / 1_000.0
        } else {
            0.0
        };
        Ok(StreamEmitResult {
            events_sent: n,
            replay_events_sent: replays,
            topics_used,
            elapsed_seconds: wall_start.elapsed().as_secs_f64(),
            event_time_span_seconds: span,
            schema_versions,
            out_of_order_count: reordered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emitter::Topics;
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
        assert!((output.result.event_time_span_seconds - expected).abs() < expected * 0.05);
        // Not in real time: the wall clock saw far less than the event-time span.
        assert!(output.result.elapsed_seconds < expected / 10.0);
    }

    #[test]
    fn topics_map_tables_by_name_and_envelopes_stream_into_a_writer() {
        let t = tables();
        let config = StreamEmitConfig {
            topics: [("orders", "retail.orders"), ("returns", "retail.returns")].into(),
            max_events: Some(40_000),
            out_of_order_probability: 0.1,
            ..Default::default()
        };
        let emitter = StreamEmitter::new(&t, config.clone()).unwrap();
        let mut writer = crate::writer::MemoryWriter::default();
        let result = emitter.emit_to(&mut writer).unwrap();
        // What streams into the writer is exactly what `emit` returns, in order.
        let output = emitter.emit();
        assert_eq!(result.events_sent, output.result.events_sent);
        assert_eq!(result.out_of_order_count, output.result.out_of_order_count);
        assert_eq!(writer.events.len(), output.envelopes.len());
        for ((topic, key, json), e) in writer.events.iter().zip(&output.envelopes) {
            assert_eq!((topic, key.as_deref()), (&e.topic, Some(e.id.as_str())));
            assert_eq!(json, &serde_json::to_value(e).unwrap());
        }
        let topics: BTreeSet<&str> = output.envelopes.iter().map(|e| e.topic.as_str()).collect();
        assert!(
            topics.contains("retail.orders") && topics.contains("customers"),
            "{topics:?}"
        );
        let bad = StreamEmitConfig {
            topics: [("invoices", "x")].into(),
            ..Default::default()
        };
        let e = StreamEmitter::new(&t, bad).unwrap_err();
        assert!(
            e[0].to_string()
                .starts_with("`topics`: expected a mapping from tables (customers"),
            "{}",
            e[0]
        );
        // Both forms read from parameters.
        let list: Topics = serde_json::from_str(r#"["a", "b"]"#).unwrap();
        let map: Topics = serde_json::from_str(r#"{"orders": "o"}"#).unwrap();
        assert_eq!(
            (
                list.topic(1, "x"),
                map.topic(0, "orders"),
                map.topic(0, "stores")
            ),
            ("b".into(), "o".into(), "stores".into())
        );
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
        ]
        .into();
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
            topics: vec!["one".into()].into(),
            ..Default::default()
        };
        let e = StreamEmitter::new(&t, config).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "`topics`: expected one topic per table (6), found 1 topics"
        );
    }
}
