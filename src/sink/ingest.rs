//! The ingest sink (client mode): an [`crate::AuditLogger`] configured with `endpoint` (the
//! Worker's `/v1/events` URL) and `token` (the user's JWT) posts its batches there instead of to
//! Neo4j. It is the "write one batch" step only, so batching, retries (the Worker's 503 and 429
//! carry `Retry-After`) and the durable queue of the logger apply unchanged.
//!
//! What is sent per event: `actionType`, `category`, `details`, `UID` (the Worker derives the
//! stored UID from it and the token's subject, so a retried batch is written once) and
//! `occurredAt` (the event's birth time, ms since the epoch: when the user acted, however long the
//! event then waited in a queue; the Worker stores it beside its own receive time). The user given
//! to `logUserAction` is not sent: the Worker takes the acting user from the token, and refuses a
//! body that names one.
//!

use crate::error::cat;
use std::borrow::Borrow;

use crate::config::Config;
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
use crate::config::{Key, Spelling};
use crate::error::AuditError;
use crate::event::AuditEvent;
use crate::json::{write_int, write_str, Json};
use crate::transport::{parse_retry_after, HttpRequest, HttpResponse, Transport};

/// Events per request to the Worker (its default `MAX_BATCH`); larger batches go in chunks.
pub(crate) const MAX_EVENTS_PER_REQUEST: usize = crate::rules::DEFAULT_MAX_BATCH;
/// Bound on a batch's bytes (the sum of its events' [`AuditEvent::json_len`], which is more than
/// each event's part of the request body: that counts chain fields and escapes a client-mode
/// body does not carry) so that its body stays within the Worker's default `MAX_BODY_BYTES`; the
/// room left is for the body's `{"events":[…]}`.
pub(crate) const MAX_BATCH_BYTES_PER_REQUEST: usize = crate::rules::DEFAULT_MAX_BODY_BYTES - 64;

/// Posts batches to the ingest Worker.
#[derive(Debug)]
pub(crate) struct IngestSink {
    transport: Transport,
    endpoint: String,
    /// `Bearer <the user's JWT>`; `Debug` shows `***`.
    auth: super::Auth,
    timeout_ms: u64,
}

impl IngestSink {
    pub(crate) fn new(endpoint: &str, auth: super::Auth, timeout_ms: u64) -> Self {
        IngestSink { transport: Transport::for_url(endpoint), endpoint: endpoint.to_owned(), auth, timeout_ms }
    }

    /// Posts `events` (in chunks of [`MAX_EVENTS_PER_REQUEST`]); `Ok` once the Worker answered
    /// 201 for every chunk.
    pub(crate) async fn write<E: Borrow<AuditEvent>>(&self, events: &[E]) -> Result<(), AuditError> {
        // The header of this moment (a switch while the chunks go does not mix them).
        let auth = self.auth.with(|a| a.map(str::to_owned));
        post_events(&self.transport, &self.endpoint, auth.as_deref(), self.timeout_ms, events).await
    }

    /// Sends with `t` instead (a client that trusts a private CA).
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn set_transport(&mut self, t: Transport) {
        self.transport = t;
    }

    /// This sink's HTTP client (the Rust API's driver sends with it).
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The request posting `events` (at most [`MAX_EVENTS_PER_REQUEST`]), for the delivery machine.
    pub(crate) fn request<E: Borrow<AuditEvent>>(&self, events: &[E]) -> HttpRequest {
        self.auth.with(|auth| events_request(&self.endpoint, auth, events))
    }

    pub(crate) fn auth(&self) -> &super::Auth {
        &self.auth
    }
}

/// The JSON body for `events`, written directly (`details` is already JSON text: it goes in as
/// the object it is).
pub(crate) fn request_body<E: Borrow<AuditEvent>>(events: &[E]) -> String {
    let mut out = String::with_capacity(events.iter().map(|e| e.borrow().json_len()).sum::<usize>() + 16);
    out.push_str("{\"events\":[");
    for (i, e) in events.iter().enumerate() {
        let e = e.borrow();
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"UID\":");
        write_str(&mut out, &e.uid);
        out.push_str(",\"actionType\":");
        write_str(&mut out, &e.action_type);
        out.push_str(",\"category\":");
        write_str(&mut out, &e.category);
        out.push_str(",\"occurredAt\":");
        write_int(&mut out, e.occurred_at.unwrap_or(e.ts));
        if let Some(d) = e.details.as_deref() {
            out.push_str(",\"details\":");
            out.push_str(d);
        }
        if !e.targets.is_empty() {
            out.push_str(",\"targets\":[");
            for (j, t) in e.targets.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push_str("{\"label\":");
                write_str(&mut out, &t.label);
                out.push_str(",\"uid\":");
                write_str(&mut out, &t.uid);
                if let Some(r) = t.role.as_deref() {
                    out.push_str(",\"role\":");
                    write_str(&mut out, r);
                }
                out.push('}');
            }
            out.push(']');
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// The request posting `events` (at most [`MAX_EVENTS_PER_REQUEST`]) to the Worker.
fn events_request<E: Borrow<AuditEvent>>(endpoint: &str, auth_header: Option<&str>, events: &[E]) -> HttpRequest {
    super::json_post(endpoint.to_owned(), None, auth_header, request_body(events))
}

async fn post_events<E: Borrow<AuditEvent>>(
    transport: &Transport,
    endpoint: &str,
    auth_header: Option<&str>,
    timeout_ms: u64,
    events: &[E],
) -> Result<(), AuditError> {
    for chunk in events.chunks(MAX_EVENTS_PER_REQUEST) {
        let req = events_request(endpoint, auth_header, chunk);
        let resp = transport.post(&req, timeout_ms).await?;
        interpret(&resp, chunk.len())?;
    }
    Ok(())
}

/// Added to a 404 or 405 that is not the Worker's own (`{"error": …}`): the `endpoint` names another
/// server or path — typically Neo4j itself, whose base URL is `url` in direct mode.
const NOT_THE_WORKER: &str = " (not an answer of the ingest Worker: endpoint must be its POST /v1/events URL; \
     Neo4j itself is given as url, with username and password)";

/// Added to a 400 or 422 that is not the Worker's own (`{"error": …}`): a server in front of it
/// answered, typically a proxy refusing the headers (nginx's `400 Request Header Or Cookie Too
/// Large` for a large token), which is no refusal of the events ([`not_the_workers_refusal`]).
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
const NOT_THE_WORKER_REFUSED: &str = " (not an answer of the ingest Worker: a server in front of it refused the \
     request, e.g. a proxy's header size limit and a large token; or endpoint is not the Worker's POST /v1/events URL)";

/// Added to a 413 that is not the Worker's own: a server in front of it limits the body's size.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
const NOT_THE_WORKER_TOO_LARGE: &str = " (not an answer of the ingest Worker: a server in front of it limits the \
     body's size, e.g. nginx's client_max_body_size: allow the Worker's MAX_BODY_BYTES, 256 KiB by default)";

/// The Worker's answer for a request of `sent` events: 201 with `accepted == sent` is success;
/// 401 and 403 (other than `forbidden`) are [`AuditError::Unauthorized`]; 400, 403 `forbidden`,
/// 413 and 422 are [`AuditError::Rejected`] (the events themselves, never retried), when they
/// are the Worker's JSON (see [`not_the_workers_refusal`] for another server's); the Worker's
/// own `500 store_error` / `misconfigured` are [`AuditError::Endpoint`] (not retried either);
/// anything else is [`AuditError::Http`] carrying the `Retry-After` (so 429 and 503 are retried,
/// as `error::retryable_status` says).
/// Out of line: the delivery machine's answer handler reads a direct-mode logger's answers too,
/// and V8 compiles a wasm function whole on its first call (inlined there, a direct-mode Worker's
/// first event compiled this for nothing).
#[inline(never)]
pub(crate) fn interpret(resp: &HttpResponse, sent: usize) -> Result<(), AuditError> {
    let body = crate::json::parse(&resp.body, 16).ok();
    let field = |k: &str| body.as_ref().and_then(|b| b.get(k)).and_then(Json::as_str).map(str::to_owned);
    let code = field("error");
    let reason = || match (field("error"), field("message")) {
        (Some(e), Some(m)) => cat(&[&e, ": ", &m]),
        (Some(e), None) => e,
        _ => crate::outcome::snippet(&resp.body),
    };
    match resp.status {
        201 => {
            let accepted = body.as_ref().and_then(|b| b.get("accepted")).and_then(Json::as_u64);
            if accepted == Some(sent as u64) {
                Ok(())
            } else {
                let (accepted, sent) = (crate::error::count_text(accepted), crate::error::num(sent as u64));
                Err(AuditError::UnexpectedResponse(cat(&[
                    "the endpoint accepted ",
                    &accepted,
                    " of ",
                    &sent,
                    " events",
                ])))
            }
        }
        // With the Worker's message ("unauthorized: token has expired"): which of the token
        // rules failed is what the caller needs to know, and the Worker never echoes the token.
        401 | 403 if code.as_deref() != Some("forbidden") => {
            // Not the Worker's JSON: another server refused the token, typically Neo4j given as
            // `endpoint` (its tx/commit or query URL, which refuses a JWT as bearer). A bare
            // "HTTP 401" sent the user after the token: that server's text and the hint, as a 404.
            let text = match code {
                Some(_) => reason(),
                None => match crate::outcome::snippet(&resp.body) {
                    s if s.is_empty() => NOT_THE_WORKER[2..NOT_THE_WORKER.len() - 1].to_owned(),
                    s => cat(&[&s, NOT_THE_WORKER]),
                },
            };
            let e = AuditError::Unauthorized { status: resp.status, code: Some(text) };
            // A redirect to another origin dropped the token (the Worker: "send Authorization").
            // (The Worker's own build has no client mode.)
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            let e = crate::outcome::redirected(e, resp, "endpoint");
            Err(e)
        }
        // (The Worker's own build has no client mode.)
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        400 | 413 | 422 if code.is_none() => Err(not_the_workers_refusal(resp)),
        400 | 403 | 413 | 422 => Err(AuditError::Rejected { status: resp.status, reason: reason() }),
        500 if matches!(code.as_deref(), Some("store_error" | "misconfigured")) => {
            Err(AuditError::Endpoint { status: resp.status, reason: reason() })
        }
        status => {
            let mut snippet = reason();
            if code.is_none() && matches!(status, 404 | 405) {
                snippet.push_str(NOT_THE_WORKER);
            }
            Err(AuditError::Http {
                status,
                snippet,
                retry_after_ms: resp.retry_after.as_deref().and_then(parse_retry_after),
            })
        }
    }
}

/// A 400, 413 or 422 whose body is not the Worker's JSON: a server in front of the Worker (a
/// proxy, a load balancer) answered, so the events were not judged. Found in use: nginx answers a
/// large Entra ID JWT with `400 Request Header Or Cookie Too Large` (HTML), and as a rejection
/// every event of that user went to the dead letters. A 400 or 422 is then
/// [`AuditError::Http`] (not retried; with the durable queue the events stay queued for the next
/// re-send), with that server's text and [`NOT_THE_WORKER_REFUSED`]. A 413 stays a rejection: it
/// is the body's size, so a batch of several is split in halves (each more likely to pass) and an
/// event too large alone for that server becomes a dead letter, its reason naming the limit
/// ([`NOT_THE_WORKER_TOO_LARGE`]): kept in the queue, it would be sent again, split out of its
/// batch-mates and refused, in every re-send round for as long as it waits.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
#[inline(never)]
fn not_the_workers_refusal(resp: &HttpResponse) -> AuditError {
    let status = resp.status;
    let hint = if status == 413 { NOT_THE_WORKER_TOO_LARGE } else { NOT_THE_WORKER_REFUSED };
    let text = match crate::outcome::snippet(&resp.body) {
        s if s.is_empty() => hint[1..].to_owned(),
        s => cat(&[&s, hint]),
    };
    if status == 413 {
        return AuditError::Rejected { status, reason: text };
    }
    AuditError::Http { status, snippet: text, retry_after_ms: None }
}

impl Config {
    /// Validation in client mode (`endpoint` set): the endpoint is an http(s) URL without
    /// credentials, `token` is set, and there is no Neo4j `url` or username/password (the Worker
    /// holds those). Every other field is checked as usual. Out of line: a direct-mode logger
    /// never runs it, and V8 compiles a wasm function whole on its first call (inlined into
    /// [`Config::validate`], with its copy of the config, it was compiled by every first logger).
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    #[inline(never)]
    pub(crate) fn validate_client_mode(&self, s: Spelling, endpoint: &str) -> Result<(), AuditError> {
        let bad = |m: &str| Err(AuditError::InvalidConfig(m.to_owned()));
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            // A path on the page's own server (a dev server proxying the Worker) said only "must
            // be an http or https URL". The Worker deployable never runs client mode (its size budget).
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            return bad(
                "endpoint must be an absolute http or https URL (in a page: new URL(path, location.href).href)",
            );
            #[cfg(all(target_arch = "wasm32", feature = "worker"))]
            return bad("endpoint must be an http or https URL");
        }
        if !self.url.is_empty() {
            return bad("endpoint and url are exclusive: in client mode the Worker holds the Neo4j URL");
        }
        let (token, basic) = (s.name(Key::Token), s.name(Key::Credentials));
        if self.username.is_some() || self.password.is_some() {
            return Err(AuditError::InvalidConfig(cat(&["endpoint (client mode) takes a ", token, ", not ", basic])));
        }
        if self.token.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(AuditError::InvalidConfig(cat(&[
                "endpoint (client mode) needs a ",
                token,
                " (the user's JWT)",
            ])));
        }
        // The rest, with the endpoint in the place of the URL (which also checks it parses and
        // carries no credentials, query or fragment). Its messages name `endpoint`, not `url`
        // (a user with no url set was told "url must not carry credentials"), as the Worker's
        // name NEO4J_URL.
        self.validate_as(s, endpoint, "endpoint", s.name(Key::AllowInsecureHttp)).map_err(|e| match e {
            AuditError::InvalidConfig(m) if m.starts_with("url must not carry credentials") => {
                AuditError::InvalidConfig(cat(&["endpoint must not carry credentials; the user's JWT goes in ", token]))
            }
            AuditError::InvalidConfig(m) if m.starts_with("url ") => {
                AuditError::InvalidConfig(cat(&["endpoint", &m[3..]]))
            }
            e => e,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn body(events: &[AuditEvent]) -> Value {
        serde_json::from_str(&request_body(events)).unwrap()
    }

    fn resp(status: u16, retry_after: Option<&str>, body: Value) -> HttpResponse {
        HttpResponse { moved_to: None, status, retry_after: retry_after.map(str::to_owned), body: body.to_string() }
    }

    #[test]
    fn body_carries_no_user() {
        let u = crate::User::new("someone").name("Some One");
        let e = AuditEvent::from_parts(Some(&u), "A", Some("C"), None, 10).unwrap();
        let b = body(std::slice::from_ref(&e));
        assert_eq!(b, json!({"events": [{"UID": e.uid, "actionType": "A", "category": "C", "occurredAt": e.ts}]}));
    }

    #[test]
    fn occurred_at_is_the_birth_time_even_for_an_old_queued_event() {
        let mut e = AuditEvent::from_parts(None, "A", None, None, 10).unwrap();
        e.ts = 1_700_000_000_000;
        e.occurred_at = None; // queued by a version without occurredAt
        assert_eq!(body(&[e])["events"][0]["occurredAt"], 1_700_000_000_000i64);
    }

    #[test]
    fn outcomes() {
        assert!(interpret(&resp(201, None, json!({"accepted": 2, "uids": []})), 2).is_ok());
        assert!(matches!(
            interpret(&resp(201, None, json!({"accepted": 1})), 2),
            Err(AuditError::UnexpectedResponse(_))
        ));
        let e = interpret(&resp(503, Some("5"), json!({"error": "unavailable", "message": "retry"})), 1).unwrap_err();
        assert!(e.is_retryable());
        assert_eq!(e.retry_after_ms(), Some(5000));
        assert!(interpret(&resp(429, Some("60"), json!({"error": "rate_limited"})), 1).unwrap_err().is_retryable());
        let e = interpret(&resp(401, None, json!({"error": "unauthorized", "message": "token has expired"})), 1)
            .unwrap_err();
        assert!(matches!(e, AuditError::Unauthorized { status: 401, .. }) && !e.is_retryable());
        // The Worker's message says which token rule failed (it was dropped: "HTTP 401 (unauthorized)").
        assert_eq!(e.to_string(), "authentication failed: HTTP 401 (unauthorized: token has expired)");
        // After a redirect to another origin (which dropped the token): that origin and `endpoint`.
        let mut r = resp(401, None, json!({"error": "unauthorized", "message": "send Authorization: Bearer <JWT>"}));
        r.moved_to = Some("https://ingest.example".into());
        assert_eq!(
            interpret(&r, 1).unwrap_err().to_string(),
            "authentication failed: HTTP 401 (unauthorized: send Authorization: Bearer <JWT>; the request was \
             redirected to another origin, https://ingest.example, which is sent no credentials (no Authorization \
             header): configure the final URL as endpoint)"
        );
        let e = interpret(&resp(413, None, json!({"error": "payload_too_large", "message": "big"})), 1).unwrap_err();
        assert!(!e.is_retryable() && e.is_rejection());
        assert!(e.to_string().contains("payload_too_large: big"), "{e}");
        let e = interpret(&resp(400, None, json!({"error": "bad_request", "message": "events[0]: actionType"})), 1)
            .unwrap_err();
        assert!(!e.is_retryable() && e.is_rejection(), "{e:?}");
        let e = interpret(&resp(403, None, json!({"error": "forbidden", "message": "category"})), 1).unwrap_err();
        assert!(e.is_rejection(), "{e:?}");
        // The Worker's own 500 store_error is not retried (a retry cannot cure it) nor dead-lettered.
        let e = interpret(&resp(500, None, json!({"error": "store_error", "message": "refused"})), 1).unwrap_err();
        assert!(!e.is_retryable() && !e.is_rejection(), "{e:?}");
        assert!(interpret(&resp(502, None, json!({})), 1).unwrap_err().is_retryable());
    }

    #[test]
    fn a_404_or_405_that_is_not_the_workers_says_endpoint_must_name_the_worker() {
        // An `endpoint` pointed at Neo4j itself (the Worker's `url` given as `endpoint`) got Neo4j's
        // JSON and nothing more: `HTTP 404: {"errors":[{"code":"Neo.ClientError.Request.Invalid",…`.
        let neo4j = json!({"errors": [{"code": "Neo.ClientError.Request.Invalid", "message": "Not Found"}]});
        for status in [404, 405] {
            let e = interpret(&resp(status, None, neo4j.clone()), 1).unwrap_err();
            assert!(!e.is_retryable() && !e.is_rejection(), "{e:?}");
            let text = e.to_string();
            assert!(text.starts_with(&format!("HTTP {status}: ")), "{text}");
            assert!(text.ends_with(NOT_THE_WORKER), "{text}");
        }
        let raw =
            |status: u16, body: &str| HttpResponse { moved_to: None, status, retry_after: None, body: body.into() };
        let e = interpret(&raw(404, "Cannot POST /v1/event"), 1).unwrap_err();
        assert!(e.to_string().ends_with(NOT_THE_WORKER), "{e}");
        // The Worker's own 404/405 (a wrong path on the right Worker) already says what to use.
        let e = interpret(
            &resp(404, None, json!({"error": "not_found", "message": "no such endpoint; use POST /v1/events"})),
            1,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "HTTP 404: not_found: no such endpoint; use POST /v1/events");
        let e =
            interpret(&resp(405, None, json!({"error": "method_not_allowed", "message": "use GET"})), 1).unwrap_err();
        assert_eq!(e.to_string(), "HTTP 405: method_not_allowed: use GET");
        // Other statuses keep their text.
        assert_eq!(interpret(&raw(502, "bad gateway"), 1).unwrap_err().to_string(), "HTTP 502: bad gateway");
    }

    #[test]
    fn a_401_or_403_that_is_not_the_workers_says_endpoint_must_name_the_worker() {
        // Found by a new user: `endpoint` set to Neo4j's tx/commit URL answered a bare
        // "authentication failed: HTTP 401", which sent them after their token, not the URL.
        let neo4j = json!({"errors": [{"code": "Neo.ClientError.Security.Unauthorized",
            "message": "Unsupported authentication token, scheme 'bearer' is not supported."}]});
        for status in [401, 403] {
            let e = interpret(&resp(status, None, neo4j.clone()), 1).unwrap_err();
            assert!(matches!(e, AuditError::Unauthorized { .. }) && !e.is_retryable(), "{e:?}");
            let text = e.to_string();
            assert!(text.starts_with(&format!("authentication failed: HTTP {status} ({{\"errors\"")), "{text}");
            assert!(text.contains("scheme 'bearer' is not supported"), "{text}");
            assert!(text.ends_with(&format!("{NOT_THE_WORKER})")), "{text}");
        }
        let empty = HttpResponse { moved_to: None, status: 401, retry_after: None, body: String::new() };
        assert_eq!(
            interpret(&empty, 1).unwrap_err().to_string(),
            "authentication failed: HTTP 401 (not an answer of the ingest Worker: endpoint must be its POST \
             /v1/events URL; Neo4j itself is given as url, with username and password)"
        );
        // The Worker's own 401 keeps its message alone (checked in `outcomes` too).
        let e =
            interpret(&resp(401, None, json!({"error": "unauthorized", "message": "token signature is invalid"})), 1)
                .unwrap_err();
        assert_eq!(e.to_string(), "authentication failed: HTTP 401 (unauthorized: token signature is invalid)");
    }

    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    /// nginx's answer to a request whose headers are over `large_client_header_buffers` (a large
    /// Entra ID JWT in `Authorization`), in front of the Worker.
    const NGINX_400: &str = "<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>\r\n\
        <body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>Request Header Or Cookie Too Large</center>\r\n\
        <hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    #[test]
    fn a_400_or_422_that_is_not_the_workers_is_no_rejection_of_the_events() {
        // Found in use: every event of a user with a large token went to the dead letters, as
        // "rejected by the endpoint (HTTP 400): <html>…", though the Worker never saw them.
        let raw =
            |status: u16, body: &str| HttpResponse { moved_to: None, status, retry_after: None, body: body.into() };
        for sent in [1, 3] {
            let e = interpret(&raw(400, NGINX_400), sent).unwrap_err();
            assert!(matches!(e, AuditError::Http { status: 400, .. }), "{e:?}");
            assert!(!e.is_rejection() && !e.is_retryable() && !e.splits_batch(), "{e:?}");
            let text = e.to_string();
            assert!(
                text.starts_with("HTTP 400: <html>  <head><title>400 Request Header Or Cookie Too Large"),
                "{text}"
            );
            assert!(text.ends_with(NOT_THE_WORKER_REFUSED), "{text}");
        }
        let e = interpret(&raw(422, "Unprocessable"), 1).unwrap_err();
        assert!(!e.is_rejection() && !e.is_retryable(), "{e:?}");
        assert_eq!(e.to_string(), ["HTTP 422: Unprocessable", NOT_THE_WORKER_REFUSED].concat());
        // Another server's JSON is not the Worker's either (no `error` string).
        let e = interpret(&resp(400, None, json!({"message": "Bad Request"})), 1).unwrap_err();
        assert!(matches!(e, AuditError::Http { status: 400, .. }), "{e:?}");
        // An empty body: the hint alone.
        assert_eq!(
            interpret(&raw(400, ""), 1).unwrap_err().to_string(),
            ["HTTP 400: ", &NOT_THE_WORKER_REFUSED[1..]].concat()
        );
        // A proxy's 413 is the body's size: still a rejection (a batch is split, an event too
        // large alone for that proxy is a dead letter), its reason naming the proxy's limit.
        let e = interpret(&raw(413, "<html><head><title>413 Request Entity Too Large</title></head></html>"), 1)
            .unwrap_err();
        assert!(matches!(e, AuditError::Rejected { status: 413, .. }) && e.is_rejection(), "{e:?}");
        let text = e.to_string();
        assert!(text.starts_with("rejected by the endpoint (HTTP 413): <html><head><title>413 Request"), "{text}");
        assert!(text.ends_with(NOT_THE_WORKER_TOO_LARGE), "{text}");
        // The Worker's own 400, 403 forbidden, 413 and 422 are rejections, with its reason alone.
        for (status, code) in
            [(400, "bad_request"), (403, "forbidden"), (413, "payload_too_large"), (422, "unprocessable")]
        {
            let e = interpret(&resp(status, None, json!({"error": code, "message": "m"})), 1).unwrap_err();
            assert_eq!(e, AuditError::Rejected { status, reason: format!("{code}: m") });
        }
    }

    #[test]
    fn client_mode_config() {
        let mut c = Config::new("");
        c.endpoint = Some("https://w.example/v1/events".into());
        assert!(c.validate().is_err(), "token required");
        c.token = Some("jwt".into());
        c.validate().unwrap();
        let mut both = c.clone();
        both.url = "http://127.0.0.1:7474".into();
        assert!(both.validate().is_err());
        let mut basic = c.clone();
        basic.token = None;
        basic.username = Some("neo4j".into());
        basic.password = Some("pw".into());
        assert!(basic.validate().is_err());
        let mut bad = c.clone();
        bad.endpoint = Some("ftp://w.example".into());
        assert!(bad.validate().is_err());
    }
}
