//! Where streamed events go: the Spindle sinks. A [`StreamWriter`] takes one event at a
//! time, with its topic and key; [`ConsoleWriter`] prints JSON lines, [`FileWriter`]
//! writes one JSON-lines file (truncated or appended), and the facade crate adds Kafka
//! (`tidewater::spindle`).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::GeneratorError;

/// A destination of streamed events.
pub trait StreamWriter: Send {
    /// Writes one event (`topic`: where it belongs, `key`: its partitioning key).
    fn write(
        &mut self,
        topic: &str,
        key: Option<&str>,
        event: &serde_json::Value,
    ) -> Result<(), GeneratorError>;

    /// Makes everything written so far durable or visible.
    fn flush(&mut self) -> Result<(), GeneratorError>;
}

impl<W: StreamWriter + ?Sized> StreamWriter for Box<W> {
    fn write(
        &mut self,
        topic: &str,
        key: Option<&str>,
        event: &serde_json::Value,
    ) -> Result<(), GeneratorError> {
        (**self).write(topic, key, event)
    }

    fn flush(&mut self) -> Result<(), GeneratorError> {
        (**self).flush()
    }
}

fn output_error(path: impl std::fmt::Display, e: impl std::fmt::Display) -> GeneratorError {
    GeneratorError::Output {
        path: path.to_string(),
        message: e.to_string(),
    }
}

/// JSON lines on any `Write` (standard output by default).
#[derive(Debug)]
pub struct ConsoleWriter<W: Write + Send = std::io::Stdout> {
    out: W,
}

impl ConsoleWriter {
    /// Prints to standard output.
    pub fn stdout() -> Self {
        ConsoleWriter {
            out: std::io::stdout(),
        }
    }
}

impl<W: Write + Send> ConsoleWriter<W> {
    /// Prints to `out`.
    pub fn to(out: W) -> Self {
        ConsoleWriter { out }
    }

    /// The writer printed to.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> StreamWriter for ConsoleWriter<W> {
    fn write(
        &mut self,
        _: &str,
        _: Option<&str>,
        event: &serde_json::Value,
    ) -> Result<(), GeneratorError> {
        writeln!(self.out, "{event}").map_err(|e| output_error("stdout", e))
    }

    fn flush(&mut self) -> Result<(), GeneratorError> {
        self.out.flush().map_err(|e| output_error("stdout", e))
    }
}

/// Whether a [`FileWriter`] starts the file afresh or adds to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileMode {
    /// Truncate (the reference's `mode="w"`).
    #[default]
    #[serde(alias = "w")]
    Write,
    /// Append (`mode="a"`).
    #[serde(alias = "a")]
    Append,
}

impl std::str::FromStr for FileMode {
    type Err = GeneratorError;

    fn from_str(s: &str) -> Result<Self, GeneratorError> {
        match s {
            "w" | "write" => Ok(FileMode::Write),
            "a" | "append" => Ok(FileMode::Append),
            other => Err(GeneratorError::InvalidParameter {
                field: "mode".into(),
                expected: "\"w\" (write) or \"a\" (append)".into(),
                found: format!("{other:?}"),
            }),
        }
    }
}

/// One JSON-lines file.
#[derive(Debug)]
pub struct FileWriter {
    path: PathBuf,
    file: BufWriter<File>,
}

impl FileWriter {
    /// Opens `path` (creating its folder) in `mode`.
    pub fn open(path: impl AsRef<Path>, mode: FileMode) -> Result<Self, GeneratorError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| output_error(dir.display(), e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(mode == FileMode::Append)
            .truncate(mode == FileMode::Write)
            .open(&path)
            .map_err(|e| output_error(path.display(), e))?;
        Ok(FileWriter {
            path,
            file: BufWriter::new(file),
        })
    }
}

impl StreamWriter for FileWriter {
    fn write(
        &mut self,
        _: &str,
        _: Option<&str>,
        event: &serde_json::Value,
    ) -> Result<(), GeneratorError> {
        writeln!(self.file, "{event}").map_err(|e| output_error(self.path.display(), e))
    }

    fn flush(&mut self) -> Result<(), GeneratorError> {
        self.file
            .flush()
            .map_err(|e| output_error(self.path.display(), e))
    }
}

/// Collects events in memory (for tests and callers that post-process).
#[derive(Debug, Default, Clone)]
pub struct MemoryWriter {
    /// (topic, key, event) in order.
    pub events: Vec<(String, Option<String>, serde_json::Value)>,
}

impl StreamWriter for MemoryWriter {
    fn write(
        &mut self,
        topic: &str,
        key: Option<&str>,
        event: &serde_json::Value,
    ) -> Result<(), GeneratorError> {
        self.events
            .push((topic.to_string(), key.map(str::to_string), event.clone()));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), GeneratorError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_or_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/events.jsonl");
        for (mode, lines) in [
            (FileMode::Write, 1),
            (FileMode::Append, 2),
            (FileMode::Write, 1),
        ] {
            let mut w = FileWriter::open(&path, mode).unwrap();
            w.write("t", None, &serde_json::json!({"a": 1})).unwrap();
            w.flush().unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(text.lines().count(), lines, "{mode:?}");
        }
        assert_eq!("a".parse::<FileMode>().unwrap(), FileMode::Append);
        assert_eq!(
            "x".parse::<FileMode>().unwrap_err().to_string(),
            "`mode`: expected \"w\" (write) or \"a\" (append), found \"x\""
        );
    }

    #[test]
    fn the_console_writer_prints_json_lines() {
        let mut w = ConsoleWriter::to(Vec::new());
        w.write("t", None, &serde_json::json!({"a": 1})).unwrap();
        w.write("t", None, &serde_json::json!({"b": "x"})).unwrap();
        assert_eq!(
            String::from_utf8(w.into_inner()).unwrap(),
            "{\"a\":1}\n{\"b\":\"x\"}\n"
        );
    }
}
