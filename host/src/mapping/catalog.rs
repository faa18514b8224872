//! The source-field catalog (spec §5, pretix's `sourcefields.py`): every data-field key
//! of an event, with label, type, category, enum options and the input it needs, and
//! a getter that computes the field's [`Value`] exactly as pretix does.
//!
//! Build it once per event with [`catalog`]; it holds no references to the event, so
//! it can live next to the event data (pass both to [`super::plan_order`]).

use std::fmt;

use datasync_plugin_api::{PretixModel, Value};

use crate::model::{
    EventData, FxHashMap, Order, Position, QuestionType, SubEvent, DEFAULT_LANGUAGE,
};

use super::getters;

/// What a getter reads (spec §5.1): pretix's input keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Input {
    /// `order`
    Order,
    /// `event`
    Event,
    /// `position` (order position)
    Position,
    /// `event_or_subevent`: the position's series date, or the event.
    EventOrSubevent,
}

impl Input {
    /// pretix's input key.
    pub fn as_str(self) -> &'static str {
        match self {
            Input::Order => "order",
            Input::Event => "event",
            Input::Position => "position",
            Input::EventOrSubevent => "event_or_subevent",
        }
    }

    /// The inputs a model provides, in the order pretix builds its `inputs` dict
    /// (this order appears in the "requires …, but only got …" message).
    pub fn for_model(model: PretixModel) -> &'static [Input] {
        match model {
            PretixModel::Order => &[Input::Order, Input::Event],
            PretixModel::OrderPosition => &[
                Input::Order,
                Input::Event,
                Input::EventOrSubevent,
                Input::Position,
            ],
        }
    }

    /// Whether a mapping of `model` can use a field needing this input.
    pub fn available_in(self, model: PretixModel) -> bool {
        Input::for_model(model).contains(&self)
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Field categories (spec §5.2), ordered by pretix's sort index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// 10 "Order position details"
    OrderPosition,
    /// 11 "Attendee details"
    Attendee,
    /// 12 "Questions"
    Questions,
    /// 20 "Product details"
    Product,
    /// 21 "Order details"
    Order,
    /// 22 "Invoice address"
    InvoiceAddress,
    /// 30 "Event information"
    Event,
    /// 31 "Event or date information"
    EventOrSubevent,
}

impl Category {
    /// Every category, by sort index.
    pub const ALL: [Category; 8] = [
        Category::OrderPosition,
        Category::Attendee,
        Category::Questions,
        Category::Product,
        Category::Order,
        Category::InvoiceAddress,
        Category::Event,
        Category::EventOrSubevent,
    ];

    /// pretix's sort index.
    pub fn sort_index(self) -> u32 {
        match self {
            Category::OrderPosition => 10,
            Category::Attendee => 11,
            Category::Questions => 12,
            Category::Product => 20,
            Category::Order => 21,
            Category::InvoiceAddress => 22,
            Category::Event => 30,
            Category::EventOrSubevent => 31,
        }
    }

    /// pretix's label.
    pub fn label(self) -> &'static str {
        match self {
            Category::OrderPosition => "Order position details",
            Category::Attendee => "Attendee details",
            Category::Questions => "Questions",
            Category::Product => "Product details",
            Category::Order => "Order details",
            Category::InvoiceAddress => "Invoice address",
            Category::Event => "Event information",
            Category::EventOrSubevent => "Event or date information",
        }
    }
}

/// One enum option of a choice field: the value the getter produces and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumOption {
    /// The value (status code, option identifier, locale code).
    pub value: String,
    /// Human label.
    pub label: String,
}

/// How a field's value is computed. One variant per pretix getter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Getter {
    AttendeeName,
    AttendeeNamePart(String),
    AttendeeEmail,
    AttendeeOrOrderEmail,
    AttendeeCompany,
    AttendeeStreet,
    AttendeeZipcode,
    AttendeeCity,
    AttendeeCountry,
    InvoiceCompany,
    InvoiceName,
    InvoiceNamePart(String),
    InvoiceStreet,
    InvoiceZipcode,
    InvoiceCity,
    InvoiceCountry,
    Email,
    EmailDomain,
    OrderCode,
    EventOrderCode,
    OrderTotal,
    Product,
    ProductId,
    ProductIsAdmission,
    EventSlug,
    EventName,
    EventDateFrom,
    EventDateTo,
    VoucherCode,
    TicketId,
    TicketPrice,
    OrderStatus,
    TicketStatus,
    OrderDate,
    PaymentDate,
    OrderLocale,
    PositionId,
    PresaleOrderUrl,
    PresaleTicketUrl,
    CheckinDate(i64),
    Question(String, QuestionType),
    LegacyAttendeeGivenName,
    LegacyInvoiceGivenName,
    LegacyAttendeeFamilyName,
    LegacyInvoiceFamilyName,
}

/// One data field (pretix `DataFieldInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// The key used in mappings, e.g. `attendee_email`, `question_FOOD`.
    pub key: String,
    /// Human label (English, pretix's wording).
    pub label: String,
    /// Value type, as a pretix question type.
    pub field_type: QuestionType,
    /// Category.
    pub category: Category,
    /// Options of enum fields (`order_status`, `ticket_status`, `order_locale`, choice
    /// questions); `None` for the others.
    pub enum_options: Option<Vec<EnumOption>>,
    /// The input the getter reads.
    pub required_input: Input,
    /// Hidden from new mappings (single-part name schemes, legacy split names).
    pub deprecated: bool,
    pub(crate) getter: Getter,
}

impl FieldInfo {
    /// Whether value maps apply: the field has enum options and there is at least one
    /// (pretix tests the options' truthiness).
    pub fn has_enum_options(&self) -> bool {
        self.enum_options.as_ref().is_some_and(|o| !o.is_empty())
    }

    /// Whether a mapping of `model` can use this field.
    pub fn available_in(&self, model: PretixModel) -> bool {
        self.required_input.available_in(model)
    }
}

/// A person-name scheme: its id and its parts `(key, label)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameScheme {
    /// Scheme id, e.g. `given_family`.
    pub id: &'static str,
    /// Parts in pretix's order.
    pub fields: &'static [(&'static str, &'static str)],
}

const GIVEN: (&str, &str) = ("given_name", "Given name");
const FIRST: (&str, &str) = ("given_name", "First name");
const FAMILY: (&str, &str) = ("family_name", "Family name");
const MIDDLE: (&str, &str) = ("middle_name", "Middle name");
const TITLE: (&str, &str) = ("title", "Title");
const SALUTATION: (&str, &str) = ("salutation", "Salutation");

/// pretix's person-name schemes (`PERSON_NAME_SCHEMES`).
pub const NAME_SCHEMES: &[NameScheme] = &[
    NameScheme {
        id: "given_family",
        fields: &[GIVEN, FAMILY],
    },
    NameScheme {
        id: "title_given_family",
        fields: &[TITLE, GIVEN, FAMILY],
    },
    NameScheme {
        id: "title_given_middle_family",
        fields: &[TITLE, FIRST, MIDDLE, FAMILY],
    },
    NameScheme {
        id: "given_middle_family",
        fields: &[FIRST, MIDDLE, FAMILY],
    },
    NameScheme {
        id: "family_given",
        fields: &[FAMILY, GIVEN],
    },
    NameScheme {
        id: "family_nospace_given",
        fields: &[GIVEN, FAMILY],
    },
    NameScheme {
        id: "family_comma_given",
        fields: &[GIVEN, FAMILY],
    },
    NameScheme {
        id: "full",
        fields: &[("full_name", "Name")],
    },
    NameScheme {
        id: "calling_full",
        fields: &[("calling_name", "Calling name"), ("full_name", "Full name")],
    },
    NameScheme {
        id: "full_transcription",
        fields: &[
            ("full_name", "Full name"),
            ("latin_transcription", "Latin transcription"),
        ],
    },
    NameScheme {
        id: "salutation_given_family",
        fields: &[SALUTATION, GIVEN, FAMILY],
    },
    NameScheme {
        id: "salutation_title_given_family",
        fields: &[SALUTATION, TITLE, GIVEN, FAMILY],
    },
    NameScheme {
        id: "salutation_title_given_family_degree",
        fields: &[
            SALUTATION,
            TITLE,
            GIVEN,
            FAMILY,
            ("degree", "Degree (after name)"),
        ],
    },
];

/// The scheme with this id.
pub fn name_scheme(id: &str) -> Option<&'static NameScheme> {
    NAME_SCHEMES.iter().find(|s| s.id == id)
}

/// pretix's order status choices (`Order.STATUS_CHOICE`).
const STATUS_OPTIONS: [(&str, &str); 4] = [
    ("n", "pending"),
    ("p", "paid"),
    ("e", "expired"),
    ("c", "canceled"),
];

/// The data fields of one event.
#[derive(Debug, Clone)]
pub struct Catalog {
    fields: Vec<FieldInfo>,
    index: FxHashMap<String, usize>,
    language: String,
    name_scheme: String,
    name_scheme_known: bool,
}

/// Builds the catalog of an event, rendering localized labels and values in pretix's
/// default language (`en`), as pretix's worker does.
pub fn catalog(event: &EventData) -> Catalog {
    Catalog::build(event, DEFAULT_LANGUAGE)
}

/// The inputs of one object: the order, and for OrderPosition mappings the position.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The event's data.
    pub event: &'a EventData,
    /// The order.
    pub order: &'a Order,
    /// The position, for OrderPosition mappings.
    pub position: Option<&'a Position>,
}

impl<'a> Inputs<'a> {
    /// Inputs of an Order mapping.
    pub fn order(event: &'a EventData, order: &'a Order) -> Self {
        Inputs {
            event,
            order,
            position: None,
        }
    }

    /// Inputs of an OrderPosition mapping.
    pub fn position(event: &'a EventData, order: &'a Order, position: &'a Position) -> Self {
        Inputs {
            event,
            order,
            position: Some(position),
        }
    }

    /// The input keys present, in pretix's order.
    pub fn keys(&self) -> &'static [Input] {
        Input::for_model(if self.position.is_some() {
            PretixModel::OrderPosition
        } else {
            PretixModel::Order
        })
    }

    /// Whether `input` is present.
    pub fn has(&self, input: Input) -> bool {
        match input {
            Input::Order | Input::Event => true,
            Input::Position | Input::EventOrSubevent => self.position.is_some(),
        }
    }

    /// The position's series date, if it has one (`None` means: the event).
    pub fn subevent(&self) -> Option<&'a SubEvent> {
        self.position
            .and_then(|p| p.subevent)
            .and_then(|id| self.event.subevent(id))
    }
}

/// A getter failure: pretix raises here (→ an `internal` failure of the order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetterError(pub String);

impl fmt::Display for GetterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Catalog {
    /// Builds the catalog of an event; localized labels and values use `language`.
    pub fn build(event: &EventData, language: &str) -> Catalog {
        let scheme = name_scheme(&event.settings.name_scheme);
        let parts: &[(&str, &str)] = scheme.map_or(&[], |s| s.fields);
        let single_part = parts.len() == 1;
        let mut b = Builder {
            fields: Vec::with_capacity(64),
            index: FxHashMap::default(),
        };
        use Category as C;
        use Getter as G;
        use Input as I;
        use QuestionType as T;

        b.add(
            I::Position,
            C::Attendee,
            "attendee_name",
            "Attendee name",
            T::String,
            G::AttendeeName,
        );
        for (k, label) in parts {
            b.push(FieldInfo {
                key: format!("attendee_name_{k}"),
                label: format!("Attendee: {label}"),
                field_type: T::String,
                category: C::Attendee,
                enum_options: None,
                required_input: I::Position,
                deprecated: single_part,
                getter: G::AttendeeNamePart((*k).to_string()),
            });
        }
        b.add(
            I::Position,
            C::Attendee,
            "attendee_email",
            "Attendee email",
            T::String,
            G::AttendeeEmail,
        );
        b.add(
            I::Position,
            C::Attendee,
            "attendee_or_order_email",
            "Attendee or order email",
            T::String,
            G::AttendeeOrOrderEmail,
        );
        b.add(
            I::Position,
            C::Attendee,
            "attendee_company",
            "Attendee company",
            T::String,
            G::AttendeeCompany,
        );
        b.add(
            I::Position,
            C::Attendee,
            "attendee_street",
            "Attendee address street",
            T::String,
            G::AttendeeStreet,
        );
        b.add(
            I::Position,
            C::Attendee,
            "attendee_zipcode",
            "Attendee address ZIP code",
            T::String,
            G::AttendeeZipcode,
        );
        b.add(
            I::Position,
            C::Attendee,
            "attendee_city",
            "Attendee address city",
            T::String,
            G::AttendeeCity,
        );
        b.add(
            I::Position,
            C::Attendee,
            "attendee_country",
            "Attendee address country",
            T::CountryCode,
            G::AttendeeCountry,
        );
        b.add(
            I::Order,
            C::InvoiceAddress,
            "invoice_address_company",
            "Invoice address company",
            T::String,
            G::InvoiceCompany,
        );
        b.add(
            I::Order,
            C::InvoiceAddress,
            "invoice_address_name",
            "Invoice address name",
            T::String,
            G::InvoiceName,
        );
        for (k, label) in parts {
            b.push(FieldInfo {
                key: format!("invoice_address_name_{k}"),
                label: format!("Invoice address: {label}"),
                field_type: T::String,
                category: C::InvoiceAddress,
                enum_options: None,
                required_input: I::Order,
                deprecated: single_part,
                getter: G::InvoiceNamePart((*k).to_string()),
            });
        }
        b.add(
            I::Order,
            C::InvoiceAddress,
            "invoice_address_street",
            "Invoice address street",
            T::String,
            G::InvoiceStreet,
        );
        b.add(
            I::Order,
            C::InvoiceAddress,
            "invoice_address_zipcode",
            "Invoice address ZIP code",
            T::String,
            G::InvoiceZipcode,
        );
        b.add(
            I::Order,
            C::InvoiceAddress,
            "invoice_address_city",
            "Invoice address city",
            T::String,
            G::InvoiceCity,
        );
        b.add(
            I::Order,
            C::InvoiceAddress,
            "invoice_address_country",
            "Invoice address country",
            T::CountryCode,
            G::InvoiceCountry,
        );
        b.add(
            I::Order,
            C::Order,
            "email",
            "Order email",
            T::String,
            G::Email,
        );
        b.add(
            I::Order,
            C::Order,
            "email_domain",
            "Order email domain",
            T::String,
            G::EmailDomain,
        );
        b.add(
            I::Order,
            C::Order,
            "order_code",
            "Order code",
            T::String,
            G::OrderCode,
        );
        b.add(
            I::Order,
            C::Order,
            "event_order_code",
            "Event and order code",
            T::String,
            G::EventOrderCode,
        );
        b.add(
            I::Order,
            C::Order,
            "order_total",
            "Order total",
            T::Number,
            G::OrderTotal,
        );
        b.add(
            I::Position,
            C::Product,
            "product",
            "Product and variation name",
            T::String,
            G::Product,
        );
        b.add(
            I::Position,
            C::Product,
            "product_id",
            "Product ID",
            T::Number,
            G::ProductId,
        );
        b.add(
            I::Position,
            C::Product,
            "product_is_admission",
            "Product is admission product",
            T::Boolean,
            G::ProductIsAdmission,
        );
        b.add(
            I::Event,
            C::Event,
            "event_slug",
            "Event short form",
            T::String,
            G::EventSlug,
        );
        b.add(
            I::Event,
            C::Event,
            "event_name",
            "Event name",
            T::String,
            G::EventName,
        );
        b.add(
            I::EventOrSubevent,
            C::EventOrSubevent,
            "event_date_from",
            "Event start date",
            T::DateTime,
            G::EventDateFrom,
        );
        b.add(
            I::EventOrSubevent,
            C::EventOrSubevent,
            "event_date_to",
            "Event end date",
            T::DateTime,
            G::EventDateTo,
        );
        b.add(
            I::Position,
            C::OrderPosition,
            "voucher_code",
            "Voucher code",
            T::String,
            G::VoucherCode,
        );
        b.add(
            I::Position,
            C::OrderPosition,
            "ticket_id",
            "Order code and position number",
            T::String,
            G::TicketId,
        );
        b.add(
            I::Position,
            C::OrderPosition,
            "ticket_price",
            "Ticket price",
            T::Number,
            G::TicketPrice,
        );
        let status_options = || {
            Some(
                STATUS_OPTIONS
                    .iter()
                    .map(|(v, l)| EnumOption {
                        value: (*v).to_string(),
                        label: (*l).to_string(),
                    })
                    .collect(),
            )
        };
        b.push(FieldInfo {
            key: "order_status".to_string(),
            label: "Order status".to_string(),
            field_type: T::Choice,
            category: C::Order,
            enum_options: status_options(),
            required_input: I::Order,
            deprecated: false,
            getter: G::OrderStatus,
        });
        b.push(FieldInfo {
            key: "ticket_status".to_string(),
            label: "Ticket status".to_string(),
            field_type: T::Choice,
            category: C::OrderPosition,
            enum_options: status_options(),
            required_input: I::Position,
            deprecated: false,
            getter: G::TicketStatus,
        });
        b.add(
            I::Order,
            C::Order,
            "order_date",
            "Order date and time",
            T::DateTime,
            G::OrderDate,
        );
        b.add(
            I::Order,
            C::Order,
            "payment_date",
            "Payment date and time",
            T::DateTime,
            G::PaymentDate,
        );
        b.push(FieldInfo {
            key: "order_locale".to_string(),
            label: "Order locale".to_string(),
            field_type: T::Choice,
            category: C::Order,
            enum_options: Some(
                event
                    .settings
                    .locales
                    .iter()
                    .map(|lc| EnumOption {
                        value: lc.clone(),
                        label: lc.clone(),
                    })
                    .collect(),
            ),
            required_input: I::Order,
            deprecated: false,
            getter: G::OrderLocale,
        });
        b.add(
            I::Position,
            C::OrderPosition,
            "position_id",
            "Order position ID",
            T::Number,
            G::PositionId,
        );
        b.add(
            I::Order,
            C::Order,
            "presale_order_url",
            "Order link",
            T::String,
            G::PresaleOrderUrl,
        );
        b.add(
            I::Position,
            C::OrderPosition,
            "presale_ticket_url",
            "Ticket link",
            T::String,
            G::PresaleTicketUrl,
        );
        for list in &event.checkin_lists {
            b.push(FieldInfo {
                key: format!("checkin_date_{}", list.id),
                label: format!("Check-in datetime on list {}", list.name),
                field_type: T::DateTime,
                category: C::OrderPosition,
                enum_options: None,
                required_input: I::Position,
                deprecated: false,
                getter: G::CheckinDate(list.id),
            });
        }
        for q in event
            .questions
            .iter()
            .filter(|q| q.question_type != T::File)
        {
            let enum_options = q.question_type.is_choice().then(|| {
                q.options
                    .iter()
                    .map(|o| EnumOption {
                        value: o.identifier.clone(),
                        label: o.answer.localize(language).to_string(),
                    })
                    .collect()
            });
            b.push(FieldInfo {
                key: format!("question_{}", q.identifier),
                label: format!("Question: {}", q.question.localize(language)),
                field_type: q.question_type,
                category: C::Questions,
                enum_options,
                required_input: I::Position,
                deprecated: false,
                getter: G::Question(q.identifier.clone(), q.question_type),
            });
        }
        const LEGACY: &str = " (⚠️ auto-generated, not recommended)";
        if !parts.iter().any(|(k, _)| *k == "given_name") {
            b.legacy(
                I::Position,
                C::Attendee,
                "attendee_name_given_name",
                format!("Attendee: Given name{LEGACY}"),
                G::LegacyAttendeeGivenName,
            );
            b.legacy(
                I::Order,
                C::InvoiceAddress,
                "invoice_address_name_given_name",
                format!("Invoice address: Given name{LEGACY}"),
                G::LegacyInvoiceGivenName,
            );
        }
        if !parts.iter().any(|(k, _)| *k == "family_name") {
            b.legacy(
                I::Position,
                C::Attendee,
                "attendee_name_family_name",
                format!("Attendee: Family name{LEGACY}"),
                G::LegacyAttendeeFamilyName,
            );
            b.legacy(
                I::Order,
                C::InvoiceAddress,
                "invoice_address_name_family_name",
                format!("Invoice address: Family name{LEGACY}"),
                G::LegacyInvoiceFamilyName,
            );
        }
        Catalog {
            fields: b.fields,
            index: b.index,
            language: language.to_string(),
            name_scheme: event.settings.name_scheme.clone(),
            name_scheme_known: scheme.is_some(),
        }
    }

    /// The field with this key.
    pub fn get(&self, key: &str) -> Option<&FieldInfo> {
        self.index.get(key).and_then(|&i| self.fields.get(i))
    }

    pub(crate) fn index_of(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    pub(crate) fn field_at(&self, index: usize) -> Option<&FieldInfo> {
        self.fields.get(index)
    }

    /// Every field, in pretix's order (a key that occurs twice, e.g. two questions with
    /// the same identifier, appears once with the last definition, as in pretix's
    /// `data_fields` dict).
    pub fn fields(&self) -> &[FieldInfo] {
        &self.fields
    }

    /// Every key, in pretix's order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.fields.iter().map(|f| f.key.as_str())
    }

    /// The fields a mapping of `model` can use, in pretix's order.
    pub fn fields_for_model(&self, model: PretixModel) -> impl Iterator<Item = &FieldInfo> + '_ {
        self.fields.iter().filter(move |f| f.available_in(model))
    }

    /// The fields grouped by category, categories by sort index, fields in pretix's
    /// order within each (as pretix's mapping form groups them).
    pub fn by_category(&self) -> Vec<(Category, Vec<&FieldInfo>)> {
        Category::ALL
            .iter()
            .map(|&c| {
                (
                    c,
                    self.fields
                        .iter()
                        .filter(|f| f.category == c)
                        .collect::<Vec<_>>(),
                )
            })
            .filter(|(_, fields)| !fields.is_empty())
            .collect()
    }

    /// The language localized labels and values are rendered in.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The event's name scheme id.
    pub fn name_scheme(&self) -> &str {
        &self.name_scheme
    }

    /// Whether the name scheme is one pretix knows (an unknown scheme gives no
    /// name-part fields, only the legacy split ones).
    pub fn name_scheme_known(&self) -> bool {
        self.name_scheme_known
    }

    /// The valid key closest to `key` by edit distance, for "did you mean" hints;
    /// `None` when nothing is reasonably close.
    pub fn nearest_key(&self, key: &str) -> Option<&str> {
        nearest(self.keys(), key)
    }

    /// Computes a field's value for these inputs (no value map, no joining; see
    /// [`super::get_field_value`] for that).
    ///
    /// The caller must have checked that the field's required input is present;
    /// otherwise the position-dependent getters read as empty.
    pub fn value(&self, field: &FieldInfo, inputs: &Inputs<'_>) -> Result<Value, GetterError> {
        getters::get(&field.getter, inputs, &self.language).map(getters::Val::into_value)
    }

    pub(crate) fn raw_value<'a>(
        &self,
        field: &FieldInfo,
        inputs: &Inputs<'a>,
    ) -> Result<getters::Val<'a>, GetterError> {
        getters::get(&field.getter, inputs, &self.language)
    }
}

struct Builder {
    fields: Vec<FieldInfo>,
    index: FxHashMap<String, usize>,
}

impl Builder {
    fn push(&mut self, field: FieldInfo) {
        // pretix's `data_fields` is a dict built from the list: a repeated key keeps
        // its first position and its last definition.
        match self.index.get(&field.key) {
            Some(&i) => {
                if let Some(slot) = self.fields.get_mut(i) {
                    *slot = field;
                }
            }
            None => {
                self.index.insert(field.key.clone(), self.fields.len());
                self.fields.push(field);
            }
        }
    }

    fn add(
        &mut self,
        input: Input,
        category: Category,
        key: &str,
        label: &str,
        field_type: QuestionType,
        getter: Getter,
    ) {
        self.push(FieldInfo {
            key: key.to_string(),
            label: label.to_string(),
            field_type,
            category,
            enum_options: None,
            required_input: input,
            deprecated: false,
            getter,
        });
    }

    fn legacy(
        &mut self,
        input: Input,
        category: Category,
        key: &str,
        label: String,
        getter: Getter,
    ) {
        self.push(FieldInfo {
            key: key.to_string(),
            label,
            field_type: QuestionType::String,
            category,
            enum_options: None,
            required_input: input,
            deprecated: true,
            getter,
        });
    }
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(usize::MAX) + 1;
            let ins = cur.get(j).copied().unwrap_or(usize::MAX) + 1;
            let sub = prev.get(j).copied().unwrap_or(usize::MAX) + cost;
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = del.min(ins).min(sub);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

/// The candidate closest to `key` (ties: the first), if within a third of the key's
/// length (at least 2 edits).
pub fn nearest<'a>(candidates: impl Iterator<Item = &'a str>, key: &str) -> Option<&'a str> {
    let limit = (key.chars().count() / 3).max(2);
    let lower = key.to_lowercase();
    candidates
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn nearest_suggests_close_keys_only() {
        let keys = ["attendee_email", "email", "order_status", "question_FOOD"];
        assert_eq!(
            nearest(keys.iter().copied(), "attende_email"),
            Some("attendee_email")
        );
        assert_eq!(
            nearest(keys.iter().copied(), "question_food"),
            Some("question_FOOD")
        );
        assert_eq!(nearest(keys.iter().copied(), "emial"), Some("email"));
        assert_eq!(nearest(keys.iter().copied(), "completely_different"), None);
    }
}
