//! The Rust way in: [`AuditLoggerBuilder`] (a logger from a few calls instead of a whole
//! [`Config`]) and [`Action`] (one event whose details are any `Serialize` value).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;

use crate::chain::{Chain, StreamState, StreamStore};
use crate::config::{Api, BatchConfig, Config, Labels, RetryConfig};
use crate::error::AuditError;
use crate::event::{AuditEvent, User};
use crate::logger::AuditLogger;

/// Longest [`AuditLoggerBuilder::deadline`] accepted: one day.
pub const MAX_DEADLINE: Duration = Duration::from_secs(24 * 3600);

/// Builds an [`AuditLogger`]; start with [`AuditLogger::builder`]. Every setting has a default
/// (those of [`Config::new`]); [`AuditLoggerBuilder::build`] validates them all at once.
///
/// ```
/// use std::time::Duration;
/// use neo4j_audit::{Api, AuditLogger};
/// let logger = AuditLogger::builder("http://127.0.0.1:7474")
///     .basic_auth("neo4j", "secret-pw")
///     .database("neo4j")
///     .trail("billing")
///     .api(Api::Query)
///     .timeout(Duration::from_secs(2))
///     .deadline(Duration::from_secs(5))
///     .build()
///     .expect("valid settings");
/// assert_eq!(logger.config().trail, "billing");
/// assert_eq!(logger.config().timeout_ms, 2000);
/// assert_eq!(logger.deadline(), Some(Duration::from_secs(5)));
/// assert!(!format!("{logger:?}").contains("secret-pw"));
///
/// let err = AuditLogger::builder("ftp://example").build().unwrap_err();
/// assert!(err.to_string().starts_with("invalid config: url must be http or https"));
/// ```
#[must_use = "a builder does nothing until .build()"]
pub struct AuditLoggerBuilder {
    config: Config,
    deadline: Option<Duration>,
    stream: Option<(StreamState, Option<Box<dyn StreamStore>>)>,
    /// PEM texts of [`AuditLoggerBuilder::root_certificate_pem`], parsed by `build`.
    #[cfg(not(target_arch = "wasm32"))]
    roots: Vec<Vec<u8>>,
}

impl std::fmt::Debug for AuditLoggerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("AuditLoggerBuilder");
        d.field("config", &self.config)
            .field("deadline", &self.deadline)
            .field("stream", &self.stream.as_ref().map(|(s, _)| s));
        #[cfg(not(target_arch = "wasm32"))]
        d.field("root_certificates", &self.roots.len());
        d.finish()
    }
}

impl From<Config> for AuditLoggerBuilder {
    /// Starts from a whole configuration (e.g. deserialised from a file).
    fn from(config: Config) -> Self {
        AuditLoggerBuilder {
            config,
            deadline: None,
            stream: None,
            #[cfg(not(target_arch = "wasm32"))]
            roots: Vec::new(),
        }
    }
}

impl AuditLoggerBuilder {
    /// Defaults for the Neo4j HTTP API at `url`; the same as [`AuditLogger::builder`].
    pub fn new(url: impl Into<String>) -> Self {
        Config::new(url).into()
    }

    /// Basic authentication (exclusive with [`AuditLoggerBuilder::bearer`]). Neither is shown
    /// by `Debug` or in any error.
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.config = self.config.basic_auth(user, password);
        self
    }

    /// A bearer token (exclusive with [`AuditLoggerBuilder::basic_auth`]).
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.config = self.config.bearer(token);
        self
    }

    /// Accept a plain `http://` URL to a host that is not loopback (default `false`: refused by
    /// [`AuditLoggerBuilder::build`], since the credentials and the events would cross the
    /// network unencrypted). Only for a trusted private network; prefer `https://`.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.config.allow_insecure_http = allow;
        self
    }

    /// Trust the CA certificates in `pem` (PEM text: one or more `-----BEGIN CERTIFICATE-----`
    /// blocks) for `https://` URLs, beside the public CAs trusted by default: for a Neo4j whose
    /// certificate a private CA issued, or a self-signed one (give that certificate; it must not
    /// be marked as a CA, `basicConstraints=CA:FALSE`: rustls refuses a CA certificate as a
    /// server's own, `CaUsedAsEndEntity`, and `openssl req -x509` marks it so by default). May be
    /// called more than once. [`AuditLoggerBuilder::build`] refuses a text without a certificate
    /// ([`AuditError::InvalidConfig`]). Certificate checks stay on: a server whose certificate
    /// is not from a trusted CA, or not for the URL's host name, is refused as before. Native
    /// builds only (in a browser or a Worker the platform decides what it trusts).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use neo4j_audit::AuditLogger;
    /// let ca = std::fs::read("/etc/neo4j/certificates/ca.pem")?;
    /// let logger = AuditLogger::builder("https://neo4j.internal:7473")
    ///     .basic_auth("audit", std::env::var("NEO4J_PASSWORD")?)
    ///     .root_certificate_pem(ca)
    ///     .build()?;
    /// logger.log_user_action(None, "SERVICE_STARTED", None, None).await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.roots.push(pem.into());
        self
    }

    /// The Neo4j database. Default `neo4j`.
    pub fn database(mut self, name: impl Into<String>) -> Self {
        self.config.database = name.into();
        self
    }

    /// The name of the trail the events hang off (and the reads and verification look at).
    /// Default `default`.
    pub fn trail(mut self, name: impl Into<String>) -> Self {
        self.config.trail = name.into();
        self
    }

    /// Which Neo4j HTTP endpoint receives the statements. Default [`Api::Tx`].
    pub fn api(mut self, api: Api) -> Self {
        self.config.api = api;
        self
    }

    /// Bound on one HTTP request (connect, send, answer), at millisecond precision; 1 ms to
    /// 10 minutes. Default 10 s. A failed or timed-out request is retried (see
    /// [`AuditLoggerBuilder::retry`]); bound the whole call with
    /// [`AuditLoggerBuilder::deadline`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout_ms = timeout.as_millis().min(u64::MAX as u128) as u64;
        self
    }

    /// Bound on writing one batch, every attempt and backoff wait included: the call fails with
    /// [`AuditError::Timeout`] (an attempt still running) or the last attempt's error (when the
    /// next retry would end past it) once it is reached. 1 ms to one day, at millisecond
    /// precision (a fraction of a millisecond is dropped). Default: none (the retry
    /// policy alone bounds it: by default 6 attempts within 30 s, which against a Neo4j that
    /// refuses connections at once, stopped or restarting, are spent after about 3 s of backoff;
    /// see [`RetryConfig`]). Events waiting behind other batches in flight wait for those first,
    /// and a batch's wait for company ([`BatchConfig::flush_interval_ms`]) comes before its
    /// first attempt: neither counts against the deadline.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The retry policy for retryable failures. Default [`RetryConfig::default`].
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.config.retry = retry;
        self
    }

    /// How events are grouped into requests. Default [`BatchConfig::default`].
    pub fn batch(mut self, batch: BatchConfig) -> Self {
        self.config.batch = batch;
        self
    }

    /// Node labels of events, trail and users. Default `AuditEvent`, `AuditTrail`, `User`.
    pub fn labels(mut self, labels: Labels) -> Self {
        self.config.labels = labels;
        self
    }

    /// Bound on an event's serialised details, in bytes. Default 65536.
    pub fn max_details_bytes(mut self, bytes: usize) -> Self {
        self.config.max_details_bytes = bytes;
        self
    }

    /// Keys whose values become `"[REDACTED]"` before an event is hashed or sent, instead of
    /// the default list; an empty list turns redaction off.
    pub fn redact<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.redact = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// How [`AuditLoggerBuilder::redact`] names match keys. Default
    /// [`RedactMatch::Words`](crate::RedactMatch::Words).
    pub fn redact_match(mut self, how: crate::RedactMatch) -> Self {
        self.config.redact_match = how;
        self
    }

    /// Continues a saved hash-chain stream (e.g. [`AuditLogger::chain_head`] of a previous run)
    /// instead of starting a fresh one; `store`, if given, is told every new state. A state of a
    /// stream bound to another trail than this logger's (its events would verify as `forged`
    /// here) is refused by [`AuditLoggerBuilder::build`]; so is one beyond
    /// [`crate::chain::MAX_SEQ`], and one whose head is not a hash
    /// ([`StreamState::head_is_hash`]).
    pub fn resume_stream(mut self, state: StreamState, store: Option<Box<dyn StreamStore>>) -> Self {
        self.stream = Some((state, store));
        self
    }

    /// The configuration so far (not yet validated).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Validates every setting and builds the logger; [`AuditError::InvalidConfig`] names the
    /// first setting that is wrong. Sends nothing.
    pub fn build(self) -> Result<AuditLogger, AuditError> {
        if let Some(d) = self.deadline {
            // At millisecond precision, as the delivery counts it: below 1 ms it was accepted
            // and counted as 0 ms (every write failed at once, `Timeout(0ns)`).
            if d < Duration::from_millis(1) || d > MAX_DEADLINE {
                return Err(AuditError::InvalidConfig("deadline must be between 1 ms and 24 h".into()));
            }
        }
        if let Some((state, _)) = self.stream.as_ref().filter(|(state, _)| !state.resumable()) {
            return Err(AuditError::InvalidConfig(
                if state.head_is_hash() {
                    "resume_stream: next_seq is beyond the largest seq a stream hands out (chain::MAX_SEQ, 2^53 - 1)"
                } else {
                    "resume_stream: head is not a hash (64 lower-case hex digits; chain::GENESIS before the first event): a corrupted or hand-written state?"
                }
                .into(),
            ));
        }
        if let Some((state, _)) = &self.stream {
            if crate::chain::stream_trail_binding(&state.stream_id, &self.config.trail) == Some(false) {
                return Err(AuditError::InvalidConfig(crate::error::cat(&[
                    "resume_stream: the stream is bound to another trail than \"",
                    &self.config.trail,
                    "\" (a state saved by a logger of another trail?): its events would verify as forged in this one; resume it with its own trail, or start a new stream",
                ])));
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        let transport =
            roots_transport(self.config.endpoint.as_deref().unwrap_or(self.config.base_url()), &self.roots)?;
        let trail = &self.config.trail;
        let chain = self.stream.map(|(state, store)| Chain::resume(state, store).in_trail(trail));
        let logger = AuditLogger::with_parts(self.config, self.deadline, chain, crate::config::Spelling::Rust)?;
        #[cfg(not(target_arch = "wasm32"))]
        let logger = match transport {
            Some(t) => logger.set_transport(t),
            None => logger,
        };
        Ok(logger)
    }
}

/// A transport for requests to `url` that trusts the certificates of `pems`
/// ([`AuditLoggerBuilder::root_certificate_pem`]), or `None` without any.
#[cfg(not(target_arch = "wasm32"))]
fn roots_transport(url: &str, pems: &[Vec<u8>]) -> Result<Option<crate::transport::Transport>, AuditError> {
    if pems.is_empty() {
        return Ok(None);
    }
    let refused = |why: &str| AuditError::InvalidConfig(crate::error::cat(&["root_certificate_pem: ", why]));
    let mut roots = Vec::new();
    for pem in pems {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|_| refused("a CERTIFICATE block is not valid base64 DER"))?;
        if certs.is_empty() {
            return Err(refused("no certificate in it (PEM text with -----BEGIN CERTIFICATE----- blocks)"));
        }
        roots.extend(certs);
    }
    crate::transport::Transport::with_roots(url, roots)
        .map(Some)
        .map_err(|_| refused("a certificate was refused as a trust anchor (not an X.509 CA certificate?)"))
}

/// One action to log, started by [`AuditLogger::action`]; `.await` writes it and resolves like
/// [`AuditLogger::log_user_action`].
#[must_use = "an action is only logged when awaited"]
pub struct Action<'a> {
    logger: &'a AuditLogger,
    action_type: &'a str,
    user: Option<&'a User>,
    category: Option<&'a str>,
    details: Result<Option<crate::logger::Details>, AuditError>,
    options: crate::LogOptions,
}

/// The action without its details' values (`Some("…")`): they are redacted, and kept clear of
/// the logger's credentials, only when the event is built, so `{:?}` of an action showed a
/// `password` member (or a DSN holding the logger's own password) as given.
impl std::fmt::Debug for Action<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Action")
            .field("logger", &self.logger)
            .field("action_type", &self.action_type)
            .field("user", &self.user)
            .field("category", &self.category)
            .field("details", &self.details.as_ref().map(|d| d.as_ref().map(|_| "…")))
            .field("options", &self.options)
            .finish()
    }
}

impl<'a> Action<'a> {
    pub(crate) fn new(logger: &'a AuditLogger, action_type: &'a str) -> Self {
        Action { logger, action_type, user: None, category: None, details: Ok(None), options: Default::default() }
    }

    /// The acting user.
    pub fn user(mut self, user: &'a User) -> Self {
        self.user = Some(user);
        self
    }

    /// The category (`eventCategory`). Default [`crate::DEFAULT_CATEGORY`].
    pub fn category(mut self, category: &'a str) -> Self {
        self.category = Some(category);
        self
    }

    /// The details: any value that serialises to a JSON object (a struct, a map, a
    /// `serde_json::Value`); one that serialises to `null` (`()`, `None`, a unit struct) means
    /// no details, as not calling this. One that does not, fails to serialise, holds a float that JSON
    /// cannot carry (NaN, ±Infinity, which serde_json would write as `null`) or gives a member
    /// name twice in one object (a `#[serde(flatten)]` map holding a field's name) makes
    /// the action resolve [`AuditError::InvalidInput`] without sending anything.
    ///
    /// Stored as `serde_json::to_string` writes the value: a struct's fields in their declared
    /// order, a map's entries in its own iteration order (whatever serde_json's features).
    /// The value is serialised with a bound on its nesting (the logger's details depth rule): a
    /// value nested far deeper, e.g. a `serde_json::Value` built in a loop, is refused
    /// ("details are nested more than 16 levels deep") without recursing into it, where
    /// `serde_json::to_string` would overflow the stack.
    pub fn details<D: Serialize + ?Sized>(mut self, details: &D) -> Self {
        let max = self.logger.limits().max_details_depth;
        let text = crate::serdepth::to_text(details, max);
        self.details = text.map(|t| Some(crate::logger::Details::Text(t))).map_err(|e| match e {
            crate::serdepth::Refused::TooDeep => AuditError::InvalidInput(crate::error::cat(&[
                "details are nested more than ",
                &max.to_string(),
                " levels deep",
            ])),
            crate::serdepth::Refused::NotFinite => {
                AuditError::InvalidInput("details contain NaN or Infinity, which JSON cannot represent".into())
            }
            crate::serdepth::Refused::Failed(e) => {
                AuditError::InvalidInput(format!("details could not be serialised: {e}"))
            }
        });
        self
    }

    /// One more thing the action was performed on: `(event)-[:ON]->(:Label {UID: uid})` when that
    /// node exists, and in the event's `targetKeys` always (rules: README, "The graph").
    ///
    /// ```no_run
    /// # async fn demo(logger: neo4j_audit::AuditLogger) -> Result<(), neo4j_audit::AuditError> {
    /// use neo4j_audit::Target;
    /// logger.action("DOCUMENT_MOVED").target(Target::new("Document", "doc-456").role("subject"))
    ///     .target(Target::new("Folder", "f-9").role("destination")).await?;
    /// # Ok(()) }
    /// ```
    pub fn target(mut self, target: crate::Target) -> Self {
        self.options = self.options.target(target);
        self
    }

    /// Builds, chains and writes the event; the same as awaiting the action.
    pub async fn log(self) -> Result<AuditEvent, AuditError> {
        self.logger.log_event(self.user, self.action_type, self.category, self.details, &self.options).await
    }
}

#[cfg(not(target_arch = "wasm32"))]
type ActionFuture<'a> = Pin<Box<dyn Future<Output = Result<AuditEvent, AuditError>> + Send + 'a>>;
#[cfg(target_arch = "wasm32")]
type ActionFuture<'a> = Pin<Box<dyn Future<Output = Result<AuditEvent, AuditError>> + 'a>>;

impl<'a> IntoFuture for Action<'a> {
    type Output = Result<AuditEvent, AuditError>;
    type IntoFuture = ActionFuture<'a>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.log())
    }
}
