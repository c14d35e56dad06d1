//! The Genesis WebSocket generator server with real WebSocket clients: 100 at once,
//! requests it cannot read, the connection limit, and `tidewater serve-generator`.

use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tidewater::generators::genesis::{
    Conditions, FittedGenerator, Method, WebSocketConfig, WebSocketGenerator,
};
use tidewater::prelude::*;
use tokio_tungstenite::tungstenite::Message;

mod lines;
use lines::Lines;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn training() -> Vec<Row> {
    (0..1_000)
        .map(|i| {
            let age = 18 + (i * 37 % 60);
            Row::from_pairs([
                ("age", Value::Int(age)),
                (
                    "income",
                    Value::Float(15_000.0 + 1_000.0 * age as f64 + (i % 97) as f64 * 50.0),
                ),
                (
                    "region",
                    Value::from(["West", "East", "North"][(i % 3) as usize]),
                ),
            ])
        })
        .collect()
}

fn server(max_connections: usize) -> tidewater::generators::genesis::ServerHandle {
    let fitted = FittedGenerator::fit(&training(), Method::GaussianCopula)
        .unwrap()
        .with_seed(3);
    let config = WebSocketConfig {
        host: "127.0.0.1".into(),
        port: 0,
        batch_size: 100,
        max_connections,
    };
    WebSocketGenerator::new(fitted, config)
        .unwrap()
        .start()
        .unwrap()
}

async fn connect(addr: std::net::SocketAddr) -> Socket {
    tokio_tungstenite::connect_async(format!("ws://{addr}"))
        .await
        .unwrap()
        .0
}

async fn receive(socket: &mut Socket) -> serde_json::Value {
    loop {
        match socket.next().await.expect("the server closed").unwrap() {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected message {other:?}"),
        }
    }
}

/// Sends a request and gathers its record batches up to the closing status.
async fn request(
    socket: &mut Socket,
    body: serde_json::Value,
) -> (Vec<Vec<serde_json::Value>>, serde_json::Value) {
    socket.send(Message::text(body.to_string())).await.unwrap();
    let mut batches = Vec::new();
    loop {
        let message = receive(socket).await;
        match message.get("records") {
            Some(records) => batches.push(records.as_array().unwrap().clone()),
            None => return (batches, message),
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_hundred_clients_at_once_each_get_their_rows_in_batches() {
    let server = server(100);
    let addr = server.local_addr();
    let rt = runtime();
    let results = rt.block_on(async move {
        let clients = (0..100).map(|c| {
            tokio::spawn(async move {
                let mut socket = connect(addr).await;
                let mut body =
                    serde_json::json!({"action": "generate", "count": 250, "batch_size": 60});
                if c % 2 == 0 {
                    body["conditions"] = serde_json::json!({"age": {"gte": 21}, "region": "West"});
                }
                let (batches, status) = request(&mut socket, body).await;
                socket.close(None).await.unwrap();
                (c, batches, status)
            })
        });
        futures_util::future::join_all(clients).await
    });
    // Each request is served the rows of a range of indices no other request got:
    // rows 250k .. 250k + 250 of the model for some k, conditioned or not.
    let fitted = FittedGenerator::fit(&training(), Method::GaussianCopula)
        .unwrap()
        .with_seed(3);
    let west_adults = Conditions::from_json(r#"{"age": {"gte": 21}, "region": "West"}"#).unwrap();
    let mut sampler = fitted.sampler(&west_adults).unwrap();
    let as_json = |rows: Vec<Row>| -> Vec<serde_json::Value> {
        rows.iter()
            .map(|r| serde_json::to_value(r).unwrap())
            .collect()
    };
    let plain: Vec<Vec<serde_json::Value>> = (0..100)
        .map(|k| as_json(fitted.sample_range(250 * k, 250)))
        .collect();
    let conditioned: Vec<Vec<serde_json::Value>> = (0..100)
        .map(|k| {
            as_json(
                (250 * k..250 * k + 250)
                    .map(|i| sampler.row(i).unwrap())
                    .collect(),
            )
        })
        .collect();
    let mut ranges_used = std::collections::BTreeSet::new();
    for result in results {
        let (c, batches, status) = result.unwrap();
        assert_eq!(
            status,
            serde_json::json!({"status": "complete", "count": 250})
        );
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![60, 60, 60, 60, 10], "client {c}");
        let rows = batches.concat();
        for record in &rows {
            let row = Row::from_serde(record).unwrap();
            assert_eq!(
                row.schema().names().collect::<Vec<_>>(),
                ["age", "income", "region"]
            );
            if c % 2 == 0 {
                assert!(west_adults.matches(&row), "client {c}: {record}");
            }
        }
        let candidates = if c % 2 == 0 { &conditioned } else { &plain };
        let k = candidates.iter().position(|expected| *expected == rows);
        let k = k.unwrap_or_else(|| panic!("client {c} got rows of no reserved range"));
        assert!(ranges_used.insert(k), "range {k} served twice");
    }
    let stats = server.stop();
    assert_eq!(
        (
            stats.connections,
            stats.requests,
            stats.records,
            stats.refused
        ),
        (100, 100, 25_000, 0)
    );
}

#[test]
fn requests_it_cannot_serve_get_an_error_and_the_connection_stays() {
    let server = server(10);
    let addr = server.local_addr();
    runtime().block_on(async move {
        let mut socket = connect(addr).await;
        let table = [
            ("not json", "malformed request: expected ident at line 1 column 2"),
            (r#"{"action": "delete", "count": 1}"#, "unknown action `delete`; expected `generate`"),
            (r#"{"action": "generate"}"#, "malformed request: missing field `count` at line 1 column 22"),
            (r#"{"action": "generate", "count": -1}"#, "malformed request: invalid value: integer `-1`, expected u64 at line 1 column 34"),
            (r#"{"action": "generate", "count": 5, "batch": 2}"#, "malformed request: unknown field `batch`, expected one of `action`, `count`, `batch_size`, `conditions` at line 1 column 42"),
            (r#"{"action": "generate", "count": 5, "batch_size": 0}"#, "`batch_size`: expected at least 1, found 0"),
            (r#"{"action": "generate", "count": 5, "conditions": {"age": {"above": 3}}}"#, "condition on `age`: expected one of eq, ne, gt, gte, lt, lte, in, found \"above\""),
            (r#"{"action": "generate", "count": 5, "conditions": {"age": {"gt": 500}}}"#, "condition on `age` cannot be met: gt 500 while the training values run from 18 to 77"),
            (r#"{"action": "generate", "count": 5, "conditions": {"planet": "Mars"}}"#, "unknown column `planet`; the model's columns are: age, income, region"),
        ];
        for (text, error) in table {
            socket.send(Message::text(text)).await.unwrap();
            assert_eq!(receive(&mut socket).await, serde_json::json!({"status": "error", "error": error}), "{text}");
        }
        socket.send(Message::binary(vec![1, 2, 3])).await.unwrap();
        assert_eq!(
            receive(&mut socket).await["error"],
            "expected a text message holding a JSON request"
        );
        // The same connection still serves.
        let (batches, status) = request(&mut socket, serde_json::json!({"action": "generate", "count": 3})).await;
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![3]);
        assert_eq!(status["status"], "complete");
    });
    let stats = server.stop();
    assert_eq!((stats.bad_requests, stats.requests), (10, 1));
}

#[test]
fn connections_over_the_limit_are_refused_until_one_leaves() {
    let server = server(2);
    let addr = server.local_addr();
    runtime().block_on(async move {
        let first = connect(addr).await;
        let mut second = connect(addr).await;
        let refused = tokio_tungstenite::connect_async(format!("ws://{addr}"))
            .await
            .unwrap_err();
        let tokio_tungstenite::tungstenite::Error::Http(response) = refused else {
            panic!("expected an HTTP refusal, got {refused}")
        };
        assert_eq!(response.status(), 503);
        let body = String::from_utf8(response.body().clone().unwrap()).unwrap();
        assert_eq!(body, "max_connections (2) reached; try again later");
        // The admitted ones are served; once one leaves, a new client gets in.
        let (batches, _) = request(
            &mut second,
            serde_json::json!({"action": "generate", "count": 1}),
        )
        .await;
        assert_eq!(batches.len(), 1);
        drop(first);
        let mut admitted = None;
        for _ in 0..1_000 {
            if let Ok((socket, _)) = tokio_tungstenite::connect_async(format!("ws://{addr}")).await
            {
                admitted = Some(socket);
                break;
            }
            tokio::task::yield_now().await;
        }
        let mut third = admitted.expect("a place freed when the first client left");
        let (batches, _) = request(
            &mut third,
            serde_json::json!({"action": "generate", "count": 2}),
        )
        .await;
        assert_eq!(batches[0].len(), 2);
    });
    assert!(server.stop().refused >= 1);
}

#[test]
fn tidewater_serve_generator_fits_a_csv_and_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("customers.csv");
    let model = dir.path().join("model.json");
    tidewater::formats::write_rows(&csv, tidewater::formats::FileFormat::Csv, &training()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidewater"))
        .args([
            "serve-generator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--batch-size",
            "4",
            "--seed",
            "9",
        ])
        .arg("--fit")
        .arg(&csv)
        .arg("--save-model")
        .arg(&model)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Lines::new(child.stdout.take().unwrap(), child.stderr.take().unwrap());
    lines
        .wait_until(Duration::from_secs(60), |out, _| {
            out.contains("listening on ws://")
        })
        .unwrap();
    let url = lines.stdout.split_whitespace().nth(2).unwrap().to_string();
    assert!(
        lines.stdout.contains("(3 columns fitted on 1000 rows)"),
        "{}",
        lines.stdout
    );
    let (batches, status) = runtime().block_on(async move {
        let mut socket = tokio_tungstenite::connect_async(url).await.unwrap().0;
        request(&mut socket, serde_json::json!({"action": "generate", "count": 10, "conditions": {"age": {"lt": 30}}})).await
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, stderr) = lines.finish();
    assert_eq!(stderr, "", "a quiet server");
    assert_eq!(
        batches.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![4, 4, 2]
    );
    assert_eq!(status["count"], 10);
    for record in batches.iter().flatten() {
        assert!(record["age"].as_i64().unwrap() < 30, "{record}");
    }
    // The saved model makes the same rows as the server (seed 9, first request).
    let loaded = FittedGenerator::load(&model).unwrap().with_seed(9);
    let conditions = Conditions::from_json(r#"{"age": {"lt": 30}}"#).unwrap();
    let expected: Vec<serde_json::Value> = loaded
        .sample_where(&conditions, 10)
        .unwrap()
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    assert_eq!(batches.concat(), expected);
}
