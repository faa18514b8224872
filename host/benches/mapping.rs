//! Mapping evaluation speed: prints a table of time per order (median of batches).
//!
//! Run it with either
//!   cargo test --release -p datasync-host --bench mapping -- --nocapture
//! or, once `host/Cargo.toml` has `[[bench]] name = "mapping" harness = false`,
//!   cargo bench -p datasync-host --bench mapping
//!
//! Scenarios use the pretix-sample corpus (order AAAAA: 2 positions, one an add-on).
//! Target: all mappings of an order with 2 positions and 12 properties ≤ 10 µs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use datasync_host::config::Config;
use datasync_host::mapping::{catalog, mappings_from_config, plan_order, CompiledMappings};
use datasync_host::model::parse_import;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/pretix-sample"
);

/// One OrderPosition mapping (7 properties) and one Order mapping (5 properties):
/// 12 properties, 3 objects for an order with 2 positions.
const TWELVE: &str = r#"
[[provider]]
identifier = "bench"
[[provider.mapping]]
id = 1
model = "OrderPosition"
external_object_type = "contact"
pretix_id_field = "attendee_email"
external_id_field = "email"
properties = [
  { pretix_field = "attendee_name_given_name", external_field = "first" },
  { pretix_field = "attendee_name_family_name", external_field = "last" },
  { pretix_field = "ticket_price", external_field = "price" },
  { pretix_field = "product", external_field = "product" },
  { pretix_field = "question_TOPICS", external_field = "topics", value_map = { T1 = "rust", T2 = "python", T3 = "db", T4 = "ops" } },
  { pretix_field = "checkin_date_1", external_field = "checked_in" },
  { pretix_field = "event_date_from", external_field = "date" },
]
[[provider.mapping]]
id = 2
model = "Order"
external_object_type = "order"
pretix_id_field = "event_order_code"
external_id_field = "number"
properties = [
  { pretix_field = "email", external_field = "email" },
  { pretix_field = "order_status", external_field = "status", value_map = { n = "pending", p = "paid", e = "expired", c = "canceled" } },
  { pretix_field = "order_total", external_field = "total" },
  { pretix_field = "payment_date", external_field = "paid_at" },
  { pretix_field = "invoice_address_company", external_field = "company" },
]
"#;

fn median_per_iter(mut f: impl FnMut()) -> Duration {
    // Warm up, then time 15 batches sized to ~20 ms each.
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_millis(50) {
        f();
        n += 1;
    }
    let batch = (n / 3).max(1);
    let mut samples: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed() / batch
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let text = std::fs::read_to_string(Path::new(CORPUS).join("import.json")).unwrap();
    let doc = parse_import(&text).unwrap();
    let order = doc.order("AAAAA").unwrap();
    let corpus_toml = std::fs::read_to_string(Path::new(CORPUS).join("datasync.toml")).unwrap();

    println!(
        "{:<58} {:>8} {:>6} {:>12}",
        "scenario", "objects", "props", "per order"
    );
    let row = |name: &str, toml_text: &str, compiled: bool| {
        let config = Config::parse(toml_text, Path::new("bench.toml")).unwrap();
        let mappings = mappings_from_config(&config.providers[0].mappings).unwrap();
        let cat = catalog(&doc.event);
        let plan = plan_order(&cat, &doc.event, order, &mappings, Some(","), "Bench").unwrap();
        let props: usize = plan.iter().map(|o| o.properties.len()).sum();
        let t = if compiled {
            let c = CompiledMappings::new(&cat, &mappings);
            median_per_iter(|| {
                black_box(c.plan_order(&cat, &doc.event, black_box(order), Some(","), "Bench"))
                    .unwrap();
            })
        } else {
            median_per_iter(|| {
                black_box(plan_order(
                    &cat,
                    &doc.event,
                    black_box(order),
                    &mappings,
                    Some(","),
                    "Bench",
                ))
                .unwrap();
            })
        };
        println!(
            "{name:<58} {:>8} {props:>6} {:>9.2} µs",
            plan.len(),
            t.as_secs_f64() * 1e6
        );
    };
    row(
        "2 mappings, 12 properties, 2 positions (plan_order)",
        TWELVE,
        false,
    );
    row(
        "2 mappings, 12 properties, 2 positions (CompiledMappings)",
        TWELVE,
        true,
    );
    row(
        "corpus: 4 mappings, 96 properties, 2 positions (plan_order)",
        &corpus_toml,
        false,
    );
    row(
        "corpus: 4 mappings, 96 properties (CompiledMappings)",
        &corpus_toml,
        true,
    );

    let t = median_per_iter(|| {
        black_box(catalog(black_box(&doc.event)));
    });
    println!(
        "{:<58} {:>8} {:>6} {:>9.2} µs",
        "catalog(event) (once per event)",
        "",
        "",
        t.as_secs_f64() * 1e6
    );
    let t = median_per_iter(|| {
        black_box(parse_import(black_box(&text)).unwrap());
    });
    println!(
        "{:<58} {:>8} {:>6} {:>9.2} µs",
        "parse_import (12 orders, 97 KB)",
        "",
        "",
        t.as_secs_f64() * 1e6
    );
}

#[test]
fn mapping_timing_table() {
    main();
}
