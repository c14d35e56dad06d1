//! The one committer of a Delta sink's run: creates the table, widens its schema, and
//! makes one Delta commit per checkpoint from every worker's staged files, marked with
//! the run's application transaction (`txn`: app id + checkpoint, Spark's
//! `txnAppId`/`txnVersion`), so that a recovery never commits a checkpoint twice.

use std::sync::{Arc, Mutex, MutexGuard};

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema as ArrowSchema, SchemaRef};
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, Remove, StructType, Transaction};
use deltalake::logstore::get_actions;
use deltalake::protocol::{DeltaOperation, OutputMode};
use deltalake::DeltaTable;
use tidewater_engine::error::{EngineError, Result};

use super::ledger::Ledger;
use super::table::{arrow_schema, widened, TableLocation};

/// A checkpoint id as a Delta transaction version (the final checkpoint, `u64::MAX`,
/// is `i64::MAX`).
pub(crate) fn txn_version(checkpoint: u64) -> i64 {
    i64::try_from(checkpoint).unwrap_or(i64::MAX)
}

fn checkpoint_of(version: i64) -> u64 {
    if version == i64::MAX {
        u64::MAX
    } else {
        u64::try_from(version).unwrap_or(0)
    }
}

struct State {
    /// This run's application id: every commit of its own checkpoints carries it.
    app_id: String,
    /// The run this one resumes (its app id), and the ledger of the restored
    /// checkpoint's files: they are committed under that run's id, so its `txn` tells
    /// whether they already were.
    resumed: Option<(String, Ledger)>,
    ledger: Ledger,
    table: Option<DeltaTable>,
    recovered: bool,
}

/// Shared by the writers of one run of a Delta sink.
pub(crate) struct Committer {
    location: TableLocation,
    partition_by: Vec<String>,
    workers: usize,
    state: Mutex<State>,
}

impl Committer {
    pub fn new(
        location: TableLocation,
        partition_by: Vec<String>,
        app_id: String,
        workers: usize,
    ) -> Self {
        Committer {
            location,
            partition_by,
            workers,
            state: Mutex::new(State {
                app_id,
                resumed: None,
                ledger: Ledger::new(workers),
                table: None,
                recovered: false,
            }),
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state.lock().map_err(|_| EngineError::Sink {
            sink: "delta_sink".into(),
            message: format!(
                "{}: another worker failed while committing",
                self.location.path.display()
            ),
        })
    }

    /// This run's application id (written into the `txn` of its commits).
    pub fn app_id(&self) -> Result<String> {
        Ok(self.lock()?.app_id.clone())
    }

    /// The table's schema, creating the table from `schema` when none exists.
    pub fn ensure_table(&self, schema: &ArrowSchema) -> Result<SchemaRef> {
        let mut state = self.lock()?;
        if state.table.is_none() {
            state.table = self.location.open()?;
        }
        if state.table.is_none() {
            for column in &self.partition_by {
                if schema.field_with_name(column).is_err() {
                    return Err(EngineError::invalid(
                        "delta_sink",
                        "partition_by",
                        format!("columns of the rows ({})", field_names(schema)),
                        column,
                    ));
                }
            }
            state.table = Some(self.location.create(schema, &self.partition_by)?);
        }
        match &state.table {
            Some(table) => arrow_schema(&self.location, table),
            None => Err(self.location.error(
                "creating",
                deltalake::DeltaTableError::Generic("no table after creating it".into()),
            )),
        }
    }

    /// Adds the columns of `batch` the table lacks (Delta's `mergeSchema`); returns
    /// the widened schema.
    pub fn widen(&self, batch: &RecordBatch) -> Result<SchemaRef> {
        let mut state = self.lock()?;
        let mut table = self.reload(state.table.take())?;
        let current = arrow_schema(&self.location, &table)?;
        let target = widened(&current, batch);
        if target.fields().len() > current.fields().len() {
            let kernel: StructType = (&target)
                .try_into_kernel()
                .map_err(|e| self.location.error("widening the schema", e.into()))?;
            let added: Vec<_> = kernel
                .fields()
                .filter(|f| current.field_with_name(f.name()).is_err())
                .cloned()
                .collect();
            table = self
                .location
                .block_on(std::future::IntoFuture::into_future(
                    table.add_columns().with_fields(added),
                ))
                .map_err(|e| self.location.error("adding columns", e))?;
        }
        let schema = arrow_schema(&self.location, &table)?;
        state.table = Some(table);
        Ok(schema)
    }

    /// `worker` reached checkpoint `upto` with these files not yet committed; commits
    /// when every worker has.
    pub fn report(&self, worker: usize, upto: u64, files: Vec<(u64, Add)>) -> Result<()> {
        let mut state = self.lock()?;
        let Some((checkpoint, adds)) = state.ledger.report(worker, upto, files) else {
            return Ok(());
        };
        if adds.is_empty() {
            return Ok(());
        }
        let actions = adds.into_iter().map(Action::Add).collect();
        let app_id = state.app_id.clone();
        self.commit(&mut state, app_id, checkpoint, actions)
    }

    /// `worker`'s files of the restored checkpoint; committed under the resumed run's
    /// id once every worker has reported, unless the table already holds them.
    pub fn report_restored(
        &self,
        worker: usize,
        restored: u64,
        files: Vec<(u64, Add)>,
    ) -> Result<()> {
        let mut state = self.lock()?;
        let Some((app_id, mut ledger)) = state.resumed.take() else {
            return Ok(());
        };
        let ready = ledger.report(worker, restored, files);
        state.resumed = Some((app_id.clone(), ledger));
        match ready {
            Some((checkpoint, adds)) if !adds.is_empty() => {
                let actions = adds.into_iter().map(Action::Add).collect();
                self.commit(&mut state, app_id, checkpoint, actions)
            }
            _ => Ok(()),
        }
    }

    /// Commits `adds` at once as a plain append (at-least-once delivery).
    pub fn commit_direct(&self, adds: Vec<Add>) -> Result<()> {
        if adds.is_empty() {
            return Ok(());
        }
        let mut state = self.lock()?;
        let table = self.reload(state.table.take())?;
        let operation = DeltaOperation::Write {
            mode: deltalake::protocol::SaveMode::Append,
            partition_by: (!self.partition_by.is_empty()).then(|| self.partition_by.clone()),
            predicate: None,
        };
        let snapshot = table
            .snapshot()
            .map_err(|e| self.location.error("reading the snapshot", e))?;
        self.location
            .block_on(async {
                CommitBuilder::default()
                    .with_actions(adds.into_iter().map(Action::Add).collect())
                    .build(Some(snapshot), table.log_store(), operation)
                    .await
            })
            .map_err(|e| self.location.error("committing", e))?;
        state.table = Some(table);
        Ok(())
    }

    /// The run resumes from checkpoint `restored` of the run `app_id`: learn what the
    /// table already holds of that run, and undo its commits of checkpoints after
    /// `restored` (recovery fell back past a newer checkpoint, whose rows the replay
    /// writes again). This run's own commits carry its own id: a resumed run's
    /// checkpoints (its final one above all) must not pass for the old run's.
    pub fn recover(&self, app_id: &str, restored: u64) -> Result<()> {
        let mut state = self.lock()?;
        if state.recovered {
            return Ok(());
        }
        state.recovered = true;
        let mut ledger = Ledger::new(self.workers);
        let table = self.location.open()?;
        let Some(table) = table else {
            state.table = None;
            state.resumed = Some((app_id.to_string(), ledger));
            return Ok(());
        };
        let committed = self
            .location
            .block_on(async {
                table
                    .snapshot()?
                    .transaction_version(table.log_store().as_ref(), app_id)
                    .await
            })
            .map_err(|e| self.location.error("reading the run's last transaction", e))?
            .map(checkpoint_of);
        state.table = Some(table);
        ledger.set_committed(committed.map(|c| c.min(restored)));
        state.resumed = Some((app_id.to_string(), ledger));
        if committed.is_some_and(|c| c > restored) {
            self.roll_back_after(&mut state, app_id, restored)?;
        }
        Ok(())
    }

    /// Removes the files this run committed for checkpoints after `restored`.
    fn roll_back_after(&self, state: &mut State, app_id: &str, restored: u64) -> Result<()> {
        let table = self.reload(state.table.take())?;
        let latest = table.version().unwrap_or(0);
        let mut removed = Vec::new();
        for version in (0..=latest).rev() {
            let Some(bytes) = self
                .location
                .block_on(table.log_store().read_commit_entry(version))
                .map_err(|e| {
                    self.location
                        .error(&format!("reading version {version}"), e)
                })?
            else {
                break;
            };
            let actions = get_actions(version, &bytes).map_err(|e| {
                self.location
                    .error(&format!("reading version {version}"), e)
            })?;
            let ours = actions.iter().find_map(|a| match a {
                Action::Txn(t) if t.app_id == app_id => Some(checkpoint_of(t.version)),
                _ => None,
            });
            match ours {
                Some(c) if c > restored => {
                    removed.extend(actions.into_iter().filter_map(|a| match a {
                        Action::Add(add) => Some(add),
                        _ => None,
                    }))
                }
                Some(_) => break,
                None => {}
            }
        }
        state.table = Some(table);
        let now = chrono::Utc::now().timestamp_millis();
        let actions: Vec<Action> = removed
            .into_iter()
            .map(|add| {
                Action::Remove(Remove {
                    path: add.path,
                    data_change: true,
                    deletion_timestamp: Some(now),
                    extended_file_metadata: Some(true),
                    partition_values: Some(add.partition_values),
                    size: Some(add.size),
                    tags: None,
                    deletion_vector: None,
                    base_row_id: None,
                    default_row_commit_version: None,
                })
            })
            .collect();
        tracing::warn!(
            table = %self.location.path.display(),
            files = actions.len(),
            restored,
            "removing this run's files of checkpoints newer than the restored one: the replay writes their rows again"
        );
        self.commit(state, app_id.to_string(), restored, actions)
    }

    fn reload(&self, table: Option<DeltaTable>) -> Result<DeltaTable> {
        match table {
            Some(mut t) => {
                self.location
                    .block_on(t.update_state())
                    .map_err(|e| self.location.error("refreshing", e))?;
                Ok(t)
            }
            None => self.location.open()?.ok_or_else(|| {
                self.location.error(
                    "opening",
                    deltalake::DeltaTableError::NotATable("no table to commit to".into()),
                )
            }),
        }
    }

    /// One Delta commit of `actions`, marked as this run's checkpoint `checkpoint`.
    fn commit(
        &self,
        state: &mut State,
        app_id: String,
        checkpoint: u64,
        actions: Vec<Action>,
    ) -> Result<()> {
        let table = self.reload(state.table.take())?;
        let version = txn_version(checkpoint);
        let properties = CommitProperties::default()
            .with_application_transaction(Transaction::new(&app_id, version));
        let operation = DeltaOperation::StreamingUpdate {
            output_mode: OutputMode::Append,
            query_id: app_id,
            epoch_id: version,
        };
        let snapshot = table
            .snapshot()
            .map_err(|e| self.location.error("reading the snapshot", e))?;
        self.location
            .block_on(async {
                CommitBuilder::from(properties)
                    .with_actions(actions)
                    .build(Some(snapshot), table.log_store(), operation)
                    .await
            })
            .map_err(|e| {
                self.location
                    .error(&format!("committing checkpoint {checkpoint}"), e)
            })?;
        state.table = Some(table);
        Ok(())
    }
}

fn field_names(schema: &ArrowSchema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The committer of the run a writer belongs to: the writers of one run share one; a
/// writer created after all of a run's writers attached starts the next run's.
#[derive(Default)]
pub(crate) struct Committers {
    current: Mutex<Option<(Arc<Committer>, usize)>>,
}

impl Committers {
    pub fn attach(
        &self,
        workers: usize,
        make: impl FnOnce() -> Result<Committer>,
    ) -> Result<Arc<Committer>> {
        let mut current = self.current.lock().map_err(|_| EngineError::Sink {
            sink: "delta_sink".into(),
            message: "a writer failed while joining the run".into(),
        })?;
        if let Some((committer, attached)) = current.as_mut() {
            if *attached < committer.workers() && committer.workers() == workers {
                *attached += 1;
                return Ok(committer.clone());
            }
        }
        let committer = Arc::new(make()?);
        *current = Some((committer.clone(), 1));
        Ok(committer)
    }
}
