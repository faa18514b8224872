//! The per-order driver (spec §1.6): ask the provider whether to sync, plan every object
//! from the mappings, call `sync_object` per object with the results of earlier
//! mappings, finalize, and turn what came back into result rows and a log entry.

use abi_stable::std_types::{ROption, RSlice, RStr, RString, RVec};
use datasync_plugin_api::{
    MappedObjects, Mapping, ObjectRequest, SyncError, SyncInfo, SyncedObject, Value,
};
use serde_json::{json, Map};

use crate::mapping::{Catalog, CompiledMappings, PlannedObject};
use crate::model::{EventData, Order};
use crate::plugins::ProviderHandle;
use crate::store::ResultUpsert;

/// What one (provider, event) group shares: the event's data and catalog, and the
/// mappings resolved against it once.
pub struct EventSession<'a> {
    /// Provider identifier.
    pub identifier: &'a str,
    /// Provider display name, for error messages.
    pub display_name: &'a str,
    /// The provider's list joiner.
    pub list_field_joiner: Option<&'a str>,
    /// The event.
    pub event: &'a EventData,
    /// Its source-field catalog.
    pub catalog: &'a Catalog,
    /// The mappings, resolved against the catalog.
    pub mappings: CompiledMappings<'a>,
}

/// A successfully synced order.
#[derive(Debug, Default)]
pub struct OrderSynced {
    /// One row per synced object (spec §3.2).
    pub results: Vec<ResultUpsert>,
    /// The `success` log entry's data as JSON text, or `None` when every object was
    /// skipped or `nothing_to_do` (spec §2.6).
    pub log: Option<String>,
}

/// Syncs one order. `before_call` runs before every provider call, so a watchdog can
/// time each call. Objects synced before an error stay synced remotely (no rollback),
/// as in pretix; their results are not recorded because the job will run again.
pub fn sync_order(
    session: &EventSession<'_>,
    provider: &mut ProviderHandle,
    order: &Order,
    before_call: &mut dyn FnMut(),
) -> Result<OrderSynced, SyncError> {
    let order_json = order.raw_json();
    before_call();
    if !provider.should_sync_order(order_json)? {
        return Ok(OrderSynced::default());
    }
    let plan = session.mappings.plan_order(
        session.catalog,
        session.event,
        order,
        session.list_field_joiner,
        session.display_name,
    )?;

    let mappings = session.mappings.mappings();
    let mut mapped: Vec<MappedObjects> = Vec::with_capacity(mappings.len());
    let mut synced = OrderSynced::default();
    let mut log_objects = Map::new();
    let mut anything_changed = false;

    for (index, mapping) in mappings.iter().enumerate() {
        let mut objects: RVec<ROption<SyncedObject>> = RVec::new();
        let mut log_list = Vec::new();
        for planned in plan.iter().filter(|p| p.mapping_index == index) {
            let info = if planned.skipped {
                None
            } else {
                before_call();
                let request = object_request(mapping, planned, order, &mapped, order_json);
                provider.sync_object(&request)?.filter(|i| !is_empty(i))
            };
            match info {
                None => {
                    objects.push(ROption::RNone);
                    log_list.push(serde_json::Value::Null);
                }
                Some(info) => {
                    anything_changed |= !info.is_nothing_to_do();
                    let (result, sync_info) = result_upsert(mapping, planned, &info);
                    log_list.push(result_dict(&result, sync_info));
                    objects.push(ROption::RSome(synced_object(&result)));
                    synced.results.push(result);
                }
            }
        }
        log_objects.insert(mapping.id.to_string(), serde_json::Value::Array(log_list));
        mapped.push(MappedObjects {
            mapping_id: mapping.id,
            objects,
        });
    }

    before_call();
    provider.finalize_sync_order(order_json)?;
    if anything_changed {
        let log = json!({"provider": session.identifier, "objects": log_objects});
        synced.log = Some(log.to_string());
    }
    Ok(synced)
}

fn object_request<'a>(
    mapping: &'a Mapping,
    planned: &'a PlannedObject,
    order: &'a Order,
    earlier: &'a [MappedObjects],
    order_json: &'a str,
) -> ObjectRequest<'a> {
    let position_json = planned
        .position_index
        .and_then(|i| order.position_raw_json(i))
        .map(RStr::from_str);
    ObjectRequest {
        external_id_field: RStr::from_str(&mapping.external_id_field),
        id_value: &planned.id_value,
        properties: RSlice::from_slice(&planned.properties),
        mapping,
        mapped_objects: RSlice::from_slice(earlier),
        order_json: RStr::from_str(order_json),
        position_id: planned.position_id.into(),
        position_json: position_json.into(),
    }
}

/// pretix treats a falsy dict (`{}`) like `None`: nothing is recorded.
fn is_empty(info: &SyncInfo) -> bool {
    info.action.is_none()
        && info.external_link_href.is_none()
        && info.external_link_display_name.is_none()
        && extra(info).is_empty()
}

fn extra(info: &SyncInfo) -> Map<String, serde_json::Value> {
    // The handle already refused extra data that is not a JSON object.
    serde_json::from_str(info.extra_json.as_str()).unwrap_or_default()
}

/// pretix stores the id value stringified (`str(id_value)`).
fn id_value_text(value: &Value) -> String {
    value.to_string()
}

/// The result row, and its sync info as a map for the log entry.
fn result_upsert(
    mapping: &Mapping,
    planned: &PlannedObject,
    info: &SyncInfo,
) -> (ResultUpsert, Map<String, serde_json::Value>) {
    let mut sync_info = extra(info);
    if let ROption::RSome(action) = &info.action {
        sync_info.insert("action".into(), json!(action.as_str()));
    }
    let result = ResultUpsert {
        position: planned.position_id,
        mapping_id: mapping.id,
        external_object_type: mapping.external_object_type.to_string(),
        external_id_field: mapping.external_id_field.to_string(),
        id_value: id_value_text(&planned.id_value),
        external_link_href: info
            .external_link_href
            .as_ref()
            .map(|s| s.to_string())
            .into_option(),
        external_link_display_name: info
            .external_link_display_name
            .as_ref()
            .map(|s| s.to_string())
            .into_option(),
        sync_info: serde_json::to_string(&sync_info).unwrap_or_else(|_| "{}".into()),
    };
    (result, sync_info)
}

/// pretix's `to_result_dict()`: fixed keys, then the sync info (which wins on collision).
fn result_dict(
    result: &ResultUpsert,
    sync_info: Map<String, serde_json::Value>,
) -> serde_json::Value {
    let mut dict = Map::new();
    dict.insert("position".into(), json!(result.position));
    dict.insert("object_type".into(), json!(result.external_object_type));
    dict.insert("external_id_field".into(), json!(result.external_id_field));
    dict.insert("id_value".into(), json!(result.id_value));
    dict.insert(
        "external_link_href".into(),
        json!(result.external_link_href),
    );
    dict.insert(
        "external_link_display_name".into(),
        json!(result.external_link_display_name),
    );
    dict.extend(sync_info);
    serde_json::Value::Object(dict)
}

fn synced_object(result: &ResultUpsert) -> SyncedObject {
    let text = |s: &Option<String>| s.as_deref().map(RString::from).into();
    SyncedObject {
        position_id: result.position.into(),
        external_object_type: result.external_object_type.as_str().into(),
        external_id_field: result.external_id_field.as_str().into(),
        id_value: result.id_value.as_str().into(),
        external_link_href: text(&result.external_link_href),
        external_link_display_name: text(&result.external_link_display_name),
        sync_info_json: result.sync_info.as_str().into(),
    }
}
