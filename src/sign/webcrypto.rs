//! The wasm back end of [`super`]'s Ed25519: the host's WebCrypto (`crypto.subtle`, algorithm
//! `Ed25519`: workerd, Chromium, Node 20), through the typed bindings below. What WebCrypto
//! does not check and `verify_strict` does (small-order key or `R`, `S >= L`, a key that is no
//! curve point) is checked first in Rust ([`super::edwards`]), so both back ends accept the same
//! signatures. Every failure of the host (a rejected promise, an unexpected value) is a refusal
//! (`false` / `Err`), never a panic; no message carries key bytes.

#[cfg(feature = "ingest")]
use std::cell::RefCell;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::edwards;

#[wasm_bindgen]
extern "C" {
    /// `crypto.subtle`.
    type Subtle;
    #[wasm_bindgen(thread_local_v2, js_namespace = crypto, js_name = subtle)]
    static SUBTLE: Option<Subtle>;
    #[wasm_bindgen(method, catch, js_name = importKey)]
    fn import_key(
        this: &Subtle,
        format: &str,
        data: &[u8],
        alg: &str,
        extractable: bool,
        usages: &js_sys::Array,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = exportKey)]
    fn export_key(this: &Subtle, format: &str, key: &CryptoKey) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn sign(this: &Subtle, alg: &str, key: &CryptoKey, data: &[u8]) -> Result<Promise, JsValue>;

    /// A `CryptoKey`.
    #[derive(Clone)]
    type CryptoKey;

    /// An exported JWK (only `x` is read).
    type Jwk;
    #[wasm_bindgen(method, getter)]
    fn x(this: &Jwk) -> Option<String>;
}

#[cfg(feature = "ingest")]
const ALG: &str = "Ed25519";
/// PKCS #8 (RFC 8410) of an Ed25519 private key, up to its 32-byte seed.
#[cfg(feature = "ingest")]
const PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

#[wasm_bindgen(module = "/src/sign/webcrypto.js")]
extern "C" {
    /// Imports the public key (cached in the host): 0, 1 (no `crypto.subtle`) or 2 (refused).
    #[wasm_bindgen(js_name = ed25519Load)]
    fn ed25519_load(raw: &[u8]) -> Promise;
    /// Whether `sig` verifies `msg` with the public key `raw`; `false` when the host refuses.
    #[wasm_bindgen(js_name = ed25519Verify)]
    fn ed25519_verify(raw: &[u8], sig: &[u8], msg: &[u8]) -> Promise;
}

/// Awaits a WebCrypto call; `None` for a throw, a rejection or no `crypto.subtle`.
#[cfg(feature = "ingest")]
async fn call(f: impl FnOnce(&Subtle) -> Result<Promise, JsValue>) -> Option<JsValue> {
    let p = SUBTLE.with(|s| s.as_ref().map(f))?.ok()?;
    JsFuture::from(p).await.ok()
}

#[cfg(feature = "ingest")]
async fn import(format: &str, data: &[u8], usage: &str) -> Option<CryptoKey> {
    let usages = js_sys::Array::of1(&JsValue::from_str(usage));
    // Extractable for a private key: its public half is read back as a JWK.
    call(|s| s.import_key(format, data, ALG, format == "pkcs8", &usages)).await.map(JsCast::unchecked_into)
}

/// An imported private key: its seed, the key, its public half.
#[cfg(feature = "ingest")]
type Imported = ([u8; 32], CryptoKey, [u8; 32]);

#[cfg(feature = "ingest")]
thread_local! {
    /// The last imported private key.
    static SECRET: RefCell<Option<Imported>> = const { RefCell::new(None) };
}

/// A public key known to encode a curve point.
#[derive(Clone)]
pub(crate) struct PublicKey([u8; 32]);

impl PublicKey {
    /// `None` when the 32 bytes are not a point of the curve.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Option<PublicKey> {
        edwards::is_point(bytes).then_some(PublicKey(*bytes))
    }

    /// The key imported into WebCrypto (cached by src/sign/webcrypto.js); `Err` (readable) when
    /// this host cannot verify Ed25519 at all, so that is not reported as a forged signature.
    pub(crate) async fn load(&self) -> Result<(), String> {
        match JsFuture::from(ed25519_load(&self.0)).await.ok().and_then(|v| v.as_f64()) {
            Some(0.0) => Ok(()),
            Some(1.0) => {
                Err("this host has no WebCrypto (crypto.subtle; a browser gives it to https and localhost pages only)"
                    .into())
            }
            _ => Err("this host's WebCrypto does not support Ed25519 (crypto.subtle.importKey refused the key)".into()),
        }
    }

    /// Strict verification (as `ed25519-dalek`'s `verify_strict`); `false` when the host refuses.
    pub(crate) async fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> bool {
        let r: &[u8; 32] = sig[..32].try_into().unwrap_or(&[0; 32]);
        if edwards::is_small_order(&self.0) || edwards::is_small_order(r) || !edwards::s_is_canonical(sig) {
            return false;
        }
        let p = ed25519_verify(&self.0, sig, msg);
        JsFuture::from(p).await.ok().and_then(|v| v.as_bool()).unwrap_or(false)
    }
}

/// A private key (from its 32-byte seed), imported into WebCrypto on first use.
#[cfg(feature = "ingest")]
#[derive(Clone)]
pub(crate) struct SecretKey([u8; 32]);

#[cfg(feature = "ingest")]
impl SecretKey {
    pub(crate) fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey(*seed)
    }

    /// The imported key and its public half.
    async fn key(&self) -> Result<(CryptoKey, [u8; 32]), String> {
        if let Some(k) =
            SECRET.with(|c| c.borrow().as_ref().filter(|(s, _, _)| *s == self.0).map(|(_, k, p)| (k.clone(), *p)))
        {
            return Ok(k);
        }
        let fail = || "AUDIT_SIGNING_KEY: WebCrypto refused the Ed25519 key".to_owned();
        let mut pkcs8 = [0u8; 48];
        pkcs8[..16].copy_from_slice(&PKCS8_PREFIX);
        pkcs8[16..].copy_from_slice(&self.0);
        let key = import("pkcs8", &pkcs8, "sign").await.ok_or_else(fail)?;
        let jwk: Jwk = call(|s| s.export_key("jwk", &key)).await.ok_or_else(fail)?.unchecked_into();
        let public = jwk
            .x()
            .and_then(|x| crate::b64::decode_url(&x))
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(fail)?;
        SECRET.with(|c| *c.borrow_mut() = Some((self.0, key.clone(), public)));
        Ok((key, public))
    }

    pub(crate) async fn public(&self) -> Result<[u8; 32], String> {
        Ok(self.key().await?.1)
    }

    pub(crate) async fn sign(&self, msg: &[u8]) -> Result<[u8; 64], String> {
        let (key, _) = self.key().await?;
        let sig = call(|s| s.sign(ALG, &key, msg)).await.map(|b| js_sys::Uint8Array::new(&b).to_vec());
        sig.and_then(|s| <[u8; 64]>::try_from(s).ok())
            .ok_or_else(|| "WebCrypto could not sign with AUDIT_SIGNING_KEY".to_owned())
    }
}
