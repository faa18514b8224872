//! # The faulty provider
//!
//! A datasync provider that fails on request, so the host's failure handling (retries,
//! backoff, parking, panics, timeouts, malformed results) can be tested end to end
//! without an external system. Not for production use.
//!
//! Settings (the provider's `settings` table, all optional; unknown keys are refused so
//! that a typo cannot silently turn a failure test into a passing one):
//!
//! | key                | type                 | default   | effect |
//! |--------------------|----------------------|-----------|--------|
//! | `mode`             | string               | `"ok"`    | what to do, see below |
//! | `fail_times`       | integer ≥ 0          | unlimited | misbehave on the first N `sync_object` calls per order only |
//! | `state_dir`        | string (folder)      | none      | keep the per-order call counts in `<state_dir>/faulty-state.json` |
//! | `retry_after_secs` | integer ≥ 0          | `30`      | `retry_after` mode: the retry-after the error asks for |
//! | `sleep_secs`       | number ≥ 0           | `1`       | `sleep` mode: how long `sync_object` sleeps |
//! | `retry_delay_secs` | integer ≥ 0          | none      | what `next_retry_delay` returns (none: the host decides) |
//! | `only_orders`      | list of order codes  | all       | misbehave for these orders only; the others succeed |
//!
//! Modes:
//!
//! * `ok` — every object succeeds with action `create`;
//! * `recoverable` — [`SyncError::recoverable`];
//! * `retry_after` — [`SyncError::recoverable`] with
//!   [`SyncError::with_retry_after`]`(retry_after_secs)`;
//! * `permanent` — [`SyncError::permanent`] with an HTTP-400-style full message;
//! * `config` — [`SyncError::config`];
//! * `panic` — panics in `sync_object` with `faulty: panic requested by settings`;
//! * `panic_in_constructor` — panics in [`Provider::new`] (after the settings were
//!   validated), so every batch fails before any object is synced;
//! * `sleep` — sleeps `sleep_secs` in `sync_object`, then succeeds;
//! * `garbage` — succeeds, but with `extra_json` that is not JSON.
//!
//! Every mode except `ok` and `panic_in_constructor` counts the `sync_object` calls per
//! order (the order's `code`, or the object's id value when the order JSON has none) and
//! misbehaves on calls 1..=`fail_times`; later calls succeed with action `create`. The
//! counts live in a process-global map, or with `state_dir` in a file, so they survive
//! the host creating a new instance per batch and the host process being restarted.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use datasync_plugin_api::serde_json::{self, json, Map, Value as Json};
use datasync_plugin_api::{
    export_providers, EventContext, ObjectRequest, Provider, SyncError, SyncInfo,
};

/// Name of the file that holds the call counts inside `state_dir`.
pub const STATE_FILE: &str = "faulty-state.json";

/// Every key the settings may contain.
const SETTINGS: [&str; 7] = [
    "mode",
    "fail_times",
    "state_dir",
    "retry_after_secs",
    "sleep_secs",
    "retry_delay_secs",
    "only_orders",
];

/// How the provider misbehaves (the `mode` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    /// Succeed with action `create`.
    Ok,
    /// Return a recoverable error.
    Recoverable,
    /// Return a recoverable error that asks for a retry after `retry_after_secs`.
    RetryAfter,
    /// Return a permanent error with technical detail.
    Permanent,
    /// Return a config error.
    Config,
    /// Panic inside `sync_object`.
    Panic,
    /// Panic inside the constructor.
    PanicInConstructor,
    /// Sleep `sleep_secs`, then succeed.
    Sleep,
    /// Succeed with malformed `extra_json`.
    Garbage,
}

impl FaultMode {
    /// Every mode, in the order the documentation lists them.
    pub const ALL: [FaultMode; 9] = [
        FaultMode::Ok,
        FaultMode::Recoverable,
        FaultMode::RetryAfter,
        FaultMode::Permanent,
        FaultMode::Config,
        FaultMode::Panic,
        FaultMode::PanicInConstructor,
        FaultMode::Sleep,
        FaultMode::Garbage,
    ];

    /// The mode's name in the settings.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultMode::Ok => "ok",
            FaultMode::Recoverable => "recoverable",
            FaultMode::RetryAfter => "retry_after",
            FaultMode::Permanent => "permanent",
            FaultMode::Config => "config",
            FaultMode::Panic => "panic",
            FaultMode::PanicInConstructor => "panic_in_constructor",
            FaultMode::Sleep => "sleep",
            FaultMode::Garbage => "garbage",
        }
    }

    /// Parses a mode name.
    pub fn parse(name: &str) -> Option<FaultMode> {
        FaultMode::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The valid names, for error messages.
    fn valid_names() -> String {
        FaultMode::ALL.map(FaultMode::as_str).join(", ")
    }
}

impl fmt::Display for FaultMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The validated settings.
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    mode: FaultMode,
    fail_times: Option<u64>,
    state_dir: Option<PathBuf>,
    retry_after_secs: u64,
    sleep: Duration,
    retry_delay_secs: Option<u64>,
    only_orders: Option<Vec<String>>,
}

impl Settings {
    fn parse(settings: &Json) -> Result<Self, SyncError> {
        let Some(map) = settings.as_object() else {
            return Err(SyncError::config(format!(
                "faulty: settings must be a table (JSON object), not {settings}"
            )));
        };
        if let Some(unknown) = map.keys().find(|k| !SETTINGS.contains(&k.as_str())) {
            return Err(SyncError::config(format!(
                "faulty: unknown setting settings.{unknown}; valid settings: {}",
                SETTINGS.join(", ")
            )));
        }
        let mode = match map.get("mode") {
            None => FaultMode::Ok,
            Some(Json::String(name)) => FaultMode::parse(name).ok_or_else(|| {
                SyncError::config(format!(
                    "faulty: settings.mode {name:?} is not a mode; valid modes: {}",
                    FaultMode::valid_names()
                ))
            })?,
            Some(other) => {
                return Err(SyncError::config(format!(
                    "faulty: settings.mode must be a string, one of: {}; not {other}",
                    FaultMode::valid_names()
                )))
            }
        };
        let state_dir = match map.get("state_dir") {
            None => None,
            Some(Json::String(dir)) if !dir.is_empty() => Some(PathBuf::from(dir)),
            Some(other) => {
                return Err(SyncError::config(format!(
                    "faulty: settings.state_dir must be a non-empty folder path, not {other}"
                )))
            }
        };
        let sleep = match map.get("sleep_secs") {
            None => Duration::from_secs(1),
            Some(value) => value
                .as_f64()
                .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                .ok_or_else(|| {
                    SyncError::config(format!(
                        "faulty: settings.sleep_secs must be seconds (0 or more), not {value}"
                    ))
                })?,
        };
        let only_orders = match map.get("only_orders") {
            None => None,
            Some(value) => Some(
                value
                    .as_array()
                    .and_then(|codes| {
                        codes
                            .iter()
                            .map(|c| c.as_str().map(str::to_owned))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or_else(|| {
                        SyncError::config(format!(
                            "faulty: settings.only_orders must be a list of order codes, not {value}"
                        ))
                    })?,
            ),
        };
        Ok(Settings {
            mode,
            fail_times: whole_number(map, "fail_times")?,
            state_dir,
            retry_after_secs: whole_number(map, "retry_after_secs")?.unwrap_or(30),
            sleep,
            retry_delay_secs: whole_number(map, "retry_delay_secs")?,
            only_orders,
        })
    }
}

/// Reads an optional non-negative integer setting.
fn whole_number(map: &Map<String, Json>, key: &str) -> Result<Option<u64>, SyncError> {
    match map.get(key) {
        None => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            SyncError::config(format!(
                "faulty: settings.{key} must be a whole number of 0 or more, not {value}"
            ))
        }),
    }
}

/// Fails on request; see the [crate documentation](crate) for the settings.
#[derive(Debug)]
pub struct Faulty {
    settings: Settings,
}

impl Provider for Faulty {
    const IDENTIFIER: &'static str = "faulty";
    const DISPLAY_NAME: &'static str = "Faulty (fails on request, for tests)";

    fn new(_event: &EventContext, settings: &Json) -> Result<Self, SyncError> {
        // Validate first: a typo in the settings must be reported as such, even in the
        // panicking mode.
        let settings = Settings::parse(settings)?;
        if settings.mode == FaultMode::PanicInConstructor {
            panic!("faulty: panic in constructor requested by settings");
        }
        Ok(Faulty { settings })
    }

    fn sync_object(&mut self, request: &ObjectRequest<'_>) -> Result<Option<SyncInfo>, SyncError> {
        let settings = &self.settings;
        let created = Ok(Some(SyncInfo::action("create")));
        if settings.mode == FaultMode::Ok {
            return created;
        }
        let order = order_code(request);
        if let Some(only) = &settings.only_orders {
            if !only.contains(&order) {
                return created;
            }
        }
        let call = next_call(settings.state_dir.as_deref(), &order)?;
        let attempt = match settings.fail_times {
            Some(n) if call > n => return created,
            Some(n) => format!("{call} of {n}"),
            None => call.to_string(),
        };
        match settings.mode {
            FaultMode::Recoverable => Err(SyncError::recoverable(format!(
                "faulty: simulated recoverable failure {attempt} for order {order}"
            ))),
            FaultMode::RetryAfter => Err(SyncError::recoverable(format!(
                "faulty: simulated rate limit {attempt} for order {order}, retry after {}s",
                settings.retry_after_secs
            ))
            .with_retry_after(settings.retry_after_secs)),
            FaultMode::Permanent => Err(SyncError::permanent(format!(
                "faulty: simulated permanent failure {attempt} for order {order}"
            ))
            .with_full_message(format!(
                "HTTP 400 Bad Request\n{}",
                json!({ "error": "simulated by the faulty provider", "order": order })
            ))),
            FaultMode::Config => Err(SyncError::config(format!(
                "faulty: simulated config error {attempt} for order {order}"
            ))),
            FaultMode::Panic => panic!("faulty: panic requested by settings"),
            FaultMode::Sleep => {
                std::thread::sleep(settings.sleep);
                created
            }
            FaultMode::Garbage => Ok(Some(SyncInfo {
                extra_json: "this is not json".into(),
                ..SyncInfo::action("create")
            })),
            // `Ok` returned above; `PanicInConstructor` never gets an instance.
            FaultMode::Ok | FaultMode::PanicInConstructor => created,
        }
    }

    fn next_retry_delay(&self, _failed_attempts: u32) -> Option<u64> {
        self.settings.retry_delay_secs
    }
}

/// The order code the counts are kept under: the order's `code`, or the object's id
/// value when the order JSON has none (hand-written test requests).
fn order_code(request: &ObjectRequest<'_>) -> String {
    request
        .order()
        .ok()
        .and_then(|order| order.get("code")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| request.id_value.to_string())
}

/// Call counts per order code when there is no `state_dir`. Global rather than per
/// instance because the host creates a new instance for every batch.
static IN_PROCESS_CALLS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// Serialises the read-modify-write of state files between threads of this process.
static STATE_FILE_LOCK: Mutex<()> = Mutex::new(());

/// Counts one more `sync_object` call for `order` and returns the new count (1 for the
/// first call).
fn next_call(state_dir: Option<&Path>, order: &str) -> Result<u64, SyncError> {
    let Some(dir) = state_dir else {
        // A panic in mode `panic` happens after the guard is gone, but a poisoned map
        // still holds valid counts, so keep using it.
        let mut calls = IN_PROCESS_CALLS
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = calls.entry(order.to_owned()).or_insert(0);
        *count += 1;
        return Ok(*count);
    };
    let _guard = STATE_FILE_LOCK
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let path = dir.join(STATE_FILE);
    let mut calls = read_state(&path)?;
    let count = calls.entry(order.to_owned()).or_insert(0);
    *count += 1;
    let count = *count;
    write_state(dir, &path, &calls)?;
    Ok(count)
}

/// Reads the counts; a missing file means no calls yet.
fn read_state(path: &Path) -> Result<BTreeMap<String, u64>, SyncError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(state_error("cannot read", path, &e)),
    };
    let state: Json =
        serde_json::from_str(&text).map_err(|e| state_error("cannot parse", path, &e))?;
    match state.get("calls").cloned().map(serde_json::from_value) {
        Some(Ok(calls)) => Ok(calls),
        Some(Err(e)) => Err(state_error("cannot parse", path, &e)),
        None => Err(state_error("cannot parse", path, &"no \"calls\" object")),
    }
}

/// Replaces the state file atomically, so a reader (another thread, or another host
/// process run right after this one) sees either the old or the new counts, never a
/// half-written file.
///
/// There is no lock between processes: two host processes sharing one `state_dir` at
/// the same time may lose counts. Tests run the host one process at a time.
fn write_state(dir: &Path, path: &Path, calls: &BTreeMap<String, u64>) -> Result<(), SyncError> {
    fs::create_dir_all(dir).map_err(|e| {
        SyncError::config(format!(
            "faulty: cannot create settings.state_dir {}: {e}",
            dir.display()
        ))
    })?;
    let text = json!({ "calls": calls }).to_string();
    // The temporary file sits next to the target (rename is atomic only within one file
    // system) and is named per process, so concurrent writers never share it.
    let tmp = dir.join(format!("{STATE_FILE}.{}.tmp", std::process::id()));
    fs::write(&tmp, text).map_err(|e| state_error("cannot write", &tmp, &e))?;
    fs::rename(&tmp, path).map_err(|e| state_error("cannot replace", path, &e))
}

fn state_error(what: &str, path: &Path, error: &dyn fmt::Display) -> SyncError {
    SyncError::config(format!(
        "faulty: {what} state file {}: {error}; delete it or change settings.state_dir",
        path.display()
    ))
}

export_providers!(Faulty);

#[cfg(test)]
mod tests {
    use super::*;
    use datasync_plugin_api::{ErrorKind, Mapping, PretixModel, Value};

    fn faulty(settings: Json) -> Faulty {
        Faulty::new(&EventContext::default(), &settings).expect("valid settings")
    }

    fn config_error(settings: Json) -> SyncError {
        let err = Faulty::new(&EventContext::default(), &settings).expect_err("invalid settings");
        assert_eq!(err.kind, ErrorKind::Config, "{err}");
        err
    }

    /// Syncs one Order object of the order `order_json`, whose id value is `id`.
    fn sync_with(
        provider: &mut Faulty,
        order_json: &str,
        id: &str,
    ) -> Result<Option<SyncInfo>, SyncError> {
        let mapping = Mapping {
            id: 1,
            pretix_model: PretixModel::Order,
            external_object_type: "Contact".into(),
            pretix_id_field: "order_code".into(),
            external_id_field: "code".into(),
            property_mappings: Vec::new().into(),
            extra_json: "{}".into(),
        };
        let id_value = Value::str(id);
        let request = ObjectRequest {
            external_id_field: "code".into(),
            id_value: &id_value,
            properties: (&[][..]).into(),
            mapping: &mapping,
            mapped_objects: (&[][..]).into(),
            order_json: order_json.into(),
            position_id: None.into(),
            position_json: None.into(),
        };
        provider.sync_object(&request)
    }

    /// Syncs one object of order `code`. Tests without `state_dir` share the
    /// process-global counts, so each uses order codes no other test uses.
    fn sync(provider: &mut Faulty, code: &str) -> Result<Option<SyncInfo>, SyncError> {
        sync_with(provider, &json!({ "code": code }).to_string(), "ignored-id")
    }

    fn created() -> Option<SyncInfo> {
        Some(SyncInfo::action("create"))
    }

    /// A fresh, empty folder under the system temp folder, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("datasync-faulty-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn ok_mode_is_the_default_and_creates() {
        let mut p = faulty(json!({}));
        assert_eq!(sync(&mut p, "OK001").expect("ok"), created());
        assert_eq!(p.next_retry_delay(1), None);
    }

    #[test]
    fn fail_times_fails_the_first_calls_of_each_order_then_creates() {
        let mut p = faulty(json!({ "mode": "recoverable", "fail_times": 2 }));
        let first = sync(&mut p, "FT001").expect_err("call 1 fails");
        assert_eq!(first.kind, ErrorKind::Recoverable);
        assert_eq!(
            first.message(),
            "faulty: simulated recoverable failure 1 of 2 for order FT001"
        );
        // Another order has its own count.
        let other = sync(&mut p, "FT002").expect_err("call 1 of another order fails");
        assert!(
            other.message().contains("1 of 2 for order FT002"),
            "{other}"
        );
        let second = sync(&mut p, "FT001").expect_err("call 2 fails");
        assert!(
            second.message().contains("2 of 2 for order FT001"),
            "{second}"
        );
        assert_eq!(sync(&mut p, "FT001").expect("call 3 succeeds"), created());
        assert_eq!(
            sync(&mut p, "FT001").expect("and stays successful"),
            created()
        );
    }

    #[test]
    fn counts_survive_a_new_instance_in_the_same_process() {
        let settings = json!({ "mode": "config", "fail_times": 1 });
        let err = sync(&mut faulty(settings.clone()), "FT101").expect_err("call 1 fails");
        assert_eq!(err.kind, ErrorKind::Config);
        assert_eq!(
            sync(&mut faulty(settings), "FT101").expect("call 2"),
            created()
        );
    }

    #[test]
    fn without_fail_times_every_call_fails_and_counts_up() {
        let mut p = faulty(json!({ "mode": "recoverable" }));
        for call in 1..=3 {
            let err = sync(&mut p, "FT201").expect_err("always fails");
            assert_eq!(
                err.message(),
                format!("faulty: simulated recoverable failure {call} for order FT201")
            );
        }
    }

    #[test]
    fn only_orders_fails_only_the_listed_orders() {
        let mut p = faulty(json!({ "mode": "permanent", "only_orders": ["OO001"] }));
        assert_eq!(sync(&mut p, "OO002").expect("not listed"), created());
        let err = sync(&mut p, "OO001").expect_err("listed");
        assert_eq!(err.kind, ErrorKind::Permanent);
        assert!(err.message().contains("for order OO001"), "{err}");
        let full = err.full_message.into_option().expect("has detail");
        assert!(full.starts_with("HTTP 400"), "{full}");
    }

    #[test]
    fn retry_after_mode_asks_for_the_configured_delay_default_30() {
        let err = sync(&mut faulty(json!({ "mode": "retry_after" })), "RA001").expect_err("fails");
        assert_eq!(err.kind, ErrorKind::Recoverable);
        assert_eq!(err.retry_after_secs.into_option(), Some(30));

        let err = sync(
            &mut faulty(json!({ "mode": "retry_after", "retry_after_secs": 7 })),
            "RA002",
        )
        .expect_err("fails");
        assert_eq!(err.retry_after_secs.into_option(), Some(7));
    }

    #[test]
    fn retry_delay_secs_is_what_next_retry_delay_returns() {
        let p = faulty(json!({ "mode": "recoverable", "retry_delay_secs": 0 }));
        assert_eq!(p.next_retry_delay(1), Some(0));
        assert_eq!(p.next_retry_delay(4), Some(0));
        let p = faulty(json!({ "mode": "recoverable" }));
        assert_eq!(p.next_retry_delay(1), None);
    }

    #[test]
    fn state_dir_keeps_counts_in_a_file_across_instances() {
        let tmp = TempDir::new("state-dir");
        let dir = tmp.0.join("created-on-demand");
        let settings = json!({
            "mode": "recoverable",
            "fail_times": 2,
            "state_dir": dir.to_str().expect("utf-8 temp path"),
        });

        let err = sync(&mut faulty(settings.clone()), "SD001").expect_err("call 1 fails");
        assert!(err.message().contains("1 of 2 for order SD001"), "{err}");
        let text = fs::read_to_string(dir.join(STATE_FILE)).expect("state file written");
        let state: Json = serde_json::from_str(&text).expect("state file is JSON");
        assert_eq!(state, json!({ "calls": { "SD001": 1 } }));

        // A new instance (as the host creates per batch) continues the count.
        let mut second = faulty(settings);
        let err = sync(&mut second, "SD001").expect_err("call 2 fails");
        assert!(err.message().contains("2 of 2 for order SD001"), "{err}");
        assert_eq!(sync(&mut second, "SD001").expect("call 3"), created());
        // The process-global counts were not used.
        assert!(!IN_PROCESS_CALLS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key("SD001"));
    }

    #[test]
    fn corrupt_state_file_is_a_config_error_naming_the_file() {
        let tmp = TempDir::new("corrupt-state");
        fs::create_dir_all(&tmp.0).expect("temp dir");
        fs::write(tmp.0.join(STATE_FILE), "{not json").expect("write");
        let mut p = faulty(json!({
            "mode": "recoverable",
            "state_dir": tmp.0.to_str().expect("utf-8 temp path"),
        }));
        let err = sync(&mut p, "CS001").expect_err("state unreadable");
        assert_eq!(err.kind, ErrorKind::Config);
        assert!(err.message().contains(STATE_FILE), "{err}");
    }

    #[test]
    fn order_code_falls_back_to_the_id_value() {
        let mut p = faulty(json!({ "mode": "recoverable" }));
        let err = sync_with(&mut p, "{}", "ID001").expect_err("fails");
        assert!(err.message().ends_with("for order ID001"), "{err}");
    }

    #[test]
    fn garbage_mode_returns_extra_json_that_is_not_json() {
        let info = sync(&mut faulty(json!({ "mode": "garbage" })), "GB001")
            .expect("succeeds")
            .expect("with a result");
        assert_eq!(info.action, SyncInfo::action("create").action);
        assert!(serde_json::from_str::<Json>(&info.extra_json).is_err());
    }

    #[test]
    fn sleep_mode_sleeps_then_creates() {
        let mut p = faulty(json!({ "mode": "sleep", "sleep_secs": 0.05 }));
        let start = std::time::Instant::now();
        assert_eq!(sync(&mut p, "SL001").expect("succeeds"), created());
        assert!(start.elapsed() >= Duration::from_millis(50));
    }

    #[test]
    #[should_panic(expected = "faulty: panic requested by settings")]
    fn panic_mode_panics_in_sync_object() {
        let _ = sync(&mut faulty(json!({ "mode": "panic" })), "PA001");
    }

    #[test]
    #[should_panic(expected = "faulty: panic in constructor requested by settings")]
    fn panic_in_constructor_mode_panics_in_new() {
        let _ = Faulty::new(
            &EventContext::default(),
            &json!({ "mode": "panic_in_constructor" }),
        );
    }

    #[test]
    fn unknown_mode_is_a_config_error_listing_the_valid_modes() {
        let message = config_error(json!({ "mode": "explode" })).message();
        assert!(message.contains("settings.mode \"explode\""), "{message}");
        for mode in FaultMode::ALL {
            assert!(message.contains(mode.as_str()), "{message} lacks {mode}");
        }
    }

    #[test]
    fn wrong_types_are_config_errors_naming_the_setting() {
        for (key, value) in [
            ("mode", json!(3)),
            ("fail_times", json!(-1)),
            ("fail_times", json!("2")),
            ("retry_after_secs", json!(1.5)),
            ("retry_delay_secs", json!(true)),
            ("sleep_secs", json!(-1)),
            ("state_dir", json!("")),
            ("only_orders", json!("ABC12")),
            ("only_orders", json!([1, 2])),
        ] {
            let message = config_error(json!({ key: value })).message();
            assert!(
                message.contains(&format!("settings.{key} must be")),
                "{message}"
            );
        }
    }

    #[test]
    fn unknown_setting_is_a_config_error_listing_the_valid_ones() {
        let message = config_error(json!({ "fail_time": 2 })).message();
        assert!(message.contains("settings.fail_time;"), "{message}");
        assert!(message.contains("fail_times"), "{message}");
    }

    #[test]
    fn settings_must_be_an_object() {
        config_error(json!(["recoverable"]));
    }
}
