//! The CRM's storage: one SQLite file, one table per external object type, one row per
//! object. This module speaks SQL and knows nothing about mappings or update modes; the
//! provider in the crate root decides *what* to write, [`Crm::upsert`] decides *how*.
//!
//! Every table and column name reaches SQL as an [`Ident`], which can only be built from
//! `[A-Za-z0-9_]+`: names come from the operator's config, and a name is the one part of
//! a statement that cannot be a bound parameter.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::time::Duration;

use datasync_plugin_api::{ErrorKind, SyncError};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params_from_iter, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

/// The primary key of every table: SQLite's row id.
pub const ROW_ID: &str = "_id";

/// A table or column name that is safe to put into SQL: one or more of `[A-Za-z0-9_]`.
///
/// It compares ASCII case-insensitively, as SQLite compares names, so that a set of
/// columns answers "does this column exist" the way `ALTER TABLE` would. Its
/// [`Display`](fmt::Display) form is the quoted name, ready for a statement.
#[derive(Debug, Clone)]
pub struct Ident(String);

impl Ident {
    /// The name as an identifier, or `None` when it is empty or has other characters.
    pub fn new(name: &str) -> Option<Ident> {
        let valid =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        valid.then(|| Ident(name.to_string()))
    }

    /// The name as the config spelled it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn folded(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.bytes().map(|b| b.to_ascii_lowercase())
    }
}

impl PartialEq for Ident {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for Ident {}

impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> Ordering {
        self.folded().cmp(other.folded())
    }
}

/// The quoted name. Safe because [`Ident::new`] admits no quote character.
impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

/// One row without its row id: column → text, `None` for SQL `NULL`.
pub type Record = BTreeMap<Ident, Option<String>>;

/// What [`Crm::upsert`] did, reported to the host as the sync info's `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new row was inserted.
    Create,
    /// An existing row was changed.
    Update,
    /// The row already held every value; nothing was written.
    NothingToDo,
}

impl Action {
    /// The action name the host logs (`nothing_to_do` suppresses the log entry).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::NothingToDo => "nothing_to_do",
        }
    }
}

/// The outcome of one [`Crm::upsert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    /// The row's `_id`, stable for the row's lifetime and never reused.
    pub row_id: i64,
    /// What was done.
    pub action: Action,
}

/// An open CRM file.
#[derive(Debug)]
pub struct Crm {
    conn: Connection,
}

impl Crm {
    /// Opens (creating if needed) the CRM file at `path` and switches it to WAL mode.
    ///
    /// `busy_timeout` is how long a statement waits for another writer's lock before
    /// giving up with a recoverable error. A path SQLite cannot open, or a file that is
    /// not a database, is a config error: the operator has to fix `settings.path`.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Crm, SyncError> {
        let fail = |e: rusqlite::Error| {
            let unusable_path = matches!(
                sqlite_code(&e),
                Some(ErrorCode::CannotOpen | ErrorCode::NotADatabase)
            );
            let error = sql_error(format_args!("cannot open {}", path.display()), e);
            if !unusable_path {
                return error;
            }
            SyncError {
                kind: ErrorKind::Config,
                ..error
            }
            .with_message(
                "settings.path must name a SQLite file (or a new one) in a folder that \
                 exists and is writable",
            )
        };
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(busy_timeout).map_err(fail)?;
        // WAL lets people read the CRM (sqlite3, a BI tool) while a sync writes to it,
        // and it is the first statement that reads the file, so it also finds a file
        // that is not a database.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(fail)?;
        Ok(Crm { conn })
    }

    /// Upserts the row of `table` whose `id_field` is `id_value`, in one transaction.
    ///
    /// `decide` receives the existing row (`None` when there is none) and returns the
    /// columns to write; `id_field = id_value` is added last, so it wins. Against an
    /// existing row only the columns whose value differs are written, and when none
    /// does, nothing is (action `nothing_to_do`). Tables, columns and the index on the
    /// id field are created on demand, inside the same transaction.
    pub fn upsert(
        &mut self,
        table: &Ident,
        id_field: &Ident,
        id_value: &str,
        decide: impl FnOnce(Option<&Record>) -> Record,
    ) -> Result<Upserted, SyncError> {
        // IMMEDIATE takes the write lock before the lookup, so two processes syncing the
        // same object cannot both find no row and both insert one.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error("cannot start a transaction", e))?;
        let columns = columns(&tx, table)?;
        let existing = if columns.contains(id_field) {
            find(&tx, table, id_field, id_value)?
        } else {
            None
        };
        let mut fields = decide(existing.as_ref().map(|(_, record)| record));
        fields.insert(id_field.clone(), Some(id_value.to_string()));

        let upserted = match existing {
            Some((row_id, old)) => {
                // A column the table lacks reads as NULL.
                fields.retain(|column, value| {
                    old.get(column).and_then(Option::as_deref) != value.as_deref()
                });
                if fields.is_empty() {
                    // Dropping the transaction rolls back nothing: nothing was written.
                    return Ok(Upserted {
                        row_id,
                        action: Action::NothingToDo,
                    });
                }
                add_columns(&tx, table, &columns, fields.keys())?;
                update(&tx, table, row_id, &fields)?;
                Upserted {
                    row_id,
                    action: Action::Update,
                }
            }
            None => {
                create_table(&tx, table)?;
                add_columns(&tx, table, &columns, fields.keys())?;
                create_index(&tx, table, id_field)?;
                Upserted {
                    row_id: insert(&tx, table, &fields)?,
                    action: Action::Create,
                }
            }
        };
        tx.commit()
            .map_err(|e| sql_error("cannot commit the transaction", e))?;
        Ok(upserted)
    }

    /// Closes the file, reporting what SQLite could not finish (e.g. a WAL checkpoint).
    pub fn close(self) -> Result<(), SyncError> {
        self.conn
            .close()
            .map_err(|(_, e)| sql_error("cannot close the CRM file", e))
    }
}

/// The table's columns that are valid identifiers (others cannot be mapped to anyway);
/// empty when the table does not exist.
fn columns(conn: &Connection, table: &Ident) -> Result<BTreeSet<Ident>, SyncError> {
    let fail = |e| {
        sql_error(
            format_args!("cannot read the columns of table {}", table.0),
            e,
        )
    };
    let mut statement = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .map_err(fail)?;
    let names = statement
        .query_map([table.as_str()], |row| row.get::<_, String>(0))
        .map_err(fail)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    Ok(names.iter().filter_map(|n| Ident::new(n)).collect())
}

/// The row id and columns of the first row (lowest `_id`) whose `id_field` is
/// `id_value`. Rows this plugin writes are unique per id value; the order only matters
/// for duplicates someone else inserted.
fn find(
    conn: &Connection,
    table: &Ident,
    id_field: &Ident,
    id_value: &str,
) -> Result<Option<(i64, Record)>, SyncError> {
    let fail = |e| sql_error(format_args!("cannot read table {}", table.0), e);
    let sql = format!("SELECT * FROM {table} WHERE {id_field} = ?1 ORDER BY \"{ROW_ID}\" LIMIT 1");
    let mut statement = conn.prepare(&sql).map_err(fail)?;
    let names: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let found = statement
        .query_row([id_value], |row| {
            let mut row_id = None;
            let mut record = Record::new();
            for (index, name) in names.iter().enumerate() {
                if name.eq_ignore_ascii_case(ROW_ID) {
                    row_id = Some(row.get::<_, i64>(index)?);
                } else if let Some(column) = Ident::new(name) {
                    record.insert(column, text(row.get_ref(index)?));
                }
            }
            Ok((row_id, record))
        })
        .optional()
        .map_err(fail)?;
    match found {
        None => Ok(None),
        Some((Some(row_id), record)) => Ok(Some((row_id, record))),
        // Only possible for a table someone else created under an object type's name.
        Some((None, _)) => Err(SyncError::permanent(format!(
            "plugin crm_sqlite: table {} has no {ROW_ID} column, so it was not created by \
             this plugin; rename it or map the object type to another table",
            table.0
        ))),
    }
}

/// A stored value as text. Values this plugin writes are always text or `NULL`; numbers
/// and blobs only appear in rows people edited by hand.
fn text(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

fn create_table(conn: &Connection, table: &Ident) -> Result<(), SyncError> {
    // AUTOINCREMENT: a deleted contact's row id is never handed to another one, so links
    // and external links to it cannot start pointing at the wrong record.
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS {table} (\"{ROW_ID}\" INTEGER PRIMARY KEY AUTOINCREMENT)"
    );
    conn.execute(&sql, [])
        .map(drop)
        .map_err(|e| sql_error(format_args!("cannot create table {}", table.0), e))
}

/// Adds the `wanted` columns that `existing` (read in this transaction) lacks, as TEXT:
/// values of any shape are stored as text, see the crate documentation.
fn add_columns<'a>(
    conn: &Connection,
    table: &Ident,
    existing: &BTreeSet<Ident>,
    wanted: impl Iterator<Item = &'a Ident>,
) -> Result<(), SyncError> {
    for column in wanted.filter(|c| !existing.contains(c)) {
        let sql = format!("ALTER TABLE {table} ADD COLUMN {column} TEXT");
        conn.execute(&sql, []).map_err(|e| {
            sql_error(
                format_args!("cannot add column {} to table {}", column.0, table.0),
                e,
            )
        })?;
    }
    Ok(())
}

fn create_index(conn: &Connection, table: &Ident, id_field: &Ident) -> Result<(), SyncError> {
    // Not UNIQUE: another mapping may write the same column as a plain property, and a
    // failing index must not stop the sync. The lookup runs under the write lock, so this
    // plugin never inserts a duplicate anyway. The dot keeps the name out of the tables'
    // namespace, as object types cannot contain one.
    let sql = format!(
        "CREATE INDEX IF NOT EXISTS \"{}.{}\" ON {table} ({id_field})",
        table.0, id_field.0
    );
    conn.execute(&sql, [])
        .map(drop)
        .map_err(|e| sql_error(format_args!("cannot index table {}", table.0), e))
}

fn sql_value(value: &Option<String>) -> SqlValue {
    match value {
        Some(text) => SqlValue::Text(text.clone()),
        None => SqlValue::Null,
    }
}

fn insert(conn: &Connection, table: &Ident, fields: &Record) -> Result<i64, SyncError> {
    let columns: Vec<String> = fields.keys().map(Ident::to_string).collect();
    let placeholders: Vec<String> = (1..=fields.len()).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        placeholders.join(", ")
    );
    conn.execute(&sql, params_from_iter(fields.values().map(sql_value)))
        .map_err(|e| sql_error(format_args!("cannot insert into table {}", table.0), e))?;
    Ok(conn.last_insert_rowid())
}

fn update(conn: &Connection, table: &Ident, row_id: i64, fields: &Record) -> Result<(), SyncError> {
    let assignments: Vec<String> = fields
        .keys()
        .enumerate()
        .map(|(i, column)| format!("{column} = ?{}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE {table} SET {} WHERE \"{ROW_ID}\" = ?{}",
        assignments.join(", "),
        fields.len() + 1
    );
    let params = fields
        .values()
        .map(sql_value)
        .chain([SqlValue::Integer(row_id)]);
    conn.execute(&sql, params_from_iter(params))
        .map(drop)
        .map_err(|e| sql_error(format_args!("cannot update table {}", table.0), e))
}

/// What the host should do about a failed SQLite call (spec §2.6).
pub fn error_kind(code: ErrorCode) -> ErrorKind {
    match code {
        // Another writer held the lock past the busy timeout, the disk is full, the file
        // system hiccupped: conditions that pass, so the host retries with backoff.
        ErrorCode::DatabaseBusy
        | ErrorCode::DatabaseLocked
        | ErrorCode::DiskFull
        | ErrorCode::SystemIoFailure
        | ErrorCode::FileLockingProtocolFailed
        | ErrorCode::SchemaChanged
        | ErrorCode::OperationInterrupted
        | ErrorCode::OutOfMemory => ErrorKind::Recoverable,
        // SQL this plugin built was rejected by the library itself: a bug here.
        ErrorCode::ApiMisuse | ErrorCode::ParameterOutOfRange => ErrorKind::Internal,
        // Read-only or foreign-owned file, corruption, constraints someone added, values
        // over SQLite's size limit …: retrying cannot help until a person acts.
        _ => ErrorKind::Permanent,
    }
}

/// The SQLite result code behind an error, if it came from SQLite.
fn sqlite_code(error: &rusqlite::Error) -> Option<ErrorCode> {
    match error {
        rusqlite::Error::SqliteFailure(failure, _) => Some(failure.code),
        _ => None,
    }
}

/// `error` as a [`SyncError`] whose kind follows [`error_kind`]; the SQLite message is
/// the operator-facing text, prefixed with what the plugin was doing.
pub fn sql_error(what: impl fmt::Display, error: rusqlite::Error) -> SyncError {
    // Errors outside SQLite (a wrong column index, a failed conversion) are mistakes in
    // this plugin's code.
    let kind = sqlite_code(&error).map_or(ErrorKind::Internal, error_kind);
    SyncError {
        kind,
        ..SyncError::permanent(format!("plugin crm_sqlite: {what}: {error}"))
    }
}
