//! HTTP: one request in, one answer (or a typed failure) out, bounded in time. The same API on
//! every platform; the back end is chosen by `cfg`: reqwest's native client natively; on wasm the
//! host's global `fetch` through src/transport/fetch.js with feature `fetch` (fetch.rs, the npm
//! package's builds), else reqwest's `fetch` binding.
//!
//! ```
//! use neo4j_audit::transport::{HttpRequest, Transport};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let t = Transport::new();
//! let req = HttpRequest { url: "http://127.0.0.1:1/".into(), headers: vec![], body: "{}".into() };
//! // Nothing listens there: a typed failure, never a panic, within the bound (ms).
//! let e = t.post(&req, 10_000).await.unwrap_err();
//! assert!(e.is_retryable(), "{e}");
//! # }
//! ```

#[cfg(not(all(target_arch = "wasm32", feature = "fetch")))]
use crate::lite::{select, Either};

#[cfg(not(all(target_arch = "wasm32", feature = "fetch")))]
use crate::error::AuditError;

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::runtime_ready;
#[cfg(not(target_arch = "wasm32"))]
pub use native::sleep_ms;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::{sleep_ms, sleep_ms_background};

/// The request's headers as src/transport/fetch.js takes them: "name\nvalue\n..." (names and
/// values never hold a line break: HTTP forbids it). Used by the `fetch` transport and the JS
/// driver (feature `js`).
#[cfg(all(target_arch = "wasm32", any(feature = "fetch", feature = "js")))]
pub(crate) fn header_lines(req: &HttpRequest) -> String {
    let mut headers = String::new();
    for (k, v) in &req.headers {
        headers.push_str(k);
        headers.push('\n');
        headers.push_str(v);
        headers.push('\n');
    }
    headers
}

// Feature `fetch` on wasm: the global `fetch` through fetch.js instead of reqwest (much smaller).
#[cfg(all(target_arch = "wasm32", feature = "fetch"))]
mod fetch;
#[cfg(all(target_arch = "wasm32", feature = "fetch"))]
pub use fetch::Transport;

/// A POST of a JSON body. `Debug` shows `***` for the `Authorization` header (and any other
/// credential header).
#[derive(Clone)]
pub struct HttpRequest {
    /// The absolute URL to POST to.
    pub url: String,
    /// Header names and values, sent as given.
    pub headers: Vec<(String, String)>,
    /// The JSON body text.
    pub body: String,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(k, v)| (k.as_str(), if secret_header(k) { "***" } else { v.as_str() })).collect();
        f.debug_struct("HttpRequest")
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// Whether a header named `name` carries a credential, which `Debug` shows as `***` (the
/// library's requests and the Worker's incoming ones alike).
pub(crate) fn secret_header(name: &str) -> bool {
    ["authorization", "proxy-authorization", "cookie"].iter().any(|c| name.eq_ignore_ascii_case(c))
}

/// A credential (an `Authorization` value, a password): usable through [`Secret::expose`],
/// shown as `***` by `Debug`, so it never reaches a log through `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `s`.
    pub fn new(s: String) -> Self {
        Secret(s)
    }
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The bound on an answer's size that [`Transport::post`] reads: 4 MiB. A write's, the schema's
/// or the ingest Worker's answer is a few KB (an error's too); a larger answer (a wrong URL, a
/// proxy's page, a hostile server) is a retryable [`AuditError::Network`] failure ("the server's
/// answer is larger than 4194304 bytes, left unread") instead of the memory to hold it (natively,
/// in JavaScript, and the `.wasm`'s memory, which never shrinks). The read side's answers (pages
/// of up to 1000 events) have a bound of their own: [`read_answer_bytes`]. The Worker's build
/// (feature `worker` on wasm) has one bound for all its answers: [`WORKER_MAX_ANSWER_BYTES`].
pub const MAX_ANSWER_BYTES: usize = 4 << 20;

/// The ingest Worker's bound on every answer of its own Neo4j (its build, feature `worker` on
/// wasm: writes, the chain head's reads, the schema step, `GET /v1/health`'s ping and
/// `GET /v1/verify`'s pages alike): 32 MiB. A larger answer (a proxy's page, a misbehaving or
/// hostile upstream) is the retryable [`AuditError::Network`] failure "the server's answer is
/// larger than 33554432 bytes, left unread", which the Worker answers with 503 `unavailable` (and
/// `Retry-After`) and logs; the request to Neo4j is aborted and the rest of the answer never
/// read. Before, the Worker read such an answer whole. Why 32 MiB: a Workers isolate has 128 MB
/// of memory, and an answer is held about three times (the JavaScript string, its copy in the
/// `.wasm`'s memory, the parsed rows), so a larger bound would only let the isolate be killed
/// instead; a write's or the head's answer is a few KB, and a verify page of 1000 events fits
/// unless their details average more than ~16 KB (`GET /v1/verify` then reads the page again half
/// as long, down to two events, as the client's verification does: `crate::read::verify`).
pub const WORKER_MAX_ANSWER_BYTES: usize = 32 << 20;

/// An answer's bound as the sinks hand it to the transport: bytes; nothing in the Worker's build
/// (feature `worker` on wasm), whose transport applies [`WORKER_MAX_ANSWER_BYTES`] to every
/// answer (size budget: a bound passed along grew its `.wasm` by 200 B gzipped).
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
pub(crate) type Bound = usize;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub(crate) type Bound = ();

/// [`MAX_ANSWER_BYTES`] as a [`Bound`].
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
pub(crate) const WRITE_BOUND: Bound = MAX_ANSWER_BYTES;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub(crate) const WRITE_BOUND: Bound = ();

/// [`read_answer_bytes`] as a [`Bound`].
#[cfg(all(any(feature = "read", feature = "ingest"), not(all(target_arch = "wasm32", feature = "worker"))))]
pub(crate) fn read_bound(details: usize) -> Bound {
    read_answer_bytes(details)
}
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub(crate) fn read_bound(_: usize) -> Bound {}

/// The bound on a read's answer (a page of up to 1000 events, `getAuditTrail` and the other
/// reads, `verifyTrail`'s pages) for a reader whose `max_details_bytes` is `details`: 64 MiB plus
/// 2000 × `details` (each of 1000 events' details, escaped once more inside Neo4j's JSON answer,
/// at most twice its size), at most 512 MiB (the longest string a JavaScript engine holds).
/// With the default 65 536: 198,180,864 bytes (189 MiB). A page of events written with larger
/// details than that allows for is too large: verification reads it again in smaller pages
/// (`crate::read::verify`); a trail page's reader passes a smaller `limit`.
pub fn read_answer_bytes(details: usize) -> usize {
    (64usize << 20).saturating_add(details.saturating_mul(2000)).min(512 << 20)
}

/// What came back.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Retry-After` header, when present.
    pub retry_after: Option<String>,
    /// The whole body, as text.
    pub body: String,
    /// The origin (`scheme://host:port`) that answered, when a redirect led the request to
    /// another origin than its URL's: `fetch` (and reqwest) send that origin no `Authorization`
    /// header, so its 401 is no verdict on the credentials ([`crate::outcome`] says so).
    pub moved_to: Option<String>,
}

/// Sends requests; cheap to clone (reqwest's client is reference-counted).
#[cfg(not(all(target_arch = "wasm32", feature = "fetch")))]
#[derive(Debug, Clone, Default)]
pub struct Transport {
    client: reqwest::Client,
}

#[cfg(not(all(target_arch = "wasm32", feature = "fetch")))]
impl Transport {
    /// A transport with its own reqwest client (connection pool). Natively it honours the
    /// proxies of the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), as
    /// reqwest does by default, for every host (see [`Transport::for_url`]).
    pub fn new() -> Self {
        Transport { client: reqwest::Client::new() }
    }

    /// The transport of a logger whose requests go to `url` (its Neo4j `url`, or its
    /// `endpoint`): natively, for a loopback `url` (`localhost`, `127.0.0.0/8`, `[::1]`) a client
    /// that never sends through a proxy of the environment — one there (a corporate
    /// `HTTPS_PROXY`, `ALL_PROXY`) cannot reach this machine's server, and would see the
    /// password — else [`Transport::new`]'s.
    pub(crate) fn for_url(url: &str) -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        if let Ok(client) = client_for(url).build() {
            return Transport { client };
        }
        #[cfg(target_arch = "wasm32")]
        let _ = url;
        Transport::new()
    }

    /// [`Transport::for_url`]'s transport for `url`, whose client also trusts `roots` (beside
    /// the web PKI roots it has built in): a private CA's certificates
    /// ([`crate::AuditLoggerBuilder::root_certificate_pem`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn with_roots(url: &str, roots: Vec<reqwest::Certificate>) -> Result<Self, reqwest::Error> {
        let mut b = client_for(url);
        for c in roots {
            b = b.add_root_certificate(c);
        }
        Ok(Transport { client: b.build()? })
    }

    /// POSTs `req`, giving up after `timeout_ms` for the whole exchange (headers and body). The
    /// answer is read up to [`MAX_ANSWER_BYTES`] (see [`Transport::post_within`]).
    pub async fn post(&self, req: &HttpRequest, timeout_ms: u64) -> Result<HttpResponse, AuditError> {
        self.post_within(req, timeout_ms, MAX_ANSWER_BYTES).await
    }

    /// [`Transport::post`], the answer read up to `max_bytes` (as received, after any
    /// Content-Encoding is undone): a larger one is a retryable [`AuditError::Network`] ("the
    /// server's answer is larger than N bytes, left unread"), found from its Content-Length
    /// before any of the body is read where it has one, else once the chunks read pass the bound;
    /// the connection is dropped then, the rest never read.
    pub async fn post_within(
        &self,
        req: &HttpRequest,
        timeout_ms: u64,
        max_bytes: usize,
    ) -> Result<HttpResponse, AuditError> {
        let work = Box::pin(self.exchange(req, max_bytes));
        let timer = Box::pin(sleep_ms(timeout_ms));
        match select(work, timer).await {
            Either::Left((res, _)) => res,
            Either::Right(((), _)) => Err(AuditError::Timeout(std::time::Duration::from_millis(timeout_ms))),
        }
    }

    async fn exchange(&self, req: &HttpRequest, max_bytes: usize) -> Result<HttpResponse, AuditError> {
        let mut rb = self.client.post(&req.url).body(req.body.clone());
        for (k, v) in &req.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let resp = rb.send().await.map_err(|e| net_error(e, &req.url))?;
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let moved_to = moved_to(&req.url, resp.url());
        let big = || answer_too_large(max_bytes, &req.url);
        if resp.content_length().is_some_and(|n| n > max_bytes as u64) {
            return Err(big());
        }
        #[cfg(not(target_arch = "wasm32"))]
        let body = {
            let mut resp = resp;
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| net_error(e, &req.url))? {
                if bytes.len() + chunk.len() > max_bytes {
                    return Err(big());
                }
                bytes.extend_from_slice(&chunk);
            }
            // As `Response::text` decodes (reqwest reads no other charset without its `charset`
            // feature): UTF-8, invalid sequences replaced.
            match String::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }
        };
        // reqwest's wasm client reads a body whole only (no `chunk`): there an answer without a
        // Content-Length is held whole before it is refused (the `fetch` transport, the npm
        // package's, reads it in chunks).
        #[cfg(target_arch = "wasm32")]
        let body = resp.text().await.map_err(|e| net_error(e, &req.url))?;
        #[cfg(target_arch = "wasm32")]
        if body.len() > max_bytes {
            return Err(big());
        }
        Ok(HttpResponse { status, retry_after, body, moved_to })
    }
}

/// A client builder for requests to `url`: with no proxy at all when its host is loopback
/// ([`crate::config::is_loopback`]; reqwest's proxies of the environment take loopback hosts too,
/// unless `NO_PROXY` names them), else with reqwest's defaults. (A loopback server's redirect
/// to another host is then followed without a proxy too.)
#[cfg(not(target_arch = "wasm32"))]
fn client_for(url: &str) -> reqwest::ClientBuilder {
    let b = reqwest::Client::builder();
    match url::Url::parse(url) {
        Ok(u) if u.host_str().is_some_and(crate::config::is_loopback) => b.no_proxy(),
        _ => b,
    }
}

/// The origin of `at` (where a redirect led the request for `url`), when it is another than
/// `url`'s.
#[cfg(not(all(target_arch = "wasm32", feature = "fetch")))]
fn moved_to(url: &str, at: &url::Url) -> Option<String> {
    let from = url::Url::parse(url).ok()?.origin();
    (from != at.origin()).then(|| at.origin().ascii_serialization())
}

/// How the failure of an answer over its bound begins (here and in src/transport/fetch.js).
#[cfg(any(not(all(target_arch = "wasm32", feature = "fetch")), feature = "read"))]
const TOO_LARGE: &str = "the server's answer is larger than ";

/// Whether `e` is the failure of an answer over its bound ([`read_answer_bytes`]): a read asking
/// for fewer rows may fit (the verifier's pages, `crate::read::verify`; the Worker's
/// `GET /v1/verify` too, over [`WORKER_MAX_ANSWER_BYTES`]).
#[cfg(feature = "read")]
pub(crate) fn is_answer_too_large(e: &crate::error::AuditError) -> bool {
    matches!(e, crate::error::AuditError::Network(m) if m.starts_with(TOO_LARGE))
}

/// The failure of an answer over `max` bytes, worded as src/transport/fetch.js words it.
#[cfg(not(all(target_arch = "wasm32", feature = "fetch")))]
fn answer_too_large(max: usize, url: &str) -> AuditError {
    let origin = reqwest::Url::parse(url).ok().map(|u| u.origin().ascii_serialization());
    let mut msg = crate::error::cat(&[TOO_LARGE, &crate::error::num(max as u64), " bytes, left unread"]);
    if let Some(o) = origin.filter(|o| o != "null") {
        msg.push_str(" (");
        msg.push_str(&o);
        msg.push(')');
    }
    AuditError::network(msg)
}

#[cfg(not(all(target_arch = "wasm32", feature = "fetch")))]
fn net_error(e: reqwest::Error, url: &str) -> AuditError {
    // As src/transport/fetch.js words it: the error and its causes, then where it went, the URL's
    // origin only (scheme://host:port: never its path or a user:password@). From the request's
    // URL: reqwest's wasm client attaches none to its errors.
    let origin = reqwest::Url::parse(url).ok().map(|u| u.origin().ascii_serialization());
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    if let Some(o) = origin.filter(|o| o != "null") {
        msg.push_str(" (");
        msg.push_str(&o);
        msg.push(')');
    }
    AuditError::network(msg)
}

/// Parses a `Retry-After` value given in seconds (the HTTP-date form is ignored).
/// Seconds may carry a fraction (`1.5`); the result is in ms, at most an hour. Parsed without
/// floating point (no float parser in the `.wasm`).
pub fn parse_retry_after(v: &str) -> Option<u64> {
    // One pass over the bytes (digits, at most one '.' after at least one digit), no
    // split_once(char) / str::parse: core's char searcher and integer parser stay out of the
    // write entry. The whole seconds are added up in ms, held at the one-hour bound once past it
    // (more digits only make it larger); of the fraction the first three digits count.
    const MAX: u64 = 3_600_000;
    let (mut ms, mut int_digits, mut frac) = (0u64, 0, None::<usize>);
    for b in v.trim().bytes() {
        let d = u64::from(b.wrapping_sub(b'0'));
        match frac {
            _ if d > 9 && (b != b'.' || frac.is_some() || int_digits == 0) => return None,
            _ if d > 9 => frac = Some(0),
            None => {
                int_digits += 1;
                // More than 12 digits (leading zeros too) read as past the bound, as before.
                ms = if int_digits > 12 { MAX } else { (ms * 10 + d * 1000).min(MAX) };
            }
            Some(k) => {
                if k < 3 {
                    ms += d * [100, 10, 1][k];
                }
                frac = Some(k + 1);
            }
        }
    }
    (int_digits > 0).then_some(ms.min(MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds() {
        for (v, ms) in [
            ("5", Some(5000)),
            (" 2 ", Some(2000)),
            ("1.5", Some(1500)),
            ("0.0019", Some(1)),
            ("99999999999999999999", Some(3_600_000)),
            ("-1", None),
            ("x", None),
            ("", None),
            (".5", None),
            (".", None),
            ("5.", Some(5000)),
            ("1.2.3", None),
            ("1..2", None),
            ("0.1239", Some(123)),
            ("3599.9995", Some(3_599_999)),
            ("3600.5", Some(3_600_000)),
            ("000000000007", Some(7000)),
            ("0000000000007", Some(3_600_000)),
            ("1 2", None),
            ("+5", None),
            ("Wed, 21 Oct 2015 07:28:00 GMT", None),
        ] {
            assert_eq!(parse_retry_after(v), ms, "{v:?}");
        }
    }

    #[test]
    fn debug_never_shows_credentials() {
        let r = HttpRequest {
            url: "http://h/db/neo4j/tx/commit".into(),
            headers: vec![
                ("Authorization".into(), "Basic bmVvNGo6c2VjcmV0LXB3".into()),
                ("Cookie".into(), "session=c00k1e".into()),
            ],
            body: "{}".into(),
        };
        let d = format!("{r:?}");
        assert!(!d.contains("bmVvNGo6c2VjcmV0LXB3") && !d.contains("c00k1e") && d.contains("***"), "{d}");
        assert_eq!(format!("{:?}", Secret::new("Bearer tok-1".into())), "***");
    }

    #[test]
    fn read_answer_bound() {
        // The default maxDetailsBytes: 64 MiB + 2000 × 64 KiB = 189 MiB; at most 512 MiB.
        assert_eq!(read_answer_bytes(65_536), 198_180_864);
        assert_eq!(read_answer_bytes(1), (64 << 20) + 2000);
        assert_eq!(read_answer_bytes(crate::config::MAX_DETAILS_LIMIT), 512 << 20);
        assert_eq!(read_answer_bytes(usize::MAX), 512 << 20);
        assert!(MAX_ANSWER_BYTES < read_answer_bytes(1));
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("2"), Some(2000));
        assert_eq!(parse_retry_after(" 0.5 "), Some(500));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
