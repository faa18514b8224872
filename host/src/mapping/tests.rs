//! Unit tests: every catalog key's value and format on the sample corpus, catalog
//! metadata, the exact error messages of spec §4.2, legacy name splitting (§7.6),
//! mapping conversion and validation.

use abi_stable::std_types::RString;
use datasync_plugin_api::{
    ErrorKind, Mapping, Mode, PretixModel, PropertyMapping, SyncError, Value, ValueMapEntry,
};
use serde_json::{json, Value as Json};

use super::conformance_tests::{corpus, Corpus};
use super::*;
use crate::config::Config;
use crate::model::{parse_import, ImportDocument, QuestionType};

/// The raw getter value (no value map, lists kept) of `key` for an order or position.
fn value(c: &Corpus, order: &str, position_id: Option<i64>, key: &str) -> Json {
    let order = c.doc.order(order).expect("order in corpus");
    let inputs = match position_id {
        Some(id) => Inputs::position(
            &c.doc.event,
            order,
            order.position_by_id(id).expect("position in order"),
        ),
        None => Inputs::order(&c.doc.event, order),
    };
    get_field_value(&c.catalog, &inputs, key, &[], None, "Test")
        .unwrap_or_else(|e| panic!("{key}: {e}"))
        .to_json()
}

fn assert_values(c: &Corpus, cases: &[(&str, Option<i64>, &str, Json)]) {
    let mut failures = Vec::new();
    for (order, pos, key, expected) in cases {
        let got = value(c, order, *pos, key);
        if &got != expected {
            failures.push(format!(
                "{order} {pos:?} {key}: got {got}, expected {expected}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn attendee_fields_fall_back_to_the_parent_position_for_add_ons() {
    let c = corpus();
    assert_values(
        &c,
        &[
            ("AAAAA", Some(1), "attendee_name", json!("Jürgen Anonymous")),
            ("AAAAA", Some(2), "attendee_name", json!("Jürgen Anonymous")),
            (
                "AAAAA",
                Some(2),
                "attendee_name_given_name",
                json!("Jürgen"),
            ),
            (
                "AAAAA",
                Some(2),
                "attendee_name_family_name",
                json!("Anonymous"),
            ),
            (
                "AAAAA",
                Some(2),
                "attendee_email",
                json!("att0a@example.org"),
            ),
            (
                "AAAAA",
                Some(2),
                "attendee_or_order_email",
                json!("att0a@example.org"),
            ),
            (
                "AAAAA",
                Some(2),
                "attendee_company",
                json!("Bäckerei Müller & Söhne KG"),
            ),
            ("AAAAA", Some(2), "attendee_street", json!("Hauptstraße 1")),
            ("AAAAA", Some(2), "attendee_zipcode", json!("10115")),
            ("AAAAA", Some(2), "attendee_city", json!("Berlin")),
            // An add-on with its own name parts keeps them (no per-part fallback).
            ("AAAAK", Some(21), "attendee_name", json!("Niamh")),
            (
                "AAAAK",
                Some(21),
                "attendee_name_given_name",
                json!("Niamh"),
            ),
            ("AAAAK", Some(21), "attendee_name_family_name", json!("")),
            (
                "AAAAK",
                Some(21),
                "attendee_email",
                json!("att9a@example.org"),
            ),
        ],
    );
}

#[test]
fn attendee_fields_without_data_are_none_or_empty() {
    let c = corpus();
    assert_values(
        &c,
        &[
            ("AAAAF", Some(11), "attendee_name", Json::Null),
            ("AAAAF", Some(11), "attendee_name_given_name", json!("")),
            ("AAAAF", Some(11), "attendee_email", Json::Null),
            ("AAAAF", Some(11), "attendee_or_order_email", Json::Null),
            ("AAAAF", Some(11), "attendee_company", Json::Null),
            ("AAAAF", Some(11), "attendee_country", json!("")),
            ("AAAAC", Some(5), "attendee_name_family_name", json!("")),
            ("AAAAE", Some(9), "attendee_name", json!("van der Berg")),
            ("AAAAE", Some(9), "attendee_name_given_name", json!("")),
            // No attendee e-mail: the order's, IDNA-normalized.
            (
                "AAAAC",
                Some(5),
                "attendee_or_order_email",
                json!("käufer2@xn--bcher-kva.example"),
            ),
        ],
    );
}

#[test]
fn attendee_country_of_an_add_on_is_the_parents_country_not_its_name() {
    // spec §8.1 #11: pretix returns str(parent.attendee_name); intended is the country.
    let c = corpus();
    assert_values(
        &c,
        &[
            ("AAAAA", Some(1), "attendee_country", json!("AT")),
            ("AAAAA", Some(2), "attendee_country", json!("AT")),
            ("AAAAD", Some(7), "attendee_country", json!("")),
            ("AAAAH", Some(15), "attendee_country", json!("AT")),
            ("AAAAK", Some(21), "attendee_country", json!("AT")),
            ("AAAAB", Some(3), "attendee_country", json!("")),
        ],
    );
}

#[test]
fn invoice_address_fields_read_the_address_or_empty_strings() {
    let c = corpus();
    assert_values(
        &c,
        &[
            ("AAAAA", None, "invoice_address_company", json!("ACME GmbH")),
            (
                "AAAAA",
                None,
                "invoice_address_name",
                json!("Ōtani O'Brien"),
            ),
            (
                "AAAAA",
                None,
                "invoice_address_name_given_name",
                json!("Ōtani"),
            ),
            (
                "AAAAA",
                None,
                "invoice_address_name_family_name",
                json!("O'Brien"),
            ),
            (
                "AAAAA",
                None,
                "invoice_address_street",
                json!("Hauptstraße 1\n2. OG"),
            ),
            ("AAAAA", None, "invoice_address_zipcode", json!("10115")),
            ("AAAAA", None, "invoice_address_city", json!("Berlin")),
            ("AAAAA", None, "invoice_address_country", json!("DE")),
            // Business address without a name; address without a country.
            ("AAAAF", None, "invoice_address_name", json!("")),
            ("AAAAF", None, "invoice_address_name_given_name", json!("")),
            ("AAAAH", None, "invoice_address_country", json!("")),
            ("AAAAH", None, "invoice_address_name_family_name", json!("")),
            // No invoice address at all: an empty address.
            ("AAAAD", None, "invoice_address_company", json!("")),
            ("AAAAD", None, "invoice_address_name", json!("")),
            ("AAAAD", None, "invoice_address_name_given_name", json!("")),
            ("AAAAD", None, "invoice_address_country", json!("")),
            ("AAAAD", None, "invoice_address_city", json!("")),
        ],
    );
}

#[test]
fn order_email_and_domain_are_idna_normalized_like_python() {
    let c = corpus();
    assert_values(
        &c,
        &[
            ("AAAAA", None, "email", json!("buyer0@example.com")),
            ("AAAAA", None, "email_domain", json!("example.com")),
            (
                "AAAAC",
                None,
                "email",
                json!("käufer2@xn--bcher-kva.example"),
            ),
            (
                "AAAAC",
                None,
                "email_domain",
                json!("xn--bcher-kva.example"),
            ),
            // Only the non-ASCII label changes; ASCII case is kept.
            (
                "AAAAH",
                None,
                "email",
                json!("Kaeufer7@xn--bcher-kva.Example"),
            ),
            (
                "AAAAH",
                None,
                "email_domain",
                json!("xn--bcher-kva.Example"),
            ),
            (
                "AAAAG",
                None,
                "email",
                json!("rainbow6@xn--og8h.example.org"),
            ),
            // A non-ASCII local part stays unchanged.
            ("AAAAK", None, "email", json!("jörg.müller9@example.net")),
            ("AAAAF", None, "email", Json::Null),
            ("AAAAF", None, "email_domain", Json::Null),
        ],
    );
}

#[test]
fn order_fields_have_pretix_formats() {
    let c = corpus();
    assert_values(
        &c,
        &[
            ("AAAAA", None, "order_code", json!("AAAAA")),
            ("AAAAA", None, "event_order_code", json!("CONF26-AAAAA")),
            ("AAAAA", None, "order_total", json!("145.50")),
            ("AAAAL", None, "order_total", json!("79.50")),
            ("AAAAA", None, "order_status", json!(["p"])),
            ("AAAAC", None, "order_status", json!(["n"])),
            ("AAAAB", None, "order_locale", json!(["de"])),
            ("AAAAA", None, "order_date", json!("2026-05-01T09:00:00+00:00")),
            ("AAAAB", None, "order_date", json!("2026-05-01T09:37:00.001234+00:00")),
            (
                "AAAAA",
                None,
                "presale_order_url",
                json!("http://localhost:8000/oracleorg/conf26/order/AAAAA/s0000000000000000000000000000000/"),
            ),
        ],
    );
}

#[test]
fn payment_date_is_the_latest_of_all_payments_unless_pending() {
    let c = corpus();
    assert_values(
        &c,
        &[
            (
                "AAAAA",
                None,
                "payment_date",
                json!("2026-05-01T11:00:00+00:00"),
            ),
            // The later payment failed; pretix still takes it.
            (
                "AAAAB",
                None,
                "payment_date",
                json!("2026-05-02T11:37:01.002011+00:00"),
            ),
            // Pending orders have none, even with a created payment.
            ("AAAAC", None, "payment_date", Json::Null),
            // Canceled order with a refunded payment.
            (
                "AAAAE",
                None,
                "payment_date",
                json!("2026-05-01T13:28:04.004936+00:00"),
            ),
            // Expired, no payments.
            ("AAAAD", None, "payment_date", Json::Null),
        ],
    );
}

#[test]
fn product_and_position_fields_have_pretix_formats() {
    let c = corpus();
    assert_values(
        &c,
        &[
            ("AAAAA", Some(1), "product", json!("Conference Ticket")),
            ("AAAAA", Some(2), "product", json!("WS-internal")),
            ("AAAAB", Some(4), "product", json!("Day Pass – Friday")),
            ("AAAAD", Some(7), "product", json!("Speakers' Dinner")),
            ("AAAAB", Some(4), "product_id", json!("2")),
            ("AAAAA", Some(1), "product_is_admission", json!(true)),
            ("AAAAA", Some(2), "product_is_admission", json!(false)),
            ("AAAAA", Some(1), "voucher_code", json!("EARLYBIRD")),
            ("AAAAA", Some(2), "voucher_code", json!("")),
            ("AAAAG", Some(13), "voucher_code", json!("SPEAKER-2026")),
            ("AAAAB", Some(4), "ticket_id", json!("AAAAB-2")),
            ("AAAAA", Some(1), "ticket_price", json!("119.00")),
            ("AAAAG", Some(13), "ticket_price", json!("0.00")),
            ("AAAAB", Some(4), "position_id", json!("4")),
            ("AAAAA", Some(1), "ticket_status", json!(["p"])),
            // A canceled position in a paid order.
            ("AAAAG", Some(13), "ticket_status", json!(["c"])),
            ("AAAAE", Some(8), "ticket_status", json!(["c"])),
            (
                "AAAAA",
                Some(1),
                "presale_ticket_url",
                json!("http://localhost:8000/oracleorg/conf26/ticket/AAAAA/1/w00000000p1000000000000000000000/"),
            ),
        ],
    );
}

#[test]
fn event_fields_read_the_positions_date_or_the_event() {
    let c = corpus();
    assert_values(
        &c,
        &[
            ("AAAAA", None, "event_slug", json!("conf26")),
            ("AAAAA", None, "event_name", json!("Oracle Conference 2026")),
            (
                "AAAAA",
                Some(1),
                "event_date_from",
                json!("2026-09-15T07:00:00+00:00"),
            ),
            (
                "AAAAA",
                Some(1),
                "event_date_to",
                json!("2026-09-15T16:00:00+00:00"),
            ),
            // A date with microseconds and no end.
            (
                "AAAAB",
                Some(4),
                "event_date_from",
                json!("2026-10-01T08:30:00.250000+00:00"),
            ),
            ("AAAAB", Some(4), "event_date_to", Json::Null),
            (
                "AAAAD",
                Some(6),
                "event_date_to",
                json!("2026-11-21T01:00:00+00:00"),
            ),
        ],
    );
}

#[test]
fn checkin_date_is_the_first_entry_scan_on_that_list() {
    // spec §8.1 #13: pretix returns the latest entry scan; intended is the first.
    let c = corpus();
    assert_values(
        &c,
        &[
            // Entries 07:05 and 13:30:15.5 (and an exit at 12:00) on list 1.
            (
                "AAAAA",
                Some(1),
                "checkin_date_1",
                json!("2026-09-15T07:05:00+00:00"),
            ),
            (
                "AAAAA",
                Some(1),
                "checkin_date_2",
                json!("2026-09-15T19:45:00.000120+00:00"),
            ),
            (
                "AAAAA",
                Some(2),
                "checkin_date_1",
                json!("2026-09-15T07:06:00+00:00"),
            ),
            ("AAAAA", Some(2), "checkin_date_2", Json::Null),
            (
                "AAAAF",
                Some(10),
                "checkin_date_1",
                json!("2026-09-15T07:00:00+00:00"),
            ),
            ("AAAAB", Some(3), "checkin_date_1", Json::Null),
        ],
    );
}

#[test]
fn question_answers_have_the_type_of_their_question() {
    let c = corpus();
    assert_values(
        &c,
        &[
            ("AAAAA", Some(1), "question_FAV_COLOR", json!("Blue")),
            (
                "AAAAA",
                Some(1),
                "question_BIO",
                json!("Line one\nLine two"),
            ),
            ("AAAAA", Some(1), "question_AGE", json!("42")),
            ("AAAAA", Some(1), "question_NEWSLETTER", json!(false)),
            ("AAAAF", Some(10), "question_NEWSLETTER", json!(true)),
            ("AAAAA", Some(1), "question_FOOD", json!(["F1"])),
            (
                "AAAAA",
                Some(1),
                "question_TOPICS",
                json!(["T1", "T3", "T4"]),
            ),
            ("AAAAA", Some(1), "question_ARRIVAL", json!("2026-02-28")),
            ("AAAAA", Some(1), "question_ARRIVAL_TIME", json!("23:59:59")),
            (
                "AAAAA",
                Some(1),
                "question_DEPARTURE",
                json!("2026-10-02T06:15:30+00:00"),
            ),
            ("AAAAA", Some(1), "question_COUNTRY", json!("AT")),
            ("AAAAA", Some(1), "question_PHONE", json!("+4930123456")),
            // Unanswered: "" for every type, booleans and choices included.
            ("AAAAB", Some(3), "question_NEWSLETTER", json!("")),
            ("AAAAB", Some(3), "question_FOOD", json!("")),
            ("AAAAB", Some(3), "question_AGE", json!("")),
            // Add-ons fall back to the parent's answers, per question.
            (
                "AAAAA",
                Some(2),
                "question_TOPICS",
                json!(["T1", "T3", "T4"]),
            ),
            ("AAAAA", Some(2), "question_PHONE", json!("+4930123456")),
            ("AAAAK", Some(21), "question_TOPICS", json!(["T2", "T4"])),
            ("AAAAK", Some(21), "question_FOOD", json!(["F1"])),
        ],
    );
}

#[test]
fn catalog_metadata_matches_pretix() {
    let c = corpus();
    let f = |key: &str| {
        c.catalog
            .get(key)
            .unwrap_or_else(|| panic!("{key} in catalog"))
    };
    let status = f("order_status");
    assert_eq!(status.label, "Order status");
    assert_eq!(status.field_type, QuestionType::Choice);
    assert_eq!(status.category, Category::Order);
    assert_eq!(status.required_input, Input::Order);
    let opts: Vec<(&str, &str)> = status
        .enum_options
        .iter()
        .flatten()
        .map(|o| (o.value.as_str(), o.label.as_str()))
        .collect();
    assert_eq!(
        opts,
        [
            ("n", "pending"),
            ("p", "paid"),
            ("e", "expired"),
            ("c", "canceled")
        ]
    );
    let locale = f("order_locale");
    assert_eq!(
        locale
            .enum_options
            .iter()
            .flatten()
            .map(|o| o.value.as_str())
            .collect::<Vec<_>>(),
        ["en", "de"]
    );
    let food = f("question_FOOD");
    assert_eq!(food.label, "Question: Food preference");
    assert_eq!(food.category, Category::Questions);
    assert_eq!(
        food.enum_options
            .iter()
            .flatten()
            .map(|o| (o.value.as_str(), o.label.as_str()))
            .collect::<Vec<_>>(),
        [("F1", "vegetarian"), ("F2", "vegan"), ("F3", "omnivore")]
    );
    assert_eq!(
        f("question_TOPICS").field_type,
        QuestionType::ChoiceMultiple
    );
    assert_eq!(f("question_FAV_COLOR").enum_options, None);
    assert_eq!(f("question_PHONE").field_type, QuestionType::PhoneNumber);
    assert!(
        c.catalog.get("question_CV").is_none(),
        "file questions are not fields"
    );
    let checkin = f("checkin_date_2");
    assert_eq!(checkin.label, "Check-in datetime on list VIP Lounge");
    assert_eq!(checkin.field_type, QuestionType::DateTime);
    assert_eq!(checkin.category, Category::OrderPosition);
    assert_eq!(checkin.required_input, Input::Position);
    let given = f("attendee_name_given_name");
    assert_eq!(given.label, "Attendee: Given name");
    assert!(!given.deprecated);
    assert_eq!(
        f("invoice_address_name_family_name").label,
        "Invoice address: Family name"
    );
    assert_eq!(f("event_date_from").required_input, Input::EventOrSubevent);
    assert_eq!(f("event_date_from").category, Category::EventOrSubevent);
    assert_eq!(f("event_name").required_input, Input::Event);
    assert_eq!(f("product_is_admission").field_type, QuestionType::Boolean);
    assert_eq!(f("order_total").field_type, QuestionType::Number);
    assert_eq!(f("attendee_country").field_type, QuestionType::CountryCode);
    assert_eq!(f("presale_ticket_url").label, "Ticket link");
}

#[test]
fn catalog_groups_fields_by_category_sort_index_and_filters_by_model() {
    let c = corpus();
    let groups = c.catalog.by_category();
    let order: Vec<u32> = groups.iter().map(|(cat, _)| cat.sort_index()).collect();
    assert_eq!(order, [10, 11, 12, 20, 21, 22, 30, 31]);
    let (cat, questions) = groups.get(2).expect("questions group");
    assert_eq!(cat.label(), "Questions");
    assert_eq!(questions.len(), 11);
    let order_fields: Vec<&str> = c
        .catalog
        .fields_for_model(PretixModel::Order)
        .map(|f| f.key.as_str())
        .collect();
    assert!(order_fields.contains(&"email") && order_fields.contains(&"event_name"));
    assert!(!order_fields.contains(&"ticket_id") && !order_fields.contains(&"event_date_from"));
    assert_eq!(
        c.catalog
            .fields_for_model(PretixModel::OrderPosition)
            .count(),
        c.catalog.fields().len()
    );
}

#[test]
fn nearest_key_suggests_a_valid_key_for_a_typo() {
    let c = corpus();
    assert_eq!(
        c.catalog.nearest_key("atendee_email"),
        Some("attendee_email")
    );
    assert_eq!(
        c.catalog.nearest_key("question_food"),
        Some("question_FOOD")
    );
    assert_eq!(
        c.catalog.nearest_key("checkin_date_3"),
        Some("checkin_date_1")
    );
    assert_eq!(c.catalog.nearest_key("zzzzzzzzzzzzzzzz"), None);
}

// --- §4.2 errors and list handling -------------------------------------------------

fn order_inputs<'c>(c: &'c Corpus, code: &str) -> Inputs<'c> {
    Inputs::order(&c.doc.event, c.doc.order(code).expect("order"))
}

fn vm(pairs: &[(&str, &str)]) -> Vec<ValueMapEntry> {
    pairs
        .iter()
        .map(|(o, v)| ValueMapEntry {
            option: RString::from(*o),
            value: RString::from(*v),
        })
        .collect()
}

fn config_error(err: SyncError) -> String {
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    err.message()
}

#[test]
fn unknown_field_is_a_config_error_naming_the_provider() {
    let c = corpus();
    let err = get_field_value(
        &c.catalog,
        &order_inputs(&c, "AAAAA"),
        "nope",
        &[],
        Some(","),
        "My CRM",
    )
    .expect_err("unknown field");
    assert_eq!(
        config_error(err),
        "Field \"nope\" does not exist. Please check your My CRM settings."
    );
}

#[test]
fn position_field_in_order_inputs_is_a_config_error_listing_the_inputs() {
    let c = corpus();
    let err = get_field_value(
        &c.catalog,
        &order_inputs(&c, "AAAAA"),
        "ticket_id",
        &[],
        Some(","),
        "My CRM",
    )
    .expect_err("position field");
    assert_eq!(
        config_error(err),
        "Field \"ticket_id\" requires position, but only got order, event. Please check your My CRM settings."
    );
    let err = get_field_value(
        &c.catalog,
        &order_inputs(&c, "AAAAA"),
        "event_date_from",
        &[],
        Some(","),
        "X",
    )
    .expect_err("event_or_subevent field");
    assert_eq!(
        config_error(err),
        "Field \"event_date_from\" requires event_or_subevent, but only got order, event. Please check your X settings."
    );
}

#[test]
fn unmapped_option_is_a_config_error_showing_the_whole_list() {
    let c = corpus();
    let order = c.doc.order("AAAAA").expect("order");
    let inputs = Inputs::position(&c.doc.event, order, order.position_by_id(1).expect("pos"));
    let err = get_field_value(
        &c.catalog,
        &inputs,
        "question_TOPICS",
        &vm(&[("T1", "rust"), ("T3", "db")]),
        Some(","),
        "X",
    )
    .expect_err("T4 unmapped");
    assert_eq!(
        config_error(err),
        "Please update value mapping for field \"question_TOPICS\" - option \"['T1', 'T3', 'T4']\" not assigned"
    );
    let err = get_field_value(
        &c.catalog,
        &order_inputs(&c, "AAAAA"),
        "order_status",
        &vm(&[("n", "pending")]),
        None,
        "X",
    )
    .expect_err("p unmapped");
    assert_eq!(
        config_error(err),
        "Please update value mapping for field \"order_status\" - option \"['p']\" not assigned"
    );
}

#[test]
fn list_values_are_mapped_then_joined_or_kept_as_lists() {
    let c = corpus();
    let order = c.doc.order("AAAAA").expect("order");
    let inputs = Inputs::position(&c.doc.event, order, order.position_by_id(1).expect("pos"));
    let map = vm(&[
        ("T1", "rust"),
        ("T2", "python"),
        ("T3", "db"),
        ("T4", "ops"),
    ]);
    let get = |map: &[ValueMapEntry], joiner: Option<&str>| {
        get_field_value(&c.catalog, &inputs, "question_TOPICS", map, joiner, "X").expect("value")
    };
    assert_eq!(get(&map, Some(",")), Value::str("rust,db,ops"));
    assert_eq!(get(&map, Some(";")), Value::str("rust;db;ops"));
    assert_eq!(get(&map, None), Value::list(["rust", "db", "ops"]));
    assert_eq!(get(&[], Some(",")), Value::str("T1,T3,T4"));
    // An empty joiner is falsy in Python: the list is kept.
    assert_eq!(get(&[], Some("")), Value::list(["T1", "T3", "T4"]));
}

#[test]
fn value_maps_apply_only_to_enum_fields_and_not_to_empty_answers() {
    let c = corpus();
    let order = c.doc.order("AAAAB").expect("order");
    let unanswered = Inputs::position(&c.doc.event, order, order.position_by_id(3).expect("pos"));
    let answered = Inputs::position(&c.doc.event, order, order.position_by_id(4).expect("pos"));
    // Unanswered choice question: "" — neither value map nor joiner applies.
    let v = get_field_value(
        &c.catalog,
        &unanswered,
        "question_FOOD",
        &vm(&[("F1", "X")]),
        Some(","),
        "X",
    );
    assert_eq!(v, Ok(Value::str("")));
    // A value map on a text field is ignored, as in pretix.
    let v = get_field_value(
        &c.catalog,
        &answered,
        "question_FAV_COLOR",
        &vm(&[("a", "b")]),
        Some(","),
        "X",
    );
    assert_eq!(v, Ok(Value::str("\"quoted\" & <b>tag</b>")));
    // Booleans pass through untouched.
    let v = get_field_value(
        &c.catalog,
        &answered,
        "question_NEWSLETTER",
        &[],
        Some(","),
        "X",
    );
    assert_eq!(v, Ok(Value::Bool(false)));
}

fn mapping(id: i64, model: PretixModel, id_field: &str, props: &[(&str, &str)]) -> Mapping {
    Mapping {
        id,
        pretix_model: model,
        external_object_type: RString::from("thing"),
        pretix_id_field: RString::from(id_field),
        external_id_field: RString::from("key"),
        property_mappings: props
            .iter()
            .map(|(field, ext)| PropertyMapping {
                pretix_field: RString::from(*field),
                external_field: RString::from(*ext),
                value_map: Default::default(),
                mode: Mode::Overwrite,
            })
            .collect(),
        extra_json: RString::from("{}"),
    }
}

#[test]
fn plan_evaluates_properties_before_the_id_field() {
    let c = corpus();
    let order = c.doc.order("AAAAF").expect("order");
    // Both the property and the id field are wrong: the property error wins.
    let m = [mapping(
        9,
        PretixModel::Order,
        "ticket_id",
        &[("nope", "x")],
    )];
    let err = plan_order(&c.catalog, &c.doc.event, order, &m, Some(","), "P").expect_err("fails");
    assert_eq!(
        config_error(err),
        "Field \"nope\" does not exist. Please check your P settings."
    );
    let m = [mapping(
        9,
        PretixModel::Order,
        "ticket_id",
        &[("email", "x")],
    )];
    let err = plan_order(&c.catalog, &c.doc.event, order, &m, Some(","), "P").expect_err("fails");
    assert_eq!(
        config_error(err),
        "Field \"ticket_id\" requires position, but only got order, event. Please check your P settings."
    );
}

#[test]
fn plan_reports_skipped_objects_and_keeps_call_order() {
    let c = corpus();
    let order = c.doc.order("AAAAF").expect("order");
    let m = [
        mapping(
            5,
            PretixModel::OrderPosition,
            "attendee_email",
            &[("ticket_id", "t")],
        ),
        mapping(6, PretixModel::Order, "email", &[("order_code", "c")]),
    ];
    let plan = plan_order(&c.catalog, &c.doc.event, order, &m, Some(","), "P").expect("plans");
    let summary: Vec<(i64, Option<i64>, bool)> = plan
        .iter()
        .map(|o| (o.mapping_id, o.position_id, o.skipped))
        .collect();
    assert_eq!(
        summary,
        [(5, Some(10), false), (5, Some(11), true), (6, None, true)]
    );
    let second = plan.get(1).expect("second object");
    assert_eq!(second.id_value, Value::Null);
    assert_eq!(second.position_index, Some(1));
    assert_eq!(
        second.properties.first().map(|p| &p.value),
        Some(&Value::str("AAAAF-2"))
    );
}

#[test]
fn malformed_email_is_an_internal_error_like_the_python_exception() {
    let text = include_str!("../../../tests/fixtures/pretix-sample/import.json")
        .replace("buyer0@example.com", "buyer0@@example.com");
    let doc = parse_import(&text).expect("parses");
    let cat = catalog(&doc.event);
    let order = doc.order("AAAAA").expect("order");
    let err = get_field_value(
        &cat,
        &Inputs::order(&doc.event, order),
        "email",
        &[],
        None,
        "X",
    )
    .expect_err("two @");
    assert_eq!(err.kind, ErrorKind::Internal);
    assert!(err.message().contains("too many values to unpack"), "{err}");
}

// --- §7.5 / §7.6 on pretix's own test fixture ---------------------------------------

/// pretix's test fixture (spec §7.1) as an import document.
fn pretix_fixture(name_scheme: &str, invoice_address_2eee: &str) -> ImportDocument {
    let text = format!(
        r##"{{
  "event": {{"slug": "dummy", "name": {{"en": "Dummy"}}, "date_from": "2025-01-01T10:00:00Z",
             "public_url": "https://pretix.example/dummy/dummy/"}},
  "settings": {{"name_scheme": "{name_scheme}", "locales": ["en"], "locale": "en"}},
  "items": [{{"id": 1, "name": {{"en": "Early-bird ticket"}}, "admission": true}}],
  "questions": [
    {{"id": 1, "identifier": "FAV_COLOR", "type": "S", "question": {{"en": "Whats's your favourite colour?"}}, "options": []}},
    {{"id": 2, "identifier": "FOOD_PREF", "type": "C", "question": {{"en": "Food preference"}},
      "options": [{{"id": 1, "identifier": "F1", "answer": {{"en": "vegetarian"}}}},
                  {{"id": 2, "identifier": "F2", "answer": {{"en": "vegan"}}}}]}}
  ],
  "orders": [
    {{"code": "1AAA", "status": "n", "email": "anonymous@🌈.example.org", "locale": "en", "total": "46", "secret": "sec1",
      "datetime": "2025-01-01T10:00:00Z", "invoice_address": null, "payments": [],
      "positions": [
        {{"id": 1, "positionid": 1, "item": 1, "price": "23", "attendee_name": "Alice Anonymous", "web_secret": "web1",
          "attendee_name_parts": {{"_scheme": "given_family", "given_name": "Alice", "family_name": "Anonymous"}},
          "answers": [{{"question": 1, "answer": "#3b1c4a"}},
                      {{"question": 2, "answer": "vegan", "options": [2]}}]}},
        {{"id": 2, "positionid": 2, "item": 1, "price": "23", "attendee_name": "Charlie de l'Exemple",
          "attendee_name_parts": {{"_scheme": "given_family", "given_name": "Charlie", "family_name": "de l'Exemple"}},
          "answers": [{{"question": 1, "answer": "Red"}},
                      {{"question": 2, "answer": "vegetarian", "options": [1]}}]}}
      ]}},
    {{"code": "2EEE", "status": "n", "email": "ephemeral@example.com", "locale": "en", "total": "23",
      "datetime": "2025-01-01T10:00:00Z", "invoice_address": {invoice_address_2eee}, "payments": [],
      "positions": [
        {{"id": 3, "positionid": 1, "item": 1, "price": "23", "attendee_name": "Eve Ephemeral",
          "attendee_name_parts": {{"_scheme": "given_family", "given_name": "Eve", "family_name": "Ephemeral"}},
          "answers": []}}
      ]}}
  ]
}}"##
    );
    parse_import(&text).expect("fixture parses")
}

/// The mappings of pretix's `OrderAndTicketAssociationSync` (spec §7.5).
const ASSOCIATION_MAPPINGS: &str = r#"
[[provider]]
identifier = "example2"
[[provider.mapping]]
id = 1
model = "OrderPosition"
external_object_type = "tickets"
pretix_id_field = "ticket_id"
external_id_field = "ticketnumber"
properties = [
  { pretix_field = "ticket_price", external_field = "amount" },
  { pretix_field = "attendee_name_given_name", external_field = "firstname" },
  { pretix_field = "attendee_name_family_name", external_field = "lastname" },
  { pretix_field = "order_status", external_field = "status", value_map = { n = "pending", p = "paid", e = "expired", c = "refunded" } },
  { pretix_field = "question_FAV_COLOR", external_field = "fav_color" },
  { pretix_field = "question_FOOD_PREF", external_field = "food", value_map = { F1 = "VEGETARIAN", F2 = "VEGAN" } },
]
[[provider.mapping]]
id = 2
model = "Order"
external_object_type = "ticketorders"
pretix_id_field = "event_order_code"
external_id_field = "ordernumber"
properties = [
  { pretix_field = "email", external_field = "orderemail" },
  { pretix_field = "invoice_address_name_given_name", external_field = "firstname" },
  { pretix_field = "invoice_address_name_family_name", external_field = "lastname" },
  { pretix_field = "order_status", external_field = "status", value_map = { n = "pending", p = "paid", e = "expired", c = "refunded" } },
]
extra = { associations = [{ via_mapping_id = 1 }] }
"#;

/// Every object's `(id_value, {external_field: value})`, in call order.
fn records(doc: &ImportDocument) -> Vec<(String, Json)> {
    let config = Config::parse(ASSOCIATION_MAPPINGS, std::path::Path::new("t.toml")).expect("toml");
    let provider = config.providers.first().expect("provider");
    let mappings = mappings_from_config(&provider.mappings).expect("mappings");
    let cat = catalog(&doc.event);
    assert!(validate(provider, &cat, "dummy")
        .iter()
        .all(|d| d.severity == Severity::Warning));
    let mut out = Vec::new();
    for order in &doc.orders {
        for o in
            plan_order(&cat, &doc.event, order, &mappings, Some(","), "Example").expect("plans")
        {
            let props: serde_json::Map<String, Json> = o
                .properties
                .iter()
                .map(|p| (p.external_field.to_string(), p.value.to_json()))
                .collect();
            out.push((o.id_value.to_string(), Json::Object(props)));
        }
    }
    out
}

#[test]
fn association_sync_properties_match_pretix_test() {
    let doc = pretix_fixture("given_family", "null");
    let got = records(&doc);
    let expected = [
        (
            "1AAA-1",
            json!({"amount": "23.00", "firstname": "Alice", "lastname": "Anonymous", "status": "pending", "fav_color": "#3b1c4a", "food": "VEGAN"}),
        ),
        (
            "1AAA-2",
            json!({"amount": "23.00", "firstname": "Charlie", "lastname": "de l'Exemple", "status": "pending", "fav_color": "Red", "food": "VEGETARIAN"}),
        ),
        (
            "DUMMY-1AAA",
            json!({"orderemail": "anonymous@xn--og8h.example.org", "firstname": "", "lastname": "", "status": "pending"}),
        ),
        (
            "2EEE-1",
            json!({"amount": "23.00", "firstname": "Eve", "lastname": "Ephemeral", "status": "pending", "fav_color": "", "food": ""}),
        ),
        (
            "DUMMY-2EEE",
            json!({"orderemail": "ephemeral@example.com", "firstname": "", "lastname": "", "status": "pending"}),
        ),
    ];
    let expected: Vec<(String, Json)> = expected
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn without_series_date_or_order_url_the_event_data_is_used() {
    let doc = pretix_fixture("given_family", "null");
    let cat = catalog(&doc.event);
    let order = doc.order("1AAA").expect("order");
    let first = order.positions.first().expect("position");
    let get = |inputs: &Inputs<'_>, key: &str| {
        get_field_value(&cat, inputs, key, &[], None, "X")
            .expect(key)
            .to_json()
    };
    let pos = Inputs::position(&doc.event, order, first);
    assert_eq!(
        get(&pos, "event_date_from"),
        json!("2025-01-01T10:00:00+00:00")
    );
    assert_eq!(get(&pos, "event_date_to"), Json::Null);
    assert_eq!(
        get(&pos, "presale_ticket_url"),
        json!("https://pretix.example/dummy/dummy/ticket/1AAA/1/web1/")
    );
    assert_eq!(
        get(&Inputs::order(&doc.event, order), "presale_order_url"),
        json!("https://pretix.example/dummy/dummy/order/1AAA/sec1/")
    );
    // No web secret: no ticket link.
    let second = order.positions.get(1).expect("position");
    assert_eq!(
        get(
            &Inputs::position(&doc.event, order, second),
            "presale_ticket_url"
        ),
        Json::Null
    );
    assert_eq!(get(&pos, "order_total"), json!("46.00"));
    assert_eq!(get(&pos, "question_FOOD_PREF"), json!(["F2"]));
}

#[test]
fn legacy_name_splitting_applies_when_the_scheme_has_no_given_or_family_part() {
    // spec §7.6: scheme switched to `full`, 2EEE gets an invoice address "A B C D".
    let doc = pretix_fixture(
        "full",
        r#"{"name": "A B C D", "name_parts": {"_scheme": "full", "full_name": "A B C D"}}"#,
    );
    let cat = catalog(&doc.event);
    let legacy = cat
        .get("attendee_name_given_name")
        .expect("legacy field exists");
    assert!(legacy.deprecated);
    assert_eq!(
        legacy.label,
        "Attendee: Given name (⚠️ auto-generated, not recommended)"
    );
    assert!(cat
        .get("attendee_name_full_name")
        .is_some_and(|f| f.deprecated));
    let got = records(&doc);
    let names: Vec<(&str, &Json, &Json)> = got
        .iter()
        .map(|(id, p)| (id.as_str(), &p["firstname"], &p["lastname"]))
        .collect();
    assert_eq!(
        names,
        [
            ("1AAA-1", &json!("Alice"), &json!("Anonymous")),
            // Split at the last space: "incorrect, hence legacy".
            ("1AAA-2", &json!("Charlie de"), &json!("l'Exemple")),
            ("DUMMY-1AAA", &json!(""), &json!("")),
            ("2EEE-1", &json!("Eve"), &json!("Ephemeral")),
            ("DUMMY-2EEE", &json!("A B C"), &json!("D")),
        ]
    );
}

#[test]
fn legacy_split_of_a_position_without_name_is_empty_instead_of_crashing() {
    let doc = pretix_fixture("full", "null");
    let cat = catalog(&doc.event);
    let order = doc.order("2EEE").expect("order");
    let mut order = order.clone();
    if let Some(p) = order.positions.first_mut() {
        p.attendee_name = None;
    }
    let pos = order.positions.first().expect("position");
    let inputs = Inputs::position(&doc.event, &order, pos);
    for key in ["attendee_name_given_name", "attendee_name_family_name"] {
        assert_eq!(
            get_field_value(&cat, &inputs, key, &[], None, "X"),
            Ok(Value::str("")),
            "{key}"
        );
    }
}

#[test]
fn single_part_scheme_fields_are_deprecated_and_multi_part_ones_are_not() {
    let full = pretix_fixture("full", "null");
    let cat = catalog(&full.event);
    let keys: Vec<&str> = cat.keys().collect();
    assert!(
        keys.contains(&"attendee_name_full_name")
            && keys.contains(&"invoice_address_name_full_name")
    );
    assert_eq!(
        keys.iter().rev().take(4).rev().copied().collect::<Vec<_>>(),
        [
            "attendee_name_given_name",
            "invoice_address_name_given_name",
            "attendee_name_family_name",
            "invoice_address_name_family_name"
        ]
    );
    let title = pretix_fixture("salutation_title_given_family", "null");
    let cat = catalog(&title.event);
    for key in [
        "attendee_name_salutation",
        "attendee_name_title",
        "invoice_address_name_given_name",
    ] {
        assert!(cat.get(key).is_some_and(|f| !f.deprecated), "{key}");
    }
}

#[test]
fn unknown_name_scheme_offers_only_legacy_names_and_warns() {
    let doc = pretix_fixture("martian", "null");
    let cat = catalog(&doc.event);
    assert!(!cat.name_scheme_known());
    assert!(cat
        .get("attendee_name_given_name")
        .is_some_and(|f| f.deprecated));
    let config = Config::parse(ASSOCIATION_MAPPINGS, std::path::Path::new("t.toml")).expect("toml");
    let provider = config.providers.first().expect("provider");
    let diags = validate(provider, &cat, "dummy");
    assert!(
        diags
            .iter()
            .any(|d| d.severity == Severity::Warning && d.message.contains("martian")),
        "{diags:#?}"
    );
}

// --- config conversion and validation ----------------------------------------------

fn provider_from(toml_text: &str) -> crate::config::ProviderConfig {
    Config::parse(toml_text, std::path::Path::new("t.toml"))
        .expect("toml")
        .providers
        .into_iter()
        .next()
        .expect("provider")
}

#[test]
fn mapping_from_config_converts_modes_models_value_maps_and_extras() {
    let provider = provider_from(ASSOCIATION_MAPPINGS);
    let m = mapping_from_config(provider.mappings.get(1).expect("mapping 2")).expect("converts");
    assert_eq!(m.id, 2);
    assert_eq!(m.pretix_model, PretixModel::Order);
    assert_eq!(m.pretix_id_field.as_str(), "event_order_code");
    assert_eq!(m.property_mappings.len(), 4);
    let status = m.property_mappings.get(3).expect("status");
    assert_eq!(status.mode, Mode::Overwrite);
    assert_eq!(status.value_map.len(), 4);
    assert!(status
        .value_map
        .iter()
        .any(|e| e.option.as_str() == "c" && e.value.as_str() == "refunded"));
    let extra: Json = serde_json::from_str(&m.extra_json).expect("extra json");
    assert_eq!(extra, json!({"associations": [{"via_mapping_id": 1}]}));
}

const BAD: &str = r#"
[[provider]]
identifier = "crm"
[[provider.mapping]]
id = 1
model = "Orders"
external_object_type = "x"
pretix_id_field = "emial"
external_id_field = "k"
[[provider.mapping]]
id = 1
model = "Order"
external_object_type = "x"
pretix_id_field = "email"
external_id_field = "k"
properties = [
  { pretix_field = "ticket_id", external_field = "a" },
  { pretix_field = "email", external_field = "b", mode = "replace" },
  { pretix_field = "order_total", external_field = "c", value_map = { x = "y" } },
  { pretix_field = "order_status", external_field = "d", value_map = { n = "pending", p = "paid", r = "refunded" } },
  { pretix_field = "order_locale", external_field = "e", value_map = { en = 1 } },
]
"#;

#[test]
fn mapping_from_config_rejects_unknown_model_mode_and_non_string_value_maps() {
    let provider = provider_from(BAD);
    let first = provider.mappings.first().expect("first");
    assert_eq!(
        mapping_from_config(first).map_err(|e| e.to_string()),
        Err(
            "mapping 1: Invalid pretix model 'Orders'; use \"Order\" or \"OrderPosition\""
                .to_string()
        )
    );
    let second = provider.mappings.get(1).expect("second");
    assert_eq!(
        mapping_from_config(second).map_err(|e| e.to_string()),
        Err("mapping 1, property 1 (email): Invalid update mode replace; use \"overwrite\", \"if_new\", \"if_empty\" or \"append\"".to_string())
    );
}

#[test]
fn validate_reports_every_problem_with_provider_mapping_property_and_field() {
    let c = corpus();
    let provider = provider_from(BAD);
    let diags = validate(&provider, &c.catalog, "conf26");
    let lines: Vec<String> = diags.iter().map(ToString::to_string).collect();
    let expected = [
        "error: provider crm, event conf26, mapping 1: Invalid pretix model 'Orders'; use \"Order\" or \"OrderPosition\"",
        "error: provider crm, event conf26, mapping 1, pretix_id_field (emial): field \"emial\" does not exist for this event; did you mean \"email\"? (`datasync fields` lists every key)",
        "error: provider crm, event conf26, mapping 1: mapping id 1 is used more than once; give every mapping a unique id",
        "error: provider crm, event conf26, mapping 1, property 0 (ticket_id): field \"ticket_id\" needs the position input, which a Order mapping does not have; use it in an OrderPosition mapping or pick an order-level field",
        "error: provider crm, event conf26, mapping 1, property 1 (email): Invalid update mode replace; use \"overwrite\", \"if_new\", \"if_empty\" or \"append\"",
        "error: provider crm, event conf26, mapping 1, property 2 (order_total): field \"order_total\" has no options, so its value_map would be ignored; remove the value_map or map an enum field (status, locale, choice question)",
        "warning: provider crm, event conf26, mapping 1, property 3 (order_status): value_map does not map option(s) \"e\", \"c\"; an order with such a value fails with a config error",
        "warning: provider crm, event conf26, mapping 1, property 3 (order_status): value_map names option(s) \"r\" that field \"order_status\" does not have (options: \"n\", \"p\", \"e\", \"c\")",
        "error: provider crm, event conf26, mapping 1, property 4 (order_locale): value_map.en must be a string",
        "warning: provider crm, event conf26, mapping 1, property 4 (order_locale): value_map does not map option(s) \"de\"; an order with such a value fails with a config error",
    ];
    assert_eq!(lines, expected);
    let d = diags.get(3).expect("fourth");
    assert_eq!(
        (
            d.severity,
            d.mapping_id,
            d.property_index,
            d.field.as_deref()
        ),
        (Severity::Error, Some(1), Some(0), Some("ticket_id"))
    );
}

#[test]
fn validate_uses_the_event_override_mappings() {
    let c = corpus();
    let provider = provider_from(
        r#"
[[provider]]
identifier = "crm"
[[provider.mapping]]
id = 1
model = "Order"
external_object_type = "x"
pretix_id_field = "email"
external_id_field = "k"
[provider.event.conf26]
mapping = [{ id = 2, model = "Order", external_object_type = "x", pretix_id_field = "nope", external_id_field = "k" }]
"#,
    );
    let diags = validate(&provider, &c.catalog, "conf26");
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags.first().and_then(|d| d.mapping_id), Some(2));
    assert!(validate(&provider, &c.catalog, "other").is_empty());
}
