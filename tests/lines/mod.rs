//! The output of a child process as it comes, line by line, for tests that wait on
//! what a running `tidewater` says (`started:`, `progress:`) instead of sleeping.

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    Stdout,
    Stderr,
}

/// A child's stdout and stderr, gathered by two reader threads.
pub struct Lines {
    news: Receiver<(From, String)>,
    /// Everything received so far.
    pub stdout: String,
    pub stderr: String,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Lines {
    /// Reads `stdout` and `stderr` of a child.
    pub fn new(stdout: impl Read + Send + 'static, stderr: impl Read + Send + 'static) -> Lines {
        let (tx, news) = channel();
        let reader = |from: From, pipe: Box<dyn Read + Send>, tx: std::sync::mpsc::Sender<_>| {
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if tx.send((from, line)).is_err() {
                        return;
                    }
                }
            })
        };
        let readers = vec![
            reader(From::Stdout, Box::new(stdout), tx.clone()),
            reader(From::Stderr, Box::new(stderr), tx),
        ];
        Lines {
            news,
            stdout: String::new(),
            stderr: String::new(),
            readers,
        }
    }

    fn take(&mut self, (from, line): (From, String)) {
        let text = match from {
            From::Stdout => &mut self.stdout,
            From::Stderr => &mut self.stderr,
        };
        text.push_str(&line);
        text.push('\n');
    }

    /// Waits, at most `limit`, until `ready(stdout, stderr)` holds; each new line is a
    /// reason to look again. An error says what was printed, if it never does.
    pub fn wait_until(
        &mut self,
        limit: Duration,
        ready: impl Fn(&str, &str) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        while !ready(&self.stdout, &self.stderr) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.news.recv_timeout(left) {
                Ok(line) => self.take(line),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("timed out:\n{}\n{}", self.stdout, self.stderr))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!(
                        "the child ended:\n{}\n{}",
                        self.stdout, self.stderr
                    ))
                }
            }
        }
        Ok(())
    }

    /// Everything to the end of both streams (the child has exited or will).
    pub fn finish(mut self) -> (String, String) {
        for reader in std::mem::take(&mut self.readers) {
            let _ = reader.join();
        }
        while let Ok(line) = self.news.try_recv() {
            self.take(line);
        }
        (self.stdout, self.stderr)
    }
}

/// The records a `tidewater run` has read, from the last `progress:` line of its
/// stderr (0 before any).
#[allow(dead_code)] // not every test binary that shares this module uses it
pub fn records_read(stderr: &str) -> u64 {
    stderr
        .lines()
        .rev()
        .filter_map(|l| l.strip_prefix("progress: "))
        .filter_map(|l| l.split(", ").nth(1)?.strip_suffix(" records")?.parse().ok())
        .next()
        .unwrap_or(0)
}
