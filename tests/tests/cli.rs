//! Command-line conventions and the mapping commands: exit codes, stdout for data,
//! stderr for diagnostics, `--json` documents, clear errors for bad input.

use datasync_tests::{fixture, Sandbox};

fn sample(sandbox: &Sandbox) {
    let config = std::fs::read_to_string(fixture("pretix-sample/datasync.toml")).expect("config");
    sandbox.write_config(&config.replace("\"oracle\"", "\"noop\""));
    sandbox.ok(&[
        "import",
        fixture("pretix-sample/import.json")
            .to_str()
            .expect("utf-8"),
    ]);
}

#[test]
fn every_command_has_help_and_the_binary_has_a_version() {
    let sandbox = Sandbox::with_plugins(&[]);
    let version = sandbox.ok(&["--version"]);
    assert!(
        version.stdout.starts_with("datasync "),
        "{}",
        version.stdout
    );
    for command in [
        "plugins", "import", "run", "queue", "retry", "cancel", "enqueue", "results", "log",
        "stats", "fields", "check", "preview",
    ] {
        let help = sandbox.ok(&[command, "--help"]);
        assert!(
            help.stdout.contains("Usage: datasync"),
            "{command}: {}",
            help.stdout
        );
    }
}

#[test]
fn an_invalid_document_is_rejected_whole_with_the_path_of_the_bad_value() {
    let sandbox = Sandbox::with_plugins(&["noop"]);
    sample(&sandbox);
    let mut doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("pretix-sample/import.json")).expect("read"),
    )
    .expect("json");
    doc["orders"][0]["code"] = serde_json::json!("NEW01");
    doc["orders"][3]["positions"][0]["price"] = serde_json::json!("twelve");
    let bad = sandbox.path().join("bad.json");
    std::fs::write(&bad, doc.to_string()).expect("write");

    let out = sandbox.run(&["import", bad.to_str().expect("utf-8")]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty(), "no data on failure: {}", out.stdout);
    assert!(
        out.stderr.contains("orders[3].positions[0].price"),
        "{}",
        out.stderr
    );
    let stats = sandbox.ok(&["stats", "--json"]).json();
    assert_eq!(stats["orders"], 12, "nothing half-imported");
}

#[test]
fn stats_count_objects_and_actions_per_provider_after_a_sync() {
    let sandbox = Sandbox::with_plugins(&["noop"]);
    sample(&sandbox);
    sandbox.ok(&["run", "--once"]);
    let stats = sandbox.ok(&["stats", "--json"]).json();
    assert_eq!(stats["orders"], 12);
    assert_eq!(stats["providers"]["noop"]["orders"], 12);
    assert_eq!(stats["providers"]["noop"]["objects"], 58);
    assert_eq!(stats["providers"]["noop"]["actions"]["create"], 58);
    assert_eq!(stats["providers"]["noop"]["queued"], 0);
}

#[test]
fn check_passes_a_valid_config_and_exits_1_naming_each_mistake() {
    let sandbox = Sandbox::with_plugins(&["noop"]);
    sample(&sandbox);
    let clean = sandbox.run(&["check"]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);

    sandbox.write_config(
        r#"
[[provider]]
identifier = "noop"
[[provider.mapping]]
id = 1
model = "Order"
external_object_type = "order"
pretix_id_field = "order_code"
external_id_field = "code"
properties = [
  { pretix_field = "emial", external_field = "email" },
  { pretix_field = "attendee_name", external_field = "name" },
  { pretix_field = "order_status", external_field = "status", mode = "sometimes" },
]

[[provider]]
identifier = "not_installed"
"#,
    );
    let out = sandbox.run(&["check"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("property 0 (emial)") && out.stdout.contains("\"email\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("property 1 (attendee_name)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("sometimes"), "{}", out.stdout);
    assert!(
        out.stdout.contains("provider not_installed"),
        "{}",
        out.stdout
    );
}

#[test]
fn fields_lists_the_catalog_by_category_as_json() {
    let sandbox = Sandbox::with_plugins(&[]);
    sample(&sandbox);
    let fields = sandbox
        .ok(&["fields", "--event", "conf26", "--json"])
        .json();
    let keys: Vec<&str> = fields["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .flat_map(|c| c["fields"].as_array().into_iter().flatten())
        .filter_map(|f| f["key"].as_str())
        .collect();
    let corpus: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("pretix-sample/meta.json")).expect("meta"),
    )
    .expect("json");
    let expected = corpus["data_fields"].as_array().expect("keys in meta.json");
    for key in expected.iter().filter_map(|k| k.as_str()) {
        assert!(keys.contains(&key), "catalog lacks {key}");
    }
}

#[test]
fn fields_for_an_unknown_event_says_to_import_it() {
    let sandbox = Sandbox::with_plugins(&[]);
    let out = sandbox.run(&["fields", "--event", "nope"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("event nope is not in the database"),
        "{}",
        out.stderr
    );
}

#[test]
fn preview_of_an_unknown_order_fails_without_touching_the_queue() {
    let sandbox = Sandbox::with_plugins(&["noop"]);
    sample(&sandbox);
    let before = sandbox.queue().len();
    let out = sandbox.run(&[
        "preview",
        "--provider",
        "noop",
        "--event",
        "conf26",
        "--order",
        "ZZZZZ",
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("order ZZZZZ"), "{}", out.stderr);
    assert_eq!(sandbox.queue().len(), before);
}

#[test]
fn run_reports_mapping_mistakes_at_start_up_and_parks_only_that_providers_jobs() {
    let sandbox = Sandbox::with_plugins(&["noop"]);
    sandbox.write_config(
        r#"
[[provider]]
identifier = "noop"
[[provider.mapping]]
id = 1
model = "Order"
external_object_type = "order"
pretix_id_field = "order_code"
external_id_field = "code"
properties = [{ pretix_field = "emial", external_field = "email" }]
"#,
    );
    sandbox.ok(&[
        "import",
        fixture("spec-7/initial.json").to_str().expect("utf-8"),
    ]);
    let out = sandbox.run(&["run", "--once"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("emial") && out.stderr.contains("\"email\""),
        "{}",
        out.stderr
    );
    let jobs = sandbox.queue();
    assert_eq!(jobs.len(), 2);
    assert!(
        jobs.iter().all(|j| j["failure_mode"] == "config"),
        "{jobs:?}"
    );
    assert!(
        jobs[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("Field \"emial\" does not exist")),
        "{jobs:?}"
    );
}
