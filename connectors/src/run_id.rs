//! Names for one run of a sink, unique across runs and processes.

/// A name no earlier run used: the wall-clock time in ms, the process id and a counter
/// (a restart may reuse the pid, two processes may start in the same ms, one process
/// may start several runs; names by any one of them alone would collide and overwrite
/// or pass for another run's output).
pub(crate) fn run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!(
        "{ms:013}-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    )
}
