//! Mapping evaluation: pretix's `get_field_value` (spec §4.2), `get_properties`
//! (§4.3) and the per-order call plan of `sync_order` / `sync_object` (§1.6).

use abi_stable::std_types::{RString, RVec};
use datasync_plugin_api::{
    Mapping, PretixModel, Property, PropertyMapping, SyncError, Value, ValueMapEntry,
};

use super::catalog::{Catalog, FieldInfo, Inputs};
use super::getters::Val;
use super::pyrepr::py_repr_list;
use crate::model::{EventData, Order};

fn missing_field(key: &str, display_name: &str) -> SyncError {
    SyncError::config(format!(
        "Field \"{key}\" does not exist. Please check your {display_name} settings."
    ))
}

fn missing_input(field: &FieldInfo, inputs: &Inputs<'_>, display_name: &str) -> SyncError {
    let got = inputs
        .keys()
        .iter()
        .map(|i| i.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    SyncError::config(format!(
        "Field \"{}\" requires {}, but only got {got}. Please check your {display_name} settings.",
        field.key, field.required_input
    ))
}

fn map_value<'m>(value_map: &'m [ValueMapEntry], option: &str) -> Option<&'m str> {
    value_map
        .iter()
        .find(|e| e.option.as_str() == option)
        .map(|e| e.value.as_str())
}

/// Evaluates one (already looked-up) field: getter, value map, list joining.
fn field_value(
    catalog: &Catalog,
    field: &FieldInfo,
    inputs: &Inputs<'_>,
    value_map: &[ValueMapEntry],
    list_field_joiner: Option<&str>,
    display_name: &str,
) -> Result<Value, SyncError> {
    if !inputs.has(field.required_input) {
        return Err(missing_input(field, inputs, display_name));
    }
    let value = catalog
        .raw_value(field, inputs)
        .map_err(|e| SyncError::internal(format!("Field \"{}\": {e}", field.key)))?;
    let Val::List(items) = value else {
        return Ok(value.into_value());
    };
    let use_map = field.has_enum_options() && !value_map.is_empty();
    let unmapped = || {
        SyncError::config(format!(
            "Please update value mapping for field \"{}\" - option \"{}\" not assigned",
            field.key,
            py_repr_list(items.iter())
        ))
    };
    let mapped = |item: &str| -> Result<RString, SyncError> {
        if use_map {
            map_value(value_map, item)
                .map(RString::from)
                .ok_or_else(unmapped)
        } else {
            Ok(RString::from(item))
        }
    };
    match list_field_joiner.filter(|j| !j.is_empty()) {
        Some(joiner) => {
            let mut joined = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    joined.push_str(joiner);
                }
                if use_map {
                    joined.push_str(map_value(value_map, item).ok_or_else(unmapped)?);
                } else {
                    joined.push_str(item);
                }
            }
            Ok(Value::Str(RString::from(joined)))
        }
        None => Ok(Value::List(
            items.iter().map(mapped).collect::<Result<RVec<_>, _>>()?,
        )),
    }
}

/// pretix's `get_field_value(inputs, mapping_entry)` (spec §4.2).
///
/// * unknown key → config error `Field "{key}" does not exist. Please check your {display_name} settings.`
/// * the field needs an input the object lacks (a position field in an Order mapping) →
///   config error `Field "{key}" requires {input}, but only got {inputs}. Please check your {display_name} settings.`
/// * list values (choice fields): with enum options and a non-empty `value_map`, each
///   element is mapped; an unmapped one → config error
///   `Please update value mapping for field "{key}" - option "{['a', 'b']}" not assigned`;
///   then joined with `list_field_joiner` unless it is `None` (or empty).
/// * a getter failure (e.g. an e-mail address with two `@`) → internal error, as the
///   exception would be in pretix.
pub fn get_field_value(
    catalog: &Catalog,
    inputs: &Inputs<'_>,
    pretix_field: &str,
    value_map: &[ValueMapEntry],
    list_field_joiner: Option<&str>,
    provider_display_name: &str,
) -> Result<Value, SyncError> {
    let field = catalog
        .get(pretix_field)
        .ok_or_else(|| missing_field(pretix_field, provider_display_name))?;
    field_value(
        catalog,
        field,
        inputs,
        value_map,
        list_field_joiner,
        provider_display_name,
    )
}

/// pretix's `get_properties(inputs, property_mappings)` (spec §4.3): one
/// `(external_field, value, mode)` per entry, in order; the first failure is returned.
pub fn get_properties(
    catalog: &Catalog,
    inputs: &Inputs<'_>,
    property_mappings: &[PropertyMapping],
    list_field_joiner: Option<&str>,
    provider_display_name: &str,
) -> Result<Vec<Property>, SyncError> {
    property_mappings
        .iter()
        .map(|pm| {
            Ok(Property {
                external_field: pm.external_field.clone(),
                value: get_field_value(
                    catalog,
                    inputs,
                    &pm.pretix_field,
                    &pm.value_map,
                    list_field_joiner,
                    provider_display_name,
                )?,
                mode: pm.mode,
            })
        })
        .collect()
}

/// One object of the per-order plan: what pretix would pass to
/// `sync_object_with_properties`, or a skipped object.
///
/// **Skipped objects are included** (with `skipped == true`): when the id value is
/// falsy (`None`, `""`, `False`, empty list) pretix makes no provider call but records
/// `None` in `mapped_objects` for that slot, so the caller needs the slot. Their
/// properties are still computed (pretix computes properties before the id value, so
/// a property error fails the order even for an object that would be skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedObject {
    /// The mapping's id.
    pub mapping_id: i64,
    /// The mapping's index in the mappings passed in.
    pub mapping_index: usize,
    /// The position's API id, for OrderPosition mappings.
    pub position_id: Option<i64>,
    /// The position's index in [`Order::positions`] (for its raw JSON).
    pub position_index: Option<usize>,
    /// The identifying value (no value map; lists joined).
    pub id_value: Value,
    /// The computed properties, in mapping order.
    pub properties: Vec<Property>,
    /// `true` when the id value is falsy: no provider call, `None` in mapped objects.
    pub skipped: bool,
}

/// Mappings resolved against a catalog once, to plan many orders cheaply.
#[derive(Debug, Clone)]
pub struct CompiledMappings<'m> {
    mappings: &'m [Mapping],
    resolved: Vec<Resolved>,
}

#[derive(Debug, Clone)]
struct Resolved {
    id_field: Option<usize>,
    properties: Vec<Option<usize>>,
}

impl<'m> CompiledMappings<'m> {
    /// Resolves every field key of `mappings` in `catalog`. Unknown keys are not an
    /// error here: like pretix, they fail when an object first evaluates them.
    pub fn new(catalog: &Catalog, mappings: &'m [Mapping]) -> Self {
        let resolved = mappings
            .iter()
            .map(|m| Resolved {
                id_field: catalog.index_of(&m.pretix_id_field),
                properties: m
                    .property_mappings
                    .iter()
                    .map(|pm| catalog.index_of(&pm.pretix_field))
                    .collect(),
            })
            .collect();
        CompiledMappings { mappings, resolved }
    }

    /// The mappings.
    pub fn mappings(&self) -> &'m [Mapping] {
        self.mappings
    }

    /// Plans one order; see [`plan_order`].
    pub fn plan_order(
        &self,
        catalog: &Catalog,
        event: &EventData,
        order: &Order,
        list_field_joiner: Option<&str>,
        provider_display_name: &str,
    ) -> Result<Vec<PlannedObject>, SyncError> {
        let per_mapping = |m: &Mapping| match m.pretix_model {
            PretixModel::Order => 1,
            PretixModel::OrderPosition => order.positions.len(),
        };
        let mut out = Vec::with_capacity(self.mappings.iter().map(per_mapping).sum());
        for (mapping_index, (mapping, resolved)) in
            self.mappings.iter().zip(&self.resolved).enumerate()
        {
            let eval = |inputs: &Inputs<'_>, position_index: Option<usize>| {
                let mut properties = Vec::with_capacity(mapping.property_mappings.len());
                for (pm, idx) in mapping.property_mappings.iter().zip(&resolved.properties) {
                    let field = idx
                        .and_then(|i| catalog.field_at(i))
                        .ok_or_else(|| missing_field(&pm.pretix_field, provider_display_name))?;
                    properties.push(Property {
                        external_field: pm.external_field.clone(),
                        value: field_value(
                            catalog,
                            field,
                            inputs,
                            &pm.value_map,
                            list_field_joiner,
                            provider_display_name,
                        )?,
                        mode: pm.mode,
                    });
                }
                let id_field = resolved
                    .id_field
                    .and_then(|i| catalog.field_at(i))
                    .ok_or_else(|| {
                        missing_field(&mapping.pretix_id_field, provider_display_name)
                    })?;
                let id_value = field_value(
                    catalog,
                    id_field,
                    inputs,
                    &[],
                    list_field_joiner,
                    provider_display_name,
                )?;
                Ok::<_, SyncError>(PlannedObject {
                    mapping_id: mapping.id,
                    mapping_index,
                    position_id: inputs.position.map(|p| p.id),
                    position_index,
                    skipped: !id_value.is_truthy(),
                    id_value,
                    properties,
                })
            };
            match mapping.pretix_model {
                PretixModel::Order => out.push(eval(&Inputs::order(event, order), None)?),
                PretixModel::OrderPosition => {
                    for (i, position) in order.positions.iter().enumerate() {
                        out.push(eval(&Inputs::position(event, order, position), Some(i))?);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Plans the provider calls for one order (spec §1.6): mapping by mapping, an Order
/// mapping once, an OrderPosition mapping once per position in `positionid` order —
/// all positions, canceled ones included. Objects whose id value is falsy are
/// included with [`PlannedObject::skipped`] set.
///
/// The first failing field fails the whole order, as in pretix (its remote effects up
/// to that point are the caller's business; planning has none). `catalog` must be the
/// catalog of `event`.
pub fn plan_order(
    catalog: &Catalog,
    event: &EventData,
    order: &Order,
    mappings: &[Mapping],
    list_field_joiner: Option<&str>,
    provider_display_name: &str,
) -> Result<Vec<PlannedObject>, SyncError> {
    CompiledMappings::new(catalog, mappings).plan_order(
        catalog,
        event,
        order,
        list_field_joiner,
        provider_display_name,
    )
}
