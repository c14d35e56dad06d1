//! The socket source: one connection (worker 0; the others have nothing to read), each
//! line a row `{"value": line}`, as Spark's socket source gives them. A line is read
//! once and never again: the source is live-only, so checkpointed runs may only ask for
//! at-most-once (checked when the pipeline is built). The connection is read on a thread
//! of its own; the worker takes what arrived without waiting.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tidewater_engine::connector::{Restart, Source, SourcePoll, SourceReader, WorkerInfo};
use tidewater_engine::error::{EngineError, Problems, Result};
use tidewater_engine::record::{Batch, Record};
use tidewater_engine::row::{DataType, Row, Schema, Value};
use tidewater_engine::time::NO_TIMESTAMP;

/// Settings of a [`SocketSource`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketSourceConfig {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl SocketSourceConfig {
    /// Lines from `host:port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        SocketSourceConfig {
            host: host.into(),
            port,
        }
    }
}

/// Text lines from a TCP server; the run's input ends when the server closes the
/// connection.
///
/// ```
/// use std::io::Write;
/// use tidewater_connectors::socket::{SocketSource, SocketSourceConfig};
/// use tidewater_engine::prelude::*;
/// let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let port = server.local_addr().unwrap().port();
/// std::thread::spawn(move || {
///     let (mut conn, _) = server.accept().unwrap();
///     conn.write_all(b"hello\nworld\n").unwrap();
/// });
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(SocketSource::new(SocketSourceConfig::new("127.0.0.1", port))).sink(out.clone());
/// p.run().unwrap();
/// let lines: Vec<String> = out.values().iter().map(|r| serde_json::to_string(r).unwrap()).collect();
/// assert_eq!(lines, vec![r#"{"value":"hello"}"#, r#"{"value":"world"}"#]);
/// ```
#[derive(Debug, Clone)]
pub struct SocketSource {
    config: SocketSourceConfig,
}

impl SocketSource {
    /// A source with these settings.
    pub fn new(config: SocketSourceConfig) -> Self {
        SocketSource { config }
    }
}

impl Source for SocketSource {
    type Item = Row;
    type Reader = SocketReader;

    fn name(&self) -> String {
        "socket".to_string()
    }

    fn restart(&self) -> Restart {
        Restart::LiveOnly
    }

    fn validate(&self) -> Result<()> {
        let mut p = Problems::new();
        p.check(
            !self.config.host.is_empty(),
            "socket",
            "host",
            "a host name or address",
            "\"\"",
        );
        p.check(
            self.config.port > 0,
            "socket",
            "port",
            "a port from 1 to 65535",
            0,
        );
        p.finish("socket", ())
    }

    fn create_reader(&self, worker: &WorkerInfo) -> Result<SocketReader> {
        self.validate()?;
        let schema = Arc::new(Schema::new([("value", DataType::Str)]));
        if worker.index != 0 {
            return Ok(SocketReader {
                lines: None,
                schema,
                batch_size: 1,
            });
        }
        let address = format!("{}:{}", self.config.host, self.config.port);
        let stream = TcpStream::connect(&address)
            .map_err(|e| EngineError::io(format!("connecting to {address}"), e))?;
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("socket-source".into())
            .spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let stop = line.is_err();
                    if tx.send(line).is_err() || stop {
                        return;
                    }
                }
            })
            .map_err(|e| EngineError::Spawn(format!("socket source: {e}")))?;
        Ok(SocketReader {
            lines: Some((rx, address)),
            schema,
            batch_size: worker.batch_size.max(1),
        })
    }
}

/// The reader of a [`SocketSource`] (worker 0's holds the connection).
pub struct SocketReader {
    lines: Option<(Receiver<std::io::Result<String>>, String)>,
    schema: Arc<Schema>,
    batch_size: usize,
}

impl SourceReader for SocketReader {
    type Item = Row;

    fn poll_batch(&mut self, out: &mut Batch<Row>) -> Result<SourcePoll> {
        let Some((lines, address)) = &self.lines else {
            return Ok(SourcePoll::Finished);
        };
        // Wait briefly for the first line so an idle connection does not spin.
        let mut first = Some(Duration::from_millis(5));
        while out.len() < self.batch_size {
            let next = match first.take() {
                Some(wait) => lines.recv_timeout(wait).map_err(|e| match e {
                    std::sync::mpsc::RecvTimeoutError::Timeout => TryRecvError::Empty,
                    std::sync::mpsc::RecvTimeoutError::Disconnected => TryRecvError::Disconnected,
                }),
                None => lines.try_recv(),
            };
            match next {
                Ok(Ok(line)) => {
                    let row = Row::new(self.schema.clone(), vec![Value::Str(line)]);
                    out.push(Record::new(NO_TIMESTAMP, row));
                }
                Ok(Err(e)) => return Err(EngineError::io(format!("reading from {address}"), e)),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Ok(SourcePoll::Finished),
            }
        }
        Ok(if out.is_empty() {
            SourcePoll::Pending
        } else {
            SourcePoll::Ready
        })
    }
}
