//! Read-only views: `results`, `log`.

use serde_json::json;

use super::common::{open_store, print_json};
use super::EXIT_OK;
use crate::config::Config;
use crate::store::LogFilter;

/// Arguments of `datasync results`.
#[derive(Debug, clap::Args)]
pub struct ResultsArgs {
    /// Event slug
    #[arg(long, value_name = "SLUG")]
    event: String,
    /// Order code
    #[arg(long, value_name = "CODE")]
    order: String,
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

/// Arguments of `datasync log`.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Only this event
    #[arg(long, value_name = "SLUG")]
    event: Option<String>,
    /// Only this order code
    #[arg(long, value_name = "CODE")]
    order: Option<String>,
    /// Only this provider
    #[arg(long, value_name = "IDENTIFIER")]
    provider: Option<String>,
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

pub(super) fn results(config: &Config, args: &ResultsArgs) -> anyhow::Result<u8> {
    let store = open_store(config)?;
    let rows = store.results_for_order(&args.event, &args.order)?;
    if args.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "provider": r.provider,
                    "mapping_id": r.result.mapping_id,
                    "position_id": r.result.position,
                    "object_type": r.result.external_object_type,
                    "external_id_field": r.result.external_id_field,
                    "id_value": r.result.id_value,
                    "external_link_href": r.result.external_link_href,
                    "external_link_display_name": r.result.external_link_display_name,
                    "transmitted": r.transmitted.to_string(),
                    // The store checked that it is JSON when it read the row.
                    "sync_info": serde_json::from_str::<serde_json::Value>(&r.result.sync_info)
                        .unwrap_or_default(),
                })
            })
            .collect();
        print_json(&json!({ "results": rows }))?;
        return Ok(EXIT_OK);
    }
    if rows.is_empty() {
        println!(
            "nothing synced yet for order {} of {}",
            args.order, args.event
        );
    }
    for r in &rows {
        let link = match (
            &r.result.external_link_display_name,
            &r.result.external_link_href,
        ) {
            (Some(name), Some(href)) => format!("  {name} <{href}>"),
            (None, Some(href)) => format!("  <{href}>"),
            _ => String::new(),
        };
        println!(
            "{} mapping {} position {}: {} {}={}{link}  (transmitted {})",
            r.provider,
            r.result.mapping_id,
            r.result.position.map_or("-".to_string(), |p| p.to_string()),
            r.result.external_object_type,
            r.result.external_id_field,
            r.result.id_value,
            r.transmitted
        );
    }
    Ok(EXIT_OK)
}

pub(super) fn log(config: &Config, args: &LogArgs) -> anyhow::Result<u8> {
    let store = open_store(config)?;
    let filter = LogFilter {
        event: args.event.clone(),
        order_code: args.order.clone(),
        provider: args.provider.clone(),
    };
    let entries = store.log_entries(&filter)?;
    if args.json {
        let entries: Vec<_> = entries
            .iter()
            .map(|e| {
                json!({
                    "id": e.id, "time": e.time.to_string(), "event": e.event, "order": e.order_code,
                    "provider": e.provider, "action": e.action, "messages": e.messages,
                    "full_message": e.full_message, "data": e.data,
                })
            })
            .collect();
        print_json(&json!({ "entries": entries }))?;
        return Ok(EXIT_OK);
    }
    for e in &entries {
        let action = e.action.rsplit("data_sync.").next().unwrap_or(&e.action);
        println!(
            "{} {} {} {} {}: {}",
            e.time,
            e.event,
            e.order_code,
            e.provider,
            action,
            e.messages.join("; ")
        );
    }
    Ok(EXIT_OK)
}

/// Arguments of `datasync stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

pub(super) fn stats(config: &Config, args: &StatsArgs) -> anyhow::Result<u8> {
    let store = open_store(config)?;
    let stats = store.stats()?;
    if args.json {
        print_json(&serde_json::to_value(&stats)?)?;
        return Ok(EXIT_OK);
    }
    println!("{} orders imported", stats.orders);
    println!(
        "{:<16} {:>7} {:>8}  {:<40} {:>7} {:>9}",
        "PROVIDER", "ORDERS", "OBJECTS", "ACTIONS", "QUEUED", "PROBLEMS"
    );
    for (provider, p) in &stats.providers {
        let actions = p
            .actions
            .iter()
            .map(|(action, n)| format!("{action} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "{:<16} {:>7} {:>8}  {:<40} {:>7} {:>9}",
            provider, p.orders, p.objects, actions, p.queued, p.problems
        );
    }
    Ok(EXIT_OK)
}
