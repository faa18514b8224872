//! The durable sync queue (spec §2), modelled on River's job table: enqueue coalesces,
//! workers claim due rows in one `UPDATE … RETURNING`, completions are written in batches.
//!
//! Invariant (spec §2.2, enforced by the unique index `queue_one_per_state`): per
//! (order, provider) at most one row not in flight (pending, scheduled or parked) and at
//! most one row in flight.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, ToSql, TransactionBehavior};
use serde_json::{json, Value};

use super::error::{Context, Result, StoreError};
use super::log::{append, failure_data, LogAction, NewLog};
use super::results::{upsert as upsert_result, ResultUpsert};
use super::time::Timestamp;
use super::{OrderId, Store};

/// Row id of a queue job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueId(pub i64);

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ToSql for QueueId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl FromSql for QueueId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(Self)
    }
}

/// Why a job is parked (`need_manual_retry`, spec §2.1, plus `provider_missing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureMode {
    /// Recoverable errors until `max_attempts`.
    Exceeded,
    /// The provider reported a permanent error.
    Permanent,
    /// The provider reported a configuration error.
    Config,
    /// Panic, protocol breach or other host-side error.
    Internal,
    /// The call did not finish in time.
    Timeout,
    /// No loaded plugin provides this provider (datasync parks instead of deleting).
    ProviderMissing,
}

impl FailureMode {
    /// Every mode, in declaration order.
    pub const ALL: [FailureMode; 6] = [
        Self::Exceeded,
        Self::Permanent,
        Self::Config,
        Self::Internal,
        Self::Timeout,
        Self::ProviderMissing,
    ];

    /// The stored code, e.g. `exceeded`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Exceeded => "exceeded",
            Self::Permanent => "permanent",
            Self::Config => "config",
            Self::Internal => "internal",
            Self::Timeout => "timeout",
            Self::ProviderMissing => "provider_missing",
        }
    }

    /// The human label (spec §2.1).
    pub const fn label(self) -> &'static str {
        match self {
            Self::Exceeded => "Temporary error, auto-retry limit exceeded",
            Self::Permanent => "Provider reported a permanent error",
            Self::Config => "Misconfiguration, please check provider settings",
            Self::Internal | Self::Timeout => "System error, needs manual intervention",
            Self::ProviderMissing => "Provider not loaded, check the plugins folder",
        }
    }
}

impl fmt::Display for FailureMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for FailureMode {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

/// The schema's CHECK constraint admits only known modes; anything else is corruption.
impl FromSql for FailureMode {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e: String| FromSqlError::Other(e.into()))
    }
}

impl FromStr for FailureMode {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown failure mode {s:?}"))
    }
}

/// A job to enqueue (see [`Store::enqueue`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// The order.
    pub order: OrderId,
    /// The provider identifier.
    pub provider: String,
    /// Why (informational).
    pub triggered_by: String,
    /// Earliest run time; `None` = now.
    pub not_before: Option<Timestamp>,
}

/// The result of an enqueue: the pending row and whether it was created (`false`: an
/// existing pending or parked row was updated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    /// The pending row.
    pub id: QueueId,
    /// `true` if the row is new.
    pub created: bool,
}

/// Identifies one claim of one job; completions carry it back. Self-contained, so the
/// log can be written even when the row is gone by completion time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The queue row.
    pub id: QueueId,
    /// Which claim of that row (1 for the first); a completion for an older claim is stale.
    pub claim_no: i64,
    /// The order's row id.
    pub order: OrderId,
    /// Event slug.
    pub event: String,
    /// Order code.
    pub order_code: String,
    /// Provider identifier.
    pub provider: String,
}

/// A claimed job with everything the worker needs (no further query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// Identity, for [`Completion`].
    pub claim: Claim,
    /// The order's pretix status.
    pub order_status: String,
    /// The order, JSON text.
    pub order_data: String,
    /// Why the job was (last) enqueued.
    pub triggered_by: String,
    /// When the job was first enqueued.
    pub triggered_at: Timestamp,
    /// Recoverable failures so far.
    pub failed_attempts: u32,
    /// `retry_after` reschedules so far (not attempts).
    pub snoozes: u32,
    /// The schedule the job was due by.
    pub not_before: Timestamp,
    /// The worker must complete before this, or [`Store::expire_leases`] parks the job.
    pub lease_until: Timestamp,
}

/// How a claimed job ended, as the worker reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Synced: the row is deleted and `results` upserted.
    Success {
        /// Objects synced (spec §3.2 upsert key).
        results: Vec<ResultUpsert>,
        /// Data of the `success` log entry as JSON text (serialised by the worker thread,
        /// not the single writer), or `None` to write none (the caller suppresses it when
        /// every object was `nothing_to_do`).
        log: Option<String>,
    },
    /// A temporary error: one more failed attempt; rescheduled to `retry_at`, or parked
    /// as `exceeded` (and logged) when the attempts reach `max_attempts`.
    Recoverable {
        /// The next run time (provider's or host's backoff).
        retry_at: Timestamp,
        /// The provider's limit.
        max_attempts: u32,
        /// The error messages.
        messages: Vec<String>,
        /// Technical detail.
        full_message: Option<String>,
    },
    /// The provider asked to come back later (`retry_after`): rescheduled, counted as a
    /// snooze, not as an attempt. Not logged.
    Snooze {
        /// The next run time.
        until: Timestamp,
        /// Why, kept as the row's last error.
        messages: Vec<String>,
    },
    /// Parked with `mode` until a manual retry, and logged.
    Failed {
        /// permanent / config / internal / timeout (or any other mode).
        mode: FailureMode,
        /// The error messages.
        messages: Vec<String>,
        /// Technical detail.
        full_message: Option<String>,
    },
    /// No loaded plugin provides the job's provider: parked as `provider_missing` (never
    /// deleted; [`Store::resume_provider`] reactivates it), and logged.
    ProviderMissing,
}

/// A worker's report for one claimed job.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The claim, as returned by [`Store::claim_due`].
    pub claim: Claim,
    /// How it ended.
    pub outcome: Outcome,
}

/// What [`Store::complete`] (and the recovery functions) did to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Success: the row is gone.
    Deleted,
    /// Pending again with a later `not_before` (recoverable error, or recovery).
    Rescheduled,
    /// Pending again after a `retry_after`.
    Snoozed,
    /// Parked with this mode.
    Parked(FailureMode),
    /// A newer pending row for the same order and provider exists, so this row was
    /// deleted instead of leaving flight (spec §2.7); the log keeps any failure.
    Superseded,
    /// The claim had expired (row gone, or no longer in flight under this claim): results
    /// and log were written, the queue was not touched.
    Stale,
}

/// The derived state of a queue row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueState {
    /// Due now.
    Pending,
    /// Waiting for its `not_before`.
    Scheduled,
    /// A worker has it.
    InFlight,
    /// Waiting for a manual retry.
    Parked(FailureMode),
}

/// A queue row for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    /// Row id.
    pub id: QueueId,
    /// Order row id.
    pub order: OrderId,
    /// Event slug.
    pub event: String,
    /// Order code.
    pub order_code: String,
    /// Provider identifier.
    pub provider: String,
    /// Why (last enqueue).
    pub triggered_by: String,
    /// First enqueue.
    pub triggered_at: Timestamp,
    /// Recoverable failures so far.
    pub failed_attempts: u32,
    /// `retry_after` reschedules so far.
    pub snoozes: u32,
    /// Earliest run time.
    pub not_before: Timestamp,
    /// Parked with this mode, if parked.
    pub need_manual_retry: Option<FailureMode>,
    /// Claimed at, if in flight.
    pub in_flight_since: Option<Timestamp>,
    /// Claim expiry, if in flight.
    pub lease_until: Option<Timestamp>,
    /// The last error seen for this row, if any.
    pub last_error: Option<String>,
    /// Derived state at the `now` passed to [`Store::list_queue`].
    pub state: QueueState,
}

impl QueueRow {
    /// A "sync problem" (spec §2.2): parked, or failed at least once.
    pub fn is_problem(&self) -> bool {
        self.need_manual_retry.is_some() || self.failed_attempts > 0
    }
}

/// Which rows [`Store::list_queue`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Only problems (spec §2.2).
    pub problems_only: bool,
    /// Only this event.
    pub event: Option<String>,
    /// Only this provider.
    pub provider: Option<String>,
}

/// Which rows [`Store::retry`] reactivates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetrySelection {
    /// These rows; all must exist and none may be in flight.
    Ids(Vec<QueueId>),
    /// Every problem row that is not in flight.
    AllProblems,
}

/// The per-row facts every transition needs, read from the database.
struct RowFacts {
    id: QueueId,
    order: OrderId,
    event: String,
    order_code: String,
    provider: String,
    failed_attempts: u32,
    snoozes: u32,
    not_before: Timestamp,
    need_manual_retry: Option<FailureMode>,
    in_flight_since: Option<Timestamp>,
    claims: i64,
    last_error: Option<String>,
    triggered_by: String,
    triggered_at: Timestamp,
    lease_until: Option<Timestamp>,
}

/// The columns [`RowFacts::read`] expects, in order; `q` is the queue, `o` the orders.
const FACTS: &str = "q.id, q.order_id, q.event, o.code, q.provider, q.failed_attempts, \
     q.snoozes, q.not_before, q.need_manual_retry, q.in_flight_since, q.claims, q.last_error, \
     q.triggered_by, q.triggered_at, q.lease_until";

impl RowFacts {
    /// Reads the [`FACTS`] columns.
    fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RowFacts {
            id: r.get(0)?,
            order: r.get(1)?,
            event: r.get(2)?,
            order_code: r.get(3)?,
            provider: r.get(4)?,
            failed_attempts: r.get(5)?,
            snoozes: r.get(6)?,
            not_before: r.get(7)?,
            need_manual_retry: r.get(8)?,
            in_flight_since: r.get(9)?,
            claims: r.get(10)?,
            last_error: r.get(11)?,
            triggered_by: r.get(12)?,
            triggered_at: r.get(13)?,
            lease_until: r.get(14)?,
        })
    }
}

/// The facts of row `id`, if it exists.
fn facts_of(conn: &Connection, id: QueueId) -> Result<Option<RowFacts>> {
    const CTX: &str = "reading a queue job";
    let sql = format!(
        "SELECT {FACTS} FROM queue AS q JOIN orders AS o ON o.id = q.order_id WHERE q.id = ?1"
    );
    conn.prepare_cached(&sql)
        .ctx(CTX)?
        .query_row([id], RowFacts::read)
        .optional()
        .ctx(CTX)
}

/// The facts of every row matching `condition` (an SQL expression over `q` and `params`).
fn facts_where<P: rusqlite::Params>(
    conn: &Connection,
    condition: &str,
    params: P,
) -> Result<Vec<RowFacts>> {
    const CTX: &str = "reading queue jobs";
    let sql = format!(
        "SELECT {FACTS} FROM queue AS q JOIN orders AS o ON o.id = q.order_id
         WHERE {condition} ORDER BY q.id"
    );
    let mut stmt = conn.prepare_cached(&sql).ctx(CTX)?;
    let rows = stmt.query_map(params, RowFacts::read).ctx(CTX)?;
    rows.collect::<rusqlite::Result<_>>().ctx(CTX)
}

/// Enqueues inside the caller's transaction (spec §2.3): updates the pending row of
/// (order, provider) if there is one — reason overwritten, schedule reset, parked row
/// reactivated, attempts and `triggered_at` kept — or inserts one. An in-flight row is
/// never touched.
pub(crate) fn enqueue_in(
    conn: &Connection,
    order: OrderId,
    provider: &str,
    triggered_by: &str,
    not_before: Option<Timestamp>,
    now: Timestamp,
) -> Result<Enqueued> {
    const CTX: &str = "enqueueing a job";
    let not_before = not_before.unwrap_or(now);
    let pending: Option<QueueId> = conn
        .prepare_cached(
            "SELECT id FROM queue WHERE order_id = ?1 AND provider = ?2 AND in_flight = 0",
        )
        .ctx(CTX)?
        .query_row(params![order, provider], |r| r.get(0))
        .optional()
        .ctx(CTX)?;
    if let Some(id) = pending {
        conn.prepare_cached(
            "UPDATE queue SET triggered_by = ?2, not_before = ?3, need_manual_retry = NULL
             WHERE id = ?1",
        )
        .ctx(CTX)?
        .execute(params![id, triggered_by, not_before])
        .ctx(CTX)?;
        return Ok(Enqueued { id, created: false });
    }
    // INSERT … SELECT takes the event from the order, and inserts nothing for an unknown
    // order (instead of a foreign-key error naming no order).
    let inserted = conn
        .prepare_cached(
            "INSERT INTO queue (order_id, event, provider, triggered_by, triggered_at, not_before)
             SELECT id, event, ?2, ?3, ?4, ?5 FROM orders WHERE id = ?1",
        )
        .ctx(CTX)?
        .execute(params![order, provider, triggered_by, now, not_before])
        .ctx(CTX)?;
    if inserted == 0 {
        return Err(StoreError::UnknownOrder { id: order.0 });
    }
    Ok(Enqueued {
        id: QueueId(conn.last_insert_rowid()),
        created: true,
    })
}

/// Enqueues the first job of a provider for an order inserted in this same transaction: it
/// cannot have queue rows yet, so the import's hot path skips the pending-row lookup.
pub(crate) fn enqueue_for_new_order(
    conn: &Connection,
    order: OrderId,
    event: &str,
    provider: &str,
    triggered_by: &str,
    not_before: Option<Timestamp>,
    now: Timestamp,
) -> Result<Enqueued> {
    const CTX: &str = "enqueueing a job";
    conn.prepare_cached(
        "INSERT INTO queue (order_id, event, provider, triggered_by, triggered_at, not_before)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .ctx(CTX)?
    .execute(params![
        order,
        event,
        provider,
        triggered_by,
        now,
        not_before.unwrap_or(now)
    ])
    .ctx(CTX)?;
    Ok(Enqueued {
        id: QueueId(conn.last_insert_rowid()),
        created: true,
    })
}

/// The RETURNING clause of both claim statements: what [`claimed_job`] reads.
macro_rules! claimed_columns {
    () => {
        "
RETURNING id, claims, order_id, event, provider, triggered_by, triggered_at,
          failed_attempts, snoozes, not_before, lease_until,
          (SELECT code FROM orders WHERE orders.id = queue.order_id),
          (SELECT status FROM orders WHERE orders.id = queue.order_id),
          (SELECT data FROM orders WHERE orders.id = queue.order_id)"
    };
}

/// The claim statement: fair across events (the oldest due job of every event first, then
/// the second-oldest, …; spec §2.4), skipping (order, provider) pairs already in flight so
/// the unique index cannot fail the whole batch.
///
/// Only the first `limit` due jobs of each event are candidates (a later one can never win
/// a slot), found per event through the `queue_due` index: a claim costs
/// O(events × limit), not O(due jobs), so a backlog of millions stays cheap to drain.
pub(super) const CLAIM_SQL: &str = concat!(
    "
UPDATE queue
SET in_flight = 1, in_flight_since = ?1, lease_until = ?2, claims = claims + 1
WHERE id IN (
    SELECT id FROM (
        SELECT c.id, c.not_before,
               ROW_NUMBER() OVER (PARTITION BY c.event ORDER BY c.not_before, c.id) AS turn
        FROM events AS e JOIN queue AS c ON c.id IN (
            SELECT d.id FROM queue AS d
            WHERE d.event = e.slug
              AND d.in_flight = 0 AND d.need_manual_retry IS NULL AND d.not_before < ?1
              AND NOT EXISTS (SELECT 1 FROM queue AS f
                              WHERE f.order_id = d.order_id AND f.provider = d.provider
                                AND f.in_flight = 1)
            ORDER BY d.not_before, d.id
            LIMIT ?3
        )
    )
    ORDER BY turn, not_before, id
    LIMIT ?3
)
",
    claimed_columns!()
);

/// Claims one given row if it is due (spec §2.4 `sync_single`: the due filter plus the
/// id; a row that is scheduled later, parked, in flight or gone is left alone). Returns
/// the same columns as [`CLAIM_SQL`].
const CLAIM_ONE_SQL: &str = concat!(
    "
UPDATE queue
SET in_flight = 1, in_flight_since = ?1, lease_until = ?2, claims = claims + 1
WHERE id = ?3
  AND in_flight = 0 AND need_manual_retry IS NULL AND not_before < ?1
  AND NOT EXISTS (SELECT 1 FROM queue AS f
                  WHERE f.order_id = queue.order_id AND f.provider = queue.provider
                    AND f.in_flight = 1)
",
    claimed_columns!()
);

/// One row of the claim statements' RETURNING ([`claimed_columns`]).
fn claimed_job(r: &Row<'_>) -> rusqlite::Result<ClaimedJob> {
    Ok(ClaimedJob {
        claim: Claim {
            id: r.get(0)?,
            claim_no: r.get(1)?,
            order: r.get(2)?,
            event: r.get(3)?,
            provider: r.get(4)?,
            order_code: r.get(11)?,
        },
        triggered_by: r.get(5)?,
        triggered_at: r.get(6)?,
        failed_attempts: r.get(7)?,
        snoozes: r.get(8)?,
        not_before: r.get(9)?,
        lease_until: r.get(10)?,
        order_status: r.get(12)?,
        order_data: r.get(13)?,
    })
}

/// Puts claimed jobs in the claim query's fairness order (RETURNING order is arbitrary):
/// by turn within their event, then `not_before`, then id.
fn fairness_order(mut jobs: Vec<ClaimedJob>) -> Vec<ClaimedJob> {
    jobs.sort_by(|a, b| {
        (&a.claim.event, a.not_before, a.claim.id).cmp(&(&b.claim.event, b.not_before, b.claim.id))
    });
    let mut turned: Vec<(usize, ClaimedJob)> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let turn = match turned.last() {
            Some((turn, prev)) if prev.claim.event == job.claim.event => turn + 1,
            _ => 0,
        };
        turned.push((turn, job));
    }
    turned.sort_by(|(ta, a), (tb, b)| {
        (ta, a.not_before, a.claim.id).cmp(&(tb, b.not_before, b.claim.id))
    });
    turned.into_iter().map(|(_, job)| job).collect()
}

/// The row state written when a job leaves flight.
struct Exit<'a> {
    failed_attempts: u32,
    snoozes: u32,
    not_before: Timestamp,
    need_manual_retry: Option<FailureMode>,
    last_error: Option<&'a str>,
}

/// Takes row `id` out of flight (spec §2.7 `clear_in_flight`): if a newer pending row for
/// the same (order, provider) exists, this row is deleted instead (the newer row wins) and
/// `true` is returned.
fn leave_flight(
    conn: &Connection,
    id: QueueId,
    order: OrderId,
    provider: &str,
    exit: &Exit<'_>,
) -> Result<bool> {
    const CTX: &str = "taking a job out of flight";
    let superseded = conn
        .prepare_cached(
            "SELECT 1 FROM queue WHERE order_id = ?1 AND provider = ?2 AND in_flight = 0",
        )
        .ctx(CTX)?
        .exists(params![order, provider])
        .ctx(CTX)?;
    if superseded {
        delete_row(conn, id)?;
        return Ok(true);
    }
    conn.prepare_cached(
        "UPDATE queue SET in_flight = 0, in_flight_since = NULL, lease_until = NULL,
             failed_attempts = ?2, snoozes = ?3, not_before = ?4, need_manual_retry = ?5,
             last_error = ?6
         WHERE id = ?1",
    )
    .ctx(CTX)?
    .execute(params![
        id,
        exit.failed_attempts,
        exit.snoozes,
        exit.not_before,
        exit.need_manual_retry,
        exit.last_error,
    ])
    .ctx(CTX)?;
    Ok(false)
}

/// Deletes row `id`.
fn delete_row(conn: &Connection, id: QueueId) -> Result<()> {
    conn.prepare_cached("DELETE FROM queue WHERE id = ?1")
        .ctx("deleting a queue job")?
        .execute([id])
        .ctx("deleting a queue job")?;
    Ok(())
}

/// The one-line summary kept in `last_error`.
fn summary(messages: &[String], full_message: Option<&str>) -> String {
    if messages.is_empty() {
        full_message.unwrap_or("(no message)").to_owned()
    } else {
        messages.join("; ")
    }
}

/// Writes a `failed.<mode>` log line for a claim.
fn log_failure(
    conn: &Connection,
    claim: &Claim,
    mode: FailureMode,
    messages: &[String],
    full_message: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    append(
        conn,
        &NewLog {
            time: now,
            event: &claim.event,
            order_code: &claim.order_code,
            order: claim.order,
            provider: &claim.provider,
            action: LogAction::Failed(mode),
            messages,
            full_message,
            data: &failure_data(&claim.provider, messages, full_message).to_string(),
        },
    )
}

/// Writes a manual or recovery log line for a row.
fn log_row(
    conn: &Connection,
    row: &RowFacts,
    action: LogAction,
    data: Value,
    now: Timestamp,
) -> Result<()> {
    append(
        conn,
        &NewLog {
            time: now,
            event: &row.event,
            order_code: &row.order_code,
            order: row.order,
            provider: &row.provider,
            action,
            messages: &[],
            full_message: None,
            data: &data.to_string(),
        },
    )
}

/// Applies one completion inside the caller's transaction.
fn complete_one(conn: &Connection, done: &Completion, now: Timestamp) -> Result<Applied> {
    let claim = &done.claim;
    // Live = this very claim still holds the row; otherwise only history is written.
    let live = || -> Result<Option<RowFacts>> {
        Ok(facts_of(conn, claim.id)?
            .filter(|row| row.in_flight_since.is_some() && row.claims == claim.claim_no))
    };
    match &done.outcome {
        Outcome::Success { results, log } => succeed(conn, claim, results, log.as_deref(), now),
        Outcome::Recoverable {
            retry_at,
            max_attempts,
            messages,
            full_message,
        } => {
            let error = (messages.as_slice(), full_message.as_deref());
            let live = live()?;
            fail_recoverably(
                conn,
                claim,
                live.as_ref(),
                *retry_at,
                *max_attempts,
                error,
                now,
            )
        }
        Outcome::Snooze { until, messages } => live()?.map_or(Ok(Applied::Stale), |row| {
            snooze(conn, &row, *until, messages)
        }),
        Outcome::Failed {
            mode,
            messages,
            full_message,
        } => {
            let live = live()?;
            let full_message = full_message.as_deref();
            park(
                conn,
                claim,
                live.as_ref(),
                *mode,
                messages,
                full_message,
                now,
            )
        }
        Outcome::ProviderMissing => {
            let messages = [format!(
                "provider {} is not loaded; put its plugin into the plugins folder and restart",
                claim.provider
            )];
            let mode = FailureMode::ProviderMissing;
            park(conn, claim, live()?.as_ref(), mode, &messages, None, now)
        }
    }
}

/// Success: results upserted and logged (also for a stale claim: the data was sent), the
/// row deleted if this claim still holds it. The hot path of every sync: no read first,
/// the claim check is part of the DELETE.
fn succeed(
    conn: &Connection,
    claim: &Claim,
    results: &[ResultUpsert],
    log: Option<&str>,
    now: Timestamp,
) -> Result<Applied> {
    for result in results {
        upsert_result(conn, claim.order, &claim.provider, result, now)?;
    }
    if let Some(data) = log {
        let entry = NewLog {
            time: now,
            event: &claim.event,
            order_code: &claim.order_code,
            order: claim.order,
            provider: &claim.provider,
            action: LogAction::Success,
            messages: &[],
            full_message: None,
            data,
        };
        append(conn, &entry)?;
    }
    const CTX: &str = "deleting a synced job";
    let deleted = conn
        .prepare_cached("DELETE FROM queue WHERE id = ?1 AND in_flight = 1 AND claims = ?2")
        .ctx(CTX)?
        .execute(params![claim.id, claim.claim_no])
        .ctx(CTX)?;
    Ok(if deleted == 1 {
        Applied::Deleted
    } else {
        Applied::Stale
    })
}

/// A recoverable error: one more attempt counted; rescheduled, or parked (and logged) as
/// `exceeded` once the attempts reach `max_attempts`.
fn fail_recoverably(
    conn: &Connection,
    claim: &Claim,
    live: Option<&RowFacts>,
    retry_at: Timestamp,
    max_attempts: u32,
    (messages, full_message): (&[String], Option<&str>),
    now: Timestamp,
) -> Result<Applied> {
    let Some(row) = live else {
        return Ok(Applied::Stale);
    };
    let attempts = row.failed_attempts.saturating_add(1);
    let mode = (attempts >= max_attempts).then_some(FailureMode::Exceeded);
    if let Some(mode) = mode {
        log_failure(conn, claim, mode, messages, full_message, now)?;
    }
    let error = summary(messages, full_message);
    let exit = Exit {
        failed_attempts: attempts,
        snoozes: row.snoozes,
        not_before: retry_at,
        need_manual_retry: mode,
        last_error: Some(&error),
    };
    let superseded = leave_flight(conn, row.id, row.order, &row.provider, &exit)?;
    Ok(exited(
        superseded,
        mode.map_or(Applied::Rescheduled, Applied::Parked),
    ))
}

/// `retry_after`: rescheduled and counted as a snooze, not as an attempt; not logged.
fn snooze(
    conn: &Connection,
    row: &RowFacts,
    until: Timestamp,
    messages: &[String],
) -> Result<Applied> {
    let error = summary(messages, None);
    let exit = Exit {
        failed_attempts: row.failed_attempts,
        snoozes: row.snoozes.saturating_add(1),
        not_before: until,
        need_manual_retry: None,
        last_error: Some(&error),
    };
    let superseded = leave_flight(conn, row.id, row.order, &row.provider, &exit)?;
    Ok(exited(superseded, Applied::Snoozed))
}

/// Maps "superseded?" to the applied transition.
fn exited(superseded: bool, otherwise: Applied) -> Applied {
    if superseded {
        Applied::Superseded
    } else {
        otherwise
    }
}

/// Logs a failure and parks the claimed row with `mode` (spec §2.7 `set_sync_error`).
fn park(
    conn: &Connection,
    claim: &Claim,
    live: Option<&RowFacts>,
    mode: FailureMode,
    messages: &[String],
    full_message: Option<&str>,
    now: Timestamp,
) -> Result<Applied> {
    log_failure(conn, claim, mode, messages, full_message, now)?;
    let Some(row) = live else {
        return Ok(Applied::Stale);
    };
    let error = summary(messages, full_message);
    let exit = Exit {
        failed_attempts: row.failed_attempts,
        snoozes: row.snoozes,
        not_before: row.not_before,
        need_manual_retry: Some(mode),
        last_error: Some(&error),
    };
    Ok(exited(
        leave_flight(conn, row.id, row.order, &row.provider, &exit)?,
        Applied::Parked(mode),
    ))
}

/// Derives a row's state at `now`.
fn state_of(row: &RowFacts, now: Timestamp) -> QueueState {
    match (row.in_flight_since, row.need_manual_retry) {
        (Some(_), _) => QueueState::InFlight,
        (None, Some(mode)) => QueueState::Parked(mode),
        (None, None) if row.not_before < now => QueueState::Pending,
        (None, None) => QueueState::Scheduled,
    }
}

impl Store {
    /// Enqueues a sync of `order` to `provider` (spec §2.3), coalescing with the pending
    /// row of the pair: see [`enqueue_in`] semantics — schedule reset to `not_before` (or
    /// `now`), parked row reactivated, `failed_attempts` and `triggered_at` kept; an
    /// in-flight row is never touched (a second, pending row is created next to it).
    pub fn enqueue(
        &mut self,
        order: OrderId,
        provider: &str,
        triggered_by: &str,
        not_before: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Enqueued> {
        const CTX: &str = "enqueueing a job";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(CTX)?;
        let enqueued = enqueue_in(&tx, order, provider, triggered_by, not_before, now)?;
        tx.commit().ctx(CTX)?;
        Ok(enqueued)
    }

    /// [`Store::enqueue`] for many jobs in ONE transaction; results in input order.
    pub fn enqueue_many(&mut self, jobs: &[NewJob], now: Timestamp) -> Result<Vec<Enqueued>> {
        const CTX: &str = "enqueueing jobs";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(CTX)?;
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            out.push(enqueue_in(
                &tx,
                job.order,
                &job.provider,
                &job.triggered_by,
                job.not_before,
                now,
            )?);
        }
        tx.commit().ctx(CTX)?;
        Ok(out)
    }

    /// Claims up to `limit` due jobs in ONE statement: not in flight, not parked,
    /// `not_before < now` (strictly), no in-flight sibling; fair across events (spec §2.4).
    /// Each is marked in flight since `now` with a lease until `now + lease`, and returned
    /// with its order data, in fairness order.
    pub fn claim_due(
        &mut self,
        now: Timestamp,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
        const CTX: &str = "claiming due jobs";
        if limit == 0 {
            return Ok(Vec::new());
        }
        let lease_until = now.saturating_add(lease);
        let mut stmt = self.conn.prepare_cached(CLAIM_SQL).ctx(CTX)?;
        let rows = stmt
            .query_map(params![now, lease_until, limit], claimed_job)
            .ctx(CTX)?;
        let jobs = rows.collect::<rusqlite::Result<_>>().ctx(CTX)?;
        Ok(fairness_order(jobs))
    }

    /// Claims the given rows that are due, in ONE transaction (pretix's `sync_single`, for
    /// "sync this now"): rows that are not due are skipped, not an error. Claim order
    /// follows `ids`.
    pub fn claim_jobs(
        &mut self,
        ids: &[QueueId],
        now: Timestamp,
        lease: Duration,
    ) -> Result<Vec<ClaimedJob>> {
        const CTX: &str = "claiming jobs";
        let lease_until = now.saturating_add(lease);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(CTX)?;
        let mut jobs = Vec::with_capacity(ids.len());
        for id in ids {
            let job = tx
                .prepare_cached(CLAIM_ONE_SQL)
                .ctx(CTX)?
                .query_row(params![now, lease_until, id], claimed_job)
                .optional()
                .ctx(CTX)?;
            jobs.extend(job);
        }
        tx.commit().ctx(CTX)?;
        Ok(jobs)
    }

    /// Writes a batch of worker reports in ONE transaction; returns what happened to each
    /// row, in input order. See [`Outcome`] for each transition; every exit from flight
    /// follows spec §2.7 (a newer pending row wins, [`Applied::Superseded`]).
    pub fn complete(&mut self, batch: &[Completion], now: Timestamp) -> Result<Vec<Applied>> {
        const CTX: &str = "writing job outcomes";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(CTX)?;
        let mut out = Vec::with_capacity(batch.len());
        for done in batch {
            out.push(complete_one(&tx, done, now)?);
        }
        tx.commit().ctx(CTX)?;
        Ok(out)
    }

    /// At start-up: returns every in-flight row (left by a host that died) to pending —
    /// at-least-once, attempts and schedule unchanged, not parked — or deletes it if a
    /// newer pending row exists. Logs `recovered` per row. Returns the number of rows.
    pub fn recover_in_flight(&mut self, now: Timestamp) -> Result<usize> {
        const CTX: &str = "recovering in-flight jobs";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(CTX)?;
        let rows = facts_where(&tx, "q.in_flight = 1", params![])?;
        for row in &rows {
            let exit = Exit {
                failed_attempts: row.failed_attempts,
                snoozes: row.snoozes,
                not_before: row.not_before,
                need_manual_retry: None,
                last_error: row.last_error.as_deref(),
            };
            let superseded = leave_flight(&tx, row.id, row.order, &row.provider, &exit)?;
            let data = json!({
                "provider": row.provider,
                "in_flight_since": row.in_flight_since.map(|t| t.to_string()),
                "superseded": superseded,
            });
            log_row(&tx, row, LogAction::Recovered, data, now)?;
        }
        tx.commit().ctx(CTX)?;
        Ok(rows.len())
    }

    /// Parks every in-flight row whose lease ended before `now` as `timeout` (spec §2.8;
    /// the worker hung or lost track of it), logging `failed.timeout`, or deletes it if a
    /// newer pending row exists. A late completion of such a claim is [`Applied::Stale`].
    /// Returns the number of rows.
    pub fn expire_leases(&mut self, now: Timestamp) -> Result<usize> {
        const CTX: &str = "expiring job leases";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(CTX)?;
        let rows = facts_where(&tx, "q.in_flight = 1 AND q.lease_until < ?1", [now])?;
        let full_message = "Timeout";
        for row in &rows {
            let claim = Claim {
                id: row.id,
                claim_no: row.claims,
                order: row.order,
                event: row.event.clone(),
                order_code: row.order_code.clone(),
                provider: row.provider.clone(),
            };
            park(
                &tx,
                &claim,
                Some(row),
                FailureMode::Timeout,
                &[],
                Some(full_message),
                now,
            )?;
        }
        tx.commit().ctx(CTX)?;
        Ok(rows.len())
    }

    /// Queue rows matching `filter`, oldest trigger first, with their state at `now`.
    pub fn list_queue(&self, filter: &QueueFilter, now: Timestamp) -> Result<Vec<QueueRow>> {
        const CTX: &str = "listing the queue";
        let sql = format!(
            "SELECT {FACTS} FROM queue AS q JOIN orders AS o ON o.id = q.order_id
             WHERE (?1 = 0 OR q.need_manual_retry IS NOT NULL OR q.failed_attempts > 0)
               AND (?2 IS NULL OR q.event = ?2) AND (?3 IS NULL OR q.provider = ?3)
             ORDER BY q.triggered_at, q.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql).ctx(CTX)?;
        let rows = stmt
            .query_map(
                params![filter.problems_only, filter.event, filter.provider],
                RowFacts::read,
            )
            .ctx(CTX)?;
        let rows: Vec<RowFacts> = rows.collect::<rusqlite::Result<_>>().ctx(CTX)?;
        Ok(rows.into_iter().map(|row| queue_row(row, now)).collect())
    }

    /// Manual retry: the selected rows become due now with attempts and snoozes reset and
    /// any parking cleared (unlike pretix, which keeps the attempt counter). Logs `retry`
    /// per row. With [`RetrySelection::Ids`] an unknown or in-flight id fails the whole call
    /// and nothing changes. Returns the ids of the retried rows.
    pub fn retry(&mut self, selection: &RetrySelection, now: Timestamp) -> Result<Vec<QueueId>> {
        const CTX: &str = "retrying jobs";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(CTX)?;
        let rows = match selection {
            RetrySelection::Ids(ids) => idle_rows(&tx, ids)?,
            RetrySelection::AllProblems => facts_where(
                &tx,
                "q.in_flight = 0 AND (q.need_manual_retry IS NOT NULL OR q.failed_attempts > 0)",
                params![],
            )?,
        };
        for row in &rows {
            tx.prepare_cached(
                "UPDATE queue SET not_before = ?2, failed_attempts = 0, snoozes = 0,
                     need_manual_retry = NULL
                 WHERE id = ?1",
            )
            .ctx(CTX)?
            .execute(params![row.id, now])
            .ctx(CTX)?;
            let data = json!({
                "provider": row.provider,
                "previous_failure_mode": row.need_manual_retry.map(FailureMode::as_str),
                "previous_failed_attempts": row.failed_attempts,
            });
            log_row(&tx, row, LogAction::Retry, data, now)?;
        }
        tx.commit().ctx(CTX)?;
        Ok(rows.iter().map(|row| row.id).collect())
    }

    /// Manual cancel: deletes the rows and logs `canceled` per row. An unknown id, or a row
    /// in flight (a worker is syncing it; pretix's bulk cancel ignores this, we refuse),
    /// fails the whole call and nothing changes. Returns the number of rows deleted.
    pub fn cancel(&mut self, ids: &[QueueId], now: Timestamp) -> Result<usize> {
        const CTX: &str = "canceling jobs";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(CTX)?;
        let rows = idle_rows(&tx, ids)?;
        for row in &rows {
            delete_row(&tx, row.id)?;
            let data = json!({
                "provider": row.provider,
                "failure_mode": row.need_manual_retry.map(FailureMode::as_str),
                "failed_attempts": row.failed_attempts,
            });
            log_row(&tx, row, LogAction::Canceled, data, now)?;
        }
        tx.commit().ctx(CTX)?;
        Ok(rows.len())
    }

    /// Reactivates the `provider_missing` rows of `provider` (its plugin is loaded again):
    /// due now, attempts unchanged. Logs `resumed` per row. Returns the number of rows.
    pub fn resume_provider(&mut self, provider: &str, now: Timestamp) -> Result<usize> {
        const CTX: &str = "resuming a provider's jobs";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(CTX)?;
        let rows = facts_where(
            &tx,
            "q.provider = ?1 AND q.in_flight = 0 AND q.need_manual_retry = 'provider_missing'",
            [provider],
        )?;
        for row in &rows {
            tx.prepare_cached(
                "UPDATE queue SET need_manual_retry = NULL, not_before = ?2 WHERE id = ?1",
            )
            .ctx(CTX)?
            .execute(params![row.id, now])
            .ctx(CTX)?;
            log_row(
                &tx,
                row,
                LogAction::Resumed,
                json!({ "provider": row.provider }),
                now,
            )?;
        }
        tx.commit().ctx(CTX)?;
        Ok(rows.len())
    }
}

/// The operator view of a row at `now`.
fn queue_row(row: RowFacts, now: Timestamp) -> QueueRow {
    QueueRow {
        state: state_of(&row, now),
        id: row.id,
        order: row.order,
        event: row.event,
        order_code: row.order_code,
        provider: row.provider,
        triggered_by: row.triggered_by,
        triggered_at: row.triggered_at,
        failed_attempts: row.failed_attempts,
        snoozes: row.snoozes,
        not_before: row.not_before,
        need_manual_retry: row.need_manual_retry,
        in_flight_since: row.in_flight_since,
        lease_until: row.lease_until,
        last_error: row.last_error,
    }
}

/// The facts of each id, refusing unknown and in-flight rows (manual actions).
fn idle_rows(conn: &Connection, ids: &[QueueId]) -> Result<Vec<RowFacts>> {
    let mut rows = Vec::with_capacity(ids.len());
    for &id in ids {
        let row = facts_of(conn, id)?.ok_or(StoreError::JobNotFound { id })?;
        if let Some(since) = row.in_flight_since {
            return Err(StoreError::JobInFlight { id, since });
        }
        // The same id twice would otherwise be acted on (and logged) twice.
        if rows.iter().all(|r: &RowFacts| r.id != id) {
            rows.push(row);
        }
    }
    Ok(rows)
}
