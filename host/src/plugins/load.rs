//! Loading one library file and turning every way it can fail into a diagnostic that
//! names the file and the way out.

use std::path::Path;

use abi_stable::library::{
    lib_header_from_path, AbiHeader, LibraryError, RootModule, RootModuleError,
};
use datasync_plugin_api::abi::PluginLibraryRef;

/// Why a library file was not loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The OS loader refused the file (empty, random bytes, wrong architecture …).
    #[error("not a loadable shared library ({detail}); remove it from the plugins folder or replace it with a built provider library")]
    NotALibrary {
        /// The OS loader's message.
        detail: String,
    },
    /// A real shared library that exports no datasync root module.
    #[error("a shared library, but not a datasync plugin (it exports no abi_stable root module); only put provider libraries built with datasync-plugin-api into the plugins folder")]
    NotAPlugin,
    /// Built against an abi_stable whose ABI differs from the host's.
    #[error("built against an incompatible abi_stable (plugin ABI {plugin}, host ABI {host}); rebuild the plugin against datasync-plugin-api {api}")]
    IncompatibleAbiStable {
        /// The plugin's abi_stable ABI version.
        plugin: String,
        /// The host's.
        host: String,
        /// The plugin-api version to build against.
        api: String,
    },
    /// Built against another major (or 0.x minor) version of datasync-plugin-api.
    #[error("built against datasync-plugin-api {plugin}, but this host speaks {host}; rebuild the plugin against datasync-plugin-api {host}")]
    IncompatibleApiVersion {
        /// The plugin's plugin-api version.
        plugin: String,
        /// The host's.
        host: String,
    },
    /// The plugin's types differ in layout from the host's.
    #[error("type layout mismatch with this host (the plugin was built against a different datasync-plugin-api {api} source): {detail}; rebuild the plugin against the released crate")]
    LayoutMismatch {
        /// The plugin-api version both claim.
        api: String,
        /// abi_stable's first reported difference.
        detail: String,
    },
    /// The library's root-module constructor returned an error or panicked.
    #[error(
        "the library's root module constructor {detail}; the plugin is broken, contact its author"
    )]
    RootModuleFailed {
        /// `panicked` or `failed: <message>`.
        detail: String,
    },
    /// A provider in the library has an identifier outside `[a-z0-9_.-]{1,128}`.
    #[error("provider identifier {identifier:?} is invalid (1-128 characters of a-z, 0-9, '_', '.', '-'); the plugin must be fixed by its author")]
    InvalidIdentifier {
        /// The offending identifier.
        identifier: String,
    },
    /// Another library, loaded first, already registered this identifier.
    #[error("provider {identifier:?} is already registered by {first}; the first library in sorted order wins, remove one of the two files")]
    DuplicateIdentifier {
        /// The identifier.
        identifier: String,
        /// The file that registered it first.
        first: String,
    },
    /// Anything abi_stable reports that the cases above do not cover.
    #[error("could not be loaded: {detail}")]
    Other {
        /// abi_stable's message.
        detail: String,
    },
}

/// Loads a library and returns its root module. The library is never unloaded.
pub fn load_library(path: &Path) -> Result<PluginLibraryRef, LoadError> {
    let header = lib_header_from_path(path).map_err(classify)?;
    header
        .init_root_module::<PluginLibraryRef>()
        .map_err(classify)
}

fn host_api_version() -> String {
    <PluginLibraryRef as RootModule>::VERSION_STRINGS
        .version
        .to_string()
}

fn abi_header_version(header: &AbiHeader) -> String {
    format!("{}.{}", header.abi_major, header.abi_minor)
}

fn classify(error: LibraryError) -> LoadError {
    match error {
        LibraryError::OpenError { err, .. } => LoadError::NotALibrary {
            detail: single_line(&err.to_string()),
        },
        LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin,
        LibraryError::InvalidAbiHeader(plugin) => LoadError::IncompatibleAbiStable {
            plugin: abi_header_version(&plugin),
            host: abi_header_version(&AbiHeader::VALUE),
            api: host_api_version(),
        },
        LibraryError::IncompatibleVersionNumber {
            actual_version,
            expected_version,
            ..
        } => LoadError::IncompatibleApiVersion {
            plugin: actual_version.to_string(),
            host: expected_version.to_string(),
        },
        LibraryError::AbiInstability(detail) => {
            let report = detail.to_string();
            tracing::debug!(%report, "abi_stable layout report");
            LoadError::LayoutMismatch {
                api: host_api_version(),
                detail: first_difference(&report),
            }
        }
        LibraryError::RootModule { err, .. } => LoadError::RootModuleFailed {
            detail: match err {
                RootModuleError::Unwound => "panicked".to_string(),
                other => format!("failed: {}", single_line(&other.to_string())),
            },
        },
        LibraryError::Many(errors) => match errors.into_iter().next() {
            Some(first) => classify(first),
            None => LoadError::Other {
                detail: "unknown error".to_string(),
            },
        },
        other => LoadError::Other {
            detail: single_line(&other.to_string()),
        },
    }
}

fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// abi_stable's layout reports run to pages, with the findings at the end as
/// `Error:<what>` / `Expected:` / `Found:` blocks; those blocks are what an operator needs.
fn first_difference(report: &str) -> String {
    let findings = report.find("\nError:").map_or(report, |at| &report[at..]);
    let text = single_line(findings);
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
