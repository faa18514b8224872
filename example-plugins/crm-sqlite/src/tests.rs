//! Unit tests: the provider against real SQLite files in temp folders.

use std::path::{Path, PathBuf};

use datasync_plugin_api::serde_json::json;
use datasync_plugin_api::std_types::ROption;
use datasync_plugin_api::{ErrorKind, MappedObjects, Mode, PretixModel, SyncedObject};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::store::{error_kind, sql_error, Action};
use super::*;

/// A temp folder with the CRM file path inside it (the file itself does not exist yet).
fn crm_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crm.sqlite");
    (dir, path)
}

fn settings(path: &Path, more: Json) -> Json {
    let mut settings = json!({ "path": path.to_str().expect("utf-8 temp path") });
    if let (Some(map), Json::Object(more)) = (settings.as_object_mut(), more) {
        map.extend(more);
    }
    settings
}

fn open(path: &Path, more: Json) -> CrmSqlite {
    CrmSqlite::new(&EventContext::default(), &settings(path, more)).expect("valid settings")
}

fn mapping(id: i64, object_type: &str, id_field: &str, extra: Json) -> Mapping {
    Mapping {
        id,
        pretix_model: PretixModel::Order,
        external_object_type: object_type.into(),
        pretix_id_field: "event_order_code".into(),
        external_id_field: id_field.into(),
        property_mappings: Vec::new().into(),
        extra_json: extra.to_string().into(),
    }
}

/// Calls `sync_object` for one object of `mapping`.
fn sync(
    provider: &mut CrmSqlite,
    mapping: &Mapping,
    id: &str,
    properties: &[Property],
    mapped: &[MappedObjects],
) -> Result<Option<SyncInfo>, SyncError> {
    let id_value = Value::str(id);
    let request = ObjectRequest {
        external_id_field: mapping.external_id_field.as_rstr(),
        id_value: &id_value,
        properties: properties.into(),
        mapping,
        mapped_objects: mapped.into(),
        order_json: r#"{"code": "1AAA"}"#.into(),
        position_id: None.into(),
        position_json: None.into(),
    };
    provider.sync_object(&request)
}

/// `sync`, insisting on success; returns (action, row id).
fn synced(
    provider: &mut CrmSqlite,
    mapping: &Mapping,
    id: &str,
    properties: &[Property],
) -> (String, i64) {
    let info = sync(provider, mapping, id, properties, &[])
        .expect("syncs")
        .expect("synced");
    (action(&info), row_id(&info))
}

fn action(info: &SyncInfo) -> String {
    info.action
        .as_ref()
        .map(|a| a.to_string())
        .expect("an action")
}

fn row_id(info: &SyncInfo) -> i64 {
    let extra: Json = serde_json::from_str(&info.extra_json).expect("extra is JSON");
    extra[ROW_ID_KEY].as_i64().expect("row_id")
}

/// What the host hands later mappings for this result.
fn synced_object(mapping: &Mapping, id: &str, info: &SyncInfo) -> SyncedObject {
    SyncedObject {
        position_id: ROption::RNone,
        external_object_type: mapping.external_object_type.clone(),
        external_id_field: mapping.external_id_field.clone(),
        id_value: id.into(),
        external_link_href: info.external_link_href.clone(),
        external_link_display_name: info.external_link_display_name.clone(),
        sync_info_json: info.extra_json.clone(),
    }
}

fn overwrite(field: &str, value: &str) -> Property {
    Property::new(field, value, Mode::Overwrite)
}

/// Every row of `table` as JSON objects, in row id order.
fn rows(path: &Path, table: &str) -> Json {
    let conn = Connection::open(path).expect("open the CRM");
    let mut statement = conn
        .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY _id"))
        .expect("table exists");
    let names: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let rows = statement
        .query_map([], |row| {
            let mut record = Map::new();
            for (index, name) in names.iter().enumerate() {
                let value = match row.get_ref(index)? {
                    ValueRef::Null => Json::Null,
                    ValueRef::Integer(i) => json!(i),
                    ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                    other => panic!("unexpected value {other:?} in {name}"),
                };
                record.insert(name.clone(), value);
            }
            Ok(Json::Object(record))
        })
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    Json::Array(rows)
}

fn tables(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).expect("open the CRM");
    let mut statement = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .expect("prepare");
    statement
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names")
}

/// `PRAGMA data_version` as seen from another connection: it changes whenever a
/// transaction commits a change to the file.
fn data_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA data_version", [], |row| row.get(0))
        .expect("data_version")
}

fn config_error<T: std::fmt::Debug>(result: Result<T, SyncError>) -> String {
    let err = result.expect_err("a config error");
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    err.message()
}

#[test]
fn creates_table_and_row_then_updates_the_row_in_place() {
    let (_dir, path) = crm_file();
    let orders = mapping(1, "ticketorders", "ordernumber", json!({}));
    let template = json!({ "link_template": "https://crm.example.com/{object_type}/{id}" });
    let mut provider = open(&path, template.clone());

    let info = sync(
        &mut provider,
        &orders,
        "DUMMY-1AAA",
        &[overwrite("status", "pending"), overwrite("total", "46.00")],
        &[],
    )
    .expect("syncs")
    .expect("synced");
    assert_eq!(action(&info), "create");
    assert_eq!(row_id(&info), 1, "row ids start at 1");
    assert_eq!(
        info.external_link_href,
        ROption::RSome("https://crm.example.com/ticketorders/1".into())
    );
    assert_eq!(
        info.external_link_display_name,
        ROption::RSome("ticketorders #1".into())
    );
    provider.close().expect("closes");

    // The next batch opens the file again, finds the row and changes one column.
    let mut provider = open(&path, template);
    let (action, id) = synced(
        &mut provider,
        &orders,
        "DUMMY-1AAA",
        &[overwrite("status", "paid"), overwrite("total", "46.00")],
    );
    assert_eq!((action.as_str(), id), ("update", 1));
    let (action, id) = synced(&mut provider, &orders, "DUMMY-2EEE", &[]);
    assert_eq!((action.as_str(), id), ("create", 2));
    provider.close().expect("closes");
    assert_eq!(
        rows(&path, "ticketorders"),
        json!([
            {"_id": 1, "ordernumber": "DUMMY-1AAA", "status": "paid", "total": "46.00"},
            {"_id": 2, "ordernumber": "DUMMY-2EEE", "status": null, "total": null},
        ])
    );
}

#[test]
fn unchanged_object_is_nothing_to_do_and_writes_nothing() {
    let (_dir, path) = crm_file();
    let orders = mapping(1, "ticketorders", "ordernumber", json!({}));
    let mut provider = open(&path, json!({}));
    let properties = [
        overwrite("status", "pending"),
        Property::new("note", "first", Mode::IfEmpty),
    ];
    assert_eq!(
        synced(&mut provider, &orders, "DUMMY-1AAA", &properties).0,
        "create"
    );

    let observer = Connection::open(&path).expect("open");
    let before = data_version(&observer);
    // Same values, plus an overwrite with no value into a column the table lacks: a
    // missing column reads as NULL, so that is no change either.
    let again = [
        overwrite("status", "pending"),
        Property::new("note", "second", Mode::IfEmpty),
        Property::new("payment_date", Value::Null, Mode::Overwrite),
    ];
    let (action, id) = synced(&mut provider, &orders, "DUMMY-1AAA", &again);
    assert_eq!((action.as_str(), id), ("nothing_to_do", 1));
    assert_eq!(data_version(&observer), before, "no transaction wrote");
    assert_eq!(
        rows(&path, "ticketorders"),
        json!([{"_id": 1, "ordernumber": "DUMMY-1AAA", "status": "pending", "note": "first"}])
    );
}

#[test]
fn the_four_update_modes_apply_against_the_existing_row() {
    let (_dir, path) = crm_file();
    let contacts = mapping(1, "contacts", "email", json!({}));
    let mut provider = open(&path, json!({}));
    let first = [
        Property::new("name", "Alice", Mode::IfNew),
        Property::new("city", "", Mode::IfEmpty),
        Property::new("colors", "red", Mode::Append),
        Property::new("status", "pending", Mode::Overwrite),
    ];
    synced(&mut provider, &contacts, "a@example.org", &first);
    let second = [
        Property::new("name", "Bob", Mode::IfNew),
        Property::new("city", "Berlin", Mode::IfEmpty),
        Property::new("colors", "blue", Mode::Append),
        Property::new("status", "paid", Mode::Overwrite),
    ];
    let (action, _) = synced(&mut provider, &contacts, "a@example.org", &second);
    assert_eq!(action, "update");
    // if_new keeps Alice; if_empty fills the column the first sync left NULL (an empty
    // value never writes); append joins with ";"; overwrite replaces.
    assert_eq!(
        rows(&path, "contacts"),
        json!([{
            "_id": 1, "email": "a@example.org", "name": "Alice", "city": "Berlin",
            "colors": "red;blue", "status": "paid",
        }])
    );

    // Someone edits the row in the CRM: an empty text is empty for if_empty, a value is
    // kept; an item already in the list adds nothing.
    let conn = Connection::open(&path).expect("open");
    conn.execute(
        "UPDATE contacts SET city = '', name = 'Alicia' WHERE _id = 1",
        [],
    )
    .expect("edit");
    let third = [
        Property::new("name", "Bob", Mode::IfEmpty),
        Property::new("city", "Hamburg", Mode::IfEmpty),
        Property::new("colors", "blue", Mode::Append),
    ];
    synced(&mut provider, &contacts, "a@example.org", &third);
    // Two appends to a stored column are each computed against the stored value, so only
    // the last survives (spec §4.4.3); overwrite with no value clears.
    let fourth = [
        Property::new("colors", "green", Mode::Append),
        Property::new("colors", "pink", Mode::Append),
        Property::new("status", Value::Null, Mode::Overwrite),
    ];
    synced(&mut provider, &contacts, "a@example.org", &fourth);
    assert_eq!(
        rows(&path, "contacts"),
        json!([{
            "_id": 1, "email": "a@example.org", "name": "Alicia", "city": "Hamburg",
            "colors": "red;blue;pink", "status": null,
        }])
    );
}

#[test]
fn lists_are_joined_with_the_list_separator_and_append_splits_by_it() {
    let (_dir, path) = crm_file();
    let tickets = mapping(1, "tickets", "ticketnumber", json!({}));
    let mut provider = open(&path, json!({ "list_separator": "," }));
    let topics = |items: &[&str], mode| Property::new("topics", Value::list(items.to_vec()), mode);
    synced(
        &mut provider,
        &tickets,
        "1AAA-1",
        &[
            topics(&["rust", "db"], Mode::Overwrite),
            Property::new("vip", true, Mode::Overwrite),
            Property::new("diet", false, Mode::Overwrite),
        ],
    );
    synced(
        &mut provider,
        &tickets,
        "1AAA-1",
        &[topics(&["db", "ops"], Mode::Append)],
    );
    assert_eq!(
        rows(&path, "tickets"),
        json!([{
            "_id": 1, "ticketnumber": "1AAA-1", "topics": "rust,db,ops",
            "vip": "true", "diet": "false",
        }])
    );
}

#[test]
fn associations_write_links_to_the_row_ids_of_earlier_mappings() {
    let (_dir, path) = crm_file();
    let tickets = mapping(1, "tickets", "ticketnumber", json!({}));
    let orders = mapping(
        2,
        "ticketorders",
        "ordernumber",
        json!({ "association_mappings": [1] }),
    );
    let mut provider = open(&path, json!({}));

    let mut results = Vec::new();
    for ticket in ["1AAA-1", "1AAA-2"] {
        let info = sync(&mut provider, &tickets, ticket, &[], &[])
            .expect("syncs")
            .expect("synced");
        results.push(ROption::RSome(synced_object(&tickets, ticket, &info)));
    }
    // A skipped ticket has no row to link to.
    results.push(ROption::RNone);
    let mapped = [MappedObjects {
        mapping_id: 1,
        objects: results.into(),
    }];
    let info = sync(&mut provider, &orders, "DUMMY-1AAA", &[], &mapped)
        .expect("syncs")
        .expect("synced");
    assert_eq!(action(&info), "create");
    assert_eq!(
        rows(&path, "ticketorders"),
        json!([{"_id": 1, "ordernumber": "DUMMY-1AAA", "links": r#"["link:tickets:1","link:tickets:2"]"#}])
    );
    // Only mappings with associations get the column.
    assert_eq!(
        rows(&path, "tickets"),
        json!([
            {"_id": 1, "ticketnumber": "1AAA-1"},
            {"_id": 2, "ticketnumber": "1AAA-2"},
        ])
    );

    // The same links again change nothing; links are rewritten, not appended to.
    let info = sync(&mut provider, &orders, "DUMMY-1AAA", &[], &mapped)
        .expect("syncs")
        .expect("synced");
    assert_eq!(action(&info), "nothing_to_do");
    let none = [MappedObjects {
        mapping_id: 1,
        objects: Vec::new().into(),
    }];
    let info = sync(&mut provider, &orders, "DUMMY-1AAA", &[], &none)
        .expect("syncs")
        .expect("synced");
    assert_eq!(action(&info), "update");
    assert_eq!(rows(&path, "ticketorders")[0]["links"], json!("[]"));
}

#[test]
fn broken_associations_are_reported_and_write_nothing() {
    let (_dir, path) = crm_file();
    let mut provider = open(&path, json!({}));
    let orders = |extra| mapping(2, "ticketorders", "ordernumber", extra);

    let message = config_error(sync(
        &mut provider,
        &orders(json!({ "association_mappings": [1] })),
        "DUMMY-1AAA",
        &[],
        &[],
    ));
    assert!(
        message.contains("mapping 2: association_mappings names mapping 1, which did not run"),
        "{message}"
    );
    let message = config_error(sync(
        &mut provider,
        &orders(json!({ "association_mappings": ["one"] })),
        "DUMMY-1AAA",
        &[],
        &[],
    ));
    assert!(
        message.contains("association_mappings must list mapping ids"),
        "{message}"
    );

    // A result this plugin did not write has no row id to link to.
    let foreign = SyncedObject {
        position_id: ROption::RNone,
        external_object_type: "tickets".into(),
        external_id_field: "ticketnumber".into(),
        id_value: "1AAA-1".into(),
        external_link_href: ROption::RNone,
        external_link_display_name: ROption::RNone,
        sync_info_json: "{}".into(),
    };
    let mapped = [MappedObjects {
        mapping_id: 1,
        objects: vec![ROption::RSome(foreign)].into(),
    }];
    let err = sync(
        &mut provider,
        &orders(json!({ "association_mappings": [1] })),
        "DUMMY-1AAA",
        &[],
        &mapped,
    )
    .expect_err("no row id");
    assert_eq!(err.kind, ErrorKind::Internal, "{err}");
    assert!(tables(&path).is_empty(), "{:?}", tables(&path));
}

#[test]
fn invalid_names_are_config_errors_and_never_reach_sql() {
    let (_dir, path) = crm_file();
    let mut provider = open(&path, json!({}));
    let cases = [
        (
            mapping(1, "orders\"; DROP TABLE x; --", "code", json!({})),
            vec![],
            "external_object_type \"orders\\\"; DROP TABLE x; --\" cannot be a table or column name",
        ),
        (
            mapping(1, "tick-ets", "code", json!({})),
            vec![],
            "cannot be a table or column name",
        ),
        (
            mapping(1, "sqlite_master", "code", json!({})),
            vec![],
            "names starting with sqlite_ are SQLite's",
        ),
        (
            mapping(1, "orders", "order code", json!({})),
            vec![],
            "external_id_field \"order code\" cannot be a table or column name",
        ),
        (
            mapping(1, "orders", "code", json!({})),
            vec![overwrite("first name", "Alice")],
            "external field \"first name\" cannot be a table or column name",
        ),
        (
            mapping(1, "orders", "code", json!({})),
            vec![overwrite("_ID", "7")],
            "external field \"_ID\" is reserved for the CRM's row id",
        ),
        (
            mapping(1, "orders", "code", json!({})),
            vec![overwrite("Name", "A"), overwrite("name", "B")],
            "fields \"Name\" and \"name\" differ only in case",
        ),
    ];
    for (mapping, properties, expected) in cases {
        let message = config_error(sync(&mut provider, &mapping, "X", &properties, &[]));
        assert!(message.contains(expected), "{expected}\n{message}");
        assert!(
            message.starts_with("plugin crm_sqlite: mapping 1: "),
            "{message}"
        );
    }
    assert!(tables(&path).is_empty(), "{:?}", tables(&path));
}

#[test]
fn column_names_are_case_insensitive_like_sqlite() {
    let (_dir, path) = crm_file();
    let mut provider = open(&path, json!({}));
    let first = mapping(1, "Contacts", "Email", json!({}));
    synced(
        &mut provider,
        &first,
        "a@example.org",
        &[overwrite("Name", "Alice")],
    );
    let second = mapping(2, "contacts", "email", json!({}));
    let (action, id) = synced(
        &mut provider,
        &second,
        "a@example.org",
        &[overwrite("name", "Bob")],
    );
    assert_eq!((action.as_str(), id), ("update", 1));
    assert_eq!(
        rows(&path, "contacts"),
        json!([{"_id": 1, "Email": "a@example.org", "Name": "Bob"}])
    );
}

#[test]
fn missing_path_is_a_config_error_naming_plugin_and_setting() {
    let message = config_error(CrmSqlite::new(&EventContext::default(), &json!({})));
    assert!(
        message.starts_with("plugin crm_sqlite: settings.path missing; "),
        "{message}"
    );
}

#[test]
fn bad_settings_are_config_errors() {
    let (_dir, path) = crm_file();
    let new = |more| CrmSqlite::new(&EventContext::default(), &settings(&path, more));
    for (more, expected) in [
        (
            json!({ "path": 3 }),
            "settings.path must be a non-empty string",
        ),
        (json!({ "paht": "x" }), "unknown setting settings.paht"),
        (
            json!({ "list_separator": "" }),
            "settings.list_separator must be a non-empty string",
        ),
        (
            json!({ "link_template": "https://crm.example.com/{type}/{id}" }),
            "has an unknown placeholder; use {object_type} and {id}",
        ),
    ] {
        let message = config_error(new(more));
        assert!(message.contains(expected), "{expected}\n{message}");
    }
    let message = config_error(CrmSqlite::new(&EventContext::default(), &json!("crm.db")));
    assert!(message.contains("settings must be a table"), "{message}");
    assert!(!path.exists(), "bad settings open nothing");
}

#[test]
fn unusable_paths_are_config_errors() {
    let (dir, path) = crm_file();
    let message = config_error(CrmSqlite::new(
        &EventContext::default(),
        &settings(
            &dir.path().join("missing-folder").join("crm.sqlite"),
            json!({}),
        ),
    ));
    assert!(message.contains("cannot open"), "{message}");
    assert!(
        message.contains("settings.path must name a SQLite file"),
        "{message}"
    );

    std::fs::write(&path, "not a database, just long enough to have a header").expect("write");
    let message = config_error(CrmSqlite::new(
        &EventContext::default(),
        &settings(&path, json!({})),
    ));
    assert!(message.contains("crm.sqlite"), "{message}");
}

#[test]
fn the_file_is_in_wal_mode() {
    let (_dir, path) = crm_file();
    let _provider = open(&path, json!({}));
    let conn = Connection::open(&path).expect("open");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
}

#[test]
fn a_lock_held_past_the_busy_timeout_is_recoverable() {
    let (_dir, path) = crm_file();
    let mut crm = Crm::open(&path, Duration::from_millis(50)).expect("opens");
    let mut other = Connection::open(&path).expect("open");
    let lock = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("write lock");
    let table = Ident::new("t").expect("ident");
    let id = Ident::new("id").expect("ident");
    let err = crm
        .upsert(&table, &id, "1", |_| Record::new())
        .expect_err("busy");
    assert_eq!(err.kind, ErrorKind::Recoverable, "{err}");
    drop(lock);
    let upserted = crm
        .upsert(&table, &id, "1", |_| Record::new())
        .expect("free again");
    assert_eq!(upserted.action, Action::Create);
}

#[test]
fn a_read_only_database_is_a_permanent_error() {
    let (_dir, path) = crm_file();
    open(&path, json!({})).close().expect("creates the file");
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open read-only");
    let err = conn
        .execute("CREATE TABLE t (x)", [])
        .expect_err("read-only");
    assert_eq!(sql_error("writing", err).kind, ErrorKind::Permanent);
}

#[test]
fn sqlite_result_codes_map_to_error_kinds() {
    for (code, kind) in [
        (ErrorCode::DatabaseBusy, ErrorKind::Recoverable),
        (ErrorCode::DatabaseLocked, ErrorKind::Recoverable),
        (ErrorCode::DiskFull, ErrorKind::Recoverable),
        (ErrorCode::SystemIoFailure, ErrorKind::Recoverable),
        (ErrorCode::ReadOnly, ErrorKind::Permanent),
        (ErrorCode::PermissionDenied, ErrorKind::Permanent),
        (ErrorCode::DatabaseCorrupt, ErrorKind::Permanent),
        (ErrorCode::ConstraintViolation, ErrorKind::Permanent),
        (ErrorCode::ApiMisuse, ErrorKind::Internal),
    ] {
        assert_eq!(error_kind(code), kind, "{code:?}");
    }
}

#[test]
fn sync_after_close_is_an_internal_error_and_close_is_idempotent() {
    let (_dir, path) = crm_file();
    let mut provider = open(&path, json!({}));
    provider.close().expect("closes");
    provider.close().expect("a second close does nothing");
    let orders = mapping(1, "ticketorders", "ordernumber", json!({}));
    let err = sync(&mut provider, &orders, "X", &[], &[]).expect_err("closed");
    assert_eq!(err.kind, ErrorKind::Internal);
}

#[test]
fn idents_admit_only_letters_digits_underscore_and_compare_like_sqlite() {
    for bad in ["", "a b", "a-b", "a\"b", "ä", "a;b", "a.b"] {
        assert!(Ident::new(bad).is_none(), "{bad:?}");
    }
    let ident = Ident::new("First_Name2").expect("valid");
    assert_eq!(ident.to_string(), "\"First_Name2\"");
    assert_eq!(Ident::new("first_name2"), Some(ident));
}
