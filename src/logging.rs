//! Structured logs: the engine and connectors log through `tracing` (quiet unless a
//! subscriber is installed); programs install one with [`init`].

/// Installs a `tracing` subscriber writing to stderr, filtered by `RUST_LOG` (default:
/// warnings and errors only, so a job's stdout and stderr stay clean). Calling it twice
/// is harmless.
///
/// ```
/// tidewater::logging::init();
/// tracing::warn!("shown on stderr");
/// ```
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}
