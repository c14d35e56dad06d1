//! A WebSocket server handing out fitted rows (the reference's
//! `WebSocketStreamingGenerator`).
//!
//! Protocol: the client sends `{"action": "generate", "count": N, "batch_size": B,
//! "conditions": {...}}` (`batch_size` and `conditions` optional) and receives
//! `{"records": [...]}` messages of at most `B` rows, then
//! `{"status": "complete", "count": N}`. A request that cannot be read is answered with
//! `{"status": "error", "error": "..."}` and the connection stays open. A connection
//! over `max_connections` is refused at the handshake with HTTP 503.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tidewater_engine::row::Row;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

use super::condition::Conditions;
use super::error::{GenesisError, Result};
use super::fitted::FittedGenerator;

/// Where and how the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSocketConfig {
    /// Bind address (default `0.0.0.0`).
    pub host: String,
    /// Port (default 8765; 0 picks a free one).
    pub port: u16,
    /// Rows per message when a request names none (default 100).
    pub batch_size: usize,
    /// Clients served at once (default 100); more are refused.
    pub max_connections: usize,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            host: "0.0.0.0".into(),
            port: 8765,
            batch_size: 100,
            max_connections: 100,
        }
    }
}

/// What a server did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ServerStats {
    /// Connections accepted.
    pub connections: u64,
    /// Connections refused over the limit.
    pub refused: u64,
    /// Requests answered with rows.
    pub requests: u64,
    /// Requests answered with an error.
    pub bad_requests: u64,
    /// Rows sent.
    pub records: u64,
}

#[derive(Default)]
struct Counters {
    active: AtomicUsize,
    connections: AtomicU64,
    refused: AtomicU64,
    requests: AtomicU64,
    bad_requests: AtomicU64,
    records: AtomicU64,
    /// The next unused row index: every request gets rows no other request got.
    next_index: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> ServerStats {
        ServerStats {
            connections: self.connections.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            bad_requests: self.bad_requests.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
        }
    }
}

/// A request from a client.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateRequest {
    action: String,
    count: u64,
    #[serde(default)]
    batch_size: Option<usize>,
    #[serde(default)]
    conditions: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Records<'a> {
    records: &'a [Row],
}

/// A fitted generator behind a WebSocket.
///
/// ```no_run
/// use tidewater_generators::genesis::{FittedGenerator, Method, WebSocketConfig, WebSocketGenerator};
/// let fitted = FittedGenerator::fit_file("customers.csv", Method::GaussianCopula)?;
/// let server = WebSocketGenerator::new(fitted, WebSocketConfig::default())?.start()?;
/// println!("listening on ws://{}", server.local_addr());
/// server.wait()?;
/// # Ok::<(), tidewater_generators::genesis::GenesisError>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebSocketGenerator {
    generator: FittedGenerator,
    config: WebSocketConfig,
}

/// A server running on its own thread.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    counters: Arc<Counters>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.snapshot().fmt(f)
    }
}

impl WebSocketGenerator {
    /// A server for `generator`; refuses a zero batch size or connection limit.
    pub fn new(generator: FittedGenerator, config: WebSocketConfig) -> Result<Self> {
        for (field, value) in [
            ("batch_size", config.batch_size),
            ("max_connections", config.max_connections),
        ] {
            if value == 0 {
                return Err(GenesisError::InvalidParameter {
                    field: field.into(),
                    expected: "at least 1".into(),
                    found: "0".into(),
                });
            }
        }
        Ok(WebSocketGenerator { generator, config })
    }

    /// Binds the address and serves on a thread of its own until the handle is stopped.
    pub fn start(self) -> Result<ServerHandle> {
        let address = format!("{}:{}", self.config.host, self.config.port);
        let io = |message: String| GenesisError::Io {
            path: address.clone(),
            message,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("genesis-websocket")
            .enable_all()
            .build()
            .map_err(|e| io(e.to_string()))?;
        let listener = runtime
            .block_on(TcpListener::bind(&address))
            .map_err(|e| io(format!("cannot listen: {e}")))?;
        let addr = listener.local_addr().map_err(|e| io(e.to_string()))?;
        let counters = Arc::new(Counters::default());
        let (shutdown, stopped) = oneshot::channel();
        let server = Arc::new(self);
        let thread = {
            let counters = counters.clone();
            std::thread::Builder::new()
                .name("genesis-websocket".into())
                .spawn(move || runtime.block_on(server.accept_loop(listener, counters, stopped)))
                .map_err(|e| io(e.to_string()))?
        };
        Ok(ServerHandle {
            addr,
            counters,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    async fn accept_loop(
        self: Arc<Self>,
        listener: TcpListener,
        counters: Arc<Counters>,
        mut stopped: oneshot::Receiver<()>,
    ) {
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let server = self.clone();
                    let counters = counters.clone();
                    tokio::spawn(async move { server.connection(stream, counters).await });
                }
            }
        }
    }

    async fn connection(self: Arc<Self>, stream: TcpStream, counters: Arc<Counters>) {
        let admitted = counters
            .active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.config.max_connections).then_some(n + 1)
            })
            .is_ok();
        let limit = self.config.max_connections;
        let handshake = tokio_tungstenite::accept_hdr_async(
            stream,
            move |_: &Request,
                  response: Response|
                  -> std::result::Result<Response, ErrorResponse> {
                if admitted {
                    return Ok(response);
                }
                let mut refusal = ErrorResponse::new(Some(format!(
                    "max_connections ({limit}) reached; try again later"
                )));
                *refusal.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                Err(refusal)
            },
        )
        .await;
        if !admitted {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Ok(mut socket) = handshake {
            counters.connections.fetch_add(1, Ordering::Relaxed);
            while let Some(Ok(message)) = socket.next().await {
                let reply = match message {
                    Message::Text(text) => self.answer(text.as_str(), &counters, &mut socket).await,
                    Message::Binary(_) => Err(Reply::Error(
                        "expected a text message holding a JSON request".into(),
                    )),
                    Message::Close(_) => break,
                    _ => Ok(()),
                };
                match reply {
                    Ok(()) => {}
                    Err(Reply::Error(message)) => {
                        counters.bad_requests.fetch_add(1, Ordering::Relaxed);
                        let body = serde_json::json!({"status": "error", "error": message});
                        if socket.send(Message::text(body.to_string())).await.is_err() {
                            break;
                        }
                    }
                    Err(Reply::Gone) => break,
                }
            }
        }
        counters.active.fetch_sub(1, Ordering::AcqRel);
    }

    /// Streams the rows a request asks for.
    async fn answer<S>(
        &self,
        text: &str,
        counters: &Counters,
        socket: &mut S,
    ) -> std::result::Result<(), Reply>
    where
        S: futures_util::Sink<Message> + Unpin,
    {
        let request: GenerateRequest =
            serde_json::from_str(text).map_err(|e| format!("malformed request: {e}"))?;
        if request.action != "generate" {
            return Err(format!("unknown action `{}`; expected `generate`", request.action).into());
        }
        let batch_size = request.batch_size.unwrap_or(self.config.batch_size);
        if batch_size == 0 {
            return Err("`batch_size`: expected at least 1, found 0"
                .to_string()
                .into());
        }
        let conditions = match &request.conditions {
            Some(value) => Conditions::from_value(value).map_err(|e| e.to_string())?,
            None => Conditions::none(),
        };
        let mut sampler = if conditions.is_empty() {
            None
        } else {
            Some(
                self.generator
                    .sampler(&conditions)
                    .map_err(|e| e.to_string())?,
            )
        };
        let start = counters
            .next_index
            .fetch_add(request.count, Ordering::Relaxed);
        let mut sent = 0u64;
        while sent < request.count {
            let n = (batch_size as u64).min(request.count - sent);
            let range = start + sent..start + sent + n;
            let rows: Vec<Row> = match &mut sampler {
                None => range.map(|i| self.generator.row(i)).collect(),
                Some(sampler) => range
                    .map(|i| sampler.row(i))
                    .collect::<Result<_>>()
                    .map_err(|e| e.to_string())?,
            };
            let body = serde_json::to_string(&Records { records: &rows })
                .map_err(|e| format!("cannot encode rows: {e}"))?;
            socket
                .send(Message::text(body))
                .await
                .map_err(|_| Reply::Gone)?;
            sent += n;
            counters.records.fetch_add(n, Ordering::Relaxed);
        }
        counters.requests.fetch_add(1, Ordering::Relaxed);
        let done = serde_json::json!({"status": "complete", "count": request.count});
        socket
            .send(Message::text(done.to_string()))
            .await
            .map_err(|_| Reply::Gone)
    }
}

/// Why a request ended early.
enum Reply {
    /// Answer with this error and keep the connection.
    Error(String),
    /// The client went away.
    Gone,
}

impl From<String> for Reply {
    fn from(message: String) -> Reply {
        Reply::Error(message)
    }
}

impl ServerHandle {
    /// The bound address (with the port the system picked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the server did so far.
    pub fn stats(&self) -> ServerStats {
        self.counters.snapshot()
    }

    /// Stops accepting and closes the server; returns its statistics.
    pub fn stop(mut self) -> ServerStats {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.counters.snapshot()
    }

    /// Serves until the process ends.
    pub fn wait(mut self) -> Result<ServerStats> {
        if let Some(thread) = self.thread.take() {
            thread.join().map_err(|_| GenesisError::Io {
                path: self.addr.to_string(),
                message: "the server thread panicked".into(),
            })?;
        }
        Ok(self.counters.snapshot())
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
