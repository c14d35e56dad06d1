//! The metrics and dashboard server: `/metrics` in the Prometheus text format, a
//! live dashboard at `/` (the plan with rates and backpressure on each edge,
//! watermarks, windows firing, late records, checkpoints, sources), the explain view
//! for one key and window, and `/jobs` listing a manager's pipelines.
//!
//! It runs on a thread of its own with a single-threaded tokio runtime, off the
//! workers: the data path only counts, as it does without a server, and a sampler
//! reads those counters four times a second.
//!
//! ```
//! use std::io::{Read, Write};
//! use tidewater_engine::prelude::*;
//! let mut p = Pipeline::new(Config::default().with_http("127.0.0.1:0"));
//! p.source(VecSource::new((0..1_000).collect::<Vec<u32>>())).sink(MemorySink::new());
//! let processor = p.start().unwrap();
//! processor.join().unwrap();
//! let addr = processor.http_addr().unwrap();
//! let mut conn = std::net::TcpStream::connect(addr).unwrap();
//! conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
//! let mut text = String::new();
//! conn.read_to_string(&mut text).unwrap();
//! assert!(text.contains("tidewater_source_records_total{pipeline=\"pipeline\"} 1000"));
//! ```

mod job;
mod prometheus;
mod routes;
mod sampler;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

pub use job::{Jobs, JobsFn, Observable, RecentFiring};
pub use sampler::{OperatorSample, Sample, INTERVAL};

use crate::error::{EngineError, Result};

/// A running metrics and dashboard server; stops when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl HttpServer {
    /// Listens on `addr` (`"127.0.0.1:9898"`; port 0 picks a free one) and serves
    /// `jobs`. Fails at once when the address cannot be bound.
    pub fn start(addr: &str, jobs: impl Jobs) -> Result<HttpServer> {
        let fail = |message: String| EngineError::Http {
            addr: addr.to_string(),
            message,
        };
        let listener = std::net::TcpListener::bind(addr).map_err(|e| fail(e.to_string()))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| fail(e.to_string()))?;
        let bound = listener.local_addr().map_err(|e| fail(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let jobs: Arc<dyn Jobs> = Arc::new(jobs);
        let sampler = Arc::new(sampler::Sampler::new(jobs.clone()));
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(prometheus::JobsCollector {
            jobs: jobs.clone(),
            sampler: sampler.clone(),
        }));
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let state = routes::AppState {
            jobs,
            sampler: sampler.clone(),
            registry: Arc::new(registry),
            shutdown: shutdown.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("tidewater-http".into())
            .spawn(move || runtime.block_on(serve(listener, state, sampler, shutdown)))
            .map_err(|e| fail(e.to_string()))?;
        tracing::info!(addr = %bound, "metrics and dashboard at http://{bound}/");
        Ok(HttpServer {
            addr: bound,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves until `shutdown` says stop; the sampler ticks on the same runtime.
async fn serve(
    listener: std::net::TcpListener,
    state: routes::AppState,
    sampler: Arc<sampler::Sampler>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "metrics server could not listen");
            return;
        }
    };
    let app = routes::router(state);
    let ticking = async move {
        let mut every = tokio::time::interval(INTERVAL);
        loop {
            every.tick().await;
            sampler.tick();
        }
    };
    let server = async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    };
    let stopped = async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
    };
    // Whichever ends first ends the others; open connections are dropped with the
    // runtime (event streams would otherwise keep a graceful shutdown waiting).
    let work = futures::future::select(Box::pin(ticking), Box::pin(server));
    futures::future::select(Box::pin(work), Box::pin(stopped)).await;
}
