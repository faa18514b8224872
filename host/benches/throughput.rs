//! Queue throughput through the real `noop` plugin into a real on-disk SQLite file (WAL).
//!
//! `cargo bench -p datasync-host --bench throughput` prints one table row per scenario:
//! import+enqueue and sync rates for N synthetic orders (2 positions each; one Order and
//! one OrderPosition mapping with 6 properties each), peak RSS per phase, immediate-mode
//! latency, and a run with 1 000 000 jobs queued. Each scenario runs in its own child
//! process so the peak RSS figures do not mix. `-- --quick` runs only N = 10 000.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datasync_host::config::Config;
use datasync_host::import::import_document;
use datasync_host::plugins::Registry;
use datasync_host::store::{Store, Timestamp};
use datasync_host::sync::Worker;
use serde_json::{json, Value};

/// Orders per imported document, as a paginated pretix export would deliver them.
const CHUNK: usize = 10_000;

const CONFIG: &str = r#"
[[provider]]
identifier = "noop"
concurrency = 4

[[provider.mapping]]
id = 1
model = "Order"
external_object_type = "order"
pretix_id_field = "event_order_code"
external_id_field = "code"
properties = [
  { pretix_field = "email", external_field = "email" },
  { pretix_field = "order_status", external_field = "status" },
  { pretix_field = "order_total", external_field = "total" },
  { pretix_field = "order_date", external_field = "date" },
  { pretix_field = "order_locale", external_field = "locale" },
  { pretix_field = "event_slug", external_field = "event" },
]

[[provider.mapping]]
id = 2
model = "OrderPosition"
external_object_type = "ticket"
pretix_id_field = "ticket_id"
external_id_field = "ticket"
properties = [
  { pretix_field = "attendee_name", external_field = "name" },
  { pretix_field = "attendee_email", external_field = "email" },
  { pretix_field = "product", external_field = "product" },
  { pretix_field = "ticket_price", external_field = "price" },
  { pretix_field = "ticket_status", external_field = "status" },
  { pretix_field = "attendee_name_given_name", external_field = "given_name", mode = "if_empty" },
]
"#;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Builds the release noop library into a plugins folder of its own.
fn plugins_dir(scratch: &Path) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--release", "--quiet", "-p", "datasync-noop"])
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the noop plugin failed");
    let name = format!(
        "{}noop{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let dir = scratch.join("plugins");
    std::fs::create_dir_all(&dir).expect("mkdir plugins");
    std::fs::copy(target_dir().join("release").join(&name), dir.join(&name)).expect("copy noop");
    dir
}

/// The sample event's non-order parts, from the conformance corpus.
fn event_parts() -> Value {
    let path = workspace_root().join("tests/fixtures/pretix-sample/import.json");
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read sample")).expect("json");
    if let Some(o) = doc.as_object_mut() {
        o.remove("orders");
    }
    doc
}

fn synthetic_order(n: usize, item: i64) -> Value {
    let code = format!("B{n:07}");
    let position = |k: usize| {
        json!({
            "id": n * 2 + k, "positionid": k, "item": item, "variation": null, "price": "49.00",
            "attendee_name_parts": {"_scheme": "given_family", "given_name": format!("Given{n}"), "family_name": "Family"},
            "attendee_email": format!("att{n}-{k}@example.org"), "addon_to": null, "subevent": null,
            "voucher": null, "answers": [], "checkins": [], "canceled": false,
        })
    };
    json!({
        "code": code, "status": if n % 3 == 0 { "n" } else { "p" }, "email": format!("buyer{n}@example.com"),
        "locale": "en", "datetime": "2026-05-01T09:00:00Z", "total": "98.00", "invoice_address": null,
        "payments": [], "positions": [position(1), position(2)],
    })
}

/// Import documents of `CHUNK` orders each, numbered from `first`.
fn documents(event: &Value, first: usize, count: usize) -> impl Iterator<Item = String> + '_ {
    let item = event["items"][0]["id"].as_i64().unwrap_or(1);
    (first..first + count).step_by(CHUNK).map(move |start| {
        let end = (start + CHUNK).min(first + count);
        let mut doc = event.clone();
        doc["orders"] = Value::Array((start..end).map(|n| synthetic_order(n, item)).collect());
        doc.to_string()
    })
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

struct Setup {
    _scratch: tempfile::TempDir,
    config: Config,
    registry_dir: PathBuf,
}

fn setup() -> Setup {
    let scratch = tempfile::tempdir().expect("tempdir");
    let registry_dir = plugins_dir(scratch.path());
    let config_path = scratch.path().join("datasync.toml");
    let config = Config::parse(CONFIG, &config_path).expect("config");
    Setup {
        _scratch: scratch,
        config,
        registry_dir,
    }
}

fn import(setup: &Setup, store: &mut Store, event: &Value, first: usize, count: usize) -> Duration {
    let mut spent = Duration::ZERO;
    for doc in documents(event, first, count) {
        let start = Instant::now();
        let now = Timestamp::now();
        import_document(store, &setup.config, "bench", &doc, now, &mut |_, _| {}).expect("import");
        spent += start.elapsed();
    }
    spent
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Child process 1 of a scenario: imports `n` orders into the database at `db`, in
/// batches of 100 000 so the documents never all sit in memory at once.
fn scenario_import(n: usize, db: &Path) {
    let setup = setup();
    let event = event_parts();
    let mut store = Store::open(db).expect("open");
    let mut import_time = Duration::ZERO;
    for first in (0..n).step_by(100_000) {
        import_time += import(&setup, &mut store, &event, first, 100_000.min(n - first));
    }
    println!(
        "IMPORT|{:.0}|{:.0}|{:.0}",
        n as f64 / import_time.as_secs_f64(),
        (n * 3) as f64 / import_time.as_secs_f64(),
        peak_rss_mb()
    );
}

/// Child process 2 of a scenario: a fresh host syncs every queued job of `db`, so its
/// peak RSS is the sync's alone.
fn scenario_sync(n: usize, db: &Path) {
    let setup = setup();
    let store = Store::open(db).expect("open");
    let registry = Registry::load_dir(&setup.registry_dir).expect("plugins");
    let worker = Worker::new(store, registry, setup.config.clone());
    let start = Instant::now();
    let summary = runtime().block_on(worker.run_until_idle()).expect("sync");
    let sync_time = start.elapsed();
    assert_eq!(summary.succeeded, n, "every order synced");
    println!(
        "SYNC|{:.0}|{:.0}|{:.0}",
        n as f64 / sync_time.as_secs_f64(),
        summary.objects as f64 / sync_time.as_secs_f64(),
        peak_rss_mb()
    );
}

/// Immediate mode: enqueue one job, wake the daemon, time until its batch is written.
fn scenario_latency() {
    const SAMPLES: usize = 2000;
    let setup = setup();
    let event = event_parts();
    let mut store = Store::open(setup._scratch.path().join("latency.db")).expect("open");
    import(&setup, &mut store, &event, 0, SAMPLES);
    let registry = Registry::load_dir(&setup.registry_dir).expect("plugins");
    let worker = Arc::new(Worker::new(store, registry, setup.config.clone()));
    let rt = runtime();
    // Drain the import's jobs first, then time single enqueues against the idle daemon.
    rt.block_on(worker.run_until_idle()).expect("drain");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = {
        let worker = worker.clone();
        rt.spawn(async move {
            worker
                .run(async {
                    let _ = stop_rx.await;
                })
                .await
        })
    };
    let mut completed = worker.completions();
    let orders: Vec<_> = (0..SAMPLES)
        .map(|n| {
            worker
                .store()
                .order("conf26", &format!("B{n:07}"))
                .expect("read")
                .expect("order")
                .id
        })
        .collect();
    let mut latencies = Vec::with_capacity(SAMPLES);
    for order in orders {
        let start = Instant::now();
        worker
            .store()
            .enqueue(order, "noop", "bench", None, Timestamp::now())
            .expect("enqueue");
        completed.borrow_and_update();
        worker.wake();
        rt.block_on(completed.changed()).expect("worker alive");
        latencies.push(start.elapsed());
    }
    let _ = stop_tx.send(());
    let _ = rt.block_on(daemon);
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "LATENCY|p50 {:.2} ms|p99 {:.2} ms|max {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
}

fn run_child(scenario: &str, db: &Path) -> Vec<String> {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe)
        .env("DATASYNC_BENCH_SCENARIO", scenario)
        .env("DATASYNC_BENCH_DB", db)
        .output()
        .expect("run scenario");
    std::io::stderr().write_all(&out.stderr).ok();
    assert!(out.status.success(), "scenario {scenario} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn fields<'a>(lines: &'a [String], tag: &str) -> Vec<&'a str> {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(tag))
        .map(|rest| rest.split('|').collect())
        .unwrap_or_default()
}

fn main() {
    if let Ok(scenario) = std::env::var("DATASYNC_BENCH_SCENARIO") {
        let db = PathBuf::from(std::env::var_os("DATASYNC_BENCH_DB").unwrap_or_default());
        match scenario.split_once(':') {
            Some(("import", n)) => scenario_import(n.parse().expect("order count"), &db),
            Some(("sync", n)) => scenario_sync(n.parse().expect("order count"), &db),
            _ => scenario_latency(),
        }
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let mut counts = vec![10_000];
    if !quick {
        counts.extend([100_000, 1_000_000]);
    }
    println!("datasync queue throughput: noop plugin, SQLite WAL on disk, 2 positions/order, 2 mappings x 6 properties");
    println!("(import and sync run in separate processes, so each peak RSS is that phase's own)");
    println!();
    println!(
        "| {:>9} | {:>15} | {:>16} | {:>13} | {:>14} | {:>14} | {:>12} |",
        "orders",
        "import orders/s",
        "import objects/s",
        "sync orders/s",
        "sync objects/s",
        "import peak MB",
        "sync peak MB"
    );
    println!(
        "|{:-<11}|{:-<17}|{:-<18}|{:-<15}|{:-<16}|{:-<16}|{:-<14}|",
        "", "", "", "", "", "", ""
    );
    for n in counts {
        let scratch = tempfile::tempdir().expect("tempdir");
        let db = scratch.path().join("bench.db");
        let import = run_child(&format!("import:{n}"), &db);
        let sync = run_child(&format!("sync:{n}"), &db);
        let (i, s) = (fields(&import, "IMPORT|"), fields(&sync, "SYNC|"));
        if let ([ir, io, im], [sr, so, sm]) = (i.as_slice(), s.as_slice()) {
            println!(
                "| {n:>9} | {ir:>15} | {io:>16} | {sr:>13} | {so:>14} | {im:>14} | {sm:>12} |"
            );
        }
    }
    println!();
    let scratch = tempfile::tempdir().expect("tempdir");
    for line in run_child("latency", &scratch.path().join("unused.db")) {
        if let Some(row) = line.strip_prefix("LATENCY|") {
            println!(
                "immediate mode, enqueue -> synced and committed: {}",
                row.replace('|', ", ")
            );
        }
    }
}
