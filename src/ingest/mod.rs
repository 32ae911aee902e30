//! The ingest endpoint that a Cloudflare Worker serves: browsers `POST /v1/events` with a bearer
//! JWT, the Worker verifies it, checks the body, rate-limits the subject and writes the events
//! into Neo4j with the credentials only it holds. `GET /v1/health` checks Neo4j.
//!
//! Everything here is plain Rust, testable natively: [`handle`] takes the request's method, path
//! and headers, and reaches the outside world only through [`Io`] (body, rate limiter, log) and
//! [`Store`] (Neo4j). `crate::wasm::worker` adapts it to workerd's `Request`/`Response`.
//!
//! Status codes: 201 written; 200 health; 204 preflight; 400 bad JSON/shape; 401 missing or bad
//! token; 403 disallowed origin or a body naming a user; 404; 405; 413 body, batch or details too
//! large; 415 not JSON; 429 rate limited; 503 + `Retry-After` Neo4j unreachable; 500 misconfigured.
//! Every error body is `{"error": code, "message": text}` and never holds a secret.
//!
//! ```
//! use neo4j_audit::ingest::{Response, Settings};
//! let s = Settings::from_env(|k| match k {
//!     "ALLOWED_ORIGINS" => Some("https://app.example".into()),
//!     _ => None,
//! });
//! assert!(s.cors.allows("https://app.example"));
//! let r = Response::error(415, "unsupported_media_type", "send application/json");
//! assert_eq!(r.status, 415);
//! assert!(r.body.contains(r#""error":"unsupported_media_type""#));
//! ```
#![allow(async_fn_in_trait)]

pub mod body;
pub mod client;
pub mod cors;
pub mod jwt;

use serde_json::{json, Value};

use crate::config::Config;
use crate::error::AuditError;
use crate::event::{AuditEvent, User};
use crate::redact::Redactor;
use crate::AuditLogger;

use body::{BodyError, BodyLimits};
use cors::Cors;
use jwt::JwtRules;

/// Shortest accepted `AUDIT_JWT_SECRET`, in bytes (HS256 wants a key of at least 256 bits).
pub const MIN_SECRET_LEN: usize = 32;

/// The Worker's settings, read once per request from its environment (vars and secrets).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `None` when `AUDIT_JWT_SECRET` is missing or shorter than [`MIN_SECRET_LEN`].
    pub jwt: Option<JwtRules>,
    pub cors: Cors,
    pub limits: BodyLimits,
    /// `MAX_BODY_BYTES`, default 256 KiB.
    pub max_body_bytes: usize,
    /// `RETRY_AFTER_SECS` sent with 503, default 5.
    pub retry_after_secs: u32,
    /// `RATE_LIMIT_PERIOD_SECS` sent as `Retry-After` with 429, default 60 (the binding's period).
    pub rate_limit_period_secs: u32,
    /// The Neo4j configuration, or why there is none (never quoting a secret).
    pub neo4j: Result<Config, String>,
    /// `REDACT_KEYS` (comma separated; unset: the default list, empty: none) and `REDACT_MATCH`
    /// (`words`, the default, or `exact`): values under these keys in `details` are stored as
    /// `"[REDACTED]"`, as the client-side logger does.
    pub redactor: Redactor,
}

impl Settings {
    /// Reads `AUDIT_JWT_SECRET`, `JWT_AUDIENCE`, `JWT_ISSUER`, `JWT_CLOCK_SKEW_SECS`,
    /// `ALLOWED_ORIGINS`, `MAX_BODY_BYTES`, `MAX_BATCH`, `MAX_DETAILS_BYTES`, `MAX_DETAILS_DEPTH`,
    /// `RETRY_AFTER_SECS`, `RATE_LIMIT_PERIOD_SECS`, `NEO4J_URL`, `NEO4J_USER`, `NEO4J_PASSWORD`,
    /// `NEO4J_DATABASE`, `NEO4J_TIMEOUT_MS`, `AUDIT_TRAIL`, `REDACT_KEYS`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Settings {
        let text = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let num = |k: &str, d: u64| text(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(d);
        let jwt = get("AUDIT_JWT_SECRET").filter(|s| s.len() >= MIN_SECRET_LEN).map(|s| JwtRules {
            secret: s.into_bytes(),
            audience: text("JWT_AUDIENCE"),
            issuer: text("JWT_ISSUER"),
            leeway_secs: num("JWT_CLOCK_SKEW_SECS", 60).min(3600) as i64,
        });
        let d = BodyLimits::default();
        let limits = BodyLimits {
            max_batch: num("MAX_BATCH", d.max_batch as u64) as usize,
            max_details_bytes: num("MAX_DETAILS_BYTES", d.max_details_bytes as u64) as usize,
            max_details_depth: num("MAX_DETAILS_DEPTH", d.max_details_depth as u64) as usize,
        };
        let neo4j = match (text("NEO4J_URL"), get("NEO4J_USER"), get("NEO4J_PASSWORD")) {
            (Some(url), Some(u), Some(p)) => {
                let mut c = Config::new(url).basic_auth(u, p);
                if let Some(db) = text("NEO4J_DATABASE") {
                    c.database = db;
                }
                if let Some(t) = text("AUDIT_TRAIL") {
                    c.trail = t;
                }
                c.timeout_ms = num("NEO4J_TIMEOUT_MS", 8000);
                c.max_details_bytes = limits.max_details_bytes.max(1);
                // Config's messages name fields, never the password.
                c.validate().map(|_| c).map_err(|e| e.to_string())
            }
            _ => Err("NEO4J_URL, NEO4J_USER and NEO4J_PASSWORD must all be set".into()),
        };
        Settings {
            jwt,
            cors: Cors::parse(&get("ALLOWED_ORIGINS").unwrap_or_default()),
            limits,
            max_body_bytes: num("MAX_BODY_BYTES", 256 * 1024) as usize,
            retry_after_secs: num("RETRY_AFTER_SECS", 5).clamp(1, 3600) as u32,
            rate_limit_period_secs: num("RATE_LIMIT_PERIOD_SECS", 60).clamp(1, 3600) as u32,
            neo4j,
            redactor: {
                let mode = match text("REDACT_MATCH").as_deref() {
                    Some(m) if m.eq_ignore_ascii_case("exact") => crate::redact::Match::Exact,
                    _ => crate::redact::Match::Words,
                };
                match get("REDACT_KEYS") {
                    None => Redactor::from_config(None, mode),
                    Some(list) => Redactor::with_match(list.split(',').map(str::trim), mode),
                }
            },
        }
    }
}

/// An answer: status, headers, JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(status: u16, value: &Value) -> Response {
        Response {
            status,
            headers: vec![
                ("Content-Type".into(), "application/json; charset=utf-8".into()),
                ("Cache-Control".into(), "no-store".into()),
                ("X-Content-Type-Options".into(), "nosniff".into()),
                ("Vary".into(), "Origin".into()),
            ],
            body: value.to_string(),
        }
    }

    /// `{"error": code, "message": message}`.
    pub fn error(status: u16, code: &str, message: &str) -> Response {
        Response::json(status, &json!({ "error": code, "message": message }))
    }

    /// A bodiless answer (204).
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: vec![("Vary".into(), "Origin".into()), ("Cache-Control".into(), "no-store".into())],
            body: String::new(),
        }
    }

    pub fn with_header(mut self, k: &str, v: impl Into<String>) -> Response {
        self.headers.push((k.to_owned(), v.into()));
        self
    }

    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str())
    }
}

/// The parts of the incoming request the handler looks at (the body is read through [`Io`]).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str())
    }
}

/// Why the body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    TooLarge,
    Failed(String),
}

/// The platform: the request body, the rate limiter, the log.
pub trait Io {
    /// Reads the body as UTF-8, refusing more than `limit` bytes.
    async fn read_body(&self, limit: usize) -> Result<String, ReadError>;
    /// `Ok(true)` when `key` may proceed.
    async fn rate_limit(&self, key: &str) -> Result<bool, String>;
    /// One log line (already free of secrets).
    fn log(&self, line: &str);
}

/// Where events go.
pub trait Store {
    /// Writes all events in one transaction, or none.
    async fn write(&self, events: &[AuditEvent]) -> Result<(), AuditError>;
    /// A round trip to the database.
    async fn ping(&self) -> Result<(), AuditError>;
}

impl Store for AuditLogger {
    async fn write(&self, events: &[AuditEvent]) -> Result<(), AuditError> {
        AuditLogger::write(self, events).await
    }
    async fn ping(&self) -> Result<(), AuditError> {
        let st = crate::cypher::Statement { text: "RETURN 1 AS ok".into(), parameters: json!({}) };
        self.run(&st).await.map(|_| ())
    }
}

/// Serves one request. Never panics on input; every outcome is a [`Response`].
pub async fn handle<I: Io, S: Store>(
    req: &Request,
    settings: &Settings,
    now_secs: i64,
    io: &I,
    store: Option<&S>,
) -> Response {
    let origin = req.header("Origin");
    let cors = settings.cors.headers(origin);
    let mut resp = route(req, settings, now_secs, io, store).await;
    if resp.status != 204 || req.method != "OPTIONS" {
        resp.headers.extend(cors);
    }
    resp
}

async fn route<I: Io, S: Store>(
    req: &Request,
    settings: &Settings,
    now_secs: i64,
    io: &I,
    store: Option<&S>,
) -> Response {
    let origin = req.header("Origin");
    let known = matches!(req.path.as_str(), "/v1/events" | "/v1/health");
    if !known {
        return Response::error(404, "not_found", "no such endpoint; use POST /v1/events or GET /v1/health");
    }
    if req.method == "OPTIONS" {
        return preflight(req, settings);
    }
    // A browser on a foreign origin is refused before anything else happens (no CORS headers, so
    // it cannot even read this answer). Requests without Origin (servers, curl) pass on.
    if let Some(o) = origin {
        if !settings.cors.allows(o) {
            return Response::error(403, "forbidden_origin", "this origin is not allowed");
        }
    }
    match (req.path.as_str(), req.method.as_str()) {
        ("/v1/health", "GET") => health(req, settings, io, store).await,
        ("/v1/events", "POST") => ingest(req, settings, now_secs, io, store).await,
        ("/v1/health", _) => Response::error(405, "method_not_allowed", "use GET")
            .with_header("Allow", "GET, OPTIONS"),
        _ => Response::error(405, "method_not_allowed", "use POST")
            .with_header("Allow", "POST, OPTIONS"),
    }
}

fn preflight(req: &Request, settings: &Settings) -> Response {
    let Some(origin) = req.header("Origin") else {
        return Response::empty(204).with_header("Allow", cors::ALLOW_METHODS);
    };
    match settings.cors.preflight(
        origin,
        req.header("Access-Control-Request-Method"),
        req.header("Access-Control-Request-Headers"),
    ) {
        Some(h) => {
            let mut r = Response::empty(204);
            r.headers.extend(h);
            r
        }
        None => Response::error(403, "forbidden_origin", "preflight refused"),
    }
}

/// Unauthenticated, so it is rate-limited per client address (`CF-Connecting-IP`) to keep it from
/// being a way to load Neo4j.
async fn health<I: Io, S: Store>(req: &Request, settings: &Settings, io: &I, store: Option<&S>) -> Response {
    let Some(store) = store else { return misconfigured(settings, io) };
    let ip = req.header("CF-Connecting-IP").unwrap_or("unknown");
    if let Ok(false) = io.rate_limit(&format!("health:{ip}")).await {
        return Response::error(429, "rate_limited", "too many health checks; retry later")
            .with_header("Retry-After", settings.rate_limit_period_secs.to_string());
    }
    match store.ping().await {
        Ok(()) => Response::json(200, &json!({ "status": "ok", "neo4j": "ok" })),
        Err(e) => unavailable(settings, io, &e, "health"),
    }
}

async fn ingest<I: Io, S: Store>(
    req: &Request,
    settings: &Settings,
    now_secs: i64,
    io: &I,
    store: Option<&S>,
) -> Response {
    // 1. Who: only a verified token says.
    let Some(rules) = &settings.jwt else { return misconfigured(settings, io) };
    let token = match req.header("Authorization").and_then(|h| h.strip_prefix("Bearer ")) {
        Some(t) if !t.trim().is_empty() => t.trim(),
        _ => {
            return Response::error(401, "unauthorized", "send Authorization: Bearer <JWT>")
                .with_header("WWW-Authenticate", "Bearer")
        }
    };
    let who = match jwt::verify(token, rules, now_secs) {
        Ok(w) => w,
        Err(e) => {
            return Response::error(401, "unauthorized", &e.to_string())
                .with_header("WWW-Authenticate", r#"Bearer error="invalid_token""#)
        }
    };
    // 2. How often: per subject, by the platform's limiter (shared across isolates).
    match io.rate_limit(&format!("sub:{}", who.sub)).await {
        Ok(true) => {}
        Ok(false) => {
            return Response::error(429, "rate_limited", "too many requests for this user; retry later")
                .with_header("Retry-After", settings.rate_limit_period_secs.to_string())
        }
        Err(e) => {
            io.log(&format!("audit-ingest: rate limiter failed: {e}"));
            return Response::error(503, "unavailable", "rate limiter unavailable; retry later")
                .with_header("Retry-After", settings.retry_after_secs.to_string());
        }
    }
    // 3. What: JSON within bounds.
    let ct = req.header("Content-Type").unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Response::error(415, "unsupported_media_type", "Content-Type must be application/json");
    }
    if let Some(len) = req.header("Content-Length").and_then(|l| l.trim().parse::<u64>().ok()) {
        if len > settings.max_body_bytes as u64 {
            return too_large(settings);
        }
    }
    let text = match io.read_body(settings.max_body_bytes).await {
        Ok(t) => t,
        Err(ReadError::TooLarge) => return too_large(settings),
        Err(ReadError::Failed(m)) => {
            return Response::error(400, "bad_request", &format!("could not read the body: {m}"))
        }
    };
    let incoming = match body::parse_events(&text, &settings.limits) {
        Ok(v) => v,
        Err(BodyError::Invalid(m)) => return Response::error(400, "bad_request", &m),
        Err(BodyError::NamesUser(m)) => return Response::error(403, "forbidden", &m),
        Err(BodyError::TooLarge(m)) => return Response::error(413, "payload_too_large", &m),
    };
    let Some(store) = store else { return misconfigured(settings, io) };
    let user = User { uid: who.sub, name: who.name };
    // Tamper evidence: each accepted request is one hash-chained stream (seq 0..n-1). It commits
    // in one transaction or not at all, so a refused or failed write never leaves a false gap.
    let chain = crate::chain::Chain::new_stream();
    let mut events = Vec::with_capacity(incoming.len());
    for ev in incoming {
        match AuditEvent::from_parts(
            Some(&user),
            &ev.action_type,
            ev.category.as_deref(),
            settings.redactor.apply_json(ev.details),
            settings.limits.max_details_bytes,
        ) {
            Ok(mut e) => {
                if let Some(cu) = &ev.client_uid {
                    e.uid = body::stored_uid(&user.uid, cu);
                }
                events.push(e)
            }
            Err(e) => return Response::error(400, "bad_request", &e.to_string()),
        }
    }
    // Chained only once every event is valid and has its final UID (the hash covers it).
    for e in &mut events {
        chain.seal(e);
    }
    // 4. Write: one statement, one transaction; 201 only after Neo4j committed.
    match store.write(&events).await {
        Ok(()) => Response::json(
            201,
            &json!({
                "accepted": events.len(),
                "uids": events.iter().map(|e| e.uid.as_str()).collect::<Vec<_>>(),
            }),
        ),
        Err(e) => unavailable(settings, io, &e, "write"),
    }
}

fn too_large(settings: &Settings) -> Response {
    Response::error(
        413,
        "payload_too_large",
        &format!("the body is larger than {} bytes", settings.max_body_bytes),
    )
}

fn misconfigured<I: Io>(settings: &Settings, io: &I) -> Response {
    let why = match (&settings.jwt, &settings.neo4j) {
        (None, _) => format!("AUDIT_JWT_SECRET is missing or shorter than {MIN_SECRET_LEN} bytes"),
        (_, Err(e)) => e.clone(),
        _ => "unknown".into(),
    };
    io.log(&crate::error::scrub(&format!("audit-ingest: misconfigured: {why}"), &secret_refs(settings)));
    Response::error(500, "misconfigured", "the audit endpoint is not configured")
}

/// A failed write or ping. Anything a retry may cure (Neo4j unreachable, timeouts, 5xx,
/// transient errors) is 503 with `Retry-After`, so the browser's queue keeps the events; the rest
/// (e.g. the Worker's Neo4j credentials refused) is 500. The reason goes to the log, scrubbed.
fn unavailable<I: Io>(settings: &Settings, io: &I, e: &AuditError, what: &str) -> Response {
    let line = e.reason(&secret_refs(settings));
    io.log(&format!("audit-ingest: {what} failed: {line}"));
    if e.is_retryable() {
        Response::error(503, "unavailable", "the audit store is unavailable; retry later")
            .with_header("Retry-After", settings.retry_after_secs.to_string())
    } else {
        Response::error(500, "store_error", "the audit store refused the request")
    }
}

fn secret_refs(settings: &Settings) -> Vec<&str> {
    let mut v: Vec<&str> = Vec::new();
    if let Some(j) = &settings.jwt {
        if let Ok(s) = std::str::from_utf8(&j.secret) {
            v.push(s);
        }
    }
    if let Ok(c) = &settings.neo4j {
        v.extend(c.password.as_deref());
        v.extend(c.token.as_deref());
    }
    v
}
