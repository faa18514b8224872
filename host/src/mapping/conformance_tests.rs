//! THE conformance test: every provider call real pretix made for the sample corpus
//! (`tests/fixtures/pretix-sample/expected.jsonl`), reproduced by planning each order
//! with the corpus mappings. Values named in `divergences.jsonl` are expected with
//! their `intended_value` (spec §8.1 #11 and #13, see `getters.rs`).

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value as Json};

use super::*;
use crate::config::Config;
use crate::model::{parse_import, ImportDocument};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/pretix-sample"
);

fn read(name: &str) -> String {
    let path = Path::new(CORPUS).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn jsonl(name: &str) -> Vec<Json> {
    read(name)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line is JSON"))
        .collect()
}

pub(super) struct Corpus {
    pub doc: ImportDocument,
    pub config: Config,
    pub mappings: Vec<datasync_plugin_api::Mapping>,
    pub catalog: Catalog,
}

pub(super) fn corpus() -> Corpus {
    let doc = parse_import(&read("import.json")).expect("import.json parses");
    let config = Config::parse(
        &read("datasync.toml"),
        &Path::new(CORPUS).join("datasync.toml"),
    )
    .expect("datasync.toml parses");
    let provider = config.providers.first().expect("one provider");
    let mappings = mappings_from_config(provider.mappings_for(&doc.event.event.slug))
        .expect("corpus mappings convert");
    let catalog = catalog(&doc.event);
    Corpus {
        doc,
        config,
        mappings,
        catalog,
    }
}

/// The call as expected.jsonl writes it (without `event`/`order`).
fn call_json(object: &PlannedObject) -> Json {
    json!({
        "mapping_id": object.mapping_id,
        "position_id": object.position_id,
        "id_value": object.id_value.to_json(),
        "properties": object
            .properties
            .iter()
            .map(|p| json!([p.external_field.as_str(), p.value.to_json(), p.mode.as_str()]))
            .collect::<Vec<_>>(),
    })
}

fn call_key(call: &Json) -> String {
    format!(
        "mapping {} position {}",
        call["mapping_id"], call["position_id"]
    )
}

/// (order, mapping_id, position_id, property index).
type Slot = (String, i64, Option<i64>, usize);

#[test]
fn every_pretix_call_of_the_sample_corpus_is_reproduced() {
    let c = corpus();
    // Slot → (pretix's value, intended value).
    let mut divergences: HashMap<Slot, (Json, Json)> = HashMap::new();
    for d in jsonl("divergences.jsonl") {
        let key = (
            d["order"].as_str().expect("order").to_string(),
            d["mapping_id"].as_i64().expect("mapping_id"),
            d["position_id"].as_i64(),
            usize::try_from(d["index"].as_u64().expect("index")).expect("index fits"),
        );
        divergences.insert(
            key,
            (d["pretix_value"].clone(), d["intended_value"].clone()),
        );
    }
    let mut expected_by_order: HashMap<String, Vec<Json>> = HashMap::new();
    let mut expected_calls = 0;
    for mut call in jsonl("expected.jsonl") {
        let order = call["order"].as_str().expect("order").to_string();
        let mapping_id = call["mapping_id"].as_i64().expect("mapping_id");
        let position_id = call["position_id"].as_i64();
        if let Some(props) = call["properties"].as_array_mut() {
            for (index, prop) in props.iter_mut().enumerate() {
                if let Some((pretix, intended)) =
                    divergences.remove(&(order.clone(), mapping_id, position_id, index))
                {
                    assert_eq!(prop[1], pretix, "divergence for {order} {mapping_id} {position_id:?} #{index} names pretix's value");
                    prop[1] = intended;
                }
            }
        }
        let obj = call.as_object_mut().expect("call is an object");
        obj.remove("event");
        obj.remove("order");
        expected_by_order.entry(order).or_default().push(call);
        expected_calls += 1;
    }
    assert!(
        divergences.is_empty(),
        "unused divergences: {divergences:?}"
    );

    let mut failures = Vec::new();
    let (mut calls, mut tuples, mut matched_calls, mut matched_tuples) = (0, 0, 0, 0);
    for order in &c.doc.orders {
        let planned = plan_order(
            &c.catalog,
            &c.doc.event,
            order,
            &c.mappings,
            Some(","),
            "oracle",
        )
        .unwrap_or_else(|e| panic!("order {} fails to plan: {e}", order.code));
        let actual: Vec<Json> = planned
            .iter()
            .filter(|o| !o.skipped)
            .map(call_json)
            .collect();
        let expected = expected_by_order.remove(&order.code).unwrap_or_default();
        for i in 0..actual.len().max(expected.len()) {
            match (actual.get(i), expected.get(i)) {
                (Some(a), Some(e)) => {
                    calls += 1;
                    let mut call_ok = true;
                    if call_key(a) != call_key(e) {
                        failures.push(format!(
                            "{} call #{i}: got {}, expected {}",
                            order.code,
                            call_key(a),
                            call_key(e)
                        ));
                        continue;
                    }
                    if a["id_value"] != e["id_value"] {
                        call_ok = false;
                        failures.push(format!(
                            "{} {}: id_value {} != expected {}",
                            order.code,
                            call_key(e),
                            a["id_value"],
                            e["id_value"]
                        ));
                    }
                    let (ap, ep) = (
                        a["properties"].as_array().expect("array"),
                        e["properties"].as_array().expect("array"),
                    );
                    for j in 0..ap.len().max(ep.len()) {
                        tuples += 1;
                        if ap.get(j) == ep.get(j) {
                            matched_tuples += 1;
                        } else {
                            call_ok = false;
                            failures.push(format!(
                                "{} {} property #{j}: got {}, expected {}",
                                order.code,
                                call_key(e),
                                ap.get(j).map_or("nothing".to_string(), Json::to_string),
                                ep.get(j).map_or("nothing".to_string(), Json::to_string),
                            ));
                        }
                    }
                    if call_ok {
                        matched_calls += 1;
                    }
                }
                (Some(a), None) => failures.push(format!(
                    "{}: extra call {} (pretix made no such call)",
                    order.code,
                    call_key(a)
                )),
                (None, Some(e)) => failures.push(format!(
                    "{}: missed call {} (pretix made it)",
                    order.code,
                    call_key(e)
                )),
                (None, None) => {}
            }
        }
    }
    assert!(
        expected_by_order.is_empty(),
        "expected calls for orders not in import.json: {:?}",
        expected_by_order.keys().collect::<Vec<_>>()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches ({matched_calls}/{calls} calls, {matched_tuples}/{tuples} tuples identical):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!((expected_calls, matched_calls), (58, 58));
    assert_eq!(matched_tuples, 1819);
}

#[test]
fn skipped_objects_are_the_ones_with_empty_id_values() {
    let c = corpus();
    let mut skipped = Vec::new();
    for order in &c.doc.orders {
        let planned = plan_order(
            &c.catalog,
            &c.doc.event,
            order,
            &c.mappings,
            Some(","),
            "oracle",
        )
        .expect("plans");
        for o in planned.iter().filter(|o| o.skipped) {
            assert!(!o.id_value.is_truthy());
            skipped.push((order.code.clone(), o.mapping_id, o.position_id));
        }
    }
    // 23 positions × 2 position mappings + 12 orders × 2 order mappings = 70 slots; 58 calls.
    assert_eq!(skipped.len(), 70 - 58);
    assert!(
        skipped.contains(&("AAAAF".to_string(), 3, None)),
        "order without e-mail"
    );
    assert!(
        skipped.contains(&("AAAAF".to_string(), 1, Some(11))),
        "position without e-mail"
    );
}

#[test]
fn catalog_keys_equal_pretix_data_fields_of_the_corpus_event() {
    let c = corpus();
    let meta: Json = serde_json::from_str(&read("meta.json")).expect("meta.json");
    let expected: Vec<&str> = meta["data_fields"]
        .as_array()
        .expect("data_fields")
        .iter()
        .map(|k| k.as_str().expect("key"))
        .collect();
    assert_eq!(c.catalog.keys().collect::<Vec<_>>(), expected);
}

#[test]
fn corpus_mappings_validate_without_diagnostics() {
    let c = corpus();
    let provider = c.config.providers.first().expect("provider");
    let diagnostics = validate(provider, &c.catalog, "conf26");
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}
