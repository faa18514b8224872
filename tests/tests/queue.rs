//! The sync queue end to end: the real `datasync` binary, the real `faulty` and `noop`
//! plugins, a real SQLite file. One test per transition of spec §2.10 (plus DESIGN.md's
//! deliberate differences).

use std::time::{Duration, Instant};

use datasync_tests::{fixture, Sandbox};
use serde_json::Value;

const ORDERS: &str = "spec-7/initial.json";

/// A config with one provider and one Order mapping keyed by the order code.
fn config(provider: &str, extra: &str) -> String {
    format!(
        r#"
[[provider]]
identifier = "{provider}"
{extra}

[[provider.mapping]]
id = 1
model = "Order"
external_object_type = "order"
pretix_id_field = "order_code"
external_id_field = "code"
properties = [{{ pretix_field = "email", external_field = "email" }}]
"#
    )
}

fn sandbox(provider: &str, extra: &str) -> Sandbox {
    let sandbox = Sandbox::with_plugins(&["noop", "faulty"]);
    sandbox.write_config(&config(provider, extra));
    let file = fixture(ORDERS);
    sandbox.ok(&["import", file.to_str().expect("utf-8 path")]);
    sandbox
}

fn faulty(settings: &str) -> Sandbox {
    sandbox("faulty", &format!("settings = {{ {settings} }}"))
}

fn run_once(sandbox: &Sandbox) -> (i32, Value) {
    let out = sandbox.run(&["run", "--once", "--json"]);
    (out.code, out.json())
}

fn states(sandbox: &Sandbox) -> Vec<(String, String, Option<String>, u64)> {
    sandbox
        .queue()
        .iter()
        .map(|j| {
            (
                j["order"].as_str().unwrap_or_default().to_string(),
                j["state"].as_str().unwrap_or_default().to_string(),
                j["failure_mode"].as_str().map(str::to_string),
                j["attempts"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn actions(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .log()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .map(|a| {
            a.trim_start_matches("pretix.event.order.data_sync.")
                .to_string()
        })
        .collect()
}

fn results_count(sandbox: &Sandbox, order: &str) -> usize {
    let out = sandbox.ok(&["results", "--event", "dummy", "--order", order, "--json"]);
    out.json()["results"].as_array().map_or(0, Vec::len)
}

#[test]
fn import_enqueues_each_new_order_once_and_reimport_enqueues_nothing() {
    let sandbox = sandbox("noop", "");
    assert_eq!(sandbox.queue().len(), 2);
    let file = fixture(ORDERS);
    let out = sandbox.ok(&["import", "--json", file.to_str().expect("utf-8")]);
    assert_eq!(out.json()["files"][0]["unchanged"], 2);
    assert_eq!(out.json()["files"][0]["enqueued"], 0);
    assert_eq!(sandbox.queue().len(), 2);
}

#[test]
fn success_deletes_the_job_records_results_and_logs_success() {
    let sandbox = sandbox("noop", "");
    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0);
    assert_eq!(summary["succeeded"], 2);
    assert!(sandbox.queue().is_empty());
    assert_eq!(results_count(&sandbox, "1AAA"), 1);
    assert_eq!(actions(&sandbox), ["success", "success"]);
}

#[test]
fn nothing_to_do_success_writes_no_log_entry() {
    let sandbox = sandbox("noop", "settings = { nothing_to_do = true }");
    let (code, _) = run_once(&sandbox);
    assert_eq!(code, 0);
    assert!(sandbox.queue().is_empty());
    assert!(actions(&sandbox).is_empty(), "{:?}", actions(&sandbox));
}

#[test]
fn recoverable_errors_are_retried_until_the_provider_succeeds() {
    // max_attempts is 5: four failures are retried, the fifth call succeeds.
    let sandbox = faulty(r#"mode = "recoverable", fail_times = 4, retry_delay_secs = 0"#);
    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["retried"], 8);
    assert_eq!(summary["succeeded"], 2);
    assert!(sandbox.queue().is_empty());
    assert_eq!(results_count(&sandbox, "2EEE"), 1);
}

#[test]
fn recoverable_errors_park_the_job_as_exceeded_at_max_attempts() {
    let sandbox = faulty(r#"mode = "recoverable", retry_delay_secs = 0"#);
    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 1, "{summary}");
    let states = states(&sandbox);
    assert_eq!(states.len(), 2);
    for (_, state, mode, attempts) in &states {
        assert_eq!(
            (state.as_str(), mode.as_deref(), *attempts),
            ("parked", Some("exceeded"), 5)
        );
    }
    assert_eq!(actions(&sandbox), ["failed.exceeded", "failed.exceeded"]);
}

#[test]
fn the_host_backoff_schedules_the_retry_in_the_future() {
    let sandbox = faulty(r#"mode = "recoverable""#);
    let (code, _) = run_once(&sandbox);
    assert_eq!(code, 1);
    for job in sandbox.queue() {
        assert_eq!(job["state"], "scheduled");
        assert_eq!(job["attempts"], 1);
        assert!(job["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("simulated recoverable failure")));
    }
}

#[test]
fn a_permanent_error_parks_the_job_and_logs_the_full_message() {
    let sandbox = faulty(r#"mode = "permanent""#);
    let (code, _) = run_once(&sandbox);
    assert_eq!(code, 1);
    assert!(states(&sandbox)
        .iter()
        .all(|s| s.2.as_deref() == Some("permanent")));
    let log = sandbox.log();
    assert_eq!(log.len(), 2);
    assert!(
        log[0]["full_message"]
            .as_str()
            .is_some_and(|m| m.starts_with("HTTP 400")),
        "{log:?}"
    );
    assert_eq!(log[0]["data"]["provider"], "faulty");
}

#[test]
fn a_config_error_parks_the_job_as_config() {
    let sandbox = faulty(r#"mode = "config""#);
    run_once(&sandbox);
    assert!(states(&sandbox)
        .iter()
        .all(|s| s.2.as_deref() == Some("config")));
}

#[test]
fn a_panicking_provider_parks_the_job_as_internal_and_the_host_finishes_the_batch() {
    let sandbox = faulty(r#"mode = "panic""#);
    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 1);
    assert_eq!(summary["parked"], 2);
    assert!(states(&sandbox)
        .iter()
        .all(|s| s.2.as_deref() == Some("internal")));
}

#[test]
fn a_panic_in_the_provider_constructor_parks_the_jobs_as_internal() {
    let sandbox = faulty(r#"mode = "panic_in_constructor""#);
    run_once(&sandbox);
    assert!(states(&sandbox)
        .iter()
        .all(|s| s.2.as_deref() == Some("internal")));
}

#[test]
fn a_call_slower_than_the_timeout_parks_the_job_as_timeout_and_the_run_ends() {
    let sandbox = sandbox(
        "faulty",
        "call_timeout_secs = 0.3\nsettings = { mode = \"sleep\", sleep_secs = 30 }",
    );
    let started = Instant::now();
    let (code, _) = run_once(&sandbox);
    assert_eq!(code, 1);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the hung call must not hold the run"
    );
    // The job behind the hung one is released untried and hangs in its own turn.
    let states = states(&sandbox);
    assert_eq!(states.len(), 2);
    assert!(
        states.iter().all(|s| s.2.as_deref() == Some("timeout")),
        "{states:?}"
    );
    let log = sandbox.log();
    assert!(
        log.iter().all(|e| e["full_message"] == "Timeout"),
        "{log:?}"
    );
}

#[test]
fn retry_after_snoozes_without_consuming_attempts() {
    // Ten rate-limit answers would exceed max_attempts (5) if they counted.
    let sandbox = faulty(r#"mode = "retry_after", fail_times = 10, retry_after_secs = 0"#);
    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["snoozed"], 20);
    assert_eq!(summary["succeeded"], 2);
    assert!(sandbox.queue().is_empty());
}

#[test]
fn a_missing_provider_parks_jobs_and_a_restart_with_the_plugin_resumes_them() {
    let sandbox = sandbox("noop", "");
    sandbox.remove_plugin("noop");
    let (code, _) = run_once(&sandbox);
    assert_eq!(code, 1);
    assert!(states(&sandbox)
        .iter()
        .all(|s| s.2.as_deref() == Some("provider_missing")));

    sandbox.add_plugin("noop");
    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["succeeded"], 2);
    assert!(sandbox.queue().is_empty());
}

#[test]
fn manual_retry_resets_attempts_and_makes_a_parked_job_due() {
    let sandbox = faulty(r#"mode = "recoverable", retry_delay_secs = 0"#);
    run_once(&sandbox);
    let id = sandbox.queue()[0]["id"].as_i64().expect("id");
    sandbox.write_config(&config("noop", ""));
    sandbox.ok(&["retry", &id.to_string()]);
    let job = sandbox
        .queue()
        .into_iter()
        .find(|j| j["id"] == id)
        .expect("row kept");
    assert_eq!(
        (job["state"].as_str(), job["attempts"].as_u64()),
        (Some("pending"), Some(0))
    );
}

#[test]
fn cancel_removes_a_parked_job_and_logs_it() {
    let sandbox = faulty(r#"mode = "permanent""#);
    run_once(&sandbox);
    let ids: Vec<String> = sandbox
        .queue()
        .iter()
        .map(|j| j["id"].to_string())
        .collect();
    let mut args = vec!["cancel"];
    args.extend(ids.iter().map(String::as_str));
    sandbox.ok(&args);
    assert!(sandbox.queue().is_empty());
    assert_eq!(
        actions(&sandbox)
            .iter()
            .filter(|a| *a == "canceled")
            .count(),
        2
    );
}

#[test]
fn retry_of_an_unknown_row_fails_with_a_message_naming_it() {
    let sandbox = sandbox("noop", "");
    let out = sandbox.run(&["retry", "999"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("999"), "{}", out.stderr);
}

#[test]
fn enqueue_now_syncs_that_order_alone_and_leaves_other_due_jobs_queued() {
    let sandbox = sandbox("noop", "");
    let out = sandbox.ok(&["enqueue", "--event", "dummy", "--order", "1AAA", "--now"]);
    assert!(
        out.stdout.contains("synced now: 1 jobs, 1 succeeded"),
        "{}",
        out.stdout
    );
    assert_eq!(results_count(&sandbox, "1AAA"), 1);
    assert_eq!(results_count(&sandbox, "2EEE"), 0);
    let left: Vec<_> = states(&sandbox).into_iter().map(|s| (s.0, s.1)).collect();
    assert_eq!(left, [("2EEE".to_string(), "pending".to_string())]);
}

#[test]
fn retry_now_syncs_the_retried_job_and_exits_1_when_it_fails_again() {
    let sandbox = faulty(r#"mode = "permanent""#);
    run_once(&sandbox);
    let id_of = |order: &str| {
        sandbox
            .queue()
            .into_iter()
            .find(|j| j["order"] == order)
            .and_then(|j| j["id"].as_i64())
            .expect("parked job")
            .to_string()
    };
    let (first, second) = (id_of("1AAA"), id_of("2EEE"));

    let again = sandbox.run(&["retry", &first, "--now"]);
    assert_eq!(again.code, 1, "{}", again.stdout);
    assert!(again.stdout.contains("1 parked"), "{}", again.stdout);

    sandbox.write_config(&config("faulty", r#"settings = { mode = "ok" }"#));
    sandbox.ok(&["retry", &first, "--now"]);
    assert_eq!(results_count(&sandbox, "1AAA"), 1);
    let left: Vec<_> = states(&sandbox).into_iter().map(|s| (s.0, s.2)).collect();
    assert_eq!(left, [("2EEE".to_string(), Some("permanent".to_string()))]);
    let ids: Vec<String> = sandbox
        .queue()
        .iter()
        .map(|j| j["id"].to_string())
        .collect();
    assert_eq!(ids, [second]);
}

#[test]
fn enqueue_during_flight_creates_the_next_job_and_sigterm_exits_cleanly() {
    let sandbox = sandbox(
        "faulty",
        "settings = { mode = \"sleep\", sleep_secs = 1.5 }",
    );
    let mut daemon = sandbox.spawn(&["run"]);
    let mut flying = None;
    wait_until(|| {
        flying = sandbox
            .queue()
            .into_iter()
            .find(|j| j["state"] == "in_flight")
            .and_then(|j| j["order"].as_str().map(str::to_string));
        flying.is_some()
    });
    let order = flying.expect("an order in flight");
    let out = sandbox.ok(&["enqueue", "--event", "dummy", "--order", &order]);
    assert!(
        out.stdout.contains("created"),
        "a second row next to the in-flight one: {}",
        out.stdout
    );
    let rows_for_order = sandbox
        .queue()
        .iter()
        .filter(|j| j["order"] == order.as_str())
        .count();
    assert!(rows_for_order >= 1, "the new row is kept");
    wait_until(|| sandbox.queue().is_empty());
    terminate(&mut daemon);
    let status = daemon.wait().expect("daemon exits");
    assert_eq!(
        status.code(),
        Some(0),
        "SIGTERM must end the daemon cleanly"
    );
    // Both orders synced, and the re-enqueued one a second time.
    assert_eq!(
        actions(&sandbox).iter().filter(|a| *a == "success").count(),
        3
    );
}

fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "condition not reached within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: &mut std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn a_job_running_longer_than_its_lease_is_not_parked_while_other_jobs_complete() {
    // Two events, so each claim yields two groups: the quick conf26 jobs complete and
    // the next batch is claimed while the slow dummy jobs (2 s each, lease 1 s) are
    // still running. Those claims must not expire this worker's own running jobs.
    let sandbox = Sandbox::with_plugins(&["faulty"]);
    let provider = config(
        "faulty",
        r#"settings = { mode = "sleep", sleep_secs = 2 }
call_timeout_secs = 10"#,
    );
    sandbox.write_config(&format!(
        r#"[worker]
batch_size = 2
lease_secs = 1
{provider}
[provider.event.conf26]
settings = {{ mode = "sleep", sleep_secs = 0.1 }}
"#
    ));
    for file in [fixture(ORDERS), fixture("pretix-sample/import.json")] {
        sandbox.ok(&["import", file.to_str().expect("utf-8 path")]);
    }
    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["succeeded"], 14, "{summary}");
    assert_eq!(summary["parked"], 0, "{summary}");
    assert!(sandbox.queue().is_empty());
    assert!(!actions(&sandbox).iter().any(|a| a.starts_with("failed")));
}

#[test]
fn a_host_killed_mid_batch_loses_no_job_after_restart() {
    let sandbox = Sandbox::with_plugins(&["faulty"]);
    sandbox.write_config(&config(
        "faulty",
        "settings = { mode = \"sleep\", sleep_secs = 0.2, fail_times = 1000 }",
    ));
    let file = fixture("pretix-sample/import.json");
    sandbox.ok(&["import", file.to_str().expect("utf-8")]);
    let mut daemon = sandbox.spawn(&["run"]);
    wait_until(|| sandbox.queue().iter().any(|j| j["state"] == "in_flight"));
    std::thread::sleep(Duration::from_millis(500));
    daemon.kill().expect("SIGKILL");
    daemon.wait().expect("reaped");
    assert!(
        sandbox.queue().iter().any(|j| j["state"] == "in_flight"),
        "killed mid-batch"
    );

    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0, "{summary}");
    assert!(sandbox.queue().is_empty(), "{:?}", sandbox.queue());
    let codes: std::collections::BTreeSet<String> = sandbox
        .log()
        .iter()
        .filter(|e| {
            e["action"]
                .as_str()
                .is_some_and(|a| a.ends_with(".success"))
        })
        .filter_map(|e| e["order"].as_str().map(str::to_string))
        .collect();
    assert_eq!(codes.len(), 12, "every order synced: {codes:?}");
    assert!(actions(&sandbox).iter().any(|a| a == "recovered"));
}

#[test]
fn sigterm_mid_batch_finishes_the_running_call_and_releases_the_rest() {
    let sandbox = Sandbox::with_plugins(&["faulty"]);
    sandbox.write_config(&config(
        "faulty",
        "settings = { mode = \"sleep\", sleep_secs = 0.5, fail_times = 1000 }",
    ));
    let file = fixture("pretix-sample/import.json");
    sandbox.ok(&["import", file.to_str().expect("utf-8")]);
    let mut daemon = sandbox.spawn(&["run"]);
    wait_until(|| sandbox.queue().iter().any(|j| j["state"] == "in_flight"));
    terminate(&mut daemon);
    let status = daemon.wait().expect("daemon exits");
    assert_eq!(status.code(), Some(0));

    let queue = sandbox.queue();
    assert!(
        queue.iter().all(|j| j["state"] != "in_flight"),
        "no claim left behind: {queue:?}"
    );
    assert!(
        queue.iter().all(|j| j["attempts"] == 0),
        "released jobs count no attempt: {queue:?}"
    );
    assert!(
        !queue.is_empty() && queue.len() < 12,
        "stopped mid-batch: {} left",
        queue.len()
    );
    let (code, _) = run_once(&sandbox);
    assert_eq!(code, 0);
    assert!(sandbox.queue().is_empty());
}

#[test]
fn a_second_worker_on_the_same_database_is_refused_with_the_way_out() {
    let sandbox = sandbox("faulty", "settings = { mode = \"sleep\", sleep_secs = 1 }");
    let mut daemon = sandbox.spawn(&["run"]);
    wait_until(|| sandbox.queue().iter().any(|j| j["state"] == "in_flight"));
    let second = sandbox.run(&["run", "--once"]);
    assert_eq!(second.code, 1);
    assert!(
        second.stderr.contains("another `datasync run`"),
        "{}",
        second.stderr
    );
    assert!(
        sandbox.queue().iter().any(|j| j["state"] == "in_flight"),
        "the first keeps its jobs"
    );
    terminate(&mut daemon);
    assert_eq!(daemon.wait().expect("exits").code(), Some(0));
}
