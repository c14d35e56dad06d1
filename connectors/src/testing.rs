//! Test support shared by the connectors' tests and users' own: Python virtualenvs with
//! pinned packages (the Kafka test broker, pyarrow for Parquet interoperability),
//! created once in the cargo target folder and reused.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A virtualenv holding `requirement` (pinned pip requirements separated by spaces,
/// such as `pyarrow==18.1.0` or `deltalake==1.1.4 pyarrow==18.1.0`), created on first use as `<target>/<name>` (or under the temp
/// folder outside cargo), or at `override_env`'s path when that variable is set. Built
/// beside and renamed in, so concurrent test binaries never see half of one. The error
/// says what failed (Python missing, pip's output).
pub fn python_venv(name: &str, requirement: &str, override_env: &str) -> Result<PathBuf, String> {
    let venv = std::env::var_os(override_env)
        .map(PathBuf::from)
        .or_else(|| target_dir().map(|t| t.join(name)))
        .unwrap_or_else(|| std::env::temp_dir().join(format!("tidewater-{name}")));
    let requirement = requirement.trim();
    let stamp = venv.join("tidewater-requirement");
    // One creator at a time in this process (tests run on threads); other processes
    // are kept apart by their own staging folders.
    static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = CREATING.lock().unwrap_or_else(|p| p.into_inner());
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == requirement) {
        return Ok(venv);
    }
    let staging = venv.with_extension(format!("staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    run(Command::new(python()).args(["-m", "venv"]).arg(&staging))?;
    run(Command::new(staging.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(requirement.split_whitespace()))?;
    std::fs::write(staging.join("tidewater-requirement"), requirement)
        .map_err(|e| format!("writing {}: {e}", staging.display()))?;
    let _ = std::fs::remove_dir_all(&venv);
    if std::fs::rename(&staging, &venv).is_err() {
        // Another process won the race: use its venv.
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(venv)
}

/// The cargo target folder this test runs from (it holds `CACHEDIR.TAG`).
fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .find(|d| d.join("CACHEDIR.TAG").exists())
        .map(Path::to_path_buf)
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Runs a command; its output is the error when it fails.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("running {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} failed ({}): {}{}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
