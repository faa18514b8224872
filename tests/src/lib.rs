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
    "datasync-webhook",
    "datasync-crm-sqlite",
    "datasync-jsonl",
    "fixture-not-a-plugin",
    "fixture-panicking-root-module",
    "fixture-future-api",
    "fixture-layout-mismatch",
    "fixture-bad-identifier",
    "fixture-duplicate",
    "fixture-spec-fake-api",
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

/// A working folder for one test: plugins folder, config file and database, and the
/// real `datasync` binary run inside it.
pub struct Sandbox {
    root: tempfile::TempDir,
}

/// What one run of the binary printed.
#[derive(Debug)]
pub struct Output {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// Stdout parsed as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Sandbox {
    /// A sandbox whose plugins folder holds the given built libraries.
    pub fn with_plugins(lib_names: &[&str]) -> Sandbox {
        let root = tempfile::tempdir().expect("tempdir");
        let pairs: Vec<(&str, &str)> = lib_names.iter().map(|n| (*n, *n)).collect();
        install(&root.path().join("plugins"), &pairs);
        Sandbox { root }
    }

    /// The sandbox folder (the binary's working folder).
    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// Writes `datasync.toml`.
    pub fn write_config(&self, toml: &str) {
        std::fs::write(self.path().join("datasync.toml"), toml).expect("write config");
    }

    /// Removes a plugin library from the plugins folder.
    pub fn remove_plugin(&self, lib_name: &str) {
        std::fs::remove_file(
            self.path()
                .join("plugins")
                .join(library_file_name(lib_name)),
        )
        .expect("remove plugin");
    }

    /// Installs a plugin library into the plugins folder.
    pub fn add_plugin(&self, lib_name: &str) {
        install(&self.path().join("plugins"), &[(lib_name, lib_name)]);
    }

    /// Runs `datasync ARGS` in the sandbox.
    pub fn run(&self, args: &[&str]) -> Output {
        let (code, stdout, stderr) = run_datasync(self.path(), args);
        Output {
            code,
            stdout,
            stderr,
        }
    }

    /// Runs `datasync ARGS` and insists on exit code 0.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(
            out.code, 0,
            "datasync {args:?} failed:\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        out
    }

    /// Starts `datasync ARGS` in the background.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        Command::new(datasync_bin())
            .current_dir(self.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn datasync")
    }

    /// The queue as `datasync queue --json` lists it.
    pub fn queue(&self) -> Vec<serde_json::Value> {
        let out = self.ok(&["queue", "--json"]);
        out.json()["jobs"].as_array().cloned().unwrap_or_default()
    }

    /// The log as `datasync log --json` lists it.
    pub fn log(&self) -> Vec<serde_json::Value> {
        let out = self.ok(&["log", "--json"]);
        out.json()["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// A file of the repository's test fixtures.
pub fn fixture(relative: &str) -> PathBuf {
    workspace_root()
        .join("tests")
        .join("fixtures")
        .join(relative)
}
