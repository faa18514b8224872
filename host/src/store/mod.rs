//! The SQLite store: events, orders, the durable sync queue, sync results and the log.
//! Every SQL statement of the host lives in this module.
//!
//! # Connection model
//!
//! A [`Store`] owns ONE connection, the only writer. Writing methods take `&mut self`, so
//! the borrow checker serialises them; share a store between tasks by putting it behind a
//! `Mutex` (it is `Send`, not `Sync`). Every writing method is one `BEGIN IMMEDIATE`
//! transaction: it either happens completely or not at all. The file is in WAL mode, so
//! read-only tools (e.g. the `sqlite3` shell, a second `datasync queue list`) can read
//! while the host writes.
//!
//! # Time
//!
//! Times are [`Timestamp`]s, stored as INTEGER unix microseconds (UTC). Every method that
//! needs "now" takes it as a parameter; the store never reads the clock itself.
//!
//! # Queue states (spec §2.10, with DESIGN.md's deliberate differences)
//!
//! ```text
//!  (none) ──enqueue──► PENDING ◄──enqueue / retry / resume_provider── PARKED(mode)
//!                        │  ▲                                           ▲
//!              claim_due │  │ Recoverable (< max) / Snooze /            │ Recoverable (≥ max),
//!                        ▼  │ recover_in_flight                         │ Failed, ProviderMissing,
//!                     IN_FLIGHT ────────────────────────────────────────┘ expire_leases (timeout)
//!                        │
//!                        └─ Success ─► GONE;  any exit while a newer PENDING row exists ─► GONE
//! ```
//!
//! `cancel` removes PENDING and PARKED rows and refuses IN_FLIGHT ones.

mod data;
mod error;
mod log;
mod queue;
mod results;
mod runner_lock;
mod schema;
mod stats;
mod time;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use self::data::{
    EventRow, EventUpsert, ImportReport, JobSpec, OrderRow, OrderUpsert, StoredOrder, UpsertOutcome,
};
pub use self::error::{Result, StoreError};
pub use self::log::{LogAction, LogEntry, LogFilter};
pub use self::queue::{
    Applied, Claim, ClaimedJob, Completion, Enqueued, FailureMode, NewJob, Outcome, QueueFilter,
    QueueId, QueueRow, QueueState, RetrySelection,
};
pub use self::results::{ResultUpsert, SyncResultRow};
pub use self::runner_lock::RunnerLock;
pub use self::schema::SCHEMA_VERSION;
pub use self::stats::{ProviderStats, Stats};
pub use self::time::Timestamp;

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection; the queue and import paths use about 30.
const STATEMENT_CACHE: usize = 64;

/// Row id of an imported order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(pub i64);

impl rusqlite::ToSql for OrderId {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl rusqlite::types::FromSql for OrderId {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        i64::column_result(value).map(Self)
    }
}

/// The datasync database. See the module docs for the connection model.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path`: WAL mode, `synchronous=NORMAL`,
    /// a busy timeout, foreign keys on, and the schema migrated to [`SCHEMA_VERSION`] in one
    /// transaction. A file from a newer datasync is refused with
    /// [`StoreError::SchemaTooNew`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let mut conn = connect(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        schema::migrate(&mut conn, &path)?;
        Ok(Store { conn, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens the file and sets the per-connection pragmas.
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer; NORMAL is durable across process crashes and
    // loses at most the last transactions on power loss, which the queue tolerates
    // (at-least-once: a lost completion means one more sync of an idempotent upsert).
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), %mode, "SQLite refused WAL mode; continuing");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // The default 2 MiB page cache thrashes on the order and queue indexes of a large
    // import; 32 MiB keeps them resident (negative = KiB).
    conn.pragma_update(None, "cache_size", -32_768)?;
    // Checkpoint every ~40 MB of WAL instead of SQLite's 4 MB: a bulk import or a large
    // batch otherwise spends its time copying pages back into the main file.
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}
