//! Files: a source reading JSON lines, CSV or Parquet from a folder (once, or watching
//! it for new files), and a sink writing JSON lines or CSV part files, transactional
//! (two-phase commit for exactly-once) or direct.

pub(crate) mod decode;
mod listing;
mod sink;
mod source;

pub use decode::CsvOptions;
pub use listing::{is_ignored, list, partition_columns, partition_value, Listed, Ready};
pub use sink::{FileSink, FileSinkMode};
pub use source::{Catalog, FileReader, FileSource, FileSourceConfig, Trigger};
