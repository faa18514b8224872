//! Start-up validation of a provider's mappings against an event's catalog.
//!
//! pretix validates nothing (its form accepts any field, mode and value map, spec §6.1)
//! and fails at sync time; datasync reports every problem up front, each naming the
//! provider, event, mapping, property and field, with the nearest valid key.

use std::collections::HashSet;
use std::fmt;

use datasync_plugin_api::{Mode, PretixModel};

use super::catalog::Catalog;
use super::convert::value_map_entries;
use crate::config::{MappingConfig, ProviderConfig};

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Works, but probably not as meant.
    Warning,
    /// Would fail at sync time (or silently misbehave): fix before syncing.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem found in a provider's mapping configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The provider's identifier.
    pub provider: String,
    /// The event slug the mappings were checked for.
    pub event: String,
    /// The mapping's id (`None` for event-wide findings).
    pub mapping_id: Option<i64>,
    /// The property's index (0-based) within the mapping; `None` for the mapping
    /// itself or its `pretix_id_field`.
    pub property_index: Option<usize>,
    /// The pretix field involved, if any.
    pub field: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: provider {}, event {}",
            self.severity, self.provider, self.event
        )?;
        if let Some(id) = self.mapping_id {
            write!(f, ", mapping {id}")?;
        }
        match (self.property_index, &self.field) {
            (Some(i), Some(field)) => write!(f, ", property {i} ({field})")?,
            (Some(i), None) => write!(f, ", property {i}")?,
            (None, Some(field)) if self.mapping_id.is_some() => {
                write!(f, ", pretix_id_field ({field})")?
            }
            _ => {}
        }
        write!(f, ": {}", self.message)
    }
}

struct Report<'a> {
    provider: &'a str,
    event: &'a str,
    out: Vec<Diagnostic>,
}

impl Report<'_> {
    fn add(
        &mut self,
        severity: Severity,
        mapping_id: Option<i64>,
        property_index: Option<usize>,
        field: Option<&str>,
        message: String,
    ) {
        self.out.push(Diagnostic {
            severity,
            provider: self.provider.to_string(),
            event: self.event.to_string(),
            mapping_id,
            property_index,
            field: field.map(str::to_string),
            message,
        });
    }
}

fn unknown_field_message(catalog: &Catalog, key: &str) -> String {
    match catalog.nearest_key(key) {
        Some(near) => format!(
            "field \"{key}\" does not exist for this event; did you mean \"{near}\"? \
             (`datasync fields` lists every key)"
        ),
        None => format!(
            "field \"{key}\" does not exist for this event (`datasync fields` lists every key)"
        ),
    }
}

/// Checks one field reference; returns whether the field exists.
fn check_field(
    report: &mut Report<'_>,
    catalog: &Catalog,
    mapping: &MappingConfig,
    model: Option<PretixModel>,
    property_index: Option<usize>,
    key: &str,
) -> bool {
    let Some(field) = catalog.get(key) else {
        report.add(
            Severity::Error,
            Some(mapping.id),
            property_index,
            Some(key),
            unknown_field_message(catalog, key),
        );
        return false;
    };
    if let Some(model) = model {
        if !field.available_in(model) {
            report.add(
                Severity::Error,
                Some(mapping.id),
                property_index,
                Some(key),
                format!(
                    "field \"{key}\" needs the {} input, which a {} mapping does not have; \
                     use it in an OrderPosition mapping or pick an order-level field",
                    field.required_input,
                    model.as_str()
                ),
            );
        }
    }
    true
}

/// Validates the mappings `provider` uses for `event_slug` (its per-event override,
/// if any) against that event's catalog. Checks: unknown model, duplicate mapping id,
/// unknown field (with the nearest valid key), position field in an Order mapping,
/// unknown mode, value map on a field without enum options, value map values that are
/// not strings (errors); value map missing some options or naming unknown options,
/// unknown name scheme (warnings).
pub fn validate(provider: &ProviderConfig, catalog: &Catalog, event_slug: &str) -> Vec<Diagnostic> {
    let mut report = Report {
        provider: &provider.identifier,
        event: event_slug,
        out: Vec::new(),
    };
    if !catalog.name_scheme_known() {
        report.add(
            Severity::Warning,
            None,
            None,
            None,
            format!(
                "the event's name scheme \"{}\" is unknown to datasync: no name-part fields \
                 (only the legacy split ones) are offered",
                catalog.name_scheme()
            ),
        );
    }
    let mut seen_ids = HashSet::new();
    for mapping in provider.mappings_for(event_slug) {
        if !seen_ids.insert(mapping.id) {
            report.add(
                Severity::Error,
                Some(mapping.id),
                None,
                None,
                format!(
                    "mapping id {} is used more than once; give every mapping a unique id",
                    mapping.id
                ),
            );
        }
        let model = PretixModel::parse(&mapping.model);
        if model.is_none() {
            report.add(
                Severity::Error,
                Some(mapping.id),
                None,
                None,
                format!(
                    "Invalid pretix model '{}'; use \"Order\" or \"OrderPosition\"",
                    mapping.model
                ),
            );
        }
        check_field(
            &mut report,
            catalog,
            mapping,
            model,
            None,
            &mapping.pretix_id_field,
        );
        for (index, property) in mapping.properties.iter().enumerate() {
            let key = property.pretix_field.as_str();
            let exists = check_field(&mut report, catalog, mapping, model, Some(index), key);
            if Mode::parse(&property.mode).is_none() {
                report.add(
                    Severity::Error,
                    Some(mapping.id),
                    Some(index),
                    Some(key),
                    format!(
                        "Invalid update mode {}; use \"overwrite\", \"if_new\", \"if_empty\" or \"append\"",
                        property.mode
                    ),
                );
            }
            if let Err(option) = value_map_entries(property) {
                report.add(
                    Severity::Error,
                    Some(mapping.id),
                    Some(index),
                    Some(key),
                    format!("value_map.{option} must be a string"),
                );
            }
            let Some(value_map) = property.value_map.as_ref().filter(|m| !m.is_empty()) else {
                continue;
            };
            let Some(field) = catalog.get(key).filter(|_| exists) else {
                continue;
            };
            let Some(options) = field.enum_options.as_ref().filter(|o| !o.is_empty()) else {
                report.add(
                    Severity::Error,
                    Some(mapping.id),
                    Some(index),
                    Some(key),
                    format!(
                        "field \"{key}\" has no options, so its value_map would be ignored; \
                         remove the value_map or map an enum field (status, locale, choice question)"
                    ),
                );
                continue;
            };
            let missing: Vec<&str> = options
                .iter()
                .map(|o| o.value.as_str())
                .filter(|v| !value_map.contains_key(*v))
                .collect();
            if !missing.is_empty() {
                report.add(
                    Severity::Warning,
                    Some(mapping.id),
                    Some(index),
                    Some(key),
                    format!(
                        "value_map does not map option(s) {}; an order with such a value fails \
                         with a config error",
                        quoted(&missing)
                    ),
                );
            }
            let unknown: Vec<&str> = value_map
                .keys()
                .map(String::as_str)
                .filter(|k| !options.iter().any(|o| o.value == *k))
                .collect();
            if !unknown.is_empty() {
                report.add(
                    Severity::Warning,
                    Some(mapping.id),
                    Some(index),
                    Some(key),
                    format!(
                        "value_map names option(s) {} that field \"{key}\" does not have (options: {})",
                        quoted(&unknown),
                        quoted(&options.iter().map(|o| o.value.as_str()).collect::<Vec<_>>())
                    ),
                );
            }
        }
    }
    report.out
}

fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
