//! The Worker's host calls, each one promise of src/ingest/host.js that resolves to the answer or
//! to the reason there is none (text without secrets or key material): the body's read
//! ([`read_body`]), the rate limiter ([`rate_limit`]), the key set's GET ([`fetch_jwks`]) and the signature check by WebCrypto ([`verify`]). The key
//! is imported from its public numbers only ([`super::jwks::KeyMaterial`], as a JWK) as
//! RSASSA-PKCS1-v1_5 SHA-256 or ECDSA P-256, for `verify` only; a JWS ES256 signature is
//! `r || s`, the form WebCrypto's ECDSA takes. Never a panic.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::jwks::{self, Fetched, Jwk, KeyMaterial};
use super::jwt::Alg;
use super::ReadError;

#[wasm_bindgen(module = "/src/ingest/host.js")]
extern "C" {
    /// `o[k]` if a string; with `vars`, a boolean or whole number as its text too. For `k` = ""
    /// (no setting's name): the first key of `o` named like a setting of the Worker that it
    /// never read (a misspelled one).
    #[wasm_bindgen(js_name = textOf)]
    pub(crate) fn text_of(o: &JsValue, k: &str, vars: bool) -> Option<String>;
    /// The request header `name`.
    #[wasm_bindgen(catch)]
    pub(crate) fn header(request: &JsValue, name: &str) -> Result<Option<String>, JsValue>;
    /// Resolves to the body text, or to 1 (too large), 2 (unreadable), 3 (not bytes), 4 (not UTF-8).
    #[wasm_bindgen(js_name = readBody)]
    fn read_body_text(request: &JsValue, limit: f64) -> Promise;
    /// Resolves to `env[name].limit({ key })`'s `success`, or to why there is none.
    #[wasm_bindgen(js_name = rateLimit)]
    fn rate_limit_of(env: &JsValue, name: &str, key: &str) -> Promise;
    /// Resolves to `[final URL, Cache-Control, body]` for a 200 whose body is at most `limit`
    /// bytes (read no further), or to why not.
    #[wasm_bindgen(js_name = jwksGet)]
    fn jwks_get(url: &str, timeout_ms: u32, limit: u32) -> Promise;
    /// Resolves to `true`/`false`, or to the reason the host could not tell. `a`, `b`: the
    /// key's numbers (`n`, `e` for RS256; `x`, `y` for ES256).
    #[wasm_bindgen(js_name = jwsVerify)]
    fn jws_verify(alg: &str, a: &str, b: &str, data: &[u8], signature: &[u8]) -> Promise;
}

/// The settled value of `p` (the module's promises never reject).
async fn settle(p: Promise) -> JsValue {
    JsFuture::from(p).await.unwrap_or_default()
}

/// The reason `v` holds (a host call's answer that is not the expected kind).
fn reason(v: JsValue) -> String {
    v.as_string().unwrap_or_else(|| "the host gave no answer".into())
}

/// A yes/no answer, or the reason there is none.
fn answer(v: JsValue) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| reason(v))
}

/// The body of `request` (workerd's `Request`) as UTF-8 text, refusing more than `limit` bytes.
pub(crate) async fn read_body(request: &JsValue, limit: usize) -> Result<String, ReadError> {
    let v = settle(read_body_text(request, limit as f64)).await;
    v.as_string().ok_or_else(|| match v.as_f64() {
        Some(1.0) => ReadError::TooLarge,
        Some(3.0) => ReadError::Failed("the body is not a byte stream".into()),
        Some(4.0) => ReadError::Failed("the body is not UTF-8 text".into()),
        _ => ReadError::Failed("the body could not be read".into()),
    })
}

/// Whether `key` may proceed by the rate-limiting binding `env[name]`.
pub(crate) async fn rate_limit(env: &JsValue, name: &str, key: &str) -> Result<bool, String> {
    answer(settle(rate_limit_of(env, name, key)).await)
}

/// `GET url` with [`jwks::FETCH_TIMEOUT_MS`]; only a 200 from `url` itself (no redirect is
/// followed: before, only the final URL was checked for https, so a hop over plain http could be
/// tampered with), its body read no further than [`jwks::MAX_SET_BYTES`].
pub(crate) async fn fetch_jwks(url: &str) -> Result<Fetched, String> {
    let v = settle(jwks_get(url, jwks::FETCH_TIMEOUT_MS, jwks::MAX_SET_BYTES as u32)).await;
    if !Array::is_array(&v) {
        return Err(reason(v));
    }
    let a: Array = v.unchecked_into();
    Ok(Fetched { body: a.get(1).as_string().unwrap_or_default(), cache_control: a.get(0).as_string() })
}

/// Whether `signature` is `alg`'s signature of `data` by `key`.
pub(crate) async fn verify(alg: Alg, key: &Jwk, data: &[u8], signature: &[u8]) -> Result<bool, String> {
    let (a, b) = match &key.key {
        KeyMaterial::Rsa { n, e } => (n, e),
        KeyMaterial::P256 { x, y } => (x, y),
    };
    answer(settle(jws_verify(alg.name(), a, b, data, signature)).await)
}
