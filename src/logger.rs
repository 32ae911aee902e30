//! [`AuditLogger`]: event → statement → request → outcome, for Rust callers. The wasm shell wraps
//! this same type.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use base64::Engine as _;

use crate::batch::Batcher;
use crate::chain::{Chain, StreamState};
use crate::config::Config;
use crate::cypher::{self, Statement};
use crate::error::AuditError;
use crate::event::{AuditEvent, User};
use crate::outcome::{self, Rows};
use crate::redact::Redactor;
use crate::retry;
use crate::stats::{Stats, StatsSnapshot};
use crate::transport::{HttpRequest, Secret, Transport};

/// Neo4j's code for an authenticated user that lacks a privilege.
const FORBIDDEN: &str = "Neo.ClientError.Security.Forbidden";

/// Writes audit events into Neo4j.
///
/// ```no_run
/// # async fn demo() {
/// use neo4j_audit::{AuditLogger, Config, User};
/// let logger = AuditLogger::new(
///     Config::new("http://127.0.0.1:7474").basic_auth("neo4j", "neo4j-audit-dev"),
/// ).expect("valid config");
/// let user = User::new("user-123", Some("John Doe"));
/// let details = serde_json::json!({"document_id": "doc-456"});
/// let ok = logger.log_user_action(Some(&user), "DOCUMENT_MODIFIED", Some("DOCUMENT_MANAGEMENT"), Some(&details)).await;
/// if !ok {
///     eprintln!("audit write failed: {:?}", logger.last_error());
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct AuditLogger {
    config: Config,
    transport: Transport,
    /// The `Authorization` value; `Debug` shows `***`.
    auth_header: Option<Secret>,
    /// Who this logger writes as ([`AuditLogger::identity`]).
    identity: String,
    schema_ready: futures::lock::Mutex<bool>,
    schema_warning: Mutex<Option<String>>,
    last_error: Mutex<Option<String>>,
    batcher: Batcher,
    stats: Stats,
    closed: AtomicBool,
    redactor: Redactor,
    chain: Chain,
}

impl AuditLogger {
    /// Validates `config`; the only place a configuration error is raised.
    pub fn new(config: Config) -> Result<Self, AuditError> {
        config.validate()?;
        let auth_header = match (&config.username, &config.password, &config.token) {
            (Some(u), Some(p), None) => Some(Secret::new(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            ))),
            (None, None, Some(t)) => Some(Secret::new(format!("Bearer {t}"))),
            _ => None,
        };
        let identity = crate::identity::of_config(&config);
        Ok(AuditLogger {
            identity,
            schema_warning: Mutex::new(None),
            batcher: Batcher::new(config.batch.clone()),
            stats: Stats::default(),
            closed: AtomicBool::new(false),
            redactor: Redactor::from_config(config.redact.as_deref(), config.redact_match),
            chain: Chain::new_stream(),
            config,
            transport: Transport::new(),
            auth_header,
            schema_ready: futures::lock::Mutex::new(false),
            last_error: Mutex::new(None),
        })
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Who this logger writes as: in client mode the token's subject (`sub:…`), in direct mode
    /// the Basic user (`user:…`) or the bearer token's subject; a token without a readable
    /// subject is named by a hash (`token:…`), never by itself. The durable queue sends an event
    /// only under the identity it was logged with.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Set when Neo4j refused the schema statements (e.g. a role without schema rights): writes
    /// go on without the constraints and indexes; this says why, once.
    pub fn schema_warning(&self) -> Option<String> {
        self.schema_warning.lock().ok().and_then(|g| g.clone())
    }

    /// The input rules' bounds for this configuration ([`crate::rules`]).
    pub fn limits(&self) -> crate::rules::Limits {
        crate::rules::Limits { max_details_bytes: self.config.max_details_bytes, ..Default::default() }
    }

    /// Logs one action; `true` only when Neo4j committed the event and its relationships.
    /// On `false`, [`AuditLogger::last_error`] says why.
    pub async fn log_user_action(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&serde_json::Value>,
    ) -> bool {
        let res = self.try_log_user_action(user, action_type, category, details).await;
        self.record(res.map(|_| ()))
    }

    /// Like [`AuditLogger::log_user_action`], with the typed error and the written event.
    pub async fn try_log_user_action(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&serde_json::Value>,
    ) -> Result<AuditEvent, AuditError> {
        let details_json = self.limits().details(details).map_err(|v| {
            self.stats.add_failed(1);
            AuditError::from(v)
        })?;
        let event = self.build_event(user, action_type, category, details_json)?;
        self.deliver(event.clone()).await?;
        Ok(event)
    }

    /// The one place events are born (UID, timestamp, validation), for Rust and JavaScript
    /// callers alike. Invalid input is counted as failed and never reaches a batch.
    pub fn build_event(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details_json: Option<String>,
    ) -> Result<AuditEvent, AuditError> {
        let details_json = self.redactor.apply_json(details_json);
        let mut event =
            AuditEvent::from_parts(user, action_type, category, details_json, self.config.max_details_bytes)
                .inspect_err(|_| self.stats.add_failed(1))?;
        self.chain.seal(&mut event);
        Ok(event)
    }

    /// Continues the stream `state` (e.g. restored after a reload) instead of this logger's fresh
    /// one; `store` is told every new state. Call before the first event.
    pub fn resume_stream(&mut self, state: StreamState, store: Option<Box<dyn crate::chain::StreamStore>>) {
        self.chain = Chain::resume(state, store);
    }

    /// This logger's stream: its id, the next `seq`, and the head (hash of the last event built,
    /// delivered or not) — anchor it elsewhere to detect a rewritten trail.
    pub fn chain_head(&self) -> StreamState {
        self.chain.state()
    }

    /// Delivers one built event: it joins a batch, the batch is written with retries, and this
    /// resolves with that batch's outcome (`Ok` = committed). The event keeps its UID throughout.
    pub async fn deliver(&self, event: AuditEvent) -> Result<(), AuditError> {
        if self.closed.load(Ordering::Relaxed) {
            self.stats.add_failed(1);
            return Err(AuditError::Closed);
        }
        self.batcher.deliver(event, |batch| self.send_batch(batch)).await
    }

    /// Writes one batch, retrying per `config.retry`; one outcome per event, and the counters.
    /// When the endpoint rejects the batch's events for good ([`AuditError::is_rejection`]), the
    /// batch is split in halves until each rejected event stands alone, so one bad event never
    /// fails the others.
    async fn send_batch(&self, events: Vec<AuditEvent>) -> Vec<Result<(), AuditError>> {
        let mut out: Vec<Option<Result<(), AuditError>>> = vec![None; events.len()];
        let mut todo = vec![(0, events.len())];
        while let Some((a, b)) = todo.pop() {
            match self.send_with_retry(&events[a..b]).await {
                Err(e) if e.is_rejection() && b - a > 1 => {
                    let m = a + (b - a) / 2;
                    todo.push((m, b));
                    todo.push((a, m));
                }
                res => out[a..b].iter_mut().for_each(|o| *o = Some(res.clone())),
            }
        }
        let out: Vec<Result<(), AuditError>> = out.into_iter().map(|o| o.unwrap_or(Err(AuditError::Closed))).collect();
        let ok = out.iter().filter(|r| r.is_ok()).count() as u64;
        self.stats.add_committed(ok);
        self.stats.add_failed(out.len() as u64 - ok);
        out
    }

    async fn send_with_retry(&self, events: &[AuditEvent]) -> Result<(), AuditError> {
        let n = events.len() as u64;
        retry::with_retry(
            &self.config.retry,
            || {
                self.stats.add_sent(n);
                self.write(events)
            },
            |_| self.stats.add_retried(n),
        )
        .await
    }

    /// Sends whatever is waiting now and resolves once every event submitted before the call has
    /// its outcome. `true` when nothing failed meanwhile.
    pub async fn flush(&self) -> bool {
        let failed_before = self.stats.snapshot().failed;
        self.batcher.flush().await;
        self.batcher.backlog() == 0 && self.stats.snapshot().failed == failed_before
    }

    /// Whether [`AuditLogger::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Flushes, then refuses further events ([`AuditError::Closed`]). `true` as for `flush`.
    pub async fn close(&self) -> bool {
        self.closed.store(true, Ordering::Relaxed);
        self.flush().await
    }

    /// The delivery counters; `queued` includes events waiting in the batch buffer.
    pub fn stats(&self) -> StatsSnapshot {
        let mut s = self.stats.snapshot();
        s.queued = s.queued.max(self.batcher.backlog() as u64);
        s
    }

    /// The counters, for the layers that add a durable queue.
    pub fn counters(&self) -> &Stats {
        &self.stats
    }

    /// Writes already-built events in one statement and one transaction. Writing an event that
    /// is already stored (same UID) changes nothing, so a retry never duplicates.
    pub async fn write(&self, events: &[AuditEvent]) -> Result<(), AuditError> {
        if events.is_empty() {
            return Ok(());
        }
        // Client mode: the batch goes to the ingest Worker, which holds the Neo4j credentials.
        if let Some(endpoint) = &self.config.endpoint {
            let (auth, timeout) = (self.auth_header.as_ref().map(Secret::expose), self.config.timeout_ms);
            return crate::ingest::client::post_events(&self.transport, endpoint, auth, timeout, events).await;
        }
        self.ensure_schema_once().await?;
        let st = cypher::write_events(&self.config.labels, &self.config.trail, events)?;
        let rows = self.run(&st).await?;
        let mut uids: Vec<&str> = events.iter().map(|e| e.uid.as_str()).collect();
        uids.sort_unstable();
        uids.dedup();
        let written = rows.first().and_then(|r| r.first()).and_then(serde_json::Value::as_u64);
        if written != Some(uids.len() as u64) {
            return Err(AuditError::UnexpectedResponse(format!(
                "expected {} events written, Neo4j reported {written:?}",
                uids.len()
            )));
        }
        Ok(())
    }

    /// Creates the constraints and indexes (idempotent). `true` when all are in place.
    pub async fn ensure_schema(&self) -> bool {
        let res = self.try_ensure_schema().await;
        if res.is_ok() {
            *self.schema_ready.lock().await = true;
        }
        self.record(res)
    }

    /// Like [`AuditLogger::ensure_schema`], with the typed error.
    pub async fn try_ensure_schema(&self) -> Result<(), AuditError> {
        for st in cypher::schema_statements(&self.config.labels)? {
            match self.run(&st).await {
                Ok(_) => {}
                // An equivalent index or a constraint the application made on the same property.
                Err(AuditError::Neo4j { code, .. }) if code.starts_with("Neo.ClientError.Schema.") => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Runs the schema statements before the first write of this logger, so the uniqueness that
    /// makes concurrent MERGEs safe never depends on the caller. Failures that a retry may cure
    /// (network, auth) are returned; a refusal by Neo4j (e.g. a role without schema rights) is not
    /// fatal: writes go on without the constraints.
    async fn ensure_schema_once(&self) -> Result<(), AuditError> {
        let mut ready = self.schema_ready.lock().await;
        if *ready {
            return Ok(());
        }
        match self.try_ensure_schema().await {
            Ok(()) => {}
            Err(e @ AuditError::Neo4j { .. }) if !e.is_retryable() => self.warn_schema(&e),
            // A role without schema rights: authenticated, just not allowed to create indexes.
            Err(e) if matches!(&e, AuditError::Unauthorized { code: Some(c), .. } if c == FORBIDDEN) => {
                self.warn_schema(&e)
            }
            Err(e) => return Err(e),
        }
        *ready = true;
        Ok(())
    }

    fn warn_schema(&self, e: &AuditError) {
        let msg = format!(
            "schema not ensured ({}); writes go on without the uniqueness constraints and indexes \
             (run ensureSchema with a user that has schema rights, once)",
            self.reason(e)
        );
        #[cfg(target_arch = "wasm32")]
        web_sys::console::warn_1(&wasm_bindgen::JsValue::from_str(&format!("neo4j-audit: {msg}")));
        if let Ok(mut g) = self.schema_warning.lock() {
            *g = Some(msg);
        }
    }

    /// Runs one parameterised statement and returns its rows.
    pub async fn run(&self, st: &Statement) -> Result<Rows, AuditError> {
        if self.config.endpoint.is_some() {
            return Err(AuditError::InvalidInput("not available in client mode (endpoint set): the Worker only ingests".into()));
        }
        let req = self.http_request(st);
        let resp = self.transport.post(&req, self.config.timeout_ms).await?;
        outcome::interpret(self.config.api, &self.config.database, &resp)
    }

    /// The HTTP request that runs `st` on the configured endpoint (not sent).
    fn http_request(&self, st: &Statement) -> HttpRequest {
        let (path, body) = cypher::request_body(self.config.api, &self.config.database, st);
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Accept".to_owned(), "application/json".to_owned()),
            // Stops browsers from showing a login dialog on 401.
            ("X-Ajax-Browser-Auth".to_owned(), "true".to_owned()),
        ];
        if let Some(a) = &self.auth_header {
            headers.push(("Authorization".to_owned(), a.expose().to_owned()));
        }
        HttpRequest { url: format!("{}{path}", self.config.base_url()), headers, body: body.to_string() }
    }

    /// The request that writes `events` (the same statement as [`AuditLogger::write`]), for a
    /// fire-and-forget send such as `fetch(..., {keepalive: true})` on page hide. `None` in client
    /// mode.
    pub fn write_request(&self, events: &[AuditEvent]) -> Option<HttpRequest> {
        if self.config.endpoint.is_some() || events.is_empty() {
            return None;
        }
        Some(self.http_request(&cypher::write_events(&self.config.labels, &self.config.trail, events).ok()?))
    }

    /// Why the most recent call that returned `false` failed; cleared by a call that succeeds.
    /// Never contains the password or token.
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|g| g.clone())
    }

    /// Stores the outcome for [`AuditLogger::last_error`] and returns it as a bool.
    pub(crate) fn record(&self, res: Result<(), AuditError>) -> bool {
        let reason = res.as_ref().err().map(|e| self.reason(e));
        if let Ok(mut g) = self.last_error.lock() {
            *g = reason;
        }
        res.is_ok()
    }

    /// The caller-facing text of `e`, with this configuration's secrets scrubbed.
    pub fn reason(&self, e: &AuditError) -> String {
        e.reason(&self.config.secrets())
    }
}
