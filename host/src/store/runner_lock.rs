//! One worker per database: `datasync run` holds an exclusive SQLite lock on a small
//! companion file (`<database>.run-lock`) for its lifetime, because start-up recovery
//! returns every in-flight job to pending and would steal a live worker's jobs.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::error::{Result, StoreError};

/// Held while a worker runs; dropping it (or the process dying) releases the lock.
pub struct RunnerLock {
    _conn: Connection,
}

/// The lock file of a database.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".run-lock");
    PathBuf::from(name)
}

impl RunnerLock {
    /// Takes the lock for `database`, or fails at once if another worker holds it.
    pub fn acquire(database: &Path) -> Result<RunnerLock> {
        let path = lock_path(database);
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )
        .map_err(open_err)?;
        // Refuse at once instead of waiting out rusqlite's default 5 s busy timeout.
        conn.busy_timeout(std::time::Duration::ZERO)
            .map_err(open_err)?;
        // A rollback-journal file: EXCLUSIVE locks the whole file until the transaction
        // ends, which it never does while this process lives; the OS drops the lock
        // when the process dies, so a crash leaves nothing stale behind.
        match conn.execute_batch("PRAGMA journal_mode = DELETE; BEGIN EXCLUSIVE;") {
            Ok(()) => Ok(RunnerLock { _conn: conn }),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                Err(StoreError::WorkerRunning {
                    database: database.to_path_buf(),
                })
            }
            Err(source) => Err(open_err(source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_worker_on_the_same_database_is_refused_until_the_first_stops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("d.db");
        let first = RunnerLock::acquire(&db).expect("first worker");
        let err = RunnerLock::acquire(&db).err().expect("second refused");
        assert!(err.to_string().contains("another `datasync run`"), "{err}");
        drop(first);
        RunnerLock::acquire(&db).expect("free again");
    }
}
