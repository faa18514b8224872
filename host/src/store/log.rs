//! The append-only log: every queue state change an operator may need to explain.
//!
//! Action names follow pretix (spec §2.11) where pretix has one; our additions use the same
//! `pretix.event.order.data_sync.` prefix so one filter finds them all.

use std::fmt;

use rusqlite::{params, Connection};
use serde_json::{json, Value};

use super::error::{json_column, Context, Result, StoreError};
use super::queue::FailureMode;
use super::time::Timestamp;
use super::{OrderId, Store};

/// The common prefix of every action name.
const PREFIX: &str = "pretix.event.order.data_sync";

/// What happened, as written to the `action` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogAction {
    /// `…success`: data transferred (spec §2.11; written unless every object was
    /// `nothing_to_do`, which the caller decides).
    Success,
    /// `…failed.<mode>`: the job was parked (or superseded) with this failure mode.
    Failed(FailureMode),
    /// `…retry`: an operator asked to run the job now (attempts reset).
    Retry,
    /// `…canceled`: an operator removed the job.
    Canceled,
    /// `…resumed`: the provider is loaded again; its `provider_missing` jobs are active.
    Resumed,
    /// `…recovered`: the job was in flight when the host stopped and is pending again.
    Recovered,
}

impl fmt::Display for LogAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Success => write!(f, "{PREFIX}.success"),
            Self::Failed(mode) => write!(f, "{PREFIX}.failed.{}", mode.as_str()),
            Self::Retry => write!(f, "{PREFIX}.retry"),
            Self::Canceled => write!(f, "{PREFIX}.canceled"),
            Self::Resumed => write!(f, "{PREFIX}.resumed"),
            Self::Recovered => write!(f, "{PREFIX}.recovered"),
        }
    }
}

/// One log line as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// Row id; ascending in write order.
    pub id: i64,
    /// When.
    pub time: Timestamp,
    /// Event slug.
    pub event: String,
    /// Order code.
    pub order_code: String,
    /// Provider identifier.
    pub provider: String,
    /// Action name (see [`LogAction`]; kept as text so entries of newer builds still read).
    pub action: String,
    /// Human-readable messages (a provider's error messages), possibly empty.
    pub messages: Vec<String>,
    /// Technical detail, e.g. a raw API response.
    pub full_message: Option<String>,
    /// Action-specific data; failures use pretix's `{provider, error, full_message}`.
    pub data: Value,
}

/// Which log lines [`Store::log_entries`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only this event.
    pub event: Option<String>,
    /// Only this order code (combine with `event`; codes are unique per event only).
    pub order_code: Option<String>,
    /// Only this provider.
    pub provider: Option<String>,
}

/// A log line to append.
pub(crate) struct NewLog<'a> {
    pub time: Timestamp,
    pub event: &'a str,
    pub order_code: &'a str,
    pub order: OrderId,
    pub provider: &'a str,
    pub action: LogAction,
    pub messages: &'a [String],
    pub full_message: Option<&'a str>,
    /// JSON text.
    pub data: &'a str,
}

/// Pretix's data shape for `failed.*` entries (spec §2.7).
pub(crate) fn failure_data(
    provider: &str,
    messages: &[String],
    full_message: Option<&str>,
) -> Value {
    json!({ "provider": provider, "error": messages, "full_message": full_message })
}

/// Appends one line inside the caller's transaction.
pub(crate) fn append(conn: &Connection, entry: &NewLog<'_>) -> Result<()> {
    const CTX: &str = "writing the log";
    conn.prepare_cached(
        "INSERT INTO log (time, event, order_code, order_id, provider, action, messages,
                          full_message, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .ctx(CTX)?
    .execute(params![
        entry.time,
        entry.event,
        entry.order_code,
        entry.order.0,
        entry.provider,
        entry.action.to_string(),
        Value::from(entry.messages).to_string(),
        entry.full_message,
        entry.data,
    ])
    .ctx(CTX)?;
    Ok(())
}

const LOG_SQL: &str = "
SELECT id, time, event, order_code, provider, action, messages, full_message, data
FROM log
WHERE (?1 IS NULL OR event = ?1) AND (?2 IS NULL OR order_code = ?2)
  AND (?3 IS NULL OR provider = ?3)
ORDER BY id";

const LOG_OF_ORDER_SQL: &str = "
SELECT id, time, event, order_code, provider, action, messages, full_message, data
FROM log
WHERE order_id = (SELECT o.id FROM orders AS o WHERE o.event = ?1 AND o.code = ?2)
  AND (?3 IS NULL OR provider = ?3)
ORDER BY id";

impl Store {
    /// Log lines matching `filter`, oldest first.
    pub fn log_entries(&self, filter: &LogFilter) -> Result<Vec<LogEntry>> {
        const CTX: &str = "reading the log";
        // An order's history goes through `log_by_order_id`; the rest is a scan in id order.
        let sql = if filter.event.is_some() && filter.order_code.is_some() {
            LOG_OF_ORDER_SQL
        } else {
            LOG_SQL
        };
        let mut stmt = self.conn.prepare_cached(sql).ctx(CTX)?;
        let rows = stmt
            .query_map(
                params![filter.event, filter.order_code, filter.provider],
                |r| {
                    let entry = LogEntry {
                        id: r.get(0)?,
                        time: r.get(1)?,
                        event: r.get(2)?,
                        order_code: r.get(3)?,
                        provider: r.get(4)?,
                        action: r.get(5)?,
                        messages: Vec::new(),
                        full_message: r.get(7)?,
                        data: Value::Null,
                    };
                    Ok((entry, r.get::<_, String>(6)?, r.get::<_, String>(8)?))
                },
            )
            .ctx(CTX)?;
        let mut out = Vec::new();
        for row in rows {
            let (mut entry, messages, data) = row.ctx(CTX)?;
            entry.messages = parse_messages(&messages, entry.id)?;
            entry.data = json_column(&data, || format!("data of log entry {}", entry.id))?;
            out.push(entry);
        }
        Ok(out)
    }
}

/// The `messages` column: a JSON array of strings.
fn parse_messages(text: &str, id: i64) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: format!("messages of log entry {id}"),
        detail: format!("not a JSON list of strings: {e}"),
    })
}
