//! The binary interface between host and plugin libraries. Provider authors never touch
//! this module directly: [`crate::export_providers!`] builds all of it from
//! [`crate::Provider`] implementations. The host reads it through `datasync-host`.

// `#[sabi_trait]` expands to impls inside a const block, which rustc flags since 1.80.
#![allow(non_local_definitions)]

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, ROption, RResult, RSlice, RStr, RVec};
use abi_stable::{declare_root_module_statics, package_version_strings, sabi_trait, StableAbi};

use crate::error::SyncError;
use crate::types::{EventContext, LinkInfo, Mapping, ObjectRequest, SyncInfo};

/// A live provider instance for one event, created by [`ProviderDescriptor::create`].
///
/// Methods may be appended after `close` in later 1.x versions (prefix vtable).
#[sabi_trait]
pub trait ProviderInstance: Send {
    /// pretix `should_sync_order`: `false` skips the order entirely.
    fn should_sync_order(&mut self, order_json: RStr<'_>) -> RResult<bool, SyncError>;

    /// Default mappings shipped by the provider; `None` = the host config decides.
    fn mappings(&self) -> RResult<ROption<RVec<Mapping>>, SyncError>;

    /// pretix `sync_object_with_properties`: upsert one object. `None` = not synced.
    fn sync_object(&mut self, request: &ObjectRequest<'_>)
        -> RResult<ROption<SyncInfo>, SyncError>;

    /// pretix `finalize_sync_order`: after every mapping of an order succeeded.
    fn finalize_sync_order(&mut self, order_json: RStr<'_>) -> RResult<(), SyncError>;

    /// pretix `next_retry_date`, as a delay in seconds after the `failed_attempts`-th
    /// recoverable failure; `None` = the host's retry policy decides.
    fn next_retry_delay(&self, failed_attempts: u32) -> RResult<ROption<u64>, SyncError>;

    /// pretix `close`: once, after every order of the batch was processed.
    #[sabi(last_prefix_field)]
    fn close(&mut self) -> RResult<(), SyncError>;
}

/// A boxed provider instance as it crosses the boundary.
pub type ProviderBox = ProviderInstance_TO<'static, RBox<()>>;

/// What the host knows about one provider before instantiating it.
///
/// A prefix type: fields may be appended after `create` in later 1.x versions, and a
/// newer host still loads plugins built without them.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ProviderDescriptorRef)))]
pub struct ProviderDescriptor {
    /// Unique identifier: 1–128 characters of `[a-z0-9_.-]`.
    pub identifier: RStr<'static>,
    /// Name shown to operators.
    pub display_name: RStr<'static>,
    /// Recoverable failures after which a job is parked as `exceeded`.
    pub max_attempts: u32,
    /// Joiner for list-valued fields; `None` keeps native lists.
    pub list_field_joiner: ROption<RStr<'static>>,
    /// pretix `get_external_link_info`: how to show a stored external link.
    pub external_link_info: extern "C" fn(
        event: &EventContext,
        href: ROption<RStr<'_>>,
        display_name: ROption<RStr<'_>>,
    ) -> RResult<LinkInfo, SyncError>,
    /// Instantiates the provider for one event from its settings (JSON object text).
    #[sabi(last_prefix_field)]
    pub create: extern "C" fn(
        event: &EventContext,
        settings_json: RStr<'_>,
    ) -> RResult<ProviderBox, SyncError>,
}

/// The root module every datasync plugin library exports.
///
/// A prefix type: fields may be appended after `providers` in later 1.x versions.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginLibraryRef)))]
pub struct PluginLibrary {
    /// The `datasync-plugin-api` version the library was built against.
    pub api_version: RStr<'static>,
    /// The providers this library offers.
    #[sabi(last_prefix_field)]
    pub providers: RSlice<'static, ProviderDescriptorRef>,
}

impl RootModule for PluginLibraryRef {
    declare_root_module_statics! {PluginLibraryRef}
    const BASE_NAME: &'static str = "datasync_plugin";
    const NAME: &'static str = "datasync plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// The symbol abi_stable looks up in a library (`abi_stable::library::ROOT_MODULE_LOADER_NAME`).
/// [`crate::export_providers!`] needs it as a literal; a unit test keeps the two equal.
#[doc(hidden)]
#[macro_export]
macro_rules! __root_module_loader_symbol {
    () => {
        "_1as_0lib_1header_0root_bmodule_bloader"
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn export_symbol_matches_the_name_abi_stable_looks_up() {
        assert_eq!(
            crate::__root_module_loader_symbol!(),
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }
}
