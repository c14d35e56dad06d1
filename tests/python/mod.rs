//! Python programs run by interop tests, in a virtualenv of pinned packages that the
//! tests install themselves (`connectors::testing::python_venv`).

use std::path::{Path, PathBuf};
use std::process::Command;

use tidewater::connectors::testing::python_venv;

/// A virtualenv `name` holding `requirements` (space-separated pins); `override_env`
/// names a variable that points at an existing one. Panics saying what the tests
/// need when it cannot be made.
pub struct Python {
    pub name: &'static str,
    pub requirements: &'static str,
    pub override_env: &'static str,
}

impl Python {
    fn interpreter(&self) -> PathBuf {
        python_venv(self.name, self.requirements, self.override_env)
            .unwrap_or_else(|e| panic!("these tests need {}: {e}", self.requirements))
            .join("bin/python")
    }

    /// Runs `program` with `args`; its stdout. A failing program fails the test with
    /// its stderr.
    pub fn run(&self, program: &str, args: &[&Path]) -> String {
        let out = Command::new(self.interpreter())
            .arg("-c")
            .arg(program)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}
