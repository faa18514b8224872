//! A live provider instance behind the ABI, with the plugin's `RResult`s turned into
//! `Result`s and its answers checked, so a provider returning garbage fails as
//! `internal` instead of corrupting the host's data.

use abi_stable::std_types::{ROption, RResult, RStr};
use datasync_plugin_api::abi::ProviderBox;
use datasync_plugin_api::{Mapping, ObjectRequest, SyncError, SyncInfo};

/// One provider instance for one event. Not `Sync`: use it from one thread at a time.
pub struct ProviderHandle {
    identifier: String,
    inner: ProviderBox,
}

fn into_result<T>(r: RResult<T, SyncError>) -> Result<T, SyncError> {
    r.into_result()
}

impl ProviderHandle {
    pub(crate) fn new(identifier: String, inner: ProviderBox) -> Self {
        ProviderHandle { identifier, inner }
    }

    /// The provider's identifier.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// pretix `should_sync_order`.
    pub fn should_sync_order(&mut self, order_json: &str) -> Result<bool, SyncError> {
        let _span = tracing::debug_span!("plugin_call", provider = %self.identifier, call = "should_sync_order").entered();
        into_result(self.inner.should_sync_order(RStr::from_str(order_json)))
    }

    /// The provider's default mappings, if it ships any.
    pub fn mappings(&self) -> Result<Option<Vec<Mapping>>, SyncError> {
        into_result(self.inner.mappings()).map(|m| m.into_option().map(|v| v.into_vec()))
    }

    /// pretix `sync_object_with_properties`; `Ok(None)` = not synced. A sync info whose
    /// extra data is not a JSON object is a protocol breach and fails as `internal`.
    pub fn sync_object(
        &mut self,
        request: &ObjectRequest<'_>,
    ) -> Result<Option<SyncInfo>, SyncError> {
        let info = into_result(self.inner.sync_object(request))?.into_option();
        if let Some(info) = &info {
            self.check_extra_json(info)?;
        }
        Ok(info)
    }

    fn check_extra_json(&self, info: &SyncInfo) -> Result<(), SyncError> {
        let extra = info.extra_json.as_str().trim();
        if extra.is_empty() {
            return Ok(());
        }
        match serde_json::from_str::<serde_json::Value>(extra) {
            Ok(serde_json::Value::Object(_)) => Ok(()),
            _ => Err(SyncError::internal(format!(
                "provider {} returned sync info whose extra data is not a JSON object; the plugin is broken, contact its author",
                self.identifier
            ))
            .with_full_message(truncate(extra, 500))),
        }
    }

    /// pretix `finalize_sync_order`.
    pub fn finalize_sync_order(&mut self, order_json: &str) -> Result<(), SyncError> {
        let _span = tracing::debug_span!("plugin_call", provider = %self.identifier, call = "finalize_sync_order").entered();
        into_result(self.inner.finalize_sync_order(RStr::from_str(order_json)))
    }

    /// The provider's retry delay in seconds after `failed_attempts` failures, if it sets one.
    pub fn next_retry_delay(&self, failed_attempts: u32) -> Result<Option<u64>, SyncError> {
        into_result(self.inner.next_retry_delay(failed_attempts)).map(ROption::into_option)
    }

    /// pretix `close`.
    pub fn close(mut self) -> Result<(), SyncError> {
        into_result(self.inner.close())
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
