//! A throwaway Kafka broker for tests: noida-db (a single binary from PyPI that speaks
//! the Kafka protocol, transactions and `read_committed` included), installed into a
//! virtualenv that is created once and reused, started on a free port with its own
//! data folder, and stopped when the [`TestBroker`] is dropped or the test process
//! ends (a watchdog shell stops it if the process dies without dropping it).
//!
//! The requirement is pinned in `noida-requirements.txt` beside this file. The
//! virtualenv lives in the cargo target folder (`noida-venv`), or where
//! `TIDEWATER_NOIDA_VENV` says. Nothing here is skipped silently: if Python or the
//! package cannot be installed, [`TestBroker::start`] fails saying why.
//!
//! ```no_run
//! use tidewater_connectors::kafka::test_broker::TestBroker;
//! let broker = TestBroker::shared()?;
//! broker.create_topic("events", 3)?;
//! broker.produce("events", &[(Some("k"), r#"{"n": 1}"#)])?;
//! let records = broker.read_committed("events")?;
//! assert_eq!(records.len(), 1);
//! # Ok::<(), tidewater_connectors::kafka::test_broker::BrokerError>(())
//! ```

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::record::{KafkaRecord, RecordView};

const REQUIREMENTS: &str = include_str!("noida-requirements.txt");
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the test broker could not be installed, started or used.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// Installing noida-db failed.
    #[error("installing the test broker ({requirement}) into {venv}: {message}")]
    Install {
        /// The pinned requirement.
        requirement: String,
        /// The virtualenv folder.
        venv: String,
        /// What went wrong (the command's output).
        message: String,
    },
    /// The broker did not start.
    #[error("starting the test broker: {0}")]
    Start(String),
    /// A Kafka client call failed.
    #[error("test broker: {context}: {source}")]
    Kafka {
        /// What was being done.
        context: String,
        /// The client's error.
        #[source]
        source: KafkaError,
    },
}

fn kafka(context: impl Into<String>) -> impl FnOnce(KafkaError) -> BrokerError {
    let context = context.into();
    move |source| BrokerError::Kafka { context, source }
}

/// A running noida-db broker.
pub struct TestBroker {
    port: u16,
    watchdog: Child,
    _data: tempfile::TempDir,
}

impl TestBroker {
    /// One broker per test process, started on first use.
    pub fn shared() -> Result<&'static TestBroker, BrokerError> {
        static SHARED: OnceLock<Result<TestBroker, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| TestBroker::start().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| BrokerError::Start(e.clone()))
    }

    /// Installs noida-db if needed and starts a broker of its own on a free port.
    pub fn start() -> Result<TestBroker, BrokerError> {
        let binary = install()?;
        let data = tempfile::Builder::new()
            .prefix("tidewater-broker-")
            .tempdir()
            .map_err(|e| BrokerError::Start(format!("creating a data folder: {e}")))?;
        let port = free_port()?;
        let log = std::fs::File::create(data.path().join("broker.log"))
            .map_err(|e| BrokerError::Start(format!("creating the log: {e}")))?;
        let err_log = log
            .try_clone()
            .map_err(|e| BrokerError::Start(format!("opening the log: {e}")))?;
        // The shell runs the broker and stops it when this process is gone, so a test
        // that dies never leaves a broker behind.
        let script = r#"broker="$1"; shift; "$broker" "$@" & b=$!
trap 'kill $b 2>/dev/null; wait $b; exit 0' TERM INT
while kill -0 "$TIDEWATER_TEST_PID" 2>/dev/null && kill -0 $b 2>/dev/null; do sleep 0.5; done
kill $b 2>/dev/null; wait $b"#;
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(&binary)
            .args([
                "start",
                "--only",
                "kafka",
                "--kafka-port",
                &port.to_string(),
                "--data-dir",
            ])
            .arg(data.path().join("data"))
            .env("TIDEWATER_TEST_PID", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err_log)
            .spawn()
            .map_err(|e| BrokerError::Start(format!("running {}: {e}", binary.display())))?;
        let mut broker = TestBroker {
            port,
            watchdog,
            _data: data,
        };
        broker.wait_ready()?;
        Ok(broker)
    }

    fn wait_ready(&mut self) -> Result<(), BrokerError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                // The port answers: check the Kafka protocol does too.
                let probe: Result<BaseConsumer, _> = self.client_config().create();
                if let Ok(c) = probe {
                    if c.fetch_metadata(None, Duration::from_secs(5)).is_ok() {
                        return Ok(());
                    }
                }
            }
            if let Ok(Some(status)) = self.watchdog.try_wait() {
                let log = std::fs::read_to_string(self._data.path().join("broker.log"))
                    .unwrap_or_default();
                return Err(BrokerError::Start(format!(
                    "the broker exited ({status}): {log}"
                )));
            }
            if Instant::now() > deadline {
                return Err(BrokerError::Start(format!(
                    "no answer on port {} after {:?}",
                    self.port, START_TIMEOUT
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `127.0.0.1:port`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.bootstrap())
            .set("log_level", "3");
        c
    }

    /// Creates `topic` with `partitions` partitions.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), BrokerError> {
        let admin: AdminClient<DefaultClientContext> = self
            .client_config()
            .create()
            .map_err(kafka("creating an admin client"))?;
        let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
        let results =
            futures::executor::block_on(admin.create_topics([&new], &AdminOptions::new()))
                .map_err(kafka(format!("creating topic `{topic}`")))?;
        for r in results {
            r.map_err(|(t, code)| BrokerError::Kafka {
                context: format!("creating topic `{t}`"),
                source: KafkaError::AdminOp(code),
            })?;
        }
        Ok(())
    }

    /// Deletes the records of `topic` partition `partition` before offset `before`
    /// (what retention does), so that a reader needing them meets a data loss.
    pub fn delete_records(
        &self,
        topic: &str,
        partition: i32,
        before: i64,
    ) -> Result<(), BrokerError> {
        let admin: AdminClient<DefaultClientContext> = self
            .client_config()
            .create()
            .map_err(kafka("creating an admin client"))?;
        let mut offsets = rdkafka::TopicPartitionList::new();
        offsets
            .add_partition_offset(topic, partition, rdkafka::Offset::Offset(before))
            .map_err(kafka("building the offsets"))?;
        let done =
            futures::executor::block_on(admin.delete_records(&offsets, &AdminOptions::new()))
                .map_err(kafka(format!("deleting records of `{topic}`")))?;
        for e in done.elements() {
            if let Err(e) = e.error() {
                return Err(kafka(format!("deleting records of `{topic}`"))(e));
            }
        }
        Ok(())
    }

    /// Writes `(key, value)` records to `topic` (partitioned by key) and waits until
    /// they are acknowledged.
    pub fn produce(
        &self,
        topic: &str,
        records: &[(Option<&str>, &str)],
    ) -> Result<(), BrokerError> {
        self.produce_to(topic, records.iter().map(|&(k, v)| (None, k, v)))
    }

    /// Writes `(partition, key, value)` records to `topic` and waits until they are
    /// acknowledged (`None` partition: by key).
    pub fn produce_to<'a>(
        &self,
        topic: &str,
        records: impl IntoIterator<Item = (Option<i32>, Option<&'a str>, &'a str)>,
    ) -> Result<(), BrokerError> {
        let producer: ThreadedProducer<DefaultProducerContext> = self
            .client_config()
            .set("partitioner", "murmur2_random")
            .create()
            .map_err(kafka("creating a producer"))?;
        for (partition, key, value) in records {
            let mut r = BaseRecord::<str, str>::to(topic).payload(value);
            if let Some(k) = key {
                r = r.key(k);
            }
            if let Some(p) = partition {
                r = r.partition(p);
            }
            loop {
                match producer.send(r) {
                    Ok(()) => break,
                    Err((
                        KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                        back,
                    )) => {
                        r = back;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err((e, _)) => return Err(kafka(format!("producing to `{topic}`"))(e)),
                }
            }
        }
        producer
            .flush(Duration::from_secs(60))
            .map_err(kafka(format!("flushing to `{topic}`")))
    }

    /// Every record of `topic` a `read_committed` consumer sees now, partition by
    /// partition in offset order.
    pub fn read_committed(&self, topic: &str) -> Result<Vec<KafkaRecord>, BrokerError> {
        let consumer: BaseConsumer<super::QuietEof> = self
            .client_config()
            .set("group.id", "tidewater-test-reader")
            .set("isolation.level", "read_committed")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set(
                "receive.message.max.bytes",
                super::source::RECEIVE_MAX_BYTES,
            )
            .create_with_context(super::QuietEof::default())
            .map_err(kafka("creating a consumer"))?;
        let md = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map_err(kafka(format!("reading the metadata of `{topic}`")))?;
        let partitions: Vec<i32> = md
            .topics()
            .iter()
            .filter(|t| t.name() == topic)
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        let mut tpl = TopicPartitionList::new();
        for &p in &partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .map_err(kafka("building an assignment"))?;
        }
        consumer.assign(&tpl).map_err(kafka("assigning"))?;
        let mut open: std::collections::BTreeSet<i32> = partitions.into_iter().collect();
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !open.is_empty() {
            if Instant::now() > deadline {
                return Err(BrokerError::Start(format!(
                    "reading `{topic}` did not reach its end in 60 s"
                )));
            }
            match consumer.poll(Duration::from_millis(100)) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    open.remove(&p);
                }
                Some(Err(e)) => return Err(kafka(format!("reading `{topic}`"))(e)),
                Some(Ok(m)) => out.push(RecordView::of(&m).to_owned_record()),
            }
        }
        out.sort_by_key(|r| (r.partition, r.offset));
        Ok(out)
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.watchdog.id().to_string())
            .status();
        let _ = self.watchdog.wait();
    }
}

fn free_port() -> Result<u16, BrokerError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| BrokerError::Start(format!("finding a free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| BrokerError::Start(format!("finding a free port: {e}")))
}

/// The noida-db binary, installing the pinned package into the virtualenv first if
/// it is not there.
fn install() -> Result<PathBuf, BrokerError> {
    let requirement = REQUIREMENTS.trim().to_string();
    let fail = |venv: &Path, message: String| BrokerError::Install {
        requirement: requirement.clone(),
        venv: venv.display().to_string(),
        message,
    };
    let venv = crate::testing::python_venv("noida-venv", &requirement, "TIDEWATER_NOIDA_VENV")
        .map_err(|m| fail(Path::new("noida-venv"), m))?;
    let python = venv.join("bin/python");
    let out = Command::new(&python)
        .args([
            "-c",
            "import noida_db, os; print(os.path.dirname(noida_db.__file__))",
        ])
        .output()
        .map_err(|e| fail(&venv, format!("running {}: {e}", python.display())))?;
    if !out.status.success() {
        return Err(fail(
            &venv,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    let binary = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("noida-db");
    if !binary.exists() {
        return Err(fail(&venv, format!("{} is missing", binary.display())));
    }
    Ok(binary)
}
