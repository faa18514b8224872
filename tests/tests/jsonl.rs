//! The `jsonl` example provider end to end: the real binary syncs spec §7.1's two
//! orders and the JSON Lines file must hold one line per order, fields as documented.

use datasync_tests::{fixture, Sandbox};
use serde_json::{json, Value};

#[test]
fn each_synced_order_becomes_one_json_line() {
    let sandbox = Sandbox::with_plugins(&["jsonl"]);
    let path = sandbox.path().join("objects.jsonl");
    sandbox.write_config(&format!(
        r#"
[[provider]]
identifier = "jsonl"
events = "*"
settings = {{ path = "{}" }}

[[provider.mapping]]
id = 1
model = "Order"
external_object_type = "orders"
pretix_id_field = "event_order_code"
external_id_field = "ordernumber"
properties = [
  {{ pretix_field = "email", external_field = "orderemail", mode = "overwrite" }},
  {{ pretix_field = "order_status", external_field = "status", mode = "overwrite", value_map = {{ n = "pending", p = "paid", e = "expired", c = "refunded" }} }},
  {{ pretix_field = "order_total", external_field = "total", mode = "if_empty" }},
]
"#,
        path.to_str().expect("utf-8 temp path")
    ));
    let file = fixture("spec-7/initial.json");
    sandbox.ok(&["import", file.to_str().expect("utf-8")]);
    let out = sandbox.run(&["run", "--once"]);
    assert_eq!(out.code, 0, "sync failed:\n{}\n{}", out.stdout, out.stderr);
    assert!(sandbox.queue().is_empty(), "every job done");

    let text = std::fs::read_to_string(&path).expect("the file exists");
    let mut lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    for line in &mut lines {
        let time = line
            .as_object_mut()
            .and_then(|l| l.remove("time"))
            .expect("a time");
        let time = time.as_str().expect("text");
        // RFC 3339 UTC with milliseconds: 2026-11-20T09:30:00.123Z
        assert!(
            time.len() == 24 && time.as_bytes()[10] == b'T' && time.ends_with('Z'),
            "{time}"
        );
    }
    let line = |code: &str, email: &str, total: &str| {
        json!({
            "event": "dummy",
            "order_code": code,
            "mapping_id": 1,
            "object_type": "orders",
            "external_id_field": "ordernumber",
            "id_value": format!("DUMMY-{code}"),
            "position_id": null,
            // The provider keeps list-valued fields (the status) as JSON arrays.
            "properties": {"orderemail": email, "status": ["pending"], "total": total},
            "modes": {"orderemail": "overwrite", "status": "overwrite", "total": "if_empty"},
        })
    };
    assert_eq!(
        lines,
        vec![
            line("1AAA", "anonymous@xn--og8h.example.org", "46.00"),
            line("2EEE", "ephemeral@example.com", "23.00"),
        ]
    );
    let results = sandbox.ok(&["results", "--event", "dummy", "--order", "1AAA", "--json"]);
    assert_eq!(
        results.json()["results"][0]["sync_info"]["action"],
        "create"
    );
}
