//! Which staged files go into which Delta commit: pure bookkeeping for the sink's
//! committer, kept apart from I/O so it can be tested as a table.
//!
//! Every worker writes its own data files and reports them with the checkpoint that
//! covers them. A checkpoint's files are committed once every worker has reported
//! that checkpoint complete (a worker may skip reporting a checkpoint and report a
//! later one, which covers it), so one Delta commit holds a whole checkpoint of every
//! worker; a commit covers the newest checkpoint every worker has reached.

use std::collections::BTreeMap;

use deltalake::kernel::Add;

/// Staged files by checkpoint and what each worker has reported.
#[derive(Debug)]
pub(crate) struct Ledger {
    reported: Vec<Option<u64>>,
    staged: BTreeMap<u64, Vec<Add>>,
    committed: Option<u64>,
}

impl Ledger {
    /// A ledger for `workers` workers, nothing committed yet.
    pub fn new(workers: usize) -> Self {
        Ledger {
            reported: vec![None; workers.max(1)],
            staged: BTreeMap::new(),
            committed: None,
        }
    }

    /// Marks checkpoints up to `committed` as already in the table.
    pub fn set_committed(&mut self, committed: Option<u64>) {
        self.committed = committed;
        if let Some(c) = committed {
            self.staged.retain(|cp, _| *cp > c);
        }
    }

    /// `worker` reports checkpoint `upto` complete, with its files not yet committed
    /// (each with its checkpoint). Returns the checkpoint to commit and its files when
    /// every worker has reached one newer than the last commit; files of checkpoints
    /// already committed, and files staged twice, are left out.
    pub fn report(
        &mut self,
        worker: usize,
        upto: u64,
        files: impl IntoIterator<Item = (u64, Add)>,
    ) -> Option<(u64, Vec<Add>)> {
        for (checkpoint, add) in files {
            if self.committed.is_some_and(|c| checkpoint <= c) {
                continue;
            }
            let staged = self.staged.entry(checkpoint).or_default();
            if !staged.iter().any(|a| a.path == add.path) {
                staged.push(add);
            }
        }
        if let Some(slot) = self.reported.get_mut(worker) {
            *slot = Some(slot.map_or(upto, |r| r.max(upto)));
        }
        let ready = self
            .reported
            .iter()
            .copied()
            .collect::<Option<Vec<u64>>>()?;
        let ready = ready.into_iter().min()?;
        if self.committed.is_some_and(|c| ready <= c) {
            return None;
        }
        let later = match ready.checked_add(1) {
            Some(next) => self.staged.split_off(&next),
            None => std::collections::BTreeMap::new(),
        };
        let files: Vec<Add> = std::mem::replace(&mut self.staged, later)
            .into_values()
            .flatten()
            .collect();
        self.committed = Some(ready);
        Some((ready, files))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(path: &str) -> Add {
        Add {
            path: path.to_string(),
            ..Default::default()
        }
    }

    fn paths(out: Option<(u64, Vec<Add>)>) -> Option<(u64, Vec<String>)> {
        out.map(|(c, adds)| (c, adds.into_iter().map(|a| a.path).collect()))
    }

    /// (worker, checkpoint reported, files as (checkpoint, path), commit expected)
    type Step = (
        usize,
        u64,
        Vec<(u64, &'static str)>,
        Option<(u64, Vec<&'static str>)>,
    );

    #[test]
    fn a_checkpoint_is_committed_once_every_worker_reached_it() {
        let steps: Vec<Step> = vec![
            (0, 1, vec![(1, "a")], None),
            (1, 1, vec![(1, "b")], Some((1, vec!["a", "b"]))),
            // worker 1 skips reporting 2; its report of 3 covers it
            (0, 2, vec![(2, "c")], None),
            (0, 3, vec![(3, "d")], None),
            (
                1,
                3,
                vec![(2, "e"), (3, "f")],
                Some((3, vec!["c", "e", "d", "f"])),
            ),
            // a repeated report of committed files commits nothing again
            (1, 3, vec![(3, "f")], None),
            // the final checkpoint
            (0, u64::MAX, vec![(u64::MAX, "g")], None),
            (1, u64::MAX, vec![], Some((u64::MAX, vec!["g"]))),
        ];
        let mut ledger = Ledger::new(2);
        for (i, (worker, upto, files, expected)) in steps.into_iter().enumerate() {
            let out = ledger.report(worker, upto, files.into_iter().map(|(c, p)| (c, add(p))));
            let expected = expected.map(|(c, p)| (c, p.into_iter().map(String::from).collect()));
            assert_eq!(paths(out), expected, "step {i}");
        }
    }

    #[test]
    fn recovery_commits_only_what_the_table_lacks() {
        let mut ledger = Ledger::new(1);
        ledger.set_committed(Some(5));
        // the restored checkpoint (6) still lists a file of checkpoint 5, committed
        // before the crash, and one of 6, not committed
        let out = ledger.report(0, 6, [(5, add("old")), (6, add("new"))]);
        assert_eq!(paths(out), Some((6, vec!["new".to_string()])));
    }
}
