//! pretix-shaped event and order data, as pretix's REST API returns it.
//!
//! The import document is one JSON object
//! `{"event", "settings", "items", "questions", "checkinlists", "subevents", "vouchers", "orders"}`;
//! each list may also be a paginated `{"results": [...]}` page. [`parse_import`] reads
//! and validates it whole; an error names the JSON path of the offending value, e.g.
//! `orders[3].positions[0].price: expected a decimal string with at most two decimal places`.
//!
//! Unknown members are kept: every object keeps its raw JSON ([`Json`], members in
//! document order), and [`Order::raw_json`] / [`Order::position_raw_json`] give the
//! text a provider receives.

mod datetime;
mod decimal;
mod fxhash;
mod json;
mod types;

pub use datetime::{DateTime, DateTimeError};
pub use decimal::Decimal2;
pub use fxhash::{FxHashMap, FxHasher};
pub use json::Json;
pub use types::{
    Answer, Checkin, CheckinList, Event, I18nString, InvoiceAddress, Item, NameParts, Order,
    Payment, Position, Question, QuestionOption, QuestionType, Settings, SubEvent, Variation,
    Voucher, DEFAULT_LANGUAGE,
};

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use serde_json::value::RawValue;

use json::{expected, invalid, Obj, Path};

/// An import document that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Not JSON at all.
    #[error("import document is not valid JSON: {message} (line {line}, column {column})")]
    Syntax {
        /// The parser's message.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// JSON, but a value has the wrong shape.
    #[error("{path}: {message}")]
    Invalid {
        /// JSON path of the value, e.g. `orders[3].positions[0].price`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}

impl ImportError {
    /// The JSON path of the offending value (`None` for syntax errors).
    pub fn path(&self) -> Option<&str> {
        match self {
            ImportError::Syntax { .. } => None,
            ImportError::Invalid { path, .. } => Some(path),
        }
    }
}

/// Everything about one event that the source-field catalog and the getters need:
/// the event, its settings, products, questions, check-in lists, dates and vouchers.
#[derive(Debug, Clone)]
pub struct EventData {
    /// The event.
    pub event: Event,
    /// Its settings (`name_scheme`, `locales`, …); pretix's defaults when absent.
    pub settings: Settings,
    /// Products.
    pub items: Vec<Item>,
    /// Questions, in pretix's order.
    pub questions: Vec<Question>,
    /// Check-in lists.
    pub checkin_lists: Vec<CheckinList>,
    /// Dates of an event series.
    pub subevents: Vec<SubEvent>,
    /// Vouchers.
    pub vouchers: Vec<Voucher>,
    item_index: FxHashMap<i64, usize>,
    subevent_index: FxHashMap<i64, usize>,
    voucher_index: FxHashMap<i64, usize>,
}

impl EventData {
    /// Builds the event data and its lookup indexes.
    pub fn new(
        event: Event,
        settings: Settings,
        items: Vec<Item>,
        questions: Vec<Question>,
        checkin_lists: Vec<CheckinList>,
        subevents: Vec<SubEvent>,
        vouchers: Vec<Voucher>,
    ) -> EventData {
        fn index<T>(list: &[T], id: impl Fn(&T) -> i64) -> FxHashMap<i64, usize> {
            list.iter().enumerate().map(|(i, x)| (id(x), i)).collect()
        }
        EventData {
            item_index: index(&items, |i| i.id),
            subevent_index: index(&subevents, |s| s.id),
            voucher_index: index(&vouchers, |v| v.id),
            event,
            settings,
            items,
            questions,
            checkin_lists,
            subevents,
            vouchers,
        }
    }

    /// The product with this id.
    pub fn item(&self, id: i64) -> Option<&Item> {
        self.item_index.get(&id).and_then(|&i| self.items.get(i))
    }

    /// The series date with this id.
    pub fn subevent(&self, id: i64) -> Option<&SubEvent> {
        self.subevent_index
            .get(&id)
            .and_then(|&i| self.subevents.get(i))
    }

    /// The voucher with this id.
    pub fn voucher(&self, id: i64) -> Option<&Voucher> {
        self.voucher_index
            .get(&id)
            .and_then(|&i| self.vouchers.get(i))
    }

    /// The question with this identifier (the last one, if repeated).
    pub fn question(&self, identifier: &str) -> Option<&Question> {
        self.questions
            .iter()
            .rev()
            .find(|q| q.identifier == identifier)
    }

    /// Checks that an order's positions reference products, variations, vouchers and
    /// series dates the event has (so no getter silently reads a missing object).
    fn check_references(&self, order: &Order, path: &Path<'_>) -> Result<(), ImportError> {
        let positions = Path::Key(path, "positions");
        for pos in &order.positions {
            let at = Path::Index(&positions, pos.raw_index);
            let Some(item) = self.item(pos.item) else {
                return Err(invalid(
                    &Path::Key(&at, "item"),
                    format!("product {} is not among the event's items", pos.item),
                ));
            };
            if let Some(v) = pos.variation.filter(|v| item.variation(*v).is_none()) {
                return Err(invalid(
                    &Path::Key(&at, "variation"),
                    format!("variation {v} is not a variation of product {}", item.id),
                ));
            }
            if let Some(v) = pos.voucher.filter(|v| self.voucher(*v).is_none()) {
                return Err(invalid(
                    &Path::Key(&at, "voucher"),
                    format!("voucher {v} is not among the event's vouchers"),
                ));
            }
            if let Some(s) = pos.subevent.filter(|s| self.subevent(*s).is_none()) {
                return Err(invalid(
                    &Path::Key(&at, "subevent"),
                    format!("date {s} is not among the event's subevents"),
                ));
            }
        }
        Ok(())
    }

    /// Reads one order against this event: answers resolved, references checked.
    fn read_order(&self, value: Json, path: &Path<'_>) -> Result<Order, ImportError> {
        let mut order = Order::read(value, path)?;
        self.resolve_answers(&mut order);
        self.check_references(&order, path)?;
        Ok(order)
    }

    /// Fills in what an order's answers may leave out (question identifiers, option
    /// identifiers) from the event's questions.
    pub fn resolve_answers(&self, order: &mut Order) {
        for pos in &mut order.positions {
            for answer in &mut pos.answers {
                let question = match answer.question {
                    Some(id) => self.questions.iter().find(|q| q.id == id),
                    None => None,
                };
                let Some(question) = question else { continue };
                if answer.question_identifier.is_empty() {
                    answer.question_identifier = question.identifier.clone();
                }
                if answer.option_identifiers.is_empty() && !answer.options.is_empty() {
                    answer.option_identifiers = answer
                        .options
                        .iter()
                        .filter_map(|id| question.options.iter().find(|o| o.id == *id))
                        .map(|o| o.identifier.clone())
                        .collect();
                }
            }
        }
    }
}

/// A whole import document.
#[derive(Debug, Clone)]
pub struct ImportDocument {
    /// The event and everything event-wide.
    pub event: EventData,
    /// The orders, in document order.
    pub orders: Vec<Order>,
}

impl ImportDocument {
    /// The order with this code.
    pub fn order(&self, code: &str) -> Option<&Order> {
        self.orders.iter().find(|o| o.code == code)
    }
}

fn syntax_error(e: &serde_json::Error) -> ImportError {
    ImportError::Syntax {
        message: e.to_string(),
        line: e.line(),
        column: e.column(),
    }
}

/// Reads a top-level list that may be a plain array or a `{"results": [...]}` page.
fn read_list<T>(
    doc: &Obj<'_>,
    key: &'static str,
    read: impl Fn(&Json, &Path<'_>) -> Result<T, ImportError>,
) -> Result<Vec<T>, ImportError> {
    let path = Path::Key(doc.path(), key);
    let (items, items_path) = match doc.present(key) {
        None => return Ok(Vec::new()),
        Some(Json::Array(items)) => (items, path),
        Some(page @ Json::Object(_)) => match page.get("results") {
            Some(Json::Array(items)) => (items, Path::Key(&path, "results")),
            Some(other) => return Err(expected(&Path::Key(&path, "results"), "an array", other)),
            None => {
                return Err(invalid(
                    &path,
                    "expected an array or a {\"results\": [...]} page",
                ))
            }
        },
        Some(other) => return Err(expected(&path, "an array", other)),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| read(item, &Path::Index(&items_path, i)))
        .collect()
}

/// Parses and validates a whole import document.
pub fn parse_import(text: &str) -> Result<ImportDocument, ImportError> {
    let mut orders = Vec::new();
    let event = read_import(text, |order, _| orders.push(order))?;
    Ok(ImportDocument { event, orders })
}

/// Where an order handed over by [`read_import`] stands in its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCount {
    /// 0-based position among the document's orders.
    pub index: usize,
    /// How many orders the document holds.
    pub total: usize,
}

/// Reads an import document like [`parse_import`], but hands each validated order to
/// `each_order` as soon as it is read instead of collecting them: only the event parts
/// and one order at a time exist as parsed values, so a large export costs little more
/// memory than its text. Orders come in document order; on an error some may already
/// have been handed over, so a caller that stores them must do so in a transaction it
/// can drop.
pub fn read_import(
    text: &str,
    mut each_order: impl FnMut(Order, OrderCount),
) -> Result<EventData, ImportError> {
    let document = open_import(text)?;
    document.read_orders(|order, count| {
        each_order(order, count);
        ControlFlow::Continue(())
    })?;
    Ok(document.event)
}

/// An import document whose event parts are read and checked, and whose orders are
/// located but not yet read: [`OpenedImport::read_orders`] reads them, on any thread,
/// while the event is already at hand.
#[derive(Debug)]
pub struct OpenedImport<'a> {
    /// The event parts.
    pub event: EventData,
    /// Each order as a slice of the document.
    orders: Vec<&'a RawValue>,
    /// Whether the orders are a paginated response (`orders.results`).
    in_page: bool,
}

/// Reads the event parts of an import document and finds its orders; the syntax of the
/// whole document is checked here.
pub fn open_import(text: &str) -> Result<OpenedImport<'_>, ImportError> {
    // Each top-level member as a slice of `text`. Duplicate members: the last wins, as
    // in [`Json::get`].
    let members: BTreeMap<String, &RawValue> = match serde_json::from_str(text) {
        Ok(members) => members,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(syntax_error(&e)),
        // Not an object: the full reader names the problem.
        Err(e) => return Err(shape_error(text, &e)),
    };
    let mut parts = Vec::with_capacity(members.len());
    for (key, raw) in &members {
        if key != "orders" {
            let value: Json = serde_json::from_str(raw.get()).map_err(|e| syntax_error(&e))?;
            parts.push((key.clone(), value));
        }
    }
    let root = Json::Object(parts);
    let event = read_event(&Obj::new(&root, &Path::Root)?)?;

    let (orders, in_page) = match members.get("orders").filter(|raw| raw.get() != "null") {
        None => (Vec::new(), false),
        Some(list) => match order_slices(list.get()) {
            Some(found) => found,
            // Not a list of orders: the full reader names the problem.
            None => return Err(orders_shape_error(list.get())),
        },
    };
    Ok(OpenedImport {
        event,
        orders,
        in_page,
    })
}

impl OpenedImport<'_> {
    /// How many orders the document holds.
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// Reads and validates each order in document order and hands it to `each_order`,
    /// which may break off (then `Ok` is returned). The first invalid order ends the
    /// reading with its error.
    pub fn read_orders(
        &self,
        mut each_order: impl FnMut(Order, OrderCount) -> ControlFlow<()>,
    ) -> Result<(), ImportError> {
        let path = Path::Key(&Path::Root, "orders");
        let items_path = if self.in_page {
            Path::Key(&path, "results")
        } else {
            Path::Key(&Path::Root, "orders")
        };
        let total = self.orders.len();
        for (index, raw) in self.orders.iter().enumerate() {
            let value: Json = serde_json::from_str(raw.get()).map_err(|e| syntax_error(&e))?;
            let order = self
                .event
                .read_order(value, &Path::Index(&items_path, index))?;
            if each_order(order, OrderCount { index, total }).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// The event parts of a document (everything but the orders).
fn read_event(doc: &Obj<'_>) -> Result<EventData, ImportError> {
    let event = Event::read(doc.required("event")?, &Path::Key(&Path::Root, "event"))?;
    let settings = match doc.present("settings") {
        None => Settings::default(),
        Some(v) => Settings::read(v, &Path::Key(&Path::Root, "settings"))?,
    };
    Ok(EventData::new(
        event,
        settings,
        read_list(doc, "items", Item::read)?,
        read_list(doc, "questions", Question::read)?,
        read_list(doc, "checkinlists", CheckinList::read)?,
        read_list(doc, "subevents", SubEvent::read)?,
        read_list(doc, "vouchers", Voucher::read)?,
    ))
}

/// The orders of an `orders` member as slices: a plain array, or a `{"results": [...]}`
/// page (`true`). `None` when it is neither.
fn order_slices(list: &str) -> Option<(Vec<&RawValue>, bool)> {
    #[derive(serde::Deserialize)]
    struct Page<'a> {
        #[serde(borrow)]
        results: Vec<&'a RawValue>,
    }
    if list.starts_with('[') {
        serde_json::from_str(list)
            .ok()
            .map(|orders| (orders, false))
    } else {
        let page: Page<'_> = serde_json::from_str(list).ok()?;
        Some((page.results, true))
    }
}

/// The error for a document whose root is not an object.
fn shape_error(text: &str, e: &serde_json::Error) -> ImportError {
    let fallback = || invalid(&Path::Root, e.to_string());
    match serde_json::from_str::<Json>(text) {
        Ok(root) => Obj::new(&root, &Path::Root).err().unwrap_or_else(fallback),
        Err(e) => syntax_error(&e),
    }
}

/// The error for an `orders` member that is not a list of orders.
fn orders_shape_error(list: &str) -> ImportError {
    let root = match serde_json::from_str::<Json>(list) {
        Ok(value) => Json::Object(vec![("orders".to_owned(), value)]),
        Err(e) => return syntax_error(&e),
    };
    let error = Obj::new(&root, &Path::Root)
        .and_then(|doc| read_list(&doc, "orders", |_, _| Ok(())).map(drop));
    error.err().unwrap_or_else(|| {
        invalid(
            &Path::Key(&Path::Root, "orders"),
            "expected an array or a {\"results\": [...]} page",
        )
    })
}

/// Parses one order as the store keeps it (compact JSON, as [`Order::raw_json`] wrote
/// it) against an event's data: answers are resolved and references to products,
/// vouchers and dates checked, as in [`parse_import`]. Paths in errors start at the
/// order (`positions[0].price`). The text itself becomes the order's `raw_json`.
pub fn parse_order(text: &str, event: &EventData) -> Result<Order, ImportError> {
    let root: Json = serde_json::from_str(text).map_err(|e| syntax_error(&e))?;
    let mut order = event.read_order(root, &Path::Root)?;
    order.set_raw_json(text);
    Ok(order)
}

#[cfg(test)]
mod tests;
