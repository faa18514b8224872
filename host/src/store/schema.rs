//! The schema, as numbered migrations tracked in `PRAGMA user_version`.
//!
//! Conventions of every table: times are INTEGER unix microseconds (UTC, see
//! [`super::Timestamp`]); JSON is TEXT as the caller gave it; booleans are INTEGER 0/1.
//! Migrations are append-only: never edit a released one, add the next.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::error::{Result, StoreError};

/// Migration `n` (1-based) brings the schema from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[V1, V2];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Version 1: events, orders, queue, results, log.
const V1: &str = r#"
-- One row per pretix event. `data` is the whole event bundle as one JSON text (event,
-- settings, items, questions, check-in lists, sub-events, vouchers): `model` owns its
-- shape; the store only keeps it and notices changes through `data_hash`.
CREATE TABLE events (
    slug        TEXT PRIMARY KEY NOT NULL,
    organizer   TEXT NOT NULL,
    data        TEXT NOT NULL,
    data_hash   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- One row per pretix order, its raw REST-API JSON and an xxh3 hash of that text.
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    event       TEXT NOT NULL REFERENCES events(slug) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    status      TEXT NOT NULL,
    data        TEXT NOT NULL,
    data_hash   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (event, code)
) STRICT;

-- The sync queue (spec §2.1). `need_manual_retry` NULL = active; otherwise the failure
-- mode that parked the row. `claims` counts claims so a late completion of an expired
-- claim is recognised and cannot touch a row that was claimed again.
CREATE TABLE queue (
    id                 INTEGER PRIMARY KEY,
    order_id           INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    event              TEXT NOT NULL REFERENCES events(slug) ON DELETE CASCADE,
    provider           TEXT NOT NULL,
    triggered_by       TEXT NOT NULL,
    triggered_at       INTEGER NOT NULL,
    failed_attempts    INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    snoozes            INTEGER NOT NULL DEFAULT 0 CHECK (snoozes >= 0),
    not_before         INTEGER NOT NULL,
    need_manual_retry  TEXT CHECK (need_manual_retry IN
        ('exceeded', 'permanent', 'config', 'internal', 'timeout', 'provider_missing')),
    in_flight          INTEGER NOT NULL DEFAULT 0 CHECK (in_flight IN (0, 1)),
    in_flight_since    INTEGER,
    lease_until        INTEGER,
    claims             INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT,
    CHECK ((in_flight = 1) = (in_flight_since IS NOT NULL AND lease_until IS NOT NULL))
) STRICT;

-- Spec §2.2: at most one pending (incl. parked) and one in-flight row per (order, provider).
CREATE UNIQUE INDEX queue_one_per_state ON queue (order_id, provider, in_flight);

-- The due-row query: partitioned by event, ordered by not_before, only active rows.
CREATE INDEX queue_due ON queue (event, not_before, id)
    WHERE in_flight = 0 AND need_manual_retry IS NULL;

-- Lease expiry and start-up recovery look only at the few in-flight rows.
CREATE INDEX queue_in_flight ON queue (lease_until) WHERE in_flight = 1;

-- The "sync problems" list (spec §2.2).
CREATE INDEX queue_problems ON queue (triggered_at)
    WHERE need_manual_retry IS NOT NULL OR failed_attempts > 0;

-- What was transmitted where (spec §3.1). `position` is the pretix position id, NULL for
-- order-level mappings; uniqueness per (order, position-or-null, provider, mapping) is the
-- upsert key of spec §3.2 (COALESCE because NULLs never collide in a UNIQUE index).
CREATE TABLE results (
    id                          INTEGER PRIMARY KEY,
    order_id                    INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    provider                    TEXT NOT NULL,
    position                    INTEGER,
    mapping_id                  INTEGER NOT NULL,
    external_object_type        TEXT NOT NULL,
    external_id_field           TEXT NOT NULL,
    id_value                    TEXT NOT NULL,
    external_link_href          TEXT,
    external_link_display_name  TEXT,
    transmitted                 INTEGER NOT NULL,
    sync_info                   TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX results_one_per_object
    ON results (order_id, provider, COALESCE(position, -1), mapping_id);

-- Append-only history (spec §2.11 actions plus our own manual and recovery actions).
-- No foreign keys: history outlives the orders and queue rows it talks about.
CREATE TABLE log (
    id            INTEGER PRIMARY KEY,
    time          INTEGER NOT NULL,
    event         TEXT NOT NULL,
    order_code    TEXT NOT NULL,
    provider      TEXT NOT NULL,
    action        TEXT NOT NULL,
    messages      TEXT NOT NULL,
    full_message  TEXT,
    data          TEXT NOT NULL
) STRICT;

CREATE INDEX log_by_order ON log (event, order_code, id);
"#;

/// Version 2: the log indexed by the order's row id. The query by (event, order code)
/// never used `log_by_order` (its optional filters made SQLite scan), yet every synced
/// order inserted at a random place in it, dirtying a page per order. Order row ids
/// grow in import order, which is the sync order, so appends stay at the end of the new
/// index. Orders are never deleted, so the id stays valid for the order's history.
const V2: &str = r#"
ALTER TABLE log ADD COLUMN order_id INTEGER NOT NULL DEFAULT 0;
UPDATE log SET order_id = COALESCE(
    (SELECT o.id FROM orders AS o WHERE o.event = log.event AND o.code = log.order_code), 0);
DROP INDEX log_by_order;
CREATE INDEX log_by_order_id ON log (order_id, id);
"#;

/// Brings the schema of `conn` to [`SCHEMA_VERSION`] in one `BEGIN IMMEDIATE` transaction,
/// or refuses a database from a newer build.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    // IMMEDIATE: two hosts opening the same new file must not both run migration 1.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(open_err)?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(open_err)?;
    // user_version is a signed 32-bit field; a negative value was never written by us.
    let found = u32::try_from(found).map_err(|_| StoreError::Corrupt {
        what: format!("schema version of {}", path.display()),
        detail: format!("{found} is negative"),
    })?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, sql) in (1..).zip(MIGRATIONS).skip(found as usize) {
        apply(&tx, version, sql).map_err(|source| StoreError::Migration {
            path: path.to_path_buf(),
            version,
            source,
        })?;
    }
    tx.commit().map_err(open_err)
}

/// Runs one migration and records its version.
fn apply(conn: &Connection, version: u32, sql: &str) -> rusqlite::Result<()> {
    conn.execute_batch(sql)?;
    conn.pragma_update(None, "user_version", version)
}

#[cfg(test)]
pub(crate) fn set_user_version(path: &Path, version: u32) -> rusqlite::Result<()> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "user_version", version)
}

/// A database at an older schema `version`, as an older build left it.
#[cfg(test)]
pub(crate) fn create_at_version(path: &Path, version: u32) -> rusqlite::Result<()> {
    let mut conn = Connection::open(path)?;
    let tx = conn.transaction()?;
    for (v, sql) in (1..=version).zip(MIGRATIONS) {
        apply(&tx, v, sql)?;
    }
    tx.commit()
}
