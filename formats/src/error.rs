//! Errors naming the file and, where it applies, the line.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// A file could not be written or read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The operating system refused.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line or value is not what the format says.
    #[error("{path}:{line}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when the format has no lines).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A name that is not a format.
    #[error("unknown file format `{0}`: expected parquet, csv or jsonl")]
    UnknownFormat(String),
}

impl FormatError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        FormatError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn malformed(path: &Path, line: usize, message: impl ToString) -> Self {
        FormatError::Malformed {
            path: path.to_path_buf(),
            line,
            message: message.to_string(),
        }
    }
}

/// A format error inside a pipeline: I/O errors keep their `std::io::Error` (and name
/// the file), the others keep the format error as their source.
///
/// ```
/// use tidewater_engine::error::EngineError;
/// use tidewater_formats::{read_rows, FileFormat};
/// fn load() -> Result<usize, EngineError> {
///     Ok(read_rows("/no/such/file.jsonl", FileFormat::JsonLines)?.len())
/// }
/// assert_eq!(
///     load().unwrap_err().to_string(),
///     "/no/such/file.jsonl: No such file or directory (os error 2)"
/// );
/// ```
impl From<FormatError> for tidewater_engine::error::EngineError {
    fn from(e: FormatError) -> Self {
        use tidewater_engine::error::EngineError;
        match e {
            FormatError::Io { path, source } => EngineError::io(path.display().to_string(), source),
            other => EngineError::external("file format", other),
        }
    }
}
