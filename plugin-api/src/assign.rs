//! pretix's `assign_properties` (spec §4.4, the split variant of §4.4.2): decide which
//! fields to write on an external object, given its current values and the update modes.

use std::collections::BTreeMap;

use abi_stable::std_types::RString;

use crate::types::{Mode, Property, Value};

/// Computes the fields to write for one object.
///
/// * `new_values` — the properties the host computed, in mapping order;
/// * `old_values` — the object's current values in the external system (empty when
///   it does not exist yet);
/// * `is_new` — whether the object is about to be created;
/// * `list_sep` — the separator of string-encoded lists for `append`, or `None` when the
///   external field holds native lists.
///
/// Returns only the fields that change or were decided. Since [`Mode`] is a closed enum,
/// pretix's "invalid update mode" error cannot occur here; the host rejects unknown mode
/// names when it validates the configuration.
///
/// ```
/// use std::collections::BTreeMap;
/// use datasync_plugin_api::{assign_properties, Mode, Property, Value};
///
/// let old = BTreeMap::from([("colors".to_string(), Value::str("blue"))]);
/// let out = assign_properties(&[Property::new("colors", "red", Mode::Append)], &old, false, Some(";"));
/// assert_eq!(out["colors"], Value::str("blue;red"));
/// ```
pub fn assign_properties(
    new_values: &[Property],
    old_values: &BTreeMap<String, Value>,
    is_new: bool,
    list_sep: Option<&str>,
) -> BTreeMap<String, Value> {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    for Property {
        external_field,
        value,
        mode,
    } in new_values
    {
        let field = external_field.as_str();
        if *mode == Mode::Overwrite {
            out.insert(field.to_string(), value.clone());
            continue;
        }
        if *mode == Mode::IfNew && !is_new {
            continue;
        }
        if !value.is_truthy() {
            continue;
        }
        // An existing remote value wins over what earlier tuples decided (spec §4.4.3).
        let current = old_values
            .get(field)
            .or_else(|| out.get(field))
            .cloned()
            .unwrap_or_else(|| Value::str(""));
        match mode {
            Mode::IfEmpty | Mode::IfNew => {
                if !current.is_truthy() {
                    out.insert(field.to_string(), value.clone());
                }
            }
            Mode::Append => {
                if let Some(appended) = append(&current, value, list_sep) {
                    out.insert(field.to_string(), appended);
                }
            }
            Mode::Overwrite => {}
        }
    }
    out
}

/// The list after appending `value` to `current`, or `None` when nothing changes.
fn append(current: &Value, value: &Value, list_sep: Option<&str>) -> Option<Value> {
    let current_items = current_items(current, list_sep);
    let new_items: Vec<String> = match list_sep {
        Some(sep) => value.to_string().split(sep).map(str::to_string).collect(),
        None => vec![value.to_string()],
    };
    let mut result = current_items.clone();
    for item in new_items {
        // Checked against the original list only: duplicates among the new items are
        // appended twice, as pretix does.
        if !current_items.contains(&item) {
            result.push(item);
        }
    }
    if result == current_items {
        return None;
    }
    Some(match list_sep {
        Some(sep) => Value::str(result.join(sep)),
        None => Value::List(result.into_iter().map(RString::from).collect()),
    })
}

fn current_items(current: &Value, list_sep: Option<&str>) -> Vec<String> {
    match (current, list_sep) {
        (Value::List(items), _) => items.iter().map(|s| s.to_string()).collect(),
        (current, Some(_)) if !current.is_truthy() => Vec::new(),
        (current, Some(sep)) => current.to_string().split(sep).map(str::to_string).collect(),
        // Native lists: a scalar (even an empty one) is wrapped, as pretix does.
        (current, None) => vec![current.to_string()],
    }
}

#[cfg(test)]
mod tests {
    //! Spec §7.7, one test per upstream case.
    use super::*;

    fn props(items: &[(&str, &str, Mode)]) -> Vec<Property> {
        items
            .iter()
            .map(|(f, v, m)| Property::new(f, *v, *m))
            .collect()
    }

    fn map(items: &[(&str, Value)]) -> BTreeMap<String, Value> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn s(v: &str) -> Value {
        Value::str(v)
    }

    const SEP: Option<&str> = Some(";");

    fn alice_a(mode: Mode) -> Vec<Property> {
        props(&[("name", "Alice", mode), ("name", "A", mode)])
    }

    #[test]
    fn case01_overwrite_replaces_existing_value() {
        let out = assign_properties(
            &props(&[("name", "Alice", Mode::Overwrite)]),
            &map(&[("name", s("A"))]),
            false,
            SEP,
        );
        assert_eq!(out, map(&[("name", s("Alice"))]));
    }

    #[test]
    fn case02_if_new_skips_existing_object() {
        let out = assign_properties(
            &props(&[("name", "Alice", Mode::IfNew)]),
            &map(&[]),
            false,
            SEP,
        );
        assert_eq!(out, map(&[]));
    }

    #[test]
    fn case03_if_new_sets_on_new_object() {
        let out = assign_properties(
            &props(&[("name", "Alice", Mode::IfNew)]),
            &map(&[]),
            true,
            SEP,
        );
        assert_eq!(out, map(&[("name", s("Alice"))]));
    }

    #[test]
    fn case04_if_new_first_value_wins_on_new_object() {
        let out = assign_properties(&alice_a(Mode::IfNew), &map(&[]), true, SEP);
        assert_eq!(out, map(&[("name", s("Alice"))]));
    }

    #[test]
    fn case05_if_new_writes_nothing_on_existing_object_with_value() {
        let out = assign_properties(
            &alice_a(Mode::IfNew),
            &map(&[("name", s("Bob"))]),
            false,
            SEP,
        );
        assert_eq!(out, map(&[]));
    }

    #[test]
    fn case06_if_new_writes_nothing_on_existing_empty_object() {
        let out = assign_properties(&alice_a(Mode::IfNew), &map(&[]), false, SEP);
        assert_eq!(out, map(&[]));
    }

    #[test]
    fn case07_if_empty_first_value_wins_on_new_object() {
        let out = assign_properties(&alice_a(Mode::IfEmpty), &map(&[]), true, SEP);
        assert_eq!(out, map(&[("name", s("Alice"))]));
    }

    #[test]
    fn case08_if_empty_keeps_existing_value() {
        let out = assign_properties(
            &alice_a(Mode::IfEmpty),
            &map(&[("name", s("Bob"))]),
            false,
            SEP,
        );
        assert_eq!(out, map(&[]));
    }

    #[test]
    fn case09_if_empty_fills_missing_field_of_existing_object() {
        let new = props(&[("name", "Alice", Mode::IfEmpty)]);
        let first = assign_properties(&new, &map(&[]), false, SEP);
        assert_eq!(first, map(&[("name", s("Alice"))]));
        let second = assign_properties(&new, &map(&[]), false, SEP);
        assert_eq!(second, map(&[("name", s("Alice"))]));
    }

    #[test]
    fn case10_append_to_missing_field_starts_list() {
        let out = assign_properties(
            &props(&[("colors", "red", Mode::Append)]),
            &map(&[]),
            false,
            SEP,
        );
        assert_eq!(out, map(&[("colors", s("red"))]));
    }

    #[test]
    fn case11_append_present_item_writes_nothing() {
        let out = assign_properties(
            &props(&[("colors", "red", Mode::Append)]),
            &map(&[("colors", s("red"))]),
            false,
            SEP,
        );
        assert_eq!(out, map(&[]));
    }

    #[test]
    fn case12_append_adds_to_single_item() {
        let out = assign_properties(
            &props(&[("colors", "red", Mode::Append)]),
            &map(&[("colors", s("blue"))]),
            false,
            SEP,
        );
        assert_eq!(out, map(&[("colors", s("blue;red"))]));
    }

    #[test]
    fn case13_append_adds_to_joined_list() {
        let out = assign_properties(
            &props(&[("colors", "red", Mode::Append)]),
            &map(&[("colors", s("green;blue"))]),
            false,
            SEP,
        );
        assert_eq!(out, map(&[("colors", s("green;blue;red"))]));
    }

    #[test]
    fn case14_append_to_native_list() {
        let out = assign_properties(
            &props(&[("colors", "red", Mode::Append)]),
            &map(&[("colors", Value::list(["green", "blue"]))]),
            false,
            None,
        );
        assert_eq!(
            out,
            map(&[("colors", Value::list(["green", "blue", "red"]))])
        );
    }

    #[test]
    fn case15_append_present_item_to_native_list_writes_nothing() {
        let out = assign_properties(
            &props(&[("colors", "green", Mode::Append)]),
            &map(&[("colors", Value::list(["green", "blue"]))]),
            false,
            None,
        );
        assert_eq!(out, map(&[]));
    }

    #[test]
    fn append_splits_a_joined_value_into_items() {
        let out = assign_properties(
            &props(&[("colors", "a;b", Mode::Append)]),
            &map(&[("colors", s("b"))]),
            false,
            SEP,
        );
        assert_eq!(out, map(&[("colors", s("b;a"))]));
    }

    #[test]
    fn overwrite_clears_with_empty_value_but_other_modes_never_do() {
        let new = vec![
            Property::new("a", Value::Null, Mode::Overwrite),
            Property::new("b", "", Mode::IfEmpty),
            Property::new("c", Value::Bool(false), Mode::Append),
        ];
        let out = assign_properties(&new, &map(&[("a", s("x"))]), false, SEP);
        assert_eq!(out, map(&[("a", Value::Null)]));
    }

    #[test]
    fn if_empty_against_old_empty_value_last_truthy_entry_wins() {
        let out = assign_properties(
            &alice_a(Mode::IfEmpty),
            &map(&[("name", s(""))]),
            false,
            SEP,
        );
        assert_eq!(out, map(&[("name", s("A"))]));
    }

    #[test]
    fn append_against_existing_field_only_last_append_survives() {
        let new = props(&[
            ("colors", "red", Mode::Append),
            ("colors", "pink", Mode::Append),
        ]);
        let out = assign_properties(&new, &map(&[("colors", s("blue"))]), false, SEP);
        assert_eq!(out, map(&[("colors", s("blue;pink"))]));
    }

    #[test]
    fn append_to_absent_field_is_cumulative() {
        let new = props(&[
            ("colors", "red", Mode::Append),
            ("colors", "pink", Mode::Append),
        ]);
        let out = assign_properties(&new, &map(&[]), false, SEP);
        assert_eq!(out, map(&[("colors", s("red;pink"))]));
    }

    #[test]
    fn native_append_to_missing_field_starts_with_empty_item_like_pretix() {
        let out = assign_properties(
            &props(&[("tags", "vip", Mode::Append)]),
            &map(&[]),
            false,
            None,
        );
        assert_eq!(out, map(&[("tags", Value::list(["", "vip"]))]));
    }
}
