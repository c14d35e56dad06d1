//! A sink that prints records to standard output, one per line.

use std::fmt::Debug;
use std::io::Write;

use serde::Serialize;

use super::{Sink, SinkWriter, WorkerInfo};
use crate::error::{EngineError, Result};
use crate::record::Batch;

/// How a [`ConsoleSink`] renders a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleFormat {
    /// `{:?}` of the value.
    Debug,
    /// One JSON object per line (the value must implement `Serialize`).
    Json,
}

/// Prints each record on its own line; a batch is written under one stdout lock so
/// lines of parallel workers never interleave.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleSink {
    format: ConsoleFormat,
}

impl ConsoleSink {
    /// Prints `{:?}` of each value.
    pub fn debug() -> Self {
        ConsoleSink {
            format: ConsoleFormat::Debug,
        }
    }

    /// Prints each value as a JSON line.
    pub fn json() -> Self {
        ConsoleSink {
            format: ConsoleFormat::Json,
        }
    }
}

fn io_error(e: impl std::fmt::Display) -> EngineError {
    EngineError::Sink {
        sink: "console_sink".into(),
        message: e.to_string(),
    }
}

impl<T: Debug + Serialize + 'static> Sink<T> for ConsoleSink {
    type Writer = ConsoleSink;

    fn name(&self) -> String {
        "console_sink".to_string()
    }

    fn create_writer(&self, _worker: &WorkerInfo) -> Result<ConsoleSink> {
        Ok(*self)
    }
}

impl<T: Debug + Serialize + 'static> SinkWriter<T> for ConsoleSink {
    fn write_batch(&mut self, batch: Batch<T>) -> Result<()> {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        for r in batch {
            match self.format {
                ConsoleFormat::Debug => writeln!(out, "{:?}", r.value).map_err(io_error)?,
                ConsoleFormat::Json => {
                    serde_json::to_writer(&mut out, &r.value).map_err(io_error)?;
                    writeln!(out).map_err(io_error)?;
                }
            }
        }
        out.flush().map_err(io_error)
    }
}
