//! [`AuditLogger`]: event → statement → request → outcome, for Rust callers. The wasm shell wraps
//! this same type.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;


use crate::batch::{Batcher, SharedEvent};
use crate::chain::{Chain, StreamState};
use crate::config::Config;
use crate::cypher::Statement;
use crate::error::AuditError;
use crate::event::{AuditEvent, EventBuilder, LogOptions, User};
use crate::outcome::Rows;
use crate::redact::Redactor;
use crate::retry;
use crate::stats::{Stats, StatsSnapshot};
use crate::sink::Sink;
use crate::transport::HttpRequest;

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
    /// Where batches go (Neo4j, or the ingest Worker), chosen here once.
    sink: Sink,
    /// Who this logger writes as ([`AuditLogger::identity`]).
    identity: String,
    last_error: Mutex<Option<String>>,
    batcher: Batcher,
    stats: Stats,
    closed: AtomicBool,
    /// Rules, redaction, UID and time: the one place events are born (shared with the Worker).
    builder: EventBuilder,
    chain: Chain,
}

impl AuditLogger {
    /// Validates `config`; the only place a configuration error is raised.
    pub fn new(config: Config) -> Result<Self, AuditError> {
        config.validate()?;
        let identity = crate::identity::of_config(&config);
        Ok(AuditLogger {
            identity,
            sink: Sink::for_config(&config),
            batcher: Batcher::new(config.batch.clone()),
            stats: Stats::default(),
            closed: AtomicBool::new(false),
            builder: EventBuilder::new(
                Redactor::from_config(config.redact.as_deref(), config.redact_match),
                crate::rules::Limits { max_details_bytes: config.max_details_bytes, ..Default::default() },
            ),
            chain: Chain::new_stream(),
            config,
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
        self.sink.neo4j().ok().and_then(|s| s.schema_warning())
    }

    /// The input rules' bounds for this configuration ([`crate::rules`]).
    pub fn limits(&self) -> crate::rules::Limits {
        self.builder.limits()
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
        self.try_log_user_action_with(user, action_type, category, details, &LogOptions::default()).await
    }

    /// [`AuditLogger::log_user_action`] with options: what the action was performed on.
    ///
    /// ```no_run
    /// # async fn demo(logger: neo4j_audit::AuditLogger) {
    /// use neo4j_audit::{LogOptions, Target, User};
    /// let opts = LogOptions { targets: vec![Target::new("Document", "doc-456").role("subject")] };
    /// let ok = logger.log_user_action_with(Some(&User::new("user-123", None)), "DOCUMENT_MODIFIED", None, None, &opts).await;
    /// # }
    /// ```
    pub async fn log_user_action_with(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&serde_json::Value>,
        options: &LogOptions,
    ) -> bool {
        let res = self.try_log_user_action_with(user, action_type, category, details, options).await;
        self.record(res.map(|_| ()))
    }

    /// Like [`AuditLogger::log_user_action_with`], with the typed error and the written event.
    pub async fn try_log_user_action_with(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&serde_json::Value>,
        options: &LogOptions,
    ) -> Result<AuditEvent, AuditError> {
        let event = self.build_event_with(user, action_type, category, details.cloned(), options)?;
        self.deliver(event.clone()).await?;
        Ok(event)
    }

    /// Where this logger's events are born, for Rust and JavaScript callers alike: the shared
    /// [`EventBuilder`] (rules, redaction, details serialised once, UID and time), then this
    /// logger's hash chain. Invalid input is counted as failed and never reaches a batch.
    pub fn build_event(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<serde_json::Value>,
    ) -> Result<AuditEvent, AuditError> {
        self.build_event_with(user, action_type, category, details, &LogOptions::default())
    }

    /// [`AuditLogger::build_event`] with options (the targets, checked against the rule table
    /// and covered by the hash chain).
    pub fn build_event_with(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<serde_json::Value>,
        options: &LogOptions,
    ) -> Result<AuditEvent, AuditError> {
        let event = self.builder.build(user, action_type, category, details);
        self.finish_event(event, options)
    }

    /// Targets, then the chain; invalid input is counted as failed.
    fn finish_event(&self, event: Result<AuditEvent, AuditError>, options: &LogOptions) -> Result<AuditEvent, AuditError> {
        let mut event = event
            .and_then(|mut e| {
                if !options.targets.is_empty() {
                    e.set_targets(options.targets.clone())?;
                }
                Ok(e)
            })
            .inspect_err(|_| self.stats.add_failed(1))?;
        self.chain.seal(&mut event);
        Ok(event)
    }

    /// [`AuditLogger::build_event`] with `details` as JSON text (see [`EventBuilder::build_json`]).
    pub fn build_event_json(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&str>,
    ) -> Result<AuditEvent, AuditError> {
        self.build_event_json_with(user, action_type, category, details, &LogOptions::default())
    }

    /// [`AuditLogger::build_event_json`] with options (see [`AuditLogger::build_event_with`]).
    pub fn build_event_json_with(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&str>,
        options: &LogOptions,
    ) -> Result<AuditEvent, AuditError> {
        let event = self.builder.build_json(user, action_type, category, details);
        self.finish_event(event, options)
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
        self.deliver_shared(SharedEvent::new(event)).await
    }

    /// Like [`AuditLogger::deliver`], for an event other places hold too (the durable queue):
    /// the batch shares it instead of copying it.
    pub async fn deliver_shared(&self, event: SharedEvent) -> Result<(), AuditError> {
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
    async fn send_batch(&self, events: Vec<SharedEvent>) -> Vec<Result<(), AuditError>> {
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

    async fn send_with_retry(&self, events: &[SharedEvent]) -> Result<(), AuditError> {
        let n = events.len() as u64;
        retry::with_retry(
            &self.config.retry,
            || {
                self.stats.add_sent(n);
                self.sink.write(events)
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

    /// Writes already-built events in one request (one statement and one transaction in Neo4j,
    /// or one ingest request per 100 events). Writing an event that is already stored (same UID)
    /// changes nothing, so a retry never duplicates.
    pub async fn write(&self, events: &[AuditEvent]) -> Result<(), AuditError> {
        self.sink.write(events).await
    }

    /// [`AuditLogger::write`] into the trail named `trail` instead of the configured one (direct
    /// mode only): the ingest Worker writes each tenant's events into the tenant's trail.
    pub async fn write_to_trail(&self, trail: &str, events: &[AuditEvent]) -> Result<(), AuditError> {
        if trail.is_empty() || trail.len() > crate::config::MAX_TRAIL_LEN {
            return Err(AuditError::InvalidInput("trail name must be 1-256 bytes".into()));
        }
        if events.is_empty() {
            return Ok(());
        }
        self.sink.neo4j()?.write_to(trail, events).await
    }

    /// Creates the constraints and indexes (idempotent). `true` when all are in place.
    pub async fn ensure_schema(&self) -> bool {
        let res = self.try_ensure_schema().await;
        self.record(res)
    }

    /// Like [`AuditLogger::ensure_schema`], with the typed error.
    pub async fn try_ensure_schema(&self) -> Result<(), AuditError> {
        self.sink.neo4j()?.ensure_schema().await
    }

    /// Runs one parameterised statement and returns its rows (direct mode only).
    pub async fn run(&self, st: &Statement) -> Result<Rows, AuditError> {
        self.sink.neo4j()?.run(st).await
    }

    /// The request that writes `events` (the same statement as [`AuditLogger::write`]), for a
    /// fire-and-forget send such as `fetch(..., {keepalive: true})` on page hide. `None` in client
    /// mode.
    pub fn write_request<E: std::borrow::Borrow<AuditEvent>>(&self, events: &[E]) -> Option<HttpRequest> {
        self.sink.neo4j().ok()?.write_request(events)
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
