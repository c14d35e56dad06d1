//! Spark's `socket` test source: text lines read from a TCP server.

mod source;

pub use source::{SocketSource, SocketSourceConfig};
