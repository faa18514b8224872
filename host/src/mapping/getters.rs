//! The getters of the source-field catalog: pretix's `sourcefields.py` lambdas, one
//! match arm each, with Python's truthiness (`a or b`) spelled out.
//!
//! Two getters deliberately differ from pretix (spec §8.1); the conformance corpus
//! lists every affected value in `divergences.jsonl`:
//!
//! * **#11 `attendee_country`** — pretix returns `str(parent.attendee_name)` for an
//!   add-on without a country of its own (so `"None"` or a person's name); this port
//!   returns the parent position's country (`""` if it has none either), as intended.
//! * **#13 `checkin_date_<list>`** — pretix returns the *most recent* entry scan on the
//!   list (its helper is called "first", but check-ins are ordered newest first); this
//!   port returns the *first* (earliest) entry scan, as intended.
//!
//! And one where pretix would crash: the legacy split names read `position.attendee_name`
//! without a fallback, which raises in pretix when the position has no name; here a
//! missing name splits as `""`.

use datasync_plugin_api::Value;

use super::catalog::{Getter, GetterError, Inputs};
use super::idna;
use crate::model::{InvoiceAddress, Position};

fn text(s: &str) -> Value {
    Value::str(s)
}

fn opt_text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

fn truthy(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// Python's `own or (parent.attr if parent else None)`.
fn own_or_parent<'a>(
    position: &'a Position,
    parent: Option<&'a Position>,
    attr: impl Fn(&'a Position) -> &'a Option<String>,
) -> Option<&'a str> {
    truthy(attr(position)).or_else(|| parent.and_then(|p| attr(p).as_deref()))
}

/// pretix's `normalize_email`: `None` for an empty address; otherwise exactly one `@`
/// and the host IDNA-encoded with Python's `idna` codec.
pub(crate) fn normalize_email(email: Option<&str>) -> Result<Option<String>, GetterError> {
    let Some(email) = email.filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let mut parts = email.split('@');
    let (Some(local), Some(host)) = (parts.next(), parts.next()) else {
        return Err(GetterError(format!(
            "cannot normalize e-mail address {email:?}: not enough values to unpack (expected 2, got 1)"
        )));
    };
    if parts.next().is_some() {
        return Err(GetterError(format!(
            "cannot normalize e-mail address {email:?}: too many values to unpack (expected 2)"
        )));
    }
    let host = idna::encode(host)
        .map_err(|e| GetterError(format!("cannot normalize e-mail address {email:?}: {e}")))?;
    let mut out = String::with_capacity(local.len() + 1 + host.len());
    out.push_str(local);
    out.push('@');
    out.push_str(&host);
    Ok(Some(out))
}

fn email_value(email: Option<&str>) -> Result<Value, GetterError> {
    Ok(normalize_email(email)?.map_or(Value::Null, Value::from))
}

/// Python's `name.rsplit(" ", 1)[part]`, `""` when there is no such part.
fn split_on_last_space(name: &str, part: usize) -> &str {
    match (name.rsplit_once(' '), part) {
        (Some((given, _)), 0) => given,
        (Some((_, family)), 1) => family,
        (None, 0) => name,
        _ => "",
    }
}

fn with_position(inputs: &Inputs<'_>, f: impl FnOnce(&Position) -> Value) -> Value {
    inputs.position.map_or(Value::Null, f)
}

fn empty_address() -> &'static InvoiceAddress {
    static EMPTY: std::sync::OnceLock<InvoiceAddress> = std::sync::OnceLock::new();
    EMPTY.get_or_init(InvoiceAddress::default)
}

/// Computes one getter.
pub(crate) fn get(
    getter: &Getter,
    inputs: &Inputs<'_>,
    language: &str,
) -> Result<Value, GetterError> {
    let order = inputs.order;
    let event = inputs.event;
    let position = inputs.position;
    let parent = position.and_then(|p| order.parent_of(p));
    let ia = order
        .invoice_address
        .as_ref()
        .unwrap_or_else(|| empty_address());

    Ok(match getter {
        Getter::AttendeeName => with_position(inputs, |p| {
            opt_text(own_or_parent(p, parent, |x| &x.attendee_name))
        }),
        Getter::AttendeeNamePart(key) => with_position(inputs, |p| {
            let parts = match parent {
                Some(parent) if p.attendee_name_parts.is_empty() => &parent.attendee_name_parts,
                _ => &p.attendee_name_parts,
            };
            text(parts.get(key).unwrap_or(""))
        }),
        Getter::AttendeeEmail => match position {
            Some(p) => email_value(own_or_parent(p, parent, |x| &x.attendee_email))?,
            None => Value::Null,
        },
        Getter::AttendeeOrOrderEmail => match position {
            Some(p) => {
                let own = truthy(&p.attendee_email)
                    .or_else(|| parent.and_then(|x| truthy(&x.attendee_email)));
                email_value(own.or(order.email.as_deref()))?
            }
            None => Value::Null,
        },
        Getter::AttendeeCompany => with_position(inputs, |p| {
            opt_text(own_or_parent(p, parent, |x| &x.company))
        }),
        Getter::AttendeeStreet => with_position(inputs, |p| {
            opt_text(own_or_parent(p, parent, |x| &x.street))
        }),
        Getter::AttendeeZipcode => with_position(inputs, |p| {
            opt_text(own_or_parent(p, parent, |x| &x.zipcode))
        }),
        Getter::AttendeeCity => {
            with_position(inputs, |p| opt_text(own_or_parent(p, parent, |x| &x.city)))
        }
        // Intended behaviour (spec §8.1 #11): the parent's country, not its name.
        Getter::AttendeeCountry => with_position(inputs, |p| {
            let own = truthy(&p.country);
            text(
                own.or_else(|| parent.and_then(|x| x.country.as_deref()))
                    .unwrap_or(""),
            )
        }),
        Getter::InvoiceCompany => text(&ia.company),
        Getter::InvoiceName => text(&ia.name),
        Getter::InvoiceNamePart(key) => text(ia.name_parts.get(key).unwrap_or("")),
        Getter::InvoiceStreet => text(&ia.street),
        Getter::InvoiceZipcode => text(&ia.zipcode),
        Getter::InvoiceCity => text(&ia.city),
        Getter::InvoiceCountry => text(&ia.country),
        Getter::Email => email_value(order.email.as_deref())?,
        Getter::EmailDomain => match normalize_email(order.email.as_deref())? {
            Some(email) => email
                .split_once('@')
                .map_or(Value::Null, |(_, host)| text(host)),
            None => Value::Null,
        },
        Getter::OrderCode => text(&order.code),
        Getter::EventOrderCode => {
            let slug = event.event.slug.to_uppercase();
            Value::from(format!("{slug}-{}", order.code))
        }
        Getter::OrderTotal => text(order.total.as_str()),
        Getter::Product => with_position(inputs, |p| {
            let Some(item) = event.item(p.item) else {
                return text("");
            };
            let name = item
                .internal_name
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| item.name.localize(language));
            match p.variation.and_then(|v| item.variation(v)) {
                Some(variation) => {
                    Value::from(format!("{name} – {}", variation.value.localize(language)))
                }
                None => text(name),
            }
        }),
        Getter::ProductId => with_position(inputs, |p| Value::from(p.item.to_string())),
        Getter::ProductIsAdmission => with_position(inputs, |p| {
            Value::Bool(event.item(p.item).is_some_and(|i| i.admission))
        }),
        Getter::EventSlug => text(&event.event.slug),
        Getter::EventName => text(event.event.name.localize(language)),
        Getter::EventDateFrom => {
            let date = match inputs.subevent() {
                Some(sub) => sub.date_from,
                None => event.event.date_from,
            };
            date.map_or(Value::Null, |d| Value::from(d.isoformat()))
        }
        Getter::EventDateTo => {
            let date = match inputs.subevent() {
                Some(sub) => sub.date_to,
                None => event.event.date_to,
            };
            date.map_or(Value::Null, |d| Value::from(d.isoformat()))
        }
        Getter::VoucherCode => with_position(inputs, |p| {
            text(
                p.voucher
                    .and_then(|v| event.voucher(v))
                    .map_or("", |v| v.code.as_str()),
            )
        }),
        Getter::TicketId => with_position(inputs, |p| {
            Value::from(format!("{}-{}", order.code, p.positionid))
        }),
        Getter::TicketPrice => with_position(inputs, |p| text(p.price.as_str())),
        Getter::OrderStatus => Value::list([order.status.as_str()]),
        Getter::TicketStatus => with_position(inputs, |p| {
            Value::list([if p.canceled {
                "c"
            } else {
                order.status.as_str()
            }])
        }),
        Getter::OrderDate => order
            .datetime
            .map_or(Value::Null, |d| Value::from(d.isoformat())),
        Getter::PaymentDate => {
            if order.status == "n" {
                Value::Null
            } else {
                order
                    .payments
                    .iter()
                    .filter_map(|p| p.payment_date)
                    .max()
                    .map_or(Value::Null, |d| Value::from(d.isoformat()))
            }
        }
        Getter::OrderLocale => match order.locale.as_deref() {
            Some(locale) => Value::list([locale]),
            None => Value::list(std::iter::empty::<&str>()),
        },
        Getter::PositionId => with_position(inputs, |p| Value::from(p.id.to_string())),
        Getter::PresaleOrderUrl => match &order.url {
            Some(url) => text(url),
            None => match (&event.event.public_url, &order.secret) {
                (Some(base), Some(secret)) => Value::from(format!(
                    "{}order/{}/{}/",
                    with_slash(base),
                    order.code,
                    secret
                )),
                _ => Value::Null,
            },
        },
        Getter::PresaleTicketUrl => {
            with_position(inputs, |p| match (shop_base(inputs), &p.web_secret) {
                (Some(base), Some(secret)) => Value::from(format!(
                    "{}ticket/{}/{}/{}/",
                    with_slash(base),
                    order.code,
                    p.positionid,
                    secret
                )),
                _ => Value::Null,
            })
        }
        // Intended behaviour (spec §8.1 #13): the first entry scan, not the latest.
        Getter::CheckinDate(list) => with_position(inputs, |p| {
            p.checkins
                .iter()
                .filter(|c| c.list == *list && c.is_entry)
                .min_by_key(|c| (c.datetime, c.id))
                .map_or(Value::Null, |c| Value::from(c.datetime.isoformat()))
        }),
        Getter::Question(identifier, question_type) => with_position(inputs, |p| {
            fn find<'p>(pos: &'p Position, identifier: &str) -> Option<&'p crate::model::Answer> {
                pos.answers
                    .iter()
                    .find(|a| a.question_identifier == identifier)
            }
            // Own answer first; an add-on falls back to its parent's answer.
            match find(p, identifier).or_else(|| parent.and_then(|x| find(x, identifier))) {
                None => text(""),
                Some(a) if question_type.is_choice() => {
                    Value::list(a.option_identifiers.iter().map(String::as_str))
                }
                Some(a) if *question_type == crate::model::QuestionType::Boolean => {
                    Value::Bool(a.answer == "True")
                }
                Some(a) => text(&a.answer),
            }
        }),
        Getter::LegacyAttendeeGivenName => with_position(inputs, |p| {
            text(split_on_last_space(
                p.attendee_name.as_deref().unwrap_or(""),
                0,
            ))
        }),
        Getter::LegacyAttendeeFamilyName => with_position(inputs, |p| {
            text(split_on_last_space(
                p.attendee_name.as_deref().unwrap_or(""),
                1,
            ))
        }),
        Getter::LegacyInvoiceGivenName => text(split_on_last_space(&ia.name, 0)),
        Getter::LegacyInvoiceFamilyName => text(split_on_last_space(&ia.name, 1)),
    })
}

fn with_slash(base: &str) -> std::borrow::Cow<'_, str> {
    if base.ends_with('/') {
        base.into()
    } else {
        format!("{base}/").into()
    }
}

/// The shop's base URL: the event's `public_url`, or the order URL minus its
/// `order/<code>/<secret>/` tail.
fn shop_base<'a>(inputs: &Inputs<'a>) -> Option<&'a str> {
    if let Some(base) = inputs.event.event.public_url.as_deref() {
        return Some(base);
    }
    let url = inputs.order.url.as_deref()?;
    let marker = format!("order/{}/", inputs.order.code);
    url.rfind(&marker).and_then(|i| url.get(..i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_on_last_space_matches_python_rsplit() {
        assert_eq!(split_on_last_space("A B C D", 0), "A B C");
        assert_eq!(split_on_last_space("A B C D", 1), "D");
        assert_eq!(split_on_last_space("Alice", 0), "Alice");
        assert_eq!(split_on_last_space("Alice", 1), "");
        assert_eq!(split_on_last_space("", 0), "");
        assert_eq!(split_on_last_space("Charlie de l'Exemple", 0), "Charlie de");
    }

    #[test]
    fn normalize_email_requires_exactly_one_at() {
        assert_eq!(normalize_email(None), Ok(None));
        assert_eq!(normalize_email(Some("")), Ok(None));
        assert!(normalize_email(Some("no-at-sign")).is_err());
        assert!(normalize_email(Some("a@b@c")).is_err());
        assert_eq!(
            normalize_email(Some("anonymous@🌈.example.org")),
            Ok(Some("anonymous@xn--og8h.example.org".to_string()))
        );
    }
}
