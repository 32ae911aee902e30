//! [`AuditLogger`]: event → statement → request → outcome, for Rust callers. The wasm shell wraps
//! this same type.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::chain::{Chain, StreamState};
use crate::config::{Config, Spelling};
use crate::cypher::Statement;
use crate::error::AuditError;
use crate::event::SharedEvent;
use crate::event::{steady_millis, AuditEvent, EventBuilder, LogOptions, User};
use crate::outcome::Rows;
use crate::redact::Redactor;
use crate::schema::Next;
use crate::sink::Sink;
use crate::stats::{Stats, StatsSnapshot};
use crate::transport::HttpRequest;

/// An action's details as the caller gave them.
pub(crate) enum Details {
    /// A `serde_json::Value` ([`AuditLogger::log_user_action`]): stored in its map's order.
    Value(serde_json::Value),
    /// The JSON text a `Serialize` value was written as ([`crate::Action::details`]): its fields
    /// in the order the value gives them, whatever serde_json's features.
    Text(String),
}

/// Writes audit events into Neo4j.
///
/// Cheap to clone (the clones share one connection pool, delivery, hash-chain stream and
/// counters) and `Send + Sync` natively: build one at start-up and hand clones to every task or
/// request handler. Natively its futures must run inside a Tokio runtime (see the crate docs).
///
/// ```no_run
/// # async fn demo() -> Result<(), neo4j_audit::AuditError> {
/// use std::time::Duration;
/// use neo4j_audit::{AuditLogger, User};
/// let logger = AuditLogger::builder("http://127.0.0.1:7474")
///     .basic_auth("neo4j", "neo4j-audit-dev")
///     .trail("documents")
///     .timeout(Duration::from_secs(2))
///     .deadline(Duration::from_secs(5))
///     .build()?;
/// let user = User::new("user-123").name("John Doe");
/// let details = serde_json::json!({"document_id": "doc-456"});
/// let event = logger
///     .log_user_action(Some(&user), "DOCUMENT_MODIFIED", Some("DOCUMENT_MANAGEMENT"), Some(&details))
///     .await?;
/// println!("committed {}", event.uid);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AuditLogger {
    core: Arc<Core>,
}

/// What a person reading a log or a panic message needs: the configuration (credentials shown as
/// `***`), the deadline, whether it is closed, and the counters. Not the internals (the statement
/// text, the delivery tasks' channels, the redaction tables), which made one `{:?}` of a logger
/// (say, inside an axum `State` that derives `Debug`) a few kilobytes long.
impl std::fmt::Debug for AuditLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLogger")
            .field("config", &self.core.config)
            .field("deadline", &self.core.deadline)
            .field("closed", &self.is_closed())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Core {
    config: Config,
    /// Where batches go (Neo4j, or the ingest Worker), chosen here once.
    sink: Sink,
    /// Who this logger writes as ([`AuditLogger::identity`]), derived on first use: only the
    /// durable queue and the stream store ask, so a build without them (the Worker entry) carries
    /// no token-claims code, and a logger that never asks never parses its token.
    identity: std::sync::OnceLock<String>,
    /// The JavaScript contract's `lastError` slot (the Rust API returns errors instead).
    last_error: Mutex<Option<String>>,
    /// The bounds batches are cut by: the configuration's, within the sink's per-request bound.
    batch: crate::config::BatchConfig,
    /// The running drivers of this logger's delivery machine, if any (src/driver.rs).
    driver: crate::driver::Slot,
    stats: Stats,
    closed: AtomicBool,
    /// Held while a Rust call seals its event and hands it to the driver, and while `close()`
    /// sets `closed`: an event either takes its `seq` before `close()` and is handed over ahead
    /// of its flush, or is refused before it takes one ([`AuditLogger::log_event`]).
    gate: Mutex<()>,
    /// `close()` was called: new events, schema steps and reads are refused while what was
    /// logged before is still being delivered ([`AuditLogger::refuse_new`]).
    refusing: AtomicBool,
    /// The read side has seen this logger's trail marked `indexed` (all its links carry the
    /// per-trail key; `src/read.rs`). The mark is never removed, so once seen it is not read again.
    #[cfg(feature = "read")]
    trail_indexed: AtomicBool,
    /// Rules, redaction, UID and time: the one place events are born (shared with the Worker).
    builder: EventBuilder,
    /// This logger's credentials ([`crate::redact::secret_forms`]): never stored in an event
    /// ([`AuditLogger::scrub_event`]). Those [`AuditLogger::set_credentials`] gave, and those
    /// they replaced, outside the Worker's build (which has no setter).
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    scrub: Mutex<Scrub>,
    #[cfg(all(target_arch = "wasm32", feature = "worker"))]
    scrub: Scrub,
    /// The password in use has leading or trailing white space (and no token): a refused login
    /// says so ([`Core::hinted`]).
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    padded: AtomicBool,
    chain: Chain,
    /// Bound on writing one batch, all attempts and backoff included.
    deadline: Option<Duration>,
    /// Natively, the requests outside the delivery machine (`ensure_schema`, reads, `run`) each
    /// watch it from their task ([`on_task`]): `close_within` sets its bound when that passes
    /// with one still out, which cancels them (`Timeout` carrying the bound); its receivers are
    /// the requests in flight.
    #[cfg(not(target_arch = "wasm32"))]
    given_up: tokio::sync::watch::Sender<Option<Duration>>,
}

#[cfg(not(target_arch = "wasm32"))]
const _: () = {
    const fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync_clone::<AuditLogger>();
    assert_send_sync_clone::<AuditError>();
};

impl Core {
    /// `e` with this configuration's password and token scrubbed from its texts, should a server
    /// have echoed one ([`AuditError::scrubbed`]): what a Rust caller gets back.
    // The JavaScript entries hand out `lastError` only (`AuditLogger::outward`).
    #[cfg_attr(all(target_arch = "wasm32", feature = "js"), allow(dead_code))]
    fn scrubbed(&self, e: AuditError) -> AuditError {
        self.hinted(e).scrubbed(&crate::error::refs(&self.secrets()))
    }

    /// The secrets messages must never quote: the credentials in use (the sink's) and those they
    /// replaced ([`crate::sink::Auth`]); in the Worker's build, the configuration's.
    fn secrets(&self) -> Vec<String> {
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        return self.sink.auth().secrets();
        #[cfg(all(target_arch = "wasm32", feature = "worker"))]
        self.config.secrets()
    }

    /// The credentials kept out of events ([`AuditLogger::scrub_event`]).
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn scrub(&self) -> std::sync::MutexGuard<'_, Scrub> {
        self.scrub.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(all(target_arch = "wasm32", feature = "worker"))]
    fn scrub(&self) -> &Scrub {
        &self.scrub
    }

    /// `e` with what this configuration knows of it: a refused login (401) with a password that
    /// starts or ends with white space (a line break read with it from a file or a secret store)
    /// says so, never the password itself; natively, one of a logger given no credentials at all
    /// (direct mode) says that none were configured and how to set them. The same for
    /// `reason`/`last_error` and the `Display` of an error returned (before, only the former
    /// said it).
    #[cfg_attr(all(target_arch = "wasm32", feature = "js"), allow(dead_code))]
    fn hinted(&self, e: AuditError) -> AuditError {
        // (Not in the Worker's build, whose password is its own setting, NEO4J_PASSWORD.)
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        if matches!(e, AuditError::Unauthorized { status: 401, .. }) && self.padded.load(Ordering::Relaxed) {
            return e.with_hint(crate::error::PASSWORD_WHITE_SPACE);
        }
        // Natively only (the JavaScript entries' size budget): a 401 to a request that carried
        // no `Authorization` header because none was configured.
        #[cfg(not(target_arch = "wasm32"))]
        if matches!(e, AuditError::Unauthorized { status: 401, .. })
            && self.config.endpoint.is_none()
            && self.config.username.is_none()
            && self.config.password.is_none()
            && self.config.token.is_none()
        {
            return e.with_hint(crate::error::NO_CREDENTIALS);
        }
        e
    }
}

/// The credentials [`AuditLogger::scrub_event`] keeps out of events; `Debug` shows `***`.
struct Scrub(Vec<(String, String)>);

impl std::fmt::Debug for Scrub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// `config`'s credentials to scrub from events (see `Core::scrub`).
fn scrub_list(config: &Config) -> Scrub {
    Scrub(crate::redact::secret_forms(config.secrets()))
}

/// Whether `config`'s password (with no token) has leading or trailing white space.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
fn padded(config: &Config) -> bool {
    matches!((&config.password, &config.token), (Some(p), None) if p.trim() != p)
}

/// `close_within`'s bound in whole ms: a fraction dropped (never rounded up past the bound),
/// at most `u64::MAX`.
fn bound_ms(within: Duration) -> u64 {
    u64::try_from(within.as_millis()).unwrap_or(u64::MAX)
}

/// Natively the transport and its timers need a Tokio runtime with I/O and time enabled: say so
/// instead of panicking. Checked before an event is chained, so a call that cannot be sent
/// takes no `seq` (a `seq` never stored is a `deleted` gap for `verify_trail`); in a runtime
/// without I/O or time Tokio panicked in the transport's first step, after the event had taken
/// its `seq`. (A cached answer per runtime: [`crate::transport::runtime_ready`].)
fn runtime_check() -> Result<(), AuditError> {
    #[cfg(not(target_arch = "wasm32"))]
    if !crate::transport::runtime_ready() {
        return Err(AuditError::NoRuntime);
    }
    Ok(())
}

/// Natively whether the caller is in a Tokio runtime at all (the flushes: they send nothing
/// themselves, and ask the drivers on the logger's other runtimes too).
fn in_runtime() -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    return tokio::runtime::Handle::try_current().is_ok();
    #[cfg(target_arch = "wasm32")]
    true
}

/// The outcome of a request run on a task of its own ([`on_task`], the detached delivery).
/// A runtime without I/O or time enabled makes Tokio panic in the transport's first step: said
/// as for no runtime at all (the contract: an error, never a panic). Other panics go on.
#[cfg(not(target_arch = "wasm32"))]
fn joined<T>(res: Result<Result<T, AuditError>, tokio::task::JoinError>) -> Result<T, AuditError> {
    match res {
        Ok(res) => res,
        Err(e) if e.is_panic() => {
            let panic = e.into_panic();
            let text =
                panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied());
            match text {
                Some(t) if t.starts_with("A Tokio 1.x context was found, but") => Err(AuditError::NoRuntime),
                _ => std::panic::resume_unwind(panic),
            }
        }
        // Cancelled: its runtime is shutting down.
        Err(_) => Err(AuditError::NoRuntime),
    }
}

/// Natively, `ms` awaited outside a Tokio runtime (where its timers panic): a thread sleeps it,
/// and ends early when the future is dropped. Ends at once if no thread can be started.
#[cfg(not(target_arch = "wasm32"))]
async fn thread_sleep(ms: u64) {
    let (dropped, wait) = std::sync::mpsc::channel::<()>();
    let (wake, woken) = tokio::sync::oneshot::channel::<()>();
    let timer = std::thread::Builder::new().name("neo4j-audit-bound".into()).spawn(move || {
        // Disconnected (the future dropped) or the bound reached: either way, done.
        let _ = wait.recv_timeout(Duration::from_millis(ms));
        let _ = wake.send(());
    });
    if timer.is_ok() {
        let _ = woken.await;
    }
    drop(dropped);
}

/// Natively, a request outside the delivery (schema, statements, reads) runs on a task of its
/// own, so a runtime without I/O or time is an error as for the log calls; `close_within`'s
/// bound cancels it ([`Core::given_up`]: the task is aborted, its connection closed, and the
/// call returns `Timeout` with the bound). (On wasm the requests run in place: the host's event
/// loop drives them.)
#[cfg(not(target_arch = "wasm32"))]
async fn on_task<T: Send + 'static>(
    core: &Core,
    fut: impl std::future::Future<Output = Result<T, AuditError>> + Send + 'static,
) -> Result<T, AuditError> {
    let mut given_up = core.given_up.subscribe();
    // Given up on before it started (it passed `open()` just before close_within's bound).
    if let Some(d) = *given_up.borrow_and_update() {
        return Err(AuditError::Timeout(d));
    }
    let task = tokio::spawn(fut);
    let abort = task.abort_handle();
    tokio::select! {
        res = task => joined(res).map_err(|e| core.scrubbed(e)),
        Ok(()) = given_up.changed() => {
            abort.abort();
            Err(AuditError::Timeout(given_up.borrow().unwrap_or_default()))
        }
    }
}

impl AuditLogger {
    /// A builder for a logger writing to the Neo4j HTTP API at `url` (e.g.
    /// `http://127.0.0.1:7474`); see [`crate::AuditLoggerBuilder`].
    pub fn builder(url: impl Into<String>) -> crate::AuditLoggerBuilder {
        crate::AuditLoggerBuilder::new(url)
    }

    /// A logger for a whole [`Config`]; validates it ([`Config::validate`]: its errors name the
    /// settings as the Rust API does), the only place a configuration error is raised.
    pub fn new(config: Config) -> Result<Self, AuditError> {
        Self::with_parts(config, None, None, Spelling::Rust)
    }

    /// [`AuditLogger::new`] for the JavaScript entries: configuration errors name JavaScript's
    /// keys (`timeoutMs`, not `timeout`).
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))]
    pub(crate) fn from_js_config(config: Config) -> Result<Self, AuditError> {
        Self::with_parts(config, None, None, Spelling::Js)
    }

    pub(crate) fn with_parts(
        config: Config,
        deadline: Option<Duration>,
        chain: Option<Chain>,
        spelling: Spelling,
    ) -> Result<Self, AuditError> {
        config.validate_in(spelling)?;
        let sink = Sink::for_config(&config);
        let mut batch = config.batch.clone();
        if let Some(n) = sink.max_events_per_request() {
            batch.max_events = batch.max_events.min(n);
        }
        if let Some(n) = sink.max_batch_bytes_per_request() {
            batch.max_bytes = batch.max_bytes.min(n);
        }
        // On wasm the core holds JS values (neither Send nor Sync); one thread there.
        #[allow(clippy::arc_with_non_send_sync)]
        Ok(AuditLogger {
            core: Arc::new(Core {
                identity: std::sync::OnceLock::new(),
                sink,
                batch,
                driver: crate::driver::Slot::default(),
                stats: Stats::default(),
                closed: AtomicBool::new(false),
                gate: Mutex::new(()),
                refusing: AtomicBool::new(false),
                #[cfg(feature = "read")]
                trail_indexed: AtomicBool::new(false),
                builder: EventBuilder::new(
                    Redactor::from_config(config.redact.as_deref(), config.redact_match),
                    crate::rules::Limits {
                        max_details_bytes: config.max_details_bytes,
                        size_setting: spelling.name(crate::config::Key::MaxDetailsBytes),
                        ..Default::default()
                    },
                ),
                chain: chain.unwrap_or_else(|| Chain::for_trail(&config.trail)),
                #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
                scrub: Mutex::new(scrub_list(&config)),
                #[cfg(all(target_arch = "wasm32", feature = "worker"))]
                scrub: scrub_list(&config),
                #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
                padded: AtomicBool::new(padded(&config)),
                config,
                last_error: Mutex::new(None),
                deadline,
                #[cfg(not(target_arch = "wasm32"))]
                given_up: tokio::sync::watch::channel(None).0,
            }),
        })
    }

    /// This new logger (no clone made yet) sends with `t` ([`crate::AuditLoggerBuilder::build`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn set_transport(mut self, t: crate::transport::Transport) -> Self {
        // Only `build` calls it, on the logger `with_parts` just made: nothing shares its core.
        Arc::get_mut(&mut self.core).expect("a logger not yet shared").sink.set_transport(t);
        self
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.core.config
    }

    /// Where batches go (the delivery machine describes their requests with it).
    pub(crate) fn sink(&self) -> &Sink {
        &self.core.sink
    }

    /// The slot of this logger's delivery drivers.
    pub(crate) fn driver_slot(&self) -> &crate::driver::Slot {
        &self.core.driver
    }

    /// The bounds batches are cut by: the configuration's, within the sink's per-request bound.
    pub(crate) fn batch_config(&self) -> &crate::config::BatchConfig {
        &self.core.batch
    }

    /// The bound on writing one batch, all attempts and backoff included
    /// ([`crate::AuditLoggerBuilder::deadline`]); `None`: only the retry policy bounds it.
    pub fn deadline(&self) -> Option<Duration> {
        self.core.deadline
    }

    /// Who this logger writes as: in client mode the token's subject (`sub:…`), in direct mode
    /// the Basic user (`user:…`) or the bearer token's subject; a token without a readable
    /// subject is named by a hash (`token:…`), never by itself. The durable queue sends an event
    /// only under the identity it was logged with.
    pub fn identity(&self) -> &str {
        self.core.identity.get_or_init(|| crate::identity::of_config(&self.core.config))
    }

    /// Replaces the Basic auth credentials of this live logger (a rotated Neo4j password): the
    /// requests made from now on carry them, retries of batches already failing included; a
    /// request already in flight keeps the header it left with, and one it answers with a refused
    /// login (401) is sent again at once with these. Checked as
    /// [`crate::AuditLoggerBuilder::basic_auth`]'s are at `build()`, and refused (nothing changed)
    /// unless the logger was built with Basic auth for the same user: the user is the logger's
    /// identity ([`AuditLogger::identity`]), and what it writes must never go out under another
    /// (for another user, build another logger). [`AuditLogger::config`] still shows the
    /// configuration it was built with. The new password is kept out of errors and events as the
    /// first one is, and so is the one it replaces.
    ///
    /// ```no_run
    /// # fn demo(logger: &neo4j_audit::AuditLogger) -> Result<(), neo4j_audit::AuditError> {
    /// logger.set_basic_auth("neo4j", "the-rotated-password")?;
    /// # Ok(()) }
    /// ```
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    pub fn set_basic_auth(&self, user: impl Into<String>, password: impl Into<String>) -> Result<(), AuditError> {
        let new = Config::new("").basic_auth(user, password);
        self.set_credentials(new, Spelling::Rust).map_err(|e| self.core.scrubbed(e))
    }

    /// Replaces the bearer token of this live logger (an expired SSO token, or in client mode the
    /// user's JWT), as [`AuditLogger::set_basic_auth`] does a password: refused unless the logger
    /// was built with a token of the same identity (the token's `sub` and its lasting claims; an
    /// opaque token, named by its hash, is an identity of its own, so it cannot be replaced).
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    pub fn set_bearer(&self, token: impl Into<String>) -> Result<(), AuditError> {
        self.set_credentials(Config::new("").bearer(token), Spelling::Rust).map_err(|e| self.core.scrubbed(e))
    }

    /// New credentials for this live logger (the JavaScript `setCredentials`, the Rust
    /// `set_basic_auth` and `set_bearer`), the `username`, `password` and `token` of `new` (an
    /// otherwise default configuration): validated as the configuration's are (messages in
    /// spelling `s`), of the kind the logger was made with, and of its identity; then the sink
    /// sends with them and texts and events are scrubbed of them. Refused, nothing changed.
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    pub(crate) fn set_credentials(&self, mut new: Config, s: Spelling) -> Result<(), AuditError> {
        let c = &self.core.config;
        // The constructor's checks of them, with the logger's URL (or endpoint): the same rules
        // and messages (a cleartext http:// URL, client mode taking a token, an empty password).
        new.url.clone_from(&c.url);
        new.endpoint.clone_from(&c.endpoint);
        new.allow_insecure_http = c.allow_insecure_http;
        let secrets = new.secrets();
        new.validate_in(s).map_err(|e| e.scrubbed(&crate::error::refs(&secrets)))?;
        let kind = |c: &Config| match (&c.username, &c.token) {
            (Some(_), _) => s.name(crate::config::Key::Credentials),
            (None, Some(_)) => s.name(crate::config::Key::Token),
            (None, None) => "no credentials",
        };
        if kind(&new) != kind(c) {
            return Err(AuditError::InvalidConfig(crate::error::cat(&[
                "this logger was made with ",
                kind(c),
                ", so new credentials must be ",
                kind(c),
                " too (for another kind, make a new logger); nothing was changed",
            ])));
        }
        // Not named: a user name may be a password given in its place (swapped arguments).
        if crate::identity::of_config(&new) != self.identity() {
            return Err(AuditError::InvalidConfig(crate::error::cat(&[
                "these credentials are another identity's, not this logger's (",
                self.identity(),
                "): events are only ever sent under the identity they were logged with; make a new logger for them; \
                 nothing was changed",
            ])));
        }
        let auth = self.core.sink.auth();
        auth.set(crate::sink::auth_header(&new), secrets);
        *self.core.scrub() = Scrub(crate::redact::secret_forms(auth.secrets()));
        self.core.padded.store(padded(&new), Ordering::Relaxed);
        Ok(())
    }

    /// Set when Neo4j refused the schema statements (e.g. a role without schema rights): writes
    /// go on without the constraints and indexes; this says why, once.
    pub fn schema_warning(&self) -> Option<String> {
        self.core.sink.neo4j().ok().and_then(|s| s.schema_warning())
    }

    /// The input rules' bounds for this configuration.
    #[doc(hidden)]
    pub fn limits(&self) -> crate::rules::Limits {
        self.core.builder.limits()
    }

    /// Logs one action and resolves once Neo4j committed the event and its relationships, with
    /// the event as written (its `uid`, time and chain fields).
    ///
    /// `details` is any JSON object; for a `Serialize` type of your own use
    /// [`AuditLogger::action`]. Errors: [`AuditError::InvalidInput`] for input the rules refuse
    /// (nothing was sent), else why the write failed after the retries.
    #[must_use = "the write may have failed; handle the Result"]
    pub async fn log_user_action(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&serde_json::Value>,
    ) -> Result<AuditEvent, AuditError> {
        self.log_user_action_with(user, action_type, category, details, &LogOptions::default()).await
    }

    /// [`AuditLogger::log_user_action`] with options: what the action was performed on
    /// (`targets`; see README, "The graph"). The builder form is [`crate::Action::target`].
    ///
    /// ```no_run
    /// # async fn demo(logger: neo4j_audit::AuditLogger) -> Result<(), neo4j_audit::AuditError> {
    /// use neo4j_audit::{LogOptions, Target, User};
    /// let opts = LogOptions::default().target(Target::new("Document", "doc-456").role("subject"));
    /// let user = User::new("user-123");
    /// let event = logger.log_user_action_with(Some(&user), "DOCUMENT_MODIFIED", None, None, &opts).await?;
    /// # Ok(()) }
    /// ```
    #[must_use = "the write may have failed; handle the Result"]
    pub async fn log_user_action_with(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&serde_json::Value>,
        options: &LogOptions,
    ) -> Result<AuditEvent, AuditError> {
        // The depth first, on the caller's value: cloning (and redacting) details nested thousands
        // of levels deep recursed as deep and overflowed the stack before the rule refused them.
        if let Some(d) = details.filter(|d| d.is_object()) {
            if let Err(e) = self.core.builder.limits().details_depth(d) {
                return self.finish_event(Err(e.into()), options);
            }
        }
        self.log_event(user, action_type, category, Ok(details.cloned().map(Details::Value)), options).await
    }

    /// Builds, chains and writes one event (`log_user_action_with`, [`crate::Action`], whose
    /// `details` may have failed to serialise: refused and counted like any invalid input).
    pub(crate) async fn log_event(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Result<Option<Details>, AuditError>,
        options: &LogOptions,
    ) -> Result<AuditEvent, AuditError> {
        // Outside a runtime (or in one without I/O or time) the event could never be sent:
        // refused before it takes its `seq`
        // (a `seq` never stored is a `deleted` gap for `verify_trail`).
        let details = match runtime_check().and(details) {
            Ok(d) => d,
            Err(e) => return self.finish_event(Err(e), options),
        };
        let event = match details {
            Some(Details::Text(text)) => self.core.builder.build_text(user, action_type, category, Some(text)),
            Some(Details::Value(v)) => self.core.builder.build(user, action_type, category, Some(v)),
            None => self.core.builder.build(user, action_type, category, None),
        };
        let targets = if options.targets.is_empty() { Vec::new() } else { options.targets.clone() };
        let mut event = self.checked_event(event, targets)?;
        // Sealed and handed to the driver in one step `close()` cannot come between: on a
        // multi-threaded runtime a call that took its `seq` just before `close()` was then
        // refused by `deliver` (closed), so the stream had a hole or ended before the head that
        // `chain_head()` names, `deleted` for `verify_trail` with that head as anchor.
        let rx = {
            let _gate = self.core.gate.lock().unwrap_or_else(|p| p.into_inner());
            self.open().inspect_err(|_| self.core.stats.add_failed(1))?;
            self.core.chain.seal(&mut event);
            let (tx, rx) = tokio::sync::oneshot::channel();
            crate::driver::send(self, &self.core.driver, crate::driver::Cmd::Log(SharedEvent::new(event.clone()), tx));
            rx
        };
        self.outward(rx.await.unwrap_or_else(|_| Err(crate::driver::lost())))?;
        Ok(event)
    }

    /// Sets `closed` under the gate ([`Core::gate`]).
    fn shut(&self) {
        let _gate = self.core.gate.lock().unwrap_or_else(|p| p.into_inner());
        self.core.closed.store(true, Ordering::Relaxed);
    }

    /// Starts one action to log, for details of any `Serialize` type; `.await` it to write it.
    ///
    /// ```no_run
    /// # async fn demo(logger: neo4j_audit::AuditLogger) -> Result<(), neo4j_audit::AuditError> {
    /// #[derive(serde::Serialize)]
    /// struct Changed<'a> { document_id: &'a str, fields: Vec<&'a str> }
    /// let user = neo4j_audit::User::new("user-123").name("John Doe");
    /// let event = logger
    ///     .action("DOCUMENT_MODIFIED")
    ///     .user(&user)
    ///     .category("DOCUMENT_MANAGEMENT")
    ///     .details(&Changed { document_id: "doc-456", fields: vec!["title"] })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn action<'a>(&'a self, action_type: &'a str) -> crate::Action<'a> {
        crate::Action::new(self, action_type)
    }

    /// Where this logger's events are born, for Rust and JavaScript callers alike: the shared
    /// event builder (rules, redaction, details serialised once, UID and time), then this
    /// logger's hash chain. Invalid input is counted as failed and never reaches a batch.
    #[doc(hidden)]
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
    #[doc(hidden)]
    pub fn build_event_with(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<serde_json::Value>,
        options: &LogOptions,
    ) -> Result<AuditEvent, AuditError> {
        let event = self.core.builder.build(user, action_type, category, details);
        self.finish_event(event, options)
    }

    /// Targets, then the chain; invalid input is counted as failed.
    fn finish_event(
        &self,
        event: Result<AuditEvent, AuditError>,
        options: &LogOptions,
    ) -> Result<AuditEvent, AuditError> {
        // The targets are copied only when there are any (the owned form moves them).
        let targets = if options.targets.is_empty() { Vec::new() } else { options.targets.clone() };
        self.finish_event_owned(event, targets)
    }

    fn finish_event_owned(
        &self,
        event: Result<AuditEvent, AuditError>,
        targets: Vec<crate::event::Target>,
    ) -> Result<AuditEvent, AuditError> {
        let mut event = self.checked_event(event, targets)?;
        // Client mode sends no chain fields: the Worker chains what it stores in a stream of its
        // own. A client-side chain was hashed per event for nothing, and its head (`chain_head`)
        // named a stream that is never stored, so an anchor of it failed every verification
        // (redteam38). There `chain_head` stays at seq 0, the genesis head.
        if self.core.sink.ingest().is_none() {
            self.core.chain.seal(&mut event);
        }
        Ok(event)
    }

    /// The event with its targets, scrubbed, not sealed yet; refused (counted as failed) when
    /// the logger is closed or the input is invalid.
    fn checked_event(
        &self,
        event: Result<AuditEvent, AuditError>,
        targets: Vec<crate::event::Target>,
    ) -> Result<AuditEvent, AuditError> {
        // A closed logger refuses before the chain: a refused event must not take a `seq`
        // (the stream's final head would name an event that is never stored).
        self.open()
            .and(event)
            .and_then(|mut e| {
                if !targets.is_empty() {
                    e.set_targets(targets)?;
                }
                Ok(e)
            })
            .and_then(|e| self.scrub_event(e))
            .inspect_err(|_| self.core.stats.add_failed(1))
    }

    /// This logger's own password, token or Basic credential never goes into an event: a
    /// `details` string value holding one (under a key the redaction list does not name, e.g.
    /// `{jwt: token}` or `{dsn: "neo4j://neo4j:<password>@host"}`) is stored as `"[REDACTED]"`,
    /// before the event is hashed, queued or sent. A `details` member name, `user.uid`,
    /// `user.name` or a target holding one is refused (invalid input): it cannot be replaced
    /// ([`crate::redact::held_outside_details`]).
    fn scrub_event(&self, mut e: AuditEvent) -> Result<AuditEvent, AuditError> {
        let scrub = self.core.scrub();
        let scrub = &scrub.0;
        if scrub.is_empty() {
            return Ok(e);
        }
        let whose = "this logger's password or token";
        if let Some(what) = crate::redact::held_outside_details(&e, scrub) {
            return Err(AuditError::InvalidInput(crate::error::cat(&[what, " holds ", whose])));
        }
        let Some(d) = e.details.as_deref() else { return Ok(e) };
        if let Some(text) = crate::redact::scrub_details(d, scrub, &self.core.builder.limits(), whose)? {
            e.details = Some(text);
        }
        Ok(e)
    }

    /// Takes back the hash chain's seal of `event`, just built by this logger and refused in the
    /// same call before anything else was chained (the browser's queue full): it takes no `seq`
    /// (see [`Chain::unseal`]). `false` when `event` is not the stream's head.
    #[cfg_attr(any(not(target_arch = "wasm32"), feature = "worker"), allow(dead_code))]
    pub(crate) fn unseal(&self, event: &AuditEvent) -> bool {
        self.core.chain.unseal(event)
    }

    /// [`AuditLogger::build_event`] with `details` as JSON text (see [`EventBuilder::build_json`]).
    #[doc(hidden)]
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
    #[doc(hidden)]
    pub fn build_event_json_with(
        &self,
        user: Option<&User>,
        action_type: &str,
        category: Option<&str>,
        details: Option<&str>,
        options: &LogOptions,
    ) -> Result<AuditEvent, AuditError> {
        let event = self.core.builder.build_json(user, action_type, category, details);
        self.finish_event(event, options)
    }

    /// [`AuditLogger::build_event_json_with`] taking the parts the event keeps (the JavaScript
    /// shell's per-event path: no copies of what it already owns).
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))]
    pub(crate) fn build_event_json_owned(
        &self,
        user: Option<User>,
        action_type: String,
        category: Option<String>,
        details: Option<String>,
        options: LogOptions,
    ) -> Result<AuditEvent, AuditError> {
        let event = self.core.builder.build_json_owned(user, action_type, category, details);
        self.finish_event_owned(event, options.targets)
    }

    /// Continues the stream `state` (e.g. restored after a reload) instead of this logger's fresh
    /// one; `store` is told every new state. Call before the first event and before the logger
    /// is cloned (Rust callers: [`crate::AuditLoggerBuilder::resume_stream`]).
    #[doc(hidden)]
    pub fn resume_stream(&mut self, state: StreamState, store: Option<Box<dyn crate::chain::StreamStore>>) {
        match Arc::get_mut(&mut self.core) {
            Some(core) => core.chain = Chain::resume(state, store),
            None => debug_assert!(false, "resume_stream on a logger that was already cloned"),
        }
    }

    /// This logger's stream: its id, the next `seq`, and the head (hash of the last event built,
    /// delivered or not) — anchor it elsewhere to detect a rewritten trail. In client mode
    /// (`endpoint` set) the Worker chains the events it stores, not this logger: its head stays
    /// at seq 0 with the genesis hash; anchor the Worker's stream from a verification report.
    pub fn chain_head(&self) -> StreamState {
        self.core.chain.state()
    }

    /// Delivers one built event: it joins a batch, the batch is written with retries, and this
    /// resolves with that batch's outcome (`Ok` = committed). The event keeps its UID throughout.
    #[doc(hidden)]
    pub async fn deliver(&self, event: AuditEvent) -> Result<(), AuditError> {
        self.deliver_shared(SharedEvent::new(event)).await
    }

    /// Like [`AuditLogger::deliver`], for an event other places hold too (the durable queue):
    /// the batch shares it instead of copying it.
    #[doc(hidden)]
    /// (An `async` block, not an `async fn`, which would keep `self` and `event` twice while
    /// the call waits: thousands of calls may wait at once.)
    #[allow(clippy::manual_async_fn)] // deliberate: see above
    pub fn deliver_shared(&self, event: SharedEvent) -> impl std::future::Future<Output = Result<(), AuditError>> + '_ {
        async move {
            if self.core.closed.load(Ordering::Relaxed) {
                self.core.stats.add_failed(1);
                return Err(AuditError::Closed);
            }
            if let Err(e) = runtime_check() {
                self.core.stats.add_failed(1);
                return Err(e);
            }
            self.deliver_by_machine(event).await
        }
    }

    /// The delivery machine's driver delivers the event (src/driver.rs); the call awaits
    /// its outcome. The event is handed over in the call's first step, so a call whose future
    /// is dropped after that still delivers it (it already has its `seq`).
    async fn deliver_by_machine(&self, event: SharedEvent) -> Result<(), AuditError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        crate::driver::send(self, &self.core.driver, crate::driver::Cmd::Log(event, tx));
        // The driver ended without an answer: its runtime is shutting down (or panicked: a
        // runtime without time or I/O enabled).
        self.outward(rx.await.unwrap_or_else(|_| Err(crate::driver::lost())))
    }

    /// A result for a Rust caller: its error with this logger's credentials scrubbed, should a
    /// server have echoed one (natively [`on_task`] does it for the requests it runs). The
    /// JavaScript entries hand out `lastError` only, scrubbed by [`AuditLogger::record`]: as is
    /// there, so their `.wasm` (the Worker's among them) carries none of it.
    fn outward<T>(&self, res: Result<T, AuditError>) -> Result<T, AuditError> {
        #[cfg(not(all(target_arch = "wasm32", feature = "js")))]
        return res.map_err(|e| self.core.scrubbed(e));
        #[cfg(all(target_arch = "wasm32", feature = "js"))]
        res
    }

    /// Sends whatever is waiting now and resolves once every event submitted before the call has
    /// its outcome (calls made while it waits do not hold it back). `true` when none of those
    /// failed (a call refused before batching, such as invalid input or one made after `close`,
    /// is no delivery failure: it was never waiting).
    pub async fn flush(&self) -> bool {
        self.flush_within(None).await
    }

    /// `flush`, or with `within` (ms) the flush of `close_within`.
    async fn flush_within(&self, within: Option<u64>) -> bool {
        if !in_runtime() {
            // Natively outside a runtime no call made here can be waiting (each was refused),
            // but calls made on a runtime may be: their drivers answer. (It returned `true` at
            // once, with those events still queued.)
            #[cfg(not(target_arch = "wasm32"))]
            if let Some(ok) = crate::driver::flush_elsewhere(self, &self.core.driver, within).await {
                return ok;
            }
            return self.record(Ok(()));
        }
        // The machines answer, and set lastError (Machine::finish).
        crate::driver::flush(self, &self.core.driver, within).await
    }

    /// After a flush that left events undelivered somewhere this logger's own flush does not see
    /// (the wasm durable queue): `last_error` is `reason` (that flush's failure), else the reason
    /// already there, else that events are still waiting. Never leaves it empty.
    pub(crate) fn flush_left_events(&self, reason: Option<String>) {
        if let Ok(mut g) = self.core.last_error.lock() {
            match reason {
                Some(r) => *g = Some(r),
                None if g.is_none() => *g = Some(STILL_WAITING.to_owned()),
                None => {}
            }
        }
    }

    /// Whether [`AuditLogger::close`] was called (on this logger or a clone).
    pub fn is_closed(&self) -> bool {
        self.core.closed.load(Ordering::Relaxed)
    }

    /// [`AuditError::Closed`] once the logger is closed: calls made after `close` (schema,
    /// reads) are refused like events.
    pub(crate) fn open(&self) -> Result<(), AuditError> {
        if self.is_closed() || self.core.refusing.load(Ordering::Relaxed) {
            return Err(AuditError::Closed);
        }
        Ok(())
    }

    /// From now on refuses new events, schema steps and reads ([`AuditError::Closed`]) on this
    /// logger and every clone, while events logged before are still delivered (by the flush
    /// that `close` then runs). The JavaScript `close()` calls it at once, so a call made while
    /// `close()` is flushing resolves `false` ("closed") instead of slipping in behind it.
    #[doc(hidden)]
    pub fn refuse_new(&self) {
        self.core.refusing.store(true, Ordering::Relaxed);
    }

    /// Refuses further events, schema steps and reads ([`AuditError::Closed`]) on this logger
    /// and every clone from the moment it runs — calls made while it flushes included — then
    /// flushes what was logged before. `true` as for `flush`.
    pub async fn close(&self) -> bool {
        self.shut();
        self.flush().await
    }

    /// [`AuditLogger::close`], returning within `within` (a shutdown budget in whole ms, a
    /// fraction dropped — 1.5 ms is 1 ms, under 1 ms is 0: gives up at once — so the bound is
    /// never passed, as JavaScript's `close(timeoutMs)`): what is still undelivered then is given up on — requests in flight are cancelled
    /// (on wasm their `fetch` is aborted; a late answer is never counted; one that had reached
    /// Neo4j may still commit, once),
    /// batches waiting for a retry or a slot are not sent — and their calls return
    /// [`AuditError::Timeout`] carrying `within`, as does `last_error`; `false` then. Natively
    /// the calls outside the delivery that are still waiting for Neo4j then
    /// ([`AuditLogger::ensure_schema`], the reads) are cancelled alike (`Timeout(within)`,
    /// `false`); it waits for them up to the bound, as for the events. Unlike
    /// `tokio::time::timeout(within, logger.close())`, nothing goes on in the background
    /// after it returns, and the outcome of every event logged before it is known.
    pub async fn close_within(&self, within: Duration) -> bool {
        self.shut();
        let ms = bound_ms(within);
        #[cfg(not(target_arch = "wasm32"))]
        let (in_runtime, given_up) = (runtime_check().is_ok(), &self.core.given_up);
        // The requests outside the delivery (`ensure_schema`, reads) get the same bound: at it,
        // those still out are cancelled and their calls return `Timeout(within)`. In a runtime
        // with I/O and time the bound is a Tokio timer; elsewhere (awaited outside any runtime,
        // with such requests out on a runtime of their own) a thread's: a Tokio timer panics
        // there, so the bound was skipped, `true` returned at once and the requests went on.
        #[cfg(not(target_arch = "wasm32"))]
        if in_runtime || given_up.receiver_count() > 0 {
            let others = async {
                let bound = async {
                    if in_runtime {
                        crate::transport::sleep_ms(ms).await
                    } else {
                        thread_sleep(ms).await
                    }
                };
                tokio::select! {
                    () = given_up.closed() => true,
                    () = bound => given_up.receiver_count() == 0,
                }
            };
            let (delivered, ended) = futures::join!(self.flush_within(Some(ms)), others);
            if ended {
                return delivered;
            }
            given_up.send_replace(Some(within));
            return self.record(Err(AuditError::Timeout(within)));
        }
        self.flush_within(Some(ms)).await
    }

    /// The delivery counters; `queued` includes events waiting for a batch.
    pub fn stats(&self) -> StatsSnapshot {
        self.core.stats.snapshot()
    }

    /// The counters, for the layers that add a durable queue.
    #[doc(hidden)]
    pub fn counters(&self) -> &Stats {
        &self.core.stats
    }

    /// Writes already-built events in one request (one statement and one transaction in Neo4j,
    /// or one ingest request per 100 events). Writing an event that is already stored (same UID)
    /// changes nothing, so a retry never duplicates.
    #[doc(hidden)]
    pub async fn write(&self, events: &[AuditEvent]) -> Result<(), AuditError> {
        runtime_check()?;
        #[cfg(not(target_arch = "wasm32"))]
        {
            let (this, events) = (self.clone(), events.to_vec());
            on_task(&self.core, async move { this.write_once(None, &events).await }).await
        }
        #[cfg(target_arch = "wasm32")]
        self.outward(self.write_once(None, events).await)
    }

    /// One request writing `events` (into `trail`, else the configured one): with the schema
    /// guard until the schema is known; when Neo4j refuses the guard ([`crate::sink::guard_refused`]),
    /// nothing was written, and the schema step runs ([`AuditLogger::schema_step`]) before the same write without it.
    async fn write_once<E: std::borrow::Borrow<AuditEvent>>(
        &self,
        trail: Option<&str>,
        events: &[E],
    ) -> Result<(), AuditError> {
        let sink = &self.core.sink;
        let guard = matches!(sink, Sink::Neo4j(s) if !s.schema_is_known());
        match sink.write(trail, events, guard).await {
            Err(e) if guard && crate::sink::guard_refused(&e) => {
                self.schema_step(false).await?;
                sink.write(trail, events, false).await
            }
            res => res,
        }
    }

    /// [`AuditLogger::write`] into the trail named `trail` instead of the configured one (direct
    /// mode only): the ingest Worker writes each tenant's events into the tenant's trail.
    #[doc(hidden)]
    pub async fn write_to_trail(&self, trail: &str, events: &[AuditEvent]) -> Result<(), AuditError> {
        runtime_check()?;
        if trail.is_empty() || trail.len() > crate::config::MAX_TRAIL_LEN {
            return Err(AuditError::InvalidInput("trail name must be 1-256 bytes".into()));
        }
        if events.is_empty() {
            return Ok(());
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let (this, trail, events) = (self.clone(), trail.to_owned(), events.to_vec());
            on_task(&self.core, async move {
                this.core.sink.neo4j()?;
                this.write_once(Some(&trail), &events).await
            })
            .await
        }
        #[cfg(target_arch = "wasm32")]
        {
            self.core.sink.neo4j()?;
            self.outward(self.write_once(Some(trail), events).await)
        }
    }

    /// Creates the constraints and indexes the trail queries use (idempotent); call it once at
    /// deploy time or start-up (or run `npx neo4j-audit schema`). A logger also checks them in
    /// its first write's own transaction (no round trip of its own where they are in place; the
    /// write is rolled back when one is missing) and then runs this step itself. Not available
    /// in client mode (no Cypher through the Worker).
    #[must_use = "the schema may be missing; handle the Result"]
    pub async fn ensure_schema(&self) -> Result<(), AuditError> {
        self.open()?;
        runtime_check()?;
        #[cfg(not(target_arch = "wasm32"))]
        {
            let this = self.clone();
            on_task(&self.core, async move { this.schema_step(true).await }).await
        }
        #[cfg(target_arch = "wasm32")]
        self.outward(self.schema_step(true).await)
    }

    /// The schema step (src/schema.rs: `explicit`, [`AuditLogger::ensure_schema`]'s; else a
    /// write's, after its guard was refused), driven here in the caller's future: it sends one
    /// request at a time, so its driver is a loop (no task, no lock: a Worker's request never
    /// waits on another's I/O, and no delivery machine is needed). The JavaScript
    /// `ensureSchema()` runs the same step in the logger's machine.
    async fn schema_step(&self, explicit: bool) -> Result<(), AuditError> {
        let sink = self.core.sink.neo4j()?;
        let (mut step, mut next) = crate::schema::Step::start(sink, explicit);
        loop {
            next = match next {
                Next::Send(request, kind) => {
                    let res = match sink.transport().post(&request, self.core.config.timeout_ms).await {
                        Ok(resp) => sink.answer(&resp),
                        Err(e) => Err(e),
                    };
                    step.answered(sink, steady_millis(), kind, res)
                }
                Next::Wait(at) => {
                    crate::transport::sleep_ms((at - steady_millis()).max(0) as u64).await;
                    step.again(sink)
                }
                Next::Done(res) => return res,
            };
        }
    }

    /// Runs one parameterised statement and returns its rows (direct mode only).
    #[doc(hidden)]
    pub async fn run(&self, st: &Statement) -> Result<Rows, AuditError> {
        self.open()?;
        runtime_check()?;
        #[cfg(not(target_arch = "wasm32"))]
        {
            let (this, st) = (self.clone(), st.clone());
            on_task(&self.core, async move { this.core.sink.neo4j()?.run(&st).await }).await
        }
        #[cfg(target_arch = "wasm32")]
        {
            let res = match self.core.sink.neo4j() {
                Ok(sink) => sink.run(st).await,
                Err(e) => Err(e),
            };
            self.outward(res)
        }
    }

    /// Whether this logger's trail is known to be marked `indexed` ([`crate::cypher::TRAIL_INDEXED`]).
    #[cfg(feature = "read")]
    pub(crate) fn trail_indexed_seen(&self) -> bool {
        self.core.trail_indexed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Remembers that this logger's trail is marked `indexed`.
    #[cfg(feature = "read")]
    pub(crate) fn set_trail_indexed_seen(&self) {
        self.core.trail_indexed.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// [`AuditLogger::run`] with the crate's own JSON: `params` an object, rows as parsed. One
    /// statement of a read that was admitted when it was called ([`AuditLogger::open`] checked
    /// then, not here): a `close()` made while a read pages through the trail lets it finish
    /// (close waits for it; `close_within`'s bound cancels it), as it does the events logged
    /// before it. Checked per statement, a `verifyTrail` under way when `close()` was called
    /// resolved `null` ("closed") at its next page.
    #[cfg(feature = "read")]
    pub(crate) async fn run_json(
        &self,
        text: &str,
        params: &crate::json::Json,
    ) -> Result<crate::outcome::JsonRows, AuditError> {
        runtime_check()?;
        #[cfg(not(target_arch = "wasm32"))]
        {
            let (this, text, params) = (self.clone(), text.to_owned(), params.clone());
            on_task(&self.core, async move { this.core.sink.neo4j()?.run_json(&text, &params).await }).await
        }
        #[cfg(target_arch = "wasm32")]
        {
            let res = match self.core.sink.neo4j() {
                Ok(sink) => sink.run_json(text, params).await,
                Err(e) => Err(e),
            };
            self.outward(res)
        }
    }

    /// Runs `text` with the parameters object `params` writes (the Worker's own statements).
    #[cfg(feature = "ingest")]
    pub(crate) async fn run_with(
        &self,
        text: &str,
        params: impl FnOnce(&mut String),
    ) -> Result<crate::outcome::JsonRows, AuditError> {
        runtime_check()?;
        self.core.sink.neo4j()?.run_text(text, params).await
    }

    /// The request that writes `events` (the same statement as [`AuditLogger::write`]), for a
    /// fire-and-forget send such as `fetch(..., {keepalive: true})` on page hide. `None` in client
    /// mode.
    #[doc(hidden)]
    pub fn write_request<E: std::borrow::Borrow<AuditEvent>>(&self, events: &[E]) -> Option<HttpRequest> {
        self.core.sink.neo4j().ok()?.write_request(events)
    }

    /// The body alone of [`AuditLogger::write_request`] (benchmarks only, cargo feature `bench`).
    #[cfg(all(target_arch = "wasm32", feature = "bench", not(feature = "worker")))]
    pub(crate) fn write_body<E: std::borrow::Borrow<AuditEvent>>(&self, events: &[E]) -> Option<String> {
        self.core.sink.neo4j().ok()?.write_body(events)
    }

    /// Why the most recent failure happened, as text safe to log (any echoed password or token
    /// scrubbed, as [`AuditLogger::reason`]): set by a failed write and by a
    /// [`flush`](AuditLogger::flush) or [`close`](AuditLogger::close) that returned `false`
    /// (the one way to learn why those did); cleared by a later success. JavaScript's
    /// `lastError`. The log calls return their [`AuditError`] too.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use neo4j_audit::{AuditLogger, RetryConfig};
    /// // A port nothing listens on: every write fails.
    /// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// let logger = AuditLogger::builder(format!("http://127.0.0.1:{port}"))
    ///     .retry(RetryConfig { max_attempts: 1, ..Default::default() })
    ///     .build()
    ///     .unwrap();
    /// let e = logger.action("LOGIN").await.unwrap_err();
    /// assert_eq!(logger.last_error(), Some(logger.reason(&e)));
    ///
    /// // A call still under way when the program shuts down: close() waits for it.
    /// let call = tokio::spawn({
    ///     let logger = logger.clone();
    ///     async move { logger.action("LOGOUT").await }
    /// });
    /// tokio::task::yield_now().await;
    /// if !logger.close().await {
    ///     eprintln!("audit events lost: {}", logger.last_error().unwrap());
    /// }
    /// assert!(logger.last_error().unwrap().starts_with("network error: "));
    /// assert!(call.await.unwrap().is_err());
    /// # }
    /// ```
    pub fn last_error(&self) -> Option<String> {
        self.core.last_error.lock().ok().and_then(|g| g.clone())
    }

    /// Stores the outcome for `last_error` and returns it as a bool (the JavaScript contract).
    #[doc(hidden)]
    pub fn record(&self, res: Result<(), AuditError>) -> bool {
        self.set_last_error(res.as_ref().err());
        res.is_ok()
    }

    /// [`AuditLogger::record`] of `Err(e)` (`Some`) or `Ok` (`None`) without taking the error:
    /// the delivery machine keeps its failures for the calls it answers, and a copy per record
    /// brought `AuditError`'s `Clone` into the .wasm.
    pub(crate) fn set_last_error(&self, e: Option<&AuditError>) {
        let reason = e.map(|e| self.reason(e));
        if let Ok(mut g) = self.core.last_error.lock() {
            *g = reason;
        }
    }

    /// The text of `e` with this configuration's password and token scrubbed (`***`), should a
    /// server have echoed one: what to put in a log line.
    /// In client mode (`endpoint`) a timeout names the endpoint, whose answer it waited for, not
    /// Neo4j.
    pub fn reason(&self, e: &AuditError) -> String {
        // Not in the Worker's build, whose logger writes to Neo4j only.
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        if let (AuditError::Timeout(d), Some(_)) = (e, &self.core.config.endpoint) {
            let ms = crate::error::num(d.as_millis() as u64);
            return crate::error::cat(&["timeout: no answer from the endpoint within ", &ms, " ms"]);
        }
        // As the errors returned to a Rust caller say it (`Core::hinted`).
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        if matches!(e, AuditError::Unauthorized { status: 401, .. }) {
            return self.core.hinted(e.clone()).reason(&crate::error::refs(&self.core.secrets()));
        }
        e.reason(&crate::error::refs(&self.core.secrets()))
    }
}

/// `last_error` after a flush that left events undelivered with no failure of its own to name.
const STILL_WAITING: &str = "flush: events are still waiting for delivery (see stats())";

#[cfg(test)]
mod tests {
    use super::*;

    /// `close_within`'s bound is whole ms with the fraction dropped, as JavaScript's
    /// `close(timeoutMs)`: 1.5 ms is 1 ms (before: rounded up to 2 ms, past the bound asked
    /// for), under 1 ms gives up at once. Against a server that takes the connection and never
    /// answers, the call and `last_error` name the bound kept.
    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn close_within_drops_a_fraction_of_a_millisecond() {
        assert_eq!(bound_ms(Duration::from_micros(1_500)), 1);
        assert_eq!(bound_ms(Duration::from_micros(999)), 0);
        assert_eq!(bound_ms(Duration::MAX), u64::MAX);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", hung.local_addr().unwrap());
            let held = tokio::spawn(async move {
                let mut kept = Vec::new();
                while let Ok((s, _)) = hung.accept().await {
                    kept.push(s);
                }
            });
            let logger = AuditLogger::new(Config::new(&url).basic_auth("neo4j", "pw")).unwrap();
            let l = logger.clone();
            let call = tokio::spawn(async move { l.log_user_action(None, "HUNG", None, None).await });
            tokio::time::sleep(Duration::from_millis(100)).await; // on the wire
            assert!(!logger.close_within(Duration::from_micros(1_500)).await);
            let err = call.await.unwrap().unwrap_err();
            assert_eq!(err.to_string(), "timeout: no answer from Neo4j within 1 ms");
            assert_eq!(logger.last_error().as_deref(), Some("timeout: no answer from Neo4j within 1 ms"));
            held.abort();
        });
    }

    /// Client mode: a timeout names the endpoint, not Neo4j (before, a Worker that did not
    /// answer read "timeout: no answer from Neo4j within 500 ms" in lastError); direct mode
    /// names Neo4j as before.
    #[test]
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))] // the Worker's build has no client mode
    fn a_timeout_names_what_did_not_answer() {
        let t = AuditError::Timeout(std::time::Duration::from_millis(500));
        let mut c = Config::new("");
        c.endpoint = Some("https://w.example/v1/events".into());
        c.token = Some("t".into());
        let client = AuditLogger::new(c).unwrap();
        assert_eq!(client.reason(&t), "timeout: no answer from the endpoint within 500 ms");
        assert!(!client.record(Err(t.clone())));
        assert_eq!(client.last_error().as_deref(), Some("timeout: no answer from the endpoint within 500 ms"));
        let direct = AuditLogger::new(Config::new("http://127.0.0.1:7474")).unwrap();
        assert_eq!(direct.reason(&t), "timeout: no answer from Neo4j within 500 ms");
    }

    /// A refused login (401) with a password that has leading or trailing white space says so,
    /// without the password; a password without it, a 403 and a token read as before.
    #[test]
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn a_refused_password_with_surrounding_white_space_is_named() {
        let e = AuditError::Unauthorized { status: 401, code: Some("Neo.ClientError.Security.Unauthorized".into()) };
        let plain = "authentication failed: HTTP 401 (Neo.ClientError.Security.Unauthorized)";
        for p in ["s3cret-pw\n", " s3cret-pw", "s3cret-pw\t"] {
            let l = AuditLogger::new(Config::new("http://127.0.0.1:7474").basic_auth("neo4j", p)).unwrap();
            let r = l.reason(&e);
            let hinted = "authentication failed: HTTP 401 (Neo.ClientError.Security.Unauthorized; the password has \
                          leading or trailing white space: a line break read with it from a file?)";
            assert_eq!(r, hinted);
            // The error a Rust caller gets says the same in its Display (before: the plain text).
            let returned = l.core.scrubbed(e.clone());
            assert_eq!(returned.to_string(), hinted);
            assert_eq!(l.reason(&returned), hinted, "said once");
            assert!(!r.contains("s3cret"), "{r}");
            assert!(!l.record(Err(e.clone())));
            assert_eq!(l.last_error().as_deref(), Some(r.as_str()));
        }
        let l = AuditLogger::new(Config::new("http://127.0.0.1:7474").basic_auth("neo4j", "s3cret pw")).unwrap();
        assert_eq!(l.reason(&e), plain);
        let l = AuditLogger::new(Config::new("http://127.0.0.1:7474").basic_auth("neo4j", " pw ")).unwrap();
        let forbidden = AuditError::Unauthorized { status: 403, code: None };
        assert_eq!(l.reason(&forbidden), "authentication failed: HTTP 403");
    }

    /// New credentials on a live logger: checked as the builder's, of the logger's kind and
    /// identity (refused, nothing changed), and once taken kept out of errors, `Debug` and events
    /// like the first, together with the ones they replaced (a request of theirs may still answer).
    #[test]
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn new_credentials_are_checked_and_kept_out_of_texts() {
        let l = AuditLogger::new(Config::new("http://127.0.0.1:7474").basic_auth("neo4j", "first-Secret-1")).unwrap();
        let refused = |r: Result<(), AuditError>| r.unwrap_err().to_string();
        assert_eq!(
            refused(l.set_basic_auth("neo4j", "")),
            "invalid config: password is empty (an unset environment variable?)"
        );
        let e = refused(l.set_basic_auth("admin", "other-Secret-2"));
        assert!(
            e.starts_with("invalid config: these credentials are another identity's, not this logger's (user:neo4j)"),
            "{e}"
        );
        assert!(!e.contains("other-Secret-2") && !e.contains("admin"), "{e}");
        let e = refused(l.set_bearer("a-token-of-Secret-3"));
        assert!(e.contains("made with basic_auth, so new credentials must be basic_auth too"), "{e}");
        assert_eq!(l.sink().auth().generation(), 0);
        l.set_basic_auth("neo4j", "second-Secret-4 ").unwrap();
        assert_eq!(l.sink().auth().generation(), 1);
        // A server echoing either password: scrubbed in the error and in `last_error`.
        let echo = AuditError::Http {
            status: 400,
            snippet: "bad first-Secret-1 / second-Secret-4 ".into(),
            retry_after_ms: None,
        };
        for text in [l.reason(&echo), l.core.scrubbed(echo.clone()).to_string()] {
            assert!(!text.contains("Secret-1") && !text.contains("Secret-4"), "{text}");
        }
        // The white-space hint follows the password in use.
        let e = AuditError::Unauthorized { status: 401, code: None };
        assert!(l.reason(&e).contains("leading or trailing white space"));
        let dbg = format!("{l:?}");
        assert!(!dbg.contains("Secret"), "{dbg}");
        // An event holding the new password stores "[REDACTED]" in its place.
        let ev = l.build_event(None, "X", None, Some(serde_json::json!({"dsn": "second-Secret-4 "}))).unwrap();
        assert!(!ev.details.as_deref().unwrap().contains("Secret-4"), "{:?}", ev.details);
        // Client mode: another sub (or tenant) is another identity; a refreshed token is not.
        let jwt = |claims: &str| format!("eyJhbGciOiJIUzI1NiJ9.{}.sig", crate::b64::encode_url(claims.as_bytes()));
        let mut c = Config::new("");
        c.endpoint = Some("https://w.example/v1/events".into());
        c.token = Some(jwt(r#"{"sub":"alice","aud":"a","exp":1}"#));
        let client = AuditLogger::new(c).unwrap();
        assert!(refused(client.set_bearer(jwt(r#"{"sub":"bob","aud":"a","exp":9}"#))).contains("another identity's"));
        assert!(refused(client.set_bearer(jwt(r#"{"sub":"alice","aud":"b","exp":9}"#))).contains("another identity's"));
        assert!(refused(client.set_basic_auth("alice", "pw")).contains("endpoint (client mode) takes a bearer token"));
        client.set_bearer(jwt(r#"{"sub":"alice","aud":"a","exp":9,"jti":"j2"}"#)).unwrap();
    }

    /// Client mode: the Worker takes at most 100 events per request, so a batch never holds more
    /// (one batch = one request; a larger one would go as a chain of requests in one slot).
    #[test]
    fn client_mode_batches_stay_within_one_worker_request() {
        let mut c = Config::new("");
        c.endpoint = Some("https://w.example/v1/events".into());
        c.token = Some("t".into());
        let l = AuditLogger::new(c.clone()).unwrap();
        assert_eq!(l.batch_config().max_events, 100, "default maxEvents capped");
        // And its bytes within the Worker's default MAX_BODY_BYTES (256 KiB), less the envelope.
        assert_eq!(l.batch_config().max_bytes, 256 * 1024 - 64, "default maxBytes capped");
        c.batch.max_events = 30;
        c.batch.max_bytes = 4096;
        let smaller = AuditLogger::new(c).unwrap();
        assert_eq!(smaller.batch_config().max_events, 30, "a smaller bound kept");
        assert_eq!(smaller.batch_config().max_bytes, 4096, "a smaller bound kept");
        let direct = AuditLogger::new(Config::new("http://127.0.0.1:7474")).unwrap();
        assert_eq!(direct.batch_config().max_events, crate::config::BatchConfig::default().max_events);
        assert_eq!(direct.batch_config().max_bytes, crate::config::BatchConfig::default().max_bytes);
    }
}
