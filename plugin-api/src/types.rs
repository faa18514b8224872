//! The values that cross the plugin boundary. Every type here is `#[repr(C)]` and
//! derives [`StableAbi`], so host and plugin agree on its layout even when they were
//! built by different compilers.

use std::collections::BTreeMap;
use std::fmt;

use abi_stable::std_types::{ROption, RSlice, RStr, RString, RVec};
use abi_stable::StableAbi;

/// A mapped field value, as pretix's source fields produce them (spec §5.1).
///
/// Truthiness follows Python: `Null`, `Bool(false)`, `Str("")` and an empty `List`
/// are "empty" (see [`Value::is_truthy`]).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// No value (Python `None`).
    Null,
    /// A boolean field such as `order_is_paid`-style flags.
    Bool(bool),
    /// A text value; dates, decimals and numbers arrive pre-formatted as text.
    Str(RString),
    /// A multi-valued field (choice answers, status enums) when the provider keeps
    /// native lists (`list_field_joiner` is `None`).
    List(RVec<RString>),
}

impl Value {
    /// A text value.
    pub fn str(s: impl Into<String>) -> Self {
        Value::Str(RString::from(s.into()))
    }

    /// A list value.
    pub fn list<I, S>(items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::List(items.into_iter().map(|s| RString::from(s.into())).collect())
    }

    /// Python truthiness: `None`, `False`, `""` and `[]` are false.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
        }
    }

    /// The text, if this is a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The value as JSON: `null`, a boolean, a string or an array of strings.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::List(l) => l
                .iter()
                .map(|s| serde_json::Value::String(s.to_string()))
                .collect(),
        }
    }

    /// Reads a value back from JSON; numbers become text, nested structures are refused.
    pub fn from_json(json: &serde_json::Value) -> Option<Self> {
        Some(match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Number(n) => Value::str(n.to_string()),
            serde_json::Value::Array(items) => Value::List(
                items
                    .iter()
                    .map(|i| i.as_str().map(RString::from))
                    .collect::<Option<RVec<_>>>()?,
            ),
            serde_json::Value::Object(_) => return None,
        })
    }
}

/// Renders the value the way Python's `str()` does, because pretix's append mode
/// stringifies values before splitting them.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Str(s) => f.write_str(s),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "'{item}'")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(RString::from(s))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// How a property update treats the value already in the external system (spec §4.1).
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Always write the value, even an empty one.
    Overwrite,
    /// Write only when the external object is being created.
    IfNew,
    /// Write when the object is new or the external field is empty.
    IfEmpty,
    /// Add the value to a list-valued external field.
    Append,
}

impl Mode {
    /// Every mode, in the order pretix lists them.
    pub const ALL: [Mode; 4] = [Mode::Overwrite, Mode::IfNew, Mode::IfEmpty, Mode::Append];

    /// pretix's name for the mode: `overwrite`, `if_new`, `if_empty`, `append`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Overwrite => "overwrite",
            Mode::IfNew => "if_new",
            Mode::IfEmpty => "if_empty",
            Mode::Append => "append",
        }
    }

    /// Parses pretix's name for a mode.
    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One computed property: `(external_field, value, mode)` (spec §1.5.1).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Field name in the external system.
    pub external_field: RString,
    /// The computed, value-mapped and joined value.
    pub value: Value,
    /// How to apply it.
    pub mode: Mode,
}

impl Property {
    /// Builds a property tuple.
    pub fn new(external_field: &str, value: impl Into<Value>, mode: Mode) -> Self {
        Property {
            external_field: external_field.into(),
            value: value.into(),
            mode,
        }
    }
}

/// The pretix model a mapping reads from (spec §1.4).
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PretixModel {
    /// One object per order.
    Order,
    /// One object per order position (canceled positions included).
    OrderPosition,
}

impl PretixModel {
    /// pretix's name: `Order` or `OrderPosition`.
    pub fn as_str(self) -> &'static str {
        match self {
            PretixModel::Order => "Order",
            PretixModel::OrderPosition => "OrderPosition",
        }
    }

    /// Parses pretix's model name.
    pub fn parse(name: &str) -> Option<PretixModel> {
        match name {
            "Order" => Some(PretixModel::Order),
            "OrderPosition" => Some(PretixModel::OrderPosition),
            _ => None,
        }
    }
}

/// One property mapping entry (spec §4.1).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct PropertyMapping {
    /// Source field key from the catalog (spec §5).
    pub pretix_field: RString,
    /// Target field in the external system.
    pub external_field: RString,
    /// Enum option → external value, for enum fields; empty means "no value map".
    pub value_map: RVec<ValueMapEntry>,
    /// Update mode.
    pub mode: Mode,
}

/// One `pretix option → external value` pair of a value map.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct ValueMapEntry {
    /// The pretix enum option (status code, choice identifier, locale …).
    pub option: RString,
    /// What the external system should receive instead.
    pub value: RString,
}

/// An object mapping (spec §1.4): which pretix model becomes which external object.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// Unique id within the provider's configuration; key of mapped objects.
    pub id: i64,
    /// `Order` or `OrderPosition`.
    pub pretix_model: PretixModel,
    /// Opaque external object type (≤ 128 chars).
    pub external_object_type: RString,
    /// Catalog key whose value identifies the object.
    pub pretix_id_field: RString,
    /// Name of the identifier field in the external system.
    pub external_id_field: RString,
    /// The property mappings, in order.
    pub property_mappings: RVec<PropertyMapping>,
    /// Provider-defined extra configuration as JSON object text (e.g. association
    /// mappings, spec §7.5); `{}` when there is none.
    pub extra_json: RString,
}

/// The outcome of one earlier `sync_object` call in the same run (pretix's
/// `OrderSyncResult` as seen through `mapped_objects`, spec §3.4).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct SyncedObject {
    /// The order position this object came from, or `None` for an Order mapping.
    pub position_id: ROption<i64>,
    /// The mapping's external object type.
    pub external_object_type: RString,
    /// The mapping's external id field.
    pub external_id_field: RString,
    /// The id value, stringified.
    pub id_value: RString,
    /// Deep link into the external system, if the provider returned one.
    pub external_link_href: ROption<RString>,
    /// Label of that link.
    pub external_link_display_name: ROption<RString>,
    /// The provider's remaining sync info as JSON object text.
    pub sync_info_json: RString,
}

impl SyncedObject {
    /// The sync info as a JSON object (empty when it does not parse).
    pub fn sync_info(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.sync_info_json).unwrap_or_default()
    }
}

/// Results of one earlier mapping: one entry for an Order mapping, one per position
/// for an OrderPosition mapping; `None` where the object was skipped.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct MappedObjects {
    /// The mapping's id.
    pub mapping_id: i64,
    /// Its results in position order.
    pub objects: RVec<ROption<SyncedObject>>,
}

/// Everything `sync_object` receives (pretix's `sync_object_with_properties` arguments).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy)]
pub struct ObjectRequest<'a> {
    /// `mapping.external_id_field`.
    pub external_id_field: RStr<'a>,
    /// The identifying value; never empty (empty ids are skipped by the host).
    pub id_value: &'a Value,
    /// The properties in mapping order.
    pub properties: RSlice<'a, Property>,
    /// The mapping being synced.
    pub mapping: &'a Mapping,
    /// Results of the mappings before this one, for this order in this run.
    pub mapped_objects: RSlice<'a, MappedObjects>,
    /// The order as pretix's REST API returns it.
    pub order_json: RStr<'a>,
    /// The position's id, for OrderPosition mappings.
    pub position_id: ROption<i64>,
    /// The position as pretix's REST API returns it, for OrderPosition mappings.
    pub position_json: ROption<RStr<'a>>,
}

impl ObjectRequest<'_> {
    /// The order parsed as JSON.
    pub fn order(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_str(&self.order_json)
    }

    /// The position parsed as JSON, for OrderPosition mappings.
    pub fn position(&self) -> Option<serde_json::Result<serde_json::Value>> {
        self.position_json.map(|p| serde_json::from_str(&p)).into()
    }

    /// The earlier results of one mapping, if it ran before this one.
    pub fn mapped(&self, mapping_id: i64) -> Option<&MappedObjects> {
        self.mapped_objects
            .iter()
            .find(|m| m.mapping_id == mapping_id)
    }

    /// pretix's `filter_mapped_objects` (spec §3.4): for a position, keep only the
    /// non-skipped results that are order-level or belong to this position; for an
    /// order, everything unchanged.
    pub fn filter_mapped_objects(&self) -> Vec<MappedObjects> {
        let Some(position_id) = self.position_id.into_option() else {
            return self.mapped_objects.to_vec();
        };
        self.mapped_objects
            .iter()
            .map(|m| MappedObjects {
                mapping_id: m.mapping_id,
                objects: m
                    .objects
                    .iter()
                    .filter(|o| match o {
                        ROption::RSome(o) => match o.position_id {
                            ROption::RNone => true,
                            ROption::RSome(p) => p == position_id,
                        },
                        ROption::RNone => false,
                    })
                    .cloned()
                    .collect(),
            })
            .collect()
    }

    /// The properties as a field → value map (later entries win), handy for
    /// providers that do not care about modes.
    pub fn property_map(&self) -> BTreeMap<&str, &Value> {
        self.properties
            .iter()
            .map(|p| (p.external_field.as_str(), &p.value))
            .collect()
    }
}

/// What a provider reports for a synced object (pretix's returned dict).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncInfo {
    /// `create`, `update`, `nothing_to_do`, …; `nothing_to_do` suppresses the log entry.
    pub action: ROption<RString>,
    /// Deep link to the object in the external system.
    pub external_link_href: ROption<RString>,
    /// Label of that link.
    pub external_link_display_name: ROption<RString>,
    /// Further keys as JSON object text (e.g. the external system's internal id),
    /// visible to later mappings; empty or `{}` when there are none.
    pub extra_json: RString,
}

impl SyncInfo {
    /// A result with the given action (`create`, `update`, `nothing_to_do` …).
    pub fn action(action: &str) -> Self {
        SyncInfo {
            action: ROption::RSome(action.into()),
            ..SyncInfo::default()
        }
    }

    /// Adds a deep link into the external system.
    pub fn with_link(mut self, href: &str, display_name: &str) -> Self {
        self.external_link_href = ROption::RSome(href.into());
        self.external_link_display_name = ROption::RSome(display_name.into());
        self
    }

    /// Adds further keys (must be a JSON object).
    pub fn with_extra(mut self, extra: serde_json::Map<String, serde_json::Value>) -> Self {
        self.extra_json = serde_json::Value::Object(extra).to_string().into();
        self
    }

    /// Whether the provider said nothing changed remotely.
    pub fn is_nothing_to_do(&self) -> bool {
        self.action.as_ref().map(|a| a.as_str()) == ROption::RSome("nothing_to_do")
    }
}

/// How an external link is rendered (pretix's `get_external_link_info`).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkInfo {
    /// Link target.
    pub href: ROption<RString>,
    /// Link text.
    pub display_name: ROption<RString>,
}

/// The event a provider instance works for.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Default)]
pub struct EventContext {
    /// Organizer slug.
    pub organizer: RString,
    /// Event slug.
    pub slug: RString,
    /// Event name in the event's default locale.
    pub name: RString,
    /// The event's locales, default first.
    pub locales: RVec<RString>,
    /// The event's attendee name scheme (`full`, `given_family`, …).
    pub name_scheme: RString,
}
