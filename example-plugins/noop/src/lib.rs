//! # The no-op provider
//!
//! A datasync provider that accepts every object and writes nowhere. It exists for two
//! reasons:
//!
//! * it is the smallest complete plugin, so provider authors can copy this crate and
//!   replace the body of [`Noop::sync_object`] with calls to their external system;
//! * the host and its tests use it where any working provider will do.
//!
//! Settings (the provider's `settings` table in `datasync.toml`, all optional):
//!
//! | key             | type    | default | effect                                            |
//! |-----------------|---------|---------|---------------------------------------------------|
//! | `nothing_to_do` | boolean | `false` | report action `nothing_to_do` instead of `create` |
//!
//! ```toml
//! [[provider]]
//! identifier = "noop"
//! settings = { nothing_to_do = true }
//! ```

use datasync_plugin_api::serde_json::Value as Json;
use datasync_plugin_api::{
    export_providers, EventContext, ObjectRequest, Provider, SyncError, SyncInfo,
};

/// Accepts every object and reports it as created (or as unchanged, see the
/// `nothing_to_do` setting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noop {
    /// The action reported for every object; decided once, from the settings.
    action: &'static str,
}

impl Provider for Noop {
    const IDENTIFIER: &'static str = "noop";
    const DISPLAY_NAME: &'static str = "No-op (accepts everything)";

    /// Reads the settings once per batch. Validating them here, rather than in
    /// `sync_object`, makes a bad setting fail the batch up front with one `config` error
    /// instead of once per order.
    fn new(_event: &EventContext, settings: &Json) -> Result<Self, SyncError> {
        let nothing_to_do = match settings.get("nothing_to_do") {
            None => false,
            Some(Json::Bool(value)) => *value,
            // Name the plugin, the setting and the fix: the operator reads this message
            // in the host's log, far away from this code.
            Some(other) => {
                return Err(SyncError::config(format!(
                    "plugin {}: settings.nothing_to_do must be true or false, not {other}",
                    Self::IDENTIFIER
                )))
            }
        };
        let action = if nothing_to_do {
            "nothing_to_do"
        } else {
            "create"
        };
        Ok(Noop { action })
    }

    /// A real provider would upsert `request.properties` into the external system here,
    /// keyed by `request.external_id_field` = `request.id_value`.
    fn sync_object(&mut self, _request: &ObjectRequest<'_>) -> Result<Option<SyncInfo>, SyncError> {
        // `Ok(None)` would mean "not synced"; an object that needs no change is still
        // synced, so it is reported as the action `nothing_to_do` (which the host does
        // not log).
        Ok(Some(SyncInfo::action(self.action)))
    }
}

// Builds the library's root module: the one symbol the host looks up in libnoop.so.
export_providers!(Noop);

#[cfg(test)]
mod tests {
    use super::*;
    use datasync_plugin_api::serde_json::json;
    use datasync_plugin_api::{ErrorKind, Mapping, PretixModel, Value};

    fn sync_one(settings: Json) -> Result<Option<SyncInfo>, SyncError> {
        let mapping = Mapping {
            id: 1,
            pretix_model: PretixModel::Order,
            external_object_type: "Contact".into(),
            pretix_id_field: "order_code".into(),
            external_id_field: "code".into(),
            property_mappings: Vec::new().into(),
            extra_json: "{}".into(),
        };
        let id_value = Value::str("ABC12");
        let request = ObjectRequest {
            external_id_field: "code".into(),
            id_value: &id_value,
            properties: (&[][..]).into(),
            mapping: &mapping,
            mapped_objects: (&[][..]).into(),
            order_json: r#"{"code": "ABC12"}"#.into(),
            position_id: None.into(),
            position_json: None.into(),
        };
        Noop::new(&EventContext::default(), &settings)?.sync_object(&request)
    }

    #[test]
    fn reports_create_by_default() {
        let info = sync_one(json!({})).expect("syncs");
        assert_eq!(info, Some(SyncInfo::action("create")));
    }

    #[test]
    fn reports_nothing_to_do_when_the_setting_is_true() {
        let info = sync_one(json!({ "nothing_to_do": true })).expect("syncs");
        assert_eq!(info, Some(SyncInfo::action("nothing_to_do")));
    }

    #[test]
    fn non_boolean_nothing_to_do_is_a_config_error_naming_plugin_and_setting() {
        let err = Noop::new(&EventContext::default(), &json!({ "nothing_to_do": "yes" }))
            .expect_err("a string is not a boolean");
        assert_eq!(err.kind, ErrorKind::Config);
        let message = err.message();
        assert!(
            message.contains("plugin noop: settings.nothing_to_do must be true or false"),
            "{message}"
        );
    }
}
