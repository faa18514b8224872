//! Pins the repository's sample data (`examples/sample-data/`): the import document
//! parses, covers every case the tests, the demo and the benchmarks rely on, and the
//! demo config's mappings are valid for it and evaluate on every order.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::process::Command;

use datasync_host::config::Config;
use datasync_host::mapping::{catalog, mappings_from_config, plan_order, validate, Severity};
use datasync_host::model::{parse_import, ImportDocument, Json, QuestionType};
use datasync_tests::{workspace_root, Sandbox};

fn sample_dir() -> PathBuf {
    workspace_root().join("examples").join("sample-data")
}

fn sample_text() -> String {
    let path = sample_dir().join("sample-event.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn sample() -> ImportDocument {
    parse_import(&sample_text()).unwrap_or_else(|e| panic!("sample-event.json: {e}"))
}

/// `"145.50"` → 14550.
fn cents(text: &str) -> i64 {
    let (int, frac) = text.split_once('.').unwrap_or((text, "00"));
    assert_eq!(frac.len(), 2, "{text:?} has two decimal places");
    let int: i64 = int.parse().unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let frac: i64 = frac.parse().unwrap_or_else(|e| panic!("{text:?}: {e}"));
    int * 100 + frac
}

fn raw_str<'a>(value: &'a Json, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Json::as_str)
}

fn raw_array<'a>(value: &'a Json, key: &str) -> &'a [Json] {
    match value.get(key) {
        Some(Json::Array(items)) => items,
        _ => &[],
    }
}

#[test]
fn sample_has_enough_orders_in_every_status_and_locale() {
    let doc = sample();
    assert!(doc.orders.len() >= 50, "{} orders", doc.orders.len());
    let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
    let mut locales: BTreeSet<&str> = BTreeSet::new();
    for order in &doc.orders {
        *statuses.entry(order.status.as_str()).or_default() += 1;
        locales.extend(order.locale.as_deref());
    }
    for status in ["n", "p", "e", "c"] {
        let n = statuses.get(status).copied().unwrap_or(0);
        assert!(n >= 3, "status {status} appears {n} times: {statuses:?}");
    }
    assert!(
        locales.contains("en") && locales.contains("de"),
        "{locales:?}"
    );
}

#[test]
fn sample_codes_ids_and_totals_are_consistent() {
    let doc = sample();
    let mut codes = HashSet::new();
    let mut position_ids = HashSet::new();
    for order in &doc.orders {
        let code = &order.code;
        assert!(
            code.len() == 5
                && code
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
            "order code {code:?}"
        );
        assert!(codes.insert(code.clone()), "order code {code} repeated");
        let numbers: Vec<i64> = order.positions.iter().map(|p| p.positionid).collect();
        let expected: Vec<i64> = (1..=order.positions.len() as i64).collect();
        assert_eq!(numbers, expected, "{code}: positionid 1..n");
        for p in &order.positions {
            assert!(position_ids.insert(p.id), "position id {} repeated", p.id);
            if let Some(parent) = p.addon_to {
                let parent = order.position_by_id(parent).expect("parent in order");
                assert!(parent.addon_to.is_none(), "{code}: add-on of an add-on");
                assert_eq!(
                    parent.subevent, p.subevent,
                    "{code}: add-on on another date"
                );
            }
        }
        let positions: i64 = order
            .positions
            .iter()
            .filter(|p| !p.canceled)
            .map(|p| cents(p.price.as_str()))
            .sum();
        let fees: i64 = raw_array(&order.raw, "fees")
            .iter()
            .filter(|f| f.get("canceled") != Some(&Json::Bool(true)))
            .map(|f| cents(raw_str(f, "value").expect("fee value")))
            .sum();
        assert_eq!(
            cents(order.total.as_str()),
            positions + fees,
            "{code}: total = live positions + live fees"
        );
    }
}

#[test]
fn sample_answers_every_question_type() {
    let doc = sample();
    let types: HashMap<i64, QuestionType> = doc
        .event
        .questions
        .iter()
        .map(|q| (q.id, q.question_type))
        .collect();
    let asked: HashSet<QuestionType> = types.values().copied().collect();
    let mut answered: HashSet<QuestionType> = HashSet::new();
    for order in &doc.orders {
        for p in &order.positions {
            for a in &p.answers {
                let question = a.question.expect("answers name their question");
                let t = *types.get(&question).expect("answered question exists");
                answered.insert(t);
                if t.is_choice() {
                    assert!(
                        !a.options.is_empty(),
                        "{}: choice answer with options",
                        order.code
                    );
                    assert_eq!(
                        a.options.len(),
                        a.option_identifiers.len(),
                        "{}: option ids and identifiers pair up",
                        order.code
                    );
                }
            }
        }
    }
    for t in QuestionType::ALL {
        assert!(asked.contains(&t), "no question of type {}", t.code());
        assert!(
            answered.contains(&t),
            "no answer to a question of type {}",
            t.code()
        );
    }
}

#[test]
fn sample_covers_positions_checkins_vouchers_and_addresses() {
    let doc = sample();
    assert!(doc.event.subevents.len() >= 2, "subevents");
    assert!(doc.event.checkin_lists.len() >= 2, "check-in lists");

    let mut dates = HashSet::new();
    let mut lists_scanned = HashSet::new();
    let (mut entries, mut exits, mut micro_scans) = (0, 0, 0);
    let (mut addons_bare, mut addons_own, mut variations, mut canceled, mut free) = (0, 0, 0, 0, 0);
    let mut vouchers = HashSet::new();
    let (mut with_address, mut without_address, mut business, mut private) = (0, 0, 0, 0);
    let mut idna_emails = 0;
    for order in &doc.orders {
        match order.raw.get("invoice_address") {
            Some(Json::Null) | None => without_address += 1,
            Some(address) => {
                with_address += 1;
                match address.get("is_business") {
                    Some(Json::Bool(true)) => business += 1,
                    _ => private += 1,
                }
            }
        }
        if let Some((_, host)) = order.email.as_deref().and_then(|e| e.rsplit_once('@')) {
            if !host.is_ascii() || host.starts_with("xn--") {
                idna_emails += 1;
            }
        }
        for (index, p) in order.positions.iter().enumerate() {
            dates.extend(p.subevent);
            if p.addon_to.is_some() {
                if p.attendee_name.is_some() || p.attendee_email.is_some() {
                    addons_own += 1;
                } else {
                    addons_bare += 1;
                }
            }
            variations += usize::from(p.variation.is_some());
            canceled += usize::from(p.canceled);
            free += usize::from(p.price.as_str() == "0.00");
            vouchers.extend(p.voucher);
            for c in &p.checkins {
                lists_scanned.insert(c.list);
                if c.is_entry {
                    entries += 1;
                } else {
                    exits += 1;
                }
            }
            let raw = order.position_raw(index).expect("raw position");
            micro_scans += raw_array(raw, "checkins")
                .iter()
                .filter(|c| raw_str(c, "datetime").is_some_and(|d| d.contains('.')))
                .count();
        }
    }
    assert!(dates.len() >= 2, "positions on {} dates", dates.len());
    assert!(
        lists_scanned.len() >= 2,
        "scans on {} lists",
        lists_scanned.len()
    );
    assert!(
        entries > 0 && exits > 0,
        "entry {entries} / exit {exits} scans"
    );
    assert!(micro_scans > 0, "no scan time with microseconds");
    assert!(addons_bare > 0, "no add-on without own attendee data");
    assert!(addons_own > 0, "no add-on with own attendee data");
    assert!(variations > 0, "no variation");
    assert!(canceled > 0, "no canceled position");
    assert!(free > 0, "no zero-price position");
    assert!(vouchers.len() >= 2, "vouchers used: {vouchers:?}");
    assert!(with_address > 0 && without_address > 0, "invoice addresses");
    assert!(
        business > 0 && private > 0,
        "business and private addresses"
    );
    assert!(idna_emails > 0, "no IDNA e-mail host");
}

#[test]
fn demo_config_mappings_are_valid_and_evaluate_on_every_order() {
    let doc = sample();
    let path = sample_dir().join("datasync.toml");
    let text = std::fs::read_to_string(&path).expect("read demo config");
    let config = Config::parse(&text, &path).unwrap_or_else(|e| panic!("{e}"));
    let identifiers: Vec<&str> = config
        .providers
        .iter()
        .map(|p| p.identifier.as_str())
        .collect();
    assert_eq!(identifiers, ["crm_sqlite", "jsonl"]);
    let slug = doc.event.event.slug.clone();
    let catalog = catalog(&doc.event);
    for provider in &config.providers {
        assert!(provider.events.matches(&slug));
        let diagnostics = validate(provider, &catalog, &slug);
        let errors: Vec<String> = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(ToString::to_string)
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        // The value maps cover every option, so not even a warning.
        assert!(diagnostics.is_empty(), "{diagnostics:?}");

        let mappings = mappings_from_config(provider.mappings_for(&slug))
            .unwrap_or_else(|e| panic!("{}: {e}", provider.identifier));
        let mut synced = 0;
        for order in &doc.orders {
            let planned = plan_order(
                &catalog,
                &doc.event,
                order,
                &mappings,
                None,
                &provider.identifier,
            )
            .unwrap_or_else(|e| panic!("{} on {}: {e:?}", provider.identifier, order.code));
            synced += planned.iter().filter(|o| !o.skipped).count();
        }
        assert!(
            synced >= doc.orders.len() / 2,
            "{}: {synced} objects",
            provider.identifier
        );
    }
}

/// The demo end to end with the real `crm_sqlite` and `jsonl` plugins: import, `check`,
/// `run --once`.
#[test]
fn demo_config_checks_and_syncs_with_the_real_plugins() {
    let plugins = ["crm_sqlite", "jsonl"];
    let sandbox = Sandbox::with_plugins(&plugins);
    // The demo config points at the repository's plugins folder; the sandbox has its own.
    let config = std::fs::read_to_string(sample_dir().join("datasync.toml"))
        .expect("read demo config")
        .replace("plugins_dir = \"../../plugins\"", "");
    sandbox.write_config(&config);
    let document = sample_dir().join("sample-event.json");
    let orders = sample().orders.len();
    sandbox.ok(&["import", document.to_str().expect("utf-8 path")]);
    let check = sandbox.ok(&["check"]);
    assert!(
        check.stdout.contains("configuration OK"),
        "{}",
        check.stdout
    );
    sandbox.ok(&["run", "--once"]);
    assert!(sandbox.queue().is_empty(), "every sync job done");
    let lines =
        std::fs::read_to_string(sandbox.path().join("demo-sync.jsonl")).expect("jsonl output");
    assert_eq!(lines.lines().count(), orders, "one line per order");
    assert!(sandbox.path().join("demo-crm.sqlite").exists());
}

/// `generate.py` writes exactly the committed file (skipped where `python3` is missing).
#[test]
fn generator_reproduces_the_committed_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("sample-event.json");
    let result = Command::new("python3")
        .arg(sample_dir().join("generate.py"))
        .arg("--out")
        .arg(&out)
        .output();
    match result {
        Err(e) => eprintln!("skipped: cannot run python3 ({e})"),
        Ok(run) => {
            assert!(
                run.status.success(),
                "generate.py failed:\n{}",
                String::from_utf8_lossy(&run.stderr)
            );
            let written = std::fs::read_to_string(&out).expect("generated file");
            assert!(
                written == sample_text(),
                "examples/sample-data/sample-event.json is not what generate.py writes; \
                 regenerate it with `python3 examples/sample-data/generate.py`"
            );
        }
    }
}
