//! # datasync-plugin-api
//!
//! The one crate a [datasync](https://example.invalid/datasync) provider plugin depends
//! on. A provider pushes pretix orders and positions into one external system; the host
//! owns the queue, retries, field mapping and bookkeeping, and calls the provider through
//! a stable ABI (built on `abi_stable`), so a plugin built once keeps loading into newer
//! 1.x hosts.
//!
//! Write a type that implements [`Provider`], export it with [`export_providers!`], build
//! the crate as a `cdylib`, and drop the library into the host's plugins folder:
//!
//! ```
//! use datasync_plugin_api::{
//!     export_providers, EventContext, ObjectRequest, Provider, SyncError, SyncInfo,
//! };
//!
//! /// Prints every object it is asked to sync.
//! pub struct Echo {
//!     prefix: String,
//! }
//!
//! impl Provider for Echo {
//!     const IDENTIFIER: &'static str = "echo";
//!     const DISPLAY_NAME: &'static str = "Echo to stderr";
//!
//!     fn new(_event: &EventContext, settings: &serde_json::Value) -> Result<Self, SyncError> {
//!         let prefix = settings.get("prefix").and_then(|p| p.as_str()).unwrap_or("echo");
//!         Ok(Echo { prefix: prefix.to_string() })
//!     }
//!
//!     fn sync_object(&mut self, req: &ObjectRequest<'_>) -> Result<Option<SyncInfo>, SyncError> {
//!         if req.properties.is_empty() {
//!             return Err(SyncError::config("echo: the mapping has no properties"));
//!         }
//!         for p in req.properties.iter() {
//!             eprintln!("{} {}={} {}={} ({})", self.prefix, req.external_id_field,
//!                 req.id_value, p.external_field, p.value, p.mode);
//!         }
//!         Ok(Some(SyncInfo::action("update")))
//!     }
//! }
//!
//! export_providers!(Echo);
//! # fn main() {}
//! ```
//!
//! with, in the plugin's `Cargo.toml`:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! datasync-plugin-api = "1"
//! serde_json = "1"
//! ```
//!
//! Errors decide what the host does next: [`SyncError::recoverable`] is retried with
//! backoff (optionally after [`SyncError::with_retry_after`] seconds, without counting an
//! attempt), [`SyncError::permanent`] and [`SyncError::config`] park the job until a
//! person retries it. A panic is caught at the boundary and reported as `internal`.

#![warn(missing_docs)]

pub mod abi;
mod assign;
mod authoring;
mod error;
mod types;

pub use assign::assign_properties;
pub use authoring::Provider;
pub use error::{ErrorKind, SyncError};
pub use types::{
    EventContext, LinkInfo, MappedObjects, Mapping, Mode, ObjectRequest, PretixModel, Property,
    PropertyMapping, SyncInfo, SyncedObject, Value, ValueMapEntry,
};

/// Re-exported so plugins need no direct dependency on it.
pub use serde_json;

/// The ABI-stable standard types (`RString`, `RVec`, `RStr`, `RSlice`, `ROption` …)
/// used by the types above, re-exported so plugins need no direct abi_stable dependency.
pub use abi_stable::std_types;

/// The version of this crate, which plugins report to the host.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Checks a provider identifier: 1–128 characters of `[a-z0-9_.-]`.
pub fn is_valid_identifier(identifier: &str) -> bool {
    (1..=128).contains(&identifier.len())
        && identifier.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
        })
}

/// What [`export_providers!`] expands to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::authoring::{describe, root_module};
    pub use abi_stable::library::{
        __call_root_module_loader as call_root_module_loader, CheckTypeLayout, LibHeader,
        RootModuleResult,
    };
}

#[cfg(test)]
mod tests {
    use super::is_valid_identifier;

    #[test]
    fn identifiers_allow_lowercase_digits_dot_dash_underscore_up_to_128() {
        assert!(is_valid_identifier("crm-sqlite_2.0"));
        assert!(is_valid_identifier(&"a".repeat(128)));
        assert!(!is_valid_identifier(""));
        assert!(!is_valid_identifier(&"a".repeat(129)));
        assert!(!is_valid_identifier("Bad Identifier"));
        assert!(!is_valid_identifier("crm/sqlite"));
    }
}
