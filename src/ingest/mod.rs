//! The ingest endpoint that a Cloudflare Worker serves: browsers `POST /v1/events` with a bearer
//! JWT, the Worker verifies it, checks the body, rate-limits the subject and writes the events
//! into Neo4j with the credentials only it holds. `GET /v1/health` checks Neo4j.
//!
//! Everything here is plain Rust, testable natively: [`handle`] takes the request's method, path
//! and headers, and reaches the outside world only through [`Io`] (body, rate limiter, log) and
//! [`Store`] (Neo4j). `crate::wasm::worker` adapts it to workerd's `Request`/`Response`.
//!
//! Status codes: 201 written; 200 health; 204 preflight; 400 bad JSON/shape, a repeated `UID` or
//! an `occurredAt` outside the window; 401 missing or bad token; 403 disallowed origin, a body
//! naming a user, a category outside `ALLOWED_CATEGORIES`, a target label outside
//! `ALLOWED_TARGET_LABELS`, or (with `TENANT_CLAIM`) a token without the tenant claim; 404; 405; 413 body, batch or details
//! too large; 415 not JSON or a compressed body (`Content-Encoding`); 422 events a constraint of the database refuses; 429 rate limited;
//! 503 + `Retry-After` Neo4j or the rate limiter unavailable; 500 misconfigured or the store
//! refused.
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
pub mod cors;
pub mod jwks;
pub mod jwt;
mod mac;
pub mod signed;
// Used by the Worker entry (src/wasm/worker.rs: wasm with `js`).
#[cfg(all(target_arch = "wasm32", feature = "js"))]
pub(crate) mod host;

use crate::config::Config;
use crate::error::{cat, num, quoted, AuditError};
use crate::event::User;
use crate::json::Json;
use crate::redact::Redactor;
use crate::AuditLogger;

use crate::event::Source;
use body::{BodyError, BodyLimits, OccurredAtWindow};
use cors::Cors;
use jwt::JwtRules;

/// The library's configuration fields that [`Settings`] fills from a Worker setting, as the
/// first word of `Config`'s messages, with that setting's name (what the Worker's log says).
const CONFIG_FIELDS: [(&str, &str); 7] = [
    ("url", "NEO4J_URL"),
    ("username", "NEO4J_USER"),
    ("password", "NEO4J_PASSWORD"),
    ("database", "NEO4J_DATABASE"),
    ("trail", "AUDIT_TRAIL"),
    ("timeoutMs", "NEO4J_TIMEOUT_MS"),
    ("maxDetailsBytes", "MAX_DETAILS_BYTES"),
];

/// Shortest accepted `AUDIT_JWT_SECRET`, in bytes (HS256 wants a key of at least 256 bits).
pub const MIN_SECRET_LEN: usize = 32;
/// Bounds on `JWT_MAX_LIFETIME_SECS`: one minute to 30 days.
pub const LIFETIME_BOUNDS_SECS: (u64, u64) = (60, 30 * 86_400);
/// Bounds on `JWT_CLOCK_SKEW_SECS`: none to one hour (a larger leeway would keep an expired token
/// usable for longer than most tokens live).
pub const CLOCK_SKEW_BOUNDS_SECS: (u64, u64) = (0, 3600);

/// The Worker's settings, read once per request from its environment (vars and secrets).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `None` when there is no token key: `AUDIT_JWT_SECRET` missing or shorter than
    /// [`MIN_SECRET_LEN`], and neither `JWT_JWKS_URL` nor `JWT_PUBLIC_KEYS` set.
    pub jwt: Option<JwtRules>,
    /// `ALLOWED_ORIGINS`: the CORS allow-list (empty when unset: no origin is allowed).
    pub cors: Cors,
    /// `MAX_BATCH`, `MAX_DETAILS_BYTES`, `MAX_DETAILS_DEPTH`: bounds on one request body.
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
    /// `OCCURRED_AT_MAX_SKEW_SECS` (default 300) and `OCCURRED_AT_MAX_AGE_SECS` (default 8 days):
    /// the accepted range of a client's `occurredAt` around the Worker's clock.
    pub occurred_at: OccurredAtWindow,
    /// `ALLOWED_CATEGORIES` (comma separated): when set, the only categories accepted (403
    /// otherwise); the default `USER_ACTION` must be listed to be accepted too.
    pub allowed_categories: Option<Vec<String>>,
    /// `ALLOWED_TARGET_LABELS` (comma separated): the only labels an event's targets may name
    /// (403 otherwise). Unset or empty: no targets are accepted, so a client can never make an
    /// `ON` edge to a label the operator did not allow.
    pub allowed_target_labels: Vec<String>,
    /// `TENANT_CLAIM`: when set, the claim of the verified token that names its tenant; events
    /// go into the trail `org:<value>` (not `AUDIT_TRAIL`), and a token without the claim is
    /// refused (403).
    pub tenant_claim: Option<String>,
    /// `AUDIT_SIGNING_KEY` (the Ed25519 seed, base64url or hex) with `AUDIT_SIGNING_KEY_ID`
    /// (default `"k1"`): `Ok(None)` when unset (writes are chained, not signed), `Err` when set
    /// but unusable (the endpoint then answers 500 misconfigured; the reason never quotes it).
    pub signer: Result<Option<crate::sign::SigningKey>, String>,
    /// The public keys `GET /v1/keys` publishes and `GET /v1/verify` trusts: the signing key's,
    /// then `AUDIT_PUBLIC_KEYS` (retired keys, `kid:x` comma separated, x base64url).
    pub public_keys: Vec<crate::sign::PublicJwk>,
    /// `VERIFY_SUBJECTS` (comma separated token subjects): who may call `GET /v1/verify`; unset:
    /// no one (403), since the tokens the Worker accepts are its end users'.
    pub verify_subjects: Option<Vec<String>>,
    /// The key `GET /v1/verify` seals its cursors with, derived from `AUDIT_SIGNING_KEY` and the
    /// public keys it verifies with (`None` without it: that endpoint then answers 500
    /// misconfigured).
    pub cursor_key: Option<CursorKey>,
}

/// The key `GET /v1/verify` seals its cursors with: HMAC-SHA256(`AUDIT_SIGNING_KEY` as set,
/// `CURSOR_KEY_LABEL`, `AUDIT_SIGNING_KEY_ID` and `AUDIT_PUBLIC_KEYS`' entries). Derived from
/// the one secret every verifying Worker has, whichever way its tokens are checked (HS256 or only
/// a key set), so every isolate of a deployment seals and opens alike and no one without the
/// signing key can make one; and from what makes the public keys a walk is judged with, so a walk
/// cannot go on under other keys (a key removed from `AUDIT_PUBLIC_KEYS` between two pages left
/// the pages before judged with it, and the walk ended in one `ok`: `tests/chain.rs`
/// `a_verify_cursor_from_another_key_set_is_refused`). `Debug` never shows it.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl CursorKey {
    /// `label`: `CURSOR_KEY_LABEL`, `AUDIT_SIGNING_KEY_ID`, then each entry of `AUDIT_PUBLIC_KEYS`
    /// after a line break (neither an id nor an entry has one).
    fn derive(signing_key: &str, label: &str) -> CursorKey {
        let mut m = mac::HmacSha256::new(signing_key.trim().as_bytes());
        m.update(label.as_bytes());
        CursorKey(m.finalize())
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(***)")
    }
}

impl Settings {
    /// The event builder the client logger uses too (one place events are born), with this
    /// Worker's redaction and detail limits.
    pub fn event_builder(&self) -> crate::event::EventBuilder {
        let lim = crate::rules::Limits {
            max_details_bytes: self.limits.max_details_bytes,
            max_details_depth: self.limits.max_details_depth,
            size_setting: "MAX_DETAILS_BYTES",
        };
        crate::event::EventBuilder::new(self.redactor.clone(), lim)
    }

    /// Reads `AUDIT_JWT_SECRET`, `AUDIT_JWT_SECRET_PREVIOUS`, `JWT_JWKS_URL`, `JWT_PUBLIC_KEYS`,
    /// `JWT_ALGORITHMS`, `JWT_AUDIENCE`, `JWT_AUDIENCE_CHECK`, `JWT_ISSUER`,
    /// `JWT_CLOCK_SKEW_SECS`, `JWT_MAX_LIFETIME_SECS`, `ALLOWED_ORIGINS`, `ALLOWED_CATEGORIES`,
    /// `MAX_BODY_BYTES`, `MAX_BATCH`, `MAX_DETAILS_BYTES`, `MAX_DETAILS_DEPTH`,
    /// `OCCURRED_AT_MAX_SKEW_SECS`, `OCCURRED_AT_MAX_AGE_SECS`, `RETRY_AFTER_SECS`,
    /// `RATE_LIMIT_PERIOD_SECS`, `NEO4J_URL`, `NEO4J_USER`, `NEO4J_PASSWORD`, `NEO4J_DATABASE`,
    /// `NEO4J_TIMEOUT_MS`, `NEO4J_ALLOW_INSECURE_HTTP`, `AUDIT_TRAIL`, `REDACT_KEYS`,
    /// `REDACT_MATCH`, `ALLOWED_TARGET_LABELS`, `TENANT_CLAIM`.
    ///
    /// A numeric var that is not digits or is outside its bounds, or a two-valued var
    /// (`REDACT_MATCH`, `JWT_AUDIENCE_CHECK`, `NEO4J_ALLOW_INSECURE_HTTP`) set to neither of its
    /// values, is a misconfiguration (500), never the default or a clamp.
    ///
    /// A plain `http://` `NEO4J_URL` whose host is not loopback is refused (the Neo4j password
    /// would cross the network unencrypted) unless `NEO4J_ALLOW_INSECURE_HTTP` is `true`.
    ///
    /// Tokens are checked securely by default: `aud` must name `JWT_AUDIENCE` (default
    /// [`jwt::DEFAULT_AUDIENCE`]) unless `JWT_AUDIENCE_CHECK` is `off` (`on` or `off`, any
    /// case; another value keeps the check and is a misconfiguration), and a token may live at most `JWT_MAX_LIFETIME_SECS`
    /// (default one day, within [`LIFETIME_BOUNDS_SECS`]). `JWT_ALGORITHMS` (comma separated:
    /// `HS256`, `RS256`, `ES256`) defaults to `RS256,ES256` when a key set is configured
    /// (`JWT_JWKS_URL`, https only, and/or `JWT_PUBLIC_KEYS`), else `HS256`; an algorithm without
    /// its key, an unknown name, a non-https `JWT_JWKS_URL`, an unusable `JWT_PUBLIC_KEYS`, or
    /// `JWT_AUDIENCE_CHECK` `off` with a key set but no `JWT_ISSUER` is a misconfiguration (500).
    ///
    /// Native builds only: the wasm builds derive the signing key's public half with the host's
    /// WebCrypto, asynchronously ([`Settings::load`], which every build has).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Settings {
        let mut s = Settings::read_env(get);
        let jwk = s.signer.as_ref().ok().and_then(|k| k.as_ref()).map(|k| Ok(k.public_jwk()));
        s.add_signer_key(jwk);
        s
    }

    /// [`Settings::from_env`] in every build (the Worker's).
    pub async fn load(get: impl Fn(&str) -> Option<String>) -> Settings {
        let mut s = Settings::read_env(get);
        let jwk = match s.signer.as_ref().ok().and_then(|k| k.as_ref()) {
            Some(k) => Some(k.public_key().await),
            None => None,
        };
        s.add_signer_key(jwk);
        s
    }

    /// The signing key's public half first among `public_keys` (replacing a listed key of the
    /// same id and key); a key WebCrypto refused makes the signer unusable, and so does a listed
    /// key with the signing key's id but another key (two keys of one id: which one verifies
    /// would depend on the order, and streams signed with the other would read as forged).
    fn add_signer_key(&mut self, jwk: Option<Result<crate::sign::PublicJwk, String>>) {
        match jwk {
            None => {}
            Some(Err(e)) => self.signer = Err(e),
            Some(Ok(j)) if self.public_keys.iter().any(|k| k.kid == j.kid && k.x != j.x) => {
                self.signer = Err(cat(&[
                    "AUDIT_PUBLIC_KEYS lists key id ",
                    &quoted(&j.kid),
                    ", the id of AUDIT_SIGNING_KEY, with another key (a retired key needs an id of its own)",
                ]));
            }
            Some(Ok(j)) => {
                self.public_keys.retain(|k| k.kid != j.kid);
                self.public_keys.insert(0, j);
            }
        }
    }

    /// Everything but the signing key's public half.
    fn read_env(get: impl Fn(&str) -> Option<String>) -> Settings {
        let text = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        // A var that is set but not one of its values (a numeric one that is not a whole number:
        // "64k", "1h", "-1"; one outside its bounds; a REDACT_MATCH typo) is a mistake the operator
        // must hear about, never silently the default or a clamped value: the Worker is then
        // misconfigured (500, the log names the var and what it takes; its value is not quoted).
        let wrong = std::cell::RefCell::new(None::<String>);
        let refuse = |why: String| {
            wrong.borrow_mut().get_or_insert(why);
        };
        let num = |k: &str, d: u64| match text(k) {
            None => d,
            Some(v) => crate::json::digits_u64(&v).unwrap_or_else(|| {
                refuse(cat(&[k, " must be a whole number (digits only)"]));
                d
            }),
        };
        // A bounded numeric var (bounds inclusive). Out of bounds it is the default, as a value
        // that is not a number: the token is then checked as usual and the answer is the 500
        // naming the var (a clamped JWT_MAX_LIFETIME_SECS = 30 gave a 401 instead).
        let within = |k: &str, d: u64, (lo, hi): (u64, u64)| {
            let v = num(k, d);
            if v < lo || v > hi {
                refuse(cat(&[k, " must be between ", &crate::error::num(lo), " and ", &crate::error::num(hi)]));
                return d;
            }
            v
        };
        // A var of two values, any case: whether it is set to `other` (unset or empty: `default`).
        // The rule table's, which the CLI's NEO4J_ALLOW_INSECURE_HTTP follows too.
        let choice = |k: &str, default: &str, other: &str| {
            crate::rules::switch(k, get(k).as_deref(), default, other).unwrap_or_else(|why| {
                refuse(why);
                false
            })
        };
        let audience_check_off = choice("JWT_AUDIENCE_CHECK", "on", "off");
        // Read whatever JWT_AUDIENCE_CHECK says: a setting not read is taken for a misspelled one.
        get("JWT_AUDIENCE");
        let previous_secret = get("AUDIT_JWT_SECRET_PREVIOUS").filter(|s| !s.trim().is_empty());
        let short_previous = previous_secret.as_ref().is_some_and(|s| s.len() < MIN_SECRET_LEN);
        let secret = get("AUDIT_JWT_SECRET").filter(|s| s.len() >= MIN_SECRET_LEN);
        let mut key_error: Option<String> = None;
        let jwks_url = text("JWT_JWKS_URL");
        if jwks_url.as_deref().is_some_and(|u| !jwks::is_https(u)) {
            key_error = Some("JWT_JWKS_URL must be an https:// URL".into());
        }
        let public_keys = match text("JWT_PUBLIC_KEYS").map(|t| jwks::parse_set(&t)) {
            None => Vec::new(),
            Some(Ok(k)) if !k.is_empty() => k,
            Some(Ok(_)) => {
                key_error = Some("JWT_PUBLIC_KEYS holds no RSA or P-256 key".into());
                Vec::new()
            }
            Some(Err(e)) => {
                key_error = Some(cat(&["JWT_PUBLIC_KEYS: ", &e]));
                Vec::new()
            }
        };
        let key_set = jwks_url.is_some() || !public_keys.is_empty();
        let listed = text("JWT_ALGORITHMS");
        let algorithms = match listed.as_deref() {
            None if key_set => vec![jwt::Alg::Rs256, jwt::Alg::Es256],
            None => vec![jwt::Alg::Hs256],
            Some(list) => {
                let mut algs = Vec::new();
                for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    match jwt::Alg::parse(name) {
                        Some(a) if !algs.contains(&a) => algs.push(a),
                        Some(_) => {}
                        None => {
                            key_error = Some(cat(&[
                                "JWT_ALGORITHMS names ",
                                &quoted(crate::outcome::first_chars(name, 16)),
                                "; it takes HS256, RS256 and ES256",
                            ]))
                        }
                    }
                }
                algs
            }
        };
        for a in &algorithms {
            let (has_key, need) = match a {
                jwt::Alg::Hs256 => (secret.is_some(), "AUDIT_JWT_SECRET (at least 32 bytes)"),
                _ => (key_set, "JWT_JWKS_URL or JWT_PUBLIC_KEYS"),
            };
            // Unlisted (the default HS256 without a key set): the missing secret is the reason
            // below (misconfiguration), not a setting the operator never wrote.
            if !has_key && listed.is_some() {
                key_error = Some(cat(&["JWT_ALGORITHMS lists ", a.name(), " but ", need, " is not set"]));
            }
        }
        // A key set is the identity provider's, which signs tokens for every app it serves (a
        // shared one such as Firebase's signs them for every project, with a `sub` each project's
        // owner may choose): without the audience check only the issuer ties a token to this
        // Worker. Accepted without it, anyone's project minted a token for any user here.
        if audience_check_off && key_set && text("JWT_ISSUER").is_none() {
            key_error = Some("JWT_AUDIENCE_CHECK = off with a key set needs JWT_ISSUER".into());
        }
        if algorithms.is_empty() && key_error.is_none() {
            key_error = Some("JWT_ALGORITHMS names no algorithm".into());
        }
        // A key configuration in error verifies no token at all (the reason is the 500's).
        let jwt = ((secret.is_some() || key_set) && key_error.is_none()).then(|| JwtRules {
            secret: secret.map(String::into_bytes).unwrap_or_default(),
            algorithms,
            jwks_url,
            public_keys,
            previous_secret: previous_secret.map(String::into_bytes),
            audience: (!audience_check_off)
                .then(|| text("JWT_AUDIENCE").unwrap_or_else(|| jwt::DEFAULT_AUDIENCE.to_owned())),
            issuer: text("JWT_ISSUER"),
            leeway_secs: within("JWT_CLOCK_SKEW_SECS", 60, CLOCK_SKEW_BOUNDS_SECS) as i64,
            max_lifetime_secs: within(
                "JWT_MAX_LIFETIME_SECS",
                jwt::DEFAULT_MAX_LIFETIME_SECS as u64,
                LIFETIME_BOUNDS_SECS,
            ) as i64,
            tenant_claim: text("TENANT_CLAIM"),
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
                // A plain http:// NEO4J_URL to a remote host is refused (the password would
                // cross the network in cleartext) unless the deployment says the network is
                // trusted: NEO4J_ALLOW_INSECURE_HTTP "true" ("false" or "true", any case).
                c.allow_insecure_http = choice("NEO4J_ALLOW_INSECURE_HTTP", "false", "true");
                c.max_details_bytes = limits.max_details_bytes.max(1);
                // Config's messages name fields, never the password; the log names the Worker's
                // setting, not the library's field ("url is not a valid URL" sent the operator
                // looking for a setting called url).
                c.validate_as(crate::config::Spelling::Js, &c.url, "NEO4J_URL", "NEO4J_ALLOW_INSECURE_HTTP = \"true\"")
                    .map(|_| c)
                    .map_err(|e| {
                        let m = e.message();
                        let m = m.strip_prefix("invalid config: ").unwrap_or(&m);
                        // "…; use username/password or token" names the library's fields: the
                        // Worker's credentials are the NEO4J_USER / NEO4J_PASSWORD secrets.
                        let m = match crate::error::find(m, "; use username") {
                            Some(i) => cat(&[&m[..i], "; set the NEO4J_USER and NEO4J_PASSWORD secrets instead"]),
                            None => m.to_owned(),
                        };
                        match CONFIG_FIELDS.iter().find(|(f, _)| m.starts_with(f)) {
                            Some((f, k)) => cat(&[k, &m[f.len()..]]),
                            None => m,
                        }
                    })
            }
            // The first one missing, by name.
            (url, user, _) => Err(cat(&[
                if url.is_none() {
                    "NEO4J_URL"
                } else if user.is_none() {
                    "NEO4J_USER"
                } else {
                    "NEO4J_PASSWORD"
                },
                " is not set",
            ])),
        };
        let signing_key = get("AUDIT_SIGNING_KEY").filter(|k| !k.trim().is_empty());
        let kid = text("AUDIT_SIGNING_KEY_ID").unwrap_or_else(|| "k1".into());
        let signer = match &signing_key {
            None => Ok(None),
            Some(k) => crate::sign::SigningKey::from_secret_cached(&kid, k).map(Some),
        };
        let mut public_keys: Vec<crate::sign::PublicJwk> = Vec::new();
        // A comma-separated setting: its non-empty entries, trimmed.
        let list = |k: &str| -> Option<Vec<String>> {
            let mut items = Vec::new();
            for c in text(k)?.split(',') {
                let c = c.trim();
                if !c.is_empty() {
                    items.push(c.to_owned());
                }
            }
            Some(items)
        };
        // A malformed entry (not kid:x, a bad id, x not 32 bytes of base64url or no Ed25519 key)
        // or an id listed twice makes the key settings unusable, as a bad AUDIT_SIGNING_KEY does:
        // skipped, it left GET /v1/keys publishing an incomplete set, and every stream signed
        // with the missing key was reported forged by whoever pinned that set, with nothing in
        // the log. The reason names the entry's position (and a well-formed id), never the key.
        let mut signer = signer;
        // What the cursor key is derived from besides the signing key (CursorKey::derive).
        let mut label = cat(&[CURSOR_KEY_LABEL, &kid]);
        for (i, pair) in list("AUDIT_PUBLIC_KEYS").unwrap_or_default().iter().enumerate() {
            label.push('\n');
            label.push_str(pair);
            let entry = cat(&["AUDIT_PUBLIC_KEYS entry ", &crate::error::num(i as u64 + 1), ": "]);
            let why = match crate::sign::PublicJwk::parse_pair(pair) {
                Ok(j) if public_keys.iter().any(|k| k.kid == j.kid) => {
                    cat(&[&entry, "key id ", &quoted(&j.kid), " is listed twice"])
                }
                Ok(j) => {
                    public_keys.push(j);
                    continue;
                }
                Err(e) => cat(&[&entry, &e]),
            };
            if signer.is_ok() {
                signer = Err(why);
            }
        }
        let mut settings = Settings {
            signer,
            public_keys,
            verify_subjects: list("VERIFY_SUBJECTS"),
            cursor_key: signing_key.as_deref().map(|k| CursorKey::derive(k, &label)),
            jwt,
            cors: Cors::parse(&get("ALLOWED_ORIGINS").unwrap_or_default()),
            limits,
            max_body_bytes: num("MAX_BODY_BYTES", crate::rules::DEFAULT_MAX_BODY_BYTES as u64) as usize,
            retry_after_secs: within("RETRY_AFTER_SECS", 5, (1, 3600)) as u32,
            rate_limit_period_secs: within("RATE_LIMIT_PERIOD_SECS", 60, (1, 3600)) as u32,
            neo4j,
            redactor: {
                let mode = [crate::redact::Match::Words, crate::redact::Match::Exact]
                    [choice("REDACT_MATCH", "words", "exact") as usize];
                match get("REDACT_KEYS") {
                    None => Redactor::from_config(None, mode),
                    Some(list) => Redactor::with_match(list.split(',').map(str::trim), mode),
                }
            },
            occurred_at: OccurredAtWindow {
                max_skew_ms: within(
                    "OCCURRED_AT_MAX_SKEW_SECS",
                    body::DEFAULT_OCCURRED_AT_MAX_SKEW_SECS,
                    (0, 365 * 86_400),
                ) as i64
                    * 1000,
                max_age_ms: within(
                    "OCCURRED_AT_MAX_AGE_SECS",
                    body::DEFAULT_OCCURRED_AT_MAX_AGE_SECS,
                    (0, 10 * 365 * 86_400),
                ) as i64
                    * 1000,
            },
            allowed_categories: list("ALLOWED_CATEGORIES"),
            allowed_target_labels: list("ALLOWED_TARGET_LABELS").unwrap_or_default(),
            tenant_claim: text("TENANT_CLAIM"),
        };
        // A bound of 0 refuses every event (413): misconfigured, so /v1/health is not green.
        // (MAX_DETAILS_DEPTH = 0 refuses every event with details.)
        let zero = [
            ("MAX_BATCH", settings.limits.max_batch),
            ("MAX_BODY_BYTES", settings.max_body_bytes),
            ("MAX_DETAILS_BYTES", settings.limits.max_details_bytes),
            ("MAX_DETAILS_DEPTH", settings.limits.max_details_depth),
        ]
        .into_iter()
        .find(|(_, v)| *v == 0);
        if let Some((k, _)) = zero {
            settings.neo4j = Err(cat(&[k, " must be at least 1"]));
        }
        // A list entry that no request can hold matched nothing, so it refused every page,
        // event or target it was meant to allow (403) while /v1/health said ok and nothing said
        // why: an origin without a scheme ("app.example.com"), an entry with a wildcard
        // ("https://*.example.com", "DOC_*") or white space (two values with a space, not a
        // comma, between them). ("*" and "null" alone are dropped as documented: never allowed.)
        for k in ["ALLOWED_ORIGINS", "ALLOWED_CATEGORIES", "ALLOWED_TARGET_LABELS"] {
            let v = get(k).unwrap_or_default();
            if let Some(e) = v.split(',').map(str::trim).find(|e| {
                !e.is_empty()
                    && !cors::never_allowed(e)
                    && (e.bytes().any(|b| b == b'*' || b <= b' ')
                        || k == "ALLOWED_ORIGINS" && crate::error::find(e, "://").is_none())
            }) {
                settings.neo4j = Err(cat(&[
                    k,
                    " lists ",
                    &quoted(crate::outcome::first_chars(e, 64)),
                    ", which matches nothing: list exact values (an origin: scheme://host[:port]), comma separated",
                ]));
            }
        }
        if let Some(why) = wrong.take() {
            settings.neo4j = Err(why);
        }
        if let Some(e) = key_error {
            settings.neo4j = Err(e);
        }
        if short_previous {
            settings.neo4j = Err(cat(&[
                "AUDIT_JWT_SECRET_PREVIOUS is shorter than ",
                &crate::error::num(MIN_SECRET_LEN as u64),
                " bytes",
            ]));
        }
        // A browser's queue files events by the token's sub and lasting claims; a tenant claim it
        // leaves out (a per-token or descriptive one: `azp`, `client_id`, `email`, ...) would let
        // an event queued under one tenant's token go out with another tenant's token of the same
        // sub, into that tenant's trail.
        if let Some(c) = settings.tenant_claim.as_deref().filter(|c| crate::identity::ignores_claim(c)) {
            settings.neo4j = Err(cat(&[
                "TENANT_CLAIM ",
                &quoted(c),
                " is a claim the client's queue does not tell identities apart by; name a claim \
                 that only names the tenant (e.g. org_id)",
            ]));
        }
        // A var named like the Worker's settings that none of them is (`TENANT_CLAIMS` for
        // `TENANT_CLAIM`, `JWT_ISSUERS`) was silently no setting at all (with TENANT_CLAIMS every
        // tenant wrote into AUDIT_TRAIL). The host answers the empty name with the first such
        // var (src/ingest/host.js textOf); asked only when nothing else is wrong, as a setting is
        // read only where it applies (JWT_AUDIENCE once a token key is configured).
        if settings.misconfiguration().is_none() {
            if let Some(k) = get("") {
                settings.neo4j = Err(cat(&[&k, " is not a setting (a typo?)"]));
            }
        }
        settings
    }

    /// Why this Worker cannot take events (`None`: it can), never quoting a secret: the one
    /// check behind `/v1/events`' and `/v1/health`'s 500 `misconfigured`.
    pub fn misconfiguration(&self) -> Option<String> {
        match (&self.jwt, &self.neo4j, &self.signer) {
            // First: a key setting in error (JWT_*) is carried here and leaves `jwt` unset.
            (_, Err(e), _) | (_, _, Err(e)) => Some(e.clone()),
            (None, _, _) => Some(cat(&[
                "AUDIT_JWT_SECRET is missing or shorter than ",
                &num(MIN_SECRET_LEN as u64),
                " bytes, and no key set (JWT_JWKS_URL, JWT_PUBLIC_KEYS) is configured",
            ])),
            _ => None,
        }
    }

    /// Whether an event's target may name `label` (only a label in `ALLOWED_TARGET_LABELS`).
    pub fn target_label_allowed(&self, label: &str) -> bool {
        self.allowed_target_labels.iter().any(|l| l == label)
    }

    /// Whether `category` may be written (always, without `ALLOWED_CATEGORIES`).
    pub fn category_allowed(&self, category: &str) -> bool {
        self.allowed_categories.as_ref().is_none_or(|list| list.iter().any(|c| c == category))
    }
}

/// An answer: status, headers, JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body text (JSON, or empty).
    pub body: String,
}

impl Response {
    /// `value` as a JSON answer, with `no-store`, `nosniff` and `Vary: Origin` headers.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::json_text(status, value.to_string())
    }

    /// [`Response::json`] with the body already JSON text (what the handlers write directly:
    /// no `serde_json` in the Worker).
    pub fn json_text(status: u16, body: String) -> Response {
        Response {
            status,
            headers: vec![
                ("Content-Type".into(), "application/json; charset=utf-8".into()),
                ("Cache-Control".into(), "no-store".into()),
                ("X-Content-Type-Options".into(), "nosniff".into()),
                ("Vary".into(), "Origin".into()),
            ],
            body,
        }
    }

    /// `{"error": code, "message": message}`.
    pub fn error(status: u16, code: &str, message: &str) -> Response {
        use crate::json::write_str;
        let mut body = String::with_capacity(code.len() + message.len() + 32);
        body.push_str("{\"error\":");
        write_str(&mut body, code);
        body.push_str(",\"message\":");
        write_str(&mut body, message);
        body.push('}');
        Response::json_text(status, body)
    }

    /// A bodiless answer (204).
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: vec![("Vary".into(), "Origin".into()), ("Cache-Control".into(), "no-store".into())],
            body: String::new(),
        }
    }

    /// Adds a header (appended, even if one of that name exists).
    pub fn with_header(mut self, k: &str, v: impl Into<String>) -> Response {
        self.headers.push((k.to_owned(), v.into()));
        self
    }

    /// The first header named `k` (case-insensitive), if any.
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str())
    }
}

/// The parts of the incoming request the handler looks at (the body is read through [`Io`]).
/// `Debug` shows `***` for the values of `Authorization`, `Proxy-Authorization` and `Cookie`.
#[derive(Clone, Default)]
pub struct Request {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The URL path, e.g. `/v1/events`.
    pub path: String,
    /// The query string without `?` (empty when none), e.g. `cursor=…&limit=5000`.
    pub query: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Headers<'a>(&'a [(String, String)]);
        impl std::fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut l = f.debug_list();
                for (k, v) in self.0 {
                    l.entry(&(k, if crate::transport::secret_header(k) { "***" } else { v.as_str() }));
                }
                l.finish()
            }
        }
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &Headers(&self.headers))
            .finish()
    }
}

impl Request {
    /// The first header named `k` (case-insensitive), if any.
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str())
    }
}

/// Why the body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The body is longer than the limit (answered 413).
    TooLarge,
    /// The body could not be read or is not UTF-8; the message is returned with a 400.
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
    /// `GET url` for the identity provider's key set (`JWT_JWKS_URL`), bounded in time; `Err`
    /// (a reason without secrets) for a failure or an answer that is not 200. This default (native
    /// builds) has none.
    async fn fetch_jwks(&self, url: &str) -> Result<jwks::Fetched, String> {
        let _ = url;
        Err("this build does not fetch key sets (only the Worker does)".into())
    }
    /// Whether `signature` is `alg`'s signature of `data` by `key` (RS256, ES256); `Err` when the
    /// host cannot tell (the key refused). This default (native builds: no RSA/EC code) refuses
    /// every such token with that reason.
    async fn verify_signature(
        &self,
        alg: jwt::Alg,
        key: &jwks::Jwk,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool, String> {
        let _ = (alg, key, data, signature);
        Err("RS256 and ES256 signatures are checked only by the Worker build (WebCrypto)".into())
    }
}

/// Where events go.
pub trait Store {
    /// Names the trail this store writes (database and trail), for the isolate's head cache.
    /// `trail`: the trail to write (`None`: the configured one; `Some` with `TENANT_CLAIM`).
    fn chain_key(&self, trail: Option<&str>) -> String;
    /// The name of the trail `trail` designates (`None`: the configured one), which a new
    /// Worker stream's id is bound to ([`crate::chain::trail_stream_id`]).
    fn trail_name(&self, trail: Option<&str>) -> String;
    /// The trail's signed head and which of `uids` are already stored.
    async fn chain_state(&self, trail: Option<&str>, uids: &[&str]) -> Result<signed::ChainState, AuditError>;
    /// The conditional write ([`signed::write_statement`]): `Ok(Some(n))` when it ran (`n` events
    /// stored), `Ok(None)` when the head had moved and nothing was written.
    async fn write_chained(
        &self,
        trail: Option<&str>,
        w: &signed::ChainedWrite<'_>,
    ) -> Result<Option<usize>, AuditError>;
    /// A round trip to the database.
    async fn ping(&self) -> Result<(), AuditError>;
    /// One page of the trail's verification ([`AuditLogger::verify_trail_page`]).
    async fn verify_page(
        &self,
        q: &crate::read::VerifyQuery,
        progress: Option<crate::read::VerifyProgress>,
        max_events: u64,
    ) -> Result<(crate::chain::VerifyReport, Option<crate::read::VerifyProgress>), AuditError>;
}

impl Store for AuditLogger {
    fn chain_key(&self, trail: Option<&str>) -> String {
        let c = self.config();
        cat(&[&c.url, "|", &c.database, "|", trail.unwrap_or(&c.trail)])
    }
    fn trail_name(&self, trail: Option<&str>) -> String {
        trail.unwrap_or(&self.config().trail).to_owned()
    }
    async fn chain_state(&self, trail: Option<&str>, uids: &[&str]) -> Result<signed::ChainState, AuditError> {
        let c = self.config();
        let trail = trail.unwrap_or(&c.trail);
        // The schema step, once per process and trail (the UID and trail-name constraints make
        // the write's MERGEs safe). Not through the logger's schema-once lock: a request waiting
        // on a lock that another request holds across its I/O is cancelled by workerd as hung.
        static CHECKED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        let key = self.chain_key(None);
        let done = CHECKED.lock().map(|v| v.contains(&key)).unwrap_or(false);
        let (text, params) = signed::state_query(&c.labels, trail, uids)?;
        let mut answer = None;
        if !done {
            // The check rides in this first read (crate::cypher::SCHEMA_GUARD, as a logger's
            // first write): where the schema is in place, no round trip of its own. Refused
            // (something missing or not online, or the guard not allowed), the schema step runs.
            let guarded = signed::guarded_state_text(&text);
            let names = crate::cypher::schema_names(&c.labels);
            let with_names = |o: &mut String| {
                write_names_param(o, "schema", &names);
                o.pop();
                o.push(',');
                o.push_str(&params[1..]);
            };
            match self.run_with(&guarded, with_names).await {
                Ok(rows) => answer = Some(rows),
                // A role without schema rights: writes go on without the constraints, as the
                // logger's own schema step does.
                Err(e) if crate::sink::is_refusal(&e) => match self.ensure_schema().await {
                    Err(e) if e.is_retryable() => return Err(e),
                    _ => {}
                },
                Err(e) => return Err(e),
            }
            if let Ok(mut v) = CHECKED.lock() {
                v.push(key);
            }
        }
        let rows = match answer {
            Some(rows) => rows,
            None => self.run_with(&text, |o| o.push_str(&params)).await?,
        };
        let row = rows.first().map(Vec::as_slice).unwrap_or(&[]);
        let mut existing = Vec::new();
        for v in row.get(6).and_then(Json::as_array).unwrap_or(&[]) {
            if let Some(u) = v.as_str() {
                existing.push(u.to_owned());
            }
        }
        let head = crate::read::head_from_cells(row);
        // A head that is there but unreadable (a `chainSeq` that is no integer, a field removed)
        // is not "no head": chained from a new stream, the write's condition failed on it every
        // time, and each request spent 32 tries (64 round trips) before a 503 "busy". Nor is one
        // naming a stream bound to another trail (that trail's head copied here) followed: the
        // events were chained and sealed onto that trail's stream, and moved there with the head
        // they verified as its own (`tests/chain.rs` `a_head_copied_from_another_trail_is_not_continued`).
        let foreign =
            head.as_ref().is_some_and(|h| crate::chain::stream_trail_binding(&h.stream_id, trail) == Some(false));
        if foreign || head.is_none() && row.iter().take(3).any(|c| !matches!(c, Json::Null)) {
            return Err(AuditError::UnexpectedResponse(cat(&[
                "the signed head (chain*) of trail ",
                &crate::error::quoted(trail),
                " is unreadable or another trail's: restore it, or remove it to begin a new stream",
            ])));
        }
        Ok(signed::ChainState { head, existing })
    }
    async fn write_chained(
        &self,
        trail: Option<&str>,
        w: &signed::ChainedWrite<'_>,
    ) -> Result<Option<usize>, AuditError> {
        let c = self.config();
        let (text, params) = signed::write_query(&c.labels, trail.unwrap_or(&c.trail), w)?;
        let rows = self.run_with(&text, |o| o.push_str(&params)).await?;
        Ok(rows.first().and_then(|r| r.first()).and_then(Json::as_u64).map(|n| n as usize))
    }
    async fn ping(&self) -> Result<(), AuditError> {
        self.run_with("RETURN 1 AS ok", |o| o.push_str("{}")).await.map(|_| ())
    }
    async fn verify_page(
        &self,
        q: &crate::read::VerifyQuery,
        progress: Option<crate::read::VerifyProgress>,
        max_events: u64,
    ) -> Result<(crate::chain::VerifyReport, Option<crate::read::VerifyProgress>), AuditError> {
        self.verify_trail_page(q, progress, max_events).await
    }
}

/// `{"<key>": [...]}`: the names of the schema's constraints and indexes as a parameter.
fn write_names_param(out: &mut String, key: &str, names: &[String]) {
    out.push_str("{\"");
    out.push_str(key);
    out.push_str("\":[");
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::json::write_str(out, n);
    }
    out.push_str("]}");
}

/// One request and what serving it may use, passed down the handlers as one value.
struct Call<'a, I, S> {
    req: &'a Request,
    settings: &'a Settings,
    now_secs: i64,
    io: &'a I,
    store: Option<&'a S>,
}

impl<I, S> Clone for Call<'_, I, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<I, S> Copy for Call<'_, I, S> {}

/// Serves one request. Never panics on input; every outcome is a [`Response`].
pub async fn handle<I: Io, S: Store>(
    req: &Request,
    settings: &Settings,
    now_secs: i64,
    io: &I,
    store: Option<&S>,
) -> Response {
    let origin = req.header("Origin");
    let mut cors = settings.cors.headers(origin);
    let mut resp = route(Call { req, settings, now_secs, io, store }).await;
    if resp.status != 204 || req.method != "OPTIONS" {
        resp.headers.append(&mut cors);
    }
    // HEAD: the GET answer's status and headers, no body (uptime monitors probe with HEAD; it was
    // a 405).
    if req.method == "HEAD" {
        resp.body.clear();
    }
    resp
}

async fn route<I: Io, S: Store>(call: Call<'_, I, S>) -> Response {
    let Call { req, settings, io, .. } = call;
    let origin = req.header("Origin");
    let known = matches!(req.path.as_str(), "/v1/events" | "/v1/health" | "/v1/keys" | "/v1/verify");
    if !known {
        return Response::error(
            404,
            "not_found",
            "no such endpoint; use POST /v1/events, GET /v1/health, GET /v1/keys or GET /v1/verify",
        );
    }
    // No list at all is the operator's mistake (a browser-facing Worker then allows no page, and
    // the page cannot read why): the log says so, for the preflight too. A foreign origin
    // against a list is anyone's request: no log line.
    if let Some(o) = origin.filter(|_| settings.cors.is_empty()) {
        io.log(&cat(&[
            "audit-ingest: refused a request from the page origin ",
            &quoted(crate::outcome::first_chars(o, 200)),
            ": ALLOWED_ORIGINS is not set (or only \"*\" / \"null\"), so no page may call this Worker; list the app's origins there",
        ]));
    }
    if req.method == "OPTIONS" {
        return preflight(req, settings);
    }
    // A browser on a foreign origin is refused before anything else happens (no CORS headers, so
    // it cannot even read this answer). Requests without Origin (servers, curl) pass on.
    if let Some(o) = origin {
        if !settings.cors.allows(o) {
            return Response::error(403, "forbidden_origin", "this origin is not in ALLOWED_ORIGINS");
        }
    }
    match (req.path.as_str(), req.method.as_str()) {
        ("/v1/health", "GET" | "HEAD") => health(call).await,
        ("/v1/events", "POST") => ingest(call).await,
        // Unusable key settings: no set at all rather than an incomplete one that a verifier
        // would pin (its streams signed with a key left out would then read as forged).
        ("/v1/keys", "GET" | "HEAD") => match &settings.signer {
            Err(why) => misconfigured_by(settings, io, why),
            Ok(_) => keys(settings),
        },
        ("/v1/verify", "GET" | "HEAD") => verify(call).await,
        ("/v1/health" | "/v1/keys" | "/v1/verify", _) => {
            Response::error(405, "method_not_allowed", "use GET").with_header("Allow", "GET, HEAD, OPTIONS")
        }
        _ => Response::error(405, "method_not_allowed", "use POST").with_header("Allow", "POST, OPTIONS"),
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
        Some(mut h) => {
            let mut r = Response::empty(204);
            r.headers.append(&mut h);
            r
        }
        None if !settings.cors.allows(origin) => {
            Response::error(403, "forbidden_origin", "preflight refused: this origin is not in ALLOWED_ORIGINS")
        }
        None => Response::error(
            403,
            "forbidden",
            &crate::error::cat(&[
                "preflight refused: methods allowed are ",
                cors::ALLOW_METHODS,
                ", request headers allowed are ",
                cors::ALLOW_HEADERS,
            ]),
        ),
    }
}

/// The rate-limit bucket of a health check that may reach Neo4j: the client address
/// (`CF-Connecting-IP`, set by Cloudflare's edge) or else a valid bearer token's subject. `None`
/// when the caller is neither addressable nor authenticated: such callers must not share one
/// bucket (one of them could starve the rest), so they get a liveness answer only.
pub async fn health_bucket<I: Io>(req: &Request, settings: &Settings, now_secs: i64, io: &I) -> Option<String> {
    if let Some(ip) = req.header("CF-Connecting-IP").map(str::trim).filter(|ip| !ip.is_empty()) {
        return Some(cat(&["health:ip:", &client_net(ip)]));
    }
    let rules = settings.jwt.as_ref()?;
    let token = jwt::bearer_token(req.header("Authorization")?)?;
    jwks::verify(token, rules, now_secs, io).await.ok().map(|who| cat(&["health:sub:", &who.sub]))
}

/// The rate-limit key of a client address: an IPv6 address by its /64, the block one subscriber
/// or host is given (`ip6:` and those 64 bits as one number, however the address was written);
/// an IPv4 address, or text that is neither (an IPv6 address with an IPv4 ending, which the edge
/// does not send), as it is. Keyed by the whole IPv6 address,
/// each of a host's 2^64 addresses was a bucket of its own, and an unauthenticated caller reached
/// Neo4j as often as it liked.
fn client_net(ip: &str) -> String {
    // The eight groups, `n` of them written, `::` after the first `gap` of them.
    let (mut g, mut n, mut gap, mut digits) = ([0u64; 8], 0, 8, 0);
    for (i, &b) in ip.as_bytes().iter().enumerate() {
        if b == b':' {
            if digits > 0 {
                (n, digits) = (n + 1, 0);
            } else if i > 0 {
                gap = n;
            }
            continue;
        }
        // Not hex (an IPv4 address's `.`), or more than eight groups of four: as it is.
        match (b as char).to_digit(16) {
            Some(d) if n < 8 && digits < 4 => (g[n], digits) = (g[n] * 16 + d as u64, digits + 1),
            _ => return ip.to_owned(),
        }
    }
    n += (digits > 0) as usize;
    if gap > n || gap == 8 && n < 8 {
        return ip.to_owned();
    }
    // The groups after `::` go to the end, zeros between.
    g.copy_within(gap..n, gap + 8 - n);
    g[gap..gap + 8 - n].fill(0);
    cat(&["ip6:", &num(g[0] << 48 | g[1] << 32 | g[2] << 16 | g[3])])
}

/// 500 `misconfigured` first, as `/v1/events` would answer (free: no Neo4j round trip).
/// Unauthenticated, so a check that reaches Neo4j is rate-limited per [`health_bucket`], and
/// fails closed (503) when the limiter is missing or failing. Without a bucket: liveness only
/// (`"neo4j": "unchecked"`), no round trip.
async fn health<I: Io, S: Store>(call: Call<'_, I, S>) -> Response {
    let Call { req, settings, now_secs, io, store } = call;
    // Whatever would refuse every event fails the health check too (a deploy probe must not be
    // green while the endpoint answers 500 to every client).
    let Some(store) = usable(settings, store) else { return misconfigured(settings, io) };
    let Some(bucket) = health_bucket(req, settings, now_secs, io).await else {
        return Response::json_text(200, r#"{"status":"ok","neo4j":"unchecked"}"#.into());
    };
    match io.rate_limit(&bucket).await {
        Ok(true) => {}
        Ok(false) => {
            return Response::error(429, "rate_limited", "too many health checks; retry later")
                .with_header("Retry-After", num(settings.rate_limit_period_secs.into()))
        }
        Err(e) => return limiter_unavailable(settings, io, &e),
    }
    match store.ping().await {
        Ok(()) => Response::json_text(200, r#"{"status":"ok","neo4j":"ok"}"#.into()),
        Err(e) => unavailable(settings, io, &e, "health"),
    }
}

/// The rate limiter is missing or failed: fail closed, with `Retry-After` (503: a client's queue
/// keeps its events until the binding is deployed). The answer says why — the host's own words
/// ("the RATE_LIMITER binding is missing", "limit() rejected"), never a value of the request or
/// a setting — so a deploy without the `[[ratelimits]]` stanza is named at the first request.
fn limiter_unavailable<I: Io>(settings: &Settings, io: &I, why: &str) -> Response {
    io.log(&cat(&["audit-ingest: rate limiter failed: ", why]));
    Response::error(503, "unavailable", &cat(&["rate limiter unavailable (", why, "); retry later"]))
        .with_header("Retry-After", num(settings.retry_after_secs.into()))
}

/// `GET /v1/keys`: the public keys (a JWK Set) that verify what this Worker signs; public.
fn keys(settings: &Settings) -> Response {
    let mut body = String::from("{\"keys\":[");
    for (i, k) in settings.public_keys.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        k.write_json(&mut body);
    }
    body.push_str("]}");
    let mut r = Response::json_text(200, body);
    // In place of json_text's `no-store` (appended, the answer had both: never cached).
    for h in &mut r.headers {
        if h.0 == "Cache-Control" {
            h.1 = "public, max-age=300".into();
        }
    }
    r
}

/// The bearer token's identity, or the 401/500 answer.
async fn authenticate<I: Io>(
    req: &Request,
    settings: &Settings,
    now_secs: i64,
    io: &I,
) -> Result<jwt::Identity, Response> {
    let Some(rules) = &settings.jwt else { return Err(misconfigured(settings, io)) };
    let token = match req.header("Authorization").and_then(jwt::bearer_token) {
        Some(t) => t,
        None => {
            return Err(Response::error(401, "unauthorized", "send Authorization: Bearer <JWT>")
                .with_header("WWW-Authenticate", "Bearer"))
        }
    };
    jwks::verify(token, rules, now_secs, io).await.map_err(|r| match r {
        jwks::Refusal::Token(e) => Response::error(401, "unauthorized", &e.message())
            .with_header("WWW-Authenticate", r#"Bearer error="invalid_token""#),
        jwks::Refusal::Unavailable(why) => {
            io.log(&cat(&["audit-ingest: ", &why]));
            Response::error(503, "unavailable", "the token's keys could not be fetched; retry later")
                .with_header("Retry-After", num(settings.retry_after_secs.into()))
        }
    })
}

/// `GET /v1/verify`: verifies the trail with this Worker's published public keys (the same core
/// verifier as `verifyTrail({publicKeys})`). Authenticated (only `VERIFY_SUBJECTS`) and
/// rate-limited per subject.
async fn verify<I: Io, S: Store>(call: Call<'_, I, S>) -> Response {
    let Call { req, settings, now_secs, io, store } = call;
    let who = match authenticate(req, settings, now_secs, io).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    // Per-tenant verification is not implemented: with TENANT_CLAIM no token may read a trail
    // through this endpoint (it would be the configured one, not the token's tenant's).
    if settings.tenant_claim.is_some() {
        return Response::error(403, "forbidden", "GET /v1/verify is not available with TENANT_CLAIM");
    }
    // Off unless VERIFY_SUBJECTS names who may call it: every page reads up to 100 000 events,
    // and the tokens this Worker accepts are its end users' (before, any of them could, 120 times
    // a minute each, and read the trail's stream ids, counts and unchained UIDs).
    match &settings.verify_subjects {
        None => {
            return Response::error(
                403,
                "forbidden",
                "GET /v1/verify is off: set VERIFY_SUBJECTS to the token subjects that may verify the trail",
            )
        }
        Some(l) if !l.contains(&who.sub) => {
            return Response::error(403, "forbidden", "this subject may not verify the trail")
        }
        Some(_) => {}
    }
    match io.rate_limit(&cat(&["verify:", &who.sub])).await {
        Ok(true) => {}
        Ok(false) => {
            return Response::error(429, "rate_limited", "too many requests for this user; retry later")
                .with_header("Retry-After", num(settings.rate_limit_period_secs.into()))
        }
        Err(e) => return limiter_unavailable(settings, io, &e),
    }
    let Some(store) = usable(settings, store) else { return misconfigured(settings, io) };
    // The signing key's public half verifies, a key derived from it seals the cursors (usable:
    // when set, it is a valid key). Never a cursor key anyone could compute.
    let Some(key) = &settings.cursor_key else {
        return Response::error(500, "misconfigured", "GET /v1/verify needs AUDIT_SIGNING_KEY");
    };
    let params = match verify_params(&req.query) {
        Ok(p) => p,
        Err(m) => return Response::error(400, "bad_request", &m),
    };
    let param = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let limit = match param("limit").map(crate::json::digits_u64) {
        None => VERIFY_PAGE_EVENTS,
        Some(Some(n)) if (1000..=100_000).contains(&n) => n,
        Some(_) => return Response::error(400, "bad_request", "limit must be an integer from 1000 to 100000"),
    };
    let q = crate::read::VerifyQuery {
        public_keys: Some(settings.public_keys.clone().into()),
        allow_unsigned: param("allowUnsigned") == Some("true"),
        require_bound: param("requireBound") == Some("true"),
        ..Default::default()
    };
    // The trail walked (Neo4j URL, database, trail name): a cursor resumes only its own trail.
    let scope = store.chain_key(None);
    let progress = match param("cursor") {
        None => None,
        Some(c) => match open_cursor(key, c, &scope, &q) {
            Some(p) => Some(p),
            None => {
                return Response::error(
                    400,
                    "bad_request",
                    "cursor is not one this endpoint issued for this trail, its keys and these options (allowUnsigned, requireBound); start the walk again",
                )
            }
        },
    };
    match store.verify_page(&q, progress, limit).await {
        Ok((report, next)) => {
            // The report's JSON, then `next` as its last member.
            let mut body = String::new();
            crate::read::js::write_report(&report, &mut body);
            body.pop();
            body.push_str(",\"next\":");
            crate::json::write_opt_str(&mut body, next.map(|p| seal_cursor(key, &p, &scope, &q)).as_deref());
            body.push('}');
            Response::json_text(200, body)
        }
        Err(e) => unavailable(settings, io, &e, "verify"),
    }
}

/// `GET /v1/verify`'s query string as `(name, value)` pairs: only `limit`, `cursor`,
/// `allowUnsigned` and `requireBound`, each at most once, the two flags `true` or `false`.
/// Anything else is refused, never ignored: a misspelt flag, `requireBound=1` or an option this
/// endpoint does not take (`anchors`: verifyTrail and the CLI) would verify less than asked.
fn verify_params(query: &str) -> Result<Vec<(&str, &str)>, String> {
    const NAMES: [&str; 4] = ["limit", "cursor", "allowUnsigned", "requireBound"];
    let mut out: Vec<(&str, &str)> = Vec::new();
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let name = quoted(crate::outcome::first_chars(k, 32));
        if !NAMES.contains(&k) {
            return Err(cat(&[
                "unknown query parameter ",
                &name,
                "; GET /v1/verify takes limit, cursor, allowUnsigned and requireBound",
            ]));
        }
        if out.iter().any(|(n, _)| *n == k) {
            return Err(cat(&["query parameter ", &name, " is given twice"]));
        }
        if matches!(k, "allowUnsigned" | "requireBound") && v != "true" && v != "false" {
            return Err(cat(&[&name, " must be true or false"]));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Events `GET /v1/verify` reads per call by default (`limit`: 1000 to 100 000).
pub const VERIFY_PAGE_EVENTS: u64 = 10_000;

/// The cursor's MAC over `json`, the trail it walks and the walk's options: the JSON, then a
/// line naming the trail (`scope`: the store's [`Store::chain_key`], Neo4j URL, database and
/// trail name, length-prefixed), then a line for each flag set. Its key is the [`CursorKey`],
/// never a secret itself. (Without the trail, a cursor of one trail resumed another's walk: two
/// Workers sharing a signing key, e.g. one per trail or staging and production, took each
/// other's cursors, and trail B's walk went on with trail A's streams, head and `ok`, never
/// reading B's own streams: `tests/chain.rs` `a_verify_cursor_from_another_trail_is_refused`.)
fn cursor_mac(key: &CursorKey, json: &[u8], scope: &str, q: &crate::read::VerifyQuery) -> mac::HmacSha256 {
    let mut mac = mac::HmacSha256::new(&key.0);
    mac.update(json);
    mac.update(b"\ntrail ");
    mac.update(num(scope.len() as u64).as_bytes());
    mac.update(b":");
    mac.update(scope.as_bytes());
    if q.allow_unsigned {
        mac.update(b"\nallowUnsigned");
    }
    if q.require_bound {
        mac.update(b"\nrequireBound");
    }
    mac
}

/// What the [`CursorKey`] is derived from `AUDIT_SIGNING_KEY` with (v1: from `AUDIT_JWT_SECRET`,
/// which a Worker checking tokens only against a key set does not have).
/// v2: without `AUDIT_SIGNING_KEY_ID` and `AUDIT_PUBLIC_KEYS`. v3: progress that names every
/// stream still to read; v4 names at most 16 and where the list goes on (`restAfter`), which a
/// Worker of v3 would drop, ending the walk `ok` without reading the rest: a cursor of the one
/// version is refused by the other (400, start the walk again).
const CURSOR_KEY_LABEL: &str = "neo4j-audit verify-cursor v4 ";

/// A verification cursor: the progress as base64url JSON, then `.` and its HMAC-SHA256 under
/// the [`CursorKey`], so a caller cannot hand the verifier a state it never reached. The MAC
/// also covers the trail walked (`scope`) and the options the progress was reached under
/// ([`cursor_mac`]), so a walk cannot go on in another trail, or switch `requireBound` or
/// `allowUnsigned` between pages and end in one `ok` for mixed modes.
fn seal_cursor(key: &CursorKey, p: &crate::read::VerifyProgress, scope: &str, q: &crate::read::VerifyQuery) -> String {
    use crate::b64::encode_url;
    let mut json = String::new();
    p.write_json(&mut json);
    let tag = cursor_mac(key, json.as_bytes(), scope, q).finalize();
    cat(&[&encode_url(json.as_bytes()), ".", &encode_url(&tag)])
}

/// The progress of a cursor sealed under `key` for the trail `scope` and the options `q`.
fn open_cursor(
    key: &CursorKey,
    c: &str,
    scope: &str,
    q: &crate::read::VerifyQuery,
) -> Option<crate::read::VerifyProgress> {
    use crate::b64::decode_url;
    let (data, tag) = c.split_once('.')?;
    let (json, tag) = (decode_url(data)?, decode_url(tag)?);
    cursor_mac(key, &json, scope, q).verify(&tag).then_some(())?;
    let text = std::str::from_utf8(&json).ok()?;
    crate::read::VerifyProgress::from_json(&crate::json::parse(text, 16).ok()?)
}

async fn ingest<I: Io, S: Store>(call: Call<'_, I, S>) -> Response {
    let Call { req, settings, now_secs, io, store } = call;
    // 1. Who: only a verified token says.
    let who = match authenticate(req, settings, now_secs, io).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    // Then whatever refuses every event (as /v1/health answers): before, a bound of 0 or a
    // tenant claim the Worker refuses answered 413 / 403 first, as if the request were at fault.
    let Some(store) = usable(settings, store) else { return misconfigured(settings, io) };
    // The tenant, from the verified token only: its trail, and the scope of its subjects.
    let trail = match &settings.tenant_claim {
        None => None,
        Some(claim) => match &who.tenant {
            Some(t) => Some(cat(&["org:", t])),
            None => {
                return Response::error(
                    403,
                    "forbidden",
                    &cat(&["the token has no ", &quoted(claim), " claim naming its tenant"]),
                )
            }
        },
    };
    // Client UIDs are per trail and subject (body::stored_uid): the same `sub` in two tenants is
    // two users, and one event sent to the Workers of two trails is an event in each.
    let uid_trail = store.trail_name(trail.as_deref());
    // 2. How often: per subject, by the platform's limiter (shared across isolates).
    // The tenant's length first: `org:<t>:sub:<sub>` alone let tenant "a:sub:b" with sub "c" and
    // tenant "a" with sub "b:sub:c" share one bucket (either could spend the other's limit).
    let bucket = match &who.tenant {
        Some(t) if trail.is_some() => cat(&["org:", &num(t.len() as u64), ":", t, ":sub:", &who.sub]),
        _ => cat(&["sub:", &who.sub]),
    };
    match io.rate_limit(&bucket).await {
        Ok(true) => {}
        Ok(false) => {
            return Response::error(429, "rate_limited", "too many requests for this user; retry later")
                .with_header("Retry-After", num(settings.rate_limit_period_secs.into()))
        }
        Err(e) => return limiter_unavailable(settings, io, &e),
    }
    // 3. What: JSON within bounds.
    let ct = req.header("Content-Type").unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Response::error(415, "unsupported_media_type", "Content-Type must be application/json");
    }
    // A compressed body (gzip, br, ...) is not read as JSON: 415 naming the header, not a 400
    // about UTF-8 or JSON syntax that sent the client looking in the JSON it sent.
    if req
        .header("Content-Encoding")
        .map(str::trim)
        .is_some_and(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"))
    {
        return Response::error(
            415,
            "unsupported_media_type",
            "Content-Encoding must be identity (or absent): send the JSON uncompressed",
        );
    }
    if let Some(len) = req.header("Content-Length").and_then(|l| crate::json::digits_u64(l.trim())) {
        if len > settings.max_body_bytes as u64 {
            return too_large(settings);
        }
    }
    let text = match io.read_body(settings.max_body_bytes).await {
        Ok(t) => t,
        Err(ReadError::TooLarge) => return too_large(settings),
        Err(ReadError::Failed(m)) => {
            return Response::error(400, "bad_request", &cat(&["could not read the body: ", &m]))
        }
    };
    let incoming = match body::parse_events(&text, &settings.limits) {
        Ok(v) => v,
        Err(BodyError::Invalid(m)) => return Response::error(400, "bad_request", &m),
        Err(BodyError::NamesUser(m)) => return Response::error(403, "forbidden", &m),
        Err(BodyError::TooLarge(m)) => return Response::error(413, "payload_too_large", &m),
    };
    let signer = match &settings.signer {
        Ok(s) => s.as_ref(),
        Err(_) => return misconfigured(settings, io),
    };
    let user = User { uid: who.sub, name: who.name };
    let builder = settings.event_builder();
    // The request's own bearer token is never stored (whoever reads the trail could use it to
    // write as this user until it expires): a details value holding it becomes "[REDACTED]", as
    // the client logger does with its token (crate::redact::scrub_details).
    let token = req.header("Authorization").and_then(jwt::bearer_token).map(str::to_owned);
    let bearer = crate::redact::secret_forms(token);
    let now_ms = now_secs.saturating_mul(1000);
    let mut events = Vec::with_capacity(incoming.len());
    for (i, ev) in incoming.into_iter().enumerate() {
        let category = ev.category.as_deref().unwrap_or(crate::event::DEFAULT_CATEGORY);
        if !settings.category_allowed(category) {
            return Response::error(
                403,
                "forbidden",
                &body::at_event(i, &cat(&["category ", &quoted(category), " is not accepted by this endpoint"])),
            );
        }
        if let Some(t) = ev.targets.iter().find(|t| !settings.target_label_allowed(&t.label)) {
            return Response::error(
                403,
                "forbidden",
                &body::at_event(
                    i,
                    &cat(&[
                        "target label ",
                        &quoted(&t.label),
                        " is not accepted by this endpoint (ALLOWED_TARGET_LABELS)",
                    ]),
                ),
            );
        }
        if let Some(t) = ev.occurred_at {
            if let Err(m) = settings.occurred_at.check(now_ms, t) {
                return Response::error(400, "bad_request", &body::at_event(i, &m));
            }
        }
        // Member names in details were checked on the body's tree (body::parse_events).
        match builder.build_json_names_checked(
            Some(&user),
            &ev.action_type,
            ev.category.as_deref(),
            ev.details.as_deref(),
        ) {
            Ok(mut e) => {
                if let Some(d) = e.details.as_deref() {
                    match crate::redact::scrub_details(d, &bearer, &builder.limits(), "the bearer token") {
                        Ok(Some(text)) => e.details = Some(text),
                        Ok(None) => {}
                        Err(v) => return Response::error(400, "bad_request", &body::at_event(i, &v.to_string())),
                    }
                }
                if let Some(cu) = &ev.client_uid {
                    e.uid = body::stored_uid(&uid_trail, &user.uid, cu);
                }
                if let Err(err) = e.set_targets(ev.targets) {
                    return Response::error(400, "bad_request", &body::at_event(i, &err.message()));
                }
                // A target's uid is stored as sent (`targetKeys`, the `ON` edge): refused.
                if crate::redact::held_in_targets(&e.targets, &bearer) {
                    return Response::error(400, "bad_request", &body::at_event(i, "a target holds the bearer token"));
                }
                // Provenance: `ts` (the stored `timestamp`, which the chain covers) is the
                // Worker's receive time; `occurredAt` is when the client says the user acted.
                e.source = Source::Worker;
                e.occurred_at = Some(ev.occurred_at.unwrap_or(e.ts));
                events.push(e)
            }
            // The details passed the size rule as sent (body::parse_events); the Worker's own
            // redaction can take them over it (a short secret becomes the longer "[REDACTED]"):
            // the size rule still, 413 as it is as sent, and named by the event like the others.
            Err(AuditError::InvalidInput(m)) if crate::error::find(&m, "MAX_DETAILS_BYTES").is_some() => {
                return Response::error(413, "payload_too_large", &body::at_event(i, &m))
            }
            Err(e) => return Response::error(400, "bad_request", &body::at_event(i, &e.message())),
        }
    }
    // 4. Write: chained onto the trail's signed stream (src/ingest/signed.rs) only once every
    // event is valid and has its final UID; one statement, one transaction; 201 only after Neo4j
    // committed. `accepted` counts the events stored now and those that already were (re-sent).
    let mut uids: Vec<String> = Vec::with_capacity(events.len());
    for e in &events {
        uids.push(e.uid.clone());
    }
    let sent = events.len();
    // The keys that verify the head it continues (signed::append).
    let keys = signer.and_then(|_| crate::sign::KeySet::from_jwks(&settings.public_keys).ok());
    let at = crate::event::now_millis().max(now_ms);
    let (stored, sent) = match signed::append(store, trail.as_deref(), signer, keys.as_ref(), events, at).await {
        Ok(a) if a.written + a.existing == sent => {
            let mut body = String::with_capacity(40 * uids.len() + 32);
            body.push_str("{\"accepted\":");
            crate::json::write_uint(&mut body, sent as u64);
            body.push_str(",\"uids\":[");
            for (i, u) in uids.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                crate::json::write_str(&mut body, u);
            }
            body.push_str("]}");
            return Response::json_text(201, body);
        }
        Ok(a) => (a.written + a.existing, sent),
        Err(signed::AppendError::Short { written, sent }) => (written, sent),
        Err(signed::AppendError::Contended) => {
            io.log("audit-ingest: the trail's head kept moving; gave up");
            return Response::error(503, "unavailable", "the audit store is busy; retry later")
                .with_header("Retry-After", num(settings.retry_after_secs.into()));
        }
        Err(signed::AppendError::Store(e)) => return unavailable(settings, io, &e, "write"),
        Err(signed::AppendError::Sign(why)) => {
            io.log(&cat(&["audit-ingest: signing failed: ", &why]));
            return Response::error(500, "misconfigured", "the audit endpoint is not configured");
        }
    };
    // Fewer events stored than sent.
    io.log(&cat(&["audit-ingest: write stored ", &num(stored as u64), " of ", &num(sent as u64), " events"]));
    Response::error(500, "store_error", "the audit store did not store every event")
}

fn too_large(settings: &Settings) -> Response {
    Response::error(
        413,
        "payload_too_large",
        &cat(&["the body is larger than MAX_BODY_BYTES (", &num(settings.max_body_bytes as u64), " bytes)"]),
    )
}

/// The store, unless the settings make the Worker misconfigured (the one gate of every endpoint
/// that reaches Neo4j).
fn usable<'a, S>(settings: &Settings, store: Option<&'a S>) -> Option<&'a S> {
    store.filter(|_| settings.misconfiguration().is_none())
}

fn misconfigured<I: Io>(settings: &Settings, io: &I) -> Response {
    misconfigured_by(settings, io, &settings.misconfiguration().unwrap_or_else(|| "unknown".into()))
}

/// The 500 `misconfigured` for `why` (which starts with the setting's name), logged.
fn misconfigured_by<I: Io>(settings: &Settings, io: &I, why: &str) -> Response {
    io.log(&crate::error::scrub(
        &cat(&["audit-ingest: misconfigured: ", why]),
        &crate::error::refs(&secrets(settings)),
    ));
    // The answer names the setting (every reason starts with its name), never its value: the
    // operator's curl says where to look, the log says why.
    let n = why.bytes().take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_').count();
    Response::error(
        500,
        "misconfigured",
        &cat(&["the audit endpoint is not configured: check ", &why[..n], " (the Worker's log says why)"]),
    )
}

/// A failed write or ping. A write a constraint refused (again, after the retry
/// [`signed::append`] gives it: an operator's constraint, e.g. a uniqueness constraint on an event
/// property, that these events break) is 422: the same events never succeed (client mode moves
/// them to the dead letters); the answer does not quote Neo4j's message, which quotes stored values.
/// Anything a retry may cure (Neo4j unreachable, timeouts, 5xx,
/// transient errors) is 503 with `Retry-After`, so the browser's queue keeps the events; the rest
/// (e.g. the Worker's Neo4j credentials refused) is 500. The reason goes to the log, scrubbed.
fn unavailable<I: Io>(settings: &Settings, io: &I, e: &AuditError, what: &str) -> Response {
    let line = e.reason(&crate::error::refs(&secrets(settings)));
    io.log(&cat(&["audit-ingest: ", what, " failed: ", &line]));
    if e.splits_batch() {
        Response::error(
            422,
            "unprocessable",
            "a constraint of the database refuses these events (ConstraintValidationFailed)",
        )
    } else if e.is_retryable() {
        Response::error(503, "unavailable", "the audit store is unavailable; retry later")
            .with_header("Retry-After", num(settings.retry_after_secs.into()))
    } else {
        Response::error(500, "store_error", "the audit store refused the request")
    }
}

/// What the Worker's log lines are scrubbed of: `AUDIT_JWT_SECRET(_PREVIOUS)` and the Neo4j configuration's
/// secrets ([`Config::secrets`]).
fn secrets(settings: &Settings) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(j) = &settings.jwt {
        for key in std::iter::once(&j.secret).chain(&j.previous_secret).filter(|k| !k.is_empty()) {
            if let Ok(s) = std::str::from_utf8(key) {
                v.push(s.to_owned());
            }
        }
    }
    if let Ok(c) = &settings.neo4j {
        v.append(&mut c.secrets());
    }
    v
}

// Settings::from_env and the synchronous signing they use are native only.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn bodies_are_what_serde_json_wrote() {
        let r = Response::error(400, "bad_request", "x \"y\"\n\u{1}é");
        assert_eq!(r.body, json!({"error": "bad_request", "message": "x \"y\"\n\u{1}é"}).to_string());
        assert_eq!(r, Response::json(400, &json!({"error": "bad_request", "message": "x \"y\"\n\u{1}é"})));
        let old = crate::sign::SigningKey::from_secret("old", &"5".repeat(64)).unwrap().public_jwk().x;
        let s = settings(&[("AUDIT_PUBLIC_KEYS", &format!("old:{old}"))]);
        let k = keys(&s);
        // (The keys' fields in their declared order, as `to_string` writes them; a `Value`'s `Map`
        // sorts them unless serde_json's `preserve_order` is on.)
        assert_eq!(k.body, format!(r#"{{"keys":{}}}"#, serde_json::to_string(&s.public_keys).unwrap()));
        assert!(!s.public_keys.is_empty());
    }

    #[test]
    fn a_body_over_the_limit_is_a_413_naming_max_body_bytes() {
        // A new user's finding: "the body is larger than 100 bytes" named no setting, where the
        // details' and the batch's 413s name theirs (MAX_DETAILS_BYTES, MAX_BATCH).
        let r = too_large(&settings(&[("MAX_BODY_BYTES", "100")]));
        assert_eq!(r.status, 413);
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            body,
            json!({"error": "payload_too_large", "message": "the body is larger than MAX_BODY_BYTES (100 bytes)"})
        );
    }

    #[test]
    fn verify_cursor_round_trips_and_is_sealed() {
        let p = crate::read::VerifyProgress {
            pending: vec!["s".into()],
            current: None,
            after: Some(("s".into(), 3, "u".into())),
            checked: 4,
            ok: true,
            head: None,
            page: None,
            rest_after: Some("s".into()),
        };
        let plain = crate::read::VerifyQuery::default();
        let key = CursorKey::derive(SEED, CURSOR_KEY_LABEL);
        // The trail walked (a store's chain_key: URL, database, trail).
        const T: &str = "http://neo4j:7474|neo4j|audit";
        let c = seal_cursor(&key, &p, T, &plain);
        assert_eq!(open_cursor(&key, &c, T, &plain), Some(p.clone()));
        assert_eq!(open_cursor(&CursorKey::derive(&"5".repeat(64), CURSOR_KEY_LABEL), &c, T, &plain), None);
        // The options are sealed with the progress: a walk cannot change them between pages.
        let strict = crate::read::VerifyQuery { require_bound: true, ..Default::default() };
        let lax = crate::read::VerifyQuery { allow_unsigned: true, ..Default::default() };
        let s = seal_cursor(&key, &p, T, &strict);
        assert_eq!(open_cursor(&key, &s, T, &strict), Some(p.clone()));
        for other in [&plain, &lax] {
            assert_eq!(open_cursor(&key, &s, T, other), None);
            assert_eq!(open_cursor(&key, &c, T, &strict), None);
        }
        assert_eq!(open_cursor(&key, &seal_cursor(&key, &p, T, &lax), T, &strict), None);
        // The MAC's key is derived from the signing key, not the key itself, and not from the JWT
        // secret as before: a cursor sealed with either (or with v1's key, derived from the JWT
        // secret) is refused, and a fresh one opens. The progress is the same text serde_json writes.
        use hmac::Mac;
        let json = serde_json::to_vec(&p).unwrap();
        let sealed_with = |k: &[u8]| {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(k).unwrap();
            mac.update(&json);
            mac.update(b"\ntrail 29:http://neo4j:7474|neo4j|audit");
            format!("{}.{}", crate::b64::encode_url(&json), crate::b64::encode_url(&mac.finalize().into_bytes()))
        };
        let mut v1 = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        v1.update(b"neo4j-audit verify-cursor v1");
        for k in [SEED.as_bytes(), SECRET.as_bytes(), &v1.finalize().into_bytes()[..]] {
            let raw = sealed_with(k);
            assert_eq!(raw.split_once('.').unwrap().0, c.split_once('.').unwrap().0);
            assert_ne!(raw, c);
            assert_eq!(open_cursor(&key, &raw, T, &plain), None);
        }
        assert_eq!(sealed_with(&key.0), c);
        // The trail is sealed too: a cursor of one trail does not open for another (nor for the
        // same trail name in another database or Neo4j).
        for other in ["http://neo4j:7474|neo4j|audit2", "http://neo4j:7474|other|audit", "https://x|neo4j|audit", ""] {
            assert_eq!(open_cursor(&key, &c, other, &plain), None, "{other}");
        }
        let (data, tag) = c.split_once('.').unwrap();
        assert_eq!(open_cursor(&key, &format!("{data}x.{tag}"), T, &plain), None);
        // Debug never shows it.
        assert_eq!(format!("{key:?}"), "CursorKey(***)");
    }
    use crate::event::AuditEvent;
    use std::cell::{Cell, RefCell};

    const SECRET: &str = "unit-test-jwt-secret-0123456789abcdef";
    const NOW: i64 = 1_800_000_000;

    /// The platform: a fixed body and a limiter that is present (or not).
    struct FakeIo {
        body: String,
        limiter: Result<bool, String>,
        keys: RefCell<Vec<String>>,
        logs: RefCell<Vec<String>>,
    }

    impl FakeIo {
        fn new(body: &str) -> FakeIo {
            FakeIo { body: body.into(), limiter: Ok(true), keys: RefCell::default(), logs: RefCell::default() }
        }
    }

    impl Io for FakeIo {
        async fn read_body(&self, limit: usize) -> Result<String, ReadError> {
            if self.body.len() > limit {
                Err(ReadError::TooLarge)
            } else {
                Ok(self.body.clone())
            }
        }
        async fn rate_limit(&self, key: &str) -> Result<bool, String> {
            self.keys.borrow_mut().push(key.to_owned());
            self.limiter.clone()
        }
        fn log(&self, line: &str) {
            self.logs.borrow_mut().push(line.into());
        }
    }

    /// A store that records writes and reports `stored` (default: every distinct UID), with the
    /// trail's head in memory and the conditional write's rules.
    #[derive(Default)]
    struct FakeStore {
        written: RefCell<Vec<AuditEvent>>,
        trails: RefCell<Vec<Option<String>>>,
        stored: Option<usize>,
        pings: Cell<usize>,
        head: RefCell<Option<crate::chain::SignedHead>>,
        seals: RefCell<Vec<(String, crate::chain::StoredSeal)>>,
        /// Part of the cache key: another value plays another isolate (its own head cache).
        isolate: Cell<u32>,
        /// The next this many conditional writes fail with Neo4j's `DeadlockDetected`.
        deadlocks: Cell<usize>,
    }

    impl Store for FakeStore {
        fn chain_key(&self, trail: Option<&str>) -> String {
            format!("fake-{:p}-{}-{trail:?}", self, self.isolate.get())
        }
        fn trail_name(&self, trail: Option<&str>) -> String {
            trail.unwrap_or("audit").to_owned()
        }
        async fn chain_state(&self, _trail: Option<&str>, uids: &[&str]) -> Result<signed::ChainState, AuditError> {
            let w = self.written.borrow();
            let existing = uids.iter().filter(|u| w.iter().any(|e| e.uid == **u)).map(|u| (*u).to_owned()).collect();
            Ok(signed::ChainState { head: self.head.borrow().clone(), existing })
        }
        async fn write_chained(
            &self,
            trail: Option<&str>,
            w: &signed::ChainedWrite<'_>,
        ) -> Result<Option<usize>, AuditError> {
            if self.deadlocks.get() > 0 {
                self.deadlocks.set(self.deadlocks.get() - 1);
                return Err(AuditError::Neo4j {
                    code: "Neo.TransientError.Transaction.DeadlockDetected".into(),
                    message: "can't acquire ExclusiveLock".into(),
                });
            }
            let moved = w.expect != self.head.borrow().as_ref();
            let dup = w.events.iter().any(|e| self.written.borrow().iter().any(|x| x.uid == e.uid));
            if moved || dup {
                return Ok(None);
            }
            self.trails.borrow_mut().push(trail.map(str::to_owned));
            self.written.borrow_mut().extend_from_slice(w.events);
            *self.head.borrow_mut() = Some(w.head.clone());
            if let (Some(s), Some(last)) = (w.event_seal, w.events.last()) {
                self.seals.borrow_mut().push((last.uid.clone(), s.clone()));
            }
            Ok(Some(self.stored.unwrap_or(w.events.len())))
        }
        async fn ping(&self) -> Result<(), AuditError> {
            self.pings.set(self.pings.get() + 1);
            Ok(())
        }
        async fn verify_page(
            &self,
            _q: &crate::read::VerifyQuery,
            _p: Option<crate::read::VerifyProgress>,
            _max: u64,
        ) -> Result<(crate::chain::VerifyReport, Option<crate::read::VerifyProgress>), AuditError> {
            Err(AuditError::InvalidConfig("not in the fake".into()))
        }
    }

    fn settings(extra: &[(&str, &str)]) -> Settings {
        let extra: Vec<(String, String)> = extra.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Settings::from_env(move |k| {
            if let Some((_, v)) = extra.iter().find(|(n, _)| n == k) {
                return Some(v.clone());
            }
            match k {
                "AUDIT_JWT_SECRET" => Some(SECRET.into()),
                "NEO4J_URL" => Some("http://127.0.0.1:7474".into()),
                "NEO4J_USER" => Some("neo4j".into()),
                "NEO4J_PASSWORD" => Some("pw".into()),
                _ => None,
            }
        })
    }

    /// Settings from `env` as the Worker's host gives them: the empty name is answered with the
    /// first var named like a setting that was not read before (src/ingest/host.js `textOf`).
    fn settings_as_hosted(env: &[(&str, &str)]) -> Settings {
        let read = std::cell::RefCell::new(Vec::<String>::new());
        Settings::from_env(|k| {
            if k.is_empty() {
                let prefixes = ["AUDIT_", "JWT_", "NEO4J_", "MAX_", "ALLOWED_", "TENANT_", "VERIFY_", "REDACT_"];
                return env
                    .iter()
                    .map(|(n, _)| n.to_string())
                    .find(|n| !read.borrow().contains(n) && prefixes.iter().any(|p| n.starts_with(p)));
            }
            read.borrow_mut().push(k.into());
            env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        })
    }

    /// A var named like a setting that none of them is (a misspelling) is misconfigured; every
    /// setting of a usable configuration is read whatever the others say, so none of them is
    /// taken for one (before, JWT_AUDIENCE beside JWT_AUDIENCE_CHECK = off was not read, and a
    /// fresh isolate answered 500 "JWT_AUDIENCE is not a setting").
    #[test]
    fn a_misspelled_setting_is_misconfigured_and_no_setting_is_taken_for_one() {
        let base = [
            ("AUDIT_JWT_SECRET", SECRET),
            ("NEO4J_URL", "http://127.0.0.1:7474"),
            ("NEO4J_USER", "neo4j"),
            ("NEO4J_PASSWORD", "pw"),
            ("JWT_AUDIENCE_CHECK", "off"),
            ("JWT_AUDIENCE", "leftover"),
            ("JWT_ISSUER", "https://idp.example"),
            ("TENANT_CLAIM", "org_id"),
            ("MAX_DETAILS_DEPTH", "8"),
            ("REDACT_KEYS", "pin"),
        ];
        assert_eq!(settings_as_hosted(&base).misconfiguration(), None);
        let mut typo = base.to_vec();
        typo.push(("TENANT_CLAIMS", "org_id"));
        assert_eq!(
            settings_as_hosted(&typo).misconfiguration().as_deref(),
            Some("TENANT_CLAIMS is not a setting (a typo?)")
        );
    }

    /// The Worker's build leaves out the validation of the settings `Settings` never sets (the
    /// delivery settings, client mode's endpoint and token: `Config::validate_as`,
    /// `validate_delivery`): they must stay `Config::new`'s (valid) defaults, and the
    /// credentials both set, whatever the Worker's variables say.
    #[test]
    fn the_worker_settings_leave_the_delivery_settings_at_their_defaults() {
        let s = settings(&[
            ("NEO4J_DATABASE", "audit"),
            ("AUDIT_TRAIL", "t"),
            ("NEO4J_TIMEOUT_MS", "1234"),
            ("NEO4J_ALLOW_INSECURE_HTTP", "true"),
            ("MAX_DETAILS_BYTES", "999"),
            ("MAX_BATCH", "7"),
            ("REDACT_KEYS", "a,b"),
            ("REDACT_MATCH", "exact"),
        ]);
        let c = s.neo4j.as_ref().unwrap();
        let d = Config::new("");
        // (`queue` and `delivery` exist on wasm only: `Config::new`'s too, the same constructor.)
        assert_eq!((&c.retry, &c.batch), (&d.retry, &d.batch));
        assert_eq!((&c.endpoint, &c.token, &c.redact), (&None, &None, &None));
        assert!(c.username.is_some() && c.password.as_deref().is_some_and(|p| !p.is_empty()));
        assert!(d.validate_in(crate::config::Spelling::Js).is_err(), "no url");
        let mut d = d;
        d.url = "http://127.0.0.1:7474".into();
        assert!(d.validate().is_ok(), "the defaults are valid");
    }

    #[test]
    fn the_settings_debug_shows_no_secret() {
        // Every secret the Worker reads, each set to a value found nowhere else.
        let (pw, prev, signing) = ("neo4j-pw-8c1f", "previous-jwt-secret-0123456789abcdef", "7".repeat(64));
        let s =
            settings(&[("NEO4J_PASSWORD", pw), ("AUDIT_JWT_SECRET_PREVIOUS", prev), ("AUDIT_SIGNING_KEY", &signing)]);
        assert!(s.signer.as_ref().is_ok_and(Option::is_some) && s.cursor_key.is_some() && s.neo4j.is_ok());
        let text = format!("{s:?}");
        for secret in [SECRET, pw, prev, &signing] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        // Nor as the HS256 key's bytes Debug would print for a Vec<u8>.
        assert!(!text.contains(&format!("{:?}", SECRET.as_bytes())[..40]), "{text}");
    }

    /// `JWT_JWKS_URL` may carry a credential (an identity provider's key set behind an API key in
    /// the query, or userinfo): `Debug` printed it whole. Now masked as the Neo4j URL is.
    #[test]
    fn the_settings_debug_masks_the_jwks_urls_secret_parts() {
        let url = "https://idp-user:idp-pw-5d2e@idp.example/jwks.json?api_key=jwks-key-91f3#frag-c07b";
        let s = settings(&[("JWT_JWKS_URL", url)]);
        assert_eq!(s.jwt.as_ref().and_then(|j| j.jwks_url.as_deref()), Some(url), "the URL itself is kept");
        let text = format!("{s:?}");
        for secret in ["idp-user", "idp-pw-5d2e", "api_key", "jwks-key-91f3", "frag-c07b"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("https://***@idp.example/jwks.json?***"), "{text}");
    }

    #[test]
    fn a_numeric_setting_that_is_not_a_whole_number_is_misconfigured_not_the_default() {
        // Found by a new user: MAX_BODY_BYTES = "64k" or JWT_MAX_LIFETIME_SECS = "1h" silently
        // gave the default (256 KiB, one day) where the operator asked for a bound.
        for k in [
            "MAX_BODY_BYTES",
            "MAX_BATCH",
            "MAX_DETAILS_BYTES",
            "MAX_DETAILS_DEPTH",
            "JWT_MAX_LIFETIME_SECS",
            "JWT_CLOCK_SKEW_SECS",
            "NEO4J_TIMEOUT_MS",
            "RETRY_AFTER_SECS",
            "RATE_LIMIT_PERIOD_SECS",
            "OCCURRED_AT_MAX_SKEW_SECS",
            "OCCURRED_AT_MAX_AGE_SECS",
        ] {
            for v in ["64k", "1h", "-1", "1.5", "1e3", "+5"] {
                let s = settings(&[(k, v)]);
                let e = s.neo4j.expect_err(k);
                assert!(e.starts_with(k) && e.contains("whole number") && !e.contains(v), "{k}={v}: {e}");
            }
        }
        // Digits (with surrounding blanks), and unset or empty, still work.
        assert!(settings(&[("MAX_BODY_BYTES", " 65536 ")]).neo4j.is_ok());
        assert_eq!(settings(&[("MAX_BODY_BYTES", " 65536 ")]).max_body_bytes, 65536);
        assert!(settings(&[("MAX_BODY_BYTES", "")]).neo4j.is_ok());
    }

    #[test]
    fn a_var_outside_its_values_is_misconfigured_not_clamped_or_the_default() {
        // Before: JWT_CLOCK_SKEW_SECS = 7200 silently became 3600, JWT_MAX_LIFETIME_SECS beyond
        // 30 days 30 days, and REDACT_MATCH = "exactly" silently the default "words".
        for (k, low, high, lo, hi) in [
            ("JWT_CLOCK_SKEW_SECS", None, "3601", "0", "3600"),
            ("JWT_MAX_LIFETIME_SECS", Some("59"), "2592001", "60", "2592000"),
            ("RETRY_AFTER_SECS", Some("0"), "3601", "1", "3600"),
            ("RATE_LIMIT_PERIOD_SECS", Some("0"), "3601", "1", "3600"),
            ("OCCURRED_AT_MAX_SKEW_SECS", None, "31536001", "0", "31536000"),
            ("OCCURRED_AT_MAX_AGE_SECS", None, "315360001", "0", "315360000"),
        ] {
            for v in low.into_iter().chain([high]) {
                let e = settings(&[(k, v)]).misconfiguration().expect(k);
                assert_eq!(e, format!("{k} must be between {lo} and {hi}"), "{k}={v}");
            }
            for v in [lo, hi] {
                assert_eq!(settings(&[(k, v)]).misconfiguration(), None, "{k}={v}");
            }
        }
        assert_eq!(settings(&[("JWT_CLOCK_SKEW_SECS", "3600")]).jwt.unwrap().leeway_secs, 3600);
        for v in ["exactly", "word", "none", "true"] {
            let e = settings(&[("REDACT_MATCH", v)]).misconfiguration().expect(v);
            assert_eq!(e, "REDACT_MATCH must be \"words\" or \"exact\" (any case)");
        }
        for (k, v, allowed) in [
            ("JWT_AUDIENCE_CHECK", "false", "\"on\" or \"off\""),
            ("JWT_AUDIENCE_CHECK", "disabled", "\"on\" or \"off\""),
            ("NEO4J_ALLOW_INSECURE_HTTP", "yes", "\"false\" or \"true\""),
            ("NEO4J_ALLOW_INSECURE_HTTP", "1", "\"false\" or \"true\""),
        ] {
            let e = settings(&[(k, v)]).misconfiguration().expect(v);
            assert_eq!(e, format!("{k} must be {allowed} (any case)"));
        }
        assert!(settings(&[("JWT_AUDIENCE_CHECK", "ON")]).jwt.unwrap().audience.is_some());
        assert!(settings(&[("JWT_AUDIENCE_CHECK", "Off")]).jwt.unwrap().audience.is_none());
        assert_eq!(settings(&[("NEO4J_ALLOW_INSECURE_HTTP", "False")]).misconfiguration(), None);
        for (v, exact) in [("words", false), ("WORDS", false), (" Exact ", true), ("", false)] {
            let s = settings(&[("REDACT_MATCH", v)]);
            assert_eq!(s.misconfiguration(), None, "{v}");
            assert_eq!(s.redactor.matches("newPassword"), !exact, "{v}");
        }
    }

    fn token(sub: &str) -> String {
        jwt::sign_hs256(SECRET.as_bytes(), &json!({"sub": sub, "aud": "neo4j-audit", "exp": NOW + 60}))
    }

    fn post(auth: &str) -> Request {
        Request {
            method: "POST".into(),
            path: "/v1/events".into(),
            headers: vec![("Authorization".into(), auth.into()), ("Content-Type".into(), "application/json".into())],
            ..Default::default()
        }
    }

    #[test]
    fn verify_refuses_query_parameters_it_would_not_apply() {
        // Before, only the exact `requireBound=true` / `allowUnsigned=true` counted and anything
        // else was ignored: `requireBound=1`, `=TRUE`, a misspelt or unsupported option (`anchor`,
        // which only verifyTrail and the CLI take) verified less than asked, and could say ok.
        let s = settings(&[("AUDIT_SIGNING_KEY", SEED), ("VERIFY_SUBJECTS", "u1")]);
        let auth = ("Authorization".to_string(), cat(&["Bearer ", &token("u1")]));
        let get = |q: &str| Request {
            method: "GET".into(),
            path: "/v1/verify".into(),
            query: q.into(),
            headers: vec![auth.clone()],
        };
        for (q, names) in [
            ("requireBound=1", "requireBound"),
            ("requireBound=TRUE", "requireBound"),
            ("requireBound", "requireBound"),
            ("allowUnsigned=yes", "allowUnsigned"),
            ("requireBound=true&requireBound=false", "requireBound"),
            ("limit=5000&limit=1000", "limit"),
            ("requireBounds=true", "requireBounds"),
            ("anchor=s:3:abc", "anchor"),
            ("limit=1000&since=5", "since"),
        ] {
            let r = run(&get(q), &s, &FakeIo::new(""), &FakeStore::default());
            assert_eq!(r.status, 400, "{q}: {}", r.body);
            let b = body_of(&r);
            assert_eq!(b["error"], "bad_request", "{q}");
            assert!(b["message"].as_str().unwrap().contains(names), "{q}: {b}");
        }
        // What it takes still reaches the verifier (the fake store answers 5xx).
        for q in [
            "",
            "limit=1000",
            "requireBound=true",
            "requireBound=false&allowUnsigned=true",
            "allowUnsigned=false&limit=100000&",
        ] {
            let r = run(&get(q), &s, &FakeIo::new(""), &FakeStore::default());
            assert!(r.status >= 500, "{q}: {} {}", r.status, r.body);
        }
    }

    #[test]
    fn a_verify_cursor_resumes_only_under_the_options_it_was_issued_for() {
        // Before, the cursor sealed the progress alone: a walk begun with requireBound=true could
        // go on without it (or with allowUnsigned) and end in one `ok` for mixed modes.
        let s = settings(&[("AUDIT_SIGNING_KEY", SEED), ("VERIFY_SUBJECTS", "u1")]);
        let key = s.cursor_key.clone().unwrap();
        let p = crate::read::VerifyProgress {
            pending: vec!["s".into()],
            current: None,
            after: None,
            checked: 10,
            ok: true,
            head: None,
            page: None,
            rest_after: None,
        };
        let strict = crate::read::VerifyQuery { require_bound: true, ..Default::default() };
        let store = FakeStore::default();
        let c = seal_cursor(&key, &p, &store.chain_key(None), &strict);
        let auth = ("Authorization".to_string(), cat(&["Bearer ", &token("u1")]));
        let get = |q: String| Request {
            method: "GET".into(),
            path: "/v1/verify".into(),
            query: q,
            headers: vec![auth.clone()],
        };
        for flags in ["", "&requireBound=false", "&requireBound=true&allowUnsigned=true", "&allowUnsigned=true"] {
            let r = run(&get(cat(&["cursor=", &c, flags])), &s, &FakeIo::new(""), &store);
            assert_eq!(r.status, 400, "{flags}: {}", r.body);
            assert!(body_of(&r)["message"].as_str().unwrap().contains("these options"), "{flags}: {}", r.body);
        }
        // The same options: the cursor opens and the walk reaches the verifier (the fake store
        // answers 5xx).
        let r = run(&get(cat(&["cursor=", &c, "&requireBound=true"])), &s, &FakeIo::new(""), &store);
        assert!(r.status >= 500, "{} {}", r.status, r.body);
        // The JWT secret rotated, even gone (tokens checked another way): the walk goes on. The
        // signing key rotated: its cursor is refused, the walk starts again.
        const NEW: &str = "the-next-jwt-secret-0123456789abcdefghij";
        let token_new = jwt::sign_hs256(NEW.as_bytes(), &json!({"sub": "u1", "aud": "neo4j-audit", "exp": NOW + 60}));
        let get_new =
            |q: String| Request { headers: vec![("Authorization".into(), cat(&["Bearer ", &token_new]))], ..get(q) };
        let rotated = settings(&[("AUDIT_SIGNING_KEY", SEED), ("VERIFY_SUBJECTS", "u1"), ("AUDIT_JWT_SECRET", NEW)]);
        let r = run(&get_new(cat(&["cursor=", &c, "&requireBound=true"])), &rotated, &FakeIo::new(""), &store);
        assert!(r.status >= 500, "{} {}", r.status, r.body);
        let new_key = settings(&[("AUDIT_SIGNING_KEY", &"5".repeat(64)), ("VERIFY_SUBJECTS", "u1")]);
        let r = run(&get(cat(&["cursor=", &c, "&requireBound=true"])), &new_key, &FakeIo::new(""), &store);
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(body_of(&r)["message"].as_str().unwrap().contains("start the walk again"), "{}", r.body);
    }

    #[test]
    fn a_request_debug_never_shows_its_credentials() {
        // `Request` derived `Debug`: the bearer token (and a cookie) showed in `{:?}`.
        let t = token("u1");
        let mut req = post(&cat(&["Bearer ", &t]));
        req.headers.push(("cookie".into(), "session=s3cr3t".into()));
        req.headers.push(("Proxy-Authorization".into(), "Basic cHJveHk6cHc=".into()));
        let shown = format!("{req:?} {req:#?}");
        for secret in [t.as_str(), "s3cr3t", "cHJveHk6cHc="] {
            assert!(!shown.contains(secret), "{shown}");
        }
        // Everything else is still there to debug with.
        assert!(
            shown.contains("/v1/events") && shown.contains("application/json") && shown.contains("Authorization"),
            "{shown}"
        );
    }

    fn run(req: &Request, s: &Settings, io: &FakeIo, store: &FakeStore) -> Response {
        futures::executor::block_on(handle(req, s, NOW, io, Some(store)))
    }

    fn body_of(r: &Response) -> Value {
        serde_json::from_str(&r.body).unwrap()
    }

    /// One rule table, two paths: every case goes through the client (the event builder, with
    /// the default limits, and `set_targets`) and through the Worker (`handle`, with the same
    /// limits and the labels used here allowed) as the raw body a client would send; both must
    /// accept it or both refuse it. An event the client accepts is also posted as the client's
    /// own request body, which the Worker must accept.
    #[test]
    fn client_and_worker_accept_and_refuse_the_same_events() {
        let big = |n: usize| format!(r#"{{"k":"{}"}}"#, "x".repeat(n - 8));
        let deep = |d: usize| format!("{}1{}", r#"{"a":"#.repeat(d), "}".repeat(d));
        let t = |l: &str, u: &str| json!({"label": l, "uid": u});
        let many: Vec<Value> = (0..17).map(|i| t("Doc", &format!("d{i}"))).collect();
        let sixteen: Vec<Value> = (0..16).map(|i| t("Doc", &format!("d{i}"))).collect();
        let max = crate::rules::DEFAULT_MAX_DETAILS_BYTES;
        let cases: Vec<(String, Option<String>, Option<String>, Value)> = vec![
            ("A".into(), None, None, json!([])),
            ("a.b:c-d_E9".into(), Some("C".into()), None, json!([])),
            ("".into(), None, None, json!([])),
            ("x".repeat(64), None, None, json!([])),
            ("x".repeat(65), None, None, json!([])),
            ("é".into(), None, None, json!([])),
            ("a b".into(), None, None, json!([])),
            ("A\u{0}".into(), None, None, json!([])),
            ("A".into(), Some("".into()), None, json!([])),
            ("A".into(), Some("c".repeat(65)), None, json!([])),
            ("A".into(), None, Some("{}".into()), json!([])),
            ("A".into(), None, Some("[1]".into()), json!([])),
            ("A".into(), None, Some("1".into()), json!([])),
            ("A".into(), None, Some(r#""text""#.into()), json!([])),
            ("A".into(), None, Some(r#"{"a":1}"#.into()), json!([])),
            ("A".into(), None, Some(r#"{ "a" : [1, 2.50, {"b": null}] }"#.into()), json!([])),
            ("A".into(), None, Some(r#"{"a":1,"a":2}"#.into()), json!([])),
            ("A".into(), None, Some(r#"{"a":{"b":1,"b":1}}"#.into()), json!([])),
            ("A".into(), None, Some(r#"{"a":"\ud800"}"#.into()), json!([])),
            ("A".into(), None, Some(r#"{"\udc00":1}"#.into()), json!([])),
            ("A".into(), None, Some(r#"{"a":"\ud83d\ude00 😀"}"#.into()), json!([])),
            ("A".into(), None, Some(r#"{"":1,"a\u0000":"\u0001"}"#.into()), json!([])),
            ("A".into(), None, Some(r#"{"n":1e400}"#.into()), json!([])),
            ("A".into(), None, Some(r#"{"n":123456789012345678901234567890}"#.into()), json!([])),
            ("A".into(), None, Some(deep(16)), json!([])),
            ("A".into(), None, Some(deep(17)), json!([])),
            ("A".into(), None, Some(big(max)), json!([])),
            ("A".into(), None, Some(big(max + 1)), json!([])),
            ("A".into(), None, Some(format!(r#"{{"password":"{}"}}"#, "x".repeat(max))), json!([])),
            ("A".into(), None, Some(format!(r#"{{"k":"{}"{}}}"#, "x".repeat(max - 100), " ".repeat(200))), json!([])),
            ("A".into(), None, Some(format!(r#"{{"k":"{}"{}}}"#, "x".repeat(max - 100), " ".repeat(80))), json!([])),
            ("A".into(), None, Some("null".into()), json!([])),
            ("A".into(), None, Some(r#"{"apiKey":{"deep":[1,2]},"a":"b"}"#.into()), json!([])),
            ("A".into(), None, None, json!([t("Doc", "d1")])),
            ("A".into(), None, None, json!([{"label": "Doc", "uid": "d1", "role": "OWNER"}])),
            ("A".into(), None, None, json!([{"label": "Doc", "uid": "d1", "role": "bad role"}])),
            ("A".into(), None, None, json!([{"label": "Doc", "uid": "d1", "role": null}])),
            ("A".into(), None, None, json!([t("1Doc", "d1")])),
            ("A".into(), None, None, json!([t("Doc", "")])),
            ("A".into(), None, None, json!([t("Doc", " ")])),
            ("A".into(), None, None, json!([t("Doc", "d\u{1}")])),
            ("A".into(), None, None, json!([t("Doc", &"u".repeat(1024))])),
            ("A".into(), None, None, json!([t("Doc", &"u".repeat(1025))])),
            ("A".into(), None, None, json!([t("Doc", "d1"), t("Doc", "d1")])),
            ("A".into(), None, None, Value::Array(sixteen)),
            ("A".into(), None, None, Value::Array(many)),
        ];
        let s = settings(&[("ALLOWED_TARGET_LABELS", "Doc,_1Doc")]);
        let client =
            crate::event::EventBuilder::new(crate::redact::Redactor::default(), crate::rules::Limits::default());
        let worker =
            |body: &str| run(&post(&format!("Bearer {}", token("u"))), &s, &FakeIo::new(body), &FakeStore::default());
        let mut disagree = Vec::new();
        for (i, (action, category, details, targets)) in cases.iter().enumerate() {
            let targets_rs: Result<Vec<crate::event::Target>, String> =
                serde_json::from_value(targets.clone()).map_err(|e| e.to_string());
            let c = client.build_json(None, action, category.as_deref(), details.as_deref()).and_then(|mut e| {
                e.set_targets(targets_rs.clone().map_err(AuditError::InvalidInput)?)?;
                Ok(e)
            });
            let mut raw = format!(r#"{{"actionType":{}"#, serde_json::to_string(action).unwrap());
            if let Some(c) = category {
                raw.push_str(&format!(r#","category":{}"#, serde_json::to_string(c).unwrap()));
            }
            if let Some(d) = details {
                raw.push_str(&format!(r#","details":{d}"#));
            }
            if targets.as_array().is_some_and(|a| !a.is_empty()) {
                raw.push_str(&format!(r#","targets":{targets}"#));
            }
            raw.push('}');
            let w = worker(&raw);
            // The client redacts before it checks the size and sends what it redacted: a raw
            // body with the secret in it is not what it would send.
            let redacted = c.as_ref().is_ok_and(|e| e.details.as_deref().is_some_and(|d| d.contains("[REDACTED]")));
            if c.is_ok() != (w.status == 201) && !redacted {
                let why = c.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
                disagree.push(format!("case {i}: client {} ({why}), worker {} {}", c.is_ok(), w.status, w.body));
            }
            if let Ok(e) = &mut c.clone() {
                (e.ts, e.occurred_at) = (NOW * 1000, Some(NOW * 1000));
                let own = crate::sink::request_body(std::slice::from_ref(e));
                let w = worker(&own);
                if w.status != 201 {
                    disagree.push(format!("case {i}: the client's own body: worker {} {}", w.status, w.body));
                }
            }
        }
        assert!(disagree.is_empty(), "{}", disagree.join("\n"));
    }

    #[test]
    fn duplicate_uids_are_refused_and_nothing_is_written() {
        let u = "0b5e7f33-5c1e-4f0a-9a0e-3c0e8d1b2a11";
        let io = FakeIo::new(&format!(
            r#"{{"events":[{{"actionType":"A","UID":"{u}"}},{{"actionType":"B","UID":"{u}"}}]}}"#
        ));
        let store = FakeStore::default();
        let r = run(&post(&format!("Bearer {}", token("u"))), &settings(&[]), &io, &store);
        assert_eq!(r.status, 400, "{}", r.body);
        let b = body_of(&r);
        assert_eq!(b["error"], "bad_request");
        assert!(b["message"].as_str().unwrap().contains("events[1]"), "{b}");
        assert!(store.written.borrow().is_empty());
    }

    #[test]
    fn accepted_is_what_the_store_stored() {
        let body = r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#;
        let store = FakeStore::default();
        let r = run(&post(&format!("Bearer {}", token("u"))), &settings(&[]), &FakeIo::new(body), &store);
        assert_eq!((r.status, body_of(&r)["accepted"].clone()), (201, json!(2)));
        let short = FakeStore { stored: Some(1), ..FakeStore::default() };
        let r = run(&post(&format!("Bearer {}", token("u"))), &settings(&[]), &FakeIo::new(body), &short);
        assert_eq!((r.status, body_of(&r)["error"].clone()), (500, json!("store_error")));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let store = FakeStore::default();
        for auth in [format!("bearer {}", token("u")), format!("BEARER {}", token("u"))] {
            let r = run(&post(&auth), &settings(&[]), &FakeIo::new(r#"{"actionType":"A"}"#), &store);
            assert_eq!(r.status, 201, "{auth}: {}", r.body);
        }
        let r = run(&post(&format!("Basic {}", token("u"))), &settings(&[]), &FakeIo::new("{}"), &store);
        assert_eq!(r.status, 401);
    }

    /// A key set's keys are the identity provider's, which signs tokens for every app it serves:
    /// with the audience check off and no JWT_ISSUER, a token it made for any other app (another
    /// project's, whose owner chose its `sub`) was accepted as this Worker's user. Refused now
    /// (500 naming JWT_AUDIENCE_CHECK); with JWT_ISSUER, or with HS256 alone (the secret is this
    /// deployment's own), the opt-out stays.
    #[test]
    fn the_audience_opt_out_with_a_key_set_needs_an_issuer() {
        // One RSA key of 2048 bits (the numbers need not be a real key here).
        let set = cat(&[r#"{"keys":[{"kty":"RSA","n":"w"#, &"A".repeat(341), r#"","e":"AQAB"}]}"#]);
        for key_set in [("JWT_JWKS_URL", "https://idp.example/.well-known/jwks.json"), ("JWT_PUBLIC_KEYS", &set)] {
            let s = settings(&[key_set, ("JWT_AUDIENCE_CHECK", "off")]);
            let why = s.misconfiguration().expect("the opt-out without an issuer is refused");
            assert!(why.starts_with("JWT_AUDIENCE_CHECK = off with a key set needs JWT_ISSUER"), "{why}");
            assert!(s.jwt.is_none(), "no token verifies under it");
            let pinned = settings(&[key_set, ("JWT_AUDIENCE_CHECK", "off"), ("JWT_ISSUER", "https://idp.example/")]);
            assert_eq!(pinned.misconfiguration(), None);
            assert_eq!(pinned.jwt.unwrap().audience, None);
            // The check on (the default): no issuer needed.
            assert_eq!(settings(&[key_set]).misconfiguration(), None);
        }
        assert_eq!(settings(&[("JWT_AUDIENCE_CHECK", "off")]).misconfiguration(), None, "HS256 alone");
    }

    #[test]
    fn token_settings_are_secure_by_default() {
        let rules = settings(&[]).jwt.unwrap();
        assert_eq!(rules.audience.as_deref(), Some(jwt::DEFAULT_AUDIENCE));
        assert_eq!(rules.max_lifetime_secs, jwt::DEFAULT_MAX_LIFETIME_SECS);
        let named = settings(&[("JWT_AUDIENCE", "app"), ("JWT_MAX_LIFETIME_SECS", "3600")]).jwt.unwrap();
        assert_eq!((named.audience.as_deref(), named.max_lifetime_secs), (Some("app"), 3600));
        assert_eq!(settings(&[("JWT_AUDIENCE_CHECK", "OFF")]).jwt.unwrap().audience, None);
        // Anything but "off" keeps the check ("on" and unset quietly; any other value also makes
        // the Worker misconfigured, 500).
        for not_off in ["no", "false", "0", "", "on"] {
            let s = settings(&[("JWT_AUDIENCE_CHECK", not_off)]);
            assert_eq!(s.misconfiguration().is_none(), ["", "on"].contains(&not_off), "{not_off:?}");
            assert_eq!(s.jwt.unwrap().audience.as_deref(), Some(jwt::DEFAULT_AUDIENCE), "{not_off:?}");
        }
        // Outside its bounds: misconfigured (it was silently clamped to 60).
        assert!(settings(&[("JWT_MAX_LIFETIME_SECS", "0")]).misconfiguration().is_some());
    }

    /// A plain http:// NEO4J_URL to another machine sent the Worker's Neo4j password in
    /// cleartext; it is a configuration error unless NEO4J_ALLOW_INSECURE_HTTP is "true".
    #[test]
    fn a_plain_http_neo4j_url_to_a_remote_host_is_refused_unless_allowed() {
        let remote = [("NEO4J_URL", "http://neo4j.internal:7474"), ("NEO4J_PASSWORD", "SECRET-pw-9")];
        let e = settings(&remote).neo4j.unwrap_err();
        assert_eq!(
            e,
            "NEO4J_URL: http:// would send the password unencrypted to \"neo4j.internal\"; \
             use https://, or set NEO4J_ALLOW_INSECURE_HTTP = \"true\" for a trusted private network"
        );
        for not_true in ["1", "yes", "", "false"] {
            let mut env = remote.to_vec();
            env.push(("NEO4J_ALLOW_INSECURE_HTTP", not_true));
            assert!(settings(&env).neo4j.is_err(), "{not_true:?}");
        }
        for yes in ["true", "TRUE", " true "] {
            let mut env = remote.to_vec();
            env.push(("NEO4J_ALLOW_INSECURE_HTTP", yes));
            assert!(settings(&env).neo4j.unwrap().allow_insecure_http, "{yes:?}");
        }
        settings(&[("NEO4J_URL", "https://neo4j.internal:7473")]).neo4j.unwrap();
        settings(&[("NEO4J_URL", "http://localhost:7474")]).neo4j.unwrap();
    }

    /// A NEO4J_URL with credentials in it is refused in the Worker's words: the log said "use
    /// username/password or token", the library's fields, which the Worker has no setting for.
    #[test]
    fn a_neo4j_url_with_credentials_names_the_workers_secrets() {
        let e = settings(&[("NEO4J_URL", "https://neo4j:SECRET-pw@neo4j.internal:7473")]).neo4j.unwrap_err();
        assert_eq!(e, "NEO4J_URL must not carry credentials; set the NEO4J_USER and NEO4J_PASSWORD secrets instead");
    }

    /// An empty NEO4J_PASSWORD (a secret set to nothing) is named by the Worker's setting.
    #[test]
    fn an_empty_neo4j_password_is_a_misconfiguration_named_by_its_setting() {
        let e = settings(&[("NEO4J_PASSWORD", "")]).neo4j.unwrap_err();
        assert_eq!(e, "NEO4J_PASSWORD is empty (an unset environment variable?)");
    }

    #[test]
    fn provenance_and_occurred_at_window() {
        let store = FakeStore::default();
        let at = (NOW - 3600) * 1000;
        let io = FakeIo::new(&format!(r#"{{"events":[{{"actionType":"A","occurredAt":{at}}},{{"actionType":"B"}}]}}"#));
        let r = run(&post(&format!("Bearer {}", token("u"))), &settings(&[]), &io, &store);
        assert_eq!(r.status, 201, "{}", r.body);
        let w = store.written.borrow();
        assert!(w.iter().all(|e| e.source == Source::Worker));
        assert_eq!(w[0].occurred_at, Some(at));
        assert_eq!(w[1].occurred_at, Some(w[1].ts), "no occurredAt: the receive time");
        for (t, skew) in [((NOW + 301) * 1000, "300"), ((NOW + 11) * 1000, "10")] {
            let io = FakeIo::new(&format!(r#"{{"actionType":"A","occurredAt":{t}}}"#));
            let r = run(
                &post(&format!("Bearer {}", token("u"))),
                &settings(&[("OCCURRED_AT_MAX_SKEW_SECS", skew)]),
                &io,
                &store,
            );
            assert_eq!((r.status, body_of(&r)["error"].clone()), (400, json!("bad_request")), "{t}");
        }
        let old = (NOW - 8 * 86_400 - 1) * 1000;
        let io = FakeIo::new(&format!(r#"{{"actionType":"A","occurredAt":{old}}}"#));
        assert_eq!(run(&post(&format!("Bearer {}", token("u"))), &settings(&[]), &io, &store).status, 400);
    }

    #[test]
    fn allowed_categories_refuse_others_with_403_forbidden() {
        let s = settings(&[("ALLOWED_CATEGORIES", "SECURITY, DOCS")]);
        let store = FakeStore::default();
        let ok = run(
            &post(&format!("Bearer {}", token("u"))),
            &s,
            &FakeIo::new(r#"{"actionType":"A","category":"DOCS"}"#),
            &store,
        );
        assert_eq!(ok.status, 201);
        for body in [
            r#"{"actionType":"A"}"#,
            r#"{"events":[{"actionType":"A","category":"DOCS"},{"actionType":"A","category":"OTHER"}]}"#,
        ] {
            let r = run(&post(&format!("Bearer {}", token("u"))), &s, &FakeIo::new(body), &store);
            assert_eq!((r.status, body_of(&r)["error"].clone()), (403, json!("forbidden")), "{body}");
        }
        assert_eq!(store.written.borrow().len(), 1);
        assert!(settings(&[]).category_allowed("ANYTHING"));
    }

    /// Details within `MAX_DETAILS_BYTES` as sent that the Worker's redaction takes over it
    /// (`"password":1` becomes `"password":"[REDACTED]"`): 413 naming the event, as the size
    /// rule is as sent; before, a 400 `invalid input: details are …` without the event's index.
    #[test]
    fn details_over_the_bound_once_redacted_are_413_naming_the_event() {
        let max = crate::rules::DEFAULT_MAX_DETAILS_BYTES;
        let d = format!(r#"{{"password":1,"k":"{}"}}"#, "x".repeat(max - 31));
        assert!(d.len() <= max);
        let body = format!(r#"{{"events":[{{"actionType":"A"}},{{"actionType":"A","details":{d}}}]}}"#);
        let s = settings(&[]);
        let r = run(&post(&format!("Bearer {}", token("u"))), &s, &FakeIo::new(&body), &FakeStore::default());
        assert_eq!(r.status, 413, "{}", r.body);
        let v = body_of(&r);
        assert_eq!(v["error"], "payload_too_large");
        let m = v["message"].as_str().unwrap();
        assert!(m.starts_with("events[1]: details are ") && m.ends_with("more than MAX_DETAILS_BYTES (65536)"), "{m}");
    }

    #[test]
    fn target_labels_must_be_allowed() {
        let body = r#"{"actionType":"A","targets":[{"label":"Document","uid":"d-1"}]}"#;
        let auth = format!("Bearer {}", token("u"));
        let store = FakeStore::default();
        for s in [
            settings(&[]),
            settings(&[("ALLOWED_TARGET_LABELS", "")]),
            settings(&[("ALLOWED_TARGET_LABELS", "Folder")]),
        ] {
            let r = run(&post(&auth), &s, &FakeIo::new(body), &store);
            assert_eq!((r.status, body_of(&r)["error"].clone()), (403, json!("forbidden")), "{}", r.body);
            assert!(r.body.contains("Document"), "{}", r.body);
        }
        assert!(store.written.borrow().is_empty());
        let s = settings(&[("ALLOWED_TARGET_LABELS", "Folder, Document")]);
        let r = run(&post(&auth), &s, &FakeIo::new(body), &store);
        assert_eq!(r.status, 201, "{}", r.body);
        let w = store.written.borrow();
        assert_eq!(w[0].targets, vec![crate::event::Target::new("Document", "d-1")]);
        assert!(crate::chain::verify_hash(&w[0]), "sealed in version 2");
        assert_eq!(w[0].hash, Some(crate::chain::event_hash_v2(&w[0], crate::chain::GENESIS)));
    }

    #[test]
    fn the_tenant_claim_chooses_the_trail_and_is_required() {
        let s = settings(&[("TENANT_CLAIM", "org_id")]);
        let store = FakeStore::default();
        let io = FakeIo::new(r#"{"actionType":"A","UID":"0b5e7f33-5c1e-4f0a-9a0e-3c0e8d1b2a11"}"#);
        let tok = |org: Value| {
            jwt::sign_hs256(
                SECRET.as_bytes(),
                &json!({"sub": "u", "aud": "neo4j-audit", "exp": NOW + 60, "org_id": org}),
            )
        };
        let a = run(&post(&format!("Bearer {}", tok(json!("acme")))), &s, &io, &store);
        let b = run(&post(&format!("Bearer {}", tok(json!("globex")))), &s, &io, &store);
        assert_eq!((a.status, b.status), (201, 201));
        assert_eq!(*store.trails.borrow(), vec![Some("org:acme".to_owned()), Some("org:globex".to_owned())]);
        let w = store.written.borrow();
        assert_ne!(w[0].uid, w[1].uid, "one sub and one client UID in two tenants: two events");
        drop(w);
        for bad in [json!(null), json!(5), json!(" ")] {
            let r = run(&post(&format!("Bearer {}", tok(bad.clone()))), &s, &io, &store);
            assert!(matches!(r.status, 401 | 403), "{bad}: {}", r.body);
        }
        let none = jwt::sign_hs256(SECRET.as_bytes(), &json!({"sub": "u", "aud": "neo4j-audit", "exp": NOW + 60}));
        let r = run(&post(&format!("Bearer {none}")), &s, &io, &store);
        assert_eq!((r.status, body_of(&r)["error"].clone()), (403, json!("forbidden")));
        assert_eq!(store.trails.borrow().len(), 2);
        // Without TENANT_CLAIM: the configured trail.
        run(&post(&format!("Bearer {}", token("u"))), &settings(&[]), &io, &store);
        assert_eq!(store.trails.borrow()[2], None);
    }

    /// GET /v1/verify is off unless VERIFY_SUBJECTS names the caller. Before, unset meant any
    /// valid token's subject: every end user of the Worker could have it read up to 100 000
    /// events per call, 120 calls a minute, and see the trail's stream ids, counts and UIDs.
    #[test]
    fn verify_is_off_unless_verify_subjects_names_the_caller() {
        let get = |sub: &str| Request {
            method: "GET".into(),
            path: "/v1/verify".into(),
            query: "limit=5".into(),
            headers: vec![("Authorization".to_string(), cat(&["Bearer ", &token(sub)]))],
        };
        let off = settings(&[("AUDIT_SIGNING_KEY", SEED)]);
        let io = FakeIo::new("");
        let r = run(&get("u1"), &off, &io, &FakeStore::default());
        assert_eq!((r.status, body_of(&r)["error"].clone()), (403, json!("forbidden")), "{}", r.body);
        assert!(body_of(&r)["message"].as_str().unwrap().contains("VERIFY_SUBJECTS"), "{}", r.body);
        assert!(io.keys.borrow().is_empty(), "refused before the rate limiter and the store");
        let on = settings(&[("AUDIT_SIGNING_KEY", SEED), ("VERIFY_SUBJECTS", "auditor, u2")]);
        assert_eq!(run(&get("u1"), &on, &io, &FakeStore::default()).status, 403);
        // A listed subject gets past the subject check (here: to the bad `limit`).
        assert_eq!(run(&get("auditor"), &on, &io, &FakeStore::default()).status, 400);
        assert_eq!(run(&get("u2"), &on, &io, &FakeStore::default()).status, 400);
    }

    /// One rate-limit bucket per (tenant, subject): a tenant or a subject holding `:sub:` can no
    /// longer make two pairs share one.
    #[test]
    fn tenant_rate_limit_buckets_never_meet() {
        let s = settings(&[("TENANT_CLAIM", "org_id")]);
        let io = FakeIo::new(r#"{"actionType":"A"}"#);
        for (org, sub) in [("a:sub:b", "c"), ("a", "b:sub:c")] {
            let tok = jwt::sign_hs256(
                SECRET.as_bytes(),
                &json!({"sub": sub, "aud": "neo4j-audit", "exp": NOW + 60, "org_id": org}),
            );
            assert_eq!(run(&post(&format!("Bearer {tok}")), &s, &io, &FakeStore::default()).status, 201);
        }
        let keys = io.keys.borrow();
        assert_eq!(*keys, vec!["org:7:a:sub:b:sub:c".to_owned(), "org:1:a:sub:b:sub:c".to_owned()]);
        assert_ne!(keys[0], keys[1]);
    }

    /// A tenant claim the client's queue identity leaves out (src/identity.rs) is refused: with
    /// TENANT_CLAIM = azp, one user's tokens for two tenants were one identity in the browser's
    /// queue, so an event queued under tenant A's token went out with tenant B's, and the Worker
    /// wrote it into org:B (201).
    #[test]
    fn a_tenant_claim_the_queue_identity_ignores_is_misconfigured() {
        let tok = |claim: &str| {
            jwt::sign_hs256(SECRET.as_bytes(), &json!({"sub": "u", "aud": "neo4j-audit", "exp": NOW + 60, claim: "b"}))
        };
        for claim in ["azp", "client_id", "email", "groups", "sid"] {
            let (s, store) = (settings(&[("TENANT_CLAIM", claim)]), FakeStore::default());
            // As the Worker's glue does (src/wasm/worker.rs): no store without a Neo4j configuration.
            let io = FakeIo::new(r#"{"actionType":"A"}"#);
            let req = post(&format!("Bearer {}", tok(claim)));
            let r = futures::executor::block_on(handle(&req, &s, NOW, &io, s.neo4j.is_ok().then_some(&store)));
            assert_eq!((r.status, body_of(&r)["error"].clone()), (500, json!("misconfigured")), "{claim}: {}", r.body);
            assert!(store.written.borrow().is_empty(), "{claim}");
            assert!(s.neo4j.as_ref().unwrap_err().contains("TENANT_CLAIM"), "{claim}");
        }
        // A claim the identity keeps (and `sub`, the identity itself) still works.
        for claim in ["org_id", "tid", "sub"] {
            let (s, store) = (settings(&[("TENANT_CLAIM", claim)]), FakeStore::default());
            let r = run(&post(&format!("Bearer {}", tok(claim))), &s, &FakeIo::new(r#"{"actionType":"A"}"#), &store);
            assert_eq!(r.status, 201, "{claim}: {}", r.body);
        }
    }

    fn health(headers: Vec<(String, String)>, io: &FakeIo, store: &FakeStore) -> Response {
        let req = Request { method: "GET".into(), path: "/v1/health".into(), headers, ..Default::default() };
        run(&req, &settings(&[]), io, store)
    }

    #[test]
    fn health_buckets_and_fails_closed() {
        // No address, no token: liveness only, no limiter, no Neo4j round trip.
        let (io, store) = (FakeIo::new(""), FakeStore::default());
        let r = health(vec![], &io, &store);
        assert_eq!((r.status, body_of(&r)), (200, json!({"status": "ok", "neo4j": "unchecked"})));
        let bad = vec![("Authorization".into(), "Bearer not.a.token".into())];
        assert_eq!(body_of(&health(bad, &io, &store))["neo4j"], "unchecked");
        assert!(io.keys.borrow().is_empty() && store.pings.get() == 0);
        // An address or a valid token: its own bucket, then the ping.
        let r = health(vec![("CF-Connecting-IP".into(), "203.0.113.9".into())], &io, &store);
        assert_eq!(body_of(&r)["neo4j"], "ok");
        let r = health(vec![("Authorization".into(), format!("bearer {}", token("ann")))], &io, &store);
        assert_eq!(body_of(&r)["neo4j"], "ok");
        assert_eq!(*io.keys.borrow(), vec!["health:ip:203.0.113.9".to_owned(), "health:sub:ann".to_owned()]);
        // An IPv6 address counts by its /64, however it is written (one host holds 2^64 of them).
        for ip in ["2001:db8:1:2::1", "2001:DB8:1:2:ffff::", "2001:0db8:0001:0002:a:b:c:d", "2001:db8:1:2::"] {
            assert_eq!(client_net(ip), cat(&["ip6:", &num(0x2001_0db8_0001_0002)]), "{ip}");
        }
        assert_eq!(client_net("::1"), "ip6:0");
        assert_eq!(client_net("1::2:3:4:5:6:7"), cat(&["ip6:", &num(0x0001_0000_0002_0003)]));
        assert_eq!(client_net("2001:db8::"), cat(&["ip6:", &num(0x2001_0db8_0000_0000)]));
        assert_eq!(client_net("203.0.113.9"), "203.0.113.9");
        for other in ["not:an:address", "1:2:3", "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8:9", "12345::"] {
            assert_eq!(client_net(other), other);
        }
        assert_eq!(store.pings.get(), 2);
        // A missing or failing limiter: 503 with Retry-After, and Neo4j is not touched.
        let broken = FakeIo { limiter: Err("the RATE_LIMITER binding is missing".into()), ..FakeIo::new("") };
        let r = health(vec![("CF-Connecting-IP".into(), "203.0.113.9".into())], &broken, &store);
        assert_eq!((r.status, r.header("Retry-After")), (503, Some("5")));
        assert_eq!(
            body_of(&r)["message"],
            "rate limiter unavailable (the RATE_LIMITER binding is missing); retry later"
        );
        assert_eq!(store.pings.get(), 2);
    }

    /// HEAD on a GET endpoint is its GET answer without the body (an uptime monitor probing with
    /// HEAD got 405); other methods still get 405 with `Allow` naming HEAD.
    #[test]
    fn head_is_get_without_the_body() {
        let (io, store) = (FakeIo::new(""), FakeStore::default());
        let ip = vec![("CF-Connecting-IP".to_owned(), "203.0.113.7".to_owned())];
        let req = Request { method: "HEAD".into(), path: "/v1/health".into(), headers: ip, ..Default::default() };
        let r = run(&req, &settings(&[]), &io, &store);
        assert_eq!(
            (r.status, r.body.as_str(), r.header("Content-Type")),
            (200, "", Some("application/json; charset=utf-8"))
        );
        assert_eq!(store.pings.get(), 1, "the same check as GET");
        let put = Request { method: "PUT".into(), path: "/v1/health".into(), ..Default::default() };
        let r = run(&put, &settings(&[]), &io, &store);
        assert_eq!((r.status, r.header("Allow")), (405, Some("GET, HEAD, OPTIONS")));
        assert!(!r.body.is_empty());
        let events = Request { method: "HEAD".into(), path: "/v1/events".into(), ..Default::default() };
        assert_eq!(run(&events, &settings(&[]), &io, &store).status, 405);
    }

    /// A deploy's health check must not say "ok" while every event would get 500 misconfigured:
    /// a JWT secret that is missing or too short, or an unusable signing key, is reported by
    /// `/v1/health` as by `/v1/events` (it answered 200 `"neo4j": "ok"` with Neo4j reachable).
    #[test]
    fn health_reports_what_would_refuse_every_event() {
        for bad in [("AUDIT_JWT_SECRET", "too-short"), ("AUDIT_SIGNING_KEY", "not-a-key")] {
            let message = format!("the audit endpoint is not configured: check {} (the Worker's log says why)", bad.0);
            let (s, store) = (settings(&[bad]), FakeStore::default());
            let ingest =
                run(&post(&format!("Bearer {}", token("ann"))), &s, &FakeIo::new(r#"{"actionType":"A"}"#), &store);
            assert_eq!((ingest.status, body_of(&ingest)["error"].clone()), (500, json!("misconfigured")), "{bad:?}");
            for headers in [vec![], vec![("CF-Connecting-IP".to_owned(), "203.0.113.9".to_owned())]] {
                let req = Request { method: "GET".into(), path: "/v1/health".into(), headers, ..Default::default() };
                let io = FakeIo::new("");
                let r = run(&req, &s, &io, &store);
                assert_eq!(
                    (r.status, body_of(&r)),
                    (500, json!({"error": "misconfigured", "message": message})),
                    "{bad:?}"
                );
                assert!(io.keys.borrow().is_empty(), "no rate-limit bucket spent");
            }
            assert_eq!(store.pings.get(), 0, "{bad:?}: Neo4j not asked");
        }
    }

    /// The first deploy of a browser-facing Worker without `ALLOWED_ORIGINS`: every page gets a
    /// 403 it cannot even read ("Failed to fetch"); the log says which setting is missing (it
    /// said nothing). With a list set, a foreign origin is refused without a log line (anyone
    /// can send those).
    #[test]
    fn a_browser_request_refused_for_want_of_allowed_origins_is_logged() {
        let with_origin = |o: &str| {
            let mut r = post(&format!("Bearer {}", token("ann")));
            r.headers.push(("Origin".into(), o.into()));
            r
        };
        let (io, store) = (FakeIo::new(r#"{"actionType":"A"}"#), FakeStore::default());
        let r = run(&with_origin("https://app.example"), &settings(&[]), &io, &store);
        assert_eq!((r.status, body_of(&r)["error"].clone()), (403, json!("forbidden_origin")));
        assert_eq!(io.logs.borrow().len(), 1);
        let line = io.logs.borrow()[0].clone();
        assert!(line.contains("ALLOWED_ORIGINS") && line.contains("https://app.example"), "{line}");
        // The browser's preflight comes first: logged too.
        let mut pre = with_origin("https://app.example");
        pre.method = "OPTIONS".into();
        pre.headers.push(("Access-Control-Request-Method".into(), "POST".into()));
        assert_eq!(run(&pre, &settings(&[]), &io, &store).status, 403);
        assert_eq!(io.logs.borrow().len(), 2);
        let (io, s) = (FakeIo::new(r#"{"actionType":"A"}"#), settings(&[("ALLOWED_ORIGINS", "https://app.example")]));
        assert_eq!(run(&with_origin("https://evil.example"), &s, &io, &store).status, 403);
        assert_eq!(run(&with_origin("https://app.example"), &s, &io, &store).status, 201);
        assert!(io.logs.borrow().is_empty(), "{:?}", io.logs.borrow());
    }

    /// Rotating `AUDIT_JWT_SECRET`: with the old value in `AUDIT_JWT_SECRET_PREVIOUS`, tokens
    /// the identity provider signed before the switch stay valid until they expire (before, every
    /// signed-in user got 401 at once, and client-mode events waited in their queues); a token
    /// signed with any other key is still refused, and a short previous secret is misconfigured.
    #[test]
    fn a_rotated_jwt_secret_keeps_tokens_of_the_previous_one_valid() {
        const OLD: &str = "the-previous-jwt-secret-0123456789abcdef";
        let signed = |key: &str, sub: &str| {
            let t = jwt::sign_hs256(key.as_bytes(), &json!({"sub": sub, "aud": "neo4j-audit", "exp": NOW + 60}));
            post(&format!("Bearer {t}"))
        };
        let body = r#"{"actionType":"A"}"#;
        let store = FakeStore::default();
        let (plain, rotating) = (settings(&[]), settings(&[("AUDIT_JWT_SECRET_PREVIOUS", OLD)]));
        assert_eq!(run(&signed(OLD, "ann"), &plain, &FakeIo::new(body), &store).status, 401);
        for (key, sub) in [(SECRET, "new"), (OLD, "old")] {
            let r = run(&signed(key, sub), &rotating, &FakeIo::new(body), &store);
            assert_eq!(r.status, 201, "{sub}: {}", r.body);
        }
        let r = run(&signed("yet-another-secret-0123456789abcdefghij", "x"), &rotating, &FakeIo::new(body), &store);
        assert_eq!(r.status, 401, "{}", r.body);
        let users: Vec<_> = store.written.borrow().iter().map(|e| e.user_uid.clone().unwrap()).collect();
        assert_eq!(users, ["new", "old"]);
        // Secrets: never in Debug; a short previous one makes the Worker misconfigured, named.
        assert!(!format!("{rotating:?}").contains(OLD));
        let short = settings(&[("AUDIT_JWT_SECRET_PREVIOUS", "short-old")]);
        let why = short.misconfiguration().unwrap();
        assert!(why.contains("AUDIT_JWT_SECRET_PREVIOUS") && !why.contains("short-old"), "{why}");
        assert_eq!(run(&signed(SECRET, "ann"), &short, &FakeIo::new(body), &store).status, 500);
        assert!(settings(&[("AUDIT_JWT_SECRET_PREVIOUS", " ")]).misconfiguration().is_none());
    }

    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

    fn verify_fake(store: &FakeStore, keys: &crate::sign::KeySet) -> crate::chain::StreamReport {
        let w = store.written.borrow();
        let sid = w[0].stream_id.clone().unwrap();
        let mut v = crate::chain::Verifier::new(&sid, true).with_seals(keys, store.head.borrow().clone());
        let mut evs = w.clone();
        evs.sort_by_key(|e| e.seq);
        for e in evs {
            let seal = store.seals.borrow().iter().find(|(u, _)| *u == e.uid).map(|(_, s)| s.clone());
            v.push_sealed(e, seal);
        }
        v.finish()
    }

    /// Concurrent writers of one trail can deadlock in Neo4j (the trail and user nodes locked in
    /// different orders): a transient error after a rollback. The write re-reads the head and
    /// re-chains (it answered 503 before), and the events are stored once.
    #[test]
    fn a_deadlocked_write_is_chained_again() {
        let store = FakeStore { deadlocks: Cell::new(2), ..FakeStore::default() };
        let body = r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#;
        let r = run(&post(&format!("Bearer {}", token("u"))), &settings(&[]), &FakeIo::new(body), &store);
        assert_eq!((r.status, body_of(&r)["accepted"].clone()), (201, json!(2)), "{}", r.body);
        let w = store.written.borrow();
        assert_eq!(w.iter().map(|e| e.seq.unwrap()).collect::<Vec<_>>(), vec![0, 1]);
        // Not forever: a store that keeps deadlocking gets 503 with Retry-After.
        let stuck = FakeStore { deadlocks: Cell::new(usize::MAX), ..FakeStore::default() };
        let r = run(&post(&format!("Bearer {}", token("u"))), &settings(&[]), &FakeIo::new(body), &stuck);
        assert_eq!((r.status, body_of(&r)["error"].clone()), (503, json!("unavailable")));
        assert!(stuck.written.borrow().is_empty());
    }

    #[test]
    fn requests_continue_one_signed_stream_per_trail() {
        let s = settings(&[("AUDIT_SIGNING_KEY", SEED), ("AUDIT_SIGNING_KEY_ID", "k-2026")]);
        let store = FakeStore::default();
        let auth = format!("Bearer {}", token("u"));
        for body in [r#"{"events":[{"actionType":"A"},{"actionType":"B"}]}"#, r#"{"actionType":"C"}"#] {
            assert_eq!(run(&post(&auth), &s, &FakeIo::new(body), &store).status, 201);
        }
        // Another isolate (no cached head) writes; the first one's cached head is then stale:
        // its write conflicts, it re-reads the head and re-chains.
        store.isolate.set(1);
        assert_eq!(run(&post(&auth), &s, &FakeIo::new(r#"{"actionType":"D"}"#), &store).status, 201);
        store.isolate.set(0);
        assert_eq!(run(&post(&auth), &s, &FakeIo::new(r#"{"actionType":"D2"}"#), &store).status, 201);
        let w = store.written.borrow().clone();
        assert_eq!(w.iter().map(|e| e.seq.unwrap()).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert!(w.iter().all(|e| e.stream_id == w[0].stream_id));
        assert_eq!(store.seals.borrow().len(), 4, "one seal per write");
        let keys = crate::sign::KeySet::from_jwks(&s.public_keys).unwrap();
        let r = verify_fake(&store, &keys);
        assert!(r.ok, "{r:?}");
        assert_eq!(r.signed_seq, Some(4));
        // Re-sent event (same UID): accepted, not chained again.
        let u = "0b5e7f33-5c1e-4f0a-9a0e-3c0e8d1b2a11";
        let body = format!(r#"{{"actionType":"E","UID":"{u}"}}"#);
        assert_eq!(run(&post(&auth), &s, &FakeIo::new(&body), &store).status, 201);
        assert_eq!(run(&post(&auth), &s, &FakeIo::new(&body), &store).status, 201);
        assert_eq!(store.written.borrow().len(), 6);
        assert!(verify_fake(&store, &keys).ok);
        // Another key's public half does not verify it; a wrong secret is misconfigured.
        let other = settings(&[("AUDIT_SIGNING_KEY", &"11".repeat(32)), ("AUDIT_SIGNING_KEY_ID", "k-2026")]);
        let r = verify_fake(&store, &crate::sign::KeySet::from_jwks(&other.public_keys).unwrap());
        assert_eq!(r.first_break.unwrap().kind, crate::chain::BreakKind::Forged);
        let bad = settings(&[("AUDIT_SIGNING_KEY", "not-a-key")]);
        let r = run(&post(&auth), &bad, &FakeIo::new(r#"{"actionType":"A"}"#), &FakeStore::default());
        assert_eq!((r.status, body_of(&r)["error"].clone()), (500, json!("misconfigured")));
    }

    #[test]
    fn a_preflight_from_an_allowed_origin_names_what_was_refused() {
        // An allowed origin asking for a method or header the endpoint does not take was told
        // "forbidden_origin", sending its developer after the wrong setting (ALLOWED_ORIGINS).
        let s = settings(&[("ALLOWED_ORIGINS", "https://app.example")]);
        let (io, store) = (FakeIo::new(""), FakeStore::default());
        let pre = |origin: &str, method: &str, headers: Option<&str>| {
            let mut h = vec![
                ("Origin".to_owned(), origin.to_owned()),
                ("Access-Control-Request-Method".to_owned(), method.to_owned()),
            ];
            if let Some(v) = headers {
                h.push(("Access-Control-Request-Headers".into(), v.into()));
            }
            run(
                &Request { method: "OPTIONS".into(), path: "/v1/events".into(), headers: h, ..Default::default() },
                &s,
                &io,
                &store,
            )
        };
        assert_eq!(pre("https://app.example", "POST", Some("content-type, authorization")).status, 204);
        let r = pre("https://evil.example", "POST", None);
        assert_eq!((r.status, body_of(&r)["error"].as_str()), (403, Some("forbidden_origin")));
        // The developer of a page on an origin not listed (a dev server's port, say) reads in the
        // answer which setting to change; it said only "preflight refused".
        assert!(body_of(&r)["message"].as_str().unwrap().contains("ALLOWED_ORIGINS"), "{}", body_of(&r));
        let mut foreign = post(&format!("Bearer {}", token("ann")));
        foreign.headers.push(("Origin".into(), "https://evil.example".into()));
        let r = run(&foreign, &s, &FakeIo::new(r#"{"actionType":"A"}"#), &FakeStore::default());
        assert_eq!((r.status, body_of(&r)["error"].as_str()), (403, Some("forbidden_origin")));
        assert!(body_of(&r)["message"].as_str().unwrap().contains("ALLOWED_ORIGINS"), "{}", body_of(&r));
        for (method, headers) in [("DELETE", None), ("POST", Some("x-custom"))] {
            let r = pre("https://app.example", method, headers);
            assert_eq!(r.status, 403);
            let b = body_of(&r);
            assert_eq!(b["error"], "forbidden", "{method} {headers:?}");
            assert!(b["message"].as_str().unwrap().contains("GET, POST, OPTIONS"), "{b}");
            assert!(b["message"].as_str().unwrap().contains("Authorization, Content-Type"), "{b}");
        }
    }

    #[test]
    fn keys_are_published_with_retired_ones() {
        let k = crate::sign::SigningKey::from_secret("old", &"22".repeat(32)).unwrap();
        let s = settings(&[("AUDIT_SIGNING_KEY", SEED), ("AUDIT_PUBLIC_KEYS", &format!("old:{}, ", k.public_jwk().x))]);
        let req = Request { method: "GET".into(), path: "/v1/keys".into(), ..Default::default() };
        let r = run(&req, &s, &FakeIo::new(""), &FakeStore::default());
        assert_eq!(r.status, 200);
        let b = body_of(&r);
        assert_eq!(b["keys"][0]["kid"], "k1");
        assert_eq!(b["keys"][0]["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!((b["keys"][0]["kty"].clone(), b["keys"][0]["crv"].clone()), (json!("OKP"), json!("Ed25519")));
        assert_eq!(b["keys"][1]["kid"], "old");
        assert_eq!(b["keys"].as_array().unwrap().len(), 2);
        assert!(!r.body.contains(SEED));
        // One Cache-Control (sec4: `no-store` and `public, max-age=300` both, so never cached).
        let cache: Vec<_> = r.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("cache-control")).collect();
        assert_eq!(cache, [&("Cache-Control".to_string(), "public, max-age=300".to_string())]);
        let req = Request { method: "GET".into(), path: "/v1/verify".into(), ..Default::default() };
        assert_eq!(run(&req, &s, &FakeIo::new(""), &FakeStore::default()).status, 401);
    }

    /// A malformed AUDIT_PUBLIC_KEYS entry (not kid:x, a bad id, a bad key, an id twice, the
    /// signing key's id with another key) is a 500 naming the setting at every endpoint,
    /// GET /v1/keys included, and the log says which entry and why, never the key. (Before, it
    /// was skipped silently: /v1/keys published the rest and /v1/health was green.)
    #[test]
    fn a_malformed_public_key_entry_is_misconfigured_not_skipped() {
        let old = crate::sign::SigningKey::from_secret("old", &"22".repeat(32)).unwrap().public_jwk().x;
        let older = crate::sign::SigningKey::from_secret("older", &"33".repeat(32)).unwrap().public_jwk().x;
        let seed_b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        let cases = [
            (format!("old:{old}, junk"), "AUDIT_PUBLIC_KEYS entry 2: an entry is not kid:key"),
            (format!("old:{old}, {seed_b64}"), "AUDIT_PUBLIC_KEYS entry 2: an entry is not kid:key"),
            (format!("old:{old},bad id!:{older}"), "AUDIT_PUBLIC_KEYS entry 2: a key id is not 1-64 characters"),
            (format!("old:{}", &old[1..]), "AUDIT_PUBLIC_KEYS entry 1: key \"old\": x must be base64url of 32 bytes"),
            (format!("old:{old}%"), "AUDIT_PUBLIC_KEYS entry 1: key \"old\": x must be base64url of 32 bytes"),
            (format!("old:{old},old:{older}"), "AUDIT_PUBLIC_KEYS entry 2: key id \"old\" is listed twice"),
            (format!("old:{old},old:{old}"), "AUDIT_PUBLIC_KEYS entry 2: key id \"old\" is listed twice"),
            (
                format!("k1:{old}"),
                "AUDIT_PUBLIC_KEYS lists key id \"k1\", the id of AUDIT_SIGNING_KEY, with another key",
            ),
        ];
        for (list, why) in cases {
            let s = settings(&[("AUDIT_SIGNING_KEY", SEED), ("AUDIT_PUBLIC_KEYS", &list)]);
            assert!(s.misconfiguration().is_some_and(|m| m.starts_with(why)), "{list}: {:?}", s.misconfiguration());
            let message = "the audit endpoint is not configured: check AUDIT_PUBLIC_KEYS (the Worker's log says why)";
            for path in ["/v1/keys", "/v1/health", "/v1/events"] {
                let io = FakeIo::new(r#"{"actionType":"A"}"#);
                let mut req = post(&format!("Bearer {}", token("ann")));
                if path != "/v1/events" {
                    (req.method, req.path) = ("GET".into(), path.into());
                }
                let r = run(&req, &s, &io, &FakeStore::default());
                assert_eq!(
                    (r.status, body_of(&r)),
                    (500, json!({"error": "misconfigured", "message": message})),
                    "{list} {path}"
                );
                let logs = io.logs.borrow().join("\n");
                assert!(logs.contains(&format!("audit-ingest: misconfigured: {why}")), "{logs}");
                for secret in [old.as_str(), older.as_str(), seed_b64, SEED] {
                    assert!(!logs.contains(secret) && !r.body.contains(secret), "{logs}");
                }
            }
        }
        // Without a signing key too; and the signing key's own public half listed under its id
        // is no conflict (it is the same key).
        let s = settings(&[("AUDIT_PUBLIC_KEYS", &format!("old:{old},old:{older}"))]);
        assert!(s.misconfiguration().is_some_and(|m| m.contains("is listed twice")), "{:?}", s.misconfiguration());
        let k1 = settings(&[("AUDIT_SIGNING_KEY", SEED)]).public_keys[0].x.clone();
        let s = settings(&[("AUDIT_SIGNING_KEY", SEED), ("AUDIT_PUBLIC_KEYS", &format!("k1:{k1}, old:{old}"))]);
        assert_eq!(s.misconfiguration(), None);
        assert_eq!(s.public_keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), ["k1", "old"]);
    }
}
