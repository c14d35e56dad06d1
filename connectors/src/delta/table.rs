//! A Delta table as the connectors use it: its location, a runtime to drive
//! delta-rs's async API from a worker thread, and rows shaped to the table's schema.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{new_null_array, ArrayRef, RecordBatch};
use arrow::datatypes::{Schema as ArrowSchema, SchemaRef};
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::StructType;
use deltalake::{DeltaTable, DeltaTableError};
use tidewater_engine::error::{EngineError, Result};
use url::Url;

/// A table's folder, and a single-threaded runtime that runs its async calls to
/// completion on the calling (worker) thread.
pub(crate) struct TableLocation {
    pub path: PathBuf,
    pub url: Url,
    runtime: tokio::runtime::Runtime,
}

impl TableLocation {
    /// The table at `path` (the folder is created when missing, so that a table can
    /// be created there).
    pub fn new(path: &Path, create: bool) -> Result<Self> {
        if create {
            std::fs::create_dir_all(path)
                .map_err(|e| EngineError::io(format!("creating {}", path.display()), e))?;
        }
        let absolute = std::path::absolute(path)
            .map_err(|e| EngineError::io(format!("resolving {}", path.display()), e))?;
        let url = Url::from_directory_path(&absolute).map_err(|()| {
            EngineError::invalid(
                "delta",
                "path",
                "a local folder",
                absolute.display().to_string(),
            )
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| EngineError::io("starting the Delta client's runtime", e))?;
        Ok(TableLocation {
            path: absolute,
            url,
            runtime,
        })
    }

    /// Runs an async delta-rs call to completion.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// An error of this table: what was being done and delta-rs's error as the source.
    pub fn error(&self, doing: &str, e: DeltaTableError) -> EngineError {
        EngineError::external(format!("Delta table {}: {doing}", self.path.display()), e)
    }

    /// The table as it is now; `None` when no table exists here yet.
    pub fn open(&self) -> Result<Option<DeltaTable>> {
        // Asked to open an empty folder, delta-rs logs an error before saying so.
        let has_commits = std::fs::read_dir(self.path.join("_delta_log")).is_ok_and(|entries| {
            entries.filter_map(|e| e.ok()).any(|e| {
                e.path()
                    .extension()
                    .is_some_and(|x| x == "json" || x == "parquet")
            })
        });
        if !has_commits {
            return Ok(None);
        }
        let table = self
            .block_on(DeltaTable::try_from_url(self.url.clone()))
            .map_err(|e| self.error("opening", e))?;
        Ok(table.version().is_some().then_some(table))
    }

    /// The table at `version`.
    pub fn open_version(&self, version: u64) -> Result<DeltaTable> {
        let table = self
            .block_on(async {
                let mut t = deltalake::DeltaTableBuilder::from_url(self.url.clone())?.build()?;
                t.load_version(version).await?;
                Ok::<_, DeltaTableError>(t)
            })
            .map_err(|e| self.error(&format!("opening version {version}"), e))?;
        // Make sure the snapshot is usable before handing it out.
        table
            .snapshot()
            .map_err(|e| self.error(&format!("reading version {version}"), e))?;
        Ok(table)
    }

    /// Creates the table with the columns of `schema`, partitioned by `partition_by`.
    pub fn create(&self, schema: &ArrowSchema, partition_by: &[String]) -> Result<DeltaTable> {
        let kernel: StructType = schema
            .try_into_kernel()
            .map_err(|e| self.error("deriving the table's schema", e.into()))?;
        self.block_on(async {
            // Built, not loaded: loading an empty folder logs an error.
            deltalake::DeltaTableBuilder::from_url(self.url.clone())?
                .build()?
                .create()
                .with_columns(kernel.fields().cloned())
                .with_partition_columns(partition_by.to_vec())
                .await
        })
        .map_err(|e| self.error("creating", e))
    }
}

/// The table's columns as Arrow sees them.
pub(crate) fn arrow_schema(location: &TableLocation, table: &DeltaTable) -> Result<SchemaRef> {
    Ok(table
        .snapshot()
        .map_err(|e| location.error("reading the schema", e))?
        .snapshot()
        .arrow_schema())
}

/// Rows as a batch of the table's columns (`natural`: the rows' own batch), in the
/// table's order and types (a missing column is null; a value is cast to its column's
/// type, so ISO text fills a timestamp column). When the rows have columns the table
/// lacks, the natural batch comes back with their names, for schema evolution.
pub(crate) fn conform(
    natural: RecordBatch,
    table: &SchemaRef,
) -> std::result::Result<(RecordBatch, Vec<String>), String> {
    let extra: Vec<String> = natural
        .schema()
        .fields()
        .iter()
        .filter(|f| table.field_with_name(f.name()).is_err())
        .map(|f| f.name().clone())
        .collect();
    if !extra.is_empty() {
        return Ok((natural, extra));
    }
    let columns = table
        .fields()
        .iter()
        .map(|field| match natural.column_by_name(field.name()) {
            Some(column) if column.data_type() == field.data_type() => Ok(column.clone()),
            Some(column) => arrow::compute::cast(column, field.data_type()).map_err(|e| {
                format!(
                    "column `{}`: {} values do not fit the table's {} column: {e}",
                    field.name(),
                    column.data_type(),
                    field.data_type()
                )
            }),
            None => Ok(new_null_array(field.data_type(), natural.num_rows())),
        })
        .collect::<std::result::Result<Vec<ArrayRef>, String>>()?;
    let batch = RecordBatch::try_new(table.clone(), columns).map_err(|e| e.to_string())?;
    Ok((batch, Vec::new()))
}

/// The table's schema widened by the columns of `batch` it lacks (nullable).
pub(crate) fn widened(table: &SchemaRef, batch: &RecordBatch) -> ArrowSchema {
    let mut fields: Vec<_> = table.fields().iter().cloned().collect();
    for f in batch.schema().fields() {
        if table.field_with_name(f.name()).is_err() {
            fields.push(Arc::new(f.as_ref().clone().with_nullable(true)));
        }
    }
    ArrowSchema::new(fields)
}
