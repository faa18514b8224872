//! Store tests: real SQLite files in temp dirs, time controlled by the test.

use std::convert::Infallible;
use std::time::Duration;

use serde_json::json;
use tempfile::TempDir;

use super::*;

const LEASE: Duration = Duration::from_secs(600);

/// `secs` seconds after a fixed base time.
fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_700_000_000 + secs)
}

/// A fresh database in its own temp dir (the dir lives as long as the tuple).
fn open() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path().join("datasync.db")).expect("open store");
    (dir, store)
}

fn event(slug: &str) -> EventRow {
    EventRow {
        slug: slug.to_owned(),
        organizer: "org".to_owned(),
        data: json!({ "slug": slug }).to_string(),
    }
}

fn order(code: &str, status: &str) -> OrderRow {
    OrderRow {
        code: code.to_owned(),
        status: status.to_owned(),
        data: json!({ "code": code, "status": status }).to_string(),
    }
}

/// Imports `rows` as one document of event `slug`, with the jobs `jobs_for` asks for.
fn import_with(
    store: &mut Store,
    slug: &str,
    rows: &[OrderRow],
    now: Timestamp,
    jobs_for: impl FnMut(&OrderRow, &UpsertOutcome, &mut Vec<JobSpec>),
) -> ImportReport {
    let rows = rows.iter().map(Ok::<_, Infallible>);
    match store
        .import_document(&event(slug), rows, now, jobs_for)
        .expect("import")
    {
        Ok((_, report)) => report,
        Err(never) => match never {},
    }
}

/// Imports `rows` as one document of event `slug`, enqueueing nothing.
fn import(store: &mut Store, slug: &str, rows: &[OrderRow], now: Timestamp) -> Vec<OrderUpsert> {
    import_with(store, slug, rows, now, |_, _, _| {}).orders
}

/// Imports `event` with one pending order per code; returns the order ids.
fn seed(store: &mut Store, slug: &str, codes: &[&str]) -> Vec<OrderId> {
    let rows: Vec<_> = codes.iter().map(|c| order(c, "n")).collect();
    import(store, slug, &rows, t(0))
        .into_iter()
        .map(|u| u.id)
        .collect()
}

fn enqueue_at(store: &mut Store, order: OrderId, provider: &str, not_before: Timestamp) -> QueueId {
    store
        .enqueue(order, provider, "test", Some(not_before), t(0))
        .expect("enqueue")
        .id
}

fn rows(store: &Store) -> Vec<QueueRow> {
    store
        .list_queue(&QueueFilter::default(), t(0))
        .expect("list")
}

fn row(store: &Store, id: QueueId) -> Option<QueueRow> {
    rows(store).into_iter().find(|r| r.id == id)
}

fn claim_one(store: &mut Store, now: Timestamp) -> ClaimedJob {
    let mut jobs = store.claim_due(now, 10, LEASE).expect("claim");
    assert_eq!(jobs.len(), 1, "expected exactly one due job");
    jobs.remove(0)
}

fn complete(store: &mut Store, claim: &Claim, outcome: Outcome, now: Timestamp) -> Applied {
    let applied = store
        .complete(
            &[Completion {
                claim: claim.clone(),
                outcome,
            }],
            now,
        )
        .expect("complete");
    applied[0]
}

fn recoverable(retry_at: Timestamp, max_attempts: u32) -> Outcome {
    Outcome::Recoverable {
        retry_at,
        max_attempts,
        messages: vec!["503 from CRM".to_owned()],
        full_message: Some("HTTP 503 body".to_owned()),
    }
}

fn actions(store: &Store) -> Vec<String> {
    store
        .log_entries(&LogFilter::default())
        .expect("log")
        .into_iter()
        .map(|e| e.action)
        .collect()
}

fn result(position: Option<i64>, mapping_id: i64, id_value: &str) -> ResultUpsert {
    ResultUpsert {
        position,
        mapping_id,
        external_object_type: "Contact".to_owned(),
        external_id_field: "email".to_owned(),
        id_value: id_value.to_owned(),
        external_link_href: Some(format!("https://crm.example/{id_value}")),
        external_link_display_name: Some(id_value.to_owned()),
        sync_info: json!({ "action": "create" }).to_string(),
    }
}

// ---- open, migrations ------------------------------------------------------------------

#[test]
fn open_uses_wal_and_current_schema_version() {
    let (dir, store) = open();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("datasync.db")).expect("raw open");
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode");
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version");
    assert_eq!(mode, "wal");
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn a_version_1_database_migrates_and_each_orders_log_is_still_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("datasync.db");
    schema::create_at_version(&path, 1).expect("version 1 database");
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    conn.execute_batch(
        "INSERT INTO events (slug, organizer, data, data_hash, updated_at)
             VALUES ('ev', 'org', '{}', 0, 0);
         INSERT INTO orders (id, event, code, status, data, data_hash, updated_at)
             VALUES (7, 'ev', 'A1', 'p', '{}', 0, 0), (8, 'ev', 'A2', 'p', '{}', 0, 0);
         INSERT INTO log (time, event, order_code, provider, action, messages, data)
             VALUES (1, 'ev', 'A1', 'crm', 'pretix.event.order.data_sync.success', '[]', '{}'),
                    (2, 'ev', 'A2', 'crm', 'pretix.event.order.data_sync.success', '[]', '{}');",
    )
    .expect("version 1 rows");
    drop(conn);

    let store = Store::open(&path).expect("migrates");
    let entries = store
        .log_entries(&LogFilter {
            event: Some("ev".into()),
            order_code: Some("A2".into()),
            ..LogFilter::default()
        })
        .expect("log");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].order_code, "A2");
    assert_eq!(entries[0].time, Timestamp::from_unix_micros(2));
    drop(store);
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version");
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn migrations_refuse_a_newer_database() {
    let (dir, store) = open();
    drop(store);
    let path = dir.path().join("datasync.db");
    schema::set_user_version(&path, SCHEMA_VERSION + 1).expect("bump version");
    let err = Store::open(&path).expect_err("newer schema must be refused");
    assert!(matches!(
        err,
        StoreError::SchemaTooNew { found, supported, .. }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
    ));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
        "{msg}"
    );
    assert!(msg.contains(&format!("up to {SCHEMA_VERSION}")), "{msg}");
    assert!(msg.contains("upgrade datasync"), "{msg}");
}

#[test]
fn open_in_a_missing_folder_names_the_file_and_the_config_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("no-such-folder").join("datasync.db");
    let err = Store::open(&path).expect_err("missing folder");
    let msg = err.to_string();
    assert!(msg.contains("no-such-folder"), "{msg}");
    assert!(msg.contains("`database`"), "{msg}");
}

#[test]
fn reopen_keeps_data() {
    let (dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    let q = enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    complete(
        &mut store,
        &job.claim,
        Outcome::Failed {
            mode: FailureMode::Config,
            messages: vec!["api key missing".to_owned()],
            full_message: None,
        },
        t(2),
    );
    drop(store);

    let store = Store::open(dir.path().join("datasync.db")).expect("reopen");
    assert_eq!(store.event("ev").expect("event"), Some(event("ev")));
    assert_eq!(
        store.order("ev", "A1").expect("order").map(|o| o.id),
        Some(ids[0])
    );
    let parked = row(&store, q).expect("queue row survives");
    assert_eq!(parked.state, QueueState::Parked(FailureMode::Config));
    assert_eq!(parked.last_error.as_deref(), Some("api key missing"));
    assert_eq!(
        actions(&store),
        ["pretix.event.order.data_sync.failed.config"]
    );
}

// ---- events and orders -------------------------------------------------------------------

#[test]
fn import_reports_the_event_new_changed_unchanged() {
    let (_dir, mut store) = open();
    let mut import_event = |ev: &EventRow, now| {
        let no_orders = std::iter::empty::<Result<OrderRow, Infallible>>();
        match store
            .import_document(ev, no_orders, now, |_, _, _| {})
            .expect("import")
        {
            Ok((change, _)) => change,
            Err(never) => match never {},
        }
    };
    let mut ev = event("ev");
    assert_eq!(import_event(&ev, t(0)), EventUpsert::New);
    assert_eq!(import_event(&ev, t(1)), EventUpsert::Unchanged);
    ev.data = json!({ "slug": "ev", "name": "Renamed" }).to_string();
    assert_eq!(import_event(&ev, t(2)), EventUpsert::Changed);
    assert_eq!(store.event("ev").expect("read"), Some(ev));
}

#[test]
fn import_reports_orders_new_changed_with_old_status_and_unchanged() {
    let (_dir, mut store) = open();
    let first = import(
        &mut store,
        "ev",
        &[order("A1", "n"), order("A2", "n")],
        t(0),
    );
    assert!(first.iter().all(|u| u.outcome == UpsertOutcome::New));

    let second = import(
        &mut store,
        "ev",
        &[order("A1", "p"), order("A2", "n")],
        t(5),
    );
    assert_eq!(second[0].id, first[0].id);
    assert_eq!(
        second[0].outcome,
        UpsertOutcome::Changed {
            old_status: "n".to_owned()
        }
    );
    assert_eq!(second[1].outcome, UpsertOutcome::Unchanged);

    let a1 = store.order("ev", "A1").expect("read").expect("A1");
    assert_eq!(a1.status, "p");
    assert_eq!(a1.updated_at, t(5));
    let a2 = store.order("ev", "A2").expect("read").expect("A2");
    assert_eq!(a2.updated_at, t(0), "unchanged orders are not rewritten");
}

#[test]
fn import_document_keeps_nothing_when_an_order_fails_part_way() {
    let (_dir, mut store) = open();
    let input = vec![
        Ok(order("A1", "p")),
        Err("orders[1].total: expected a decimal"),
    ];
    let outcome = store
        .import_document(&event("ev"), input, t(0), |_, _, jobs| {
            jobs.push(JobSpec {
                provider: "crm".into(),
                triggered_by: "order_placed".into(),
                not_before: None,
            })
        })
        .expect("the store itself is fine");
    assert_eq!(outcome.err(), Some("orders[1].total: expected a decimal"));
    assert!(store.event("ev").expect("read").is_none(), "no event");
    assert!(store.order("ev", "A1").expect("read").is_none(), "no order");
    assert!(rows(&store).is_empty(), "no job");
}

#[test]
fn import_document_stores_the_event_orders_and_jobs_together() {
    let (_dir, mut store) = open();
    let input = [order("A1", "p"), order("A2", "n")].map(Ok::<_, ()>);
    let (event_change, report) = store
        .import_document(&event("ev"), input, t(0), |_, _, jobs| {
            jobs.push(JobSpec {
                provider: "crm".into(),
                triggered_by: "order_placed".into(),
                not_before: None,
            })
        })
        .expect("store")
        .expect("input");
    assert_eq!(event_change, EventUpsert::New);
    assert_eq!(report.orders.len(), 2);
    assert_eq!(rows(&store).len(), 2);
    assert!(store.order("ev", "A2").expect("read").is_some());
}

#[test]
fn import_enqueues_jobs_in_the_same_transaction() {
    let (_dir, mut store) = open();
    let orders = [order("A1", "n"), order("A2", "p")];
    let report = import_with(&mut store, "ev", &orders, t(0), |o, outcome, jobs| {
        if *outcome != UpsertOutcome::Unchanged && o.status == "p" {
            jobs.push(JobSpec {
                provider: "crm".to_owned(),
                triggered_by: "order_paid".to_owned(),
                not_before: None,
            });
        }
    });
    assert_eq!(report.orders.len(), 2);
    assert_eq!(report.jobs.len(), 1);
    assert!(report.jobs[0].created);
    let queued = rows(&store);
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].order_code, "A2");
    assert_eq!(queued[0].triggered_by, "order_paid");
}

#[test]
fn import_enqueues_a_provider_once_per_order_even_when_asked_twice() {
    let (_dir, mut store) = open();
    let twice = |_: &OrderRow, _: &UpsertOutcome, jobs: &mut Vec<JobSpec>| {
        for reason in ["order_placed", "order_paid"] {
            jobs.push(JobSpec {
                provider: "crm".to_owned(),
                triggered_by: reason.to_owned(),
                not_before: None,
            });
        }
    };
    let first = import_with(&mut store, "ev", &[order("A1", "p")], t(0), twice);
    let created: Vec<bool> = first.jobs.iter().map(|j| j.created).collect();
    assert_eq!(created, [true, false]);
    assert_eq!(first.jobs[0].id, first.jobs[1].id);
    // A changed order takes the coalescing path too.
    let second = import_with(&mut store, "ev", &[order("A1", "c")], t(1), twice);
    assert!(second
        .jobs
        .iter()
        .all(|j| !j.created && j.id == first.jobs[0].id));
    let queued = rows(&store);
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].triggered_by, "order_paid");
    assert_eq!(queued[0].not_before, t(1));
}

// ---- enqueue ---------------------------------------------------------------------------

#[test]
fn enqueue_twice_coalesces_into_one_pending_row() {
    // spec §7.3 test_enqueue_order_twice
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2"]);
    for id in &ids {
        let first = store
            .enqueue(*id, "crm", "testcase_1st", None, t(1))
            .expect("first");
        assert!(first.created);
    }
    for id in &ids {
        let second = store
            .enqueue(*id, "crm", "testcase_2nd", None, t(2))
            .expect("second");
        assert!(!second.created);
    }
    let queued = rows(&store);
    assert_eq!(queued.len(), 2, "still exactly one pending row per order");
    for r in &queued {
        assert_eq!(r.triggered_by, "testcase_2nd", "reason updated");
        assert_eq!(r.triggered_at, t(1), "triggered_at keeps the creation time");
        assert_eq!(r.not_before, t(2), "schedule reset to now");
    }
}

#[test]
fn enqueue_reactivates_a_parked_row_but_keeps_its_attempts() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    let q = enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    complete(&mut store, &job.claim, recoverable(t(3600), 2), t(2));
    let job = claim_one(&mut store, t(3601));
    let parked = complete(&mut store, &job.claim, recoverable(t(7200), 2), t(3602));
    assert_eq!(parked, Applied::Parked(FailureMode::Exceeded));

    let again = store
        .enqueue(ids[0], "crm", "order_changed", None, t(4000))
        .expect("enqueue");
    assert_eq!(
        again,
        Enqueued {
            id: q,
            created: false
        }
    );
    let r = row(&store, q).expect("row");
    assert_eq!(r.need_manual_retry, None);
    assert_eq!(r.failed_attempts, 2, "enqueue does not reset attempts");
    assert_eq!(r.not_before, t(4000));
}

#[test]
fn enqueue_while_in_flight_creates_a_second_row_and_leaves_the_in_flight_one() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    let q1 = enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    let second = store
        .enqueue(ids[0], "crm", "order_changed", None, t(2))
        .expect("enqueue");
    assert!(second.created);
    assert_ne!(second.id, q1);
    let in_flight = row(&store, q1).expect("in-flight row");
    assert_eq!(in_flight.state, QueueState::InFlight);
    assert_eq!(in_flight.triggered_by, "test", "in-flight row untouched");
    assert_eq!(job.claim.id, q1);
    // A third enqueue coalesces with the second row, not with the in-flight one.
    let third = store
        .enqueue(ids[0], "crm", "again", None, t(3))
        .expect("enqueue");
    assert_eq!(
        third,
        Enqueued {
            id: second.id,
            created: false
        }
    );
    assert_eq!(rows(&store).len(), 2);
}

#[test]
fn enqueue_of_an_unknown_order_is_refused() {
    let (_dir, mut store) = open();
    let err = store
        .enqueue(OrderId(4242), "crm", "t", None, t(0))
        .expect_err("unknown order");
    assert!(matches!(err, StoreError::UnknownOrder { id: 4242 }));
}

#[test]
fn enqueue_many_returns_one_result_per_job_in_order() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2"]);
    let job = |order, provider: &str| NewJob {
        order,
        provider: provider.to_owned(),
        triggered_by: "import".to_owned(),
        not_before: None,
    };
    let out = store
        .enqueue_many(
            &[
                job(ids[0], "crm"),
                job(ids[1], "crm"),
                job(ids[0], "crm"),
                job(ids[0], "hook"),
            ],
            t(0),
        )
        .expect("enqueue_many");
    let created: Vec<bool> = out.iter().map(|e| e.created).collect();
    assert_eq!(created, [true, true, false, true]);
    assert_eq!(out[0].id, out[2].id);
}

// ---- claim -----------------------------------------------------------------------------

#[test]
fn claim_respects_not_before_strictly_and_skips_parked_rows() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2", "A3"]);
    let due = enqueue_at(&mut store, ids[0], "crm", t(10));
    let later = enqueue_at(&mut store, ids[1], "crm", t(20));
    let parked = enqueue_at(&mut store, ids[2], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    assert_eq!(job.claim.id, parked);
    complete(
        &mut store,
        &job.claim,
        Outcome::Failed {
            mode: FailureMode::Permanent,
            messages: vec![],
            full_message: None,
        },
        t(2),
    );

    assert!(
        store.claim_due(t(10), 10, LEASE).expect("claim").is_empty(),
        "not_before == now is not due"
    );
    let jobs = store.claim_due(t(11), 10, LEASE).expect("claim");
    let claimed: Vec<QueueId> = jobs.iter().map(|j| j.claim.id).collect();
    assert_eq!(claimed, [due], "later row not yet due; parked row never");
    assert_eq!(
        row(&store, later).expect("later").state,
        QueueState::Scheduled
    );
}

#[test]
fn claim_is_fair_across_events_and_honours_the_limit() {
    let (_dir, mut store) = open();
    let big = seed(&mut store, "big", &["B1", "B2", "B3", "B4"]);
    let small = seed(&mut store, "small", &["S1", "S2"]);
    // The big event's jobs are all older than the small event's.
    for (i, id) in big.iter().enumerate() {
        enqueue_at(&mut store, *id, "crm", t(i as i64));
    }
    for (i, id) in small.iter().enumerate() {
        enqueue_at(&mut store, *id, "crm", t(100 + i as i64));
    }
    let jobs = store.claim_due(t(1000), 4, LEASE).expect("claim");
    let codes: Vec<&str> = jobs.iter().map(|j| j.claim.order_code.as_str()).collect();
    // Round robin: oldest of each event, then second-oldest of each event.
    assert_eq!(codes, ["B1", "S1", "B2", "S2"]);
    let rest = store.claim_due(t(1000), 4, LEASE).expect("claim rest");
    let codes: Vec<&str> = rest.iter().map(|j| j.claim.order_code.as_str()).collect();
    assert_eq!(codes, ["B3", "B4"]);
    assert!(store
        .claim_due(t(1000), 4, LEASE)
        .expect("nothing left")
        .is_empty());
}

#[test]
fn claim_marks_in_flight_and_returns_everything_the_worker_needs() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    let q = enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(5));
    assert_eq!(
        job.claim,
        Claim {
            id: q,
            claim_no: 1,
            order: ids[0],
            event: "ev".to_owned(),
            order_code: "A1".to_owned(),
            provider: "crm".to_owned(),
        }
    );
    assert_eq!(job.order_status, "n");
    assert_eq!(job.order_data, order("A1", "n").data);
    assert_eq!(job.failed_attempts, 0);
    assert_eq!(job.lease_until, t(5).saturating_add(LEASE));
    let r = row(&store, q).expect("row");
    assert_eq!(r.state, QueueState::InFlight);
    assert_eq!(r.in_flight_since, Some(t(5)));
    assert!(
        store.claim_due(t(6), 10, LEASE).expect("claim").is_empty(),
        "claimed once"
    );
}

#[test]
fn claim_skips_a_pending_row_while_its_pair_is_in_flight() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2"]);
    enqueue_at(&mut store, ids[0], "crm", t(0));
    let first = claim_one(&mut store, t(1));
    let second = enqueue_at(&mut store, ids[0], "crm", t(1));
    let other = enqueue_at(&mut store, ids[1], "crm", t(1));
    let jobs = store.claim_due(t(10), 10, LEASE).expect("claim");
    let claimed: Vec<QueueId> = jobs.iter().map(|j| j.claim.id).collect();
    assert_eq!(claimed, [other], "the pair (A1, crm) is in flight");
    complete(
        &mut store,
        &first.claim,
        Outcome::Success {
            results: vec![],
            log: None,
        },
        t(11),
    );
    let job = claim_one(&mut store, t(12));
    assert_eq!(job.claim.id, second);
}

#[test]
fn claim_finds_due_jobs_per_event_through_the_due_index() {
    // Pins the query shape that keeps a claim O(events × limit) on a large backlog.
    let (_dir, store) = open();
    let plan: Vec<String> = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", queue::CLAIM_SQL))
        .expect("plan")
        .query_map([0_i64, 0, 10], |r| r.get::<_, String>(3))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    let plan = plan.join("\n");
    assert!(
        plan.contains("USING INDEX queue_due (event=? AND not_before<?)"),
        "{plan}"
    );
    assert!(
        !plan.contains("SCAN q"),
        "no full scan of the queue: {plan}"
    );
}

#[test]
fn claim_with_limit_zero_claims_nothing() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    enqueue_at(&mut store, ids[0], "crm", t(0));
    assert!(store.claim_due(t(1), 0, LEASE).expect("claim").is_empty());
    assert_eq!(rows(&store)[0].in_flight_since, None);
}

// ---- outcomes ----------------------------------------------------------------------------

#[test]
fn success_deletes_the_row_upserts_results_and_logs() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    let log = json!({ "provider": "crm", "objects": { "1": [{ "id_value": "a@example.org" }] } });
    let applied = complete(
        &mut store,
        &job.claim,
        Outcome::Success {
            results: vec![result(None, 1, "a@example.org")],
            log: Some(log.to_string()),
        },
        t(2),
    );
    assert_eq!(applied, Applied::Deleted);
    assert!(rows(&store).is_empty());
    let results = store.results_for_order("ev", "A1").expect("results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].provider, "crm");
    assert_eq!(results[0].transmitted, t(2));
    assert_eq!(results[0].result, result(None, 1, "a@example.org"));
    let entries = store.log_entries(&LogFilter::default()).expect("log");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "pretix.event.order.data_sync.success");
    assert_eq!(entries[0].data, log);
    assert_eq!(
        (entries[0].event.as_str(), entries[0].order_code.as_str()),
        ("ev", "A1")
    );
}

#[test]
fn success_without_log_data_writes_no_log_entry() {
    // spec §2.6: every object nothing_to_do → row deleted, no log entry (caller decides).
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    complete(
        &mut store,
        &job.claim,
        Outcome::Success {
            results: vec![],
            log: None,
        },
        t(2),
    );
    assert!(rows(&store).is_empty());
    assert!(actions(&store).is_empty());
}

#[test]
fn recoverable_reschedules_until_exceeded_at_max_attempts() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    let q = enqueue_at(&mut store, ids[0], "crm", t(0));
    let max = 3;
    for attempt in 1..max {
        let now = t(i64::from(attempt) * 3600 + 1);
        let job = claim_one(&mut store, now);
        assert_eq!(job.failed_attempts, attempt - 1);
        let retry_at = now.saturating_add(Duration::from_secs(3000));
        assert_eq!(
            complete(&mut store, &job.claim, recoverable(retry_at, max), now),
            Applied::Rescheduled
        );
        let r = row(&store, q).expect("row");
        assert_eq!(r.failed_attempts, attempt);
        assert_eq!(r.not_before, retry_at);
        assert_eq!(r.need_manual_retry, None);
        assert_eq!(r.last_error.as_deref(), Some("503 from CRM"));
        assert!(r.is_problem());
    }
    assert!(
        actions(&store).is_empty(),
        "no log entry while auto-retrying"
    );

    let now = t(i64::from(max) * 3600 + 1);
    let job = claim_one(&mut store, now);
    let applied = complete(&mut store, &job.claim, recoverable(t(99_999), max), now);
    assert_eq!(applied, Applied::Parked(FailureMode::Exceeded));
    let r = row(&store, q).expect("row");
    assert_eq!(r.failed_attempts, max);
    assert_eq!(r.state, QueueState::Parked(FailureMode::Exceeded));
    let entries = store.log_entries(&LogFilter::default()).expect("log");
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].action,
        "pretix.event.order.data_sync.failed.exceeded"
    );
    assert_eq!(entries[0].messages, ["503 from CRM"]);
    assert_eq!(entries[0].full_message.as_deref(), Some("HTTP 503 body"));
    assert_eq!(
        entries[0].data,
        json!({ "provider": "crm", "error": ["503 from CRM"], "full_message": "HTTP 503 body" })
    );
    assert!(
        store
            .claim_due(t(200_000), 10, LEASE)
            .expect("claim")
            .is_empty(),
        "parked"
    );
}

#[test]
fn snooze_does_not_count_an_attempt() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    let q = enqueue_at(&mut store, ids[0], "crm", t(0));
    for round in 1..=3 {
        let job = claim_one(&mut store, t(round * 100));
        let applied = complete(
            &mut store,
            &job.claim,
            Outcome::Snooze {
                until: t(round * 100 + 50),
                messages: vec!["rate limited".to_owned()],
            },
            t(round * 100 + 1),
        );
        assert_eq!(applied, Applied::Snoozed);
    }
    let r = row(&store, q).expect("row");
    assert_eq!(r.failed_attempts, 0);
    assert_eq!(r.snoozes, 3);
    assert_eq!(r.not_before, t(350));
    assert_eq!(r.need_manual_retry, None);
    assert!(!r.is_problem());
    assert!(actions(&store).is_empty());
}

#[test]
fn failures_park_with_their_mode_and_log_it() {
    let (_dir, mut store) = open();
    let modes = [
        FailureMode::Permanent,
        FailureMode::Config,
        FailureMode::Internal,
        FailureMode::Timeout,
    ];
    let codes = ["A1", "A2", "A3", "A4"];
    let ids = seed(&mut store, "ev", &codes);
    for id in &ids {
        enqueue_at(&mut store, *id, "crm", t(0));
    }
    let jobs = store.claim_due(t(1), 10, LEASE).expect("claim");
    let batch: Vec<Completion> = jobs
        .iter()
        .zip(modes)
        .map(|(job, mode)| Completion {
            claim: job.claim.clone(),
            outcome: Outcome::Failed {
                mode,
                messages: vec![format!("{mode} happened")],
                full_message: Some("detail".to_owned()),
            },
        })
        .collect();
    let applied = store.complete(&batch, t(2)).expect("complete");
    assert_eq!(applied, modes.map(Applied::Parked));
    for (job, mode) in jobs.iter().zip(modes) {
        let r = row(&store, job.claim.id).expect("row");
        assert_eq!(r.state, QueueState::Parked(mode));
        assert_eq!(
            r.failed_attempts, 0,
            "only recoverable errors count as attempts"
        );
    }
    let expected: Vec<String> = modes
        .iter()
        .map(|m| format!("pretix.event.order.data_sync.failed.{m}"))
        .collect();
    assert_eq!(actions(&store), expected);
}

#[test]
fn provider_missing_parks_instead_of_deleting_and_resume_provider_reactivates() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2"]);
    let q = enqueue_at(&mut store, ids[0], "gone", t(0));
    let other = enqueue_at(&mut store, ids[1], "crm", t(5));
    let job = claim_one(&mut store, t(1));
    assert_eq!(
        complete(&mut store, &job.claim, Outcome::ProviderMissing, t(2)),
        Applied::Parked(FailureMode::ProviderMissing)
    );
    let r = row(&store, q).expect("parked, not deleted");
    assert_eq!(r.state, QueueState::Parked(FailureMode::ProviderMissing));
    assert!(r.last_error.as_deref().is_some_and(|e| e.contains("gone")));

    assert_eq!(store.resume_provider("crm", t(3)).expect("resume other"), 0);
    assert_eq!(store.resume_provider("gone", t(3)).expect("resume"), 1);
    let r = row(&store, q).expect("row");
    assert_eq!(r.need_manual_retry, None);
    assert_eq!(r.not_before, t(3));
    assert_eq!(
        row(&store, other).expect("other").not_before,
        t(5),
        "other providers untouched"
    );
    assert_eq!(
        actions(&store),
        [
            "pretix.event.order.data_sync.failed.provider_missing",
            "pretix.event.order.data_sync.resumed"
        ]
    );
}

#[test]
fn newer_pending_row_wins_over_failing_in_flight_row() {
    // spec §2.7: clear_in_flight deletes the old row when a newer pending one exists.
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    let newer = store
        .enqueue(ids[0], "crm", "order_changed", None, t(2))
        .expect("enqueue")
        .id;
    let applied = complete(
        &mut store,
        &job.claim,
        Outcome::Failed {
            mode: FailureMode::Permanent,
            messages: vec!["rejected".to_owned()],
            full_message: None,
        },
        t(3),
    );
    assert_eq!(applied, Applied::Superseded);
    let left = rows(&store);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, newer);
    assert_eq!(left[0].need_manual_retry, None);
    assert_eq!(left[0].failed_attempts, 0);
    assert_eq!(
        actions(&store),
        ["pretix.event.order.data_sync.failed.permanent"],
        "failure survives in the log"
    );
}

#[test]
fn newer_pending_row_wins_over_recoverable_and_snoozed_in_flight_rows() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2"]);
    enqueue_at(&mut store, ids[0], "crm", t(0));
    enqueue_at(&mut store, ids[1], "crm", t(0));
    let jobs = store.claim_due(t(1), 10, LEASE).expect("claim");
    for id in &ids {
        store
            .enqueue(*id, "crm", "again", None, t(2))
            .expect("enqueue");
    }
    let applied = store
        .complete(
            &[
                Completion {
                    claim: jobs[0].claim.clone(),
                    outcome: recoverable(t(100), 5),
                },
                Completion {
                    claim: jobs[1].claim.clone(),
                    outcome: Outcome::Snooze {
                        until: t(100),
                        messages: vec![],
                    },
                },
            ],
            t(3),
        )
        .expect("complete");
    assert_eq!(applied, [Applied::Superseded, Applied::Superseded]);
    assert!(rows(&store)
        .iter()
        .all(|r| r.triggered_by == "again" && r.failed_attempts == 0));
}

#[test]
fn recover_in_flight_returns_rows_to_pending() {
    let (dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2"]);
    let q1 = enqueue_at(&mut store, ids[0], "crm", t(0));
    let q2 = enqueue_at(&mut store, ids[1], "crm", t(0));
    let jobs = store.claim_due(t(1), 10, LEASE).expect("claim");
    assert_eq!(jobs.len(), 2);
    // A1 failed once before the crash, so recovery must keep its attempt count.
    let j1 = jobs.iter().find(|j| j.claim.id == q1).expect("q1");
    complete(&mut store, &j1.claim, recoverable(t(2), 5), t(2));
    claim_one(&mut store, t(3));
    drop(store); // the host dies with both rows in flight

    let mut store = Store::open(dir.path().join("datasync.db")).expect("reopen");
    assert_eq!(store.recover_in_flight(t(10)).expect("recover"), 2);
    for (q, attempts) in [(q1, 1), (q2, 0)] {
        let r = row(&store, q).expect("row");
        assert_eq!(r.in_flight_since, None);
        assert_eq!(r.need_manual_retry, None, "recovered, not parked");
        assert_eq!(r.failed_attempts, attempts);
    }
    assert_eq!(
        actions(&store),
        [
            "pretix.event.order.data_sync.recovered",
            "pretix.event.order.data_sync.recovered"
        ]
    );
    assert_eq!(
        store
            .claim_due(t(11), 10, LEASE)
            .expect("claim again")
            .len(),
        2,
        "at-least-once"
    );
}

#[test]
fn recover_in_flight_deletes_the_row_when_a_newer_pending_row_exists() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    enqueue_at(&mut store, ids[0], "crm", t(0));
    claim_one(&mut store, t(1));
    let newer = enqueue_at(&mut store, ids[0], "crm", t(2));
    assert_eq!(store.recover_in_flight(t(10)).expect("recover"), 1);
    let left = rows(&store);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, newer);
    let entries = store.log_entries(&LogFilter::default()).expect("log");
    assert_eq!(entries[0].data["superseded"], json!(true));
}

#[test]
fn expired_lease_parks_as_timeout_and_a_late_completion_is_stale() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    let q = enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    let lease_end = job.lease_until;
    assert_eq!(store.expire_leases(lease_end).expect("not yet"), 0);
    assert_eq!(
        store
            .expire_leases(lease_end.saturating_add(Duration::from_micros(1)))
            .expect("expire"),
        1
    );
    let r = row(&store, q).expect("row");
    assert_eq!(r.state, QueueState::Parked(FailureMode::Timeout));
    assert_eq!(
        actions(&store),
        ["pretix.event.order.data_sync.failed.timeout"]
    );

    // The hung call finally returns: results and log are kept, the parked row is not touched.
    let late = complete(
        &mut store,
        &job.claim,
        Outcome::Success {
            results: vec![result(None, 1, "x")],
            log: Some(json!({ "provider": "crm", "objects": {} }).to_string()),
        },
        t(2000),
    );
    assert_eq!(late, Applied::Stale);
    assert_eq!(
        row(&store, q).expect("row").state,
        QueueState::Parked(FailureMode::Timeout)
    );
    assert_eq!(
        store.results_for_order("ev", "A1").expect("results").len(),
        1
    );

    // After a manual retry and a new claim, the old claim still cannot touch the row.
    store
        .retry(&RetrySelection::Ids(vec![q]), t(2001))
        .expect("retry");
    let again = claim_one(&mut store, t(2002));
    assert_eq!(again.claim.claim_no, 2);
    assert_eq!(
        complete(&mut store, &job.claim, recoverable(t(9999), 5), t(2003)),
        Applied::Stale
    );
    assert_eq!(row(&store, q).expect("row").state, QueueState::InFlight);
}

// ---- manual actions ----------------------------------------------------------------------

#[test]
fn retry_resets_attempts_and_unparks() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    let q = enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    complete(&mut store, &job.claim, recoverable(t(2), 1), t(1));
    assert_eq!(
        row(&store, q).expect("row").state,
        QueueState::Parked(FailureMode::Exceeded)
    );

    assert_eq!(
        store
            .retry(&RetrySelection::Ids(vec![q]), t(50))
            .expect("retry"),
        [q]
    );
    let r = row(&store, q).expect("row");
    assert_eq!(
        r.failed_attempts, 0,
        "datasync resets attempts on manual retry"
    );
    assert_eq!(r.need_manual_retry, None);
    assert_eq!(r.not_before, t(50));
    assert!(
        store.claim_due(t(50), 10, LEASE).expect("claim").is_empty(),
        "due strictly after now"
    );
    assert_eq!(store.claim_due(t(51), 10, LEASE).expect("claim").len(), 1);
    let entries = store.log_entries(&LogFilter::default()).expect("log");
    let retry = entries.last().expect("retry entry");
    assert_eq!(retry.action, "pretix.event.order.data_sync.retry");
    assert_eq!(retry.data["previous_failure_mode"], json!("exceeded"));
    assert_eq!(retry.data["previous_failed_attempts"], json!(1));
}

#[test]
fn retry_all_problems_skips_in_flight_and_healthy_rows() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2", "A3"]);
    let parked = enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    complete(
        &mut store,
        &job.claim,
        Outcome::Failed {
            mode: FailureMode::Internal,
            messages: vec![],
            full_message: Some("panic".to_owned()),
        },
        t(2),
    );
    let healthy = enqueue_at(&mut store, ids[1], "crm", t(500));
    enqueue_at(&mut store, ids[2], "crm", t(3));
    let flying = claim_one(&mut store, t(4));
    // The in-flight row is also a problem: it failed before.
    complete(&mut store, &flying.claim, recoverable(t(5), 5), t(4));
    let flying = claim_one(&mut store, t(6));

    assert_eq!(
        store
            .retry(&RetrySelection::AllProblems, t(7))
            .expect("retry"),
        [parked]
    );
    let r = row(&store, parked).expect("row");
    assert_eq!(
        (r.need_manual_retry, r.failed_attempts, r.not_before),
        (None, 0, t(7))
    );
    assert_eq!(row(&store, healthy).expect("row").not_before, t(500));
    assert_eq!(
        row(&store, flying.claim.id).expect("row").state,
        QueueState::InFlight
    );
}

#[test]
fn retry_of_an_in_flight_or_unknown_row_changes_nothing() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2"]);
    let parked = enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    complete(
        &mut store,
        &job.claim,
        Outcome::Failed {
            mode: FailureMode::Config,
            messages: vec![],
            full_message: None,
        },
        t(2),
    );
    enqueue_at(&mut store, ids[1], "crm", t(3));
    let flying = claim_one(&mut store, t(4));
    let err = store
        .retry(&RetrySelection::Ids(vec![parked, flying.claim.id]), t(5))
        .expect_err("in flight");
    assert!(
        matches!(err, StoreError::JobInFlight { id, since } if id == flying.claim.id && since == t(4))
    );
    assert_eq!(
        row(&store, parked).expect("row").state,
        QueueState::Parked(FailureMode::Config),
        "rolled back"
    );
    let err = store
        .retry(&RetrySelection::Ids(vec![QueueId(999)]), t(5))
        .expect_err("unknown");
    assert!(matches!(err, StoreError::JobNotFound { id: QueueId(999) }));
}

#[test]
fn cancel_refuses_in_flight_rows_with_a_clear_error() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2"]);
    let pending = enqueue_at(&mut store, ids[0], "crm", t(100));
    enqueue_at(&mut store, ids[1], "crm", t(0));
    let flying = claim_one(&mut store, t(1));
    let err = store
        .cancel(&[pending, flying.claim.id], t(2))
        .expect_err("in flight");
    assert!(matches!(err, StoreError::JobInFlight { id, .. } if id == flying.claim.id));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("queue job {}", flying.claim.id)),
        "{msg}"
    );
    assert!(msg.contains("wait until it finishes"), "{msg}");
    assert_eq!(rows(&store).len(), 2, "nothing canceled");
    assert!(actions(&store).is_empty());
}

#[test]
fn cancel_deletes_pending_and_parked_rows_and_logs() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2"]);
    let parked = enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    complete(
        &mut store,
        &job.claim,
        Outcome::Failed {
            mode: FailureMode::Permanent,
            messages: vec![],
            full_message: None,
        },
        t(2),
    );
    let pending = enqueue_at(&mut store, ids[1], "crm", t(100));
    assert_eq!(
        store
            .cancel(&[parked, pending, parked], t(3))
            .expect("cancel"),
        2
    );
    assert!(rows(&store).is_empty());
    let entries = store.log_entries(&LogFilter::default()).expect("log");
    let canceled: Vec<&LogEntry> = entries
        .iter()
        .filter(|e| e.action.ends_with(".canceled"))
        .collect();
    assert_eq!(canceled.len(), 2);
    assert_eq!(canceled[0].data["failure_mode"], json!("permanent"));
    let err = store.cancel(&[parked], t(4)).expect_err("gone");
    assert!(err.to_string().contains("not found"));
}

#[test]
fn list_queue_derives_states_and_filters_problems() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2", "A3", "A4"]);
    let failed_once = enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    complete(&mut store, &job.claim, recoverable(t(-5), 5), t(1));
    let parked = enqueue_at(&mut store, ids[1], "crm", t(-10));
    let job = claim_one(&mut store, t(-9));
    complete(
        &mut store,
        &job.claim,
        Outcome::Failed {
            mode: FailureMode::Permanent,
            messages: vec![],
            full_message: None,
        },
        t(-9),
    );
    let scheduled = enqueue_at(&mut store, ids[2], "crm", t(100));
    let flying = enqueue_at(&mut store, ids[3], "hook", t(-20));
    claim_one(&mut store, t(-19));

    let all = store
        .list_queue(&QueueFilter::default(), t(0))
        .expect("list");
    let state = |id| all.iter().find(|r| r.id == id).map(|r| r.state);
    assert_eq!(state(failed_once), Some(QueueState::Pending));
    assert_eq!(
        state(parked),
        Some(QueueState::Parked(FailureMode::Permanent))
    );
    assert_eq!(state(scheduled), Some(QueueState::Scheduled));
    assert_eq!(state(flying), Some(QueueState::InFlight));

    let problems = store
        .list_queue(
            &QueueFilter {
                problems_only: true,
                ..QueueFilter::default()
            },
            t(0),
        )
        .expect("problems");
    let mut problem_ids: Vec<QueueId> = problems.iter().map(|r| r.id).collect();
    problem_ids.sort();
    assert_eq!(problem_ids, [failed_once, parked]);

    let hook = store
        .list_queue(
            &QueueFilter {
                provider: Some("hook".to_owned()),
                ..QueueFilter::default()
            },
            t(0),
        )
        .expect("by provider");
    assert_eq!(hook.len(), 1);
}

// ---- results and log ---------------------------------------------------------------------

#[test]
fn results_upsert_one_row_per_order_position_provider_and_mapping() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    let sync = |store: &mut Store, provider: &str, results: Vec<ResultUpsert>, now: Timestamp| {
        store
            .enqueue(ids[0], provider, "t", None, now)
            .expect("enqueue");
        let job = claim_one(store, now.saturating_add(Duration::from_secs(1)));
        complete(
            store,
            &job.claim,
            Outcome::Success { results, log: None },
            now.saturating_add(Duration::from_secs(2)),
        );
    };
    let first = vec![
        result(None, 1, "order"),
        result(Some(11), 2, "p11"),
        result(Some(12), 2, "p12"),
    ];
    sync(&mut store, "crm", first, t(0));
    // Re-sync: order-level (NULL position) row and position 11 are updated, not duplicated.
    let mut updated = result(None, 1, "order-v2");
    updated.sync_info = json!({ "action": "update" }).to_string();
    sync(
        &mut store,
        "crm",
        vec![updated.clone(), result(Some(11), 2, "p11")],
        t(10),
    );
    // Same object keys for another provider are separate rows.
    sync(&mut store, "hook", vec![result(None, 1, "order")], t(20));

    let results = store.results_for_order("ev", "A1").expect("results");
    let keys: Vec<(&str, i64, Option<i64>)> = results
        .iter()
        .map(|r| (r.provider.as_str(), r.result.mapping_id, r.result.position))
        .collect();
    assert_eq!(
        keys,
        [
            ("crm", 1, None),
            ("crm", 2, Some(11)),
            ("crm", 2, Some(12)),
            ("hook", 1, None)
        ]
    );
    assert_eq!(results[0].result, updated);
    assert_eq!(results[0].transmitted, t(12));
    assert_eq!(
        results[2].transmitted,
        t(2),
        "p12 not re-synced keeps its time (stale rows stay, spec §3.2)"
    );
}

#[test]
fn log_entries_filter_by_event_order_and_provider() {
    let (_dir, mut store) = open();
    let a = seed(&mut store, "ev1", &["A1", "A2"]);
    let b = seed(&mut store, "ev2", &["A1"]);
    for (id, provider) in [(a[0], "crm"), (a[1], "crm"), (b[0], "hook")] {
        enqueue_at(&mut store, id, provider, t(0));
    }
    let jobs = store.claim_due(t(1), 10, LEASE).expect("claim");
    let batch: Vec<Completion> = jobs
        .iter()
        .map(|j| Completion {
            claim: j.claim.clone(),
            outcome: Outcome::Failed {
                mode: FailureMode::Permanent,
                messages: vec![],
                full_message: None,
            },
        })
        .collect();
    store.complete(&batch, t(2)).expect("complete");
    let count = |filter: LogFilter| store.log_entries(&filter).expect("log").len();
    assert_eq!(count(LogFilter::default()), 3);
    assert_eq!(
        count(LogFilter {
            event: Some("ev1".into()),
            ..LogFilter::default()
        }),
        2
    );
    assert_eq!(
        count(LogFilter {
            event: Some("ev1".into()),
            order_code: Some("A1".into()),
            ..LogFilter::default()
        }),
        1
    );
    assert_eq!(
        count(LogFilter {
            provider: Some("hook".into()),
            ..LogFilter::default()
        }),
        1
    );
}

#[test]
fn a_batch_of_completions_is_all_or_nothing() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1"]);
    enqueue_at(&mut store, ids[0], "crm", t(0));
    let job = claim_one(&mut store, t(1));
    // A result whose order does not exist violates the foreign key: the whole batch fails.
    let mut bogus = job.claim.clone();
    bogus.order = OrderId(777);
    let err = store.complete(
        &[
            Completion {
                claim: job.claim.clone(),
                outcome: Outcome::Success {
                    results: vec![],
                    log: None,
                },
            },
            Completion {
                claim: bogus,
                outcome: Outcome::Success {
                    results: vec![result(None, 1, "x")],
                    log: None,
                },
            },
        ],
        t(2),
    );
    assert!(err.is_err());
    assert_eq!(
        rows(&store)[0].state,
        QueueState::InFlight,
        "first completion rolled back"
    );
}

#[test]
fn claim_jobs_claims_only_the_given_rows_that_are_due() {
    let (_dir, mut store) = open();
    let ids = seed(&mut store, "ev", &["A1", "A2", "A3", "A4"]);
    let due = enqueue_at(&mut store, ids[0], "crm", t(1));
    let other_due = enqueue_at(&mut store, ids[1], "crm", t(1));
    let later = enqueue_at(&mut store, ids[2], "crm", t(500));
    let parked = enqueue_at(&mut store, ids[3], "crm", t(1));
    let parking = store
        .claim_jobs(&[parked], t(2), LEASE)
        .expect("claim")
        .remove(0);
    let permanent = Outcome::Failed {
        mode: FailureMode::Permanent,
        messages: vec!["no".to_owned()],
        full_message: None,
    };
    complete(&mut store, &parking.claim, permanent, t(2));

    let claimed = store
        .claim_jobs(&[later, due, parked, QueueId(999)], t(3), LEASE)
        .expect("claim");
    let claimed: Vec<QueueId> = claimed.iter().map(|j| j.claim.id).collect();
    assert_eq!(claimed, [due], "only the due row of those asked for");
    let rest: Vec<QueueId> = store
        .claim_due(t(5), 10, LEASE)
        .expect("claim")
        .iter()
        .map(|j| j.claim.id)
        .collect();
    assert_eq!(
        rest,
        [other_due],
        "the other due row stays for the next claim"
    );
    assert!(
        store
            .claim_jobs(&[due], t(4), LEASE)
            .expect("claim")
            .is_empty(),
        "a row in flight is not claimed twice"
    );
}
