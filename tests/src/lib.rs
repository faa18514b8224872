//! Shared support for the integration tests in `tests/tests/`: builds the real plugin
//! libraries and the `datasync` binary once (through cargo, into the workspace's target
//! folder), and lays out plugins folders in temp dirs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The library suffix of this platform.
pub const SUFFIX: &str = std::env::consts::DLL_SUFFIX;
/// The library prefix of this platform (`lib` on Unix).
pub const PREFIX: &str = std::env::consts::DLL_PREFIX;

/// Packages the tests need built: the example providers, the broken-library fixtures
/// and the host binary.
const PACKAGES: &[&str] = &[
    "datasync-host",
    "datasync-noop",
    "datasync-faulty",
    "fixture-not-a-plugin",
    "fixture-panicking-root-module",
    "fixture-bad-identifier",
    "fixture-duplicate",
];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Builds every package the tests need (once per test process) and returns the folder
/// holding the artifacts. cargo makes this a no-op when nothing changed.
pub fn artifacts() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(workspace_root())
            .arg("build")
            .arg("--quiet");
        for package in PACKAGES {
            command.args(["-p", package]);
        }
        let status = command
            .status()
            .expect("run cargo build for the test plugins");
        assert!(status.success(), "cargo build of the test plugins failed");
        target_dir().join("debug")
    })
}

/// Path of a built library by its crate's lib name (e.g. `noop`).
pub fn library(lib_name: &str) -> PathBuf {
    artifacts().join(format!("{PREFIX}{lib_name}{SUFFIX}"))
}

/// The built `datasync` binary.
pub fn datasync_bin() -> PathBuf {
    artifacts().join(format!("datasync{}", std::env::consts::EXE_SUFFIX))
}

/// The library file name for a plugin called `stem` (e.g. `libnoop.so`).
pub fn library_file_name(stem: &str) -> String {
    format!("{PREFIX}{stem}{SUFFIX}")
}

/// Copies built libraries into `dir` as `(lib_name, file_stem)` pairs.
pub fn install(dir: &Path, libs: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).expect("create plugins dir");
    for (lib_name, stem) in libs {
        std::fs::copy(library(lib_name), dir.join(library_file_name(stem)))
            .unwrap_or_else(|e| panic!("copy {lib_name} into {}: {e}", dir.display()));
    }
}

/// A fresh temp dir holding a `plugins/` folder with the given libraries, each under
/// its own name.
pub fn plugins_dir_with(lib_names: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().expect("tempdir");
    let plugins = root.path().join("plugins");
    let pairs: Vec<(&str, &str)> = lib_names.iter().map(|n| (*n, *n)).collect();
    install(&plugins, &pairs);
    (root, plugins)
}

/// Runs the `datasync` binary with `args` in `cwd`; returns (exit code, stdout, stderr).
pub fn run_datasync(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(datasync_bin())
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run datasync");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
