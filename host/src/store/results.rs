//! Sync results (spec §3): which external object each order/position was written to.

use rusqlite::{params, Connection};
use serde_json::Value;

use super::error::{json_column, Context, Result};
use super::time::Timestamp;
use super::{OrderId, Store};

/// One synced object, as a successful job reports it (spec §1.6 step 7).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultUpsert {
    /// The pretix position id; `None` for order-level mappings.
    pub position: Option<i64>,
    /// The mapping's id.
    pub mapping_id: i64,
    /// From the mapping.
    pub external_object_type: String,
    /// From the mapping.
    pub external_id_field: String,
    /// The computed id value.
    pub id_value: String,
    /// Link to the object in the external system, if the provider gave one.
    pub external_link_href: Option<String>,
    /// Text for that link.
    pub external_link_display_name: Option<String>,
    /// The provider's info dict minus the two link keys, as JSON text (an object).
    pub sync_info: String,
}

/// A stored sync result.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncResultRow {
    /// Provider identifier.
    pub provider: String,
    /// What was synced and where.
    pub result: ResultUpsert,
    /// Last successful transfer of this object.
    pub transmitted: Timestamp,
}

/// Upserts one result keyed by (order, position-or-null, provider, mapping) (spec §3.2),
/// inside the caller's transaction.
pub(crate) fn upsert(
    conn: &Connection,
    order: OrderId,
    provider: &str,
    result: &ResultUpsert,
    now: Timestamp,
) -> Result<()> {
    const CTX: &str = "saving a sync result";
    // The conflict target repeats the expression index `results_one_per_object`.
    conn.prepare_cached(
        "INSERT INTO results (order_id, provider, position, mapping_id, external_object_type,
             external_id_field, id_value, external_link_href, external_link_display_name,
             transmitted, sync_info)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (order_id, provider, COALESCE(position, -1), mapping_id) DO UPDATE SET
             external_object_type = excluded.external_object_type,
             external_id_field = excluded.external_id_field,
             id_value = excluded.id_value,
             external_link_href = excluded.external_link_href,
             external_link_display_name = excluded.external_link_display_name,
             transmitted = excluded.transmitted,
             sync_info = excluded.sync_info",
    )
    .ctx(CTX)?
    .execute(params![
        order.0,
        provider,
        result.position,
        result.mapping_id,
        result.external_object_type,
        result.external_id_field,
        result.id_value,
        result.external_link_href,
        result.external_link_display_name,
        now,
        result.sync_info,
    ])
    .ctx(CTX)?;
    Ok(())
}

impl Store {
    /// The sync results of order `code` in `event`, by provider, mapping and position
    /// (order-level first).
    pub fn results_for_order(&self, event: &str, code: &str) -> Result<Vec<SyncResultRow>> {
        const CTX: &str = "reading sync results";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT r.id, r.provider, r.position, r.mapping_id, r.external_object_type,
                        r.external_id_field, r.id_value, r.external_link_href,
                        r.external_link_display_name, r.transmitted, r.sync_info
                 FROM results AS r JOIN orders AS o ON o.id = r.order_id
                 WHERE o.event = ?1 AND o.code = ?2
                 ORDER BY r.provider, r.mapping_id, r.position NULLS FIRST",
            )
            .ctx(CTX)?;
        let rows = stmt
            .query_map([event, code], |r| {
                let id: i64 = r.get(0)?;
                let sync_info: String = r.get(10)?;
                let row = SyncResultRow {
                    provider: r.get(1)?,
                    result: ResultUpsert {
                        position: r.get(2)?,
                        mapping_id: r.get(3)?,
                        external_object_type: r.get(4)?,
                        external_id_field: r.get(5)?,
                        id_value: r.get(6)?,
                        external_link_href: r.get(7)?,
                        external_link_display_name: r.get(8)?,
                        sync_info: String::new(),
                    },
                    transmitted: r.get(9)?,
                };
                Ok((id, sync_info, row))
            })
            .ctx(CTX)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sync_info, mut row) = row.ctx(CTX)?;
            let _: Value = json_column(&sync_info, || format!("sync_info of result {id}"))?;
            row.result.sync_info = sync_info;
            out.push(row);
        }
        Ok(out)
    }
}
