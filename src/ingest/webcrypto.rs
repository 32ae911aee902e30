//! The Worker's RS256 / ES256 signature check: the host's WebCrypto (`crypto.subtle`), in one
//! promise of src/ingest/webcrypto.js. The key is imported from its public JWK members
//! ([`super::jwks::Jwk::import_json`]) as RSASSA-PKCS1-v1_5 SHA-256 or ECDSA P-256, for
//! `verify` only; a JWS ES256 signature is `r || s`, the form WebCrypto's ECDSA takes. Any
//! failure of the host is an `Err` (a reason without key material), never a panic.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::jwks::Jwk;
use super::jwt::Alg;

#[wasm_bindgen(module = "/src/ingest/webcrypto.js")]
extern "C" {
    /// Resolves to `true`/`false`, or to the reason the host could not tell.
    #[wasm_bindgen(js_name = jwsVerify)]
    fn jws_verify(alg: &str, jwk: &str, data: &[u8], signature: &[u8]) -> Promise;
}

/// Whether `signature` is `alg`'s signature of `data` by `key`.
pub(crate) async fn verify(alg: Alg, key: &Jwk, data: &[u8], signature: &[u8]) -> Result<bool, String> {
    let v = JsFuture::from(jws_verify(alg.name(), &key.import_json(), data, signature))
        .await
        .unwrap_or_default();
    v.as_bool().ok_or_else(|| v.as_string().unwrap_or_else(|| "WebCrypto gave no answer".into()))
}
