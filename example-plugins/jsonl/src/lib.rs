//! # The JSON Lines provider
//!
//! Appends every object the host syncs to a [JSON Lines](https://jsonlines.org/) file,
//! one JSON object per line, for piping into other tools (`tail -f … | jq`, a log
//! shipper, a data warehouse loader). It is the example to copy when the external
//! system is a stream or a file rather than something with records to update.
//!
//! Settings (the provider's `settings` table in `datasync.toml`; unknown keys are
//! refused, so a typo cannot silently go unnoticed):
//!
//! | key    | type   | effect |
//! |--------|--------|--------|
//! | `path` | string | required: the file to append to; created if missing, its folder must exist. Relative paths are relative to the host's working folder. |
//!
//! ```toml
//! [[provider]]
//! identifier = "jsonl"
//! events = "*"
//! settings = { path = "/var/log/datasync/objects.jsonl" }
//! ```
//!
//! Each line describes one upsert (keys in any order):
//!
//! ```json
//! {"time": "2026-11-20T09:30:00.123Z", "event": "dummy", "order_code": "1AAA",
//!  "mapping_id": 1, "object_type": "orders", "external_id_field": "ordernumber",
//!  "id_value": "DUMMY-1AAA", "position_id": null,
//!  "properties": {"email": "anonymous@xn--og8h.example.org", "status": ["pending"]},
//!  "modes": {"email": "overwrite", "status": "overwrite"}}
//! ```
//!
//! * `time` is when the object was synced, RFC 3339 in UTC with milliseconds;
//!   `event` is the event's slug, `order_code` the order's `code`.
//! * `properties` maps each external field to its value — a string, `null`, a boolean,
//!   or an array of strings for list-valued fields, which this provider asks the host to
//!   keep as lists ([`Provider::LIST_FIELD_JOINER`] is `None`) because a JSON reader
//!   should not have to split strings. `modes` holds each field's update mode, for
//!   readers that apply them; when two properties target one field, the later wins in
//!   both.
//! * The action is always `create`: a line is never changed once written. A reader that
//!   wants current state keys the lines by (`object_type`, `external_id_field`,
//!   `id_value`) and keeps the last.
//!
//! ## Writing
//!
//! The file is opened once per batch in append mode (`O_APPEND`), so other writers
//! appending to it never overwrite these lines. An order's lines are collected in
//! memory and written with one write and an `fsync` in [`Provider::finalize_sync_order`]:
//! the host records an order as synced only after that returns, so what it considers
//! sent is on disk, and an order that fails half-way leaves no lines — the host syncs it
//! again later. Only a failure during that one write (a full disk) can leave part of an
//! order in the file before the retry appends it again.
//!
//! A missing folder is a config error, missing permissions are permanent (parked until
//! a person retries), other I/O errors (a full disk) are recoverable.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use datasync_plugin_api::serde_json::{self, json, Map, Value as Json};
use datasync_plugin_api::{
    export_providers, EventContext, ObjectRequest, Provider, SyncError, SyncInfo,
};

/// Every key the settings may contain.
const SETTINGS: [&str; 1] = ["path"];

/// The provider: one open file per batch and the lines of the order being synced.
#[derive(Debug)]
pub struct Jsonl {
    path: PathBuf,
    /// `None` once [`Provider::close`] ran.
    file: Option<File>,
    /// The event's slug, written into every line.
    event: String,
    /// The lines of the current order, not yet written.
    pending: Pending,
}

/// The order whose lines are being collected.
#[derive(Debug, Default)]
struct Pending {
    /// The order as the host passed it; identifies the order across calls.
    order_json: String,
    /// Its `code`.
    order_code: String,
    /// Its lines so far, each ending in `\n`.
    lines: String,
}

impl Pending {
    fn new(order_json: &str) -> Result<Pending, SyncError> {
        let order: Json = serde_json::from_str(order_json).map_err(|e| {
            SyncError::internal(format!("plugin jsonl: the order is not JSON ({e})"))
        })?;
        let Some(code) = order.get("code").and_then(Json::as_str) else {
            return Err(SyncError::internal(
                "plugin jsonl: the order has no \"code\"",
            ));
        };
        Ok(Pending {
            order_json: order_json.to_string(),
            order_code: code.to_string(),
            lines: String::new(),
        })
    }
}

/// Reads the one setting, `path`.
fn path_setting(settings: &Json) -> Result<PathBuf, SyncError> {
    let bad = |message: String| SyncError::config(format!("plugin jsonl: {message}"));
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
    match map.get("path") {
        None => Err(bad(
            "settings.path missing; set it to the file to append the lines to".into(),
        )),
        Some(Json::String(path)) if !path.is_empty() => Ok(PathBuf::from(path)),
        Some(other) => Err(bad(format!(
            "settings.path must be a non-empty string, not {other}"
        ))),
    }
}

/// An I/O error on `path` as a [`SyncError`] whose kind says what the host should do.
fn io_error(what: &str, path: &Path, error: &io::Error) -> SyncError {
    let message = format!("plugin jsonl: {what} {}: {error}", path.display());
    match error.kind() {
        // The setting points nowhere usable: the operator has to change it.
        io::ErrorKind::NotFound | io::ErrorKind::IsADirectory => SyncError::config(message)
            .with_message("settings.path must name a file in a folder that exists"),
        // Retrying will not grant the permission; a person must, then retry.
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            SyncError::permanent(message)
        }
        // A full disk, a flaky network file system: worth retrying.
        _ => SyncError::recoverable(message),
    }
}

/// `time` as RFC 3339 in UTC with milliseconds, e.g. `2026-11-20T09:30:00.123Z`.
pub fn rfc3339(time: SystemTime) -> String {
    // A clock before 1970 is broken; the epoch is as good an answer as any.
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let second_of_day = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
        since_epoch.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); Howard Hinnant's
/// `civil_from_days`, so that this plugin needs no date crate.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

impl Jsonl {
    /// The line for one object of the pending order.
    fn line(&self, request: &ObjectRequest<'_>) -> Json {
        let mut properties = Map::new();
        let mut modes = Map::new();
        for property in request.properties.iter() {
            let field = property.external_field.to_string();
            properties.insert(field.clone(), property.value.to_json());
            modes.insert(field, Json::from(property.mode.as_str()));
        }
        json!({
            "time": rfc3339(SystemTime::now()),
            "event": self.event,
            "order_code": self.pending.order_code,
            "mapping_id": request.mapping.id,
            "object_type": request.mapping.external_object_type.as_str(),
            "external_id_field": request.external_id_field.as_str(),
            "id_value": request.id_value.to_json(),
            "position_id": request.position_id.into_option(),
            "properties": properties,
            "modes": modes,
        })
    }
}

impl Provider for Jsonl {
    const IDENTIFIER: &'static str = "jsonl";
    const DISPLAY_NAME: &'static str = "JSON Lines file";
    // JSON has arrays: list-valued fields stay lists instead of joined strings.
    const LIST_FIELD_JOINER: Option<&'static str> = None;

    /// Checks the setting and opens the file once per batch, so that an unusable path
    /// fails the batch up front instead of once per order.
    fn new(event: &EventContext, settings: &Json) -> Result<Self, SyncError> {
        let path = path_setting(settings)?;
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| io_error("cannot open", &path, &e))?;
        Ok(Jsonl {
            path,
            file: Some(file),
            event: event.slug.to_string(),
            pending: Pending::default(),
        })
    }

    fn sync_object(&mut self, request: &ObjectRequest<'_>) -> Result<Option<SyncInfo>, SyncError> {
        if self.pending.order_json != request.order_json.as_str() {
            // A new order. Lines still pending belong to an order that failed after
            // them (it was never finalized); the host syncs it again later, so they go.
            self.pending = Pending::new(&request.order_json)?;
        }
        let line = self.line(request).to_string();
        self.pending.lines.push_str(&line);
        self.pending.lines.push('\n');
        Ok(Some(SyncInfo::action("create")))
    }

    /// Writes the order's lines with one append and waits until they are on disk.
    fn finalize_sync_order(&mut self, order_json: &str) -> Result<(), SyncError> {
        let pending = std::mem::take(&mut self.pending);
        // Lines of another order: it failed, and this one synced no object at all.
        if pending.order_json != order_json || pending.lines.is_empty() {
            return Ok(());
        }
        let file = self.file.as_mut().ok_or_else(|| {
            SyncError::internal("plugin jsonl: finalize_sync_order was called after close")
        })?;
        file.write_all(pending.lines.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| io_error("cannot append to", &self.path, &e))
    }

    /// Drops the lines of an order that was not finalized and closes the file.
    fn close(&mut self) -> Result<(), SyncError> {
        self.pending = Pending::default();
        self.file = None;
        Ok(())
    }
}

// Builds the library's root module: the one symbol the host looks up in the library.
export_providers!(Jsonl);

#[cfg(test)]
mod tests;
