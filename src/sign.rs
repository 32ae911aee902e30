//! Ed25519 seals over a signed stream's head: what makes the Worker's chain verifiable by anyone
//! holding only its public key.
//!
//! The ingest Worker writes one stream per trail and, in the same transaction as each write,
//! stores two signatures over the stream's new head (`streamId`, `seq`, `hash` of the write's last
//! event, and the signing time):
//!
//! - the **event seal** on the write's last event (`sigKid`, `sig`, `sigAt`), message
//!   `["neo4j-audit/sig/v1", kid, streamId, seq, hash, signedAt]`;
//! - the **head seal** on the trail node (`chainStream`, `chainSeq`, `chainHash`, `chainKid`,
//!   `chainSig`, `chainSignedAt`), message `["neo4j-audit/head/v1", …the same fields]`. A
//!   different message, so an event seal that survives a cut cannot be copied into a rolled-back
//!   head.
//!
//! Messages are the UTF-8 bytes of that compact JSON array (strings escaped as `JSON.stringify`
//! does, integers in decimal). Signatures are Ed25519 (RFC 8032), base64url without padding.
//! Because `hash` chains every earlier event, one valid seal covers the whole stream up to it.
//!
//! Verification ([`KeySet`], feature `read`) is the one implementation used by Rust
//! (`VerifyQuery::public_keys`), JavaScript (`verifyTrail({publicKeys})`) and the Worker's own
//! `GET /v1/verify`. Signing (`SigningKey`) exists only with the `ingest` feature.
//!
//! The Ed25519 arithmetic has two back ends, chosen in one place below (`backend`): natively
//! `ed25519-dalek` (`verify_strict`); in the wasm builds the host's WebCrypto (workerd,
//! browsers, Node 20), which keeps curve25519-dalek and SHA-512 out of the .wasm. WebCrypto is
//! asynchronous, so the functions every build uses are too ([`KeySet::verify`],
//! `SigningKey::sign`, `SigningKey::public_key`); the synchronous ones ([`KeySet::check`],
//! `SigningKey::seal`, `SigningKey::public_jwk`) exist in native builds only. Both back ends
//! accept exactly the strict signatures (no small-order key or `R`, `S < L`).
//!
//! ```
//! # #[cfg(feature = "ingest")] {
//! use neo4j_audit::sign::{KeySet, Purpose, SigningKey};
//! let key = SigningKey::from_secret("k1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
//! let seal = key.seal(Purpose::Event, "stream-1", 41, &"a".repeat(64), 1_800_000_000_000);
//! let keys = KeySet::from_jwks(&[key.public_jwk()]).unwrap();
//! assert!(keys.check(Purpose::Event, &seal, "stream-1", 41, &"a".repeat(64)).is_ok());
//! assert!(keys.check(Purpose::Event, &seal, "stream-1", 42, &"a".repeat(64)).is_err());
//! assert!(keys.check(Purpose::Head, &seal, "stream-1", 41, &"a".repeat(64)).is_err());
//! # }
//! ```

use crate::error::{cat, quoted};
use serde::{Deserialize, Serialize};

// The Ed25519 back end: the only place that chooses it. Both modules have the same names
// (`PublicKey::{from_bytes, verify}`, `SecretKey::{from_seed, public, sign}`).
#[cfg(not(target_arch = "wasm32"))]
#[path = "sign/dalek.rs"]
mod backend;
#[cfg(target_arch = "wasm32")]
#[path = "sign/webcrypto.rs"]
mod backend;
// Encoding checks WebCrypto leaves out (used by the wasm back end; tested natively against dalek).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
#[path = "sign/edwards.rs"]
mod edwards;

/// First element of an event seal's message.
pub const EVENT_SEAL_VERSION: &str = "neo4j-audit/sig/v1";
/// First element of a head seal's message.
pub const HEAD_SEAL_VERSION: &str = "neo4j-audit/head/v1";

/// What a seal vouches for: the last event of a write, or the trail's stored head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Stored on the last event of each write.
    Event,
    /// Stored on the trail node.
    Head,
}

/// A stored signature (key id, base64url signature, signing time in epoch ms).
pub use crate::chain::StoredSeal as Seal;

/// The bytes a seal signs.
pub fn message(purpose: Purpose, kid: &str, stream_id: &str, seq: u64, hash: &str, signed_at: i64) -> Vec<u8> {
    let v = match purpose {
        Purpose::Event => EVENT_SEAL_VERSION,
        Purpose::Head => HEAD_SEAL_VERSION,
    };
    // Written directly (no `serde_json` in the browser's read entry): the bytes `serde_json`
    // gives for the array (tested below).
    use crate::json::{write_int, write_str, write_uint};
    let mut out = String::with_capacity(v.len() + kid.len() + stream_id.len() + hash.len() + 56);
    out.push('[');
    for s in [v, kid, stream_id] {
        write_str(&mut out, s);
        out.push(',');
    }
    write_uint(&mut out, seq);
    out.push(',');
    write_str(&mut out, hash);
    out.push(',');
    write_int(&mut out, signed_at);
    out.push(']');
    out.into_bytes()
}

/// A public key as a JWK (RFC 8037: `kty` `OKP`, `crv` `Ed25519`, `x` the 32 key bytes in
/// base64url), as `GET /v1/keys` publishes it. Unknown members are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// Key id, matched against a seal's `kid`.
    pub kid: String,
    /// `"OKP"`.
    #[serde(default = "okp")]
    pub kty: String,
    /// `"Ed25519"`.
    #[serde(default = "ed25519")]
    pub crv: String,
    /// The public key, base64url (no padding) of its 32 bytes.
    pub x: String,
    /// `"EdDSA"`.
    #[serde(default = "eddsa")]
    pub alg: String,
    /// `"sig"`.
    #[serde(default = "sig", rename = "use")]
    pub use_: String,
}

pub(crate) fn okp() -> String {
    "OKP".into()
}
pub(crate) fn ed25519() -> String {
    "Ed25519".into()
}
pub(crate) fn eddsa() -> String {
    "EdDSA".into()
}
pub(crate) fn sig() -> String {
    "sig".into()
}

impl PublicJwk {
    /// A JWK for the 32 bytes of an Ed25519 public key.
    pub fn new(kid: &str, key: &[u8; 32]) -> PublicJwk {
        PublicJwk {
            kid: kid.into(),
            kty: okp(),
            crv: ed25519(),
            x: crate::b64::encode_url(key),
            alg: eddsa(),
            use_: sig(),
        }
    }

    /// Appends this key as a JWK: the members its `Serialize` gives, written directly (the
    /// Worker's `GET /v1/keys`).
    #[cfg_attr(not(feature = "ingest"), allow(dead_code))]
    pub(crate) fn write_json(&self, out: &mut String) {
        use crate::json::write_str;
        for (i, (k, v)) in [
            ("kid", &self.kid),
            ("kty", &self.kty),
            ("crv", &self.crv),
            ("x", &self.x),
            ("alg", &self.alg),
            ("use", &self.use_),
        ]
        .into_iter()
        .enumerate()
        {
            out.push(if i == 0 { '{' } else { ',' });
            write_str(out, k);
            out.push(':');
            write_str(out, v);
        }
        out.push('}');
    }

    /// Parses `kid:x` (the `AUDIT_PUBLIC_KEYS` list form): the key id is what comes before the
    /// last `:` (an id may hold `:`, base64url never does), by the signing key id's rule
    /// (1–64 characters of `A-Z a-z 0-9 _ . : -`); `x` the 32 key bytes in base64url. The reason
    /// of an `Err` never quotes the key, nor an entry that is not `kid:x` at all (it may be a
    /// secret pasted into the wrong setting); it names a well-formed key id.
    pub fn parse_pair(pair: &str) -> Result<PublicJwk, String> {
        let (kid, x) = pair.trim().rsplit_once(':').ok_or_else(|| "an entry is not kid:key".to_owned())?;
        let kid = kid.trim();
        if !is_key_id(kid) {
            return Err("a key id is not 1-64 characters of A-Z a-z 0-9 _ . : -".into());
        }
        let jwk = PublicJwk { x: x.trim().into(), ..PublicJwk::new(kid, &[0; 32]) };
        KeySet::from_jwks(std::slice::from_ref(&jwk))?;
        Ok(jwk)
    }
}

/// A key id's rule, for `AUDIT_SIGNING_KEY_ID` and the ids of `AUDIT_PUBLIC_KEYS` alike (the
/// rule table's name rule, [`crate::rules::check_name`]).
fn is_key_id(kid: &str) -> bool {
    crate::rules::check_name("key id", kid).is_ok()
}

/// Why a seal was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    /// No listed public key has this id (e.g. signed with a key the verifier does not trust).
    UnknownKey(String),
    /// The signature does not verify with the key of that id (forged, or the message was changed).
    BadSignature(String),
}

impl SealError {
    /// The reason as text ([`Display`](std::fmt::Display) says the same; this one without
    /// core::fmt, for the .wasm).
    pub fn message(&self) -> String {
        match self {
            SealError::UnknownKey(k) => {
                cat(&["signed with key ", &quoted(k), ", which is not among the trusted public keys"])
            }
            SealError::BadSignature(k) => cat(&["the signature does not verify with key ", &quoted(k)]),
        }
    }
}

impl std::fmt::Display for SealError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// The public keys a verifier trusts (the current one and retired ones, by `kid`).
#[derive(Clone)]
pub struct KeySet {
    keys: Vec<(String, backend::PublicKey)>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys.iter().map(|(k, _)| k)).finish()
    }
}

impl KeySet {
    /// From JWKs; refuses a key that is not an Ed25519 public key, or one whose `use` is not
    /// `sig` or whose `alg` is not `EdDSA` / `Ed25519` (a key declared for encryption or for
    /// another algorithm), with a readable reason.
    #[inline(never)]
    pub fn from_jwks(jwks: &[PublicJwk]) -> Result<KeySet, String> {
        let mut keys = Vec::with_capacity(jwks.len());
        for j in jwks {
            // Why the key is refused, if it is (one message built for every reason).
            let why = if j.kty != "OKP" || j.crv != "Ed25519" {
                Err(": only OKP / Ed25519 keys are supported")
            } else {
                match crate::b64::decode_url(j.x.trim_end_matches('=')).and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                    None => Err(": x must be base64url of 32 bytes"),
                    Some(bytes) => backend::PublicKey::from_bytes(&bytes).ok_or(": not a valid Ed25519 public key"),
                }
            };
            let vk = why.map_err(|why| cat(&["key ", &quoted(&j.kid), why]))?;
            // A key declared for another use (RFC 7517 §4.2: `enc`) or algorithm (§4.4; an
            // Ed25519 key's is `EdDSA`, RFC 8037 §3.1, or `Ed25519`, RFC 9864; both members
            // case-sensitive) is not one to check seals with: refused by name, not taken. (Absent
            // members are `sig` / `EdDSA`. The Worker's own keys, `AUDIT_PUBLIC_KEYS`, are
            // `kid:x` pairs with neither: the check is not in its build.)
            #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
            if j.use_ != "sig" {
                let why =
                    [": its \"use\" is ", &quoted(&j.use_), ", not \"sig\": it is not a key that verifies signatures"];
                return Err(cat(&[&cat(&["key ", &quoted(&j.kid)]), &cat(&why)]));
            } else if !matches!(j.alg.as_str(), "EdDSA" | "Ed25519") {
                let why = [
                    ": its \"alg\" is ",
                    &quoted(&j.alg),
                    ", not EdDSA (or Ed25519): it is not a key for Ed25519 signatures",
                ];
                return Err(cat(&[&cat(&["key ", &quoted(&j.kid)]), &cat(&why)]));
            }
            keys.push((j.kid.clone(), vk));
        }
        Ok(KeySet { keys })
    }

    /// `Err` (readable) when this host cannot verify Ed25519 at all (a wasm build on a host
    /// whose WebCrypto lacks it, or a browser page that is not a secure context): checked before
    /// verifying, so that is an error rather than every seal reported forged.
    pub async fn ready(&self) -> Result<(), String> {
        for (_, k) in &self.keys {
            k.load().await?;
        }
        Ok(())
    }

    /// Whether no key is listed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key, signature and message of a check.
    fn prepare(
        &self,
        purpose: Purpose,
        seal: &Seal,
        stream_id: &str,
        seq: u64,
        hash: &str,
    ) -> Result<(&backend::PublicKey, [u8; 64], Vec<u8>), SealError> {
        let (vk, sig) = self.key_and_sig(seal)?;
        Ok((vk, sig, message(purpose, &seal.kid, stream_id, seq, hash, seal.signed_at)))
    }

    /// The listed key `seal.kid` names and the seal's signature bytes.
    #[inline(never)]
    fn key_and_sig(&self, seal: &Seal) -> Result<(&backend::PublicKey, [u8; 64]), SealError> {
        let (_, vk) =
            self.keys.iter().find(|(k, _)| *k == seal.kid).ok_or_else(|| SealError::UnknownKey(seal.kid.clone()))?;
        let sig = crate::b64::decode_url(&seal.sig)
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .ok_or_else(|| SealError::BadSignature(seal.kid.clone()))?;
        Ok((vk, sig))
    }

    /// Checks `seal` over (`stream_id`, `seq`, `hash`) for `purpose` (every build).
    pub async fn verify(
        &self,
        purpose: Purpose,
        seal: &Seal,
        stream_id: &str,
        seq: u64,
        hash: &str,
    ) -> Result<(), SealError> {
        let (vk, sig, msg) = self.prepare(purpose, seal, stream_id, seq, hash)?;
        if vk.verify(&msg, &sig).await {
            Ok(())
        } else {
            Err(SealError::BadSignature(seal.kid.clone()))
        }
    }

    /// [`KeySet::verify`], synchronously (native builds only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn check(&self, purpose: Purpose, seal: &Seal, stream_id: &str, seq: u64, hash: &str) -> Result<(), SealError> {
        let (vk, sig, msg) = self.prepare(purpose, seal, stream_id, seq, hash)?;
        if vk.verify_now(&msg, &sig) {
            Ok(())
        } else {
            Err(SealError::BadSignature(seal.kid.clone()))
        }
    }
}

/// What [`Checked`] remembers of one check: which message, which signature.
type CheckKey = (Vec<u8>, String);

/// Seals checked ahead (asynchronously, with [`Checked::check_all`]) for a
/// [`crate::chain::Verifier`], which asks synchronously ([`crate::chain::SealCheck`]): how the
/// read side verifies with either back end. A seal it was not given is refused.
#[derive(Debug)]
pub struct Checked {
    keys: KeySet,
    done: std::sync::Mutex<Vec<(CheckKey, Result<(), String>)>>,
}

fn check_key(head: bool, seal: &Seal, stream_id: &str, seq: u64, hash: &str) -> CheckKey {
    let purpose = if head { Purpose::Head } else { Purpose::Event };
    (message(purpose, &seal.kid, stream_id, seq, hash, seal.signed_at), seal.sig.clone())
}

impl Checked {
    /// Nothing checked yet.
    pub fn new(keys: KeySet) -> Checked {
        Checked { keys, done: std::sync::Mutex::new(Vec::new()) }
    }

    /// Checks every (`head`, seal, `stream_id`, `seq`, `hash`) of `items` and remembers exactly
    /// these results, forgetting earlier ones (so memory stays one page's).
    pub async fn check_all(&self, items: Vec<(bool, &Seal, &str, u64, &str)>) {
        let mut done = Vec::with_capacity(items.len());
        for (head, seal, sid, seq, hash) in items {
            // The message is built once: it is both what is verified and what the result is kept by.
            let key = check_key(head, seal, sid, seq, hash);
            let r = match self.keys.key_and_sig(seal) {
                Ok((vk, sig)) if vk.verify(&key.0, &sig).await => Ok(()),
                Ok(_) => Err(SealError::BadSignature(seal.kid.clone())),
                Err(e) => Err(e),
            };
            done.push((key, r.map_err(|e| e.message())));
        }
        *self.done.lock().unwrap_or_else(|p| p.into_inner()) = done;
    }
}

impl crate::chain::SealCheck for Checked {
    fn check_seal(&self, head: bool, seal: &Seal, stream_id: &str, seq: u64, hash: &str) -> Result<(), String> {
        let key = check_key(head, seal, stream_id, seq, hash);
        let done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        match done.iter().find(|(k, _)| *k == key) {
            Some((_, r)) => r.clone(),
            None => Err(cat(&["the signature with key ", &quoted(&seal.kid), " was not checked"])),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl crate::chain::SealCheck for KeySet {
    fn check_seal(
        &self,
        head: bool,
        seal: &crate::chain::StoredSeal,
        stream_id: &str,
        seq: u64,
        hash: &str,
    ) -> Result<(), String> {
        let purpose = if head { Purpose::Head } else { Purpose::Event };
        self.check(purpose, seal, stream_id, seq, hash).map_err(|e| e.message())
    }
}

/// The Worker's signing key (`AUDIT_SIGNING_KEY`, id `AUDIT_SIGNING_KEY_ID`). Its `Debug` never
/// shows the key.
#[cfg(feature = "ingest")]
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    key: backend::SecretKey,
}

#[cfg(feature = "ingest")]
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

#[cfg(feature = "ingest")]
impl SigningKey {
    /// From the 32-byte Ed25519 seed (RFC 8032 private key) as base64url or base64 (padding
    /// optional) or 64 hex digits. `kid`: 1–64 characters of `A-Z a-z 0-9 _ . : -`. Errors never
    /// quote the secret.
    pub fn from_secret(kid: &str, secret: &str) -> Result<SigningKey, String> {
        if !is_key_id(kid) {
            return Err("AUDIT_SIGNING_KEY_ID must be 1-64 characters of A-Z a-z 0-9 _ . : -".into());
        }
        let s = secret.trim();
        let bytes = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut bytes = Vec::with_capacity(32);
            for i in 0..32 {
                bytes.push(u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0));
            }
            bytes
        } else {
            let mut norm = String::with_capacity(s.len());
            for c in s.trim_end_matches('=').chars() {
                norm.push(match c {
                    '+' => '-',
                    '/' => '_',
                    c => c,
                });
            }
            crate::b64::decode_url(&norm).unwrap_or_default()
        };
        let seed = <[u8; 32]>::try_from(bytes)
            .map_err(|_| "AUDIT_SIGNING_KEY must be the 32-byte Ed25519 seed, base64url or hex".to_owned())?;
        Ok(SigningKey { kid: kid.into(), key: backend::SecretKey::from_seed(&seed) })
    }

    /// [`SigningKey::from_secret`], remembered for the process: the Worker reads its settings
    /// on every request, and deriving the key (a scalar multiplication) each time would cost as
    /// much as a signature.
    pub fn from_secret_cached(kid: &str, secret: &str) -> Result<SigningKey, String> {
        type Cached = Option<(String, String, SigningKey)>;
        static LAST: std::sync::Mutex<Cached> = std::sync::Mutex::new(None);
        let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((k, s, key)) = last.as_ref() {
            if k == kid && s == secret {
                return Ok(key.clone());
            }
        }
        let key = SigningKey::from_secret(kid, secret)?;
        *last = Some((kid.to_owned(), secret.to_owned(), key.clone()));
        Ok(key)
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, as a JWK (native builds only; see [`SigningKey::public_key`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn public_jwk(&self) -> PublicJwk {
        PublicJwk::new(&self.kid, &self.key.public_now())
    }

    /// The public half, as a JWK (every build; `Err` when the host's WebCrypto refuses the key).
    pub async fn public_key(&self) -> Result<PublicJwk, String> {
        Ok(PublicJwk::new(&self.kid, &self.key.public().await?))
    }

    /// Signs (`stream_id`, `seq`, `hash`, `signed_at`) for `purpose` (native builds only; see
    /// [`SigningKey::sign`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn seal(&self, purpose: Purpose, stream_id: &str, seq: u64, hash: &str, signed_at: i64) -> Seal {
        let msg = message(purpose, &self.kid, stream_id, seq, hash, signed_at);
        Seal { kid: self.kid.clone(), sig: crate::b64::encode_url(&self.key.sign_now(&msg)), signed_at }
    }

    /// [`SigningKey::seal`] in every build (`Err` when the host's WebCrypto refuses; the message
    /// never quotes the key).
    pub async fn sign(
        &self,
        purpose: Purpose,
        stream_id: &str,
        seq: u64,
        hash: &str,
        signed_at: i64,
    ) -> Result<Seal, String> {
        let msg = message(purpose, &self.kid, stream_id, seq, hash, signed_at);
        let sig = self.key.sign(&msg).await?;
        Ok(Seal { kid: self.kid.clone(), sig: crate::b64::encode_url(&sig), signed_at })
    }
}

// Sign and verify synchronously (ed25519-dalek): native builds only.
#[cfg(all(test, feature = "ingest", not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn jwk_json_is_serdes() {
        let mut j = SigningKey::from_secret("k-1", &"7".repeat(64)).unwrap().public_jwk();
        let mut ours = String::new();
        j.write_json(&mut ours);
        assert_eq!(ours, serde_json::to_string(&j).unwrap());
        j.kid = "\"\u{1}é".into();
        ours.clear();
        j.write_json(&mut ours);
        assert_eq!(ours, serde_json::to_string(&j).unwrap());
    }

    #[test]
    fn message_is_the_compact_json_array() {
        for (purpose, v) in [(Purpose::Event, EVENT_SEAL_VERSION), (Purpose::Head, HEAD_SEAL_VERSION)] {
            for (kid, sid, seq, hash, at) in [
                ("k1", "s-1", 0u64, "ab", 0i64),
                ("k\"\\\n\u{1}é", "😀", u64::MAX, "", -5),
                ("", "", 41, "a", i64::MIN),
            ] {
                let want = serde_json::to_vec(&serde_json::json!([v, kid, sid, seq, hash, at])).unwrap();
                assert_eq!(message(purpose, kid, sid, seq, hash, at), want);
            }
        }
    }

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1 TEST 1: secret 9d61…7f60, public d75a…511a, empty message.
        let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let k = SigningKey::from_secret("t", seed).unwrap();
        let pk = crate::b64::decode_url(&k.public_jwk().x).unwrap();
        let hex: String = pk.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        assert!(format!("{k:?}").contains("\"t\"") && !format!("{k:?}").contains("9d61"));
    }

    #[test]
    fn seals_verify_only_for_their_fields_key_and_purpose() {
        let k = SigningKey::from_secret("k1", &"11".repeat(32)).unwrap();
        let other = SigningKey::from_secret("k1", &"22".repeat(32)).unwrap();
        let h = "ab".repeat(32);
        let keys = KeySet::from_jwks(&[k.public_jwk()]).unwrap();
        let s = k.seal(Purpose::Event, "s", 3, &h, 5);
        assert_eq!(keys.check(Purpose::Event, &s, "s", 3, &h), Ok(()));
        assert!(matches!(keys.check(Purpose::Event, &s, "t", 3, &h), Err(SealError::BadSignature(_))));
        assert!(matches!(
            keys.check(Purpose::Event, &Seal { signed_at: 6, ..s.clone() }, "s", 3, &h),
            Err(SealError::BadSignature(_))
        ));
        let forged = other.seal(Purpose::Event, "s", 3, &h, 5);
        assert!(matches!(keys.check(Purpose::Event, &forged, "s", 3, &h), Err(SealError::BadSignature(_))));
        let unknown = Seal { kid: "k2".into(), ..s.clone() };
        assert!(matches!(keys.check(Purpose::Event, &unknown, "s", 3, &h), Err(SealError::UnknownKey(_))));
        assert!(keys.check(Purpose::Head, &s, "s", 3, &h).is_err());
        assert!(SigningKey::from_secret("bad id!", &"11".repeat(32)).is_err());
        let e = SigningKey::from_secret("k", "c2VjcmV0").unwrap_err();
        assert!(!e.contains("c2VjcmV0"));
        assert_eq!(PublicJwk::parse_pair(&format!("old:{}", k.public_jwk().x)).unwrap().kid, "old");
        assert!(PublicJwk::parse_pair("old:AAAA").is_err());
    }

    /// `AUDIT_PUBLIC_KEYS` entries: an id with `:` (allowed for AUDIT_SIGNING_KEY_ID) is split
    /// at the last `:` (before: at the first, so such a key could never be listed); the reasons
    /// name what is wrong and never the key or an entry that is not `kid:x` (a secret pasted
    /// into the wrong setting is not logged).
    #[test]
    fn public_key_pairs_take_the_signing_key_id_rule_and_never_quote_the_key() {
        let x = SigningKey::from_secret("a", &"11".repeat(32)).unwrap().public_jwk().x;
        let j = PublicJwk::parse_pair(&format!(" 2026:q1 : {x} ")).unwrap();
        assert_eq!((j.kid.as_str(), j.x.as_str()), ("2026:q1", x.as_str()));
        let seed = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        for (pair, why) in [
            (seed.to_owned(), "an entry is not kid:key"),
            (format!("bad id!:{x}"), "a key id is not 1-64 characters of A-Z a-z 0-9 _ . : -"),
            (format!(":{x}"), "a key id is not 1-64 characters"),
            (format!("{}:{x}", "k".repeat(65)), "a key id is not 1-64 characters"),
            ("old:AAAA".to_owned(), "key \"old\": x must be base64url of 32 bytes"),
            (format!("old:{x}!"), "key \"old\": x must be base64url of 32 bytes"),
            (format!("old:{}", "_".repeat(43)), "key \"old\": "),
        ] {
            let e = PublicJwk::parse_pair(&pair).unwrap_err();
            assert!(e.starts_with(why), "{pair}: {e}");
            assert!(!e.contains(&x) && !e.contains(seed) && !e.contains("AAAA"), "{e}");
        }
    }
}
