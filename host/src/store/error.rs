//! The store's error type: every message names the thing and the way out.

use std::path::PathBuf;

use super::queue::QueueId;
use super::time::Timestamp;

/// Anything the store could not do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or configured.
    #[error(
        "cannot open database {path}: {source}; check that its folder exists and is writable \
         (config key `database`)"
    )]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// Another `datasync run` works on this database.
    #[error(
        "another `datasync run` is already working on database {database}; stop it first \
         (one worker per database: start-up recovery would take over its jobs)"
    )]
    WorkerRunning {
        /// The database file.
        database: PathBuf,
    },
    /// The database was written by a newer datasync with a schema this build does not know.
    #[error(
        "database {path} has schema version {found}, but this build of datasync only knows \
         versions up to {supported}; upgrade datasync (or point `database` at another file)"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file (`PRAGMA user_version`).
        found: u32,
        /// The newest schema version this build can use.
        supported: u32,
    },
    /// Bringing the schema up to date failed; the database is unchanged (one transaction).
    #[error(
        "cannot migrate database {path} to schema version {version}: {source}; the file is \
         unchanged — restore it from a backup or report this as a bug"
    )]
    Migration {
        /// The database file.
        path: PathBuf,
        /// The migration that failed.
        version: u32,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A statement failed (disk full, database locked for longer than the busy timeout, …).
    #[error(
        "database error while {context}: {source}; the step was rolled back (if the database \
         is locked, another datasync process is using the same file)"
    )]
    Sqlite {
        /// What the store was doing.
        context: &'static str,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A job was enqueued for an order id that is not in the database.
    #[error("order id {id} is not in the database; import the order before enqueueing it")]
    UnknownOrder {
        /// The order's row id.
        id: i64,
    },
    /// A manual action named a queue job that does not exist (any more).
    #[error(
        "queue job {id} not found; it may have been synced or canceled meanwhile — see \
         `datasync queue list`"
    )]
    JobNotFound {
        /// The queue id.
        id: QueueId,
    },
    /// A manual action named a job that a worker is syncing right now.
    #[error(
        "queue job {id} is being synced right now (in flight since {since}); wait until it \
         finishes, then try again"
    )]
    JobInFlight {
        /// The queue id.
        id: QueueId,
        /// When the worker claimed it.
        since: Timestamp,
    },
    /// A value read from the database is not what this build wrote there.
    #[error(
        "database holds an invalid {what}: {detail}; the file was changed outside datasync — \
         restore it from a backup"
    )]
    Corrupt {
        /// Which value, e.g. "failure mode of queue job 7".
        what: String,
        /// What is wrong with it.
        detail: String,
    },
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Attaches "what the store was doing" to SQLite errors.
pub(crate) trait Context<T> {
    /// Wraps the error as [`StoreError::Sqlite`] with `context`.
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|source| StoreError::Sqlite { context, source })
    }
}

/// Parses a JSON text column.
pub(crate) fn json_column(text: &str, what: impl FnOnce() -> String) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: what(),
        detail: format!("not JSON: {e}"),
    })
}
