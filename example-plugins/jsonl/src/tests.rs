//! Unit tests: the provider against real files in temp folders.

use std::time::Duration;

use datasync_plugin_api::{ErrorKind, Mapping, Mode, PretixModel, Property, Value};

use super::*;

fn temp_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("objects.jsonl");
    (dir, path)
}

fn event() -> EventContext {
    EventContext {
        slug: "dummy".into(),
        ..EventContext::default()
    }
}

fn open(path: &Path) -> Jsonl {
    let settings = json!({ "path": path.to_str().expect("utf-8 temp path") });
    Jsonl::new(&event(), &settings).expect("valid settings")
}

fn mapping(id: i64, object_type: &str, id_field: &str) -> Mapping {
    Mapping {
        id,
        pretix_model: PretixModel::OrderPosition,
        external_object_type: object_type.into(),
        pretix_id_field: "ticket_id".into(),
        external_id_field: id_field.into(),
        property_mappings: Vec::new().into(),
        extra_json: "{}".into(),
    }
}

fn order(code: &str) -> String {
    json!({ "code": code, "status": "n" }).to_string()
}

/// Calls `sync_object` for one object of `order_json`.
fn sync(
    provider: &mut Jsonl,
    order_json: &str,
    mapping: &Mapping,
    id: &str,
    position_id: Option<i64>,
    properties: &[Property],
) -> SyncInfo {
    let id_value = Value::str(id);
    let request = ObjectRequest {
        external_id_field: mapping.external_id_field.as_rstr(),
        id_value: &id_value,
        properties: properties.into(),
        mapping,
        mapped_objects: (&[][..]).into(),
        order_json: order_json.into(),
        position_id: position_id.into(),
        position_json: None.into(),
    };
    provider
        .sync_object(&request)
        .expect("syncs")
        .expect("synced")
}

fn lines(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .expect("the file exists")
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect()
}

#[test]
fn writes_one_line_per_object_when_the_order_is_finalized() {
    let (_dir, path) = temp_file();
    let mut provider = open(&path);
    let tickets = mapping(1, "tickets", "ticketnumber");
    let order_json = order("1AAA");
    let properties = [
        Property::new("firstname", "Alice", Mode::Overwrite),
        Property::new("topics", Value::list(["rust", "db"]), Mode::Append),
        Property::new("vip", true, Mode::IfEmpty),
        Property::new("note", Value::Null, Mode::IfNew),
    ];
    let info = sync(
        &mut provider,
        &order_json,
        &tickets,
        "1AAA-1",
        Some(11),
        &properties,
    );
    assert_eq!(info, SyncInfo::action("create"));
    sync(
        &mut provider,
        &order_json,
        &tickets,
        "1AAA-2",
        Some(12),
        &[],
    );
    assert_eq!(std::fs::read_to_string(&path).expect("created"), "");

    provider.finalize_sync_order(&order_json).expect("writes");
    let lines = lines(&path);
    assert_eq!(lines.len(), 2);
    let mut first = lines[0].clone();
    let time = first
        .as_object_mut()
        .and_then(|o| o.remove("time"))
        .expect("a time");
    assert_eq!(
        first,
        json!({
            "event": "dummy",
            "order_code": "1AAA",
            "mapping_id": 1,
            "object_type": "tickets",
            "external_id_field": "ticketnumber",
            "id_value": "1AAA-1",
            "position_id": 11,
            "properties": {
                "firstname": "Alice", "topics": ["rust", "db"], "vip": true, "note": null,
            },
            "modes": {
                "firstname": "overwrite", "topics": "append", "vip": "if_empty", "note": "if_new",
            },
        })
    );
    let time = time.as_str().expect("text");
    assert!(
        time.len() == 24 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "{time}"
    );
    assert_eq!(lines[1]["id_value"], "1AAA-2");
    assert_eq!(lines[1]["position_id"], 12);
    assert_eq!(lines[1]["properties"], json!({}));
}

#[test]
fn appends_to_what_the_file_already_holds() {
    let (_dir, path) = temp_file();
    std::fs::write(&path, "{\"earlier\": true}\n").expect("write");
    let orders = mapping(1, "orders", "ordernumber");
    for code in ["1AAA", "2EEE"] {
        // A new instance per order, as separate batches would have.
        let mut provider = open(&path);
        let order_json = order(code);
        sync(&mut provider, &order_json, &orders, code, None, &[]);
        provider.finalize_sync_order(&order_json).expect("writes");
        provider.close().expect("closes");
    }
    let lines = lines(&path);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], json!({ "earlier": true }));
    assert_eq!(lines[1]["order_code"], "1AAA");
    assert_eq!(lines[2]["order_code"], "2EEE");
    assert_eq!(lines[2]["position_id"], Json::Null);
}

#[test]
fn an_order_that_was_not_finalized_leaves_no_lines() {
    let (_dir, path) = temp_file();
    let mut provider = open(&path);
    let orders = mapping(1, "orders", "ordernumber");
    let failed = order("1AAA");
    let next = order("2EEE");
    let empty = order("3III");

    // 1AAA fails after its first object: no finalize. 2EEE's lines must not carry it.
    sync(&mut provider, &failed, &orders, "1AAA", None, &[]);
    sync(&mut provider, &next, &orders, "2EEE", None, &[]);
    provider.finalize_sync_order(&next).expect("writes");
    // 1AAA again fails half-way; 3III syncs no object at all and is finalized.
    sync(&mut provider, &failed, &orders, "1AAA", None, &[]);
    provider
        .finalize_sync_order(&empty)
        .expect("nothing to write");
    // … and 1AAA fails once more as the batch's last order.
    sync(&mut provider, &failed, &orders, "1AAA", None, &[]);
    provider.close().expect("closes");

    let codes: Vec<Json> = lines(&path)
        .iter()
        .map(|l| l["order_code"].clone())
        .collect();
    assert_eq!(codes, vec![json!("2EEE")]);
}

#[test]
fn missing_path_is_a_config_error_naming_plugin_and_setting() {
    let err = Jsonl::new(&event(), &json!({})).expect_err("no path");
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(
        err.message()
            .starts_with("plugin jsonl: settings.path missing; "),
        "{err}"
    );
}

#[test]
fn bad_settings_and_unusable_paths_are_config_errors() {
    let (dir, _path) = temp_file();
    let missing_folder = dir.path().join("nope").join("objects.jsonl");
    for (settings, expected) in [
        (
            json!({ "path": 1 }),
            "settings.path must be a non-empty string",
        ),
        (
            json!({ "path": "" }),
            "settings.path must be a non-empty string",
        ),
        (
            json!({ "path": "x", "pth": "y" }),
            "unknown setting settings.pth",
        ),
        (json!([]), "settings must be a table"),
        (
            json!({ "path": missing_folder.to_str().expect("utf-8") }),
            "cannot open",
        ),
        (
            json!({ "path": dir.path().to_str().expect("utf-8") }),
            "cannot open",
        ),
    ] {
        let err = Jsonl::new(&event(), &settings).expect_err("a config error");
        assert_eq!(err.kind, ErrorKind::Config, "{err}");
        assert!(err.message().contains(expected), "{expected}\n{err}");
    }
}

#[test]
fn io_errors_map_to_what_the_host_should_do() {
    let path = Path::new("/x/objects.jsonl");
    for (kind, expected) in [
        (io::ErrorKind::NotFound, ErrorKind::Config),
        (io::ErrorKind::PermissionDenied, ErrorKind::Permanent),
        (io::ErrorKind::StorageFull, ErrorKind::Recoverable),
        (io::ErrorKind::Interrupted, ErrorKind::Recoverable),
    ] {
        let error = io_error("cannot append to", path, &io::Error::from(kind));
        assert_eq!(error.kind, expected, "{kind:?}");
    }
}

#[test]
fn times_are_rfc3339_utc_with_milliseconds() {
    let at = |secs: u64, millis: u64| {
        rfc3339(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
    };
    assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
    assert_eq!(at(951_868_799, 999), "2000-02-29T23:59:59.999Z");
    assert_eq!(at(1_795_167_000, 123), "2026-11-20T09:30:00.123Z");
    assert_eq!(
        rfc3339(UNIX_EPOCH - Duration::from_secs(1)),
        "1970-01-01T00:00:00.000Z"
    );
}
