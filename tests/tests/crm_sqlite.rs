//! The `crm_sqlite` example provider end to end: the real binary syncs spec §7.5's
//! orders into a real CRM file, and the CRM's tables must hold the spec's records.
//!
//! The CRM differs from pretix's fake API (tests/fixtures/spec-7) in two documented
//! ways, which [`expected_tables`] applies to the spec's expected store:
//! * `_id` is the SQLite row id, starting at 1 instead of 0, and the links name it;
//! * only mappings with `association_mappings` get a `links` column, so tickets have
//!   none (upstream's test provider writes `links: []` on every record).

use std::path::PathBuf;

use datasync_tests::{fixture, Sandbox};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde_json::{json, Map, Value};

const LINK_TEMPLATE: &str = "https://crm.example.com/{object_type}/{id}";

struct Case {
    sandbox: Sandbox,
    crm: PathBuf,
}

impl Case {
    /// `spec-7/datasync-7-5.toml` for `crm_sqlite`: same mappings (mapping 2 keeps
    /// `extra = { association_mappings = [1] }`), the CRM file as `settings.path`.
    fn spec_7_5() -> Case {
        let sandbox = Sandbox::with_plugins(&["crm_sqlite"]);
        let crm = sandbox.path().join("crm.sqlite");
        let text = std::fs::read_to_string(fixture("spec-7/datasync-7-5.toml")).expect("read");
        let adapted = replace_once(
            &text,
            r#"identifier = "example2""#,
            r#"identifier = "crm_sqlite""#,
        );
        let settings = format!(
            r#"settings = {{ path = "{}", link_template = "{LINK_TEMPLATE}" }}"#,
            crm.to_str().expect("utf-8 temp path")
        );
        let adapted = replace_once(
            &adapted,
            r#"settings = { store_path = "STORE_PATH" }"#,
            &settings,
        );
        assert!(adapted.contains("extra = { association_mappings = [1] }"));
        sandbox.write_config(&adapted);
        Case { sandbox, crm }
    }

    fn import(&self, document: &str) {
        let file = fixture(&format!("spec-7/{document}"));
        self.sandbox.ok(&["import", file.to_str().expect("utf-8")]);
    }

    fn sync(&self) {
        let out = self.sandbox.run(&["run", "--once"]);
        assert_eq!(out.code, 0, "sync failed:\n{}\n{}", out.stdout, out.stderr);
        assert!(self.sandbox.queue().is_empty(), "every job done");
    }

    /// Every table of the CRM with its rows in row id order; `links` parsed as JSON.
    fn tables(&self) -> Value {
        let conn = Connection::open(&self.crm).expect("the CRM file exists");
        let mut tables = Map::new();
        for table in ["tickets", "ticketorders"] {
            let mut statement = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY _id"))
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
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(i) => json!(i),
                            ValueRef::Text(t) if name == "links" => {
                                serde_json::from_slice(t).expect("links is a JSON array")
                            }
                            ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                            other => panic!("{table}.{name} holds {other:?}"),
                        };
                        record.insert(name.clone(), value);
                    }
                    Ok(Value::Object(record))
                })
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("rows");
            tables.insert(table.to_string(), Value::Array(rows));
        }
        Value::Object(tables)
    }

    fn results(&self, order: &str) -> Vec<Value> {
        let out = self
            .sandbox
            .ok(&["results", "--event", "dummy", "--order", order, "--json"]);
        out.json()["results"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn successes(&self) -> usize {
        self.sandbox
            .log()
            .iter()
            .filter(|e| {
                e["action"]
                    .as_str()
                    .is_some_and(|a| a.ends_with(".success"))
            })
            .count()
    }
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from} once in the config");
    text.replace(from, to)
}

/// The spec's expected store (`spec-7/<file>`) as the CRM holds it: row ids from 1,
/// links naming them, no `links` on tickets.
fn expected_tables(file: &str) -> Value {
    let text = std::fs::read_to_string(fixture(&format!("spec-7/{file}"))).expect("read");
    let mut expected: Value = serde_json::from_str(&text).expect("expected is JSON");
    let row_id = |id: &Value| json!(id.as_i64().expect("_id is a number") + 1);
    for record in expected["tickets"].as_array_mut().expect("tickets") {
        record["_id"] = row_id(&record["_id"]);
        let links = record.as_object_mut().and_then(|r| r.remove("links"));
        assert_eq!(links, Some(json!([])), "tickets have no associations");
    }
    for record in expected["ticketorders"].as_array_mut().expect("orders") {
        record["_id"] = row_id(&record["_id"]);
        for link in record["links"].as_array_mut().expect("links") {
            let (prefix, id) = link
                .as_str()
                .and_then(|l| l.rsplit_once(':'))
                .expect("link:<type>:<id>");
            let id: i64 = id.parse().expect("numeric id");
            *link = json!(format!("{prefix}:{}", id + 1));
        }
    }
    expected
}

#[test]
fn spec_7_5_orders_and_tickets_land_in_the_crm_and_update_in_place() {
    let case = Case::spec_7_5();
    case.import("initial.json");
    case.sync();
    assert_eq!(case.tables(), expected_tables("expected-7-5-round1.json"));
    // Round 1 created every object; the links in the results point into the CRM.
    let results = case.results("1AAA");
    assert_eq!(results.len(), 3, "{results:?}");
    for result in &results {
        assert_eq!(result["sync_info"]["action"], "create", "{result}");
    }
    let order = results
        .iter()
        .find(|r| r["object_type"] == "ticketorders")
        .expect("the order's result");
    assert_eq!(order["sync_info"]["row_id"], 1);
    assert_eq!(
        order["external_link_href"],
        "https://crm.example.com/ticketorders/1"
    );
    assert_eq!(order["external_link_display_name"], "ticketorders #1");
    let logged = case.successes();
    assert_eq!(logged, 2, "one success entry per order");

    // Round 2: 1AAA paid. Same rows (same row ids, no duplicates), new status.
    case.import("paid-no-payment.json");
    case.sync();
    assert_eq!(case.tables(), expected_tables("expected-7-5-round2.json"));
    let results = case.results("1AAA");
    assert!(
        results.iter().all(|r| r["sync_info"]["action"] == "update"),
        "{results:?}"
    );
    let logged = case.successes();

    // Syncing unchanged orders again writes nothing and logs nothing.
    for order in ["1AAA", "2EEE"] {
        case.sandbox
            .ok(&["enqueue", "--event", "dummy", "--order", order]);
    }
    case.sync();
    assert_eq!(case.tables(), expected_tables("expected-7-5-round2.json"));
    for order in ["1AAA", "2EEE"] {
        let results = case.results(order);
        assert!(!results.is_empty());
        assert!(
            results
                .iter()
                .all(|r| r["sync_info"]["action"] == "nothing_to_do"),
            "{results:?}"
        );
    }
    assert_eq!(case.successes(), logged, "nothing_to_do adds no log entry");
}

#[test]
fn an_object_type_that_is_no_sql_name_parks_the_order_as_a_config_error() {
    let sandbox = Sandbox::with_plugins(&["crm_sqlite"]);
    let crm = sandbox.path().join("crm.sqlite");
    sandbox.write_config(&format!(
        r#"
[[provider]]
identifier = "crm_sqlite"
events = "*"
settings = {{ path = "{}" }}

[[provider.mapping]]
id = 1
model = "Order"
external_object_type = "ticket orders"
pretix_id_field = "event_order_code"
external_id_field = "ordernumber"
properties = [{{ pretix_field = "email", external_field = "orderemail", mode = "overwrite" }}]
"#,
        crm.to_str().expect("utf-8 temp path")
    ));
    let file = fixture("spec-7/initial.json");
    sandbox.ok(&["import", file.to_str().expect("utf-8")]);
    let out = sandbox.run(&["run", "--once"]);
    assert_eq!(out.code, 1, "problems:\n{}\n{}", out.stdout, out.stderr);

    let jobs = sandbox.queue();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    for job in &jobs {
        assert_eq!(job["state"], "parked", "{job}");
        assert_eq!(job["failure_mode"], "config", "{job}");
        let error = job["last_error"].to_string();
        assert!(
            error.contains(
                "plugin crm_sqlite: mapping 1: external_object_type \\\"ticket orders\\\" \
                 cannot be a table or column name"
            ),
            "{error}"
        );
    }
    let conn = Connection::open(&crm).expect("the file was opened");
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(tables, 0, "nothing was created");
}
