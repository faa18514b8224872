use super::*;

fn corpus_text() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/pretix-sample/import.json"
    );
    std::fs::read_to_string(path).expect("corpus import.json is readable")
}

fn minimal(orders: &str) -> String {
    format!(
        r#"{{"event": {{"slug": "demo", "name": {{"en": "Demo"}}}},
            "items": [{{"id": 1, "name": "Ticket", "admission": true,
                        "variations": [{{"id": 3, "value": "Small"}}]}}],
            "orders": {orders}}}"#
    )
}

fn order_json(extra: &str) -> String {
    format!(
        r#"{{"code": "ABC12", "status": "n", "total": "10.00", "positions": [
            {{"id": 7, "positionid": 1, "item": 1, "price": "10.00"{extra}}}]}}"#
    )
}

#[test]
fn sample_corpus_parses_with_every_order_and_position() {
    let doc = parse_import(&corpus_text()).expect("corpus parses");
    assert_eq!(doc.event.event.slug, "conf26");
    assert_eq!(doc.event.settings.name_scheme, "given_family");
    assert_eq!(doc.event.settings.locales, ["en", "de"]);
    assert_eq!(doc.orders.len(), 12);
    assert_eq!(
        doc.orders.iter().map(|o| o.positions.len()).sum::<usize>(),
        23
    );
    assert_eq!(doc.event.questions.len(), 12);
    assert_eq!(doc.event.checkin_lists.len(), 2);
}

#[test]
fn add_on_positions_know_their_parent() {
    let doc = parse_import(&corpus_text()).expect("corpus parses");
    let order = doc.order("AAAAA").expect("AAAAA exists");
    let addon = order.positions.get(1).expect("second position");
    assert_eq!(addon.addon_to, Some(1));
    assert_eq!(order.parent_of(addon).map(|p| p.id), Some(1));
}

#[test]
fn bad_decimal_names_its_json_path() {
    let text = minimal(&format!("[{}, {}]", order_json(""), order_json(""))).replacen(
        r#""price": "10.00""#,
        r#""price": "ten""#,
        2,
    );
    let err = parse_import(&text).expect_err("bad price must fail");
    assert_eq!(
        err.to_string(),
        "orders[0].positions[0].price: expected a decimal string with at most two decimal places"
    );
    let text = minimal(&format!("[{}]", order_json("")))
        .replace(r#""price": "10.00""#, r#""price": true"#);
    let err = parse_import(&text).expect_err("must fail");
    assert_eq!(
        err.to_string(),
        "orders[0].positions[0].price: expected a decimal string, found a boolean"
    );
}

#[test]
fn wrong_type_names_path_and_found_type() {
    let text = minimal(&format!("[{}]", order_json(r#", "attendee_email": 5"#)));
    let err = parse_import(&text).expect_err("must fail");
    assert_eq!(
        err.to_string(),
        "orders[0].positions[0].attendee_email: expected a string, found a number"
    );
}

#[test]
fn missing_required_member_is_named() {
    let text = minimal(r#"[{"status": "n", "total": "1.00"}]"#);
    let err = parse_import(&text).expect_err("must fail");
    assert_eq!(err.to_string(), "orders[0].code: missing required value");
    let err = parse_import(r#"{"orders": []}"#).expect_err("must fail");
    assert_eq!(err.to_string(), "event: missing required value");
}

#[test]
fn paginated_results_pages_are_accepted_and_named_in_paths() {
    let text = minimal(&format!(
        r#"{{"count": 1, "results": [{}]}}"#,
        order_json("")
    ));
    let doc = parse_import(&text).expect("results page parses");
    assert_eq!(doc.orders.len(), 1);
    let text = text.replace(r#""total": "10.00""#, r#""total": "x""#);
    let err = parse_import(&text).expect_err("must fail");
    assert_eq!(err.path(), Some("orders.results[0].total"));
}

#[test]
fn invalid_json_reports_line_and_column() {
    let err = parse_import("{\n  \"event\": }").expect_err("must fail");
    assert!(matches!(err, ImportError::Syntax { line: 2, .. }), "{err}");
}

#[test]
fn bad_date_time_is_rejected_with_path() {
    let text = minimal(&format!("[{}]", order_json(""))).replace(
        r#""code": "ABC12""#,
        r#""code": "ABC12", "datetime": "2026-05-01 noon""#,
    );
    let err = parse_import(&text).expect_err("must fail");
    assert_eq!(err.path(), Some("orders[0].datetime"));
}

#[test]
fn absent_optional_members_and_lists_default_to_empty() {
    let doc = parse_import(&minimal(&format!("[{}]", order_json("")))).expect("parses");
    assert_eq!(doc.event.settings.name_scheme, "full");
    assert_eq!(doc.event.settings.locales, ["en"]);
    assert!(doc.event.questions.is_empty() && doc.event.vouchers.is_empty());
    let order = doc.orders.first().expect("one order");
    assert!(order.invoice_address.is_none());
    assert!(order.payments.is_empty());
    assert_eq!(order.total.as_str(), "10.00");
}

#[test]
fn raw_json_keeps_unknown_members_in_document_order() {
    let text = minimal(&format!(
        "[{}]",
        order_json(r#", "zz_custom": {"b": 1, "a": [true]}"#)
    ));
    let doc = parse_import(&text).expect("parses");
    let order = doc.orders.first().expect("one order");
    assert!(order
        .raw_json()
        .starts_with(r#"{"code":"ABC12","status":"n""#));
    assert_eq!(
        order.position_raw_json(0),
        Some(r#"{"id":7,"positionid":1,"item":1,"price":"10.00","zz_custom":{"b":1,"a":[true]}}"#)
    );
}

#[test]
fn positions_are_sorted_by_positionid_and_addon_to_must_exist() {
    let text = minimal(
        r#"[{"code": "X", "status": "p", "total": "0", "positions": [
            {"id": 2, "positionid": 2, "item": 1, "price": "0", "addon_to": 1},
            {"id": 1, "positionid": 1, "item": 1, "price": "0"}]}]"#,
    );
    let doc = parse_import(&text).expect("parses");
    let order = doc.orders.first().expect("one order");
    assert_eq!(
        order.positions.iter().map(|p| p.id).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(order.positions.get(1).and_then(|p| p.parent_index), Some(0));
    assert_eq!(
        order.position_raw_json(0).map(|s| s.contains(r#""id":1"#)),
        Some(true)
    );

    let bad = text.replace(r#""addon_to": 1"#, r#""addon_to": 99"#);
    let err = parse_import(&bad).expect_err("must fail");
    assert_eq!(
        err.to_string(),
        "orders[0].positions[0].addon_to: add-on to position 99, which is not in this order"
    );
}

#[test]
fn localized_strings_fall_back_like_pretix() {
    let s = |json: &str| {
        let v: Json = serde_json::from_str(json).expect("json");
        I18nString::read(Some(&v), &Path::Root).expect("i18n")
    };
    let name = s(r#"{"de": "Tagesticket", "en": "Day Pass"}"#);
    assert_eq!(name.localize("en"), "Day Pass");
    assert_eq!(name.localize("de-informal"), "Tagesticket");
    assert_eq!(name.localize("fr"), "Day Pass");
    assert_eq!(
        s(r#"{"fr": "", "nl": "Dagkaart", "de": "Tag"}"#).localize("es"),
        "Dagkaart"
    );
    assert_eq!(s(r#"{"de-formal": "Sie"}"#).localize("de"), "Sie");
    assert_eq!(s(r#""plain""#).localize("de"), "plain");
}

#[test]
fn references_to_unknown_products_variations_vouchers_and_dates_are_rejected() {
    let cases = [
        (
            r#", "item": 9"#,
            "orders[0].positions[0].item: product 9 is not among the event's items",
        ),
        (
            r#", "variation": 4"#,
            "orders[0].positions[0].variation: variation 4 is not a variation of product 1",
        ),
        (
            r#", "voucher": 2"#,
            "orders[0].positions[0].voucher: voucher 2 is not among the event's vouchers",
        ),
        (
            r#", "subevent": 5"#,
            "orders[0].positions[0].subevent: date 5 is not among the event's subevents",
        ),
    ];
    for (extra, message) in cases {
        let text = minimal(&format!("[{}]", order_json(extra)));
        let err = parse_import(&text).expect_err(extra);
        assert_eq!(err.to_string(), message);
    }
    let ok = minimal(&format!("[{}]", order_json(r#", "variation": 3"#)));
    assert!(parse_import(&ok).is_ok());
}

#[test]
fn a_single_order_parses_against_the_event_with_paths_from_the_order() {
    let doc = parse_import(&corpus_text()).expect("corpus parses");
    let order = doc.order("AAAAB").expect("order");
    let again = parse_order(order.raw_json(), &doc.event).expect("round trip");
    assert_eq!(again.positions.len(), 2);
    assert_eq!(again.raw_json(), order.raw_json());
    let bad = order.raw_json().replacen(r#""item":1"#, r#""item":77"#, 1);
    let err = parse_order(&bad, &doc.event).expect_err("unknown product");
    assert_eq!(
        err.to_string(),
        "positions[0].item: product 77 is not among the event's items"
    );
}

#[test]
fn a_document_that_is_not_an_object_or_whose_orders_are_not_a_list_is_named() {
    let err = parse_import("[1, 2]").expect_err("must fail");
    assert_eq!(err.path(), Some("(document)"), "{err}");
    let err = parse_import(&minimal(r#""ABC12""#)).expect_err("must fail");
    assert_eq!(err.path(), Some("orders"), "{err}");
    let err = parse_import(&minimal(r#"{"results": {"a": 1}}"#)).expect_err("must fail");
    assert_eq!(err.path(), Some("orders.results"), "{err}");
    let err = parse_import(&minimal(r#"{"count": 0}"#)).expect_err("must fail");
    assert_eq!(err.path(), Some("orders"), "{err}");
    assert!(parse_import(&minimal("null"))
        .expect("no orders")
        .orders
        .is_empty());
}

#[test]
fn read_import_hands_over_each_order_in_document_order() {
    let first = order_json("");
    let second = first.replace(r#""code": "ABC12""#, r#""code": "ZZZ99""#);
    let text = minimal(&format!("[{first}, {second}]"));
    let mut codes = Vec::new();
    let event = read_import(&text, |order, count| {
        codes.push((order.code, count.index, count.total))
    })
    .expect("parses");
    assert_eq!(
        codes,
        [("ABC12".to_string(), 0, 2), ("ZZZ99".to_string(), 1, 2)]
    );
    assert!(!event.event.slug.is_empty());
    let bad_second = second.replace(r#""total": "10.00""#, r#""total": "x""#);
    let bad = minimal(&format!("[{first}, {bad_second}]"));
    let err = read_import(&bad, |_, _| {}).expect_err("must fail");
    assert_eq!(err.path(), Some("orders[1].total"), "{err}");
}
