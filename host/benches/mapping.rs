//! Mapping evaluation speed (criterion): `cargo bench -p datasync-host --bench mapping`.
//!
//! Scenarios use the pretix-sample corpus (order AAAAA: 2 positions, one an add-on).
//! Target: all mappings of an order with 2 positions and 12 properties ≤ 10 µs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};

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

fn benches(c: &mut Criterion) {
    let text = std::fs::read_to_string(Path::new(CORPUS).join("import.json")).unwrap();
    let doc = parse_import(&text).unwrap();
    let order = doc.order("AAAAA").unwrap();
    let corpus_toml = std::fs::read_to_string(Path::new(CORPUS).join("datasync.toml")).unwrap();
    let cat = catalog(&doc.event);

    let mut group = c.benchmark_group("evaluate all mappings of one order");
    for (name, toml_text) in [
        ("2 positions, 12 properties", TWELVE),
        (
            "corpus: 2 positions, 4 mappings, 96 properties",
            corpus_toml.as_str(),
        ),
    ] {
        let config = Config::parse(toml_text, Path::new("bench.toml")).unwrap();
        let mappings = mappings_from_config(&config.providers[0].mappings).unwrap();
        group.bench_function(format!("{name} (plan_order)"), |b| {
            b.iter(|| {
                black_box(plan_order(
                    &cat,
                    &doc.event,
                    black_box(order),
                    &mappings,
                    Some(","),
                    "Bench",
                ))
                .unwrap()
            })
        });
        let compiled = CompiledMappings::new(&cat, &mappings);
        group.bench_function(format!("{name} (compiled once per event)"), |b| {
            b.iter(|| {
                black_box(compiled.plan_order(
                    &cat,
                    &doc.event,
                    black_box(order),
                    Some(","),
                    "Bench",
                ))
                .unwrap()
            })
        });
    }
    group.finish();

    c.bench_function("catalog(event), once per event", |b| {
        b.iter(|| black_box(catalog(black_box(&doc.event))))
    });
    c.bench_function("parse_import, 12 orders / 97 KB", |b| {
        b.iter(|| black_box(parse_import(black_box(&text)).unwrap()))
    });
}

criterion_group!(mapping, benches);
criterion_main!(mapping);
