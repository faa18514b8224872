//! Events and orders: the pretix data the queue syncs, kept as raw JSON plus the few
//! columns the store needs (keys, order status, a content hash for change detection).

use std::borrow::Borrow;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::error::{Context, Result};
use super::queue::{enqueue_for_new_order, enqueue_in, Enqueued};
use super::time::Timestamp;
use super::{OrderId, Store};

/// An event as imported: its slug, organizer and the whole event bundle as one JSON text
/// (event, settings, items, questions, check-in lists, sub-events, vouchers — `model`
/// decides the shape; the store does not parse it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// The event slug (primary key).
    pub slug: String,
    /// The organizer slug.
    pub organizer: String,
    /// The event bundle, JSON text.
    pub data: String,
}

/// What [`Store::import_document`] did with the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventUpsert {
    /// The event was not known before.
    New,
    /// The event's organizer or data changed.
    Changed,
    /// Same organizer and data as stored; nothing written.
    Unchanged,
}

/// An order as imported, in pretix REST-API shape.
///
/// `data` is compared by an xxh3 hash of its exact text: serialize it canonically (e.g.
/// `serde_json::Value::to_string`, whose maps are sorted) or every import looks changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// The order code, unique within its event.
    pub code: String,
    /// The pretix status (`n`, `p`, `e`, `c`).
    pub status: String,
    /// The order, JSON text.
    pub data: String,
}

/// How an imported order compares with the stored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// The order was not known before.
    New,
    /// The status or data changed; `old_status` lets the caller derive triggers such as
    /// "order paid" (`n` → `p`).
    Changed {
        /// The status before this import.
        old_status: String,
    },
    /// Same status and data as stored; nothing written.
    Unchanged,
}

/// One imported order: its row id and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpsert {
    /// The order's row id, for [`Store::enqueue`].
    pub id: OrderId,
    /// New, changed or unchanged.
    pub outcome: UpsertOutcome,
}

/// A job to enqueue for an order during [`Store::import_document`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// The provider identifier.
    pub provider: String,
    /// Why (informational, e.g. `order_paid`).
    pub triggered_by: String,
    /// Earliest run time; `None` = now.
    pub not_before: Option<Timestamp>,
}

/// What [`Store::import_document`] did with the orders: one entry per input order, in input order, and one
/// per job the callback asked for, in the order asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Per input order.
    pub orders: Vec<OrderUpsert>,
    /// Per requested job.
    pub jobs: Vec<Enqueued>,
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    /// Row id.
    pub id: OrderId,
    /// Event slug.
    pub event: String,
    /// Order code.
    pub code: String,
    /// pretix status.
    pub status: String,
    /// The order, JSON text as imported.
    pub data: String,
    /// When the status or data last changed.
    pub updated_at: Timestamp,
}

/// The change-detection hash, as the signed 64-bit integer SQLite stores.
fn content_hash(text: &str) -> i64 {
    i64::from_ne_bytes(xxhash_rust::xxh3::xxh3_64(text.as_bytes()).to_ne_bytes())
}

impl Store {
    /// The stored event `slug`, if any.
    pub fn event(&self, slug: &str) -> Result<Option<EventRow>> {
        const CTX: &str = "reading an event";
        self.conn
            .prepare_cached("SELECT slug, organizer, data FROM events WHERE slug = ?1")
            .ctx(CTX)?
            .query_row([slug], |r| {
                Ok(EventRow {
                    slug: r.get(0)?,
                    organizer: r.get(1)?,
                    data: r.get(2)?,
                })
            })
            .optional()
            .ctx(CTX)
    }

    /// The slugs of every stored event, sorted.
    pub fn event_slugs(&self) -> Result<Vec<String>> {
        const CTX: &str = "listing events";
        let mut stmt = self
            .conn
            .prepare_cached("SELECT slug FROM events ORDER BY slug")
            .ctx(CTX)?;
        let rows = stmt.query_map([], |r| r.get(0)).ctx(CTX)?;
        rows.collect::<rusqlite::Result<_>>().ctx(CTX)
    }

    /// A whole import document in ONE transaction: the event (unchanged data is not
    /// rewritten), then each order as `orders` yields it, saying per order whether it is
    /// new, changed or unchanged, with the jobs it triggers — so a crash can never keep
    /// an order change while losing its jobs (the next import would see the order
    /// unchanged and enqueue nothing).
    ///
    /// `jobs_for(order, outcome, jobs)` is called once per order and pushes the jobs that
    /// order needs (e.g. per provider whose triggers match the outcome); they are enqueued
    /// with the coalescing semantics of [`Store::enqueue`].
    ///
    /// When `orders` yields an error, the transaction is dropped — nothing of the
    /// document is kept — and that error is returned inside `Ok` (the input was bad, not
    /// the store).
    pub fn import_document<R, E, F>(
        &mut self,
        event: &EventRow,
        orders: impl IntoIterator<Item = std::result::Result<R, E>>,
        now: Timestamp,
        jobs_for: F,
    ) -> Result<std::result::Result<(EventUpsert, ImportReport), E>>
    where
        R: Borrow<OrderRow>,
        F: FnMut(&OrderRow, &UpsertOutcome, &mut Vec<JobSpec>),
    {
        const CTX: &str = "importing a document";
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(CTX)?;
        let event_change = upsert_event_in(&tx, event, now)?;
        match import_orders_in(&tx, &event.slug, orders, now, jobs_for)? {
            Ok(report) => {
                tx.commit().ctx(CTX)?;
                Ok(Ok((event_change, report)))
            }
            Err(input) => Ok(Err(input)),
        }
    }

    /// The stored order `code` of `event`, if any.
    pub fn order(&self, event: &str, code: &str) -> Result<Option<StoredOrder>> {
        const CTX: &str = "reading an order";
        self.conn
            .prepare_cached(
                "SELECT id, event, code, status, data, updated_at FROM orders
                 WHERE event = ?1 AND code = ?2",
            )
            .ctx(CTX)?
            .query_row([event, code], |r| {
                Ok(StoredOrder {
                    id: OrderId(r.get(0)?),
                    event: r.get(1)?,
                    code: r.get(2)?,
                    status: r.get(3)?,
                    data: r.get(4)?,
                    updated_at: r.get(5)?,
                })
            })
            .optional()
            .ctx(CTX)
    }
}

/// Inserts or updates an event inside the caller's transaction; unchanged data is not
/// rewritten.
fn upsert_event_in(conn: &Connection, event: &EventRow, now: Timestamp) -> Result<EventUpsert> {
    const CTX: &str = "saving an event";
    let hash = content_hash(&event.data);
    let old: Option<(String, i64)> = conn
        .prepare_cached("SELECT organizer, data_hash FROM events WHERE slug = ?1")
        .ctx(CTX)?
        .query_row([&event.slug], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .ctx(CTX)?;
    let outcome = match old {
        None => EventUpsert::New,
        Some((organizer, h)) if organizer == event.organizer && h == hash => {
            return Ok(EventUpsert::Unchanged);
        }
        Some(_) => EventUpsert::Changed,
    };
    conn.prepare_cached(
        "INSERT INTO events (slug, organizer, data, data_hash, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (slug) DO UPDATE SET organizer = excluded.organizer,
             data = excluded.data, data_hash = excluded.data_hash,
             updated_at = excluded.updated_at",
    )
    .ctx(CTX)?
    .execute(params![event.slug, event.organizer, event.data, hash, now])
    .ctx(CTX)?;
    Ok(outcome)
}

/// Upserts each order `orders` yields and enqueues its jobs, inside the caller's
/// transaction; stops at the first input error and returns it inside `Ok`.
fn import_orders_in<R, E, F>(
    conn: &Connection,
    event: &str,
    orders: impl IntoIterator<Item = std::result::Result<R, E>>,
    now: Timestamp,
    mut jobs_for: F,
) -> Result<std::result::Result<ImportReport, E>>
where
    R: Borrow<OrderRow>,
    F: FnMut(&OrderRow, &UpsertOutcome, &mut Vec<JobSpec>),
{
    let mut report = ImportReport::default();
    let mut specs = Vec::new();
    for order in orders {
        let order = match order {
            Ok(order) => order,
            Err(input) => return Ok(Err(input)),
        };
        let order = order.borrow();
        let upsert = upsert_order(conn, event, order, now)?;
        specs.clear();
        jobs_for(order, &upsert.outcome, &mut specs);
        for (i, spec) in specs.iter().enumerate() {
            let first_for_provider = !specs
                .iter()
                .take(i)
                .any(|earlier| earlier.provider == spec.provider);
            let job = if upsert.outcome == UpsertOutcome::New && first_for_provider {
                let (provider, reason) = (&spec.provider, &spec.triggered_by);
                enqueue_for_new_order(
                    conn,
                    upsert.id,
                    event,
                    provider,
                    reason,
                    spec.not_before,
                    now,
                )?
            } else {
                enqueue_in(
                    conn,
                    upsert.id,
                    &spec.provider,
                    &spec.triggered_by,
                    spec.not_before,
                    now,
                )?
            };
            report.jobs.push(job);
        }
        report.orders.push(upsert);
    }
    Ok(Ok(report))
}

/// Inserts or updates one order inside the caller's transaction.
fn upsert_order(
    conn: &Connection,
    event: &str,
    order: &OrderRow,
    now: Timestamp,
) -> Result<OrderUpsert> {
    const CTX: &str = "importing an order";
    let hash = content_hash(&order.data);
    let old: Option<(i64, String, i64)> = conn
        .prepare_cached("SELECT id, status, data_hash FROM orders WHERE event = ?1 AND code = ?2")
        .ctx(CTX)?
        .query_row([event, &order.code], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .ctx(CTX)?;
    let Some((id, old_status, old_hash)) = old else {
        conn.prepare_cached(
            "INSERT INTO orders (event, code, status, data, data_hash, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .ctx(CTX)?
        .execute(params![
            event,
            order.code,
            order.status,
            order.data,
            hash,
            now
        ])
        .ctx(CTX)?;
        return Ok(OrderUpsert {
            id: OrderId(conn.last_insert_rowid()),
            outcome: UpsertOutcome::New,
        });
    };
    if old_hash == hash && old_status == order.status {
        return Ok(OrderUpsert {
            id: OrderId(id),
            outcome: UpsertOutcome::Unchanged,
        });
    }
    conn.prepare_cached(
        "UPDATE orders SET status = ?2, data = ?3, data_hash = ?4, updated_at = ?5 WHERE id = ?1",
    )
    .ctx(CTX)?
    .execute(params![id, order.status, order.data, hash, now])
    .ctx(CTX)?;
    Ok(OrderUpsert {
        id: OrderId(id),
        outcome: UpsertOutcome::Changed { old_status },
    })
}
