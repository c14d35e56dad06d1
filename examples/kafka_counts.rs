//! Kafka in, 1-second tumbling windows per key, Kafka out, checkpointed.
//!
//! Reads JSON events `{"key": str, "value": f64, "ts": epoch ms}` from the start of
//! `--input` up to the end offsets seen at start, then stops; writes
//! `{"key","window_start","window_end","count","sum"}` to `--output`. Started again
//! with the same `--checkpoint-dir` it resumes where the last run stopped.
//!
//! ```text
//! cargo run --release --example kafka_counts -- --bootstrap localhost:9092 \
//!     --input events --output counts --checkpoint-dir /tmp/kc --delivery exactly-once
//! ```

use std::path::PathBuf;

use clap::Parser;
use tidewater::engine::config::DeliveryGuarantee;
use tidewater::jobs::kafka_counts::KafkaCounts;

#[derive(Parser)]
#[command(about = "Kafka -> 1 s tumbling count/sum per key -> Kafka, checkpointed")]
struct Args {
    /// host:port of the Kafka cluster.
    #[arg(long)]
    bootstrap: String,
    /// Topic of JSON events {"key","value","ts"}.
    #[arg(long)]
    input: String,
    /// Topic the window results are written to.
    #[arg(long)]
    output: String,
    /// Topic for values that are not such events (default: <output>.dead-letters).
    #[arg(long)]
    dead_letters: Option<String>,
    /// Checkpoint folder (sled); a restart with the same folder resumes.
    #[arg(long)]
    checkpoint_dir: PathBuf,
    /// exactly-once or at-least-once.
    #[arg(long, default_value = "exactly-once")]
    delivery: DeliveryGuarantee,
    /// Processing time between checkpoints.
    #[arg(long, default_value_t = 1000)]
    checkpoint_interval_ms: u64,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    parallelism: usize,
}

fn main() {
    tidewater::logging::init();
    let args = Args::parse();
    let job = KafkaCounts {
        bootstrap: args.bootstrap,
        input: args.input,
        output: args.output,
        dead_letters: args.dead_letters,
        checkpoint_dir: args.checkpoint_dir,
        delivery: args.delivery,
        checkpoint_interval_ms: args.checkpoint_interval_ms,
        parallelism: args.parallelism,
    };
    match job.run() {
        Ok(m) => {
            if let Some(line) = m.checkpoints.as_ref().and_then(|c| c.restored()) {
                eprintln!("kafka_counts: {line}");
            }
            let secs = m.elapsed.as_secs_f64();
            eprintln!(
                "kafka_counts: {} events in {:.2} s ({:.0} events/s), {} dead letters, latency p50 {:.1} ms p99 {:.1} ms",
                m.source_records,
                secs,
                m.events_per_sec,
                m.dead_letters,
                m.latency.p50_ms,
                m.latency.p99_ms
            );
        }
        Err(e) => {
            eprintln!("kafka_counts: {e}");
            std::process::exit(1);
        }
    }
}
