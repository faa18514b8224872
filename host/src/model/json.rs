//! An order-preserving JSON tree and hand-rolled, path-tracking extraction from it.
//!
//! The import document is parsed into a [`Json`] tree first (so every order and
//! position keeps its raw JSON, in document order, for providers), then read field by field with these
//! helpers. Every failure names the JSON path of the offending value, e.g.
//! `orders[3].positions[0].price: expected a decimal string`. Paths are built only on
//! error: a [`Path`] is a chain of borrowed segments on the stack.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::ImportError;

/// A JSON value that keeps object members in document order (Python dicts do too, and
/// providers get the raw order/position JSON back in its original shape).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in document order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Member `key` of an object (the last one if the key is repeated, like Python's
    /// `json` module).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Element `index` of an array.
    pub fn at(&self, index: usize) -> Option<&Json> {
        match self {
            Json::Array(items) => items.get(index),
            _ => None,
        }
    }

    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// Compact JSON text, members in document order.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_string())
    }

    /// Converts to a `serde_json::Value` (object members become sorted).
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            Json::Null => serde_json::Value::Null,
            Json::Bool(b) => serde_json::Value::Bool(*b),
            Json::Number(n) => serde_json::Value::Number(n.clone()),
            Json::String(s) => serde_json::Value::String(s.clone()),
            Json::Array(items) => items.iter().map(Json::to_value).collect(),
            Json::Object(members) => serde_json::Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        struct JsonVisitor;

        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
                Json::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
                Ok(Json::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
                Ok(Json::Number(n.into()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(n)
                    .map(Json::Number)
                    .ok_or_else(|| E::custom("number out of range"))
            }
            fn visit_str<E>(self, s: &str) -> Result<Json, E> {
                Ok(Json::String(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Json, E> {
                Ok(Json::String(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    members.push((k, v));
                }
                Ok(Json::Object(members))
            }
        }

        deserializer.deserialize_any(JsonVisitor)
    }
}

/// A JSON path as a chain of borrowed segments (no allocation until rendered).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'a> {
    /// The document itself.
    Root,
    /// `parent.key`
    Key(&'a Path<'a>, &'a str),
    /// `parent[index]`
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn write(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.write(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Index(parent, index) => {
                parent.write(out);
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        if s.is_empty() {
            f.write_str("(document)")
        } else {
            f.write_str(&s)
        }
    }
}

/// An error at `path`.
pub(crate) fn invalid(path: &Path<'_>, message: impl Into<String>) -> ImportError {
    ImportError::Invalid {
        path: path.to_string(),
        message: message.into(),
    }
}

fn type_name(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// `expected X, found Y`.
pub(crate) fn expected(path: &Path<'_>, what: &str, found: &Json) -> ImportError {
    invalid(path, format!("expected {what}, found {}", type_name(found)))
}

/// A JSON object being read, with its path.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    value: &'a Json,
    path: &'a Path<'a>,
}

impl<'a> Obj<'a> {
    /// Reads `value` as an object.
    pub(crate) fn new(value: &'a Json, path: &'a Path<'a>) -> Result<Self, ImportError> {
        match value {
            Json::Object(_) => Ok(Obj { value, path }),
            other => Err(expected(path, "an object", other)),
        }
    }

    /// The object's path.
    pub(crate) fn path(&self) -> &'a Path<'a> {
        self.path
    }

    /// The raw member (`None` when absent; `null` is returned as `Some(Null)`).
    pub(crate) fn raw(&self, key: &str) -> Option<&'a Json> {
        self.value.get(key)
    }

    /// The member, treating `null` as absent.
    pub(crate) fn present(&self, key: &str) -> Option<&'a Json> {
        match self.value.get(key) {
            None | Some(Json::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// A required member of any type.
    pub(crate) fn required(&self, key: &'static str) -> Result<&'a Json, ImportError> {
        self.present(key)
            .ok_or_else(|| invalid(&Path::Key(self.path, key), "missing required value"))
    }

    /// An optional string (`null` and absent are `None`).
    pub(crate) fn opt_str(&self, key: &'static str) -> Result<Option<String>, ImportError> {
        match self.present(key) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(expected(&Path::Key(self.path, key), "a string", other)),
        }
    }

    /// An optional string where `null`/absent mean `""`.
    pub(crate) fn str_or_empty(&self, key: &'static str) -> Result<String, ImportError> {
        Ok(self.opt_str(key)?.unwrap_or_default())
    }

    /// A required string.
    pub(crate) fn req_str(&self, key: &'static str) -> Result<String, ImportError> {
        match self.required(key)? {
            Json::String(s) => Ok(s.clone()),
            other => Err(expected(&Path::Key(self.path, key), "a string", other)),
        }
    }

    /// An optional integer id.
    pub(crate) fn opt_i64(&self, key: &'static str) -> Result<Option<i64>, ImportError> {
        match self.present(key) {
            None => Ok(None),
            Some(v) => as_i64(v, &Path::Key(self.path, key)).map(Some),
        }
    }

    /// A required integer id.
    pub(crate) fn req_i64(&self, key: &'static str) -> Result<i64, ImportError> {
        let v = self.required(key)?;
        as_i64(v, &Path::Key(self.path, key))
    }

    /// An optional boolean (`null`/absent are `false`).
    pub(crate) fn bool_or_false(&self, key: &'static str) -> Result<bool, ImportError> {
        match self.present(key) {
            None => Ok(false),
            Some(Json::Bool(b)) => Ok(*b),
            Some(other) => Err(expected(&Path::Key(self.path, key), "a boolean", other)),
        }
    }

    /// An optional list, each element read by `read`; `null`/absent are empty.
    pub(crate) fn list<T>(
        &self,
        key: &'static str,
        mut read: impl FnMut(&'a Json, &Path<'_>) -> Result<T, ImportError>,
    ) -> Result<Vec<T>, ImportError> {
        let path = Path::Key(self.path, key);
        match self.present(key) {
            None => Ok(Vec::new()),
            Some(Json::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| read(item, &Path::Index(&path, i)))
                .collect(),
            Some(other) => Err(expected(&path, "an array", other)),
        }
    }
}

/// An integer (JSON integer, or a string of digits as some APIs send ids).
pub(crate) fn as_i64(value: &Json, path: &Path<'_>) -> Result<i64, ImportError> {
    match value {
        Json::Number(n) => n
            .as_i64()
            .ok_or_else(|| invalid(path, format!("expected an integer, found {n}"))),
        other => Err(expected(path, "an integer", other)),
    }
}

/// A string element.
pub(crate) fn as_string(value: &Json, path: &Path<'_>) -> Result<String, ImportError> {
    match value {
        Json::String(s) => Ok(s.clone()),
        other => Err(expected(path, "a string", other)),
    }
}
