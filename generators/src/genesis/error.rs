//! Typed errors of fitting and sampling: each names the column, the condition or the
//! file, what was expected and what was found.

use thiserror::Error;

/// A problem fitting a generator, loading a model or sampling under conditions.
#[derive(Debug, Clone, Error, PartialEq)]
#[non_exhaustive]
pub enum GenesisError {
    /// The training table has no rows.
    #[error("cannot fit on an empty table: expected at least one row, found none")]
    EmptyTable,
    /// The training table has no columns.
    #[error("cannot fit on a table without columns")]
    NoColumns,
    /// A condition or key names a column the model does not have.
    #[error("unknown column `{column}`; the model's columns are: {known}")]
    UnknownColumn {
        /// The name given.
        column: String,
        /// Comma separated list of the model's columns.
        known: String,
    },
    /// A condition that cannot be read or does not fit its column.
    #[error("condition on `{column}`: expected {expected}, found {found}")]
    InvalidCondition {
        /// The column.
        column: String,
        /// What a valid condition looks like.
        expected: String,
        /// What was given.
        found: String,
    },
    /// No row of the fitted distribution satisfies the condition.
    #[error("condition on `{column}` cannot be met: {condition} while {why}")]
    Infeasible {
        /// The column.
        column: String,
        /// The condition as given.
        condition: String,
        /// What the model knows about the column (its range or categories).
        why: String,
    },
    /// Rejection sampling accepted too few candidates.
    #[error(
        "conditions {conditions} accept {accepted} of {attempts} candidates \
         ({rate:.2e}), below the bound {bound:.2e}; loosen them or raise the bound"
    )]
    AcceptanceTooLow {
        /// The conditions as given.
        conditions: String,
        /// Candidates accepted.
        accepted: u64,
        /// Candidates drawn.
        attempts: u64,
        /// `accepted / attempts`.
        rate: f64,
        /// The configured minimum.
        bound: f64,
    },
    /// A parameter out of range.
    #[error("`{field}`: expected {expected}, found {found}")]
    InvalidParameter {
        /// The parameter.
        field: String,
        /// What a valid value looks like.
        expected: String,
        /// What was given.
        found: String,
    },
    /// A training file or a saved model could not be read or written.
    #[error("`{path}`: {message}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The receiving end of a generation channel hung up before the end.
    #[error("the receiver of generated batches hung up after {sent} batches")]
    ChannelClosed {
        /// Batches delivered before it did.
        sent: u64,
    },
    /// A saved model that is not a valid model.
    #[error("not a fitted model: {0}")]
    InvalidModel(String),
}

/// Result of Genesis operations.
pub type Result<T> = std::result::Result<T, GenesisError>;
