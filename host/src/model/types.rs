//! The pretix objects the mapping reads, in the shapes of pretix's REST API.
//!
//! Only the members the source-field catalog needs are typed; every object keeps its
//! raw JSON too ([`Json`], members in document order), so nothing of the input is lost
//! and providers receive the order and position exactly as imported. Absent optional
//! members and `null` read as "not set".

use std::sync::OnceLock;

use super::datetime::DateTime;
use super::decimal::Decimal2;
use super::json::{as_i64, as_string, expected, invalid, Json, Obj, Path};
use super::ImportError;

/// pretix's `settings.LANGUAGE_CODE`: the last-resort language of localized strings.
pub const DEFAULT_LANGUAGE: &str = "en";

/// A localized string (pretix `LazyI18nString`): plain text or `{"en": …, "de": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum I18nString {
    /// A plain string, the same in every language.
    Plain(String),
    /// Language code → text, in document order; `None` for a `null` entry.
    Localized(Vec<(String, Option<String>)>),
}

impl Default for I18nString {
    fn default() -> Self {
        I18nString::Plain(String::new())
    }
}

impl I18nString {
    fn lookup(&self, lang: &str) -> Option<&str> {
        match self {
            I18nString::Plain(_) => None,
            I18nString::Localized(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k == lang)
                .and_then(|(_, v)| v.as_deref())
                .filter(|v| !v.is_empty()),
        }
    }

    /// The text in `lang`, falling back like pretix's `LazyI18nString.localize`:
    /// exact language, its base language (`de` for `de-informal`), a sibling variant
    /// (`de-…`), pretix's default language (`en`), then the first non-empty text.
    pub fn localize(&self, lang: &str) -> &str {
        let entries = match self {
            I18nString::Plain(s) => return s,
            I18nString::Localized(entries) => entries,
        };
        if let Some(v) = self.lookup(lang) {
            return v;
        }
        let base = lang.split('-').next().unwrap_or(lang);
        if let Some(v) = self.lookup(base) {
            return v;
        }
        let similar = entries.iter().find_map(|(k, v)| {
            let is_similar = k
                .strip_prefix(base)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'));
            if is_similar && k != lang {
                v.as_deref().filter(|v| !v.is_empty())
            } else {
                None
            }
        });
        if let Some(v) = similar {
            return v;
        }
        if let Some(v) = self.lookup(DEFAULT_LANGUAGE) {
            return v;
        }
        entries
            .iter()
            .find_map(|(_, v)| v.as_deref().filter(|v| !v.is_empty()))
            .unwrap_or("")
    }

    pub(crate) fn read(value: Option<&Json>, path: &Path<'_>) -> Result<I18nString, ImportError> {
        match value {
            None | Some(Json::Null) => Ok(I18nString::default()),
            Some(Json::String(s)) => Ok(I18nString::Plain(s.clone())),
            Some(Json::Object(members)) => {
                let mut entries = Vec::with_capacity(members.len());
                for (k, v) in members {
                    let text = match v {
                        Json::Null => None,
                        Json::String(s) => Some(s.clone()),
                        other => {
                            return Err(expected(&Path::Key(path, k), "a string", other));
                        }
                    };
                    entries.push((k.clone(), text));
                }
                Ok(I18nString::Localized(entries))
            }
            Some(other) => Err(expected(
                path,
                "a string or a language → text object",
                other,
            )),
        }
    }
}

/// Person-name parts (`{"_scheme": "given_family", "given_name": …}`), in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameParts(pub Vec<(String, String)>);

impl NameParts {
    /// The part `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Python truthiness of the dict: any member at all (even only `_scheme`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn read(value: Option<&Json>, path: &Path<'_>) -> Result<NameParts, ImportError> {
        match value {
            None | Some(Json::Null) => Ok(NameParts::default()),
            Some(Json::Object(members)) => {
                let mut parts = Vec::with_capacity(members.len());
                for (k, v) in members {
                    match v {
                        // A `null` part reads as absent.
                        Json::Null => {}
                        Json::String(s) => parts.push((k.clone(), s.clone())),
                        other => return Err(expected(&Path::Key(path, k), "a string", other)),
                    }
                }
                Ok(NameParts(parts))
            }
            Some(other) => Err(expected(path, "an object of name parts", other)),
        }
    }
}

fn decimal(obj: &Obj<'_>, key: &'static str) -> Result<Decimal2, ImportError> {
    let path = Path::Key(obj.path(), key);
    let parsed = match obj.required(key)? {
        Json::String(s) => Decimal2::parse(s),
        Json::Number(n) => Decimal2::parse(&n.to_string()),
        other => return Err(expected(&path, "a decimal string", other)),
    };
    parsed.ok_or_else(|| {
        invalid(
            &path,
            "expected a decimal string with at most two decimal places",
        )
    })
}

fn opt_datetime(obj: &Obj<'_>, key: &'static str) -> Result<Option<DateTime>, ImportError> {
    let path = Path::Key(obj.path(), key);
    match obj.present(key) {
        None => Ok(None),
        Some(Json::String(s)) => DateTime::parse(s)
            .map(Some)
            .map_err(|e| invalid(&path, e.to_string())),
        Some(other) => Err(expected(&path, "a date-time string", other)),
    }
}

/// The event (`GET …/events/{slug}/`).
#[derive(Debug, Clone)]
pub struct Event {
    /// Short form, e.g. `conf26`.
    pub slug: String,
    /// Event name.
    pub name: I18nString,
    /// Start.
    pub date_from: Option<DateTime>,
    /// End, if set.
    pub date_to: Option<DateTime>,
    /// The public shop URL (`https://…/organizer/event/`), base of the ticket links.
    pub public_url: Option<String>,
    /// Whether the event is a series with dates (subevents).
    pub has_subevents: bool,
    /// The object as imported.
    pub raw: Json,
}

impl Event {
    pub(crate) fn read(value: &Json, path: &Path<'_>) -> Result<Event, ImportError> {
        let o = Obj::new(value, path)?;
        Ok(Event {
            slug: o.req_str("slug")?,
            name: I18nString::read(o.raw("name"), &Path::Key(path, "name"))?,
            date_from: opt_datetime(&o, "date_from")?,
            date_to: opt_datetime(&o, "date_to")?,
            public_url: o.opt_str("public_url")?,
            has_subevents: o.bool_or_false("has_subevents")?,
            raw: value.clone(),
        })
    }
}

/// The event settings that decide which data fields exist (`GET …/settings/`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Attendee/invoice name scheme, e.g. `given_family` (pretix's default: `full`).
    pub name_scheme: String,
    /// Enabled locales (pretix's default: `["en"]`).
    pub locales: Vec<String>,
    /// Default locale (pretix's default: `en`).
    pub locale: String,
    /// The object as imported (`{}` when absent).
    pub raw: Json,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            name_scheme: "full".to_string(),
            locales: vec![DEFAULT_LANGUAGE.to_string()],
            locale: DEFAULT_LANGUAGE.to_string(),
            raw: Json::Object(Vec::new()),
        }
    }
}

impl Settings {
    pub(crate) fn read(value: &Json, path: &Path<'_>) -> Result<Settings, ImportError> {
        let o = Obj::new(value, path)?;
        let defaults = Settings::default();
        let locales = match o.present("locales") {
            None => defaults.locales,
            Some(_) => o.list("locales", as_string)?,
        };
        Ok(Settings {
            name_scheme: o.opt_str("name_scheme")?.unwrap_or(defaults.name_scheme),
            locales,
            locale: o.opt_str("locale")?.unwrap_or(defaults.locale),
            raw: value.clone(),
        })
    }
}

/// A product variation.
#[derive(Debug, Clone)]
pub struct Variation {
    /// Primary key.
    pub id: i64,
    /// Variation name (`value` in the API).
    pub value: I18nString,
}

/// A product (`GET …/items/`).
#[derive(Debug, Clone)]
pub struct Item {
    /// Primary key.
    pub id: i64,
    /// Public name.
    pub name: I18nString,
    /// Internal name; wins over `name` in the `product` field when non-empty.
    pub internal_name: Option<String>,
    /// Whether the product grants admission.
    pub admission: bool,
    /// Variations.
    pub variations: Vec<Variation>,
    /// The object as imported.
    pub raw: Json,
}

impl Item {
    pub(crate) fn read(value: &Json, path: &Path<'_>) -> Result<Item, ImportError> {
        let o = Obj::new(value, path)?;
        Ok(Item {
            id: o.req_i64("id")?,
            name: I18nString::read(o.raw("name"), &Path::Key(path, "name"))?,
            internal_name: o.opt_str("internal_name")?,
            admission: o.bool_or_false("admission")?,
            variations: o.list("variations", |v, p| {
                let vo = Obj::new(v, p)?;
                Ok(Variation {
                    id: vo.req_i64("id")?,
                    value: I18nString::read(vo.raw("value"), &Path::Key(p, "value"))?,
                })
            })?,
            raw: value.clone(),
        })
    }

    /// The variation with this id.
    pub fn variation(&self, id: i64) -> Option<&Variation> {
        self.variations.iter().find(|v| v.id == id)
    }
}

/// pretix question types (spec §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuestionType {
    /// `N` Number.
    Number,
    /// `S` Text (one line).
    String,
    /// `T` Multiline text.
    Text,
    /// `B` Yes/No.
    Boolean,
    /// `C` Choose one from a list.
    Choice,
    /// `M` Choose multiple from a list.
    ChoiceMultiple,
    /// `F` File upload.
    File,
    /// `D` Date.
    Date,
    /// `H` Time.
    Time,
    /// `W` Date and time.
    DateTime,
    /// `CC` Country code (ISO 3166-1 alpha-2).
    CountryCode,
    /// `TEL` Phone number.
    PhoneNumber,
}

impl QuestionType {
    /// Every type, in pretix's order.
    pub const ALL: [QuestionType; 12] = [
        QuestionType::Number,
        QuestionType::String,
        QuestionType::Text,
        QuestionType::Boolean,
        QuestionType::Choice,
        QuestionType::ChoiceMultiple,
        QuestionType::File,
        QuestionType::Date,
        QuestionType::Time,
        QuestionType::DateTime,
        QuestionType::CountryCode,
        QuestionType::PhoneNumber,
    ];

    /// pretix's code: `N`, `S`, `T`, `B`, `C`, `M`, `F`, `D`, `H`, `W`, `CC`, `TEL`.
    pub fn code(self) -> &'static str {
        match self {
            QuestionType::Number => "N",
            QuestionType::String => "S",
            QuestionType::Text => "T",
            QuestionType::Boolean => "B",
            QuestionType::Choice => "C",
            QuestionType::ChoiceMultiple => "M",
            QuestionType::File => "F",
            QuestionType::Date => "D",
            QuestionType::Time => "H",
            QuestionType::DateTime => "W",
            QuestionType::CountryCode => "CC",
            QuestionType::PhoneNumber => "TEL",
        }
    }

    /// pretix's label for the type.
    pub fn label(self) -> &'static str {
        match self {
            QuestionType::Number => "Number",
            QuestionType::String => "Text (one line)",
            QuestionType::Text => "Multiline text",
            QuestionType::Boolean => "Yes/No",
            QuestionType::Choice => "Choose one from a list",
            QuestionType::ChoiceMultiple => "Choose multiple from a list",
            QuestionType::File => "File upload",
            QuestionType::Date => "Date",
            QuestionType::Time => "Time",
            QuestionType::DateTime => "Date and time",
            QuestionType::CountryCode => "Country code (ISO 3166-1 alpha-2)",
            QuestionType::PhoneNumber => "Phone number",
        }
    }

    /// Parses pretix's code.
    pub fn parse(code: &str) -> Option<QuestionType> {
        QuestionType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Choice types, whose answers are lists of option identifiers.
    pub fn is_choice(self) -> bool {
        matches!(self, QuestionType::Choice | QuestionType::ChoiceMultiple)
    }
}

/// One option of a choice question.
#[derive(Debug, Clone)]
pub struct QuestionOption {
    /// Primary key.
    pub id: i64,
    /// Stable identifier, e.g. `F1`.
    pub identifier: String,
    /// Option text.
    pub answer: I18nString,
}

/// A question (`GET …/questions/`).
#[derive(Debug, Clone)]
pub struct Question {
    /// Primary key.
    pub id: i64,
    /// Stable identifier, e.g. `FOOD`; data field `question_<identifier>`.
    pub identifier: String,
    /// Question text.
    pub question: I18nString,
    /// Answer type.
    pub question_type: QuestionType,
    /// Options of choice questions, in pretix's order.
    pub options: Vec<QuestionOption>,
    /// The object as imported.
    pub raw: Json,
}

impl Question {
    pub(crate) fn read(value: &Json, path: &Path<'_>) -> Result<Question, ImportError> {
        let o = Obj::new(value, path)?;
        let type_code = o.req_str("type")?;
        let question_type = QuestionType::parse(&type_code).ok_or_else(|| {
            invalid(
                &Path::Key(path, "type"),
                format!(
                    "unknown question type {type_code:?}; expected one of N, S, T, B, C, M, F, D, H, W, CC, TEL"
                ),
            )
        })?;
        Ok(Question {
            id: o.req_i64("id")?,
            identifier: o.req_str("identifier")?,
            question: I18nString::read(o.raw("question"), &Path::Key(path, "question"))?,
            question_type,
            options: o.list("options", |v, p| {
                let oo = Obj::new(v, p)?;
                Ok(QuestionOption {
                    id: oo.req_i64("id")?,
                    identifier: oo.req_str("identifier")?,
                    answer: I18nString::read(oo.raw("answer"), &Path::Key(p, "answer"))?,
                })
            })?,
            raw: value.clone(),
        })
    }
}

/// A check-in list (`GET …/checkinlists/`).
#[derive(Debug, Clone)]
pub struct CheckinList {
    /// Primary key; data field `checkin_date_<id>`.
    pub id: i64,
    /// List name.
    pub name: String,
    /// The object as imported.
    pub raw: Json,
}

impl CheckinList {
    pub(crate) fn read(value: &Json, path: &Path<'_>) -> Result<CheckinList, ImportError> {
        let o = Obj::new(value, path)?;
        Ok(CheckinList {
            id: o.req_i64("id")?,
            name: o.str_or_empty("name")?,
            raw: value.clone(),
        })
    }
}

/// A date of an event series (`GET …/subevents/`).
#[derive(Debug, Clone)]
pub struct SubEvent {
    /// Primary key.
    pub id: i64,
    /// Date name.
    pub name: I18nString,
    /// Start.
    pub date_from: Option<DateTime>,
    /// End, if set.
    pub date_to: Option<DateTime>,
    /// The object as imported.
    pub raw: Json,
}

impl SubEvent {
    pub(crate) fn read(value: &Json, path: &Path<'_>) -> Result<SubEvent, ImportError> {
        let o = Obj::new(value, path)?;
        Ok(SubEvent {
            id: o.req_i64("id")?,
            name: I18nString::read(o.raw("name"), &Path::Key(path, "name"))?,
            date_from: opt_datetime(&o, "date_from")?,
            date_to: opt_datetime(&o, "date_to")?,
            raw: value.clone(),
        })
    }
}

/// A voucher (`GET …/vouchers/`); positions carry only its id.
#[derive(Debug, Clone)]
pub struct Voucher {
    /// Primary key.
    pub id: i64,
    /// Voucher code.
    pub code: String,
    /// The object as imported.
    pub raw: Json,
}

impl Voucher {
    pub(crate) fn read(value: &Json, path: &Path<'_>) -> Result<Voucher, ImportError> {
        let o = Obj::new(value, path)?;
        Ok(Voucher {
            id: o.req_i64("id")?,
            code: o.req_str("code")?,
            raw: value.clone(),
        })
    }
}

/// An order's invoice address. Missing text members read as `""` (pretix's model
/// defaults), so an order without an address behaves like an empty address.
#[derive(Debug, Clone, Default)]
pub struct InvoiceAddress {
    /// Company.
    pub company: String,
    /// Full name as pretix renders it.
    pub name: String,
    /// Name parts.
    pub name_parts: NameParts,
    /// Street.
    pub street: String,
    /// ZIP code.
    pub zipcode: String,
    /// City.
    pub city: String,
    /// ISO country code, `""` if none.
    pub country: String,
}

impl InvoiceAddress {
    fn read(value: &Json, path: &Path<'_>) -> Result<InvoiceAddress, ImportError> {
        let o = Obj::new(value, path)?;
        Ok(InvoiceAddress {
            company: o.str_or_empty("company")?,
            name: o.str_or_empty("name")?,
            name_parts: NameParts::read(o.raw("name_parts"), &Path::Key(path, "name_parts"))?,
            street: o.str_or_empty("street")?,
            zipcode: o.str_or_empty("zipcode")?,
            city: o.str_or_empty("city")?,
            country: o.str_or_empty("country")?,
        })
    }
}

/// A payment of an order (only what `payment_date` needs).
#[derive(Debug, Clone)]
pub struct Payment {
    /// Payment state (`created`, `confirmed`, `failed`, `refunded`, …).
    pub state: Option<String>,
    /// When the payment was completed, if ever.
    pub payment_date: Option<DateTime>,
}

/// One scan of a position.
#[derive(Debug, Clone)]
pub struct Checkin {
    /// Primary key, if the API sent it.
    pub id: Option<i64>,
    /// The check-in list.
    pub list: i64,
    /// When.
    pub datetime: DateTime,
    /// `true` for an entry scan, `false` for an exit scan.
    pub is_entry: bool,
}

/// An answer to a question on a position.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The question's id.
    pub question: Option<i64>,
    /// The question's identifier (from the API, or looked up by id).
    pub question_identifier: String,
    /// The stored answer text.
    pub answer: String,
    /// Selected option ids of choice answers.
    pub options: Vec<i64>,
    /// Selected option identifiers of choice answers, in pretix's order (from the
    /// API, or looked up by option id).
    pub option_identifiers: Vec<String>,
}

/// An order position (ticket, add-on, …).
#[derive(Debug)]
pub struct Position {
    /// Primary key (API `id`).
    pub id: i64,
    /// Position number within the order (1, 2, …).
    pub positionid: i64,
    /// Product id.
    pub item: i64,
    /// Variation id.
    pub variation: Option<i64>,
    /// Price.
    pub price: Decimal2,
    /// Attendee name as pretix renders it.
    pub attendee_name: Option<String>,
    /// Attendee name parts.
    pub attendee_name_parts: NameParts,
    /// Attendee e-mail.
    pub attendee_email: Option<String>,
    /// Attendee company.
    pub company: Option<String>,
    /// Attendee street.
    pub street: Option<String>,
    /// Attendee ZIP code.
    pub zipcode: Option<String>,
    /// Attendee city.
    pub city: Option<String>,
    /// Attendee country code.
    pub country: Option<String>,
    /// Voucher id.
    pub voucher: Option<i64>,
    /// The position (API `id`) this is an add-on to.
    pub addon_to: Option<i64>,
    /// The index in [`Order::positions`] of the position this is an add-on to.
    pub parent_index: Option<usize>,
    /// Date of an event series.
    pub subevent: Option<i64>,
    /// Whether the position is canceled.
    pub canceled: bool,
    /// Secret of the customer-facing ticket page (not in the REST API; the corpus
    /// generator adds it).
    pub web_secret: Option<String>,
    /// Scans, as the API lists them (newest first).
    pub checkins: Vec<Checkin>,
    /// Answers given on this position (not the parent's).
    pub answers: Vec<Answer>,
    /// Index of this position in the order's raw `positions` array.
    pub(crate) raw_index: usize,
    raw_json: OnceLock<String>,
}

impl Clone for Position {
    fn clone(&self) -> Self {
        Position {
            id: self.id,
            positionid: self.positionid,
            item: self.item,
            variation: self.variation,
            price: self.price.clone(),
            attendee_name: self.attendee_name.clone(),
            attendee_name_parts: self.attendee_name_parts.clone(),
            attendee_email: self.attendee_email.clone(),
            company: self.company.clone(),
            street: self.street.clone(),
            zipcode: self.zipcode.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            voucher: self.voucher,
            addon_to: self.addon_to,
            parent_index: self.parent_index,
            subevent: self.subevent,
            canceled: self.canceled,
            web_secret: self.web_secret.clone(),
            checkins: self.checkins.clone(),
            answers: self.answers.clone(),
            raw_index: self.raw_index,
            raw_json: self.raw_json.clone(),
        }
    }
}

impl Position {
    fn read(value: &Json, path: &Path<'_>) -> Result<Position, ImportError> {
        let o = Obj::new(value, path)?;
        Ok(Position {
            id: o.req_i64("id")?,
            positionid: o.req_i64("positionid")?,
            item: o.req_i64("item")?,
            variation: o.opt_i64("variation")?,
            price: decimal(&o, "price")?,
            attendee_name: o.opt_str("attendee_name")?,
            attendee_name_parts: NameParts::read(
                o.raw("attendee_name_parts"),
                &Path::Key(path, "attendee_name_parts"),
            )?,
            attendee_email: o.opt_str("attendee_email")?,
            company: o.opt_str("company")?,
            street: o.opt_str("street")?,
            zipcode: o.opt_str("zipcode")?,
            city: o.opt_str("city")?,
            country: o.opt_str("country")?,
            voucher: o.opt_i64("voucher")?,
            addon_to: o.opt_i64("addon_to")?,
            parent_index: None,
            subevent: o.opt_i64("subevent")?,
            canceled: o.bool_or_false("canceled")?,
            web_secret: o.opt_str("web_secret")?,
            checkins: o.list("checkins", |v, p| {
                let co = Obj::new(v, p)?;
                let datetime = opt_datetime(&co, "datetime")?
                    .ok_or_else(|| invalid(&Path::Key(p, "datetime"), "missing required value"))?;
                Ok(Checkin {
                    id: co.opt_i64("id")?,
                    list: co.req_i64("list")?,
                    datetime,
                    // pretix's default type is "entry".
                    is_entry: co.opt_str("type")?.is_none_or(|t| t == "entry"),
                })
            })?,
            answers: o.list("answers", |v, p| {
                let ao = Obj::new(v, p)?;
                Ok(Answer {
                    question: ao.opt_i64("question")?,
                    question_identifier: ao.str_or_empty("question_identifier")?,
                    answer: ao.str_or_empty("answer")?,
                    options: ao.list("options", as_i64)?,
                    option_identifiers: ao.list("option_identifiers", as_string)?,
                })
            })?,
            raw_index: 0,
            raw_json: OnceLock::new(),
        })
    }
}

/// An order (`GET …/orders/`), with all positions including canceled ones.
#[derive(Debug)]
pub struct Order {
    /// Order code, e.g. `AAAAA`.
    pub code: String,
    /// Status: `n` pending, `p` paid, `e` expired, `c` canceled.
    pub status: String,
    /// Order e-mail.
    pub email: Option<String>,
    /// Order locale.
    pub locale: Option<String>,
    /// When the order was placed.
    pub datetime: Option<DateTime>,
    /// Total.
    pub total: Decimal2,
    /// Order secret (part of the customer-facing order URL).
    pub secret: Option<String>,
    /// The customer-facing order URL, as the API sends it.
    pub url: Option<String>,
    /// Invoice address, if the order has one.
    pub invoice_address: Option<InvoiceAddress>,
    /// Positions, sorted by `positionid`.
    pub positions: Vec<Position>,
    /// Payments.
    pub payments: Vec<Payment>,
    /// The object as imported.
    pub raw: Json,
    raw_json: OnceLock<String>,
}

impl Clone for Order {
    fn clone(&self) -> Self {
        Order {
            code: self.code.clone(),
            status: self.status.clone(),
            email: self.email.clone(),
            locale: self.locale.clone(),
            datetime: self.datetime,
            total: self.total.clone(),
            secret: self.secret.clone(),
            url: self.url.clone(),
            invoice_address: self.invoice_address.clone(),
            positions: self.positions.clone(),
            payments: self.payments.clone(),
            raw: self.raw.clone(),
            raw_json: self.raw_json.clone(),
        }
    }
}

impl Order {
    /// Reads one order (e.g. `orders[3]`), resolving add-on parents and sorting the
    /// positions by `positionid`. Takes the value to keep it as the raw JSON without a
    /// copy.
    pub(crate) fn read(value: Json, path: &Path<'_>) -> Result<Order, ImportError> {
        let mut order = Order::read_fields(&value, path)?;
        order.raw = value;
        Ok(order)
    }

    /// Keeps `text` as the order's [`Order::raw_json`]: for text that is already what
    /// `raw_json` would produce (the stored form), it need not be written again.
    pub(crate) fn set_raw_json(&mut self, text: &str) {
        self.raw_json = OnceLock::from(text.to_owned());
    }

    /// Everything but the raw JSON, which is left `null`.
    fn read_fields(value: &Json, path: &Path<'_>) -> Result<Order, ImportError> {
        let o = Obj::new(value, path)?;
        let ia_path = Path::Key(path, "invoice_address");
        let invoice_address = match o.present("invoice_address") {
            None => None,
            Some(v) => Some(InvoiceAddress::read(v, &ia_path)?),
        };
        let mut positions = o.list("positions", Position::read)?;
        for (i, p) in positions.iter_mut().enumerate() {
            p.raw_index = i;
        }
        // Remember where each position sits in the raw JSON before sorting.
        let mut raw_index: Vec<usize> = (0..positions.len()).collect();
        raw_index.sort_by_key(|&i| positions.get(i).map(|p| (p.positionid, p.id)));
        let mut by_raw: Vec<Option<Position>> = positions.drain(..).map(Some).collect();
        for &i in &raw_index {
            if let Some(p) = by_raw.get_mut(i).and_then(Option::take) {
                positions.push(p);
            }
        }
        let ids: Vec<i64> = positions.iter().map(|p| p.id).collect();
        let positions_path = Path::Key(path, "positions");
        for (pos, &raw_i) in positions.iter_mut().zip(&raw_index) {
            if let Some(parent) = pos.addon_to {
                let idx = ids.iter().position(|&id| id == parent).ok_or_else(|| {
                    invalid(
                        &Path::Key(&Path::Index(&positions_path, raw_i), "addon_to"),
                        format!("add-on to position {parent}, which is not in this order"),
                    )
                })?;
                pos.parent_index = Some(idx);
            }
        }
        Ok(Order {
            code: o.req_str("code")?,
            status: o.req_str("status")?,
            email: o.opt_str("email")?,
            locale: o.opt_str("locale")?,
            datetime: opt_datetime(&o, "datetime")?,
            total: decimal(&o, "total")?,
            secret: o.opt_str("secret")?,
            url: o.opt_str("url")?,
            invoice_address,
            positions,
            payments: o.list("payments", |v, p| {
                let po = Obj::new(v, p)?;
                Ok(Payment {
                    state: po.opt_str("state")?,
                    payment_date: opt_datetime(&po, "payment_date")?,
                })
            })?,
            raw: Json::Null,
            raw_json: OnceLock::new(),
        })
    }

    /// The order as imported, as compact JSON text (members in document order).
    /// Computed once, on first use.
    pub fn raw_json(&self) -> &str {
        self.raw_json.get_or_init(|| self.raw.to_json_string())
    }

    /// The raw JSON of a position (by its index in [`Order::positions`]) as compact
    /// text, computed once on first use.
    pub fn position_raw_json(&self, index: usize) -> Option<&str> {
        let pos = self.positions.get(index)?;
        Some(pos.raw_json.get_or_init(|| {
            self.position_raw(index)
                .map(Json::to_json_string)
                .unwrap_or_else(|| "{}".to_string())
        }))
    }

    /// The raw JSON of a position (by its index in [`Order::positions`]).
    pub fn position_raw(&self, index: usize) -> Option<&Json> {
        let raw_index = self.positions.get(index)?.raw_index;
        self.raw.get("positions")?.at(raw_index)
    }

    /// The position an add-on belongs to.
    pub fn parent_of(&self, position: &Position) -> Option<&Position> {
        position.parent_index.and_then(|i| self.positions.get(i))
    }

    /// The position with this API id.
    pub fn position_by_id(&self, id: i64) -> Option<&Position> {
        self.positions.iter().find(|p| p.id == id)
    }
}
