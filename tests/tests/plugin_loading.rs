//! Loading provider libraries through the real ABI: good plugins register, every kind of
//! broken file gets its own diagnostic, and panics inside a provider stay inside it.

use std::path::Path;

use datasync_host::plugins::{LoadError, ProviderHandle, Registry};
use datasync_plugin_api::std_types::{ROption, RSlice, RStr};
use datasync_plugin_api::{
    ErrorKind, EventContext, Mapping, Mode, ObjectRequest, PretixModel, Property, SyncError,
    SyncInfo, Value,
};
use datasync_tests::{install, library_file_name, plugins_dir_with, run_datasync};

fn event() -> EventContext {
    EventContext {
        organizer: "org".into(),
        slug: "conf".into(),
        name: "Conference".into(),
        locales: vec!["en".into()].into(),
        name_scheme: "given_family".into(),
    }
}

fn mapping() -> Mapping {
    Mapping {
        id: 1,
        pretix_model: PretixModel::Order,
        external_object_type: "order".into(),
        pretix_id_field: "order_code".into(),
        external_id_field: "code".into(),
        property_mappings: Default::default(),
        extra_json: "{}".into(),
    }
}

fn sync_one(handle: &mut ProviderHandle, order_code: &str) -> Result<Option<SyncInfo>, SyncError> {
    let mapping = mapping();
    let id_value = Value::str(order_code);
    let properties = [Property::new("email", "a@example.org", Mode::Overwrite)];
    let order_json = format!(r#"{{"code": "{order_code}"}}"#);
    let request = ObjectRequest {
        external_id_field: RStr::from_str("code"),
        id_value: &id_value,
        properties: RSlice::from_slice(&properties),
        mapping: &mapping,
        mapped_objects: RSlice::from_slice(&[]),
        order_json: RStr::from_str(&order_json),
        position_id: ROption::RNone,
        position_json: ROption::RNone,
    };
    handle.sync_object(&request)
}

fn registry_of(libs: &[&str]) -> (tempfile::TempDir, Registry) {
    let (root, dir) = plugins_dir_with(libs);
    let registry = Registry::load_dir(&dir).expect("plugins dir readable");
    (root, registry)
}

/// A folder with both good plugins and one of every kind of broken file.
fn mixed_plugins_dir(dir: &Path) {
    install(
        dir,
        &[
            ("noop", "noop"),
            ("faulty", "faulty"),
            ("fixture_not_a_plugin", "not_a_plugin"),
            ("fixture_panicking_root_module", "panicking_root"),
            ("fixture_future_api", "future_api"),
            ("fixture_layout_mismatch", "layout_mismatch"),
            ("fixture_bad_identifier", "bad_identifier"),
            ("fixture_duplicate", "dup_a"),
            ("fixture_duplicate", "dup_b"),
        ],
    );
    std::fs::write(dir.join(library_file_name("empty")), b"").expect("write empty");
    let noise: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join(library_file_name("random_bytes")), noise).expect("write noise");
}

fn reason_for<'a>(rejected: &'a [serde_json::Value], stem: &str) -> &'a str {
    let name = library_file_name(stem);
    rejected
        .iter()
        .find(|r| r["file"].as_str().is_some_and(|f| f.ends_with(&name)))
        .and_then(|r| r["reason"].as_str())
        .unwrap_or_else(|| panic!("{name} is not among the rejected files: {rejected:?}"))
}

#[test]
fn plugins_command_lists_good_providers_names_each_broken_file_and_exits_2() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("plugins");
    mixed_plugins_dir(&dir);
    let dir_arg = dir.to_str().expect("utf-8 path");

    let (code, stdout, stderr) = run_datasync(
        root.path(),
        &["plugins", "--plugins-dir", dir_arg, "--json"],
    );
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("--json prints JSON");

    let ids: Vec<&str> = report["providers"]
        .as_array()
        .expect("providers array")
        .iter()
        .filter_map(|p| p["identifier"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "duplicate_demo",
            "faulty",
            "fixture_valid_neighbour",
            "noop"
        ]
    );
    let noop = &report["providers"][3];
    assert_eq!(noop["api_version"], "1.0.0");
    assert_eq!(noop["max_attempts"], 5);
    assert!(noop["library"]
        .as_str()
        .is_some_and(|l| l.ends_with(&library_file_name("noop"))));

    let rejected = report["rejected"].as_array().expect("rejected array");
    assert_eq!(rejected.len(), 8, "{rejected:#?}");
    assert!(reason_for(rejected, "empty").starts_with("not a loadable shared library"));
    assert!(reason_for(rejected, "random_bytes").starts_with("not a loadable shared library"));
    assert!(reason_for(rejected, "not_a_plugin").contains("not a datasync plugin"));
    assert!(reason_for(rejected, "panicking_root").contains("root module constructor panicked"));
    let future = reason_for(rejected, "future_api");
    assert!(
        future.contains("datasync-plugin-api 2.0.0") && future.contains("speaks 1.0.0"),
        "{future}"
    );
    assert!(reason_for(rejected, "layout_mismatch").contains("type layout mismatch"));
    assert!(
        reason_for(rejected, "bad_identifier").contains("\"Not A Valid Identifier!\" is invalid")
    );
    let duplicate = reason_for(rejected, "dup_b");
    assert!(
        duplicate.contains("\"duplicate_demo\" is already registered by"),
        "{duplicate}"
    );
    assert!(
        duplicate.contains(&library_file_name("dup_a")),
        "{duplicate}"
    );
}

#[test]
fn plugins_command_exits_0_and_prints_a_table_when_every_file_loads() {
    let (root, dir) = plugins_dir_with(&["noop", "faulty"]);
    let (code, stdout, _) = run_datasync(
        root.path(),
        &["plugins", "--plugins-dir", dir.to_str().expect("utf-8")],
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("noop"), "{stdout}");
    assert!(stdout.contains("faulty"), "{stdout}");
    assert!(!stdout.contains("rejected"), "{stdout}");
}

#[test]
fn two_libraries_in_one_process_each_keep_their_own_providers() {
    // abi_stable's RootModule::load_from_file would hand back the first library for the
    // second path (abi_stable issue #92); the loader must not.
    let (_root, registry) = registry_of(&["noop", "faulty"]);
    let noop = registry.get("noop").expect("noop registered");
    let faulty = registry.get("faulty").expect("faulty registered");
    assert_ne!(noop.library, faulty.library);

    let mut noop = noop.instantiate(&event(), "{}").expect("noop constructs");
    let info = sync_one(&mut noop, "AAAAA")
        .expect("noop succeeds")
        .expect("noop syncs");
    assert_eq!(
        info.action.as_ref().map(|a| a.as_str()).into_option(),
        Some("create")
    );

    let mut faulty = faulty
        .instantiate(&event(), r#"{"mode": "permanent"}"#)
        .expect("faulty constructs");
    let err = sync_one(&mut faulty, "AAAAA").expect_err("faulty fails as configured");
    assert_eq!(err.kind, ErrorKind::Permanent);
}

#[test]
fn a_panic_in_sync_object_is_an_internal_error_and_the_host_lives_on() {
    let (_root, registry) = registry_of(&["faulty"]);
    let faulty = registry.get("faulty").expect("faulty registered");
    let mut handle = faulty
        .instantiate(&event(), r#"{"mode": "panic"}"#)
        .expect("constructs");
    let err = sync_one(&mut handle, "AAAAA").expect_err("panic becomes an error");
    assert_eq!(err.kind, ErrorKind::Internal);
    assert_eq!(err.kind.failure_mode(), Some("internal"));
    assert!(err.message().contains("panicked in sync_object"), "{err}");
    // The same instance and the host are still usable.
    let again = sync_one(&mut handle, "AAAAB").expect_err("still answers");
    assert_eq!(again.kind, ErrorKind::Internal);
    handle.close().expect("closes");
}

#[test]
fn a_panic_in_the_provider_constructor_is_an_internal_error() {
    let (_root, registry) = registry_of(&["faulty"]);
    let faulty = registry.get("faulty").expect("faulty registered");
    let err = faulty
        .instantiate(&event(), r#"{"mode": "panic_in_constructor"}"#)
        .err()
        .expect("constructor panic becomes an error");
    assert_eq!(err.kind, ErrorKind::Internal);
    assert!(
        err.message().contains("panicked in its constructor"),
        "{err}"
    );
}

#[test]
fn settings_that_are_not_json_are_a_config_error_naming_the_plugin() {
    let (_root, registry) = registry_of(&["noop"]);
    let err = registry
        .get("noop")
        .expect("noop registered")
        .instantiate(&event(), "{not json")
        .err()
        .expect("bad settings fail");
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message().contains("plugin noop"), "{err}");
}

#[test]
fn garbage_sync_info_from_a_provider_fails_as_internal() {
    let (_root, registry) = registry_of(&["faulty"]);
    let mut handle = registry
        .get("faulty")
        .expect("faulty registered")
        .instantiate(&event(), r#"{"mode": "garbage"}"#)
        .expect("constructs");
    let err = sync_one(&mut handle, "AAAAA").expect_err("garbage is refused");
    assert_eq!(err.kind, ErrorKind::Internal);
    assert!(err.message().contains("not a JSON object"), "{err}");
}

#[test]
fn loader_classifies_each_broken_file_with_its_own_error() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("plugins");
    mixed_plugins_dir(&dir);
    let registry = Registry::load_dir(&dir).expect("readable");
    let kind_of = |stem: &str| {
        let name = library_file_name(stem);
        registry
            .rejected()
            .iter()
            .find(|r| r.file.ends_with(&name))
            .map(|r| r.error.clone())
            .unwrap_or_else(|| panic!("{name} not rejected"))
    };
    assert!(matches!(kind_of("empty"), LoadError::NotALibrary { .. }));
    assert!(matches!(
        kind_of("random_bytes"),
        LoadError::NotALibrary { .. }
    ));
    assert!(matches!(kind_of("not_a_plugin"), LoadError::NotAPlugin));
    assert!(matches!(
        kind_of("panicking_root"),
        LoadError::RootModuleFailed { .. }
    ));
    assert!(matches!(
        kind_of("bad_identifier"),
        LoadError::InvalidIdentifier { .. }
    ));
    assert!(matches!(
        kind_of("dup_b"),
        LoadError::DuplicateIdentifier { .. }
    ));
}

#[test]
fn a_missing_plugins_folder_loads_no_providers_without_failing() {
    let root = tempfile::tempdir().expect("tempdir");
    let registry = Registry::load_dir(&root.path().join("nope")).expect("missing folder is fine");
    assert_eq!(registry.providers().count(), 0);
    assert!(registry.rejected().is_empty());
}
