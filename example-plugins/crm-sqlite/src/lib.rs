//! # The CRM-in-SQLite provider
//!
//! A small CRM kept in one SQLite file: the example to copy when the external system is
//! a database, or any system with "find by key, then create or update" semantics. It
//! shows the full provider pattern of spec §7.1 against real storage:
//!
//! 1. find the object by (external object type, external id field, id value);
//! 2. [`assign_properties`]`(properties, existing row or {}, is_new, list separator)`,
//!    which applies the four update modes (`overwrite`, `if_new`, `if_empty`, `append`);
//! 3. write only what changes: insert (`create`), update the changed columns
//!    (`update`), or write nothing and report `nothing_to_do`, which the host does not
//!    log;
//! 4. report the row id in the sync info, so later mappings of the order can link to it,
//!    and an external link built from a URL template.
//!
//! Settings (the provider's `settings` table in `datasync.toml`; unknown keys are
//! refused, so a typo cannot silently fall back to a default):
//!
//! | key              | type   | default | effect |
//! |------------------|--------|---------|--------|
//! | `path`           | string | —       | required: the SQLite file; created if missing, its folder must exist. Relative paths are relative to the host's working folder. |
//! | `link_template`  | string | none    | external link of each object; `{object_type}` and `{id}` (the row id) are replaced, e.g. `"https://crm.example.com/{object_type}/{id}"` |
//! | `list_separator` | string | `";"`   | joins list values for storage, and splits stored lists for `append` |
//!
//! ```toml
//! [[provider]]
//! identifier = "crm_sqlite"
//! events = "*"
//! settings = { path = "/var/lib/crm/crm.sqlite", link_template = "https://crm.example.com/{object_type}/{id}" }
//!
//! [[provider.mapping]]
//! id = 2
//! model = "Order"
//! external_object_type = "ticketorders"
//! # …
//! extra = { association_mappings = [1] }
//! ```
//!
//! ## Storage
//!
//! * **One table per external object type**, named like it, created on first write
//!   with `_id INTEGER PRIMARY KEY AUTOINCREMENT` (row ids start at 1 and are never
//!   reused) and an index on the external id field.
//! * **One column per external field**, added with `ALTER TABLE … ADD COLUMN … TEXT`
//!   when a value is first written to it. Object types and field names come from the
//!   config and become SQL names, so they must match `[A-Za-z0-9_]+` (a config error
//!   otherwise); they are also case-insensitive, as in SQLite, and `_id` and names
//!   starting with `sqlite_` are reserved.
//! * **Values are stored as text**, readable with any SQLite tool: text as is, `true` /
//!   `false` for booleans, SQL `NULL` for no value, and lists joined with
//!   `list_separator` — the same form `append` reads back and extends. (JSON would keep
//!   lists apart from text containing the separator, but every reader of the CRM would
//!   then have to decode every column.) Because the host is asked for native lists
//!   ([`Provider::LIST_FIELD_JOINER`] is `None`), the separator is this one setting, not
//!   the host's default `,`. Read back, every value is text and `NULL` counts as an
//!   absent field: `if_empty` fills both, but a stored `false` counts as a value.
//! * **Associations** (spec §7.5): a mapping whose `extra` has
//!   `association_mappings = [<mapping id>, …]` gets a `links` column holding a JSON
//!   array `["link:<object type>:<row id>", …]`, one entry per object those earlier
//!   mappings synced for the same order, rewritten on every sync. Like the id field,
//!   `links` is written after the properties and wins over a property of that name.
//!
//! ## Transactions and errors
//!
//! Each object is upserted in its own `BEGIN IMMEDIATE` transaction, and the file is in
//! WAL mode, so readers never block the sync. Not one transaction per order: the host
//! keeps objects that were synced before a failure (as pretix does, there is no
//! rollback) and re-runs the whole order later, which the upsert makes harmless, and it
//! calls no hook after a failed order that could end an open transaction.
//!
//! SQLite's result codes decide the error kind: a lock held past the busy timeout
//! (5 s), a full disk or an I/O error is recoverable (retried with backoff); a read-only
//! or corrupt file is permanent (parked until a person retries); a path SQLite cannot
//! open or a file that is not a database is a config error, as are bad settings and
//! names.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use datasync_plugin_api::serde_json::{self, Map, Value as Json};
use datasync_plugin_api::std_types::ROption;
use datasync_plugin_api::{
    assign_properties, export_providers, EventContext, Mapping, ObjectRequest, Property, Provider,
    SyncError, SyncInfo, Value,
};

pub mod store;

use store::{Crm, Ident, Record, ROW_ID};

/// The column that holds the association links (spec §7.5).
pub const LINKS_COLUMN: &str = "links";

/// The key of the row id in the sync info, read by later mappings for their links.
pub const ROW_ID_KEY: &str = "row_id";

/// How long a statement waits for another writer before failing as recoverable.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Every key the settings may contain.
const SETTINGS: [&str; 3] = ["path", "link_template", "list_separator"];

/// The provider: one open CRM file per batch.
#[derive(Debug)]
pub struct CrmSqlite {
    /// `None` once [`Provider::close`] ran.
    crm: Option<Crm>,
    link_template: Option<String>,
    list_separator: String,
}

/// The settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `settings.path`.
    pub path: PathBuf,
    /// `settings.link_template`.
    pub link_template: Option<String>,
    /// `settings.list_separator`.
    pub list_separator: String,
}

impl Settings {
    /// Reads and checks the provider's settings.
    pub fn parse(settings: &Json) -> Result<Settings, SyncError> {
        let bad = |message: String| SyncError::config(format!("plugin crm_sqlite: {message}"));
        let Some(map) = settings.as_object() else {
            return Err(bad(format!(
                "settings must be a table (JSON object), not {settings}"
            )));
        };
        if let Some(unknown) = map.keys().find(|k| !SETTINGS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown setting settings.{unknown}; valid settings: {}",
                SETTINGS.join(", ")
            )));
        }
        let text = |key: &str| match map.get(key) {
            None => Ok(None),
            Some(Json::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(other) => Err(bad(format!(
                "settings.{key} must be a non-empty string, not {other}"
            ))),
        };
        let path = text("path")?.ok_or_else(|| {
            bad("settings.path missing; set it to the SQLite file the CRM lives in".into())
        })?;
        let link_template = text("link_template")?;
        if let Some(template) = &link_template {
            // Render once with dummies: a brace left over is a placeholder we do not
            // know, most likely a typo that would otherwise end up in every link.
            let rendered = render_link(template, "x", 1);
            if rendered.contains(['{', '}']) {
                return Err(bad(format!(
                    "settings.link_template {template:?} has an unknown placeholder; \
                     use {{object_type}} and {{id}}"
                )));
            }
        }
        Ok(Settings {
            path: PathBuf::from(path),
            link_template,
            list_separator: text("list_separator")?.unwrap_or_else(|| ";".into()),
        })
    }
}

/// The external link of row `row_id` of `object_type`.
fn render_link(template: &str, object_type: &str, row_id: i64) -> String {
    template
        .replace("{object_type}", object_type)
        .replace("{id}", &row_id.to_string())
}

/// A config error about `mapping`.
fn mapping_error(mapping: &Mapping, message: String) -> SyncError {
    SyncError::config(format!(
        "plugin crm_sqlite: mapping {}: {message}",
        mapping.id
    ))
}

/// `name` as a table or column name of `mapping`; `what` says which setting it is.
fn ident(mapping: &Mapping, what: &str, name: &str) -> Result<Ident, SyncError> {
    let ident = Ident::new(name).ok_or_else(|| {
        mapping_error(
            mapping,
            format!(
                "{what} {name:?} cannot be a table or column name; \
                 use letters, digits and _ only"
            ),
        )
    })?;
    if name.eq_ignore_ascii_case(ROW_ID) {
        return Err(mapping_error(
            mapping,
            format!("{what} {name:?} is reserved for the CRM's row id; use another name"),
        ));
    }
    Ok(ident)
}

/// The table of `mapping`'s object type.
fn table(mapping: &Mapping) -> Result<Ident, SyncError> {
    let name = mapping.external_object_type.as_str();
    let table = ident(mapping, "external_object_type", name)?;
    if name.to_ascii_lowercase().starts_with("sqlite_") {
        return Err(mapping_error(
            mapping,
            format!("external_object_type {name:?}: names starting with sqlite_ are SQLite's"),
        ));
    }
    Ok(table)
}

/// Refuses two spellings of one column (`Name`, `name`): SQLite would store both in one
/// column, and the update modes would see them as two fields.
fn check_spellings<'a>(
    mapping: &Mapping,
    columns: impl Iterator<Item = &'a Ident>,
) -> Result<(), SyncError> {
    let mut seen: BTreeMap<&Ident, &str> = BTreeMap::new();
    for column in columns {
        match seen.get(column) {
            Some(first) if *first != column.as_str() => {
                return Err(mapping_error(
                    mapping,
                    format!(
                        "fields {first:?} and {:?} differ only in case, which SQLite \
                         ignores; spell them the same",
                        column.as_str()
                    ),
                ))
            }
            Some(_) => {}
            None => {
                seen.insert(column, column.as_str());
            }
        }
    }
    Ok(())
}

/// The mapping ids in `extra.association_mappings`, or `None` without that key.
fn association_mappings(mapping: &Mapping) -> Result<Option<Vec<i64>>, SyncError> {
    let bad = |what: String| {
        mapping_error(
            mapping,
            format!("{what}; write extra = {{ association_mappings = [<mapping id>, …] }}"),
        )
    };
    let extra_json = mapping.extra_json.as_str();
    if extra_json.trim().is_empty() {
        return Ok(None);
    }
    let extra: Json =
        serde_json::from_str(extra_json).map_err(|e| bad(format!("extra is not JSON ({e})")))?;
    match extra.get("association_mappings") {
        None => Ok(None),
        Some(Json::Array(ids)) => ids
            .iter()
            .map(|id| {
                id.as_i64().ok_or_else(|| {
                    bad(format!(
                        "association_mappings must list mapping ids, not {id}"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(bad(format!(
            "association_mappings must be a list of mapping ids, not {other}"
        ))),
    }
}

/// `["link:<object type>:<row id>", …]` for every object the associated mappings synced
/// for this order (spec §7.5), in mapping then position order; `None` for a mapping
/// without associations. Skipped objects (`None`) have no row and are left out.
fn association_links(request: &ObjectRequest<'_>) -> Result<Option<Vec<String>>, SyncError> {
    let Some(via_ids) = association_mappings(request.mapping)? else {
        return Ok(None);
    };
    let mut links = Vec::new();
    for via in via_ids {
        let Some(mapped) = request.mapped(via) else {
            return Err(mapping_error(
                request.mapping,
                format!(
                    "association_mappings names mapping {via}, which did not run before \
                     it; list mapping {via} first in the provider's mappings"
                ),
            ));
        };
        for object in mapped.objects.iter() {
            let ROption::RSome(object) = object else {
                continue;
            };
            let Some(row_id) = object.sync_info().get(ROW_ID_KEY).and_then(Json::as_i64) else {
                return Err(SyncError::internal(format!(
                    "plugin crm_sqlite: mapping {}: the result of mapping {via} (id value \
                     {}) has no {ROW_ID_KEY}; it was not written by this plugin",
                    request.mapping.id, object.id_value
                )));
            };
            links.push(format!("link:{}:{row_id}", object.external_object_type));
        }
    }
    Ok(Some(links))
}

/// A value as stored: see "Storage" in the crate documentation.
fn to_text(value: &Value, list_separator: &str) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Str(s) => Some(s.to_string()),
        Value::List(items) => Some(
            items
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(list_separator),
        ),
    }
}

/// The request's properties with their columns, lists joined with `sep`: as text,
/// `append` splits and joins them with the separator they are stored with.
fn prepare_properties(
    request: &ObjectRequest<'_>,
    sep: &str,
) -> Result<(Vec<Ident>, Vec<Property>), SyncError> {
    request
        .properties
        .iter()
        .map(|p| {
            let column = ident(request.mapping, "external field", &p.external_field)?;
            let value = match &p.value {
                Value::List(_) => Value::from(to_text(&p.value, sep).unwrap_or_default()),
                other => other.clone(),
            };
            let property = Property {
                external_field: p.external_field.clone(),
                value,
                mode: p.mode,
            };
            Ok((column, property))
        })
        .collect::<Result<Vec<_>, SyncError>>()
        .map(|pairs| pairs.into_iter().unzip())
}

/// The columns to write: [`assign_properties`] against the `existing` row (`None` for a
/// new object). `columns[i]` is the column of `properties[i]`.
fn assign(
    existing: Option<&Record>,
    columns: &[Ident],
    properties: &[Property],
    sep: &str,
) -> Record {
    // NULL reads as an absent field, as in a record that never had the key.
    let old_values: BTreeMap<String, Value> = columns
        .iter()
        .zip(properties)
        .filter_map(|(column, p)| {
            let stored = existing?.get(column)?.as_deref()?;
            Some((p.external_field.to_string(), Value::str(stored)))
        })
        .collect();
    let updates = assign_properties(properties, &old_values, existing.is_none(), Some(sep));
    columns
        .iter()
        .zip(properties)
        .filter_map(|(column, p)| {
            let value = updates.get(p.external_field.as_str())?;
            Some((column.clone(), to_text(value, sep)))
        })
        .collect()
}

impl Provider for CrmSqlite {
    const IDENTIFIER: &'static str = "crm_sqlite";
    const DISPLAY_NAME: &'static str = "CRM in a SQLite file";
    // Native lists: this provider joins them itself with `list_separator`, the
    // separator `append` splits stored values by.
    const LIST_FIELD_JOINER: Option<&'static str> = None;

    /// Checks the settings and opens the file once per batch, so that bad settings or
    /// an unusable path fail the batch up front instead of once per order.
    fn new(_event: &EventContext, settings: &Json) -> Result<Self, SyncError> {
        let settings = Settings::parse(settings)?;
        Ok(CrmSqlite {
            crm: Some(Crm::open(&settings.path, BUSY_TIMEOUT)?),
            link_template: settings.link_template,
            list_separator: settings.list_separator,
        })
    }

    fn sync_object(&mut self, request: &ObjectRequest<'_>) -> Result<Option<SyncInfo>, SyncError> {
        // Everything that can be wrong with the mapping is checked before the file is
        // touched, so a config error never leaves half an object behind.
        let mapping = request.mapping;
        let table = table(mapping)?;
        let id_field = ident(mapping, "external_id_field", &request.external_id_field)?;
        let sep = self.list_separator.as_str();
        let (columns, properties) = prepare_properties(request, sep)?;
        let links = association_links(request)?
            .map(|links| -> Result<_, SyncError> {
                let column = ident(mapping, "links column", LINKS_COLUMN)?;
                Ok((column, Json::from(links).to_string()))
            })
            .transpose()?;
        let written = columns.iter().chain([&id_field]);
        check_spellings(mapping, written.chain(links.as_ref().map(|(c, _)| c)))?;
        // The host skips objects whose id is empty (spec §1.6); a null one is a host bug.
        let id_value = to_text(request.id_value, sep)
            .ok_or_else(|| SyncError::internal("plugin crm_sqlite: the id value is null"))?;

        let crm = self.crm.as_mut().ok_or_else(|| {
            SyncError::internal("plugin crm_sqlite: sync_object was called after close")
        })?;
        let upserted = crm.upsert(&table, &id_field, &id_value, |existing| {
            let mut fields = assign(existing, &columns, &properties, sep);
            if let Some((column, json)) = &links {
                fields.insert(column.clone(), Some(json.clone()));
            }
            fields
        })?;

        let mut extra = Map::new();
        extra.insert(ROW_ID_KEY.into(), Json::from(upserted.row_id));
        let mut info = SyncInfo::action(upserted.action.as_str()).with_extra(extra);
        if let Some(template) = &self.link_template {
            let href = render_link(template, table.as_str(), upserted.row_id);
            let label = format!("{} #{}", table.as_str(), upserted.row_id);
            info = info.with_link(&href, &label);
        }
        Ok(Some(info))
    }

    /// Closes the file; a second call does nothing.
    fn close(&mut self) -> Result<(), SyncError> {
        match self.crm.take() {
            Some(crm) => crm.close(),
            None => Ok(()),
        }
    }
}

// Builds the library's root module: the one symbol the host looks up in the library.
export_providers!(CrmSqlite);

#[cfg(test)]
mod tests;
