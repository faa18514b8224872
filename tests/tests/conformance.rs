//! The differential corpus (tests/fixtures/pretix-sample): what pretix 2026.8.0 itself
//! computed for 12 orders — 58 provider calls, 1 819 property tuples — must come out of
//! `datasync preview` identically, as JSON values; where divergences.jsonl names one of
//! the two upstream getter bugs, its intended value.

use std::collections::BTreeMap;

use datasync_tests::{fixture, Sandbox};
use serde_json::Value;

type CallKey = (String, i64, Option<i64>);

fn jsonl(name: &str) -> Vec<Value> {
    let text =
        std::fs::read_to_string(fixture(&format!("pretix-sample/{name}"))).expect("read corpus");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line is JSON"))
        .collect()
}

fn key(order: &str, call: &Value) -> CallKey {
    (
        order.to_string(),
        call["mapping_id"].as_i64().expect("mapping_id"),
        call["position_id"].as_i64(),
    )
}

/// expected.jsonl with divergences.jsonl's intended values substituted.
fn expected_calls() -> Vec<(CallKey, Value)> {
    let mut intended: BTreeMap<(CallKey, usize), Value> = BTreeMap::new();
    for d in jsonl("divergences.jsonl") {
        let order = d["order"].as_str().expect("order");
        let index = d["index"].as_u64().expect("index") as usize;
        intended.insert((key(order, &d), index), d["intended_value"].clone());
    }
    jsonl("expected.jsonl")
        .into_iter()
        .map(|mut call| {
            let order = call["order"].as_str().expect("order").to_string();
            let k = key(&order, &call);
            if let Some(props) = call["properties"].as_array_mut() {
                for (i, p) in props.iter_mut().enumerate() {
                    if let Some(v) = intended.get(&(k.clone(), i)) {
                        p[1] = v.clone();
                    }
                }
            }
            (k, call)
        })
        .collect()
}

#[test]
fn preview_reproduces_every_call_pretix_made_on_the_sample_event() {
    let sandbox = Sandbox::with_plugins(&[]);
    let config = std::fs::read_to_string(fixture("pretix-sample/datasync.toml")).expect("config");
    sandbox.write_config(&config);
    sandbox.ok(&[
        "import",
        fixture("pretix-sample/import.json")
            .to_str()
            .expect("utf-8"),
    ]);

    let document: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("pretix-sample/import.json")).expect("read"),
    )
    .expect("json");
    let codes: Vec<&str> = document["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .filter_map(|o| o["code"].as_str())
        .collect();
    assert_eq!(codes.len(), 12);

    let mut actual: Vec<(CallKey, Value)> = Vec::new();
    for code in &codes {
        let out = sandbox.ok(&[
            "preview",
            "--provider",
            "oracle",
            "--event",
            "conf26",
            "--order",
            code,
            "--json",
        ]);
        for line in out.stdout.lines() {
            let call: Value = serde_json::from_str(line).expect("one JSON object per line");
            actual.push((key(code, &call), call));
        }
    }

    let expected = expected_calls();
    let actual_keys: Vec<&CallKey> = actual.iter().map(|(k, _)| k).collect();
    let expected_keys: Vec<&CallKey> = expected.iter().map(|(k, _)| k).collect();
    assert_eq!(
        actual_keys, expected_keys,
        "the same calls in the same order"
    );

    let mut tuples = 0;
    for ((k, got), (_, want)) in actual.iter().zip(&expected) {
        assert_eq!(got["id_value"], want["id_value"], "id_value of {k:?}");
        let got_props = got["properties"].as_array().expect("properties");
        let want_props = want["properties"].as_array().expect("properties");
        assert_eq!(got_props.len(), want_props.len(), "property count of {k:?}");
        for (i, (g, w)) in got_props.iter().zip(want_props).enumerate() {
            assert_eq!(g, w, "property {i} of {k:?}");
            tuples += 1;
        }
    }
    assert_eq!(actual.len(), 58);
    assert_eq!(tuples, 1819);
}
