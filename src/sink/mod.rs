//! Where events go, chosen once when the logger is built: Neo4j's HTTP API (direct mode) or the
//! ingest Worker (client mode, `endpoint`). Each sink owns its `Authorization` header and its
//! transport; the delivery machine above them batches, retries and queues the same way for both:
//! it asks the sink for a write's request ([`Sink::write_request`]) and what its answer means
//! ([`Sink::write_answer`]), and asks which sink it has only for what direct mode alone does (the
//! schema step, reads, the `pagehide` keepalive: [`Sink::neo4j`]).

mod ingest;
mod neo4j;

#[cfg(all(test, feature = "ingest", not(target_arch = "wasm32")))]
pub(crate) use self::ingest::request_body;
pub(crate) use self::ingest::IngestSink;
use self::neo4j::write_outcome;
pub(crate) use self::neo4j::Neo4jSink;
pub(crate) use self::neo4j::{
    blocks_constraint, in_place, schema_refused, schema_statement_done, schema_statement_failed,
};
#[cfg_attr(not(feature = "ingest"), allow(unused_imports))]
pub(crate) use self::neo4j::{guard_refused, is_refusal};

use crate::error::cat;
use std::borrow::Borrow;

use crate::config::Config;
use crate::error::AuditError;
use crate::event::AuditEvent;
use crate::transport::{HttpRequest, HttpResponse, Secret};

/// The `Authorization` value of a bearer token: the token without surrounding HTTP whitespace
/// (what `fetch` strips from a header value anyway; reqwest would refuse the header).
pub(crate) fn bearer_header(token: &str) -> String {
    cat(&["Bearer ", trim_http_ws(token)])
}

/// A sink's `Authorization` value and the secrets messages must never quote. Outside the Worker's
/// build (which has no setter: its size budget) [`crate::AuditLogger::set_credentials`] replaces
/// them on a live logger: a request takes the header of the moment it is made, so one already in
/// flight keeps the one it left with, and a retry made after the switch carries the new one.
/// `generation` counts the switches: the delivery machine tells by it a refusal of replaced
/// credentials (a request that left before the switch) from one of the current ones. `Debug`
/// shows `***`.
pub(crate) struct Auth {
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    held: std::sync::Mutex<Held>,
    #[cfg(all(target_arch = "wasm32", feature = "worker"))]
    held: Held,
}

/// What an [`Auth`] holds: the header, the secrets (the current credentials' first, `own` of
/// them, then those of the credentials they replaced, whose requests may still answer), and how
/// many times they were replaced.
struct Held {
    header: Option<Secret>,
    secrets: Vec<Secret>,
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    own: usize,
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    generation: u32,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Auth {
    pub(crate) fn new(header: Option<Secret>, secrets: Vec<Secret>) -> Auth {
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        let held = std::sync::Mutex::new(Held { header, own: secrets.len(), secrets, generation: 0 });
        #[cfg(all(target_arch = "wasm32", feature = "worker"))]
        let held = Held { header, secrets };
        Auth { held }
    }

    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(all(target_arch = "wasm32", feature = "worker"))]
    fn held(&self) -> &Held {
        &self.held
    }

    /// `f` of the current `Authorization` value.
    pub(crate) fn with<R>(&self, f: impl FnOnce(Option<&str>) -> R) -> R {
        f(self.held().header.as_ref().map(Secret::expose))
    }

    /// The secrets messages must never quote: the current credentials' and those they replaced.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut v = Vec::new();
        for s in &self.held().secrets {
            v.push(s.expose().to_owned());
        }
        v
    }

    /// How many times the credentials were replaced.
    pub(crate) fn generation(&self) -> u32 {
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        return self.held().generation;
        #[cfg(all(target_arch = "wasm32", feature = "worker"))]
        0
    }

    /// New credentials: their header and secrets; the secrets of those they replace are kept
    /// (one generation: a request of theirs may still answer, quoting them), older ones dropped.
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    pub(crate) fn set(&self, header: Option<Secret>, secrets: Vec<String>) {
        let mut h = self.held();
        let own = h.own.min(h.secrets.len());
        let before: Vec<Secret> = h.secrets.drain(..own).collect();
        h.secrets.clear();
        for s in secrets {
            h.secrets.push(Secret::new(s));
        }
        h.own = h.secrets.len();
        h.secrets.extend(before);
        h.header = header;
        h.generation = h.generation.wrapping_add(1);
    }
}

/// The `Authorization` value of a validated configuration's credentials, if any.
pub(crate) fn auth_header(config: &Config) -> Option<Secret> {
    match (&config.username, &config.password, &config.token) {
        (Some(_), Some(_), None) => config.basic_credential().map(|b| Secret::new(cat(&["Basic ", &b]))),
        (None, None, Some(t)) => Some(Secret::new(bearer_header(t))),
        _ => None,
    }
}

/// A JSON POST of `body` to `url` (both sinks' requests): JSON `Content-Type` and `Accept`, then
/// `extra`, then `Authorization` when there is one.
fn json_post(url: String, extra: Option<(&str, &str)>, auth: Option<&str>, body: String) -> HttpRequest {
    let mut headers = Vec::with_capacity(4);
    headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    headers.push(("Accept".to_owned(), "application/json".to_owned()));
    if let Some((k, v)) = extra {
        headers.push((k.to_owned(), v.to_owned()));
    }
    if let Some(a) = auth {
        headers.push(("Authorization".to_owned(), a.to_owned()));
    }
    HttpRequest { url, headers, body }
}

/// `s` without HTTP's optional whitespace (space, tab) and the line ends a token read from a file
/// keeps (CR, LF) around it. A byte scan: `str::trim_matches` with a `[char; 4]` pattern brought
/// core's char-pattern searcher into the .wasm for two calls.
pub(crate) fn trim_http_ws(s: &str) -> &str {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let b = s.as_bytes();
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |i| i + 1);
    // ASCII bytes end and start at char boundaries: `get` never fails here.
    s.get(start..end).unwrap_or_default()
}

/// Client mode's sink, made out of line: a direct-mode logger's constructor never runs it, and
/// V8 compiles a wasm function whole on its first call (a Worker's cold start, bench/coldstart.mjs).
#[inline(never)]
fn ingest_sink(endpoint: &str, auth: Auth, timeout_ms: u64) -> Sink {
    Sink::Ingest(IngestSink::new(endpoint, auth, timeout_ms))
}

/// The ingest sink's write behind a pointer on wasm: its state machine is then a function of its
/// own, which a direct-mode logger's first event never compiles (inlined, it was part of the
/// Neo4j write's state machine). One allocation per client-mode request.
#[cfg(target_arch = "wasm32")]
#[inline(never)]
fn ingest_write<'a, E: Borrow<AuditEvent>>(
    s: &'a IngestSink,
    events: &'a [E],
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), AuditError>> + 'a>> {
    Box::pin(s.write(events))
}

#[cfg(not(target_arch = "wasm32"))]
async fn ingest_write<E: Borrow<AuditEvent>>(s: &IngestSink, events: &[E]) -> Result<(), AuditError> {
    s.write(events).await
}

/// One of the two sinks.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per logger, never moved in a hot path: no box needed
pub(crate) enum Sink {
    Neo4j(Neo4jSink),
    Ingest(IngestSink),
}

impl Sink {
    /// The sink a validated configuration asks for.
    pub(crate) fn for_config(config: &Config) -> Sink {
        // A loop, not map + collect: one generic instance fewer in a Worker's first logger.
        let mut secrets = Vec::new();
        for s in config.secrets() {
            secrets.push(Secret::new(s));
        }
        let auth = Auth::new(auth_header(config), secrets);
        // (Not in the Worker's build: its configuration is direct mode, `ingest::Settings` builds
        // it and sets no endpoint; the client-mode sink's code is then left out of its .wasm.)
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        if let Some(endpoint) = &config.endpoint {
            return ingest_sink(endpoint, auth, config.timeout_ms);
        }
        Sink::Neo4j(Neo4jSink::new(config, auth))
    }

    /// The `Authorization` header and the secrets of this sink's credentials.
    pub(crate) fn auth(&self) -> &Auth {
        match self {
            Sink::Neo4j(s) => s.auth(),
            Sink::Ingest(s) => s.auth(),
        }
    }

    /// Most events one request may carry, when the sink has such a bound (client mode: the
    /// Worker's `MAX_BATCH`, which the client sends in chunks of); the machine keeps batches
    /// within it, so one batch is one request and concurrent batches are concurrent requests.
    pub(crate) fn max_events_per_request(&self) -> Option<usize> {
        match self {
            Sink::Ingest(_) => Some(ingest::MAX_EVENTS_PER_REQUEST),
            Sink::Neo4j(_) => None,
        }
    }

    /// Most bytes one batch may have (the sum of its events' `json_len`), when the sink has
    /// such a bound (client mode: the Worker's `MAX_BODY_BYTES`).
    pub(crate) fn max_batch_bytes_per_request(&self) -> Option<usize> {
        match self {
            Sink::Ingest(_) => Some(ingest::MAX_BATCH_BYTES_PER_REQUEST),
            Sink::Neo4j(_) => None,
        }
    }

    /// Writes one batch (direct mode: into `trail`, else the configured one; with the schema
    /// guard when `guard`): committed (`Ok`) or a typed failure.
    pub(crate) async fn write<E: Borrow<AuditEvent>>(
        &self,
        trail: Option<&str>,
        events: &[E],
        guard: bool,
    ) -> Result<(), AuditError> {
        if events.is_empty() {
            return Ok(());
        }
        match self {
            Sink::Neo4j(s) => s.write_to(trail.unwrap_or(s.trail()), events, guard).await,
            Sink::Ingest(s) => ingest_write(s, events).await,
        }
    }

    /// The request that writes `events` (at most [`Sink::max_events_per_request`]) into the
    /// configured trail, for the delivery machine (direct mode: with the schema guard when
    /// `guard`); `None` when the labels are not identifiers.
    pub(crate) fn write_request<E: Borrow<AuditEvent>>(&self, events: &[E], guard: bool) -> Option<HttpRequest> {
        match self {
            Sink::Neo4j(s) => s.write_request_guarded(s.trail(), events, guard),
            Sink::Ingest(s) => Some(s.request(events)),
        }
    }

    /// The answer to [`Sink::write_request`]'s request for `events`: committed (`Ok`) or a typed
    /// failure.
    pub(crate) fn write_answer<E: Borrow<AuditEvent>>(
        &self,
        resp: &HttpResponse,
        events: &[E],
    ) -> Result<(), AuditError> {
        match self {
            Sink::Neo4j(s) => s.answer(resp).and_then(|rows| write_outcome(&rows, events)),
            Sink::Ingest(_) => ingest::interpret(resp, events.len()),
        }
    }

    /// Sends with `t` instead of the sink's own client.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn set_transport(&mut self, t: crate::transport::Transport) {
        match self {
            Sink::Neo4j(s) => s.set_transport(t),
            Sink::Ingest(s) => s.set_transport(t),
        }
    }

    /// The HTTP client of this sink (the Rust API's driver sends with it).
    pub(crate) fn transport(&self) -> &crate::transport::Transport {
        match self {
            Sink::Neo4j(s) => s.transport(),
            Sink::Ingest(s) => s.transport(),
        }
    }

    /// The ingest sink, in client mode.
    pub(crate) fn ingest(&self) -> Option<&IngestSink> {
        match self {
            Sink::Ingest(s) => Some(s),
            Sink::Neo4j(_) => None,
        }
    }

    /// The Neo4j sink, for what only direct mode can do (schema, reads, keepalive requests).
    pub(crate) fn neo4j(&self) -> Result<&Neo4jSink, AuditError> {
        match self {
            Sink::Neo4j(s) => Ok(s),
            Sink::Ingest(_) => Err(AuditError::InvalidInput(
                "not available in client mode (endpoint set): the Worker only ingests".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    /// The byte scan trims what `trim_matches([' ', '\t', '\r', '\n'])` trimmed, and nothing else
    /// (other white space, such as a no-break space, stays: the token's checks refuse it).
    #[test]
    fn trim_http_ws_is_trim_matches_of_http_whitespace() {
        for s in ["", " ", "\t\r\n", "tok", " tok ", "\r\ntok\n", "a b", " \u{a0}tok\u{a0} ", "é\t", "\u{2003}x"] {
            assert_eq!(super::trim_http_ws(s), s.trim_matches([' ', '\t', '\r', '\n']), "{s:?}");
        }
    }
}
