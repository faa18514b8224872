//! Mapping commands: `fields`, `check`, `preview`.

use anyhow::Context as _;
use serde_json::json;

use super::common::{load_plugins, open_store, print_json, print_json_line};
use super::{EXIT_ERROR, EXIT_OK};
use crate::config::{Config, ProviderConfig};
use crate::import::load_event;
use crate::mapping::{
    catalog, mappings_from_config, plan_order, validate, Catalog, Diagnostic, Severity,
};
use crate::model::{parse_order, EventData};
use crate::store::Store;

/// Arguments of `datasync fields`.
#[derive(Debug, clap::Args)]
pub struct FieldsArgs {
    /// Event slug (import the event first)
    #[arg(long, value_name = "SLUG")]
    event: String,
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

/// Arguments of `datasync check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Print the findings as JSON
    #[arg(long)]
    json: bool,
}

/// Arguments of `datasync preview`.
#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// Provider identifier as configured
    #[arg(long, value_name = "IDENTIFIER")]
    provider: String,
    /// Event slug
    #[arg(long, value_name = "SLUG")]
    event: String,
    /// Order code
    #[arg(long, value_name = "CODE")]
    order: String,
    /// One JSON object per provider call: mapping_id, position_id, id_value, properties
    #[arg(long)]
    json: bool,
}

fn stored_event(store: &Store, slug: &str) -> anyhow::Result<EventData> {
    let row = store.event(slug)?.with_context(|| {
        format!("event {slug} is not in the database; run `datasync import FILE` first")
    })?;
    load_event(&row.data)
        .with_context(|| format!("stored data of event {slug} is unreadable; re-import it"))
}

pub(super) fn fields(config: &Config, args: &FieldsArgs) -> anyhow::Result<u8> {
    let store = open_store(config)?;
    let event = stored_event(&store, &args.event)?;
    let catalog = catalog(&event);
    if args.json {
        let categories: Vec<_> = catalog
            .by_category()
            .into_iter()
            .map(|(category, fields)| {
                let fields: Vec<_> = fields
                    .iter()
                    .map(|f| {
                        json!({
                            "key": f.key, "label": f.label, "type": f.field_type.code(),
                            "required_input": f.required_input.as_str(),
                            "enum_options": f.enum_options.as_ref().map(|o| o.iter().map(|o| json!({"value": o.value, "label": o.label})).collect::<Vec<_>>()),
                            "deprecated": f.deprecated,
                        })
                    })
                    .collect();
                json!({"category": category.label(), "fields": fields})
            })
            .collect();
        print_json(&json!({"event": args.event, "categories": categories}))?;
        return Ok(EXIT_OK);
    }
    print_catalog(&catalog);
    Ok(EXIT_OK)
}

fn print_catalog(catalog: &Catalog) {
    for (category, fields) in catalog.by_category() {
        println!("{}", category.label());
        for f in fields {
            let options = f
                .enum_options
                .as_ref()
                .map(|o| {
                    format!(
                        "  options: {}",
                        o.iter()
                            .map(|o| o.value.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .unwrap_or_default();
            let deprecated = if f.deprecated { " (deprecated)" } else { "" };
            println!(
                "  {:<40} {:<12} {:<18} {}{deprecated}{options}",
                f.key,
                f.field_type.label(),
                f.required_input.as_str(),
                f.label
            );
        }
    }
}

/// The catalog findings for one provider's mappings on each of `events`.
fn mapping_diagnostics(
    store: &Store,
    provider: &ProviderConfig,
    events: &[&String],
) -> anyhow::Result<Vec<Diagnostic>> {
    let mut out = Vec::new();
    for slug in events {
        let event = stored_event(store, slug)?;
        out.extend(validate(provider, &catalog(&event), slug));
    }
    Ok(out)
}

/// Start-up validation for `datasync run`: every finding is logged; nothing stops the
/// worker, since a broken mapping parks only its own provider's jobs (as `config`).
pub(super) fn log_mapping_findings(config: &Config, store: &Store) -> anyhow::Result<()> {
    let events = store.event_slugs()?;
    for provider in &config.providers {
        let matching: Vec<&String> = events
            .iter()
            .filter(|e| provider.events.matches(e))
            .collect();
        for d in mapping_diagnostics(store, provider, &matching)? {
            match d.severity {
                Severity::Error => tracing::error!("{d}; its jobs will park as config until fixed"),
                Severity::Warning => tracing::warn!("{d}"),
            }
        }
    }
    Ok(())
}

pub(super) fn check(config: &Config, args: &CheckArgs) -> anyhow::Result<u8> {
    let registry = load_plugins(config)?;
    let store = open_store(config)?;
    let events = store.event_slugs()?;
    let mut findings: Vec<serde_json::Value> = Vec::new();
    let mut errors = 0;
    let mut report = |severity: Severity, text: String, value: serde_json::Value| {
        if severity == Severity::Error {
            errors += 1;
        }
        if !args.json {
            println!("{text}");
        }
        findings.push(value);
    };
    let mut seen = std::collections::BTreeSet::new();
    for provider in &config.providers {
        if !seen.insert(provider.identifier.as_str()) {
            let text = format!(
                "error: provider {} is configured twice; merge the two [[provider]] tables",
                provider.identifier
            );
            report(
                Severity::Error,
                text.clone(),
                json!({"severity": "error", "provider": provider.identifier, "message": text}),
            );
        }
        if registry.get(&provider.identifier).is_none() {
            let text = format!(
                "error: provider {}: no plugin in {} registers it; add its library or fix the identifier",
                provider.identifier,
                config.plugins_dir().display()
            );
            report(
                Severity::Error,
                text.clone(),
                json!({"severity": "error", "provider": provider.identifier, "message": text}),
            );
        }
        let matching: Vec<&String> = events
            .iter()
            .filter(|e| provider.events.matches(e))
            .collect();
        if matching.is_empty() {
            let text = format!(
                "warning: provider {}: no imported event matches its events; field names were not checked (import an event first)",
                provider.identifier
            );
            report(
                Severity::Warning,
                text.clone(),
                json!({"severity": "warning", "provider": provider.identifier, "message": text}),
            );
        }
        for d in mapping_diagnostics(&store, provider, &matching)? {
            let value = json!({
                "severity": d.severity.to_string(), "provider": d.provider, "event": d.event,
                "mapping_id": d.mapping_id, "property_index": d.property_index,
                "field": d.field, "message": d.message,
            });
            report(d.severity, d.to_string(), value);
        }
    }
    if args.json {
        print_json(&json!({"findings": findings, "errors": errors}))?;
    } else if findings.is_empty() {
        println!(
            "configuration OK: {} provider(s), {} imported event(s)",
            config.providers.len(),
            events.len()
        );
    }
    Ok(if errors > 0 { EXIT_ERROR } else { EXIT_OK })
}

pub(super) fn preview(config: &Config, args: &PreviewArgs) -> anyhow::Result<u8> {
    let provider = config
        .providers
        .iter()
        .find(|p| p.identifier == args.provider && p.events.matches(&args.event))
        .with_context(|| {
            format!(
                "provider {} is not configured for event {} in the config",
                args.provider, args.event
            )
        })?;
    let store = open_store(config)?;
    let event = stored_event(&store, &args.event)?;
    let stored = store.order(&args.event, &args.order)?.with_context(|| {
        format!(
            "order {} of event {} is not in the database; import it first",
            args.order, args.event
        )
    })?;
    let order = parse_order(&stored.data, &event)
        .with_context(|| format!("stored order {} is unreadable; re-import it", args.order))?;
    let mappings = mappings_from_config(provider.mappings_for(&args.event))
        .with_context(|| format!("provider {}: invalid mapping", args.provider))?;
    // The dry run must not need the plugin: its joiner and name are used when it is
    // loaded, pretix's defaults otherwise.
    let registry = crate::plugins::Registry::load_dir(&config.plugins_dir()).unwrap_or_default();
    let loaded = registry.get(&args.provider);
    let joiner = loaded.map_or(Some(","), |p| p.list_field_joiner.as_deref());
    let display_name = loaded.map_or(args.provider.as_str(), |p| p.display_name.as_str());
    let catalog = catalog(&event);
    let plan = plan_order(&catalog, &event, &order, &mappings, joiner, display_name)
        .map_err(|e| anyhow::anyhow!("{}", e.message()))
        .with_context(|| {
            format!(
                "mapping order {} for provider {}",
                args.order, args.provider
            )
        })?;
    for object in plan.iter().filter(|o| !o.skipped) {
        let properties: Vec<_> = object
            .properties
            .iter()
            .map(|p| {
                json!([
                    p.external_field.as_str(),
                    p.value.to_json(),
                    p.mode.as_str()
                ])
            })
            .collect();
        let line = json!({
            "mapping_id": object.mapping_id,
            "position_id": object.position_id,
            "id_value": object.id_value.to_json(),
            "properties": properties,
        });
        if args.json {
            print_json_line(&line);
        } else {
            println!(
                "mapping {} position {}: id {}",
                object.mapping_id,
                object
                    .position_id
                    .map_or("-".to_string(), |p| p.to_string()),
                object.id_value.to_json()
            );
            for p in &object.properties {
                println!(
                    "    {:<32} {:<10} {}",
                    p.external_field.as_str(),
                    p.mode.as_str(),
                    p.value.to_json()
                );
            }
        }
    }
    Ok(EXIT_OK)
}
