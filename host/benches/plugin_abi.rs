//! What the plugin boundary costs: one no-op `sync_object` through the ABI against the
//! same provider called as a plain Rust trait object, and the time to load one plugin
//! library (dlopen + abi_stable layout check + root module + registration).
//!
//! Run with `cargo bench -p datasync-host --bench plugin_abi`; it builds the release
//! `noop` library itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use datasync_host::plugins::Registry;
use datasync_plugin_api::std_types::{ROption, RSlice, RStr};
use datasync_plugin_api::{
    EventContext, Mapping, Mode, ObjectRequest, PretixModel, Property, Provider, Value,
};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Builds the release noop library and returns its path.
fn release_noop_library() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--release", "--quiet", "-p", "datasync-noop"])
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the noop plugin failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("release").join(format!(
        "{}noop{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

fn event() -> EventContext {
    EventContext {
        slug: "bench".into(),
        ..EventContext::default()
    }
}

fn mapping() -> Mapping {
    Mapping {
        id: 1,
        pretix_model: PretixModel::OrderPosition,
        external_object_type: "ticket".into(),
        pretix_id_field: "ticket_id".into(),
        external_id_field: "ticket".into(),
        property_mappings: Default::default(),
        extra_json: "{}".into(),
    }
}

fn properties() -> Vec<Property> {
    (0..6)
        .map(|i| Property::new(&format!("field_{i}"), format!("value {i}"), Mode::Overwrite))
        .collect()
}

fn bench_sync_object(c: &mut Criterion, library: &Path) {
    let registry = Registry::load_dir(library.parent().expect("has folder")).expect("loads");
    let loaded = registry.get("noop").expect("noop registered");
    let mut through_abi = loaded.instantiate(&event(), "{}").expect("constructs");
    let mut direct = noop::Noop::new(&event(), &serde_json::json!({})).expect("constructs");

    let mapping = mapping();
    let id_value = Value::str("ABCDE-1");
    let properties = properties();
    let order_json = r#"{"code": "ABCDE"}"#;
    let request = ObjectRequest {
        external_id_field: RStr::from_str("ticket"),
        id_value: &id_value,
        properties: RSlice::from_slice(&properties),
        mapping: &mapping,
        mapped_objects: RSlice::from_slice(&[]),
        order_json: RStr::from_str(order_json),
        position_id: ROption::RSome(1),
        position_json: ROption::RNone,
    };

    let mut group = c.benchmark_group("noop sync_object");
    group.bench_function("direct Rust call", |b| {
        b.iter(|| std::hint::black_box(direct.sync_object(std::hint::black_box(&request))))
    });
    group.bench_function("through the ABI", |b| {
        b.iter(|| std::hint::black_box(through_abi.sync_object(std::hint::black_box(&request))))
    });
    group.finish();
}

/// Each load needs a fresh file: the OS returns the already-mapped library for a path
/// (or inode) it has seen. At most `MAX_LOADS` real loads per sample; the time is scaled
/// to the iteration count criterion asks for, since thousands of copies would fill the disk.
fn bench_load(c: &mut Criterion, library: &Path) {
    const MAX_LOADS: u64 = 8;
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut counter = 0u64;
    let mut group = c.benchmark_group("plugin library");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200));
    group.bench_function("load one library", |b| {
        b.iter_custom(|iters| {
            let loads = iters.clamp(1, MAX_LOADS);
            let mut elapsed = Duration::ZERO;
            for _ in 0..loads {
                counter += 1;
                let folder = scratch.path().join(counter.to_string());
                std::fs::create_dir(&folder).expect("mkdir");
                std::fs::copy(
                    library,
                    folder.join(library.file_name().expect("file name")),
                )
                .expect("copy");
                let start = Instant::now();
                let registry = Registry::load_dir(&folder).expect("loads");
                elapsed += start.elapsed();
                assert_eq!(registry.providers().count(), 1);
            }
            elapsed.mul_f64(iters as f64 / loads as f64)
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let library = release_noop_library();
    bench_sync_object(c, &library);
    bench_load(c, &library);
}

criterion_group!(plugin_abi, benches);
criterion_main!(plugin_abi);
