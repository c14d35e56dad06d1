//! Named fault-injection points for crash tests (cargo feature `fault-injection`; without
//! it every point compiles to nothing).
//!
//! A test arms one point for a child process with the environment variable
//! `TIDEWATER_FAULT=<point>@<n>`: the `n`-th time the process reaches that point it
//! aborts on the spot, as a power cut or `kill -9` would at exactly that moment. The
//! points sit where a crash is hardest to survive:
//!
//! | point | where |
//! | --- | --- |
//! | `checkpoint.before_store` | a complete checkpoint is about to be written to sled |
//! | `checkpoint.after_store` | it is durable, but no sink has committed it yet |
//! | `sink.pre_commit` | a sink is about to pre-commit its transaction |
//! | `sink.commit` | a sink is about to publish a stored checkpoint's transaction |
//! | `recovery` | a restarted run has read its checkpoint and is about to build |
//! | `kafka.before_commit` | a Kafka sink's transaction holds its records and marker, not yet committed (`tidewater-connectors`) |

/// The environment variable that arms a point.
pub const FAULT_ENV: &str = "TIDEWATER_FAULT";

/// Every point, for tests that arm each in turn.
pub const POINTS: [&str; 5] = [
    "checkpoint.before_store",
    "checkpoint.after_store",
    "sink.pre_commit",
    "sink.commit",
    "recovery",
];

/// Bugs a test can plant in the runtime to check that its tests find them (feature
/// `fault-injection`; compiled out otherwise). `barrier_before_alignment`: a union or
/// exchange forwards a checkpoint barrier as soon as its first input delivers it.
pub const PLANTABLE: [&str; 1] = ["barrier_before_alignment"];

#[cfg(feature = "fault-injection")]
static PLANTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Plants the bug `name` for the rest of the process (tests only).
#[cfg(feature = "fault-injection")]
pub fn plant(name: &str) {
    if name == PLANTABLE[0] {
        PLANTED.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Whether the bug `name` is planted.
#[cfg(feature = "fault-injection")]
#[inline]
pub fn planted(name: &str) -> bool {
    name == PLANTABLE[0] && PLANTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether the bug `name` is planted (never: feature off).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn planted(name: &str) -> bool {
    let _ = name;
    false
}

/// Aborts the process if `name` is the armed point and this is its armed hit.
#[cfg(feature = "fault-injection")]
pub fn point(name: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);
    let armed = ARMED.get_or_init(|| {
        let spec = std::env::var(FAULT_ENV).ok()?;
        let (point, n) = spec.split_once('@').unwrap_or((spec.as_str(), "1"));
        Some((point.to_string(), n.parse().unwrap_or(1)))
    });
    if let Some((point, n)) = armed {
        if point == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n {
            std::process::abort();
        }
    }
}

/// Aborts the process if `name` is the armed point (compiled out: feature off).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point(name: &str) {
    let _ = name;
}
