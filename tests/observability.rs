//! The metrics server from outside: `/metrics` read by a Prometheus text-format parser
//! and checked against the processor's own metrics, the plan graph's edges, the JSON
//! API's answers and errors, backpressure measured where a slow keyed operator holds
//! its senders back, and a manager's pipelines on one server.

use std::collections::BTreeMap;
use std::time::Duration;

use tidewater::declarative::QueryManager;
use tidewater::prelude::*;
use tidewater_engine::metrics::NodeKind;
use tidewater_engine::plan::Partitioning;

fn get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent.get(url).call().expect("the server answers");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().expect("a text body"),
    )
}

/// Every sample of the scrape, by metric name and its labels (sorted, `k=v` joined).
fn scrape(addr: std::net::SocketAddr) -> BTreeMap<(String, String), f64> {
    let (status, text) = get(&format!("http://{addr}/metrics"));
    assert_eq!(status, 200);
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let parsed = prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text");
    parsed
        .samples
        .into_iter()
        .map(|s| {
            let value = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                prometheus_parse::Value::Histogram(h) => {
                    h.iter().map(|b| b.count).fold(0.0, f64::max)
                }
                prometheus_parse::Value::Summary(_) => f64::NAN,
            };
            let mut labels: Vec<String> =
                s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            labels.sort();
            ((s.metric, labels.join(",")), value)
        })
        .collect()
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Click {
    user: u32,
    ts: i64,
}

/// 3 000 clicks of 7 users, every 50th one 30 s behind (late for its window).
fn clicks() -> Vec<Click> {
    (0..3_000)
        .map(|i| Click {
            user: i % 7,
            ts: i as i64 * 100 - if i % 50 == 49 { 30_000 } else { 0 },
        })
        .collect()
}

#[test]
fn metrics_read_by_a_prometheus_parser_match_the_processors_own() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default()
        .with_name("clicks")
        .with_parallelism(2)
        .with_batch_size(64)
        .with_checkpointing(
            dir.path(),
            Duration::from_millis(1),
            DeliveryGuarantee::AtLeastOnce,
        )
        .with_http("127.0.0.1:0");
    let (late, out) = (MemorySink::new(), MemorySink::new());
    let mut p = Pipeline::new(config);
    p.source(VecSource::new(clicks()))
        .with_watermark(Watermark::bounded("1 second", |c: &Click| c.ts))
        .key_by(|c: &Click| c.user)
        .window(TumblingWindow::of("10 seconds"))
        .late_records(late.clone())
        .aggregate(Count)
        .sink(out.clone());
    let processor = p.start().unwrap();
    let metrics = processor.join().unwrap();
    let addr = processor.http_addr().unwrap();
    let scraped = scrape(addr);
    let at = |name: &str, labels: &str| -> f64 {
        *scraped
            .get(&(name.to_string(), labels.to_string()))
            .unwrap_or_else(|| panic!("no {name}{{{labels}}} in {:#?}", scraped.keys()))
    };
    let job = "pipeline=clicks";
    assert_eq!(at("tidewater_source_records_total", job), 3_000.0);
    assert_eq!(
        at(
            "tidewater_pipeline_status",
            "pipeline=clicks,status=stopped"
        ),
        1.0
    );
    assert_eq!(
        at(
            "tidewater_pipeline_status",
            "pipeline=clicks,status=running"
        ),
        0.0
    );
    assert_eq!(
        at("tidewater_late_records_total", job),
        metrics.late_dropped as f64
    );
    assert_eq!(metrics.late_dropped, late.len() as u64);
    assert!(metrics.late_dropped > 0);
    for o in &metrics.operators {
        let kind = format!("{:?}", o.kind).to_lowercase();
        let labels = format!("kind={kind},node={},node_id={},{job}", o.name, o.id);
        assert_eq!(
            at("tidewater_operator_records_in_total", &labels),
            o.records_in as f64,
            "{}",
            o.name
        );
        assert_eq!(
            at("tidewater_operator_records_out_total", &labels),
            o.records_out as f64,
            "{}",
            o.name
        );
        if o.kind == NodeKind::Window {
            assert_eq!(
                at("tidewater_operator_late_side_output_total", &labels),
                o.late_side_output as f64
            );
            assert_eq!(
                o.late_side_output,
                late.len() as u64,
                "every late click went to the side output"
            );
            assert_eq!(at("tidewater_operator_late_dropped_total", &labels), 0.0);
            assert_eq!(
                at("tidewater_operator_watermark_milliseconds", &labels),
                o.watermark as f64
            );
        }
    }
    let window = metrics.operator("window").unwrap();
    assert_eq!(window.records_out, out.len() as u64);
    let checkpoints = metrics.checkpoints.as_ref().unwrap();
    assert_eq!(
        at("tidewater_checkpoints_completed_total", job),
        checkpoints.completed as f64
    );
    assert_eq!(at("tidewater_checkpoints_failed_total", job), 0.0);
    assert_eq!(
        at("tidewater_checkpoint_last_size_bytes", job),
        checkpoints.last_size_bytes as f64
    );
    assert!(checkpoints.last_size_bytes > 0);
    assert!(checkpoints.total_size_bytes >= checkpoints.last_size_bytes);
    assert_eq!(
        at("tidewater_checkpoint_duration_seconds_count", job),
        checkpoints.completed as f64
    );
    assert_eq!(
        at("tidewater_latency_seconds_count", job),
        metrics.latency.count as f64
    );
    // Buckets are cumulative, the last one (+Inf) holding every observation.
    let buckets: Vec<f64> = metrics
        .latency_histogram
        .buckets
        .iter()
        .map(|b| b.count as f64)
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        at("tidewater_latency_seconds", job),
        metrics.latency.count as f64
    );
    let (_, text) = get(&format!("http://{addr}/metrics"));
    for b in &metrics.latency_histogram.buckets {
        let line = format!(
            "tidewater_latency_seconds_bucket{{pipeline=\"clicks\",le=\"{}\"}} {}",
            b.le_ms / 1_000.0,
            b.count
        );
        assert!(text.contains(&line), "{line} not in the scrape");
    }
}

#[test]
fn the_plan_graph_names_every_edge_and_how_records_cross_it() {
    let mut p = Pipeline::new(
        Config::default()
            .with_parallelism(2)
            .with_local_aggregation(true),
    );
    let left = p.source(VecSource::new(clicks()));
    let right = p.source(VecSource::new(clicks())).filter(|c| c.user > 2);
    left.union(right)
        .map(Ok::<Click, DeadLetter>)
        .dead_letters(MemorySink::new())
        .with_watermark(Watermark::bounded("1 second", |c: &Click| c.ts))
        .key_by(|c: &Click| c.user)
        .window(TumblingWindow::of("10 seconds"))
        .aggregate(Count)
        .sink(MemorySink::new());
    let graph = p.build().unwrap().plan();
    let names: Vec<&str> = graph.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "vec_source#0",
            "vec_source#1",
            "filter#2",
            "map#3",
            "dead_letters:memory_sink#4",
            "with_watermark#5",
            "window(tumbling)#6",
            "memory_sink#7"
        ]
    );
    let edges: Vec<(usize, usize, Partitioning)> = graph
        .edges
        .iter()
        .map(|e| (e.from, e.to, e.partitioning))
        .collect();
    assert_eq!(
        edges,
        [
            (1, 2, Partitioning::Forward),
            (0, 3, Partitioning::Forward),
            (2, 3, Partitioning::Forward),
            (3, 4, Partitioning::DeadLetters),
            (3, 5, Partitioning::Forward),
            (5, 6, Partitioning::HashPartials),
            (6, 7, Partitioning::Forward),
        ]
    );
    assert_eq!(graph.parallelism, 2);
}

#[test]
fn backpressure_is_the_time_a_slow_keyed_operator_held_its_senders_back() {
    let config = Config::default()
        .with_parallelism(2)
        .with_batch_size(16)
        .with_channel_capacity(1)
        .with_local_aggregation(false);
    let mut p = Pipeline::new(config);
    p.source(VecSource::new(clicks()))
        .with_watermark(Watermark::bounded("1 second", |c: &Click| c.ts))
        .key_by(|c: &Click| c.user)
        .window(TumblingWindow::of("10 seconds"))
        .reduce(|a: Click, b: Click| {
            // A slow operator: 200 us of work per record.
            let busy = std::time::Instant::now();
            while busy.elapsed() < Duration::from_micros(200) {
                std::hint::spin_loop();
            }
            if a.ts >= b.ts {
                a
            } else {
                b
            }
        })
        .sink(MemorySink::new());
    let metrics = p.run().unwrap();
    let window = metrics.operator("window").unwrap();
    assert!(window.backpressure_ms > 10.0, "{window:?}");
    let source = metrics.operator("vec_source").unwrap();
    assert_eq!(source.backpressure_ms, 0.0, "no exchange feeds a source");
}

#[test]
fn the_api_names_what_is_wrong_with_a_request() {
    let mut p = Pipeline::new(
        Config::default()
            .with_name("numbers")
            .with_http("127.0.0.1:0"),
    );
    p.source(VecSource::new((0..10u32).collect::<Vec<_>>()))
        .sink(MemorySink::new());
    let processor = p.start().unwrap();
    processor.join().unwrap();
    let base = format!("http://{}", processor.http_addr().unwrap());
    let cases = [
        (
            "/api/plan?job=nope",
            404,
            "no pipeline named `nope`; running: [\"numbers\"]",
        ),
        (
            "/api/explain?key=a&window_start=soon",
            400,
            "window_start: expected Unix milliseconds or an RFC 3339 time, found `soon`",
        ),
    ];
    for (path, status, message) in cases {
        let (got, body) = get(&format!("{base}{path}"));
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (got, body["error"].as_str().unwrap()),
            (status, message),
            "{path}"
        );
    }
    let (status, body) = get(&format!("{base}/api/explain?key=a&window_start=0"));
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status, body["explains"].as_bool()), (200, Some(false)));
    let (status, page) = get(&format!("{base}/"));
    assert_eq!(status, 200);
    assert!(page.contains("<script src=\"/assets/dashboard.js\"></script>"));
    let (status, js) = get(&format!("{base}/assets/uPlot.iife.min.js"));
    assert_eq!(
        (status, js.len() > 40_000),
        (200, true),
        "uPlot is embedded"
    );
}

#[test]
fn a_query_manager_serves_every_query_with_its_status_and_progress() {
    let queries = QueryManager::new();
    let server = queries.serve_http("127.0.0.1:0").unwrap();
    let (input, _keep) = ChannelSource::<u32>::new();
    let mut running = Pipeline::new(Config::default().with_name("live"));
    running.source(input).sink(MemorySink::new());
    queries.start("live", running).unwrap();
    let mut done = Pipeline::new(Config::default().with_name("batch"));
    done.source(VecSource::new((0..500u32).collect::<Vec<_>>()))
        .sink(MemorySink::new());
    queries.start("batch", done).unwrap();
    queries.await_termination("batch").unwrap();
    let (status, body) = get(&format!("{}api/jobs", server.url()));
    assert_eq!(status, 200);
    let jobs: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let seen: Vec<(&str, &str, u64, u64)> = jobs
        .iter()
        .map(|j| {
            (
                j["name"].as_str().unwrap(),
                j["status"].as_str().unwrap(),
                j["source_records"].as_u64().unwrap(),
                j["progress"]["input_rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [("batch", "Stopped", 500, 500), ("live", "Running", 0, 0)]
    );
    let (status, plan) = get(&format!("{}api/plan?job=batch", server.url()));
    assert_eq!(status, 200, "an ended query keeps its plan");
    assert!(plan.contains("\"vec_source#0\""));
    queries.stop("live", false).unwrap();
}
