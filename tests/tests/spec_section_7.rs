//! pretix's own datasync tests (spec §7.2, §7.4, §7.5, §7.6), driven through the real
//! binary and queue against the `spec_fake_api` plugin, whose store is pretix's fake
//! target API persisted as a JSON file. Expected records are the spec's, exactly.

use std::path::PathBuf;

use datasync_tests::{fixture, Sandbox};
use serde_json::Value;

struct Case {
    sandbox: Sandbox,
    store: PathBuf,
}

impl Case {
    fn new(config: &str) -> Case {
        let sandbox = Sandbox::with_plugins(&["spec_fake_api"]);
        let store = sandbox.path().join("fake-api.json");
        let text =
            std::fs::read_to_string(fixture(&format!("spec-7/{config}"))).expect("read config");
        sandbox.write_config(&text.replace("STORE_PATH", store.to_str().expect("utf-8")));
        Case { sandbox, store }
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

    fn store(&self) -> Value {
        let text = std::fs::read_to_string(&self.store).expect("the fake API store exists");
        serde_json::from_str(&text).expect("store is JSON")
    }

    fn assert_store(&self, expected: &str) {
        let text =
            std::fs::read_to_string(fixture(&format!("spec-7/{expected}"))).expect("read expected");
        let expected: Value = serde_json::from_str(&text).expect("expected is JSON");
        assert_eq!(self.store(), expected, "store differs from {expected}");
    }
}

#[test]
fn spec_7_2_simple_order_sync_upserts_orders_and_updates_them_in_place() {
    let case = Case::new("datasync-7-2.toml");
    case.import("initial.json");
    case.sync();
    case.assert_store("expected-7-2-round1.json");

    case.import("paid-with-payment.json");
    case.sync();
    case.assert_store("expected-7-2-round2.json");
}

#[test]
fn spec_7_4_should_not_sync_touches_nothing_and_leaves_no_job() {
    let case = Case::new("datasync-7-4.toml");
    case.import("initial.json");
    case.sync();
    assert!(!case.store.exists(), "no lookup, no write");
    assert!(case.sandbox.log().is_empty(), "no log entry");
}

#[test]
fn spec_7_5_association_sync_links_orders_to_their_tickets() {
    let case = Case::new("datasync-7-5.toml");
    case.import("initial.json");
    case.sync();
    case.assert_store("expected-7-5-round1.json");

    case.import("paid-no-payment.json");
    case.sync();
    case.assert_store("expected-7-5-round2.json");
}

#[test]
fn spec_7_6_legacy_name_splitting_uses_the_scheme_active_at_sync_time() {
    let case = Case::new("datasync-7-5.toml");
    case.import("initial.json");
    // Jobs are queued; then the event switches to the `full` scheme and 2EEE gets an
    // invoice address before the sync runs.
    case.import("legacy-names.json");
    case.sync();
    case.assert_store("expected-7-6.json");
}
