//! Spark's test connectors: `rate`, `socket` and `console`.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tidewater_connectors::console::SparkConsoleSink;
use tidewater_connectors::rate::{RateSource, RateSourceConfig};
use tidewater_connectors::socket::{SocketSource, SocketSourceConfig};
use tidewater_engine::config::DeliveryGuarantee;
use tidewater_engine::prelude::*;

/// A writer whose bytes the test can read.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_console_sink_prints_batches_as_spark_does() {
    let buffer = Buffer::default();
    let rows: Vec<Row> = [("foo", 3), ("bar", 12), ("baz", 1)]
        .into_iter()
        .map(|(w, n)| Row::from_pairs([("word", Value::from(w)), ("count", Value::Int(n))]))
        .collect();
    let mut p = Pipeline::new(Config::default());
    p.source(VecSource::new(rows).with_batch_size(2)).sink(
        SparkConsoleSink::new()
            .num_rows(1)
            .to_writer(buffer.clone()),
    );
    p.run().unwrap();
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text,
        "-------------------------------------------\n\
         Batch: 0\n\
         -------------------------------------------\n\
         +----+-----+\n\
         |word|count|\n\
         +----+-----+\n\
         | foo|    3|\n\
         +----+-----+\n\
         only showing top 1 row\n\
         \n\
         -------------------------------------------\n\
         Batch: 1\n\
         -------------------------------------------\n\
         +----+-----+\n\
         |word|count|\n\
         +----+-----+\n\
         | baz|    1|\n\
         +----+-----+\n\
         \n"
    );
}

#[test]
fn the_socket_source_is_live_only_and_names_its_address() {
    let dir = tempfile::tempdir().unwrap();
    for delivery in [
        DeliveryGuarantee::AtLeastOnce,
        DeliveryGuarantee::ExactlyOnce,
    ] {
        let config = Config::default().with_name("lines").with_checkpointing(
            dir.path(),
            Duration::from_secs(1),
            delivery,
        );
        let mut p = Pipeline::new(config);
        p.source(SocketSource::new(SocketSourceConfig::new("127.0.0.1", 9)))
            .sink(MemorySink::new());
        let Err(e) = p.build() else { panic!("built") };
        assert!(
            e.to_string().contains("`socket#0` cannot take part in"),
            "{e}"
        );
    }
    // nothing listens on the port of a listener just closed
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut p = Pipeline::new(Config::default());
    p.source(SocketSource::new(SocketSourceConfig::new(
        "127.0.0.1",
        port,
    )))
    .sink(MemorySink::new());
    let e = p.run().unwrap_err().to_string();
    assert!(
        e.contains(&format!("connecting to 127.0.0.1:{port}")),
        "{e}"
    );
}

#[test]
fn the_rate_source_is_deterministic_and_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let mut config = RateSourceConfig::new(1_000);
        config.num_partitions = 4;
        config.start_time_ms = Some(0);
        config.max_rows = Some(5_000);
        let out = MemorySink::new();
        let mut p = Pipeline::new(Config::default().with_parallelism(2).with_checkpointing(
            dir.path(),
            Duration::from_millis(10),
            DeliveryGuarantee::AtLeastOnce,
        ));
        p.source(RateSource::new(config))
            .map(|r: Row| r.get("value").and_then(Value::as_i64).unwrap())
            .sink(out.clone());
        p.run().unwrap();
        let mut v = out.values();
        v.sort();
        v
    };
    assert_eq!(run(), (0..5_000).collect::<Vec<_>>());
    // the finished run's position is at the end: a rerun reads nothing
    assert_eq!(run(), Vec::<i64>::new());
}
