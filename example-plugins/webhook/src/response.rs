//! What an answer (or the lack of one) means for the host: success, retry later, or park.
//!
//! Kept free of I/O so every rule is unit-tested without a server.

use std::error::Error as _;
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datasync_plugin_api::serde_json::{self, Value as Json};
use datasync_plugin_api::SyncError;

use crate::settings;

/// Characters of a response body kept in an error's full message. Enough for any
/// error document; a receiver that answers with a whole HTML page must not bloat the log.
pub(crate) const BODY_LIMIT_CHARS: usize = 2000;

/// An HTTP answer, reduced to what the rules look at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer<'a> {
    pub status: u16,
    pub reason: &'a str,
    pub retry_after: Option<&'a str>,
    pub location: Option<&'a str>,
    pub body: &'a [u8],
}

/// What a 2xx answer said about the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accepted {
    pub action: String,
    pub href: Option<String>,
    pub display_name: Option<String>,
}

/// Classifies an answer. `target` ("POST http://host:port") starts every message;
/// `now` turns an HTTP-date `Retry-After` into seconds.
pub(crate) fn classify(
    answer: &Answer<'_>,
    target: &str,
    now: SystemTime,
) -> Result<Accepted, SyncError> {
    let status = answer.status;
    let summary = format!("{target} answered HTTP {status} {}", answer.reason)
        .trim_end()
        .to_string();
    let full_message = || {
        format!(
            "HTTP {status} {}\n{}",
            answer.reason,
            truncate(&String::from_utf8_lossy(answer.body), BODY_LIMIT_CHARS)
        )
    };
    match status {
        200..=299 => Ok(accepted(status, answer.body)),
        300..=399 => Err(settings::config(format!(
            "{summary}, a redirect to {}; set settings.url to the final address (a redirect \
             would drop or change the request body)",
            answer.location.unwrap_or("(no Location header)")
        ))
        .with_full_message(full_message())),
        // Request timeout, rate limit, server trouble: the same request may work later.
        408 | 429 | 500..=599 => {
            let error = SyncError::recoverable(format!("plugin {}: {summary}", crate::IDENTIFIER))
                .with_full_message(full_message());
            Err(
                match answer.retry_after.and_then(|v| retry_after_secs(v, now)) {
                    Some(secs) => error.with_retry_after(secs),
                    None => error,
                },
            )
        }
        // Any other 4xx: the receiver refused this request; resending it unchanged will
        // not help, so a person has to look (the body usually says why).
        _ => Err(
            SyncError::permanent(format!("plugin {}: {summary}", crate::IDENTIFIER))
                .with_full_message(full_message()),
        ),
    }
}

/// Reads the optional `action`, `external_link_href` and `external_link_display_name`
/// of a 2xx answer. A body that is not a JSON object is no error: the receiver took the
/// object, and many receivers answer with an empty body or plain `OK`.
fn accepted(status: u16, body: &[u8]) -> Accepted {
    let fields = match serde_json::from_slice::<Json>(body) {
        Ok(Json::Object(fields)) => fields,
        _ => Default::default(),
    };
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Accepted {
        action: text("action").unwrap_or_else(|| {
            // 201 Created is the one status that says which of the two happened.
            if status == 201 { "create" } else { "update" }.to_string()
        }),
        href: text("external_link_href"),
        display_name: text("external_link_display_name"),
    }
}

/// Seconds until the retry a `Retry-After` value asks for: delay-seconds, or an
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, the form RFC 9110 has senders use).
/// `None` for anything else, which leaves the retry to the host's backoff.
pub(crate) fn retry_after_secs(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = UNIX_EPOCH + Duration::from_secs(parse_imf_fixdate(value)?);
    // A date in the past means "now"; round up so the retry is never early.
    let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
    Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

/// Parses `Sun, 06 Nov 1994 08:49:37 GMT` into seconds since the Unix epoch.
fn parse_imf_fixdate(value: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = value.split(' ');
    let (_weekday, day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() || zone != "GMT" || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let day: u64 = day.parse().ok()?;
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let year: u64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || year < 1970 || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's algorithm, for years
/// from 1970 on).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The error for a request that got no HTTP answer. All of these are recoverable
/// (the receiver may be restarting, the network may come back) except a URL ureq
/// cannot use, which settings validation normally catches first.
pub(crate) fn transport_error(
    error: &ureq::Transport,
    target: &str,
    timeout: Duration,
) -> SyncError {
    // ureq's own Display starts with the full URL, whose path may hold a token: build
    // the detail from the parts instead.
    let mut detail = error.kind().to_string();
    if let Some(message) = error.message() {
        detail.push_str(": ");
        detail.push_str(message);
    }
    let mut source = error.source();
    let mut timed_out = false;
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        timed_out |= cause.downcast_ref::<io::Error>().is_some_and(|e| {
            matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            )
        });
        source = cause.source();
    }
    match error.kind() {
        ureq::ErrorKind::InvalidUrl | ureq::ErrorKind::UnknownScheme => settings::config(format!(
            "{target} cannot be sent: {detail}; fix settings.url"
        )),
        _ if timed_out => SyncError::recoverable(format!(
            "plugin {}: {target} got no answer within settings.timeout_secs = {}",
            crate::IDENTIFIER,
            timeout.as_secs_f64()
        ))
        .with_full_message(detail),
        _ => SyncError::recoverable(format!(
            "plugin {}: {target} failed: {}",
            crate::IDENTIFIER,
            error.kind()
        ))
        .with_full_message(detail),
    }
}

/// Cuts `text` to `limit` characters, saying how much was left out.
pub(crate) fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… ({} more bytes)", &text[..cut], text.len() - cut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datasync_plugin_api::ErrorKind;

    const TARGET: &str = "POST http://127.0.0.1:9";

    fn answer(status: u16, body: &str) -> Answer<'_> {
        Answer {
            status,
            reason: "",
            retry_after: None,
            location: None,
            body: body.as_bytes(),
        }
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn ok(answer: &Answer<'_>) -> Accepted {
        classify(answer, TARGET, now()).expect("accepted")
    }

    fn err(answer: &Answer<'_>) -> SyncError {
        classify(answer, TARGET, now()).expect_err("refused")
    }

    #[test]
    fn a_2xx_json_object_supplies_action_and_link() {
        let body = r#"{"action": "nothing_to_do", "external_link_href": "https://crm/1",
                       "external_link_display_name": "Contact 1", "id": 7}"#;
        assert_eq!(
            ok(&answer(200, body)),
            Accepted {
                action: "nothing_to_do".into(),
                href: Some("https://crm/1".into()),
                display_name: Some("Contact 1".into()),
            }
        );
    }

    #[test]
    fn without_an_action_201_means_create_and_other_2xx_mean_update() {
        assert_eq!(ok(&answer(201, "{}")).action, "create");
        assert_eq!(ok(&answer(200, r#"{"action": 3}"#)).action, "update");
        assert_eq!(ok(&answer(202, "")).action, "update");
        assert_eq!(ok(&answer(204, "")).action, "update");
    }

    #[test]
    fn a_2xx_body_that_is_not_a_json_object_is_still_success() {
        for body in ["OK", "[1, 2]", "\"done\"", "{broken", ""] {
            assert_eq!(
                ok(&answer(201, body)),
                Accepted {
                    action: "create".into(),
                    href: None,
                    display_name: None
                },
                "{body}"
            );
        }
    }

    #[test]
    fn timeouts_rate_limits_and_server_errors_are_recoverable() {
        for status in [408, 429, 500, 502, 503, 504] {
            let e = err(&answer(status, "busy"));
            assert_eq!(e.kind, ErrorKind::Recoverable, "{status}");
            assert_eq!(e.retry_after_secs.into_option(), None, "{status}");
            assert!(e.message().contains(&format!("answered HTTP {status}")));
        }
    }

    #[test]
    fn retry_after_seconds_are_passed_to_the_host() {
        let e = err(&Answer {
            retry_after: Some(" 120 "),
            ..answer(429, "")
        });
        assert_eq!(e.kind, ErrorKind::Recoverable);
        assert_eq!(e.retry_after_secs.into_option(), Some(120));
    }

    #[test]
    fn retry_after_http_dates_become_seconds_from_now() {
        // 2023-11-14T22:13:20Z is 1_700_000_000.
        assert_eq!(
            retry_after_secs("Tue, 14 Nov 2023 22:13:50 GMT", now()),
            Some(30)
        );
        assert_eq!(
            retry_after_secs("Tue, 14 Nov 2023 22:00:00 GMT", now()),
            Some(0)
        );
        assert_eq!(
            parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_imf_fixdate("Thu, 29 Feb 2024 00:00:00 GMT"),
            Some(1_709_164_800)
        );
        for bad in [
            "soon",
            "-5",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 CET",
        ] {
            assert_eq!(retry_after_secs(bad, now()), None, "{bad}");
        }
    }

    #[test]
    fn other_4xx_are_permanent_with_status_and_body_in_the_full_message() {
        for status in [400, 401, 403, 404, 409, 422] {
            let e = err(&Answer {
                reason: "Nope",
                retry_after: Some("5"),
                ..answer(status, r#"{"error": "email invalid"}"#)
            });
            assert_eq!(e.kind, ErrorKind::Permanent, "{status}");
            assert_eq!(e.retry_after_secs.into_option(), None);
            assert_eq!(
                e.message(),
                format!("plugin webhook: POST http://127.0.0.1:9 answered HTTP {status} Nope")
            );
            assert_eq!(
                e.full_message.as_ref().map(|m| m.as_str()).into_option(),
                Some(format!("HTTP {status} Nope\n{{\"error\": \"email invalid\"}}").as_str())
            );
        }
    }

    #[test]
    fn long_bodies_are_truncated_in_the_full_message() {
        let body = "é".repeat(5000);
        let e = err(&answer(400, &body));
        let full = e
            .full_message
            .into_option()
            .expect("full message")
            .to_string();
        assert!(full.len() < 4200, "{}", full.len());
        assert!(
            full.ends_with(&format!("… ({} more bytes)", 3000 * 2)),
            "{full}"
        );
        assert_eq!(truncate("short", 10), "short");
    }

    #[test]
    fn a_redirect_is_a_config_error_naming_the_new_address() {
        let e = err(&Answer {
            location: Some("https://new.example/hook"),
            ..answer(301, "")
        });
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(
            e.message().contains("https://new.example/hook"),
            "{}",
            e.message()
        );
        assert!(e.message().contains("settings.url"), "{}", e.message());
    }
}
