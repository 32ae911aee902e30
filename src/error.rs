//! The one error type of the crate, and its mapping to the reason string that JavaScript sees as
//! `lastError`.

use std::time::Duration;

use thiserror::Error;

/// Why a call did not end in a committed write.
///
/// Every variant's `Display` (and `Debug`) text is safe to show: no variant carries the password
/// or token, and an error a logger returns has any of its configured secrets that a server
/// echoed (in a body or message it quotes) replaced by `***`, as [`AuditError::reason`] does —
/// each credential of at least 8 bytes (Neo4j's shortest password by default): a shorter one
/// would turn ordinary words of the text into `***`, and is left as the server wrote it.
///
/// New variants may be added in minor releases: match with a `_` arm, or use the classifications
/// [`AuditError::is_retryable`] and [`AuditError::is_rejection`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The configuration was rejected: only ever raised where a logger is made or its settings
    /// are checked ([`crate::AuditLoggerBuilder::build`], [`crate::AuditLogger::new`],
    /// [`crate::Config::validate`]), never by a call of a built logger (its settings were checked
    /// when it was built).
    InvalidConfig(String),
    /// The event was rejected before anything was sent, or (direct mode) by the write itself: its
    /// UID is already stored with other content (another user, trail, hash or targets), and
    /// nothing of it was written or linked.
    InvalidInput(String),
    /// The request never got an HTTP answer (connection refused, reset, DNS, CORS, ...).
    Network(String),
    /// No complete answer within the configured bound: one request's `timeout`, or the whole
    /// call's `deadline` (see [`crate::AuditLoggerBuilder::deadline`]), or the budget of
    /// [`crate::AuditLogger::close_within`] for what it gave up on. Carries that bound.
    Timeout(Duration),
    /// 401 or 403: the credentials were refused.
    Unauthorized {
        /// The HTTP status (401 or 403; Neo4j may report a `Security` error with another).
        status: u16,
        /// Neo4j's error code, or the ingest endpoint's `error` field with its `message`
        /// (`unauthorized: token has expired`), if the answer had one.
        code: Option<String>,
    },
    /// The configured database does not exist.
    DatabaseNotFound(String),
    /// Neo4j reported a failed statement (the transaction was rolled back).
    Neo4j {
        /// Neo4j's status code, e.g. `Neo.ClientError.Statement.SyntaxError`.
        code: String,
        /// Neo4j's error message.
        message: String,
    },
    /// Any other non-2xx answer.
    Http {
        /// The HTTP status.
        status: u16,
        /// The start of the response body (at most 200 characters), or the ingest endpoint's reason.
        snippet: String,
        /// The server's `Retry-After` (seconds form only, capped at one hour), in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// The ingest endpoint refused the events themselves for good (400, 403 `forbidden`, 413,
    /// 422, in the Worker's JSON; a 413 of a server in front of it too, the body's size): the same
    /// request can never succeed. With the durable queue, such an event is moved to the dead
    /// letters (after being sent alone, so it never holds back other events). Another server's
    /// 400 or 422 (a proxy's header limit) is [`AuditError::Http`]: the events were not judged.
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The endpoint's `error: message`, or the start of its body.
        reason: String,
    },
    /// The endpoint failed in a way a retry does not cure (its own `500 store_error` or
    /// `misconfigured`): the event stays queued until an operator fixes the endpoint.
    Endpoint {
        /// The HTTP status (500).
        status: u16,
        /// The endpoint's `error: message`, or the start of its body.
        reason: String,
    },
    /// A 2xx answer that is not what Neo4j sends for a committed statement.
    UnexpectedResponse(String),
    /// The logger was closed; nothing more is accepted.
    Closed,
    /// The durable queue is full; the event was dropped (and counted in `stats().dropped`).
    /// WebAssembly only (native builds have no durable queue).
    #[cfg(target_arch = "wasm32")]
    QueueFull(String),
    /// The durable queue could not store the event (e.g. IndexedDB refused). WebAssembly only.
    #[cfg(target_arch = "wasm32")]
    Queue(String),
    /// Called outside a Tokio runtime, or in one built without I/O or time: the native transport
    /// (reqwest) and its timers need both.
    /// Await the logger's futures inside a Tokio 1.x runtime with I/O and time enabled (what
    /// `#[tokio::main]` and `tokio::runtime::Builder::enable_all` give). Native builds only.
    /// A runtime without I/O or time is found by a probe, once per runtime and thread, before
    /// the call's event takes its place in the hash chain (so the trail keeps no gap for it); the
    /// probe catches Tokio's panic, but the process's panic hook still prints its message ("A
    /// Tokio 1.x context was found, but IO is disabled") on stderr at that probe. (With `panic = "abort"`
    /// nothing is probed: Tokio's panic aborts, as it would in the request.)
    #[cfg(not(target_arch = "wasm32"))]
    NoRuntime,
}

// Written out rather than with thiserror's `#[error("...")]`, which formats through core::fmt:
// the write entry then has no formatting machinery at all (see `num`).
impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl AuditError {
    /// The `Display` text, built without core::fmt (what `to_string` gives).
    pub(crate) fn message(&self) -> String {
        let status = |s: &u16| num(u64::from(*s));
        match self {
            AuditError::InvalidConfig(m) => cat(&["invalid config: ", m]),
            AuditError::InvalidInput(m) => cat(&["invalid input: ", m]),
            AuditError::Network(m) => cat(&["network error: ", m]),
            AuditError::Timeout(d) => {
                cat(&["timeout: no answer from Neo4j within ", &num(d.as_millis() as u64), " ms"])
            }
            AuditError::Unauthorized { status: s, code } => {
                let code = code.as_deref().map_or(String::new(), |c| cat(&[" (", c, ")"]));
                cat(&["authentication failed: HTTP ", &status(s), &code])
            }
            AuditError::DatabaseNotFound(m) => cat(&["database not found: ", m]),
            AuditError::Neo4j { code, message } => cat(&["neo4j error ", code, ": ", message]),
            AuditError::Http { status: s, snippet, .. } => cat(&["HTTP ", &status(s), ": ", snippet]),
            AuditError::Rejected { status: s, reason } => {
                cat(&["rejected by the endpoint (HTTP ", &status(s), "): ", reason])
            }
            AuditError::Endpoint { status: s, reason } => cat(&["endpoint error (HTTP ", &status(s), "): ", reason]),
            AuditError::UnexpectedResponse(m) => cat(&["unexpected response: ", m]),
            AuditError::Closed => "closed: the logger was closed".into(),
            #[cfg(target_arch = "wasm32")]
            AuditError::QueueFull(m) => cat(&["queue full: ", m]),
            #[cfg(target_arch = "wasm32")]
            AuditError::Queue(m) => cat(&["queue error: ", m]),
            #[cfg(not(target_arch = "wasm32"))]
            AuditError::NoRuntime => {
                "no Tokio runtime: neo4j-audit must be awaited inside a Tokio 1.x runtime (I/O and time enabled)".into()
            }
        }
    }

    /// The reason text for JavaScript's `lastError`, with every given secret replaced by `***`.
    pub fn reason(&self, secrets: &[&str]) -> String {
        scrub(&self.message(), secrets)
    }

    /// An [`AuditError::Unauthorized`] with `hint` after its code (`HTTP 401 (<code>; <hint>)`),
    /// once; any other error as it is. The hints are what the answer alone does not say: a
    /// password with white space around it, a redirect to another origin.
    pub(crate) fn with_hint(self, hint: &str) -> AuditError {
        match self {
            AuditError::Unauthorized { status, code } => {
                let code = match code {
                    // A byte scan, not `str::contains`: the write entry's only substring search,
                    // which brought core's TwoWaySearcher (bench/size fetch-writeonly, wasm + glue
                    // gz -9, 2026-12-05: 72,143 -> 71,694 B). `hint` is never empty.
                    Some(c) if c.as_bytes().windows(hint.len()).any(|w| w == hint.as_bytes()) => c,
                    Some(c) => cat(&[&c, "; ", hint]),
                    None => hint.to_owned(),
                };
                AuditError::Unauthorized { status, code: Some(code) }
            }
            e => e,
        }
    }

    /// This error with every given secret replaced by `***` in each of its texts (what a server
    /// answered, quoted): how a logger hands its errors to a Rust caller, whose `Display` and
    /// `Debug` of them then hold no credential a server echoed (see `AuditLogger::outward`).
    // The JavaScript entries hand out `lastError` only (`AuditLogger::outward`).
    #[cfg_attr(all(target_arch = "wasm32", feature = "js"), allow(dead_code))]
    pub(crate) fn scrubbed(self, secrets: &[&str]) -> AuditError {
        let s = |m: String| scrub(&m, secrets);
        match self {
            AuditError::InvalidConfig(m) => AuditError::InvalidConfig(s(m)),
            AuditError::InvalidInput(m) => AuditError::InvalidInput(s(m)),
            AuditError::Network(m) => AuditError::Network(s(m)),
            AuditError::Unauthorized { status, code } => AuditError::Unauthorized { status, code: code.map(s) },
            AuditError::DatabaseNotFound(m) => AuditError::DatabaseNotFound(s(m)),
            AuditError::Neo4j { code, message } => AuditError::Neo4j { code: s(code), message: s(message) },
            AuditError::Http { status, snippet, retry_after_ms } => {
                AuditError::Http { status, snippet: s(snippet), retry_after_ms }
            }
            AuditError::Rejected { status, reason } => AuditError::Rejected { status, reason: s(reason) },
            AuditError::Endpoint { status, reason } => AuditError::Endpoint { status, reason: s(reason) },
            AuditError::UnexpectedResponse(m) => AuditError::UnexpectedResponse(s(m)),
            #[cfg(target_arch = "wasm32")]
            AuditError::QueueFull(m) => AuditError::QueueFull(s(m)),
            #[cfg(target_arch = "wasm32")]
            AuditError::Queue(m) => AuditError::Queue(s(m)),
            e => e,
        }
    }

    /// Whether repeating the same request may succeed: network failures (except a TLS handshake
    /// answered in plain HTTP, an `https://` URL on a plain-HTTP port: it fails the same way until
    /// the URL changes), timeouts, the HTTP
    /// statuses of the retry table, `error::retryable_status` (408, 429, 500, 502, 503, 504 and a CDN's 520-524) and
    /// Neo4j's `TransientError`s (except terminated transactions) and a uniqueness constraint's
    /// `ConstraintValidationFailed` (a concurrent MERGE's lost race). No other client errors, auth, or
    /// a 5xx that says the request itself can never succeed there (501, 505, ...).
    pub fn is_retryable(&self) -> bool {
        match self {
            AuditError::Network(m) => find(m, PLAIN_HTTP).is_none(),
            AuditError::Timeout(_) => true,
            AuditError::Http { status, .. } => retryable_status(*status),
            AuditError::Neo4j { code, .. } => {
                (code.starts_with("Neo.TransientError.")
                    && !code.ends_with(".Terminated")
                    && !code.ends_with(".LockClientStopped"))
                    // Two transactions MERGEing the same new node (a new trail's first batches,
                    // in flight at once) under its uniqueness constraint: the loser fails with
                    // this; its retry MATCHes what the winner created (CI, 2026-11-30: the faults
                    // suite's restart run lost 3 calls to it).
                    || code == CONSTRAINT_FAILED
            }
            _ => false,
        }
    }

    /// A network failure with the transport's text `m`. A TLS handshake that met a server speaking
    /// plain HTTP (an `https://` URL on Neo4j's HTTP port, 7474) is named as that, with the
    /// remedy ([`PLAIN_HTTP`]), and is not retried: it fails the same way until the URL changes.
    pub(crate) fn network(m: String) -> AuditError {
        if PLAIN_HTTP_SIGNS.iter().any(|s| find(&m, s).is_some()) {
            return AuditError::Network(cat(&[
                &m,
                ": ",
                PLAIN_HTTP,
                " (the URL says https:// but that port serves plain http://: use http://, or the server's TLS port)",
            ]));
        }
        // Neo4j's Bolt port takes the connection and drops it at the HTTP request, unanswered
        // (Node: "read ECONNRESET", reqwest: "connection closed before message completed"): a
        // driver's port in an HTTP URL. Not in the ingest Worker (its size budget; its operator
        // sets the URL once, and its `/v1/health` names an unreachable Neo4j).
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        if find(&m, ":7687)").is_some() && CLOSED_SIGNS.iter().any(|s| find(&m, s).is_some()) {
            return AuditError::Network(cat(&[
                &m,
                ": 7687 is Neo4j's Bolt port, for its drivers; this library speaks HTTP (Neo4j's HTTP port, 7474 by default)",
            ]));
        }
        AuditError::Network(m)
    }

    /// Whether a batch of several events that failed so is split in halves at once, each sent on
    /// its own, instead of retried whole: a uniqueness constraint's `ConstraintValidationFailed`.
    /// It is a concurrent MERGE's lost race (each half, re-sent, MATCHes what the winner made),
    /// or a constraint of the operator's that one event breaks (found by a red team: retried
    /// whole, that one event failed all its batch-mates on every attempt and, with the queue on,
    /// in every re-send round after). Also a 413 in direct mode: what stands in front of Neo4j
    /// (nginx's `client_max_body_size`, 1 MiB by default) refusing the body's size, which each
    /// half is more likely to pass (before, the batch failed whole and, with the queue, again in
    /// every re-send: none of its events was ever written).
    pub(crate) fn splits_batch(&self) -> bool {
        match self {
            AuditError::Neo4j { code, .. } => code == CONSTRAINT_FAILED,
            AuditError::Http { status, .. } => *status == 413,
            _ => false,
        }
    }

    /// Whether the events themselves were refused for good (they belong in the dead letters).
    pub fn is_rejection(&self) -> bool {
        matches!(self, AuditError::Rejected { .. } | AuditError::InvalidInput(_))
    }

    /// The server's `Retry-After`, in milliseconds, when it sent one.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            AuditError::Http { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }
}

/// Added to a refused login (401) when the configured password has leading or trailing white
/// space ([`AuditError::with_hint`], by the logger: its `reason` and the errors it returns): the
/// password itself is never shown.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
pub(crate) const PASSWORD_WHITE_SPACE: &str =
    "the password has leading or trailing white space: a line break read with it from a file?";

/// The hint of a 401 to a logger given no credentials (natively, `Core::hinted`).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) const NO_CREDENTIALS: &str = "no credentials were configured: set basic_auth(user, password) or \
    bearer(token) on the builder (a Config's username and password, or token)";

/// A uniqueness constraint's refusal ([`AuditError::is_retryable`], [`AuditError::splits_batch`]).
const CONSTRAINT_FAILED: &str = "Neo.ClientError.Schema.ConstraintValidationFailed";

/// Added to a [`AuditError::Network`] text whose TLS handshake met plain HTTP
/// ([`AuditError::network`]); such an error is not retried.
pub(crate) const PLAIN_HTTP: &str = "the server answered the TLS handshake in plain HTTP";

/// How each transport words a TLS handshake that got a plain-HTTP answer: rustls (native
/// reqwest: the answer's first byte, `H`, is no TLS record type), OpenSSL (Node's `fetch`,
/// reduced by src/transport/fetch.js to `TLS error (SSL routines: wrong version number)`; `packet
/// length too long` when the answer's bytes read as a huge record). Browsers say only "Failed to
/// fetch" (a `TypeError` that names no cause) and workerd "Network connection lost.": there such a
/// URL is retried until the deadline like any unreachable server.
/// How each transport words a connection closed without an HTTP answer (Node's `fetch`,
/// reqwest), which on port 7687 is Neo4j's Bolt port ([`AuditError::network`]).
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
const CLOSED_SIGNS: [&str; 4] =
    ["ECONNRESET", "other side closed", "socket hang up", "connection closed before message completed"];

const PLAIN_HTTP_SIGNS: [&str; 3] = ["InvalidContentType", "wrong version number", "packet length too long"];

/// THE table of HTTP statuses a retry may cure, for every entry (native, wasm, the Worker's own
/// writes: the delivery machine asks [`AuditError::is_retryable`]). A status not listed fails the
/// call at once with its `HTTP <status>: <body start>` reason.
///
/// Neo4j's HTTP API answers a statement's failure as 200/201 with `errors` (classified by its
/// code, `Neo.TransientError.*`), and a refused login as 401/403; the other statuses come from the
/// server's web container or from what stands in front of it (a load balancer, a proxy, a CDN):
///
/// | status | retried | why |
/// |---|---|---|
/// | 408 Request Timeout | yes | the server gave up waiting for the request |
/// | 429 Too Many Requests | yes | after its `Retry-After` (the Worker's rate limit) |
/// | 500 Internal Server Error | yes | the generic failure, often passing (a server starting or stopping) |
/// | 502 Bad Gateway, 504 Gateway Timeout | yes | a proxy could not reach Neo4j (restart, failover) |
/// | 503 Service Unavailable | yes | after its `Retry-After` (the Worker: Neo4j unreachable or busy) |
/// | 520-524 | yes | a CDN's (Cloudflare's) "origin unreachable / timed out" |
/// | 501, 505, 506, 507, 508, 510, 511, 525, 526, other 5xx | no | the method, protocol or set-up is wrong there: the same request never succeeds |
/// | any 4xx but 408 and 429 | no | the request itself is refused |
pub(crate) const fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504 | 520..=524)
}

/// Shortest secret that is scrubbed from messages. Messages are built without secrets in the
/// first place (no variant carries one); scrubbing is a second line against a server echoing a
/// credential, and a short one (`x`, `neo4j`) would only mangle honest text (`/tx/commit`, a
/// database called `neo4j`).
/// `s` in double quotes, `"` `\\` and control characters escaped (JSON's escapes): how error
/// texts quote a name the caller gave. Not `{:?}`: `str`'s `Debug` brings the Unicode printable
/// tables and its escaping code into the .wasm for these few messages.
///
/// Quoted as [`shown`] gives it: a long one is cut (a config key or value of a megabyte was a
/// megabyte of `lastError` and exception message).
pub(crate) fn quoted(s: &str) -> String {
    let s = shown(s);
    let mut out = String::with_capacity(s.len() + 2);
    crate::json::write_str(&mut out, &s);
    out
}

/// Most characters of an input (a key or value the caller gave) that a message quotes: a longer
/// one is cut there ([`shown`]). Above every identifier's usual length: a stream id is 69
/// characters, and a cut one could not be copied from the message.
pub(crate) const SHOWN_CHARS: usize = 100;

/// An input as a message quotes it ([`quoted`], or in backquotes): whole when it has at most
/// [`SHOWN_CHARS`] characters, else its first ones, `…` and its length (`kkk… (1000000 bytes)`).
/// The `…` marks the cut for [`scrub`], which masks a secret's first part right before it, so a cut
/// inside a password leaves none of it (a text is scrubbed after it was made).
/// In the Worker's build an input is quoted whole (it cuts the request's inputs it quotes where
/// it quotes them; the rest are its own settings): this costs the bytes its size budget has not.
pub(crate) fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    {
        let head = crate::outcome::first_chars(s, SHOWN_CHARS);
        if head.len() < s.len() {
            return std::borrow::Cow::Owned(cat(&[head, "… (", &num(s.len() as u64), " bytes)"]));
        }
    }
    std::borrow::Cow::Borrowed(s)
}

/// The parts run together: `format!` without core::fmt (see [`num`]), and smaller than
/// `[&str]::concat` (whose generic joining code is about 0.9 KB of .wasm per element type).
pub(crate) fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// `parts` with `sep` between them: `[String]::join` without its generic joining code (about
/// 0.9 KB of .wasm, see [`cat`]).
pub(crate) fn join(parts: &[String], sep: &str) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len() + sep.len()).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        s.push_str(p);
    }
    s
}

/// Where `name` is among the space-separated names of `list`: a table of names written as one
/// text, which puts no address and length per name into the .wasm as a `&[&str]` does.
pub(crate) fn listed(list: &str, name: &str) -> Option<usize> {
    list.as_bytes().split(|&b| b == b' ').position(|w| w == name.as_bytes())
}

/// `n` in decimal, for texts built with [`cat`] instead of `format!`: the write entry has no
/// `format!`, `write!` or derived `Display`, which keeps core::fmt's machinery (and each call's
/// argument table) out of the .wasm. Measured on the write entry (bench/size fetch-writeonly, wasm
/// + glue gz -9), 2026-11-29: 83,634 -> 82,993 B.
pub(crate) fn num(n: u64) -> String {
    count_text(Some(n))
}

/// `n` in decimal with its sign, for texts built with [`cat`].
#[cfg(feature = "read")]
pub(crate) fn int(n: i64) -> String {
    let mut out = String::new();
    crate::json::write_int(&mut out, n);
    out
}

/// A count an answer may lack, for error texts: the number, or "none".
pub(crate) fn count_text(n: Option<u64>) -> String {
    let mut out = String::new();
    match n {
        Some(n) => crate::json::write_uint(&mut out, n),
        None => out.push_str("none"),
    }
    out
}

pub(crate) const MIN_SCRUBBED_LEN: usize = 8;

/// Borrowed views of owned secrets, for [`scrub`] and [`AuditError::reason`].
pub(crate) fn refs(secrets: &[String]) -> Vec<&str> {
    let mut v = Vec::with_capacity(secrets.len());
    for s in secrets {
        v.push(s.as_str());
    }
    v
}

/// `hay.find(needle)` by plain byte comparison: core's two-way searcher it replaces is about 1.6 KB
/// of the `.wasm` for texts that are short here (error messages, one Cypher statement, a
/// search for U+FFFD in each string argument of logUserAction). A match of
/// a UTF-8 needle in UTF-8 text starts on a character boundary, so the index slices `hay`.
pub(crate) fn find(hay: &str, needle: &str) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = n.split_first() else { return Some(0) };
    let end = (h.len() + 1).checked_sub(n.len())?;
    let mut i = 0;
    while i < end {
        // Eight bytes at a time to the next one equal to the needle's first (the lowest mark of
        // the window's mask is exact): each logUserAction looks for the logger's secrets in its
        // details, where a byte-by-byte loop showed in `node --cpu-prof` of bench/cpu_full.mjs's
        // loop.
        if let Some(w) = h[i..].first_chunk::<8>() {
            let x = u64::from_le_bytes(*w) ^ (ONES * first as u64);
            let m = x.wrapping_sub(ONES) & !x & (ONES << 7);
            if m == 0 {
                i += 8;
                continue;
            }
            i += (m.trailing_zeros() / 8) as usize;
            if i >= end {
                return None;
            }
        } else if h[i] != first {
            i += 1;
            continue;
        }
        if h[i + 1..i + n.len()] == *rest {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `s.split_once(at)` by [`find`]: `split_once` with a `char` brings core's memchr search along,
/// with a `&str` its two-way searcher.
pub(crate) fn split_once<'a>(s: &'a str, at: &str) -> Option<(&'a str, &'a str)> {
    find(s, at).map(|i| (&s[..i], &s[i + at.len()..]))
}

/// A character of a word, for the secrets' "whole occurrence" rule ([`whole_at`]).
fn word(c: char) -> bool {
    crate::unicode::is_alphanumeric(c) || c == '_' || c == '-'
}

/// Whether the `len` bytes of `text` at `i` are a whole occurrence: not part of a longer run of
/// letters, digits, `_` or `-` (the one rule of scrubbing a secret, from error texts and from
/// stored details alike). A percent escape right before it (`%20`, `%3A`: a `%` three bytes
/// before it) ends the run before it: `Basic%20<credential>` and `?auth=Bearer%20<token>` held
/// theirs after the hex digits `20`, and so kept them.
pub(crate) fn whole_at(text: &str, i: usize, len: usize) -> bool {
    (text.as_bytes().get(i.wrapping_sub(3)) == Some(&b'%') || !text[..i].chars().next_back().is_some_and(word))
        && !text[i + len..].chars().next().is_some_and(word)
}

/// Whether `text` holds a whole occurrence ([`whole_at`]) of `secret`, however spelled
/// ([`find_secret`]); `plain`: `text` is [`unescaped`], so searched as written (faster: a caller
/// looking for several secrets in one text tells it once).
pub(crate) fn holds_whole(text: &str, secret: &str, plain: bool) -> bool {
    let mut from = 0;
    loop {
        let rest = &text[from..];
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        let found = if plain { find(rest, secret).map(|i| (i, secret.len())) } else { find_secret(rest, secret) };
        #[cfg(all(target_arch = "wasm32", feature = "worker"))]
        let found = {
            let _ = plain;
            find_secret(rest, secret)
        };
        let Some((i, len)) = found else { return false };
        if whole_at(text, from + i, len) {
            return true;
        }
        from += i + 1;
        while !text.is_char_boundary(from) {
            from += 1;
        }
    }
}

/// Where `secret` is in `text`, as (start, length in `text`): natively and in the JavaScript
/// builds, spelled with any of the encodings [`spelled_at`] reads, character by character.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
pub(crate) fn find_secret(text: &str, secret: &str) -> Option<(usize, usize)> {
    let (t, s) = (text.as_bytes(), secret.as_bytes());
    // Only where the secret's first byte or an escape's is can a spelling start (`first` is
    // ASCII or a lead byte: a character boundary).
    let starts = [*s.first()?, b'%', b'+', b'\\', b'&'];
    let mut i = 0;
    loop {
        i = next_of(t, i, &starts);
        if i == t.len() {
            return None;
        }
        if let Some(end) = spelled_at(t, i, s, &mut 32) {
            return Some((i, end - i));
        }
        i += 1;
    }
}

/// Whether `text` holds none of the bytes an escape of [`spelled_at`] starts with: there
/// [`find_secret`] finds what [`find`] does, which a caller looking for several secrets in one
/// text (each logUserAction's details) uses instead.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
pub(crate) fn unescaped(text: &str) -> bool {
    next_of(text.as_bytes(), 0, b"%+\\&") == text.len()
}

/// The first index from `i` on of a byte of `t` that is one of `bytes` (or `t.len()`): eight bytes
/// at a time, as in [`find`] (each byte's lowest mark is exact, so is the lowest of them all). A
/// byte-by-byte loop over every logUserAction's details made the call 11 % slower
/// (bench/cpu_full_ab.mjs).
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
#[inline]
fn next_of(t: &[u8], mut i: usize, bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    while let Some(w) = t.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let w = u64::from_le_bytes(*w);
        let m = bytes.iter().fold(0, |m, &b| {
            let x = w ^ (ONES * u64::from(b));
            m | (x.wrapping_sub(ONES) & !x & (ONES << 7))
        });
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < t.len() && !bytes.contains(&t[i]) {
        i += 1;
    }
    i
}

/// Where `secret` is in `text`, as (start, length): the Worker's build looks for each of
/// `Config::secrets` as it is (the encodings of [`spelled_at`] did not fit its size budget; there
/// these secrets only scrub its log lines of Neo4j's answers and the bearer token from details).
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub(crate) fn find_secret(text: &str, secret: &str) -> Option<(usize, usize)> {
    find(text, secret).map(|i| (i, secret.len()))
}

/// The Worker's build searches every text as written ([`find_secret`]).
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub(crate) fn unescaped(_: &str) -> bool {
    true
}

/// The end of `secret` spelled in `t` from `i` on: each of its characters as it is or in one of
/// the encodings servers, proxies and apps echo a credential in, mixed freely (found by a docs
/// review: a password echoed by Python's `quote`, which keeps `/`, or by PHP's `json_encode`,
/// which writes `\/`, showed whole): a UTF-8 byte as `%XX` (either case of hex: every
/// percent-encoder's choice of what it leaves alone), a space as `+` (query strings and forms), a
/// JSON escape (`\"`, `\\`, `\/`, `\n` and the other short ones, `\uXXXX` with surrogate
/// pairs) and that JSON escaped once more (`\\/`: a JSON text quoted in JSON), and an HTML
/// character reference (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#NN;`, `&#xHH;`: an HTML
/// error page). Letters keep their case (the lower-case spelling is a secret of its own).
/// `tries`: how many more times the escape's reading may fail where both readings fit (only for a
/// character an escape of it starts with; a secret of many `\\` in a long run of them had every
/// way of reading the run tried, in exponential time). Once none are left, the escape's reading is
/// left out there: a secret of dozens of `\\` echoed as typed may then be missed.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
fn spelled_at(t: &[u8], mut i: usize, s: &[u8], tries: &mut u32) -> Option<usize> {
    let mut k = 0;
    while let Some(&b) = s.get(k) {
        let c = *t.get(i)?;
        if c == b'\\' && b != b'\\' && t.get(i + 1) == Some(&b'\\') {
            i += 1;
            continue;
        }
        if let Some((len, n)) = escape_at(&t[i..], &s[k..]) {
            if c != b {
                (i, k) = (i + len, k + n);
                continue;
            }
            // Both readings fit (`%25` for a `%`, `&amp;` for a `&`): the escape's first.
            if *tries > 0 {
                if let Some(end) = spelled_at(t, i + len, &s[k + n..], tries) {
                    return Some(end);
                }
                *tries = tries.saturating_sub(1);
            }
        }
        if c != b {
            return None;
        }
        (i, k) = (i + 1, k + 1);
    }
    Some(i)
}

/// The length of the escape `t` starts with and of the start of `s` it stands for, if it does.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
fn escape_at(t: &[u8], s: &[u8]) -> Option<(usize, usize)> {
    let radix =
        |d: &[u8], r| d.iter().try_fold(0u32, |v, &c| v.checked_mul(r)?.checked_add(char::from(c).to_digit(r)?));
    let (len, v) = match *t.first()? {
        b'%' => (3, radix(t.get(1..3)?, 16)?),
        b'+' => (1, 32),
        b'\\' => match *t.get(1)? {
            b'u' => {
                let v = radix(t.get(2..6)?, 16)?;
                match (v, t.get(6..8)) {
                    (0xd800..=0xdbff, Some(b"\\u")) => {
                        let low = radix(t.get(8..12)?, 16).filter(|l| (0xdc00..=0xdfff).contains(l))?;
                        (12, 0x10000 + ((v - 0xd800) << 10) + (low - 0xdc00))
                    }
                    _ => (6, v),
                }
            }
            e => (
                2,
                u32::from(match e {
                    b'b' => 8,
                    b't' => 9,
                    b'n' => 10,
                    b'f' => 12,
                    b'r' => 13,
                    b'"' | b'\\' | b'/' => e,
                    _ => return None,
                }),
            ),
        },
        b'&' => {
            let end = t.iter().take(12).position(|&c| c == b';')?;
            let v = match &t[1..end] {
                b"amp" => 38,
                b"lt" => 60,
                b"gt" => 62,
                b"quot" => 34,
                b"apos" => 39,
                [b'#', b'x' | b'X', d @ ..] if !d.is_empty() => radix(d, 16)?,
                [b'#', d @ ..] if !d.is_empty() => radix(d, 10)?,
                _ => return None,
            };
            (end + 1, v)
        }
        _ => return None,
    };
    // A `%XX` is one byte of the UTF-8 text; the others are a whole character.
    if t[0] == b'%' {
        return (s.first() == Some(&(v as u8))).then_some((3, 1));
    }
    let mut buf = [0; 4];
    let c = char::from_u32(v)?.encode_utf8(&mut buf).as_bytes();
    s.starts_with(c).then_some((len, c.len()))
}

/// Replaces each whole occurrence of a secret (at least [`MIN_SCRUBBED_LEN`] bytes, not part of a
/// longer run of letters, digits, `_` or `-`: [`whole_at`]; natively and in the JavaScript
/// builds, however [`find_secret`] finds it spelled) in `text` by `***`.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= MIN_SCRUBBED_LEN) {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some((i, len)) = find_secret(rest, s) {
            let whole = whole_at(rest, i, len);
            result.push_str(&rest[..i]);
            result.push_str(if whole { "***" } else { &rest[i..i + len] });
            rest = &rest[i + len..];
        }
        result.push_str(rest);
        out = result;
    }
    // A text cut inside a secret (`…` marks each cut: a body's start, see outcome.rs; an input
    // quoted in part, `shown`): the secret's first part, from a word start to the cut, goes too
    // (a password's first letters are part of it), down to its first character.
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    {
        let mut from = 0;
        while let Some(i) = find(&out[from..], "…") {
            (out, from) = masked_cut(out, from + i, secrets);
        }
    }
    // The Worker's texts mark one cut, a body's end: the inputs it quotes are cut where it quotes
    // them, without `…` (`shown` is left out of its build for size).
    #[cfg(all(target_arch = "wasm32", feature = "worker"))]
    if let Some(at) = out.len().checked_sub('…'.len_utf8()).filter(|_| out.ends_with('…')) {
        out = masked_cut(out, at, secrets).0;
    }
    out
}

/// `out` with the first part of a secret that ends right before the cut at `i` (a `…`) replaced
/// by `***`, and where to look for the next cut.
fn masked_cut(out: String, i: usize, secrets: &[&str]) -> (String, usize) {
    let head = &out[..i];
    let cut = secrets.iter().filter(|s| s.len() >= MIN_SCRUBBED_LEN).find_map(|s| {
        (1..s.len()).rev().find(|&k| {
            s.is_char_boundary(k)
                && head.as_bytes().ends_with(&s.as_bytes()[..k])
                && !head[..head.len() - k].chars().next_back().is_some_and(word)
        })
    });
    match cut {
        Some(k) => (cat(&[&out[..i - k], "***", &out[i..]]), i - k + 3 + '…'.len_utf8()),
        None => (out, i + '…'.len_utf8()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_handshake_answered_in_plain_http_is_named_and_not_retried() {
        for m in [
            "error sending request: client error (Connect): received corrupt message of type InvalidContentType (https://h:7474)",
            "fetch failed: TLS error (SSL routines: wrong version number) (https://h:7474)",
            "fetch failed: TLS error (SSL routines: packet length too long) (https://h:7474)",
        ] {
            let e = AuditError::network(m.into());
            assert!(!e.is_retryable(), "{m}");
            assert!(e.to_string().starts_with(&cat(&["network error: ", m, ": ", PLAIN_HTTP])), "{e}");
        }
        for m in ["Failed to fetch (https://h)", "fetch failed: connect ECONNREFUSED 127.0.0.1:1 (http://127.0.0.1:1)"]
        {
            let e = AuditError::network(m.into());
            assert_eq!(e, AuditError::Network(m.into()));
            assert!(e.is_retryable());
        }
    }

    #[test]
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn a_connection_dropped_by_bolts_port_is_named() {
        // A new user's URL with the drivers' port (bolt://host:7687 became http://host:7687):
        // Neo4j's Bolt port drops the HTTP request unanswered; the reason said only ECONNRESET.
        for m in [
            "fetch failed: read ECONNRESET (http://127.0.0.1:7687)",
            "fetch failed: other side closed [UND_ERR_SOCKET] (http://db.example:7687)",
            "error sending request: client error (SendRequest): connection closed before message completed (http://127.0.0.1:7687)",
        ] {
            let e = AuditError::network(m.into());
            assert!(e.is_retryable(), "{m}");
            let text = e.to_string();
            assert!(text.starts_with(&cat(&["network error: ", m, ": 7687 is Neo4j's Bolt port"])), "{text}");
            assert!(text.ends_with("(Neo4j's HTTP port, 7474 by default)"), "{text}");
        }
        // Another port, or another failure on 7687: as it was.
        for m in [
            "fetch failed: read ECONNRESET (http://127.0.0.1:7474)",
            "fetch failed: connect ECONNREFUSED 127.0.0.1:7687 (http://127.0.0.1:7687)",
        ] {
            assert_eq!(AuditError::network(m.into()), AuditError::Network(m.into()));
        }
    }

    #[test]
    fn scrubbing_never_mangles_honest_text() {
        // A one-letter password used to turn /tx/commit into /t***/commit.
        let e = AuditError::Network("POST http://h:7474/db/neo4j/tx/commit failed".into());
        assert_eq!(e.reason(&["x", "neo4j"]), "network error: POST http://h:7474/db/neo4j/tx/commit failed");
        let db = AuditError::DatabaseNotFound("neo4j".into());
        assert_eq!(db.reason(&["neo4j"]), "database not found: neo4j");
        // Part of a longer word is not the credential.
        let e = AuditError::Network("id hunter22xyz".into());
        assert_eq!(e.reason(&["hunter22"]), "network error: id hunter22xyz");
        // A whole long credential echoed by a server is still scrubbed.
        let e = AuditError::Network("bad token eyJhbGciOi.J9x.sig in header".into());
        assert_eq!(e.reason(&["eyJhbGciOi.J9x.sig"]), "network error: bad token *** in header");
    }

    #[test]
    fn a_secret_the_text_was_cut_inside_is_scrubbed_to_the_cut() {
        // Found by sec6: a body's start (200 characters, then '…') cut inside an echoed Basic
        // credential showed its first part, which decodes to the user and the password's start.
        let basic = "bmVvNGo6czNjcmV0LVBhc3N3MHJkIQ==";
        let e = AuditError::Http {
            status: 500,
            snippet: "authorization: Basic bmVvNGo6czNj…".into(),
            retry_after_ms: None,
        };
        assert_eq!(e.reason(&[basic]), "HTTP 500: authorization: Basic ***…");
        assert_eq!(scrub("Basic bm…", &[basic]), "Basic ***…");
        // Only at a word start, only at a cut, only a secret's start.
        assert_eq!(scrub("Basic xbmVvNGo6…", &[basic]), "Basic xbmVvNGo6…");
        assert_eq!(scrub("database neo4j", &["neo4j-audit-dev"]), "database neo4j");
        assert_eq!(scrub("database neo4j…", &["neo4j-audit-dev"]), "database ***…");
        assert_eq!(scrub("Basic czNj…", &[basic]), "Basic czNj…");
        assert_eq!(scrub("a éé…", &["éééééé"]), "a ***…");
    }

    /// The echo forms a docs review found missing: a password percent-encoded with `/` kept
    /// (Python's `urllib.parse.quote`), with `+` for a space (`quote_plus`, `URLSearchParams`,
    /// Java's `URLEncoder`), with lower-case hex (.NET's `HttpUtility.UrlEncode`), JSON with
    /// `\/` (PHP's `json_encode`) or `\u00XX` for `'`, `&`, `<`, `>`, `=` (Gson, Go), and HTML
    /// entities (a proxy's or framework's HTML error page): each showed the password whole.
    #[test]
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn a_secret_echoed_in_any_common_encoding_is_scrubbed() {
        let c = crate::config::Config::new("http://h:1").basic_auth("neo4j", "pa/ss w0rd!");
        let h = crate::config::Config::new("http://h:1").basic_auth("neo4j", "it's <b>&=1");
        let (pw, html) = (c.secrets(), h.secrets());
        for (secrets, echoed) in [
            (&pw, "pa/ss%20w0rd%21"),
            (&pw, "pa%2Fss+w0rd%21"),
            (&pw, "pa%2fss%20w0rd%21"),
            (&pw, "pa%2Fss%20w0rd!"),
            (&pw, r"pa\/ss w0rd!"),
            (&pw, r"pa\/ss\u0020w0rd\u0021"),
            (&pw, "pa&#47;ss w0rd&#x21;"),
            (&html, "it&#39;s &lt;b&gt;&amp;=1"),
            (&html, "it&#x27;s &lt;b&gt;&amp;&#61;1"),
            (&html, "it&apos;s <b>&amp;=1"),
            (&html, r"it\u0027s \u003cb\u003e\u0026\u003d1"),
            (&html, "it%27s+%3Cb%3E%26%3D1"),
        ] {
            let text = cat(&["HTTP 400: {\"error\": \"bad credential ", echoed, "\"}"]);
            assert_eq!(scrub(&text, &refs(secrets)), "HTTP 400: {\"error\": \"bad credential ***\"}", "{echoed}");
            assert!(holds_whole(&text, &secrets[0], false), "{echoed}");
        }
        // Still whole occurrences only, and only of the secret: a longer word, a different
        // character or a broken escape is kept as given.
        for echoed in ["xpa/ss%20w0rd%21", "pa/ss%20w0rd%21x", "pa/ss%20w0rd%22", "pa/ss%2w0rd!", "pa/ss&#32w0rd!"] {
            let text = cat(&["bad credential ", echoed, "."]);
            assert_eq!(scrub(&text, &refs(&pw)), text, "{echoed}");
        }
        // The eight-byte skip finds what a look at every byte finds.
        let alphabet = ["a", "b", "%", "%61", "+", " ", "\\", "&", "&#97;", "é", "\\u0061"];
        let mut next = crate::random::seeded(0x9e37_79b9_7f4a_7c15u64);
        let mut pick = |n: usize| next(n as u64) as usize;
        for _ in 0..20_000 {
            let text: String = (0..pick(30)).map(|_| alphabet[pick(alphabet.len())]).collect();
            let secret: String = (0..1 + pick(3)).map(|_| ["a", "b", " ", "%", "&"][pick(5)]).collect();
            let naive = (0..text.len())
                .find_map(|i| spelled_at(text.as_bytes(), i, secret.as_bytes(), &mut 32).map(|end| (i, end - i)));
            assert_eq!(find_secret(&text, &secret), naive, "{text:?} {secret:?}");
        }
        // `%25` is a `%` and a `%` is itself: both readings are tried.
        for (secret, echoed) in
            [("%25abcdefgh", "%25abcdefgh"), ("%abcdefgh", "%25abcdefgh"), ("a%2Fbcdefg", "a%252Fbcdefg")]
        {
            assert_eq!(scrub(&cat(&["x ", echoed, " y"]), &[secret]), "x *** y", "{secret} {echoed}");
        }
    }

    /// A `\\` is a `\` escaped and two of them as they are: a secret of many backslashes looked
    /// for in a long run of them tried every way of reading the run (exponential time).
    #[test]
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn a_run_of_backslashes_is_read_in_bounded_time() {
        let secret = cat(&["\\".repeat(40).as_str(), "x"]);
        let text = "\\".repeat(100);
        let started = std::time::Instant::now();
        assert_eq!(scrub(&text, &[&secret]), text);
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        assert_eq!(scrub(&cat(&["a ", &text[..80], "x b"]), &[&secret]), "a *** b");
        // A few, either way.
        for echoed in [r"pw\\\x-12", r"pw\\\\\\x-12"] {
            assert_eq!(scrub(&cat(&["a ", echoed, " b"]), &[r"pw\\\x-12"]), "a *** b", "{echoed}");
        }
    }

    #[test]
    fn a_long_input_is_quoted_in_part_and_a_secret_cut_there_leaves_none_of_it() {
        // Found in review: a config key or value of 1 MB was quoted whole (a 1 MB lastError).
        assert_eq!(shown("short"), "short");
        assert_eq!(shown(&"é".repeat(100)), "é".repeat(100));
        assert_eq!(shown(&"é".repeat(101)), cat(&[&"é".repeat(100), "… (202 bytes)"]));
        let big = "k".repeat(1_000_000);
        assert_eq!(quoted(&big), cat(&["\"", &"k".repeat(100), "… (1000000 bytes)\""]));
        // A cut inside a secret, anywhere in the text (not only at its end): the secret's first
        // characters before it go, down to one.
        let secret = "Zq9s3cr3t-pass-word";
        for (pad, kept) in [(96, 3), (98, 1)] {
            let key = cat(&[&"k".repeat(pad), " ", secret, " tail"]);
            let m = cat(&["unknown field `", &shown(&key), "` in config"]);
            assert!(m.contains(&cat(&[" ", &secret[..kept], "…"])), "{m}");
            let s = scrub(&m, &[secret]);
            assert_eq!(
                s,
                cat(&["unknown field `", &"k".repeat(pad), " ***… (", &num(key.len() as u64), " bytes)` in config"])
            );
        }
        // Two cuts, and a secret whole before the first: each scrubbed.
        let m = cat(&["a ", secret, " b Zq9s… c Zq…"]);
        assert_eq!(scrub(&m, &[secret]), "a *** b ***… c ***…");
        // Not a secret's start, or not at a word start: kept.
        assert_eq!(scrub("x Zq8… yZq9…", &[secret]), "x Zq8… yZq9…");
    }

    #[test]
    fn find_is_str_find() {
        for (hay, needle) in
            [("", ""), ("a", ""), ("", "a"), ("abc", "abc"), ("abc", "abcd"), ("xaab", "ab"), ("éé", "é"), ("aaé", "é")]
        {
            assert_eq!(find(hay, needle), hay.find(needle), "{hay:?} {needle:?}");
        }
        // Every place of a match against the eight-byte windows: texts of 0 to 40 characters
        // from a small alphabet (with a two-byte character and bytes that differ from the
        // needle's first in one bit), needles of 1 to 4.
        let alphabet = ['a', 'b', 'c', '`', 'é', '\u{1}', '\u{e1}'];
        let mut next = crate::random::seeded(0x2545_f491_4f6c_dd1du64);
        let mut pick = |n: usize| next(n as u64) as usize;
        for _ in 0..20_000 {
            let hay: String = (0..pick(41)).map(|_| alphabet[pick(alphabet.len())]).collect();
            let needle: String = (0..1 + pick(4)).map(|_| alphabet[pick(3)]).collect();
            assert_eq!(find(&hay, &needle), hay.find(&needle), "{hay:?} {needle:?}");
        }
    }

    #[test]
    fn reason_scrubs_secrets() {
        let e = AuditError::Network("connect to http://x?pw=hunter22 failed".into());
        let r = e.reason(&["hunter22", ""]);
        assert!(!r.contains("hunter22"), "{r}");
        assert!(r.contains("***"));
    }

    #[test]
    fn retry_classification() {
        let transient = AuditError::Neo4j {
            code: "Neo.TransientError.Transaction.DeadlockDetected".into(),
            message: String::new(),
        };
        let terminated =
            AuditError::Neo4j { code: "Neo.TransientError.Transaction.Terminated".into(), message: String::new() };
        let client = AuditError::Neo4j { code: "Neo.ClientError.Statement.SyntaxError".into(), message: String::new() };
        assert!(transient.is_retryable());
        assert!(!terminated.is_retryable());
        assert!(!client.is_retryable());
        let merge_race = AuditError::Neo4j {
            code: "Neo.ClientError.Schema.ConstraintValidationFailed".into(),
            message: String::new(),
        };
        assert!(merge_race.is_retryable(), "a concurrent MERGE of a new node is retried");
        assert!(!AuditError::Unauthorized { status: 401, code: None }.is_retryable());
        assert!(AuditError::Http { status: 503, snippet: String::new(), retry_after_ms: None }.is_retryable());
        assert!(AuditError::Http { status: 429, snippet: String::new(), retry_after_ms: Some(1000) }.is_retryable());
        assert!(!AuditError::Http { status: 400, snippet: String::new(), retry_after_ms: None }.is_retryable());
        assert!(AuditError::Timeout(Duration::from_millis(10)).is_retryable());
    }

    #[test]
    fn only_the_statuses_a_retry_may_cure_are_retried() {
        // 501 (and 505, ...) was retried with every other 5xx: the same request answered the
        // same way for the whole retry budget (30 s by default) before the call failed.
        let http = |status| AuditError::Http { status, snippet: String::new(), retry_after_ms: None };
        for s in [408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524] {
            assert!(http(s).is_retryable(), "{s}");
        }
        for s in [400, 404, 405, 409, 413, 415, 422, 501, 505, 506, 507, 508, 510, 511, 525, 526, 530, 599] {
            assert!(!http(s).is_retryable(), "{s}");
        }
    }
}
