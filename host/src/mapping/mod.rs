//! Source-field catalog, mapping evaluation and mapping validation (spec §4, §5).
//!
//! * [`catalog()`] builds an event's [`Catalog`] once: every data-field key with label,
//!   type, category, enum options, required input and a getter that computes the value
//!   exactly as pretix does (`isoformat()` date-times, two-place decimals, IDNA e-mail
//!   hosts via a port of Python's `idna` codec).
//! * [`get_field_value`], [`get_properties`] and [`plan_order`] evaluate mappings like
//!   pretix's `sync_order` / `sync_object` (without calling anything).
//! * [`mapping_from_config`] converts `datasync.toml` mappings; [`validate`] checks them
//!   against a catalog and reports [`Diagnostic`]s.

mod catalog;
mod convert;
mod evaluate;
mod getters;
pub mod idna;
pub mod pyrepr;
mod validate;

pub use catalog::{
    catalog, name_scheme, nearest, Catalog, Category, EnumOption, FieldInfo, GetterError, Input,
    Inputs, NameScheme, NAME_SCHEMES,
};
pub use convert::{mapping_from_config, mappings_from_config, MappingConfigError};
pub use evaluate::{get_field_value, get_properties, plan_order, CompiledMappings, PlannedObject};
pub use validate::{validate, Diagnostic, Severity};

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod tests;
