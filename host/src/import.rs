//! `datasync import`: pretix export documents into the store, and the sync jobs their
//! changes trigger. Events are stored as a bundle (the document without its orders) so
//! the worker can rebuild the catalog; orders as their own raw JSON.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::mpsc;

use crate::config::Config;
use crate::model::{open_import, parse_import, EventData, ImportError, Json, OpenedImport, Order};
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

/// Called with (orders stored, orders in the document) as an import goes on.
pub type ImportProgress<'a> = &'a mut dyn FnMut(usize, usize);

/// Orders handed from the reading to the storing thread at once: one hand-over per
/// order cost more than the work it moved.
const CHUNK: usize = 64;

/// Chunks read ahead of the store: enough to keep both threads busy, few enough that a
/// large document never exists as read orders all at once.
const READ_AHEAD: usize = 8;

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

/// Imports one document in one transaction: the event, then every order and the jobs
/// its change triggers. Orders are read and validated on a second thread while this one
/// stores the ones before them; a document with any invalid order stores nothing.
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
    let store_err = |source| ImportFailure::Store {
        file: file.to_string(),
        source,
    };
    let document = open_import(text).map_err(invalid)?;
    let event = &document.event;
    let slug = event.event.slug.clone();
    let event_row = EventRow {
        slug: slug.clone(),
        organizer: organizer_of(event),
        data: event_bundle(event),
    };
    let providers: Vec<(&str, &[String])> = config
        .providers_for_event(&slug)
        .map(|p| (p.identifier.as_str(), p.triggers_for(&slug)))
        .collect();
    let total = document.order_count();
    let mut stored = 0;
    let jobs_for = |order: &OrderRow, outcome: &UpsertOutcome, jobs: &mut Vec<JobSpec>| {
        stored += 1;
        progress(stored, total);
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
    };

    let imported = std::thread::scope(|scope| {
        let (sender, received) = mpsc::sync_channel(READ_AHEAD);
        let document = &document;
        scope.spawn(move || send_orders(document, &sender));
        // Dropping the receiver on a store error ends the reader at its next chunk.
        let rows = ReadOrders {
            received,
            current: Vec::new().into_iter(),
            ended: false,
        };
        store.import_document(&event_row, rows, now, jobs_for)
    });
    let (event_change, report) = imported.map_err(store_err)?.map_err(invalid)?;
    if event_change != EventUpsert::Unchanged {
        tracing::info!(event = %slug, change = ?event_change, "stored event");
    }
    let mut counts = ImportCounts {
        event: slug,
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

/// The reading thread: every order of `document` as its stored row, in chunks, then
/// how the reading ended.
fn send_orders(document: &OpenedImport<'_>, sender: &mpsc::SyncSender<Read>) {
    let mut chunk = Vec::with_capacity(CHUNK);
    let read = document.read_orders(|order, _| {
        chunk.push(order_row(&order));
        if chunk.len() < CHUNK {
            return ControlFlow::Continue(());
        }
        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
        // The store hung up (it failed): stop reading.
        match sender.send(Read::Orders(full)) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    });
    let _ = sender.send(Read::Orders(chunk));
    let _ = sender.send(read.map_or_else(Read::Failed, |()| Read::Done));
}

/// What the reading thread hands to the storing one.
enum Read {
    Orders(Vec<OrderRow>),
    Failed(ImportError),
    Done,
}

/// The read orders as the store consumes them. A reader that went away without saying
/// it was done (it panicked) is an error, so a cut-off document is never committed.
struct ReadOrders {
    received: mpsc::Receiver<Read>,
    current: std::vec::IntoIter<OrderRow>,
    ended: bool,
}

impl Iterator for ReadOrders {
    type Item = Result<OrderRow, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.current.next() {
                return Some(Ok(row));
            }
            if self.ended {
                return None;
            }
            let read = self.received.recv().unwrap_or_else(|_| {
                Read::Failed(ImportError::Invalid {
                    path: "orders".into(),
                    message:
                        "reading stopped before the last order (a datasync bug; please report it)"
                            .into(),
                })
            });
            match read {
                Read::Orders(rows) => self.current = rows.into_iter(),
                Read::Failed(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
                Read::Done => self.ended = true,
            }
        }
    }
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

    fn row(code: &str) -> OrderRow {
        OrderRow {
            code: code.into(),
            status: "p".into(),
            data: "{}".into(),
        }
    }

    fn reading(messages: Vec<Read>) -> Vec<Result<String, String>> {
        let (sender, received) = mpsc::sync_channel(messages.len());
        for m in messages {
            sender.send(m).expect("room in the channel");
        }
        drop(sender);
        let rows = ReadOrders {
            received,
            current: Vec::new().into_iter(),
            ended: false,
        };
        rows.map(|r| r.map(|o| o.code).map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn read_orders_end_at_done_after_every_chunk() {
        let got = reading(vec![
            Read::Orders(vec![row("A"), row("B")]),
            Read::Orders(vec![]),
            Read::Orders(vec![row("C")]),
            Read::Done,
        ]);
        assert_eq!(got, [Ok("A".into()), Ok("B".into()), Ok("C".into())]);
    }

    #[test]
    fn a_reading_error_follows_the_orders_read_before_it_and_ends_the_stream() {
        let error = ImportError::Invalid {
            path: "orders[1].total".into(),
            message: "expected a decimal string".into(),
        };
        let got = reading(vec![Read::Orders(vec![row("A")]), Read::Failed(error)]);
        assert_eq!(
            got,
            [
                Ok("A".into()),
                Err("orders[1].total: expected a decimal string".into())
            ]
        );
    }

    #[test]
    fn a_reader_gone_without_done_is_an_error_so_nothing_is_committed() {
        let got = reading(vec![Read::Orders(vec![row("A")])]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], Ok("A".into()));
        assert!(
            matches!(&got[1], Err(e) if e.contains("reading stopped before the last order")),
            "{got:?}"
        );
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
