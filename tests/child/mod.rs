//! Running a job in a child process for the crash tests: the test binary re-executes
//! itself running only its child-entry test, with the job (JSON) in an environment
//! variable; the child is killed with SIGKILL after a while, or aborts at an armed
//! fault-injection point, or finishes.

use std::process::{Command, Stdio};
use std::time::Duration;

/// A child process running one job.
pub struct Child<'a> {
    /// The name of the test that runs the job when `env` is set.
    pub entry: &'a str,
    /// The environment variable that carries the job.
    pub env: &'a str,
    /// The job, as JSON.
    pub job: String,
}

/// How a child run ended.
#[allow(dead_code)] // not every test binary that includes this module waits for one
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It finished by itself, successfully.
    Finished,
    /// It was killed with SIGKILL.
    Killed,
    /// It exited unsuccessfully (an armed point aborted it, or the job failed).
    Failed,
}

#[allow(dead_code)]
impl Child<'_> {
    /// Runs the child; kills it after `kill_after` if given; `fault` arms a point
    /// (`point@n`). A run that neither ends nor is killed within `limit` fails the test.
    pub fn run(&self, kill_after: Option<Duration>, fault: Option<&str>, limit: Duration) -> Ended {
        let mut command = Command::new(std::env::current_exe().unwrap());
        if let Some(fault) = fault {
            command.env(tidewater::engine::fault::FAULT_ENV, fault);
        }
        // A run expected to end shows its errors; killed runs stay quiet.
        let stderr = if kill_after.is_none() && fault.is_none() {
            Stdio::inherit()
        } else {
            Stdio::null()
        };
        let mut child = command
            .args(["--exact", self.entry, "--nocapture", "--test-threads", "1"])
            .env(self.env, &self.job)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        // A thread waits for the child's exit; this one waits for that news, at most
        // until the kill moment (or the limit).
        let pid = child.id();
        let (exited, news) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = exited.send(child.wait().map(|s| s.success()));
        });
        let wait = kill_after.unwrap_or(limit);
        match news.recv_timeout(wait) {
            Ok(Ok(true)) => Ended::Finished,
            Ok(_) => Ended::Failed,
            Err(_) => {
                assert!(kill_after.is_some(), "the job hung for {limit:?}");
                let killed = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status()
                    .unwrap();
                assert!(killed.success(), "could not kill the child {pid}");
                // Reaped by the waiting thread.
                let _ = news.recv_timeout(limit);
                Ended::Killed
            }
        }
    }
}

/// A child started with [`Child::spawn`], running until killed.
#[allow(dead_code)] // not every test binary that includes this module starts one
pub struct Running {
    process: std::process::Child,
}

#[allow(dead_code)]
impl Child<'_> {
    /// Starts the child without waiting for it (its errors go to this test's output).
    pub fn spawn(&self) -> Running {
        let process = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", self.entry, "--nocapture", "--test-threads", "1"])
            .env(self.env, &self.job)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Running { process }
    }
}

#[allow(dead_code)]
impl Running {
    /// Kills the child with SIGKILL and reaps it.
    pub fn kill(mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }

    /// Sends the child `signal` (`STOP` freezes it, as a long GC pause or a swapped-out
    /// process would; `CONT` thaws it).
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.process.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal} failed");
    }

    /// True if the child has exited (it should not have: it runs until killed).
    pub fn exited(&mut self) -> bool {
        matches!(self.process.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
