//! # The webhook provider
//!
//! A datasync provider that sends every synced object as one JSON document to an HTTP
//! endpoint of your own: the simplest way to feed a system datasync has no plugin for.
//!
//! Settings (the provider's `settings` table in `datasync.toml`; unknown keys are refused
//! so that a typo cannot silently turn off the signature):
//!
//! | key             | type                   | default  | effect |
//! |-----------------|------------------------|----------|--------|
//! | `url`           | string, **required**   | —        | `http://` or `https://` address every object is sent to |
//! | `method`        | `"POST"` or `"PUT"`    | `"POST"` | HTTP method |
//! | `headers`       | table of strings       | none     | extra request headers, e.g. `Authorization` |
//! | `secret`        | string                 | none     | key of the `X-Datasync-Signature` header; unsigned without it |
//! | `timeout_secs`  | number > 0             | `10`     | limit for one whole request (connect, send, answer) |
//! | `link_template` | string                 | none     | external link when the answer has none, with placeholders `{event}`, `{object_type}`, `{id_value}`, `{order_code}`, `{position_id}`, `{mapping_id}` (values percent-encoded) |
//!
//! Keep `timeout_secs` below the host's `call_timeout_secs` (default 60): a request the
//! host gives up on first is parked as `timeout` instead of being retried.
//!
//! ```toml
//! [[provider]]
//! identifier = "webhook"
//! settings = { url = "https://example.com/hooks/datasync", secret = "change me", headers = { Authorization = "Bearer …" } }
//! ```
//!
//! ## The request
//!
//! One request per object, with `Content-Type: application/json` and this body:
//!
//! ```json
//! {
//!   "provider": "webhook",
//!   "event": "dummy",
//!   "order_code": "1AAA",
//!   "position_id": null,
//!   "mapping_id": 1,
//!   "object_type": "contact",
//!   "external_id_field": "email",
//!   "id_value": "ada@example.com",
//!   "properties": [{ "field": "name", "value": "Ada", "mode": "overwrite" }]
//! }
//! ```
//!
//! `position_id` is set for `OrderPosition` mappings; `id_value` and each `value` are a
//! string, `true`/`false`, `null` or a list of strings; `mode` is pretix's update mode
//! (`overwrite`, `if_new`, `if_empty`, `append`), which the receiver applies.
//!
//! Headers:
//!
//! * `X-Datasync-Signature: sha256=<hex>` when `secret` is set: the HMAC-SHA256 of the
//!   exact body bytes under the secret. Receivers recompute it over the raw body (before
//!   any JSON parsing) and compare in constant time.
//! * `Idempotency-Key: <hex>`: SHA-256 over provider, object type, id value and the
//!   body. A retry of the same object sends the same key, so a receiver can drop
//!   duplicates of a request it already processed; a later sync of the same object
//!   with changed values gets a new key, so it is not mistaken for a duplicate.
//!
//! ## The answer
//!
//! * 2xx: synced. A JSON object may set `action` (default `create` for 201, else
//!   `update`; `nothing_to_do` writes no log entry), `external_link_href` and
//!   `external_link_display_name`; any other body is fine too.
//! * 408, 429, 5xx, a timeout or no connection: recoverable, retried by the host; a
//!   `Retry-After` (seconds or HTTP date) is passed on and consumes no attempt.
//! * 3xx: a config error naming the new address (redirects are not followed: they
//!   would drop the body or re-send it unsigned elsewhere).
//! * Any other status: permanent; the log's full message holds the status and the
//!   first 2000 characters of the body.
//!
//! Messages name only `scheme://host:port` of the URL, never its path or query, which
//! often carry a token.

use std::io::Read;
use std::time::SystemTime;

use datasync_plugin_api::serde_json::{self, json, Value as Json};
use datasync_plugin_api::{
    export_providers, EventContext, ObjectRequest, Provider, SyncError, SyncInfo,
};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

mod response;
mod settings;

use response::{classify, transport_error, Answer};
use settings::{Segment, Settings};

/// The provider's identifier.
pub const IDENTIFIER: &str = "webhook";
/// Header carrying `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "X-Datasync-Signature";
/// Header carrying the idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Bytes of an answer read at most. Enough for any sensible answer; an endless body
/// must not exhaust the host's memory.
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;

/// Sends each object as signed JSON to the configured URL; see the
/// [crate documentation](crate).
pub struct Webhook {
    settings: Settings,
    /// One agent per batch, so the objects of a batch share a kept-alive connection.
    agent: ureq::Agent,
    /// The event slug, sent with every object.
    event: String,
}

impl Provider for Webhook {
    const IDENTIFIER: &'static str = IDENTIFIER;
    const DISPLAY_NAME: &'static str = "Webhook (JSON over HTTP)";

    /// Validates the settings once per batch, so a bad one fails the batch up front with
    /// one `config` error instead of one failed request per order.
    fn new(event: &EventContext, settings: &Json) -> Result<Self, SyncError> {
        let settings = Settings::parse(settings)?;
        let agent = ureq::AgentBuilder::new()
            .timeout(settings.timeout)
            .redirects(0)
            .user_agent(concat!("datasync-webhook/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Webhook {
            settings,
            agent,
            event: event.slug.to_string(),
        })
    }

    fn sync_object(&mut self, request: &ObjectRequest<'_>) -> Result<Option<SyncInfo>, SyncError> {
        let body = body(request, &self.event);
        let method = self.settings.method.as_str();
        let mut http = self
            .agent
            .request(method, &self.settings.url)
            .set("Content-Type", "application/json")
            .set(IDEMPOTENCY_HEADER, &idempotency_key(request, &body));
        if let Some(secret) = &self.settings.secret {
            http = http.set(SIGNATURE_HEADER, &signature(secret, &body));
        }
        for (name, value) in &self.settings.headers {
            http = http.set(name, value);
        }
        let target = format!("{method} {}", self.settings.origin);
        let response = match http.send_bytes(&body) {
            // ureq reports 4xx and 5xx as errors; both are answers to classify.
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(error)) => {
                return Err(transport_error(&error, &target, self.settings.timeout))
            }
        };
        let status = response.status();
        let reason = response.status_text().to_string();
        let retry_after = response.header("retry-after").map(str::to_string);
        let location = response.header("location").map(str::to_string);
        let mut answer = Vec::new();
        // An unreadable body (cut connection, slow trickle past the timeout) does not
        // change what the status said; classify with what arrived.
        let _ = response
            .into_reader()
            .take(MAX_ANSWER_BYTES)
            .read_to_end(&mut answer);
        let accepted = classify(
            &Answer {
                status,
                reason: &reason,
                retry_after: retry_after.as_deref(),
                location: location.as_deref(),
                body: &answer,
            },
            &target,
            SystemTime::now(),
        )?;
        let mut info = SyncInfo::action(&accepted.action);
        let href = accepted.href.or_else(|| {
            let template = self.settings.link_template.as_ref()?;
            Some(render_link(template, request, &self.event))
        });
        if let Some(href) = href {
            let display_name = accepted.display_name.unwrap_or_else(|| {
                format!(
                    "{} {}",
                    request.mapping.external_object_type, request.id_value
                )
            });
            info = info.with_link(&href, &display_name);
        }
        Ok(Some(info))
    }
}

/// The request body: everything a receiver needs to upsert the object.
pub fn body(request: &ObjectRequest<'_>, event: &str) -> Vec<u8> {
    let properties: Vec<Json> = request
        .properties
        .iter()
        .map(|p| {
            json!({
                "field": p.external_field.as_str(),
                "value": p.value.to_json(),
                "mode": p.mode.as_str(),
            })
        })
        .collect();
    let document = json!({
        "provider": IDENTIFIER,
        "event": event,
        "order_code": order_code(request),
        "position_id": request.position_id.into_option(),
        "mapping_id": request.mapping.id,
        "object_type": request.mapping.external_object_type.as_str(),
        "external_id_field": request.external_id_field.as_str(),
        "id_value": request.id_value.to_json(),
        "properties": properties,
    });
    // Serialising a `Value` cannot fail; the fallback only keeps this function total.
    serde_json::to_vec(&document).unwrap_or_default()
}

/// The order's `code`, if the order JSON has one.
fn order_code(request: &ObjectRequest<'_>) -> Option<String> {
    request
        .order()
        .ok()?
        .get("code")?
        .as_str()
        .map(str::to_string)
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Hex SHA-256 of provider, object type, id value and the body's SHA-256, as a JSON
/// array so no value can run into the next. Stable across retries of one object; a
/// changed body (new values) yields a new key.
pub fn idempotency_key(request: &ObjectRequest<'_>, body: &[u8]) -> String {
    let parts = json!([
        IDENTIFIER,
        request.mapping.external_object_type.as_str(),
        request.id_value.to_json(),
        hex::encode(Sha256::digest(body)),
    ]);
    hex::encode(Sha256::digest(parts.to_string().as_bytes()))
}

/// Fills a parsed `link_template` for one object.
fn render_link(template: &[Segment], request: &ObjectRequest<'_>, event: &str) -> String {
    let mut link = String::new();
    for segment in template {
        match segment {
            Segment::Text(text) => link.push_str(text),
            Segment::Placeholder(name) => {
                let value = match *name {
                    "event" => event.to_string(),
                    "object_type" => request.mapping.external_object_type.to_string(),
                    "id_value" => match request.id_value.as_str() {
                        Some(s) => s.to_string(),
                        None => request.id_value.to_string(),
                    },
                    "order_code" => order_code(request).unwrap_or_default(),
                    "position_id" => request
                        .position_id
                        .into_option()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    "mapping_id" => request.mapping.id.to_string(),
                    _ => String::new(),
                };
                percent_encode(&value, &mut link);
            }
        }
    }
    link
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a value such
/// as an e-mail address or a name with a slash stays one path segment.
fn percent_encode(value: &str, out: &mut String) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

// Builds the library's root module: the one symbol the host looks up in libwebhook.so.
export_providers!(Webhook);

#[cfg(test)]
mod tests {
    use super::*;
    use datasync_plugin_api::{ErrorKind, Mapping, Mode, PretixModel, Property, Value};

    fn mapping() -> Mapping {
        Mapping {
            id: 3,
            pretix_model: PretixModel::OrderPosition,
            external_object_type: "attendee".into(),
            pretix_id_field: "attendee_email".into(),
            external_id_field: "email".into(),
            property_mappings: Vec::new().into(),
            extra_json: "{}".into(),
        }
    }

    /// Runs `f` with a request for position 42 of order ABC12.
    fn with_request<T>(
        id_value: &str,
        properties: &[Property],
        f: impl FnOnce(&ObjectRequest<'_>) -> T,
    ) -> T {
        let mapping = mapping();
        let id_value = Value::str(id_value);
        let request = ObjectRequest {
            external_id_field: "email".into(),
            id_value: &id_value,
            properties: properties.into(),
            mapping: &mapping,
            mapped_objects: (&[][..]).into(),
            order_json: r#"{"code": "ABC12"}"#.into(),
            position_id: Some(42).into(),
            position_json: None.into(),
        };
        f(&request)
    }

    fn properties() -> Vec<Property> {
        vec![
            Property::new("name", "Ada", Mode::Overwrite),
            Property::new("tags", Value::list(["a", "b"]), Mode::Append),
            Property::new("vip", true, Mode::IfNew),
        ]
    }

    #[test]
    fn the_body_carries_object_properties_and_context() {
        let body = with_request("ada@example.com", &properties(), |r| body(r, "dummy"));
        let json: Json = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            json,
            json!({
                "provider": "webhook",
                "event": "dummy",
                "order_code": "ABC12",
                "position_id": 42,
                "mapping_id": 3,
                "object_type": "attendee",
                "external_id_field": "email",
                "id_value": "ada@example.com",
                "properties": [
                    { "field": "name", "value": "Ada", "mode": "overwrite" },
                    { "field": "tags", "value": ["a", "b"], "mode": "append" },
                    { "field": "vip", "value": true, "mode": "if_new" },
                ],
            })
        );
    }

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
        // The widely published HMAC-SHA256 example vector.
        assert_eq!(
            signature("key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn the_idempotency_key_is_stable_for_the_same_request_and_changes_with_it() {
        let key = |id: &str, properties: &[Property]| {
            with_request(id, properties, |r| idempotency_key(r, &body(r, "dummy")))
        };
        let first = key("ada@example.com", &properties());
        assert_eq!(first, key("ada@example.com", &properties()));
        assert_eq!(first.len(), 64);
        assert_ne!(first, key("bob@example.com", &properties()));
        assert_ne!(first, key("ada@example.com", &properties()[..1]));
    }

    #[test]
    fn link_templates_are_filled_with_percent_encoded_values() {
        let template = settings::parse_template(
            "https://crm.example/{event}/{object_type}/{id_value}?o={order_code}&p={position_id}&m={mapping_id}",
        )
        .expect("valid template");
        let link = with_request("ada+1@example.com", &[], |r| {
            render_link(&template, r, "dummy")
        });
        assert_eq!(
            link,
            "https://crm.example/dummy/attendee/ada%2B1%40example.com?o=ABC12&p=42&m=3"
        );
    }

    #[test]
    fn bad_settings_fail_the_constructor_as_config() {
        let err = match Webhook::new(&EventContext::default(), &json!({ "method": "POST" })) {
            Ok(_) => panic!("a webhook without url must be refused"),
            Err(err) => err,
        };
        assert_eq!(err.kind, ErrorKind::Config);
        assert!(err
            .message()
            .starts_with("plugin webhook: settings.url is missing"));
    }

    #[test]
    fn no_listener_is_a_recoverable_error_naming_only_the_origin() {
        // Bind, note the port, close: nothing listens there any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let settings = json!({ "url": format!("http://127.0.0.1:{port}/hook?token=SECRET") });
        let mut webhook = Webhook::new(&EventContext::default(), &settings).expect("valid");
        let err = with_request("ada@example.com", &[], |r| webhook.sync_object(r))
            .expect_err("nobody listens");
        assert_eq!(err.kind, ErrorKind::Recoverable);
        assert!(
            err.message().starts_with(&format!(
                "plugin webhook: POST http://127.0.0.1:{port} failed"
            )),
            "{}",
            err.message()
        );
        let everything = format!("{err:?}");
        assert!(!everything.contains("SECRET"), "{everything}");
    }
}
