//! The webhook plugin end to end: the real `datasync` binary loads the real `webhook`
//! library through the ABI, and the library talks HTTP to a small server each test runs
//! on 127.0.0.1 with scripted answers. The server records every request so the tests can
//! check what went over the wire: body, headers, signature, idempotency key.
//!
//! Each server stops when its test ends (or after [`SERVER_LIFETIME`] at the latest), and
//! every test stays well under ten seconds.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use datasync_tests::{fixture, Sandbox};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// Two orders of event `dummy`: 1AAA and 2EEE.
const ORDERS: &str = "spec-7/initial.json";

/// Upper bound on a test server's life, in case a test never drops it.
const SERVER_LIFETIME: Duration = Duration::from_secs(60);

/// One scripted answer.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    reason: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
    /// Wait this long before answering.
    delay: Duration,
}

impl Reply {
    fn new(status: u16, reason: &'static str) -> Reply {
        Reply {
            status,
            reason,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    fn body(mut self, body: impl Into<String>) -> Reply {
        self.body = body.into();
        self
    }

    fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// One request as the server received it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    fn order_code(&self) -> String {
        self.json()["order_code"]
            .as_str()
            .expect("order_code")
            .to_string()
    }
}

/// What the accept loop shares with the connection threads.
struct State {
    script: Vec<Reply>,
    then: Reply,
    received: Mutex<Vec<Received>>,
}

/// A minimal HTTP/1.1 server: one request per connection, answered `Connection: close`.
/// The n-th request gets `script[n]`, every later one `then`.
struct Server {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    fn start(script: Vec<Reply>, then: Reply) -> Server {
        // Build the plugins and binary first: the first build can take minutes, which
        // must not count against the server's lifetime.
        datasync_tests::artifacts();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        // Non-blocking accept, so the loop can notice `stop` and the deadline.
        listener.set_nonblocking(true).expect("non-blocking");
        let state = Arc::new(State {
            script,
            then,
            received: Mutex::new(Vec::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + SERVER_LIFETIME;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let state = state.clone();
                            // One thread per connection: a slow answer must not hold
                            // up the next request.
                            std::thread::spawn(move || serve(stream, &state));
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        Server {
            addr,
            state,
            stop,
            accept: Some(accept),
        }
    }

    /// A server answering every request with `reply`.
    fn always(reply: Reply) -> Server {
        Server::start(Vec::new(), reply)
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.state
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Reads one request, records it, answers with the scripted reply.
fn serve(stream: TcpStream, state: &State) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    let reply = {
        let mut received = state
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        received.push(request);
        state
            .script
            .get(received.len() - 1)
            .unwrap_or(&state.then)
            .clone()
    };
    std::thread::sleep(reply.delay);
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n",
        reply.status,
        reply.reason,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    // The client may have given up (timeout test); a failed write is expected then.
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(reply.body.as_bytes()))
        .and_then(|()| stream.flush());
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, path) = (words.next()?.to_string(), words.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}

/// A port nothing listens on: bound, noted, released.
fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A sandbox with the webhook plugin, one Order mapping (id = order code, e-mail as
/// property) and the two orders imported.
fn sandbox(settings: &str) -> Sandbox {
    let sandbox = Sandbox::with_plugins(&["webhook"]);
    sandbox.write_config(&format!(
        r#"
[[provider]]
identifier = "webhook"
settings = {{ {settings} }}

[[provider.mapping]]
id = 1
model = "Order"
external_object_type = "order"
pretix_id_field = "order_code"
external_id_field = "code"
properties = [{{ pretix_field = "email", external_field = "email" }}]
"#
    ));
    let file = fixture(ORDERS);
    sandbox.ok(&["import", file.to_str().expect("utf-8 path")]);
    sandbox
}

fn run_once(sandbox: &Sandbox) -> (i32, Value) {
    let out = sandbox.run(&["run", "--once", "--json"]);
    (out.code, out.json())
}

fn results(sandbox: &Sandbox, order: &str) -> Vec<Value> {
    let out = sandbox.ok(&["results", "--event", "dummy", "--order", order, "--json"]);
    out.json()["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn a_2xx_answer_is_a_success_that_records_the_link_from_the_answer() {
    let server = Server::always(
        Reply::new(201, "Created").body(
            json!({
                "action": "create",
                "external_link_href": "https://crm.example/orders/42",
                "external_link_display_name": "Order in the CRM",
            })
            .to_string(),
        ),
    );
    let sandbox = sandbox(&format!(
        r#"url = "{}", method = "PUT", headers = {{ Authorization = "Bearer t0ken" }}"#,
        server.url()
    ));

    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["succeeded"], 2, "{summary}");
    assert!(sandbox.queue().is_empty());
    let results = results(&sandbox, "1AAA");
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(
        results[0]["external_link_href"],
        "https://crm.example/orders/42"
    );
    assert_eq!(results[0]["external_link_display_name"], "Order in the CRM");

    let received = server.received();
    assert_eq!(received.len(), 2, "one request per order");
    for request in &received {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("PUT", "/hook")
        );
        assert_eq!(request.header("authorization"), Some("Bearer t0ken"));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            request.header("x-datasync-signature"),
            None,
            "no secret, no signature"
        );
        assert!(request
            .header("idempotency-key")
            .is_some_and(|k| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit())));
        let body = request.json();
        let code = request.order_code();
        assert_eq!(
            (
                &body["provider"],
                &body["event"],
                &body["mapping_id"],
                &body["object_type"],
                &body["external_id_field"],
                &body["id_value"],
                &body["position_id"],
            ),
            (
                &json!("webhook"),
                &json!("dummy"),
                &json!(1),
                &json!("order"),
                &json!("code"),
                &json!(code),
                &Value::Null,
            ),
            "{body}"
        );
        let properties = body["properties"].as_array().expect("properties");
        assert_eq!(properties.len(), 1, "{body}");
        assert_eq!(properties[0]["field"], "email");
        assert_eq!(properties[0]["mode"], "overwrite");
        assert!(properties[0]["value"]
            .as_str()
            .is_some_and(|e| e.contains('@')));
    }
    let mut codes: Vec<String> = received.iter().map(Received::order_code).collect();
    codes.sort();
    assert_eq!(codes, ["1AAA", "2EEE"]);
}

#[test]
fn http_429_with_retry_after_snoozes_the_jobs_without_counting_an_attempt() {
    let limited = Reply::new(429, "Too Many Requests").header("Retry-After", "1");
    let server = Server::start(vec![limited.clone(), limited], Reply::new(200, "OK"));
    let sandbox = sandbox(&format!(r#"url = "{}""#, server.url()));

    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0, "a snooze is not a problem: {summary}");
    assert_eq!(summary["snoozed"], 2, "{summary}");
    let queue = sandbox.queue();
    assert_eq!(queue.len(), 2);
    for job in &queue {
        assert_eq!(
            (&job["state"], &job["attempts"], &job["snoozes"]),
            (&json!("scheduled"), &json!(0), &json!(1)),
            "{job}"
        );
        assert!(
            job["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("answered HTTP 429")),
            "{job}"
        );
    }

    // Once the second has passed, the jobs are due again and the server accepts them.
    std::thread::sleep(Duration::from_millis(1200));
    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["succeeded"], 2, "{summary}");
    assert!(sandbox.queue().is_empty());
    assert_eq!(server.received().len(), 4);
}

#[test]
fn http_500_is_retried_with_backoff_and_the_retry_sends_the_same_idempotency_key() {
    let server = Server::start(
        vec![Reply::new(500, "Internal Server Error").body("database down")],
        Reply::new(200, "OK").body("{}"),
    );
    let sandbox = sandbox(&format!(r#"url = "{}""#, server.url()));

    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 1, "a retrying job is a problem: {summary}");
    assert_eq!(
        (&summary["retried"], &summary["succeeded"]),
        (&json!(1), &json!(1))
    );
    let failed_order = server.received()[0].order_code();
    let queue = sandbox.queue();
    assert_eq!(queue.len(), 1, "{queue:?}");
    let job = &queue[0];
    // The host's default backoff (about 30 s) applies: the plugin sets no delay.
    assert_eq!(
        (&job["order"], &job["state"], &job["attempts"]),
        (&json!(failed_order), &json!("scheduled"), &json!(1)),
        "{job}"
    );
    assert!(
        job["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("answered HTTP 500 Internal Server Error")),
        "{job}"
    );

    let id = job["id"].to_string();
    sandbox.ok(&["retry", &id]);
    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["succeeded"], 1, "{summary}");
    assert!(sandbox.queue().is_empty());
    assert_eq!(results(&sandbox, &failed_order).len(), 1);

    let received = server.received();
    assert_eq!(received.len(), 3);
    let keys_of = |order: &str| -> Vec<String> {
        received
            .iter()
            .filter(|r| r.order_code() == order)
            .filter_map(|r| r.header("idempotency-key").map(str::to_string))
            .collect()
    };
    let retried = keys_of(&failed_order);
    assert_eq!(retried.len(), 2, "first try and retry");
    assert_eq!(retried[0], retried[1], "a retry resends the same key");
    let other = if failed_order == "1AAA" {
        "2EEE"
    } else {
        "1AAA"
    };
    assert_ne!(
        keys_of(other),
        [retried[0].clone()],
        "another object, another key"
    );
}

#[test]
fn http_400_parks_the_jobs_as_permanent_with_status_and_body_in_the_log() {
    let server = Server::always(
        Reply::new(400, "Bad Request").body(r#"{"error": "email is not allowed here"}"#),
    );
    let sandbox = sandbox(&format!(r#"url = "{}""#, server.url()));

    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 1, "{summary}");
    assert_eq!(summary["parked"], 2, "{summary}");
    for job in sandbox.queue() {
        assert_eq!(
            (&job["state"], &job["failure_mode"], &job["attempts"]),
            (&json!("parked"), &json!("permanent"), &json!(0)),
            "{job}"
        );
    }
    let log = sandbox.log();
    assert_eq!(log.len(), 2, "{log:?}");
    for entry in &log {
        assert_eq!(entry["data"]["provider"], "webhook", "{entry}");
        assert_eq!(
            entry["full_message"],
            "HTTP 400 Bad Request\n{\"error\": \"email is not allowed here\"}",
            "{entry}"
        );
        assert!(
            entry["messages"].to_string().contains(&format!(
                "plugin webhook: POST http://{} answered HTTP 400 Bad Request",
                server.addr
            )),
            "{entry}"
        );
    }
    assert_eq!(
        server.received().len(),
        2,
        "a permanent error is not retried"
    );
}

#[test]
fn an_answer_slower_than_timeout_secs_is_retried_later() {
    let server = Server::always(Reply::new(200, "OK").delay(Duration::from_secs(3)));
    let sandbox = sandbox(&format!(r#"url = "{}", timeout_secs = 1"#, server.url()));

    let started = Instant::now();
    let (code, summary) = run_once(&sandbox);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "two requests of at most a second each took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 1, "{summary}");
    assert_eq!(summary["retried"], 2, "{summary}");
    for job in sandbox.queue() {
        assert_eq!(
            (&job["state"], &job["failure_mode"], &job["attempts"]),
            (&json!("scheduled"), &Value::Null, &json!(1)),
            "{job}"
        );
        assert!(
            job["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("no answer within settings.timeout_secs = 1")),
            "{job}"
        );
    }
    assert_eq!(server.received().len(), 2, "the requests did arrive");
}

#[test]
fn a_refused_connection_is_retried_later() {
    let port = dead_port();
    let sandbox = sandbox(&format!(r#"url = "http://127.0.0.1:{port}/hook""#));

    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 1, "{summary}");
    assert_eq!(summary["retried"], 2, "{summary}");
    for job in sandbox.queue() {
        assert_eq!(
            (&job["state"], &job["attempts"]),
            (&json!("scheduled"), &json!(1)),
            "{job}"
        );
        assert!(
            job["last_error"]
                .as_str()
                .is_some_and(|e| e.contains(&format!(
                    "plugin webhook: POST http://127.0.0.1:{port} failed"
                ))),
            "{job}"
        );
    }
}

#[test]
fn the_signature_is_the_hmac_sha256_of_the_exact_received_body() {
    let secret = "shared secret, ünïcode too";
    let server = Server::always(Reply::new(204, "No Content"));
    let sandbox = sandbox(&format!(r#"url = "{}", secret = "{secret}""#, server.url()));

    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 0, "{summary}");
    let received = server.received();
    assert_eq!(received.len(), 2);
    for request in &received {
        let signature = request
            .header("x-datasync-signature")
            .expect("signed when a secret is set");
        assert_eq!(
            signature,
            format!("sha256={}", hmac_hex(secret, &request.body)),
            "{}",
            String::from_utf8_lossy(&request.body)
        );
        assert_ne!(
            signature,
            format!("sha256={}", hmac_hex("another secret", &request.body)),
            "the check must depend on the secret"
        );
    }
}

#[test]
fn unusable_settings_park_the_jobs_as_config_naming_the_setting() {
    let sandbox = sandbox(&format!(
        r#"url = "http://127.0.0.1:{}/hook", method = "DELETE""#,
        dead_port()
    ));

    let (code, summary) = run_once(&sandbox);
    assert_eq!(code, 1, "{summary}");
    for job in sandbox.queue() {
        assert_eq!(job["failure_mode"], "config", "{job}");
        assert!(
            job["last_error"].as_str().is_some_and(|e| e.contains(
                "plugin webhook: settings.method must be \"POST\" (the default) or \"PUT\""
            )),
            "{job}"
        );
    }
}
