//! Logger configuration: what JavaScript passes as `AuditConfig`, validated once, in the
//! constructor.

use crate::error::cat;
use serde::Deserialize;

use crate::error::AuditError;

/// How config errors name the settings: as JavaScript's `AuditConfig` keys (`timeoutMs`,
/// `retry.maxAttempts`: the npm package, the Worker) or as the Rust API does (`timeout`,
/// `retry.max_attempts`: the builder's methods, the fields of [`Config`]). The rules are the same
/// and checked once ([`Config::validate_as`]); only the names in their messages differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// JavaScript's keys (the first column of [`Spelling::name`]'s table).
    Js,
    /// The Rust API's names (the second column).
    Rust,
}

/// The settings whose name differs between JavaScript and Rust, rows of [`Spelling::name`]'s table (the others,
/// `url`, `database`, `trail`, `labels.event`, `redact`, `username`, `password`, are spelled alike).
#[derive(Debug, Clone, Copy)]
// (The Worker's build spells only the keys of the settings it takes.)
#[cfg_attr(all(target_arch = "wasm32", feature = "worker"), allow(dead_code))]
pub(crate) enum Key {
    Timeout,
    MaxDetailsBytes,
    /// The way to allow plain http, as a refusal suggests it.
    AllowInsecureHttp,
    Token,
    /// Basic authentication's setting(s).
    Credentials,
    RetryMaxAttempts,
    RetryMaxElapsed,
    RetryBaseDelay,
    RetryMaxDelay,
    BatchMaxEvents,
    BatchMaxBytes,
    BatchFlushInterval,
    BatchMaxInFlight,
    #[cfg(target_arch = "wasm32")]
    QueueMaxEvents,
    #[cfg(target_arch = "wasm32")]
    QueueMaxBytes,
    #[cfg(target_arch = "wasm32")]
    QueueMaxAge,
}

impl Spelling {
    /// `key`'s name in this spelling: THE names of the settings in config errors, one row per
    /// [`Key`], [JavaScript, Rust]. The Rust name is the builder method's where there is one
    /// (`timeout`, which takes a `Duration`: the rule's bounds are in ms), else the field's path.
    /// (A `match`, not an array: a build whose entries all spell for JavaScript, the Worker's,
    /// then carries no Rust names.)
    pub(crate) fn name(self, key: Key) -> &'static str {
        let [js, rust] = match key {
            Key::Timeout => ["timeoutMs", "timeout (ms)"],
            Key::MaxDetailsBytes => ["maxDetailsBytes", "max_details_bytes"],
            Key::AllowInsecureHttp => ["allowInsecureHttp: true", "allow_insecure_http(true)"],
            Key::Token => ["token", "bearer token"],
            Key::Credentials => ["username/password", "basic_auth"],
            Key::RetryMaxAttempts => ["retry.maxAttempts", "retry.max_attempts"],
            Key::RetryMaxElapsed => ["retry.maxElapsedMs", "retry.max_elapsed_ms"],
            Key::RetryBaseDelay => ["retry.baseDelayMs", "retry.base_delay_ms"],
            Key::RetryMaxDelay => ["retry.maxDelayMs", "retry.max_delay_ms"],
            Key::BatchMaxEvents => ["batch.maxEvents", "batch.max_events"],
            Key::BatchMaxBytes => ["batch.maxBytes", "batch.max_bytes"],
            Key::BatchFlushInterval => ["batch.flushIntervalMs", "batch.flush_interval_ms"],
            Key::BatchMaxInFlight => ["batch.maxInFlight", "batch.max_in_flight"],
            #[cfg(target_arch = "wasm32")]
            Key::QueueMaxEvents => ["queue.maxEvents", "queue.max_events"],
            #[cfg(target_arch = "wasm32")]
            Key::QueueMaxBytes => ["queue.maxBytes", "queue.max_bytes"],
            #[cfg(target_arch = "wasm32")]
            Key::QueueMaxAge => ["queue.maxAgeMs", "queue.max_age_ms"],
        };
        match self {
            Spelling::Js => js,
            Spelling::Rust => rust,
        }
    }
}

/// Which Neo4j HTTP endpoint receives the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// `POST /db/{db}/tx/commit` (the transactional endpoint, one implicit transaction).
    #[default]
    Tx,
    /// `POST /db/{db}/query/v2` (the Query API, Neo4j 5.25+).
    Query,
}

/// Node labels; each must be an identifier (`[A-Za-z_][A-Za-z0-9_]*`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Labels {
    /// Label of event nodes. Default `AuditEvent`.
    pub event: String,
    /// Label of the trail node the events hang off. Default `AuditTrail`.
    pub trail: String,
    /// Label of user nodes. Default `User`.
    pub user: String,
}

impl Default for Labels {
    fn default() -> Self {
        Labels { event: "AuditEvent".into(), trail: "AuditTrail".into(), user: "User".into() }
    }
}

impl Labels {
    /// Each label must be an identifier, since labels are the only part of a statement's text
    /// that is configurable. Every public function that places labels in Cypher calls this.
    ///
    /// ```
    /// use neo4j_audit::Labels;
    /// assert!(Labels::default().validate().is_ok());
    /// let evil = Labels { event: "E) DETACH DELETE (n".into(), ..Labels::default() };
    /// assert!(evil.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), AuditError> {
        for (what, label) in [("event", &self.event), ("trail", &self.trail), ("user", &self.user)] {
            if !is_identifier(label) {
                let label = crate::error::quoted(label);
                return Err(AuditError::InvalidConfig(cat(&[
                    "labels.",
                    what,
                    " ",
                    &label,
                    " is not an identifier ([A-Za-z_][A-Za-z0-9_]*)",
                ])));
            }
        }
        // One label for two roles mixes the library's nodes: `trail: "User"` put the trail node
        // among the application's users and made ensureSchema() create a uniqueness constraint
        // on User(name), which then refuses two users of one name.
        if self.event == self.trail || self.event == self.user || self.trail == self.user {
            return Err(AuditError::InvalidConfig("labels.event, labels.trail and labels.user must differ".into()));
        }
        Ok(())
    }
}

/// The logger's configuration (`AuditConfig` in TypeScript). Build a logger from it with
/// [`AuditLogger::new`](crate::AuditLogger::new), or start a builder from it with
/// `AuditLoggerBuilder::from(config)` (the deadline is a builder setting only).
///
/// Deserialised (serde), it takes JavaScript's keys: camelCase (`timeoutMs`, `maxDetailsBytes`,
/// `allowInsecureHttp`, `retry.maxAttempts`, …), not the Rust field names; every key may be left
/// out (its default), and an unknown one (`timeout_ms`, a mistyped `pasword`) is an error.
///
/// ```
/// use neo4j_audit::{AuditLogger, AuditLoggerBuilder, Config};
/// let cfg = Config::new("http://127.0.0.1:7474").basic_auth("neo4j", "secret-pw");
/// assert!(cfg.validate().is_ok());
/// assert!(!format!("{cfg:?}").contains("secret-pw"));
///
/// // From a file (here JSON; TOML or YAML through their serde crates alike):
/// let text = r#"{"url": "http://127.0.0.1:7474", "username": "neo4j", "password": "secret-pw",
///               "trail": "billing", "timeoutMs": 2000, "retry": {"maxAttempts": 3}}"#;
/// let cfg: Config = serde_json::from_str(text).unwrap();
/// assert_eq!((cfg.timeout_ms, cfg.retry.max_attempts, cfg.retry.base_delay_ms), (2000, 3, 100));
/// let logger = AuditLoggerBuilder::from(cfg).deadline(std::time::Duration::from_secs(5)).build().unwrap();
/// assert_eq!(logger.config().trail, "billing");
/// let e = serde_json::from_str::<Config>(r#"{"url": "http://127.0.0.1:7474", "timeout_ms": 2000}"#);
/// assert!(e.unwrap_err().to_string().starts_with("unknown field `timeout_ms`"));
/// # let _ = AuditLogger::new(Config::new("http://127.0.0.1:7474")).unwrap();
/// ```
#[derive(Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Neo4j HTTP base URL, e.g. `http://127.0.0.1:7474`. Empty in client mode.
    #[serde(default)]
    pub url: String,
    /// Client mode: the ingest Worker's `/v1/events` URL; events go there (with `token` as the
    /// bearer JWT) instead of to Neo4j. Exclusive with `url` (the ingest sink).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Neo4j database name (in the endpoint path). Default `"neo4j"`.
    #[serde(default = "default_database")]
    pub database: String,
    /// Basic auth user; needs `password`, exclusive with `token`.
    #[serde(default)]
    pub username: Option<String>,
    /// Basic auth password; needs `username`. Never shown by `Debug` or in error messages.
    #[serde(default, deserialize_with = "credential")]
    pub password: Option<String>,
    /// Bearer token; exclusive with username/password.
    #[serde(default, deserialize_with = "credential")]
    pub token: Option<String>,
    /// Which Neo4j HTTP endpoint to use. Default [`Api::Tx`].
    #[serde(default)]
    pub api: Api,
    /// Name of the `AuditTrail` node the events hang off.
    #[serde(default = "default_trail")]
    pub trail: String,
    /// Bound on one whole request, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Bound on the serialised `details`, in bytes.
    #[serde(default = "default_max_details_bytes")]
    pub max_details_bytes: usize,
    /// Node labels of events, trail and users.
    #[serde(default)]
    pub labels: Labels,
    /// Retry policy for retryable failures (see [`RetryConfig`]).
    #[serde(default)]
    pub retry: RetryConfig,
    /// How events are grouped into requests (see [`BatchConfig`]).
    #[serde(default)]
    pub batch: BatchConfig,
    /// The durable queue (IndexedDB in browsers; memory in Workers/Node). WebAssembly only, and
    /// only for the JavaScript entries (feature `js`): the Rust API's delivery driver keeps no
    /// queue, on wasm as natively: there it is validated but unused.
    #[cfg(target_arch = "wasm32")]
    #[serde(default)]
    pub queue: QueueConfig,
    /// When a logging call resolves `true`. WebAssembly only, and only for the JavaScript entries
    /// (feature `js`), as `queue`: a call of the Rust API resolves once Neo4j committed.
    #[cfg(target_arch = "wasm32")]
    #[serde(default)]
    pub delivery: Delivery,
    /// Keys whose values become `"[REDACTED]"` before an event is hashed or sent (see
    /// docs/redaction.md); `None`: the default list; `[]`: no redaction.
    #[serde(default)]
    pub redact: Option<Vec<String>>,
    /// How `redact` names match keys: `"words"` (default: the name's words appear in the key,
    /// so `password` catches `newPassword` and `db_password`) or `"exact"`.
    #[serde(default)]
    pub redact_match: crate::redact::Match,
    /// Accept a plain `http://` `url`/`endpoint` whose host is not loopback. Default `false`:
    /// such a URL is refused, since the password or token (and the audit events, which an
    /// attacker on the path could alter or forge) would cross the network unencrypted. Set it
    /// only for a trusted private network; `https://` and loopback `http://` (`localhost`,
    /// `127.0.0.0/8`, `[::1]`; not `*.localhost`, resolved through DNS outside browsers) need no
    /// opt-out.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

/// Retries with exponential backoff and full jitter, bounded by attempts and by total time.
///
/// Whichever bound comes first ends them: with the defaults, a batch whose attempts fail at
/// once (Neo4j stopped or restarting: connection refused) has made its 6 attempts after about
/// 3 s of backoff (at most 6.2 s: the waits' ceilings are 200, 400, 800, 1600 and 3200 ms), far
/// inside `max_elapsed_ms`. To ride out a restart (tens of seconds), raise `max_attempts` too:
///
/// ```
/// use neo4j_audit::{AuditLogger, RetryConfig};
/// // About 30 s of retries whatever the failure: 20 attempts (backoff ceilings up to 5 s)
/// // outlast max_elapsed_ms, which then ends them.
/// let logger = AuditLogger::builder("http://127.0.0.1:7474")
///     .retry(RetryConfig { max_attempts: 20, ..Default::default() })
///     .build()
///     .unwrap();
/// assert_eq!(logger.config().retry.max_elapsed_ms, 30_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts per batch including the first (1 = never retry), each one write request; a
    /// logger's first write whose schema check Neo4j refuses (the schema missing or not online)
    /// goes again after the schema step as the same attempt, once per logger
    /// (docs/delivery.md, Retries). Default 6.
    pub max_attempts: u32,
    /// No retry starts after this many ms since the first attempt. Default 30000.
    pub max_elapsed_ms: u64,
    /// Backoff base: the n-th retry waits a random time in `[0, min(maxDelayMs, base * 2^n))`. Default 100.
    pub base_delay_ms: u64,
    /// Cap of one backoff delay (a server's `Retry-After` may exceed it, within `maxElapsedMs`). Default 5000.
    pub max_delay_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig { max_attempts: 6, max_elapsed_ms: 30_000, base_delay_ms: 100, max_delay_ms: 5_000 }
    }
}

/// Batching: events that wait together go out in one request (one `UNWIND $events` statement).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Most events per request. Default 1000: a batch takes what waits, so batches grow with the
    /// backlog up to this bound while a lone event still goes alone and at once.
    pub max_events: usize,
    /// Most bytes of serialised events per request (an event larger than this goes alone). Default 1048576.
    pub max_bytes: usize,
    /// How long the first event of a batch waits for company, in ms. Default 0: no added latency;
    /// events that arrive while requests are in flight form the next batch.
    pub flush_interval_ms: u64,
    /// Requests in flight at once (pipelining): while all are busy, arrivals gather into the next
    /// batch. Default 4. (The npm package's Cloudflare Workers build does not apply it: there each
    /// call's request leaves from its own Worker request at once.)
    pub max_in_flight: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig { max_events: 1000, max_bytes: 1024 * 1024, flush_interval_ms: 0, max_in_flight: 4 }
    }
}

/// The durable queue: an event is stored before it is sent and removed once committed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Default `true` (takes effect on wasm only).
    pub enabled: bool,
    /// Most events held; a new event beyond it is dropped (and counted). Default 10000.
    pub max_events: usize,
    /// Most bytes of serialised events held. Default 8 MiB.
    pub max_bytes: usize,
    /// IndexedDB database name; default `"neo4j-audit"` (the trail is part of each record).
    pub name: String,
    /// How long a queued event may wait for delivery, in ms: an older event (of any identity,
    /// e.g. one whose user never signs in again) is removed and counted in `stats().expired`.
    /// Default 7 days.
    pub max_age_ms: u64,
}

/// Default `queue.maxAgeMs`: 7 days.
pub const DEFAULT_QUEUE_MAX_AGE_MS: u64 = 7 * 24 * 3600 * 1000;

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            enabled: true,
            max_events: 10_000,
            max_bytes: 8 * 1024 * 1024,
            name: "neo4j-audit".into(),
            max_age_ms: DEFAULT_QUEUE_MAX_AGE_MS,
        }
    }
}

/// When `logUserAction` resolves `true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// `true` only once Neo4j committed the event (the seed's contract).
    #[default]
    Committed,
    /// `true` once the event is in the durable queue (IndexedDB); delivery goes on in the background
    /// (wasm only). Where the queue is in memory (Node, Workers; natively there is none) it answers as
    /// `Committed`.
    Queued,
}

/// `password` and `token` as a configuration file gives them: a string (or null). Another value
/// is refused without quoting it: serde's own message (`invalid type: integer `12345678`,
/// expected a string`) printed an all-digit password that a YAML or TOML file left unquoted.
fn credential<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    match Option::<Text>::deserialize(d)? {
        None => Ok(None),
        Some(Text::Text(s)) => Ok(Some(s)),
        Some(Text::Other(_)) => {
            Err(serde::de::Error::custom("invalid type: expected a string (a credential; its value is not shown)"))
        }
    }
}

fn default_database() -> String {
    "neo4j".into()
}
fn default_trail() -> String {
    "default".into()
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_max_details_bytes() -> usize {
    crate::rules::DEFAULT_MAX_DETAILS_BYTES
}

/// Longest `trail` name accepted.
pub const MAX_TRAIL_LEN: usize = 256;
/// Largest `maxDetailsBytes` accepted (Neo4j stores strings of any size, but a single audit event
/// of more than this is almost certainly a mistake).
pub use crate::rules::MAX_DETAILS_LIMIT;

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Config");
        d.field("url", &debug_url(&self.url))
            .field("database", &self.database)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("endpoint", &self.endpoint.as_deref().map(debug_url))
            .field("api", &self.api)
            .field("trail", &self.trail)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_details_bytes", &self.max_details_bytes)
            .field("labels", &self.labels)
            .field("retry", &self.retry)
            .field("batch", &self.batch)
            .field("redact", &self.redact)
            .field("redact_match", &self.redact_match)
            .field("allow_insecure_http", &self.allow_insecure_http);
        #[cfg(target_arch = "wasm32")]
        d.field("queue", &self.queue).field("delivery", &self.delivery);
        d.finish()
    }
}

/// `url` for `Debug`, with what may be a secret written into it masked: the user and password
/// (`https://***@host`), the query and the fragment (`?***`), and a text that is not a URL at all
/// (no `scheme://`: a password given in the URL's place, arguments swapped or the wrong
/// environment variable read), shown as [`NOT_A_URL`]. `validate` refuses such a URL, but a
/// configuration may be printed before it is validated. Plain text handling (no URL parser): an
/// `@` before the path masks everything before it. Also the ingest Worker's `JWT_JWKS_URL`
/// (`JwtRules`' `Debug`), which may carry a key in its query.
pub(crate) fn debug_url(url: &str) -> String {
    // Whatever precedes the last `@` before the query may be a credential: a password may hold a
    // raw `/` (invalid, but printed all the same), so the authority's end is not trusted; a path
    // with an `@` is masked too (this is `Debug`, not the URL).
    let url = url.trim();
    let (main, query) = match url.find(['?', '#']) {
        Some(q) => (&url[..q], "?***"),
        None => (url, ""),
    };
    // The scheme is kept (`http://`); a `//` elsewhere is not one. Without one the text was shown
    // as given, so `AuditLogger::builder(password)` printed the password.
    let head = match main.find("://") {
        Some(i) if i > 0 && main[..i].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) => i + 3,
        _ if url.is_empty() => return String::new(),
        _ => return NOT_A_URL.to_owned(),
    };
    match main[head..].rfind('@') {
        Some(at) => cat(&[&main[..head], "***", &main[head + at..], query]),
        None => cat(&[main, query]),
    }
}

/// What `Debug` shows of a `url` or `endpoint` that is not a URL ([`debug_url`]).
const NOT_A_URL: &str = "*** (not a URL)";

/// A missing `url`, naming client mode's `endpoint` too: a page whose `endpoint:
/// import.meta.env.…` was undefined (JSON.stringify drops it) was told only of Neo4j's URL. Not in
/// the Worker deployable (feature `worker`), which never runs client mode: its size budget.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
const URL_MISSING: &str =
    "url is missing (Neo4j's HTTP base URL, e.g. http://127.0.0.1:7474; client mode: endpoint, the ingest Worker's /v1/events URL)";
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
const URL_MISSING: &str = "url is missing (Neo4j's HTTP base URL, e.g. http://127.0.0.1:7474)";

impl Config {
    /// A configuration with every default and no credentials.
    pub fn new(url: impl Into<String>) -> Self {
        Config {
            url: url.into(),
            endpoint: None,
            database: default_database(),
            username: None,
            password: None,
            token: None,
            api: Api::Tx,
            trail: default_trail(),
            timeout_ms: default_timeout_ms(),
            max_details_bytes: default_max_details_bytes(),
            labels: Labels::default(),
            retry: RetryConfig::default(),
            batch: BatchConfig::default(),
            #[cfg(target_arch = "wasm32")]
            queue: QueueConfig::default(),
            #[cfg(target_arch = "wasm32")]
            delivery: Delivery::default(),
            redact: None,
            redact_match: crate::redact::Match::Words,
            allow_insecure_http: false,
        }
    }

    /// Sets Basic credentials.
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = Some(user.into());
        self.password = Some(password.into());
        self
    }

    /// Sets a Bearer token.
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Checks every field; the first problem found is the error. Its message names the setting
    /// as the Rust API does (`timeout (ms)`, `retry.max_attempts`, `bearer token`,
    /// `allow_insecure_http(true)`; the table of `Spelling::name` in src/config.rs); the JavaScript entries check
    /// the same rules and name JavaScript's keys (`timeoutMs`, `retry.maxAttempts`).
    ///
    /// A plain `http://` URL to a host that is not loopback is refused unless
    /// [`Config::allow_insecure_http`] is set, with or without credentials: the password or
    /// token would travel in cleartext, and events written over cleartext can be altered or
    /// forged in transit, which defeats an audit trail even when Neo4j asks for no password.
    ///
    /// ```
    /// use neo4j_audit::Config;
    /// let mut c = Config::new("http://neo4j.internal:7474").basic_auth("neo4j", "secret-pw");
    /// let e = c.validate().unwrap_err().to_string();
    /// assert!(e.contains("allow_insecure_http(true)") && !e.contains("secret-pw"));
    /// c.allow_insecure_http = true;
    /// assert!(c.validate().is_ok());
    /// assert!(Config::new("https://neo4j.internal:7473").basic_auth("neo4j", "pw").validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), AuditError> {
        self.validate_in(Spelling::Rust)
    }

    /// [`Config::validate`], its messages naming the settings in spelling `s`.
    pub(crate) fn validate_in(&self, s: Spelling) -> Result<(), AuditError> {
        // A name without a letter or digit matches no key: `redact: [""]` (e.g. from an unset
        // variable) replaced the default list and so turned redaction off without a word. (Not
        // in the Worker's build: its loggers never set `redact`, it redacts by REDACT_KEYS.)
        // A plain slice: the `Option` iterated and flattened was an instance of its own (bench/size
        // fetch-writeonly, bare+wasm-opt, wasm gz -9, 2026-11-30: 59,620 -> 59,504 B).
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        {
            let list = self.redact.as_deref().unwrap_or_default();
            if let Some(i) = list.iter().position(|k| crate::redact::words(k).is_empty()) {
                let k = &list[i];
                return refused({
                    let rule = " names no key (it has no letter or digit); [] turns redaction off";
                    cat(&["redact[", &crate::error::num(i as u64), "] ", &crate::error::quoted(k), rule])
                });
            }
        }
        // (Not in the Worker's build: its configuration is direct mode, `ingest::Settings`
        // builds it and sets no endpoint.)
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        if let Some(endpoint) = &self.endpoint {
            return self.validate_client_mode(s, endpoint);
        }
        self.validate_as(s, &self.url, "url", s.name(Key::AllowInsecureHttp))
    }

    /// [`Config::validate`] of a direct-mode configuration (`url`: its url), or of a client-mode
    /// one (`url`: its endpoint, checked in the url's place), in spelling `s`; `field` names the
    /// URL's setting and `opt_out` the way to allow plain http in the cleartext refusal (the
    /// Worker's are environment variables). The URL is a parameter, not a copy of the config
    /// with the endpoint moved into `url`: that copy was a `Config::clone` of its own in the
    /// .wasm.
    pub(crate) fn validate_as(&self, s: Spelling, url: &str, field: &str, opt_out: &str) -> Result<(), AuditError> {
        if url.trim().is_empty() {
            return invalid(URL_MISSING);
        }
        // A host and port without a scheme (a ':', no '/'): "localhost:7474" parses with "localhost" as its
        // scheme, "127.0.0.1:7474" not at all; either way the fix is the scheme.
        let b = url.as_bytes();
        let no_scheme = b.contains(&b':') && !b.contains(&b'/');
        let url = match crate::urlcheck::parse(url) {
            Ok(u) if !no_scheme => u,
            Err(e) if !no_scheme => return refused(cat(&["url is not a valid URL (", &e, ")"])),
            _ => return invalid("url must start with http:// or https://, e.g. http://127.0.0.1:7474"),
        };
        if url.scheme != "http" && url.scheme != "https" {
            // A driver's URI (bolt://, neo4j+s://) is the usual mistake: say where the HTTP API is.
            let hint = if url.scheme.starts_with("bolt") || url.scheme.starts_with("neo4j") {
                "; a driver's Bolt URI: give Neo4j's HTTP URL instead, e.g. http://127.0.0.1:7474 (Aura: https://<id>.databases.neo4j.io)"
            } else {
                ""
            };
            return refused(cat(&["url must be http or https, not ", &crate::error::quoted(&url.scheme), hint]));
        }
        if url.has_credentials {
            return refused({
                let use_ = "url must not carry credentials; use ";
                cat(&[use_, s.name(Key::Credentials), " or ", s.name(Key::Token)])
            });
        }
        if url.has_query_or_fragment {
            return invalid("url must not have a query or fragment");
        }
        if url.host.is_empty() {
            return invalid("url has no host");
        }
        if let Some(Err(crate::rules::Violation::Invalid(m) | crate::rules::Violation::TooLarge(m))) =
            url.port.map(|p| crate::rules::check_port(field, p))
        {
            return refused(m);
        }
        // The wasm builds send with `fetch` (reqwest on wasm too), which in browsers and Node
        // refuses the standard's bad ports at once: such a URL was retried as a network error
        // until the deadline. Not in the Workers-only builds (the ingest Worker's, pkg/workerd's
        // memory-queue one): workerd connects to those ports (miniflare 4.20260426.0).
        #[cfg(all(target_arch = "wasm32", not(feature = "worker"), not(feature = "memory-queue")))]
        if let Some(Err(crate::rules::Violation::Invalid(m) | crate::rules::Violation::TooLarge(m))) =
            url.port.map(|p| crate::rules::check_fetch_port(field, p))
        {
            return refused(m);
        }
        if !is_database_name(&self.database) {
            let rule =
                " is not a valid Neo4j database name (letters, digits, '.', '-'; 1-63 chars, starting with a letter)";
            return refused(cat(&["database ", &crate::error::quoted(&self.database), rule]));
        }
        // Neo4j's system database (its name is case-insensitive) holds users, roles and the list of
        // databases, not data: every write there failed later, one by one, as a SemanticError, and
        // a queued event waited for it. Refused up front in direct mode (a client-mode `database`
        // is not sent; not in the Worker's build, which is at its size budget: its NEO4J_DATABASE
        // meets the same SemanticError at its first request).
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        if self.endpoint.is_none() && self.database.eq_ignore_ascii_case("system") {
            return refused({
                let rule = " is Neo4j's system database (users, roles, databases), which cannot hold audit events; name a user database, e.g. \"neo4j\"";
                cat(&["database ", &crate::error::quoted(&self.database), rule])
            });
        }
        match (&self.username, &self.password, &self.token) {
            // (Not in the Worker's build: `ingest::Settings` sets both username and password,
            // never a token.)
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                return refused(cat(&[s.name(Key::Token), " is exclusive with ", s.name(Key::Credentials)]))
            }
            (Some(u), Some(_), None) if u.is_empty() => return invalid("username is empty"),
            // Neo4j has no empty password: this is an unset setting (`NEO4J_PASSWORD=` in a .env
            // file), which otherwise failed every call later as "authentication failed: HTTP 401".
            (Some(_), Some(p), None) if p.is_empty() => {
                return invalid("password is empty (an unset environment variable?)")
            }
            // Basic auth is `user:password` in base64: a ':' in the name would move the split
            // (RFC 7617), so every call would fail later as "unauthorized".
            (Some(u), Some(_), None) if u.contains(':') => {
                return invalid("username must not contain ':' (Basic auth cannot carry it)")
            }
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            (Some(_), None, None) => return invalid("username given without password"),
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            (None, Some(_), None) => return invalid("password given without username"),
            _ => {}
        }
        // (Not in the Worker's build, whose configuration has Basic auth only: `ingest::Settings`
        // sets no token.)
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        if let Some(t) = &self.token {
            check_token(s, t)?;
        }
        // No control characters (as user.uid): "a\0b" was accepted, and the durable queue's
        // record keys use \u{1} and '|' as separators.
        // (The filter's rule for a uid, within the trail's own bound: not blank, no control
        // characters. The message's 256 is MAX_TRAIL_LEN, written out: the test
        // `rejects_bad_urls_and_auth` holds them together.)
        if self.trail.len() > MAX_TRAIL_LEN || crate::rules::check_uid_filter("trail", &self.trail).is_err() {
            return refused("trail must be a non-empty string of at most 256 bytes without control characters".into());
        }
        // An identifier's text (the rule table's, as for written uids): no white space at either
        // end, no invisible characters (bidirectional controls among them).
        if let Err(crate::rules::Violation::Invalid(m)) = crate::rules::check_identifier_text("trail", &self.trail) {
            return refused(m);
        }
        if self.timeout_ms == 0 || self.timeout_ms > 600_000 {
            return between(s, Key::Timeout, "1", "600000");
        }
        if self.max_details_bytes == 0 || self.max_details_bytes > MAX_DETAILS_LIMIT {
            return refused({
                cat(&[
                    s.name(Key::MaxDetailsBytes),
                    " must be an integer between 1 and ",
                    &crate::error::num(MAX_DETAILS_LIMIT as u64),
                ])
            });
        }
        self.labels.validate()?;
        // The delivery settings (retry, batch, queue): not in the Worker's build, whose
        // configuration keeps `Config::new`'s defaults there (`ingest::Settings` sets none of
        // them; the test `the_worker_settings_leave_the_delivery_settings_at_their_defaults`).
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        self.validate_delivery(s)?;
        // Last, so a configuration with another mistake is told that one first.
        if url.scheme == "http" && !self.allow_insecure_http && !is_loopback(&url.host) {
            return cleartext(field, opt_out, &url.host, self);
        }
        Ok(())
    }

    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn validate_delivery(&self, s: Spelling) -> Result<(), AuditError> {
        let r = &self.retry;
        if r.max_attempts == 0 || r.max_attempts > 1000 {
            return between(s, Key::RetryMaxAttempts, "1", "1000");
        }
        if r.max_elapsed_ms > 86_400_000 {
            return between(s, Key::RetryMaxElapsed, "0", "86400000");
        }
        if r.base_delay_ms == 0 || r.base_delay_ms > 600_000 {
            return between(s, Key::RetryBaseDelay, "1", "600000");
        }
        if r.max_delay_ms < r.base_delay_ms || r.max_delay_ms > 3_600_000 {
            return between(s, Key::RetryMaxDelay, s.name(Key::RetryBaseDelay), "3600000");
        }
        let b = &self.batch;
        if b.max_events == 0 || b.max_events > 10_000 {
            return between(s, Key::BatchMaxEvents, "1", "10000");
        }
        if b.max_bytes < 1024 || b.max_bytes > 64 * 1024 * 1024 {
            return between(s, Key::BatchMaxBytes, "1024", "67108864");
        }
        if b.flush_interval_ms > 60_000 {
            return between(s, Key::BatchFlushInterval, "0", "60000");
        }
        if b.max_in_flight == 0 || b.max_in_flight > 16 {
            return between(s, Key::BatchMaxInFlight, "1", "16");
        }
        #[cfg(target_arch = "wasm32")]
        self.validate_queue(s)?;
        Ok(())
    }

    #[cfg(all(target_arch = "wasm32", not(feature = "worker")))]
    fn validate_queue(&self, s: Spelling) -> Result<(), AuditError> {
        let bad = invalid;
        let q = &self.queue;
        if q.max_events == 0 || q.max_events > 1_000_000 {
            return between(s, Key::QueueMaxEvents, "1", "1000000");
        }
        if q.max_bytes < 1024 || q.max_bytes > 1024 * 1024 * 1024 {
            return between(s, Key::QueueMaxBytes, "1024", "1073741824");
        }
        if q.max_age_ms < 1000 || q.max_age_ms > 365 * 24 * 3600 * 1000 {
            return between(s, Key::QueueMaxAge, "1000 (1 s)", "31536000000 (365 days)");
        }
        if q.name.trim().is_empty() || q.name.len() > 128 {
            return bad("queue.name must be a non-empty string of at most 128 bytes");
        }
        if self.delivery == Delivery::Queued && !q.enabled {
            return bad("delivery \"queued\" needs queue.enabled");
        }
        Ok(())
    }

    /// The secrets this configuration holds, for scrubbing messages: the password, the token,
    /// and the Basic credential (a server echoing the request's `Authorization` header shows
    /// that, and it decodes to the password).
    pub(crate) fn secrets(&self) -> Vec<String> {
        // Pushed one by one: the array-flatten-collect form was three generic instances (~390 B of
        // wasm body) that a Worker's first event compiled.
        let mut v = Vec::new();
        if let Some(p) = &self.password {
            v.push(p.clone());
            // A body quoted in an error text is on one line (`outcome::snippet`): a password with
            // a line break or tab shows there with spaces instead.
            let flat = crate::outcome::one_line(p);
            if flat != *p {
                v.push(flat);
            }
        }
        if let Some(t) = &self.token {
            // As sent (`Bearer <token>` trimmed, src/sink/mod.rs): a token read from a file with
            // its line break was looked for with it, so a server's echo of the header and a
            // `details` value holding the token were kept as they came. (The Worker's build sets
            // no token.)
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            let t = crate::sink::trim_http_ws(t);
            v.push(t.to_owned());
        }
        // The forms a server or an app re-encodes them in (found by a new user: a 400 body with
        // `neo4j%3AS3cret%2FPW%2Bx`, a proxy's lower-cased token, a DSN in details built with
        // encodeURIComponent): the Basic pair `user:password` too, and lower case. Natively and
        // in the JavaScript builds each is found however a server, a proxy or an app encodes its
        // characters (percent-encoded, JSON's or HTML's escapes: `crate::error::find_secret`);
        // the Worker's build looks for the percent-encoded form (`encodeURIComponent`'s) as well.
        let (raw, mut forms) = (v.len(), Vec::new());
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            forms.push(cat(&[u, ":", p]));
            #[cfg(all(target_arch = "wasm32", feature = "worker"))]
            forms.push(percent_encoded(&cat(&[u, ":", p])));
        }
        for x in &v[..raw] {
            #[cfg(all(target_arch = "wasm32", feature = "worker"))]
            forms.push(percent_encoded(x));
            let mut lower = String::with_capacity(x.len());
            x.chars().for_each(|c| crate::unicode::push_lowercase(&mut lower, c));
            forms.push(lower);
        }
        for f in forms {
            if !v.contains(&f) {
                v.push(f);
            }
        }
        if let Some(b) = self.basic_credential() {
            // Also without its `=` padding, which carries nothing: the padding written `%3d` or
            // left out showed the credential whole before it; it was stored too. (Not in the
            // Worker's build: there these secrets only scrub its log lines of Neo4j's answers.)
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            let bare = Some(b.trim_end_matches('=')).filter(|x| x.len() < b.len()).map(str::to_owned);
            v.push(b);
            // After the padded form, which error texts then lose whole (`Basic ***`).
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            v.extend(bare);
        }
        v
    }

    /// What `Authorization: Basic` carries for a username and password (and no token):
    /// base64 of `user:password`.
    pub(crate) fn basic_credential(&self) -> Option<String> {
        match (&self.username, &self.password, &self.token) {
            (Some(u), Some(p), None) => Some(crate::b64::encode(cat(&[u, ":", p]).as_bytes())),
            _ => None,
        }
    }

    /// The base URL without a trailing slash, nor the surrounding whitespace that URL parsing (and
    /// so validation) ignores: " http://h:7474 " (a padded environment value) is valid, and the
    /// request's URL must not carry the space inside it ("…:7474 /db/…").
    pub(crate) fn base_url(&self) -> &str {
        let b = self.url.as_bytes();
        let start = b.iter().position(|&c| c > b' ').unwrap_or(b.len());
        let end = b.iter().rposition(|&c| c > b' ').map_or(start, |i| i + 1);
        self.url[start..end].trim_end_matches('/')
    }
}

/// The bearer token's checks, out of line: a configuration with Basic auth (a Worker's usual
/// one) never runs them, and V8 compiles a wasm function whole on its first call.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
#[inline(never)]
fn check_token(s: Spelling, t: &str) -> Result<(), AuditError> {
    // Whitespace alone is empty too: it is trimmed before it is sent.
    let t = crate::sink::trim_http_ws(t);
    if t.is_empty() {
        return refused(cat(&[s.name(Key::Token), " is empty"]));
    }
    // Sent as `Authorization: Bearer <token>`: a character a header cannot carry made every
    // call fail later as a retried "network error" (never echo the token itself).
    if !t.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        let rule =
            " must be printable ASCII without spaces or control characters (it is sent in the Authorization header)";
        return refused(cat(&[s.name(Key::Token), rule]));
    }
    Ok(())
}

/// `s` as `encodeURIComponent` writes it (UTF-8 bytes other than letters, digits and
/// `-_.!~*'()` as `%XX`, upper-case hex), for [`Config::secrets`] in the Worker's build (the
/// others read every percent-encoding of a secret: `crate::error::find_secret`).
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
fn percent_encoded(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// A refused configuration, out of line: a good configuration runs none of the checks' error
/// paths, and V8 compiles a wasm function whole on its first call (a Worker's first logger,
/// bench/coldstart.mjs), so each message built in place was compiled for nothing.
#[cold]
#[inline(never)]
fn invalid(m: &str) -> Result<(), AuditError> {
    Err(AuditError::InvalidConfig(m.to_owned()))
}

/// [`invalid`] for a message made from the value (made by the caller, only on that path: a
/// closure per message was an instance of this function per call site in the .wasm).
#[cold]
#[inline(never)]
fn refused(message: String) -> Result<(), AuditError> {
    Err(AuditError::InvalidConfig(message))
}

/// "`key` must be an integer between `low` and `high`" (out of line, like [`invalid`]), `key`
/// named in spelling `s`: exactly what is accepted, for any value refused (JavaScript reads a
/// negative, fractional, non-finite, too large or non-numeric value of a numeric key as one past
/// every bound, src/wasm/config.rs `int`: `-1` was "expected a non-negative integer", and `0`
/// then "must be between 1 and …").
#[cold]
#[inline(never)]
fn between(s: Spelling, key: Key, low: &str, high: &str) -> Result<(), AuditError> {
    Err(AuditError::InvalidConfig(cat(&[s.name(key), " must be an integer between ", low, " and ", high])))
}

/// The refusal of a plain `http://` URL to a remote host (out of line, like [`invalid`]). It
/// names what would travel unencrypted, never its value.
#[cold]
#[inline(never)]
fn cleartext(field: &str, opt_out: &str, host: &str, c: &Config) -> Result<(), AuditError> {
    // (The Worker's build: its configuration always has a password, `ingest::Settings`.)
    #[cfg(all(target_arch = "wasm32", feature = "worker"))]
    let what = {
        let _ = c;
        "would send the password unencrypted"
    };
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    let what = if c.password.is_some() {
        "would send the password unencrypted"
    } else if c.token.is_some() {
        "would send the token unencrypted"
    } else {
        "would send the audit events unencrypted and unauthenticated (open to forgery in transit)"
    };
    let (fix, trusted) = ("; use https://, or set ", " for a trusted private network");
    Err(AuditError::InvalidConfig(cat(&[
        field,
        ": http:// ",
        what,
        " to ",
        &crate::error::quoted(host),
        fix,
        opt_out,
        trusted,
    ])))
}

/// A host (as the URL parser gave it: lower-case, IPv4 normalised, IPv6 in brackets) that
/// names this machine: `localhost`, `127.0.0.0/8` or `[::1]`. Not `*.localhost`: browsers map
/// it to loopback themselves, but Node and Rust resolve it through DNS and the hosts file, where
/// `x.localhost` can name any host.
pub(crate) fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    // 127.a.b.c with four decimal parts: "127.evil.example" is a name, not an address. A plain
    // byte loop: `str::split` brings memchr's code into the .wasm.
    let Some(rest) = host.strip_prefix("127.") else { return false };
    let (mut dots, mut digits) = (0, 0);
    for b in rest.bytes() {
        match b {
            b'0'..=b'9' if digits < 3 => digits += 1,
            b'.' if digits > 0 => (dots, digits) = (dots + 1, 0),
            _ => return false,
        }
    }
    dots == 2 && digits > 0
}

/// `[A-Za-z_][A-Za-z0-9_]*`, at most 128 characters: safe to place in Cypher text unquoted.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 128
}

fn is_database_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && s.len() <= 63
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_with_a_tab_is_scrubbed_from_a_body_on_one_line() {
        // A server echoing the password "pass word<tab>nine" in its error page: the error text
        // holds the body on one line (outcome::snippet), the tab as a space.
        let c = Config::new("http://127.0.0.1:7474").basic_auth("neo4j", "pass word\tnine");
        let snippet = crate::outcome::snippet("echo: pass word\tnine here");
        let e = AuditError::Http { status: 500, snippet, retry_after_ms: None };
        assert_eq!(e.reason(&crate::error::refs(&c.secrets())), "HTTP 500: echo: *** here");
    }

    fn base() -> Config {
        Config::new("http://127.0.0.1:7474").basic_auth("neo4j", "pw-12345")
    }

    #[test]
    fn defaults_are_valid() {
        let c = base();
        c.validate().unwrap();
        assert_eq!(c.database, "neo4j");
        assert_eq!(c.trail, "default");
        assert_eq!(c.labels.event, "AuditEvent");
    }

    #[test]
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))] // the Worker build has no client redaction list
    fn a_redact_name_that_matches_no_key_is_refused_not_a_silent_end_of_redaction() {
        // `redact: [""]` replaced the default list with one that matches nothing: passwords
        // were then stored as given, and nothing said so.
        for (list, at) in [(vec![""], 0), (vec!["ssn", "  "], 1), (vec!["_-."], 0)] {
            let mut c = base();
            c.redact = Some(list.iter().map(|k| k.to_string()).collect());
            let e = c.validate().unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid config: redact[{at}] \"")), "{list:?}: {e}");
            assert!(e.ends_with("names no key (it has no letter or digit); [] turns redaction off"), "{e}");
        }
        for list in [vec![], vec!["ssn", "Äpfel", "x-api-key"]] {
            let mut c = base();
            c.redact = Some(list.iter().map(|k| k.to_string()).collect());
            c.validate().unwrap();
        }
    }

    /// Basic auth splits `user:password` at the first ':', so such a name could never sign in:
    /// refused at construction instead of every call failing later as "unauthorized".
    #[test]
    fn a_username_with_a_colon_is_refused() {
        let err =
            Config::new("http://127.0.0.1:7474").basic_auth("ne:o4j", "pw-12345").validate().unwrap_err().to_string();
        assert!(err.contains("username must not contain ':'"), "{err}");
        assert!(!err.contains("pw-12345"), "{err}");
    }

    #[test]
    fn an_empty_password_is_refused() {
        let err = Config::new("http://127.0.0.1:7474").basic_auth("neo4j", "").validate().unwrap_err().to_string();
        assert_eq!(err, "invalid config: password is empty (an unset environment variable?)");
    }

    #[test]
    fn a_token_that_cannot_be_an_authorization_header_is_refused_without_echoing_it() {
        // "t\u{20ac}..." was accepted, and every call then failed as a retried "network error:
        // Cannot convert argument to a ByteString" (wasm) while the event stayed queued for ever.
        for token in ["tok\u{20ac}SECRETxyz", "a\nSECRETxyz", "a SECRETxyz", "a\u{0}SECRETxyz", "\u{e9}SECRETxyz"] {
            for endpoint in [None, Some("http://127.0.0.1:8787/v1/events")] {
                let mut c = Config::new(if endpoint.is_some() { "" } else { "http://127.0.0.1:7474" }).bearer(token);
                c.endpoint = endpoint.map(str::to_owned);
                let e = c.validate().unwrap_err().to_string();
                assert!(e.contains("token must be"), "{token:?}: {e}");
                assert!(!e.contains("SECRET"), "{e}");
            }
        }
        // Surrounding whitespace (a token read from a file with its newline) is what fetch strips
        // from a header value anyway: accepted, and sent trimmed.
        let c = Config::new("http://127.0.0.1:7474").bearer("eyJ.abc-_~+/=.sig\n");
        c.validate().unwrap();
        assert_eq!(crate::sink::bearer_header("  eyJ.x.y\r\n"), "Bearer eyJ.x.y");
        // Nothing but whitespace is no token (it was accepted and sent as a bare `Bearer `).
        for blank in [" ", "\n", " \t\r\n"] {
            let e = Config::new("http://127.0.0.1:7474").bearer(blank).validate().unwrap_err().to_string();
            assert!(e.contains("bearer token is empty"), "{blank:?}: {e}");
        }
    }

    #[test]
    fn rejects_bad_labels() {
        for bad in ["", "1abc", "a-b", "Audit`Event", "A b", "x) DETACH DELETE (n", "é"] {
            let mut c = base();
            c.labels.event = bad.into();
            assert!(matches!(c.validate(), Err(AuditError::InvalidConfig(_))), "{bad:?}");
        }
        let mut c = base();
        c.labels.user = "Person_2".into();
        c.validate().unwrap();
        // Distinct roles: the trail as the application's User made a User(name) constraint.
        for (event, trail, user) in [("AuditEvent", "User", "User"), ("X", "X", "User"), ("X", "AuditTrail", "X")] {
            let mut c = base();
            c.labels = Labels { event: event.into(), trail: trail.into(), user: user.into() };
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("must differ"), "{e}");
        }
    }

    #[test]
    fn rejects_bad_urls_and_auth() {
        for url in ["", "nope", "ftp://x", "http://u:p@host:7474", "http://h/?a=1"] {
            let mut c = base();
            c.url = url.into();
            assert!(c.validate().is_err(), "{url}");
        }
        let too_long = "t".repeat(MAX_TRAIL_LEN + 1);
        for trail in ["a\u{0}b", "a\u{1}b", "t\n", "", " ", "\u{85}", &too_long] {
            let mut c = base();
            c.trail = trail.into();
            let e = c.validate().unwrap_err().to_string();
            let rule =
                cat(&["at most ", &crate::error::num(MAX_TRAIL_LEN as u64), " bytes without control characters"]);
            assert!(e.starts_with("invalid config: trail must be a non-empty string of ") && e.ends_with(&rule), "{e}");
        }
        let mut c = base();
        c.trail = "t".repeat(MAX_TRAIL_LEN);
        assert!(c.validate().is_ok());
        // Nor invisible characters, bidirectional controls among them (Trojan Source: a trail
        // displayed as another one; "audit\u{200B}" displayed as "audit").
        for trail in
            ["audit\u{202e}lat", "\u{2066}t\u{2069}", "t\u{200e}", "audit\u{200b}", "\u{feff}audit", "au\u{ad}dit"]
        {
            let mut c = base();
            c.trail = trail.into();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.starts_with("invalid config: trail must not hold invisible characters"), "{e}");
        }
        // Nor white space at either end (" audit" was a trail of its own, displayed as "audit").
        for trail in [" audit", "audit ", "\u{a0}audit", "audit\u{3000}"] {
            let mut c = base();
            c.trail = trail.into();
            let e = c.validate().unwrap_err().to_string();
            assert_eq!(e, "invalid config: trail must not begin or end with white space", "{trail:?}");
        }
        // Port 0 (accepted before: every request refused, retried until the deadline).
        for url in ["http://127.0.0.1:0", "https://h:00/db"] {
            let mut c = base();
            c.url = url.into();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.starts_with("invalid config: url: port 0 is not a port a server listens on"), "{e}");
        }
        // A forgotten url says so (it said "url is not a valid URL (invalid URL)").
        let mut c = base();
        c.url = String::new();
        assert!(c.validate().unwrap_err().to_string().contains("url is missing"));
        let c = base().bearer("tok");
        assert!(c.validate().is_err());
        let mut c = base();
        c.password = None;
        assert!(c.validate().is_err());
        let mut c = base();
        c.database = "neo4j/../x".into();
        assert!(c.validate().is_err());
        let mut c = base();
        c.timeout_ms = 0;
        assert!(c.validate().is_err());
    }

    /// `database: "system"` was accepted, and every event then failed at Neo4j one by one (a
    /// queued one waited for it): the system database holds no data.
    #[test]
    fn the_system_database_is_refused_in_direct_mode() {
        for name in ["system", "SYSTEM", "System"] {
            let mut c = Config::new("http://127.0.0.1:7474").basic_auth("neo4j", "pw");
            c.database = name.into();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.starts_with("invalid config: database") && e.contains("system database"), "{e}");
        }
        let mut c = Config::new("http://127.0.0.1:7474").basic_auth("neo4j", "pw");
        c.database = "systems".into();
        assert!(c.validate().is_ok());
    }

    /// A plain http:// URL to another machine sent the Neo4j password (or the user's token) in
    /// cleartext; it is refused unless `allow_insecure_http` says the network is trusted.
    #[test]
    fn plain_http_to_a_remote_host_is_refused_unless_allowed() {
        let direct = |url: &str| Config::new(url).basic_auth("neo4j", "SECRET-pw-1");
        let client = |url: &str| {
            let mut c = Config::new("").bearer("SECRET.tok.en");
            c.endpoint = Some(url.to_owned());
            c
        };
        let loopback = [
            "http://localhost:7474",
            "http://LOCALHOST:7474/",
            "http://127.0.0.1:7474",
            "http://127.1.2.3",
            "http://127.1:7474", // the parser normalises it to 127.0.0.1
            "http://[::1]:7474",
        ];
        for url in loopback {
            direct(url).validate().unwrap_or_else(|e| panic!("{url}: {e}"));
            client(&format!("{url}/v1/events").replace("//v1", "/v1"))
                .validate()
                .unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        let remote = [
            ("http://neo4j.internal:7474", "\"neo4j.internal\""),
            ("HTTP://Example.COM:7474", "\"example.com\""),
            ("http://10.0.0.5:7474", "\"10.0.0.5\""),
            ("http://127.evil.example", "\"127.evil.example\""),
            ("http://localhost.evil.example", "\"localhost.evil.example\""),
            // Node and Rust resolve `*.localhost` through DNS / the hosts file: not loopback.
            ("http://neo4j.localhost:7474", "\"neo4j.localhost\""),
            ("http://[::2]:7474", "\"[::2]\""),
            ("http://0.0.0.0:7474", "\"0.0.0.0\""),
        ];
        for (url, host) in remote {
            let e = direct(url).validate().unwrap_err().to_string();
            let want = [
                "url: http:// would send the password unencrypted to ",
                host,
                "; use https://, or set allow_insecure_http(true) for a trusted private network",
            ]
            .concat();
            assert!(e.ends_with(&want), "{url}: {e}");
            assert!(!e.contains("SECRET"), "{e}");
            let lower = url.to_ascii_lowercase(); // an endpoint's scheme is checked as written
            let e = client(&format!("{lower}/v1/events")).validate().unwrap_err().to_string();
            assert!(
                e.contains("endpoint: http:// would send the token unencrypted to ")
                    && e.contains("allow_insecure_http(true)"),
                "{e}"
            );
            assert!(!e.contains("SECRET"), "{e}");
            let e = Config::new(url).bearer("SECRET-t").validate().unwrap_err().to_string();
            assert!(e.contains("url: http:// would send the token unencrypted") && !e.contains("SECRET"), "{e}");
            // No credentials: still refused (events written over cleartext can be forged in transit).
            let e = Config::new(url).validate().unwrap_err().to_string();
            assert!(e.contains("url: http:// would send the audit events unencrypted and unauthenticated"), "{e}");
            // The opt-out, and https which never needs one.
            for mut c in [direct(url), client(&format!("{lower}/v1/events")), Config::new(url)] {
                c.allow_insecure_http = true;
                c.validate().unwrap_or_else(|e| panic!("{url}: {e}"));
            }
            let https = url.to_ascii_lowercase().replace("http://", "https://");
            direct(&https).validate().unwrap_or_else(|e| panic!("{https}: {e}"));
            client(&format!("{https}/v1/events")).validate().unwrap_or_else(|e| panic!("{https}: {e}"));
        }
        // The other URL checks still come first: a credentials-in-URL error is not hidden.
        let e = direct("http://u:p@h.example:7474").validate().unwrap_err().to_string();
        assert!(e.contains("must not carry credentials"), "{e}");
        // The key as JSON (Rust callers deserialising a config file).
        let c: Config = serde_json::from_str(r#"{"url":"http://h.example:7474","allowInsecureHttp":true}"#).unwrap();
        assert!(c.allow_insecure_http);
        c.validate().unwrap();
        assert!(!serde_json::from_str::<Config>(r#"{"url":"http://h.example:7474"}"#).unwrap().allow_insecure_http);
    }

    /// One rule table, two spellings: the JavaScript entries name JavaScript's keys, the Rust API
    /// its own names (it said `timeoutMs` to a caller of `.timeout(..)`).
    #[test]
    fn errors_name_the_settings_as_the_caller_wrote_them() {
        type Case = (fn(&mut Config), &'static str, &'static str);
        let cases: [Case; 8] = [
            (
                |c| c.timeout_ms = 0,
                "timeoutMs must be an integer between 1 and 600000",
                "timeout (ms) must be an integer between 1 and 600000",
            ),
            (
                |c| c.retry.max_attempts = 0,
                "retry.maxAttempts must be an integer between",
                "retry.max_attempts must be an integer between",
            ),
            (
                |c| c.retry.max_delay_ms = 1,
                "retry.maxDelayMs must be an integer between retry.baseDelayMs and 3600000",
                "retry.max_delay_ms must be an integer between retry.base_delay_ms and 3600000",
            ),
            (
                |c| c.batch.flush_interval_ms = 60_001,
                "batch.flushIntervalMs must be an integer between 0 and 60000",
                "batch.flush_interval_ms must be an integer between 0 and 60000",
            ),
            (
                |c| c.max_details_bytes = 0,
                "maxDetailsBytes must be an integer between 1 and",
                "max_details_bytes must be an integer between 1 and",
            ),
            (
                |c| c.token = Some("t".into()),
                "token is exclusive with username/password",
                "bearer token is exclusive with basic_auth",
            ),
            (
                |c| c.url = "http://neo4j.internal:7474".into(),
                "or set allowInsecureHttp: true for a trusted private network",
                "or set allow_insecure_http(true) for a trusted private network",
            ),
            (
                |c| (c.url, c.endpoint) = (String::new(), Some("https://w.example/v1/events".into())),
                "endpoint (client mode) takes a token, not username/password",
                "endpoint (client mode) takes a bearer token, not basic_auth",
            ),
        ];
        for (set, js, rust) in cases {
            let mut c = base();
            set(&mut c);
            let js_err = c.validate_in(Spelling::Js).unwrap_err().to_string();
            assert!(js_err.contains(js), "{js_err}");
            let rust_err = c.validate().unwrap_err().to_string();
            assert!(rust_err.contains(rust), "{rust_err}");
            assert!(!rust_err.contains("Ms ") && !js_err.contains("_ms"), "{rust_err} / {js_err}");
        }
        // Every key has a name in each spelling, and the two differ.
        use Key::*;
        let keys = [Timeout, MaxDetailsBytes, AllowInsecureHttp, Token, Credentials, RetryMaxAttempts, RetryMaxElapsed];
        let more = [RetryBaseDelay, RetryMaxDelay, BatchMaxEvents, BatchMaxBytes, BatchFlushInterval, BatchMaxInFlight];
        for k in keys.into_iter().chain(more) {
            let (js, rust) = (Spelling::Js.name(k), Spelling::Rust.name(k));
            assert!(!js.is_empty() && !rust.is_empty() && js != rust, "{k:?}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for h in ["localhost", "127.0.0.1", "127.255.255.255", "[::1]"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "",
            "a.localhost",
            "x.y.localhost",
            "localhost.",
            "xlocalhost",
            "127.0.0",
            "127.0.0.1.2",
            "127.0.0.x",
            "127..0.1",
            "128.0.0.1",
            "[::ffff:7f00:1]",
            "::1",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn the_basic_credential_is_a_secret_too() {
        // base64("neo4j:pw-12345"): what a server echoing the Authorization header shows.
        let b64 = "bmVvNGo6cHctMTIzNDU=";
        // Its and the pair's percent-encoded forms are found by `crate::error::find_secret`.
        assert_eq!(base().secrets(), ["pw-12345", "neo4j:pw-12345", b64, "bmVvNGo6cHctMTIzNDU"]);
        assert_eq!(base().basic_credential().as_deref(), Some(b64));
        for (echo, want) in [
            (cat(&["authorization: Basic ", b64]), "HTTP 500: authorization: Basic ***"),
            ("auth=bmVvNGo6cHctMTIzNDU%3D&x".to_owned(), "HTTP 500: auth=***&x"),
            ("u=neo4j%3Apw-12345".to_owned(), "HTTP 500: u=neo4j%3A***"),
        ] {
            let e = AuditError::Http { status: 500, snippet: echo, retry_after_ms: None };
            assert_eq!(e.reason(&crate::error::refs(&base().secrets())), want);
        }
        let t = Config::new("http://h:1").bearer("tok-secret");
        assert_eq!((t.secrets(), t.basic_credential()), (vec!["tok-secret".to_owned()], None));
    }

    /// A configuration file's password or token that is not a string (YAML's or TOML's unquoted
    /// `password: 12345678`) was refused with serde's message, which quotes the value.
    #[test]
    fn a_credential_that_is_not_a_string_is_refused_without_its_value() {
        for text in [
            r#"{"url": "http://h:1", "username": "neo4j", "password": 12345678901}"#,
            r#"{"url": "http://h:1", "username": "neo4j", "password": 1234.5678901}"#,
            r#"{"url": "http://h:1", "username": "neo4j", "password": -12345678901}"#,
            r#"{"url": "http://h:1", "username": "neo4j", "password": ["12345678901"]}"#,
            r#"{"url": "http://h:1", "username": "neo4j", "password": {"v": "12345678901"}}"#,
            r#"{"url": "http://h:1", "token": 12345678901}"#,
            r#"{"url": "http://h:1", "token": true}"#,
        ] {
            let e = serde_json::from_str::<Config>(text).unwrap_err().to_string();
            assert!(!e.contains("12345678901") && !e.contains("1234.5678901"), "{e}");
            assert!(e.starts_with("invalid type: expected a string (a credential"), "{e}");
        }
        let c: Config =
            serde_json::from_str(r#"{"url": "http://h:1", "username": "neo4j", "password": "pw 1"}"#).unwrap();
        assert_eq!((c.password.as_deref(), c.token), (Some("pw 1"), None));
        let c: Config = serde_json::from_str(r#"{"url": "http://h:1", "token": "t-1", "password": null}"#).unwrap();
        assert_eq!((c.password, c.token.as_deref()), (None, Some("t-1")));
    }

    /// The token is sent trimmed (`Bearer <token>`), but was looked for as given: one read from a
    /// file with its line break was neither scrubbed from a server's echo of the header nor kept
    /// out of `details`.
    #[test]
    fn a_token_is_a_secret_as_it_is_sent() {
        for padded in ["tok-secret-1\n", " tok-secret-1\r\n", "\ttok-secret-1 "] {
            let t = Config::new("http://h:1").bearer(padded);
            assert_eq!(t.secrets(), ["tok-secret-1"], "{padded:?}");
            let e = AuditError::Http {
                status: 500,
                snippet: "echo: authorization: Bearer tok-secret-1".into(),
                retry_after_ms: None,
            };
            assert_eq!(e.reason(&crate::error::refs(&t.secrets())), "HTTP 500: echo: authorization: Bearer ***");
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let c = base();
        let s = format!("{c:?}");
        assert!(!s.contains("pw-12345"));
        let t = Config::new("http://h:1").bearer("tok-secret");
        assert!(!format!("{t:?}").contains("tok-secret"));
    }

    #[test]
    fn debug_hides_secrets_written_into_the_url() {
        // `validate` refuses such a URL, but a Config (or a builder) printed before that — a
        // configuration read from a file and logged at start-up — showed them in full.
        let mut c = Config::new("https://neo4j:url-pw-1@db.example:7473/p?key=q-secret#f-secret");
        c.endpoint = Some("https://tok-in-user@w.example/v1/events?t=e-secret".into());
        let s = format!("{c:?}");
        for secret in ["url-pw-1", "q-secret", "f-secret", "tok-in-user", "e-secret"] {
            assert!(!s.contains(secret), "{secret} in {s}");
        }
        assert!(s.contains(r#"url: "https://***@db.example:7473/p?***""#), "{s}");
        assert!(s.contains(r#"endpoint: Some("https://***@w.example/v1/events?***")"#), "{s}");
        // No scheme, or no "//": not a URL, none of it shown.
        assert_eq!(debug_url("neo4j:pw-2@h:7474"), NOT_A_URL);
        // Nothing to hide: unchanged (but for white space around it).
        assert_eq!(debug_url("http://127.0.0.1:7474/prefix"), "http://127.0.0.1:7474/prefix");
        assert_eq!(debug_url(" https://db.example:7473 \n"), "https://db.example:7473");
        assert_eq!(debug_url(""), "");
        // A raw `/` in the password, or `//` after a scheme-less credential: still masked.
        assert_eq!(debug_url("https://neo4j:pa/ss@db:7473"), "https://***@db:7473");
        assert_eq!(debug_url("neo4j:pw@h//x"), NOT_A_URL);
        assert_eq!(debug_url("http://h/a@b"), "http://***@b");
    }

    /// A password given where the URL goes (`Config::new(password)`, `AuditLogger::builder`'s
    /// argument swapped with `basic_auth`'s, the wrong environment variable read) was printed
    /// by `{:?}` as given: only `@`, `?` and `#` were looked for, and a password has none.
    #[test]
    fn debug_of_a_url_that_is_no_url_shows_none_of_it() {
        for pw in
            ["hunter2-Secret", "Tr0ub4dor&3/x+y=", "s3cr3t:p4ss", " pw-with-space ", "ab:/cd-secret", "//x-secret"]
        {
            let mut c = Config::new(pw).basic_auth("neo4j", "pw-12345");
            c.endpoint = Some(pw.into());
            let s = format!("{c:?}");
            assert!(!s.contains(pw.trim()) && !s.contains("secret") && !s.contains("4ss"), "{s}");
            assert!(
                s.contains(r#"url: "*** (not a URL)""#) && s.contains(r#"endpoint: Some("*** (not a URL)")"#),
                "{s}"
            );
        }
    }

    #[test]
    fn deserialises_camel_case_and_denies_unknown() {
        let c: Config = serde_json::from_str(
            r#"{"url":"http://h:1","timeoutMs":5,"maxDetailsBytes":9,"api":"query","labels":{"event":"E"}}"#,
        )
        .unwrap();
        assert_eq!(c.timeout_ms, 5);
        assert_eq!(c.api, Api::Query);
        assert_eq!(c.labels.event, "E");
        assert_eq!(c.labels.trail, "AuditTrail");
        assert!(serde_json::from_str::<Config>(r#"{"url":"http://h:1","pasword":"x"}"#).is_err());
    }

    #[test]
    fn delivery_options_deserialise_and_validate() {
        let c: Config = serde_json::from_str(
            r#"{"url":"http://127.0.0.1:1","retry":{"maxAttempts":3},"batch":{"maxEvents":7,"flushIntervalMs":5}}"#,
        )
        .unwrap();
        assert_eq!(c.retry.max_attempts, 3);
        assert_eq!(c.retry.max_delay_ms, RetryConfig::default().max_delay_ms);
        assert_eq!((c.batch.max_events, c.batch.flush_interval_ms), (7, 5));
        c.validate().unwrap();
        assert!(serde_json::from_str::<Config>(r#"{"url":"http://h:1","retry":{"attempts":3}}"#).is_err());
        let mut c = base();
        c.retry.max_attempts = 0;
        assert!(c.validate().is_err());
        let mut c = base();
        c.retry.max_delay_ms = 1;
        assert!(c.validate().is_err());
        let mut c = base();
        c.batch.max_events = 0;
        assert!(c.validate().is_err());
        // The durable queue is WebAssembly's: a native configuration has no such field.
        let queue = serde_json::from_str::<Config>(r#"{"url":"http://h:1","queue":{"enabled":false}}"#);
        assert_eq!(queue.is_ok(), cfg!(target_arch = "wasm32"));
        #[cfg(target_arch = "wasm32")]
        {
            let mut c = base();
            c.queue.max_bytes = 10;
            assert!(c.validate().is_err());
            let mut c = base();
            c.delivery = Delivery::Queued;
            c.validate().unwrap();
            c.queue.enabled = false;
            assert!(c.validate().is_err());
        }
    }
}
