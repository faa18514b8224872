//! `datasync import`: pretix export documents into the store, and the sync jobs their
//! changes trigger. Events are stored as a bundle (the document without its orders) so
//! the worker can rebuild the catalog; orders as their own raw JSON.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::model::{parse_import, read_import, EventData, ImportError, Json, Order};
use crate::store::{
    EventRow, EventUpsert, JobSpec, OrderRow, Store, StoreError, Timestamp, UpsertOutcome,
};

/// An import that did not happen; nothing of the document was stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The document is not valid JSON or not in pretix's shape.
    #[error("{file}: {source}; nothing was imported from this file")]
    Invalid {
        /// The file name as given.
        file: String,
        /// What is wrong, with the JSON path.
        source: ImportError,
    },
    /// The store refused the write.
    #[error("{file}: {source}")]
    Store {
        /// The file name as given.
        file: String,
        /// Why.
        source: StoreError,
    },
}

/// What an import is busy with, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStage {
    /// Reading and checking the document's orders.
    Reading,
    /// Writing orders and their sync jobs to the store.
    Storing,
}

/// Called with (stage, orders done, orders in the document) as an import goes on.
pub type ImportProgress<'a> = &'a mut dyn FnMut(ImportStage, usize, usize);

/// Counts for one imported document.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    /// The event slug.
    pub event: String,
    /// Orders not seen before.
    pub new: usize,
    /// Orders whose status or content changed.
    pub changed: usize,
    /// Orders identical to the stored ones.
    pub unchanged: usize,
    /// Sync jobs created or updated.
    pub enqueued: usize,
}

/// The order changes a provider can subscribe to (`triggers` in `datasync.toml`).
pub fn triggers_of(outcome: &UpsertOutcome, new_status: &str) -> Vec<&'static str> {
    match outcome {
        UpsertOutcome::Unchanged => Vec::new(),
        UpsertOutcome::New => {
            let mut t = vec!["placed"];
            if new_status == "p" {
                t.push("paid");
            }
            if new_status == "c" {
                t.push("canceled");
            }
            t
        }
        UpsertOutcome::Changed { old_status } if old_status != new_status => match new_status {
            "p" => vec!["paid", "changed"],
            "c" => vec!["canceled", "changed"],
            _ => vec!["changed"],
        },
        UpsertOutcome::Changed { .. } => vec!["changed"],
    }
}

/// pretix's signal name for a trigger, kept as the job's `triggered_by`.
fn signal_name(trigger: &str) -> String {
    format!("order_{trigger}")
}

/// The event bundle stored for a document: the document without its orders, rebuilt
/// from the parsed parts' raw JSON (re-reading the whole text would parse every order
/// twice).
pub fn event_bundle(event: &EventData) -> String {
    #[derive(serde::Serialize)]
    struct Bundle<'a> {
        event: &'a Json,
        settings: &'a Json,
        items: Vec<&'a Json>,
        questions: Vec<&'a Json>,
        checkinlists: Vec<&'a Json>,
        subevents: Vec<&'a Json>,
        vouchers: Vec<&'a Json>,
    }
    let e = event;
    let bundle = Bundle {
        event: &e.event.raw,
        settings: &e.settings.raw,
        items: e.items.iter().map(|i| &i.raw).collect(),
        questions: e.questions.iter().map(|q| &q.raw).collect(),
        checkinlists: e.checkin_lists.iter().map(|c| &c.raw).collect(),
        subevents: e.subevents.iter().map(|s| &s.raw).collect(),
        vouchers: e.vouchers.iter().map(|v| &v.raw).collect(),
    };
    serde_json::to_string(&bundle).unwrap_or_default()
}

/// Rebuilds an event's data from its stored bundle.
pub fn load_event(bundle: &str) -> Result<EventData, ImportError> {
    parse_import(bundle).map(|doc| doc.event)
}

/// The organizer slug, from the event's public URL (`https://host/ORGANIZER/EVENT/`),
/// since pretix's event resource does not carry it.
pub fn organizer_of(event: &EventData) -> String {
    let Some(url) = event.event.public_url.as_deref() else {
        return String::new();
    };
    let path = url.split("://").nth(1).unwrap_or(url);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [.., organizer, event_slug] if *event_slug == event.event.slug => organizer.to_string(),
        _ => String::new(),
    }
}

/// Imports one document: the event, then all orders and the jobs their changes trigger,
/// each in one transaction. A document that does not parse stores nothing.
pub fn import_document(
    store: &mut Store,
    config: &Config,
    file: &str,
    text: &str,
    now: Timestamp,
    progress: ImportProgress<'_>,
) -> Result<ImportCounts, ImportFailure> {
    let invalid = |source| ImportFailure::Invalid {
        file: file.to_string(),
        source,
    };
    // Each order becomes its stored row as soon as it is read: the document never
    // exists as parsed values all at once.
    let mut rows = Vec::new();
    let event = read_import(text, |order, count| {
        rows.push(order_row(&order));
        progress(ImportStage::Reading, count.index + 1, count.total);
    })
    .map_err(invalid)?;
    let bundle = event_bundle(&event);
    let store_err = |source| ImportFailure::Store {
        file: file.to_string(),
        source,
    };
    let slug = event.event.slug.clone();
    let event_row = EventRow {
        slug: slug.clone(),
        organizer: organizer_of(&event),
        data: bundle,
    };
    let event_change = store.upsert_event(&event_row, now).map_err(store_err)?;
    if event_change != EventUpsert::Unchanged {
        tracing::info!(event = %slug, change = ?event_change, "stored event");
    }
    import_orders(store, config, &slug, &rows, now, progress).map_err(store_err)
}

fn import_orders(
    store: &mut Store,
    config: &Config,
    slug: &str,
    rows: &[OrderRow],
    now: Timestamp,
    progress: ImportProgress<'_>,
) -> Result<ImportCounts, StoreError> {
    let providers: Vec<(&str, &[String])> = config
        .providers_for_event(slug)
        .map(|p| (p.identifier.as_str(), p.triggers_for(slug)))
        .collect();
    let mut stored = 0;
    let report = store.import_orders(slug, rows, now, |order, outcome, jobs| {
        stored += 1;
        progress(ImportStage::Storing, stored, rows.len());
        let fired = triggers_of(outcome, &order.status);
        for (provider, subscribed) in &providers {
            if let Some(trigger) = fired.iter().find(|t| subscribed.iter().any(|s| s == *t)) {
                jobs.push(JobSpec {
                    provider: provider.to_string(),
                    triggered_by: signal_name(trigger),
                    not_before: None,
                });
            }
        }
    })?;
    let mut counts = ImportCounts {
        event: slug.to_string(),
        enqueued: report.jobs.len(),
        ..ImportCounts::default()
    };
    for order in &report.orders {
        match order.outcome {
            UpsertOutcome::New => counts.new += 1,
            UpsertOutcome::Changed { .. } => counts.changed += 1,
            UpsertOutcome::Unchanged => counts.unchanged += 1,
        }
    }
    Ok(counts)
}

fn order_row(order: &Order) -> OrderRow {
    OrderRow {
        code: order.code.clone(),
        status: order.status.clone(),
        data: order.raw_json().to_string(),
    }
}

/// Import counts summed per event, for a multi-file import.
pub fn totals(counts: &[ImportCounts]) -> BTreeMap<&str, ImportCounts> {
    let mut out: BTreeMap<&str, ImportCounts> = BTreeMap::new();
    for c in counts {
        let t = out.entry(c.event.as_str()).or_insert_with(|| ImportCounts {
            event: c.event.clone(),
            ..ImportCounts::default()
        });
        t.new += c.new;
        t.changed += c.changed;
        t.unchanged += c.unchanged;
        t.enqueued += c.enqueued;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_paid_order_fires_placed_and_paid() {
        assert_eq!(triggers_of(&UpsertOutcome::New, "p"), ["placed", "paid"]);
        assert_eq!(triggers_of(&UpsertOutcome::New, "n"), ["placed"]);
    }

    #[test]
    fn a_status_change_fires_its_trigger_and_changed() {
        let from_pending = UpsertOutcome::Changed {
            old_status: "n".into(),
        };
        assert_eq!(triggers_of(&from_pending, "p"), ["paid", "changed"]);
        assert_eq!(triggers_of(&from_pending, "c"), ["canceled", "changed"]);
        assert_eq!(triggers_of(&from_pending, "e"), ["changed"]);
        let same = UpsertOutcome::Changed {
            old_status: "p".into(),
        };
        assert_eq!(triggers_of(&same, "p"), ["changed"]);
        assert!(triggers_of(&UpsertOutcome::Unchanged, "p").is_empty());
    }

    #[test]
    fn event_bundle_round_trips_the_event_without_its_orders() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/pretix-sample/import.json"
        ))
        .expect("corpus");
        let document = parse_import(&text).expect("parses");
        let bundle = event_bundle(&document.event);
        assert!(!bundle.contains("\"orders\""));
        let event = load_event(&bundle).expect("bundle parses");
        assert_eq!(event.event.slug, document.event.event.slug);
        assert_eq!(event.questions.len(), document.event.questions.len());
        assert_eq!(
            event.settings.name_scheme,
            document.event.settings.name_scheme
        );
        assert_eq!(event_bundle(&load_event(&bundle).expect("again")), bundle);
    }
}
