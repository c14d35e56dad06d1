//! Files: a source reading JSON lines, CSV or Parquet from a folder (once, or watching
//! it for new files), and a sink writing JSON lines, CSV or Parquet part files,
//! transactional (two-phase commit for exactly-once) or direct, into Hive partition
//! folders and rolled by size, rows or time.

pub(crate) mod decode;
mod listing;
mod partition;
mod rolling;
mod sink;
mod source;

pub use decode::CsvOptions;
pub use listing::{is_ignored, list, partition_columns, partition_value, Listed, Ready};
pub use partition::{partition_folder, unescape};
pub use rolling::RollingPolicy;
pub use sink::{FileSink, FileSinkMode};
pub use source::{Catalog, FileReader, FileSource, FileSourceConfig, Trigger};
