//! The Cloudflare Worker entry: `handleIngest(request, env)` adapts workerd's `Request`, `env`
//! (vars, secrets, the `RATE_LIMITER` binding) and `Response` to [`crate::ingest::handle`]. No
//! decision is made here.
//!
//! ```js
//! import { handleIngest } from "neo4j-audit/worker";   // the package's Worker entry
//! export default { fetch: (request, env) => handleIngest(request, env) };
//! ```

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::ingest::host::{header, text_of};
use crate::ingest::{self, Io, ReadError, Request, Response, Settings};
use crate::AuditLogger;

/// Name of the rate-limiting binding in `wrangler.toml`.
const RATE_LIMITER: &str = "RATE_LIMITER";

/// Request headers the handler reads.
const HEADERS: [&str; 8] = [
    "Origin",
    "CF-Connecting-IP",
    "Authorization",
    "Content-Type",
    "Content-Encoding",
    "Content-Length",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
];

#[wasm_bindgen(typescript_custom_section)]
const TS_INGEST_ENV: &'static str = r#"
/** A `[vars]` value as wrangler passes it: text, or a number / boolean written without quotes. */
export type IngestVar = string | number | boolean;

/** A comma-separated list var: the text (`"https://a,https://b"`), or a TOML array of strings
 *  (`ALLOWED_ORIGINS = ["https://a", "https://b"]`), read as its items joined by commas. */
export type IngestList = string | readonly string[];

/** The Worker's `env` as handleIngest reads it (docs/worker.md): the secrets, the
 *  `[vars]` and the `RATE_LIMITER` binding. Every member is optional here; a missing secret is
 *  answered with 500 misconfigured. Other bindings of your own may be present, named otherwise
 *  than these: a name beginning AUDIT_, JWT_, NEO4J_, MAX_, ALLOWED_, TENANT_, VERIFY_, REDACT_,
 *  OCCURRED_, RETRY_ or RATE_LIMIT_ that is none of them is refused as a misspelling (500). */
export interface IngestEnv {
  NEO4J_URL?: string;
  NEO4J_USER?: string;
  NEO4J_PASSWORD?: string;
  NEO4J_DATABASE?: string;
  NEO4J_TIMEOUT_MS?: IngestVar;
  NEO4J_ALLOW_INSECURE_HTTP?: IngestVar;
  AUDIT_JWT_SECRET?: string;
  AUDIT_JWT_SECRET_PREVIOUS?: string;
  JWT_JWKS_URL?: string;
  /** A JWK Set: its JSON text, or a TOML table (`JWT_PUBLIC_KEYS = { keys = [ … ] }`). */
  JWT_PUBLIC_KEYS?: string | { readonly keys: readonly object[] };
  JWT_ALGORITHMS?: IngestList;
  AUDIT_SIGNING_KEY?: string;
  AUDIT_SIGNING_KEY_ID?: string;
  AUDIT_PUBLIC_KEYS?: IngestList;
  AUDIT_TRAIL?: string;
  ALLOWED_ORIGINS?: IngestList;
  ALLOWED_CATEGORIES?: IngestList;
  ALLOWED_TARGET_LABELS?: IngestList;
  TENANT_CLAIM?: string;
  VERIFY_SUBJECTS?: IngestList;
  JWT_AUDIENCE?: string;
  JWT_AUDIENCE_CHECK?: IngestVar;
  JWT_ISSUER?: string;
  JWT_CLOCK_SKEW_SECS?: IngestVar;
  JWT_MAX_LIFETIME_SECS?: IngestVar;
  MAX_BODY_BYTES?: IngestVar;
  MAX_BATCH?: IngestVar;
  MAX_DETAILS_BYTES?: IngestVar;
  MAX_DETAILS_DEPTH?: IngestVar;
  OCCURRED_AT_MAX_SKEW_SECS?: IngestVar;
  OCCURRED_AT_MAX_AGE_SECS?: IngestVar;
  RETRY_AFTER_SECS?: IngestVar;
  RATE_LIMIT_PERIOD_SECS?: IngestVar;
  REDACT_KEYS?: IngestList;
  REDACT_MATCH?: string;
  /** The `[[ratelimits]]` binding (Cloudflare's `RateLimit`); missing: 503. */
  RATE_LIMITER?: { limit(options: { key: string }): Promise<{ success: boolean }> };
}
"#;

thread_local! {
    /// One logger per isolate and configuration, so the schema statements run once, not per request.
    static LOGGER: RefCell<Option<Rc<AuditLogger>>> = const { RefCell::new(None) };
}

/// Serves one Worker request. Resolves to a `Response` for every input.
#[wasm_bindgen(js_name = handleIngest)]
pub async fn handle_ingest(
    #[wasm_bindgen(unchecked_param_type = "Request")] request: JsValue,
    #[wasm_bindgen(unchecked_param_type = "IngestEnv")] env: JsValue,
) -> Result<web_sys::Response, JsValue> {
    // workerd always passes a Request; anything that is not even an object (a caller's null) is
    // answered with a 500, not a TypeError thrown out of the first poll (an uncaught exception).
    // An object that is not a Request (`{}`, a server framework's own request object) has no
    // string `url` and `method`: the same 500 (reading them through `Request`'s getters threw a
    // TypeError out of wasm, uncaught).
    let (Some(url), Some(method)) = (text_of(&request, "url", false), text_of(&request, "method", false)) else {
        return to_js(&Response::error(
            500,
            "misconfigured",
            "handleIngest(request, env): request must be the fetch handler's Request",
        ));
    };
    let get = |k: &str| text_of(&env, k, true);
    let settings = Settings::load(get).await;
    let mut headers = Vec::new();
    for h in HEADERS {
        if let Ok(Some(v)) = header(&request, h) {
            headers.push((h.to_owned(), v));
        }
    }
    let req = Request { method, path: path_of(&url).to_owned(), query: query_of(&url).to_owned(), headers };
    let store = settings.neo4j.as_ref().ok().and_then(logger_for);
    let io = WorkerIo { request: &request, env: &env };
    let now_secs = crate::event::now_millis() / 1000;
    let resp = ingest::handle(&req, &settings, now_secs, &io, store.as_deref()).await;
    to_js(&resp)
}

/// The path of an absolute URL as workerd gives it (`https://host[:port]/path?query`), without
/// pulling a URL parser (and its Unicode tables) into the Worker.
fn path_of(url: &str) -> &str {
    let after_scheme = crate::error::find(url, "://").map_or(url, |i| &url[i + 3..]);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// The query string of an absolute URL, without `?` and any fragment.
fn query_of(url: &str) -> &str {
    url.split_once('?').map_or("", |(_, q)| q.split('#').next().unwrap_or(""))
}

fn logger_for(config: &crate::Config) -> Option<Rc<AuditLogger>> {
    LOGGER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if let Some(l) = slot.as_ref().filter(|l| l.config() == config) {
            return Some(l.clone());
        }
        let l = Rc::new(AuditLogger::from_js_config(config.clone()).ok()?);
        *slot = Some(l.clone());
        Some(l)
    })
}

fn to_js(resp: &Response) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (k, v) in &resp.headers {
        headers.append(k, v)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(resp.status);
    init.set_headers(&headers);
    let body = (!resp.body.is_empty()).then_some(resp.body.as_str());
    web_sys::Response::new_with_opt_str_and_init(body, &init)
}

struct WorkerIo<'a> {
    request: &'a JsValue,
    env: &'a JsValue,
}

impl Io for WorkerIo<'_> {
    async fn read_body(&self, limit: usize) -> Result<String, ReadError> {
        ingest::host::read_body(self.request, limit).await
    }

    async fn rate_limit(&self, key: &str) -> Result<bool, String> {
        ingest::host::rate_limit(self.env, RATE_LIMITER, key).await
    }

    async fn fetch_jwks(&self, url: &str) -> Result<ingest::jwks::Fetched, String> {
        ingest::host::fetch_jwks(url).await
    }

    async fn verify_signature(
        &self,
        alg: ingest::jwt::Alg,
        key: &ingest::jwks::Jwk,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool, String> {
        ingest::host::verify(alg, key, data, signature).await
    }

    fn log(&self, line: &str) {
        web_sys::console::error_1(&JsValue::from_str(line));
    }
}
