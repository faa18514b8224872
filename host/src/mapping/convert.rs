//! `datasync.toml` mapping tables → the plugin-api [`Mapping`] type.

use abi_stable::std_types::{RString, RVec};
use datasync_plugin_api::{Mapping, Mode, PretixModel, PropertyMapping, ValueMapEntry};

use crate::config::{MappingConfig, PropertyConfig};

/// A mapping table that cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingConfigError {
    /// `model` is neither `Order` nor `OrderPosition`.
    #[error(
        "mapping {mapping_id}: Invalid pretix model '{model}'; use \"Order\" or \"OrderPosition\""
    )]
    UnknownModel {
        /// The mapping's id.
        mapping_id: i64,
        /// The value found.
        model: String,
    },
    /// A property's `mode` is not one of the four modes.
    #[error(
        "mapping {mapping_id}, property {index} ({pretix_field}): Invalid update mode {mode}; \
         use \"overwrite\", \"if_new\", \"if_empty\" or \"append\""
    )]
    UnknownMode {
        /// The mapping's id.
        mapping_id: i64,
        /// The property's index (0-based).
        index: usize,
        /// Its pretix field.
        pretix_field: String,
        /// The value found.
        mode: String,
    },
    /// A value map entry whose value is not a string.
    #[error(
        "mapping {mapping_id}, property {index} ({pretix_field}): value_map.{option} must be a \
         string, e.g. {option} = \"…\""
    )]
    ValueMapNotString {
        /// The mapping's id.
        mapping_id: i64,
        /// The property's index (0-based).
        index: usize,
        /// Its pretix field.
        pretix_field: String,
        /// The option whose value is not a string.
        option: String,
    },
}

/// A property's value map as entries (TOML tables are sorted by key); `Err(option)`
/// names the first entry whose value is not a string.
pub(crate) fn value_map_entries(property: &PropertyConfig) -> Result<RVec<ValueMapEntry>, String> {
    let Some(table) = &property.value_map else {
        return Ok(RVec::new());
    };
    table
        .iter()
        .map(|(option, value)| match value {
            toml::Value::String(s) => Ok(ValueMapEntry {
                option: RString::from(option.as_str()),
                value: RString::from(s.as_str()),
            }),
            _ => Err(option.clone()),
        })
        .collect()
}

/// Converts one `[[provider.mapping]]` table. An empty `value_map` table means "no
/// value map" (pretix would instead fail every option of an empty JSON map).
pub fn mapping_from_config(config: &MappingConfig) -> Result<Mapping, MappingConfigError> {
    let pretix_model =
        PretixModel::parse(&config.model).ok_or_else(|| MappingConfigError::UnknownModel {
            mapping_id: config.id,
            model: config.model.clone(),
        })?;
    let property_mappings = config
        .properties
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let mode = Mode::parse(&p.mode).ok_or_else(|| MappingConfigError::UnknownMode {
                mapping_id: config.id,
                index,
                pretix_field: p.pretix_field.clone(),
                mode: p.mode.clone(),
            })?;
            let value_map =
                value_map_entries(p).map_err(|option| MappingConfigError::ValueMapNotString {
                    mapping_id: config.id,
                    index,
                    pretix_field: p.pretix_field.clone(),
                    option,
                })?;
            Ok(PropertyMapping {
                pretix_field: RString::from(p.pretix_field.as_str()),
                external_field: RString::from(p.external_field.as_str()),
                value_map,
                mode,
            })
        })
        .collect::<Result<RVec<_>, MappingConfigError>>()?;
    let extra_json = serde_json::to_string(&config.extra).unwrap_or_else(|_| "{}".to_string());
    Ok(Mapping {
        id: config.id,
        pretix_model,
        external_object_type: RString::from(config.external_object_type.as_str()),
        pretix_id_field: RString::from(config.pretix_id_field.as_str()),
        external_id_field: RString::from(config.external_id_field.as_str()),
        property_mappings,
        extra_json: RString::from(extra_json),
    })
}

/// Converts every mapping of a provider, stopping at the first bad one.
pub fn mappings_from_config(configs: &[MappingConfig]) -> Result<Vec<Mapping>, MappingConfigError> {
    configs.iter().map(mapping_from_config).collect()
}
