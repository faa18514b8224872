//! Counts for the operator's overview (`datasync stats`, the demo's summary).

use std::collections::BTreeMap;

use super::error::{Context, Result};
use super::Store;

/// What one provider has received and what is still waiting for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProviderStats {
    /// Orders with at least one synced object.
    pub orders: i64,
    /// Synced objects (result rows).
    pub objects: i64,
    /// Objects by the last action the provider reported (`create`, `update`, …).
    pub actions: BTreeMap<String, i64>,
    /// Jobs waiting to run.
    pub queued: i64,
    /// Jobs that are sync problems: parked, or failed at least once.
    pub problems: i64,
}

/// Orders in the database and, per provider, what was synced and what waits.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Imported orders.
    pub orders: i64,
    /// Per provider identifier.
    pub providers: BTreeMap<String, ProviderStats>,
}

impl Store {
    /// Counts over orders, results and the queue.
    pub fn stats(&self) -> Result<Stats> {
        const CTX: &str = "counting";
        let mut stats = Stats {
            orders: self
                .conn
                .query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0))
                .ctx(CTX)?,
            providers: BTreeMap::new(),
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT provider, COUNT(DISTINCT order_id), COUNT(*) FROM results GROUP BY provider",
            )
            .ctx(CTX)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
            .ctx(CTX)?;
        for row in rows {
            let (provider, orders, objects) = row.ctx(CTX)?;
            let entry = stats.providers.entry(provider).or_default();
            entry.orders = orders;
            entry.objects = objects;
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT provider, COALESCE(json_extract(sync_info, '$.action'), '(none)'), COUNT(*)
                 FROM results GROUP BY 1, 2",
            )
            .ctx(CTX)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })
            .ctx(CTX)?;
        for row in rows {
            let (provider, action, count) = row.ctx(CTX)?;
            stats
                .providers
                .entry(provider)
                .or_default()
                .actions
                .insert(action, count);
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT provider, COUNT(*),
                        SUM(need_manual_retry IS NOT NULL OR failed_attempts > 0)
                 FROM queue GROUP BY provider",
            )
            .ctx(CTX)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)))
            .ctx(CTX)?;
        for row in rows {
            let (provider, queued, problems) = row.ctx(CTX)?;
            let entry = stats.providers.entry(provider).or_default();
            entry.queued = queued;
            entry.problems = problems;
        }
        Ok(stats)
    }
}
