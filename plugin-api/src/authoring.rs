//! The safe, plain-Rust side of the plugin boundary: the [`Provider`] trait with pretix's
//! defaults, and the adapters that turn an implementation into ABI-stable entry points,
//! each guarded by `catch_unwind`.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use abi_stable::erased_types::TD_Opaque;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{ROption, RResult, RSlice, RStr, RVec};

use crate::abi::{
    PluginLibrary, PluginLibraryRef, ProviderBox, ProviderDescriptor, ProviderDescriptorRef,
    ProviderInstance, ProviderInstance_TO,
};
use crate::error::SyncError;
use crate::types::{EventContext, LinkInfo, Mapping, ObjectRequest, SyncInfo};

/// An outbound sync provider: pretix's `OutboundSyncProvider`, as a Rust trait.
///
/// One instance is created per (provider, event) batch with [`Provider::new`]; the host
/// calls [`Provider::sync_object`] once per mapped object, [`Provider::finalize_sync_order`]
/// after each order, and [`Provider::close`] at the end. Every method is called on a
/// blocking thread; a panic anywhere becomes an `internal` error for that order.
pub trait Provider: Sized + Send + 'static {
    /// Unique identifier: 1–128 characters of `[a-z0-9_.-]`.
    const IDENTIFIER: &'static str;
    /// Name shown to operators; defaults to the identifier.
    const DISPLAY_NAME: &'static str = Self::IDENTIFIER;
    /// Recoverable failures after which a job is parked as `exceeded`.
    const MAX_ATTEMPTS: u32 = 5;
    /// Joiner for list-valued source fields; `None` keeps native lists.
    const LIST_FIELD_JOINER: Option<&'static str> = Some(",");

    /// Creates an instance for one event from the provider's settings (the
    /// `settings` table of the host config, as JSON). Return [`SyncError::config`]
    /// for unusable settings.
    fn new(event: &EventContext, settings: &serde_json::Value) -> Result<Self, SyncError>;

    /// Upserts one object in the external system. `Ok(None)` means "not synced for this
    /// mapping"; do not use it for "already up to date" (return action `nothing_to_do`).
    fn sync_object(&mut self, request: &ObjectRequest<'_>) -> Result<Option<SyncInfo>, SyncError>;

    /// Return `false` to skip an order entirely (no calls, no results, no log entry).
    fn should_sync_order(&mut self, _order_json: &str) -> Result<bool, SyncError> {
        Ok(true)
    }

    /// Default mappings the provider ships; the host config overrides them.
    fn mappings(&self) -> Option<Vec<Mapping>> {
        None
    }

    /// Called once per order after all its objects were synced without error.
    fn finalize_sync_order(&mut self, _order_json: &str) -> Result<(), SyncError> {
        Ok(())
    }

    /// Called once after the batch; release connections here.
    fn close(&mut self) -> Result<(), SyncError> {
        Ok(())
    }

    /// Seconds to wait after the `failed_attempts`-th recoverable failure; `None`
    /// leaves it to the host's retry policy (exponential backoff).
    fn next_retry_delay(&self, _failed_attempts: u32) -> Option<u64> {
        None
    }

    /// How to render a stored external link; the default shows it unchanged.
    fn external_link_info(
        _event: &EventContext,
        href: Option<&str>,
        display_name: Option<&str>,
    ) -> LinkInfo {
        LinkInfo {
            href: href.map(Into::into).into(),
            display_name: display_name.map(Into::into).into(),
        }
    }
}

/// Runs `f`, turning a panic into an `internal` error that names the provider and call.
fn guarded<T>(
    identifier: &str,
    call: &str,
    f: impl FnOnce() -> Result<T, SyncError>,
) -> RResult<T, SyncError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.into(),
        Err(payload) => RResult::RErr(SyncError::internal(format!(
            "provider {identifier} panicked in {call}: {}",
            panic_message(payload.as_ref())
        ))),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-text panic payload)")
}

/// Wraps a [`Provider`] so it implements the ABI-stable [`ProviderInstance`].
struct Guarded<P>(P);

impl<P: Provider> ProviderInstance for Guarded<P> {
    fn should_sync_order(&mut self, order_json: RStr<'_>) -> RResult<bool, SyncError> {
        guarded(P::IDENTIFIER, "should_sync_order", || {
            self.0.should_sync_order(order_json.as_str())
        })
    }

    fn mappings(&self) -> RResult<ROption<RVec<Mapping>>, SyncError> {
        guarded(P::IDENTIFIER, "mappings", || {
            Ok(self.0.mappings().map(RVec::from).into())
        })
    }

    fn sync_object(
        &mut self,
        request: &ObjectRequest<'_>,
    ) -> RResult<ROption<SyncInfo>, SyncError> {
        guarded(P::IDENTIFIER, "sync_object", || {
            self.0.sync_object(request).map(ROption::from)
        })
    }

    fn finalize_sync_order(&mut self, order_json: RStr<'_>) -> RResult<(), SyncError> {
        guarded(P::IDENTIFIER, "finalize_sync_order", || {
            self.0.finalize_sync_order(order_json.as_str())
        })
    }

    fn next_retry_delay(&self, failed_attempts: u32) -> RResult<ROption<u64>, SyncError> {
        guarded(P::IDENTIFIER, "next_retry_delay", || {
            Ok(self.0.next_retry_delay(failed_attempts).into())
        })
    }

    fn close(&mut self) -> RResult<(), SyncError> {
        guarded(P::IDENTIFIER, "close", || self.0.close())
    }
}

extern "C" fn create<P: Provider>(
    event: &EventContext,
    settings_json: RStr<'_>,
) -> RResult<ProviderBox, SyncError> {
    guarded(P::IDENTIFIER, "its constructor", || {
        let settings = parse_settings(settings_json.as_str()).map_err(|e| {
            SyncError::config(format!(
                "plugin {}: settings are not valid JSON ({e}); fix the provider's settings table",
                P::IDENTIFIER
            ))
        })?;
        let provider = P::new(event, &settings)?;
        Ok(ProviderInstance_TO::from_value(
            Guarded(provider),
            TD_Opaque,
        ))
    })
}

fn parse_settings(text: &str) -> serde_json::Result<serde_json::Value> {
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    serde_json::from_str(text)
}

extern "C" fn external_link_info<P: Provider>(
    event: &EventContext,
    href: ROption<RStr<'_>>,
    display_name: ROption<RStr<'_>>,
) -> RResult<LinkInfo, SyncError> {
    guarded(P::IDENTIFIER, "external_link_info", || {
        Ok(P::external_link_info(
            event,
            href.map(|s| s.as_str()).into_option(),
            display_name.map(|s| s.as_str()).into_option(),
        ))
    })
}

/// Builds the descriptor of one provider. Used by [`crate::export_providers!`].
#[doc(hidden)]
pub fn describe<P: Provider>() -> ProviderDescriptorRef {
    ProviderDescriptor {
        identifier: RStr::from_str(P::IDENTIFIER),
        display_name: RStr::from_str(P::DISPLAY_NAME),
        max_attempts: P::MAX_ATTEMPTS,
        list_field_joiner: P::LIST_FIELD_JOINER.map(RStr::from_str).into(),
        external_link_info: external_link_info::<P>,
        create: create::<P>,
    }
    .leak_into_prefix()
}

/// Builds the root module of a library. Used by [`crate::export_providers!`].
#[doc(hidden)]
pub fn root_module(providers: Vec<ProviderDescriptorRef>) -> PluginLibraryRef {
    PluginLibrary {
        api_version: RStr::from_str(env!("CARGO_PKG_VERSION")),
        providers: RSlice::from_slice(Box::leak(providers.into_boxed_slice())),
    }
    .leak_into_prefix()
}

/// Exports one or more [`Provider`] implementations as a datasync plugin library.
///
/// Use it once per `cdylib` crate, at the crate root:
///
/// ```text
/// datasync_plugin_api::export_providers!(MyProvider, MyOtherProvider);
/// ```
///
/// Every entry point of every provider is wrapped in `catch_unwind`: a panic becomes an
/// `internal` error for that order and never unwinds into the host.
#[macro_export]
macro_rules! export_providers {
    ($($provider:ty),+ $(,)?) => {
        #[doc(hidden)]
        #[export_name = $crate::__root_module_loader_symbol!()]
        pub static __DATASYNC_ROOT_MODULE_LOADER: $crate::__private::LibHeader = {
            fn __datasync_root_module() -> $crate::abi::PluginLibraryRef {
                $crate::__private::root_module(::std::vec![
                    $($crate::__private::describe::<$provider>()),+
                ])
            }
            extern "C" fn __datasync_load_root_module() -> $crate::__private::RootModuleResult {
                $crate::__private::call_root_module_loader(__datasync_root_module)
            }
            // SAFETY: the constructor returns the module type named here, which is the
            // contract `from_constructor` asks for.
            unsafe {
                $crate::__private::LibHeader::from_constructor::<$crate::abi::PluginLibraryRef>(
                    __datasync_load_root_module,
                    $crate::__private::CheckTypeLayout::Yes,
                )
            }
        };
    };
}
