//! The provider's `settings` table, validated once per batch.
//!
//! Every message names the plugin, the setting and what to write instead: the operator
//! reads it in the host's log, far away from this code.

use std::time::Duration;

use datasync_plugin_api::serde_json::{Map, Value as Json};
use datasync_plugin_api::SyncError;

use crate::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER};

/// Every key the settings may contain. Unknown keys are refused: a typo such as
/// `secrett` must not silently send unsigned requests.
pub(crate) const KEYS: [&str; 6] = [
    "url",
    "method",
    "headers",
    "secret",
    "timeout_secs",
    "link_template",
];

/// `timeout_secs` when the settings do not name one.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Headers the plugin writes itself; configuring them would corrupt the request or
/// defeat the signature, so `settings.headers` may not name them.
const RESERVED_HEADERS: [&str; 7] = [
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
    "Host",
    "Connection",
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
];

/// The placeholders `link_template` may use.
pub(crate) const PLACEHOLDERS: [&str; 6] = [
    "event",
    "object_type",
    "id_value",
    "order_code",
    "position_id",
    "mapping_id",
];

/// The HTTP method requests are sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Post,
    Put,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// One piece of a parsed `link_template`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Copied as is.
    Text(String),
    /// Replaced by the percent-encoded value of one of [`PLACEHOLDERS`].
    Placeholder(&'static str),
}

/// The validated settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    /// Where every object is sent (`http://` or `https://`).
    pub url: String,
    /// `scheme://host:port` of `url`, for messages: the path and query of a webhook URL
    /// often carry a token, which must not end up in the host's log.
    pub origin: String,
    pub method: Method,
    /// Extra request headers, in the order configured.
    pub headers: Vec<(String, String)>,
    /// Key of the `X-Datasync-Signature` HMAC; no signature without it.
    pub secret: Option<String>,
    /// Limit for one whole request: connecting, sending and reading the answer.
    pub timeout: Duration,
    pub link_template: Option<Vec<Segment>>,
}

impl Settings {
    pub(crate) fn parse(settings: &Json) -> Result<Self, SyncError> {
        let Some(map) = settings.as_object() else {
            return Err(config(format!(
                "settings must be a table with at least `url`, not {settings}"
            )));
        };
        if let Some(unknown) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(config(format!(
                "unknown setting settings.{unknown}; valid settings: {}",
                KEYS.join(", ")
            )));
        }
        let (url, origin) = url(map)?;
        Ok(Settings {
            url,
            origin,
            method: method(map)?,
            headers: headers(map)?,
            secret: match map.get("secret") {
                None => None,
                Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(other) => {
                    return Err(config(format!(
                        "settings.secret must be a non-empty string (the key shared with the \
                         receiver), not {other}; remove it to send unsigned requests"
                    )))
                }
            },
            timeout: timeout(map)?,
            link_template: match map.get("link_template") {
                None => None,
                Some(Json::String(t)) => Some(parse_template(t)?),
                Some(other) => {
                    return Err(config(format!(
                        "settings.link_template must be a string such as \
                         \"https://crm.example/{{object_type}}/{{id_value}}\", not {other}"
                    )))
                }
            },
        })
    }
}

/// A config error prefixed with the plugin's name.
pub(crate) fn config(message: String) -> SyncError {
    SyncError::config(format!("plugin {}: {message}", crate::IDENTIFIER))
}

fn url(map: &Map<String, Json>) -> Result<(String, String), SyncError> {
    let example = "such as \"https://example.com/hooks/datasync\"";
    let url = match map.get("url") {
        Some(Json::String(url)) if !url.trim().is_empty() => url.trim().to_string(),
        None => {
            return Err(config(format!(
                "settings.url is missing; set it to the address that receives the objects, \
                 {example}"
            )))
        }
        Some(other) => {
            return Err(config(format!(
                "settings.url must be an http:// or https:// address {example}, not {other}"
            )))
        }
    };
    // Parse with ureq's own parser, so whatever passes here is what it will send to.
    let parsed = ureq::request("POST", &url).request_url().map_err(|e| {
        config(format!(
            "settings.url {url:?} is not a valid URL ({e}); use an address {example}"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_empty() {
        return Err(config(format!(
            "settings.url {url:?} must start with http:// or https:// and name a host, {example}"
        )));
    }
    let origin = match parsed.as_url().port() {
        Some(port) => format!("{}://{}:{port}", parsed.scheme(), parsed.host()),
        None => format!("{}://{}", parsed.scheme(), parsed.host()),
    };
    Ok((url, origin))
}

fn method(map: &Map<String, Json>) -> Result<Method, SyncError> {
    match map.get("method") {
        None => Ok(Method::Post),
        Some(Json::String(m)) if m.eq_ignore_ascii_case("POST") => Ok(Method::Post),
        Some(Json::String(m)) if m.eq_ignore_ascii_case("PUT") => Ok(Method::Put),
        Some(other) => Err(config(format!(
            "settings.method must be \"POST\" (the default) or \"PUT\", not {other}"
        ))),
    }
}

fn headers(map: &Map<String, Json>) -> Result<Vec<(String, String)>, SyncError> {
    let Some(value) = map.get("headers") else {
        return Ok(Vec::new());
    };
    let Some(table) = value.as_object() else {
        return Err(config(format!(
            "settings.headers must be a table of header name = \"value\", such as \
             {{ Authorization = \"Bearer …\" }}, not {value}"
        )));
    };
    let mut headers: Vec<(String, String)> = Vec::with_capacity(table.len());
    for (name, value) in table {
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(config(format!(
                "settings.headers: {name:?} is not a valid header name; use letters, digits \
                 and - only"
            )));
        }
        if RESERVED_HEADERS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(name))
        {
            return Err(config(format!(
                "settings.headers may not set {name}: the plugin sets it itself; remove it"
            )));
        }
        if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(config(format!(
                "settings.headers names {name} twice (header names ignore case); keep one"
            )));
        }
        let Some(value) = value.as_str() else {
            return Err(config(format!(
                "settings.headers.{name} must be a string, not {value}; quote it"
            )));
        };
        // A line break would end the header and let the value inject others.
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(config(format!(
                "settings.headers.{name} contains a line break or other control character; \
                 remove it"
            )));
        }
        headers.push((name.clone(), value.to_string()));
    }
    Ok(headers)
}

/// RFC 9110 `tchar`: the bytes a header name may consist of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn timeout(map: &Map<String, Json>) -> Result<Duration, SyncError> {
    let Some(value) = map.get("timeout_secs") else {
        return Ok(DEFAULT_TIMEOUT);
    };
    value
        .as_f64()
        .filter(|secs| *secs > 0.0)
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| {
            config(format!(
                "settings.timeout_secs must be a number of seconds greater than 0 (default {}), \
                 not {value}",
                DEFAULT_TIMEOUT.as_secs()
            ))
        })
}

/// Splits a template into text and placeholders, refusing unknown placeholders now
/// rather than producing broken links later.
pub(crate) fn parse_template(template: &str) -> Result<Vec<Segment>, SyncError> {
    let valid = || {
        PLACEHOLDERS
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut segments = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            segments.push(Segment::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(config(format!(
                "settings.link_template {template:?} has a {{ without a closing }}; \
                 placeholders are {}",
                valid()
            )));
        };
        let name = &after[..close];
        let Some(placeholder) = PLACEHOLDERS.iter().find(|p| **p == name) else {
            return Err(config(format!(
                "settings.link_template {template:?} uses unknown placeholder {{{name}}}; \
                 valid placeholders are {}",
                valid()
            )));
        };
        segments.push(Segment::Placeholder(placeholder));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        segments.push(Segment::Text(rest.to_string()));
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datasync_plugin_api::serde_json::json;
    use datasync_plugin_api::ErrorKind;

    fn error(settings: Json) -> String {
        let err = Settings::parse(&settings).expect_err("settings must be refused");
        assert_eq!(err.kind, ErrorKind::Config);
        let message = err.message();
        assert!(message.starts_with("plugin webhook: "), "{message}");
        message
    }

    #[test]
    fn only_url_is_required_and_the_rest_has_defaults() {
        let s = Settings::parse(&json!({ "url": "http://127.0.0.1:8080/hook?token=abc" }))
            .expect("valid");
        assert_eq!(s.url, "http://127.0.0.1:8080/hook?token=abc");
        assert_eq!(
            s.origin, "http://127.0.0.1:8080",
            "no path or token in messages"
        );
        assert_eq!(s.method, Method::Post);
        assert!(s.headers.is_empty());
        assert_eq!(s.secret, None);
        assert_eq!(s.timeout, Duration::from_secs(10));
        assert_eq!(s.link_template, None);
    }

    #[test]
    fn every_setting_is_read() {
        let s = Settings::parse(&json!({
            "url": "https://crm.example/hooks",
            "method": "put",
            "headers": { "Authorization": "Bearer t", "X-Tenant": "7" },
            "secret": "s3cret",
            "timeout_secs": 2.5,
            "link_template": "https://crm.example/{object_type}/{id_value}",
        }))
        .expect("valid");
        assert_eq!(s.origin, "https://crm.example");
        assert_eq!(s.method, Method::Put);
        assert_eq!(
            s.headers,
            [
                ("Authorization".to_string(), "Bearer t".to_string()),
                ("X-Tenant".to_string(), "7".to_string())
            ]
        );
        assert_eq!(s.secret.as_deref(), Some("s3cret"));
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(
            s.link_template,
            Some(vec![
                Segment::Text("https://crm.example/".into()),
                Segment::Placeholder("object_type"),
                Segment::Text("/".into()),
                Segment::Placeholder("id_value"),
            ])
        );
    }

    #[test]
    fn a_missing_url_names_the_setting_and_the_fix() {
        let message = error(json!({}));
        assert!(message.contains("settings.url is missing"), "{message}");
        assert!(message.contains("https://example.com/"), "{message}");
    }

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        for url in ["ftp://example.com/x", "not a url", "", "http://"] {
            let message = error(json!({ "url": url }));
            assert!(message.contains("settings.url"), "{url}: {message}");
        }
        error(json!({ "url": 42 }));
    }

    #[test]
    fn method_is_post_or_put_only() {
        let message = error(json!({ "url": "http://h/", "method": "DELETE" }));
        assert!(
            message.contains("settings.method must be \"POST\" (the default) or \"PUT\""),
            "{message}"
        );
    }

    #[test]
    fn headers_must_be_a_table_of_valid_names_and_single_line_strings() {
        let url = "http://h/";
        assert!(error(json!({ "url": url, "headers": ["a"] }))
            .contains("settings.headers must be a table"));
        assert!(error(json!({ "url": url, "headers": { "Bad Name": "x" } }))
            .contains("not a valid header name"));
        assert!(error(json!({ "url": url, "headers": { "X-A": 1 } }))
            .contains("settings.headers.X-A must be a string"));
        assert!(
            error(json!({ "url": url, "headers": { "X-A": "a\r\nX-Evil: 1" } }))
                .contains("line break")
        );
        assert!(
            error(json!({ "url": url, "headers": { "X-A": "1", "x-a": "2" } })).contains("twice")
        );
    }

    #[test]
    fn headers_the_plugin_sets_itself_are_refused() {
        for name in [
            "Content-Type",
            "idempotency-key",
            "X-Datasync-Signature",
            "Host",
        ] {
            let message = error(json!({ "url": "http://h/", "headers": { name: "x" } }));
            assert!(message.contains("the plugin sets it itself"), "{message}");
        }
    }

    #[test]
    fn secret_must_be_a_non_empty_string() {
        assert!(error(json!({ "url": "http://h/", "secret": "" })).contains("settings.secret"));
        assert!(error(json!({ "url": "http://h/", "secret": 7 })).contains("settings.secret"));
    }

    #[test]
    fn timeout_must_be_a_positive_number_of_seconds() {
        for bad in [json!(0), json!(-1), json!("10"), json!(null)] {
            let message = error(json!({ "url": "http://h/", "timeout_secs": bad }));
            assert!(
                message.contains("settings.timeout_secs must be a number of seconds"),
                "{message}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_refused_with_the_valid_ones() {
        let message = error(json!({ "url": "http://h/", "secrett": "x" }));
        assert!(
            message.contains("unknown setting settings.secrett"),
            "{message}"
        );
        assert!(message.contains("url, method, headers, secret, timeout_secs, link_template"));
    }

    #[test]
    fn link_templates_with_unknown_or_unclosed_placeholders_are_refused() {
        let message = error(json!({ "url": "http://h/", "link_template": "https://x/{id}" }));
        assert!(message.contains("unknown placeholder {id}"), "{message}");
        assert!(message.contains("{id_value}"), "{message}");
        let message = error(json!({ "url": "http://h/", "link_template": "https://x/{id_value" }));
        assert!(message.contains("without a closing"), "{message}");
    }
}
