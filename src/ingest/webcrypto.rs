//! The Worker's RS256 / ES256 signature check: the host's WebCrypto (`crypto.subtle`), through
//! the typed bindings below. The key is imported from its public JWK members
//! ([`super::jwks::Jwk::import_json`]) as RSASSA-PKCS1-v1_5 SHA-256 or ECDSA P-256, for
//! `verify` only; a JWS ES256 signature is `r || s`, the form WebCrypto's ECDSA takes. Any
//! failure of the host is an `Err` (a reason without key material), never a panic.

use js_sys::{Array, Object, Promise, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::jwks::Jwk;
use super::jwt::Alg;

#[wasm_bindgen]
extern "C" {
    /// `crypto.subtle`.
    type Subtle;
    #[wasm_bindgen(thread_local_v2, js_namespace = crypto, js_name = subtle)]
    static SUBTLE: Option<Subtle>;
    #[wasm_bindgen(method, catch, js_name = importKey)]
    fn import_jwk(
        this: &Subtle,
        format: &str,
        jwk: &Object,
        alg: &Object,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn verify(this: &Subtle, alg: &Object, key: &JsValue, signature: &[u8], data: &[u8]) -> Result<Promise, JsValue>;
}

/// A JSON object text as a JS object.
fn object(text: &str) -> Result<Object, String> {
    JSON::parse(text).map(JsCast::unchecked_into).map_err(|_| "a key or algorithm is not JSON".to_owned())
}

/// Awaits a `crypto.subtle` call; `Err(why)` for no WebCrypto, a throw or a rejection.
async fn call(why: &str, f: impl FnOnce(&Subtle) -> Result<Promise, JsValue>) -> Result<JsValue, String> {
    let p = SUBTLE.with(|s| s.as_ref().map(f)).ok_or("the host has no crypto.subtle")?.map_err(|_| why.to_owned())?;
    JsFuture::from(p).await.map_err(|_| why.to_owned())
}

/// Whether `signature` is `alg`'s signature of `data` by `key`.
pub(crate) async fn verify(alg: Alg, key: &Jwk, data: &[u8], signature: &[u8]) -> Result<bool, String> {
    let (import_alg, verify_alg) = match alg {
        Alg::Rs256 => (r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-256"}"#, r#"{"name":"RSASSA-PKCS1-v1_5"}"#),
        Alg::Es256 => (r#"{"name":"ECDSA","namedCurve":"P-256"}"#, r#"{"name":"ECDSA","hash":"SHA-256"}"#),
        Alg::Hs256 => return Err("HS256 is not checked with a public key".into()),
    };
    let (jwk, import_alg, verify_alg) = (object(&key.import_json())?, object(import_alg)?, object(verify_alg)?);
    let usages = Array::of1(&JsValue::from_str("verify"));
    let refused = "WebCrypto refused the identity provider's key";
    let k = call(refused, |s| s.import_jwk("jwk", &jwk, &import_alg, false, &usages)).await?;
    let ok = call("WebCrypto could not check the signature", |s| s.verify(&verify_alg, &k, signature, data)).await?;
    Ok(ok.as_bool() == Some(true))
}
