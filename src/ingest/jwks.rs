//! RS256 / ES256 tokens verified against an identity provider's public keys (a JWK Set): the
//! static `JWT_PUBLIC_KEYS` and/or the set fetched from `JWT_JWKS_URL`, cached per isolate.
//!
//! The key decides the algorithm: a token's `alg` must be in `JWT_ALGORITHMS` and agree with the
//! key its `kid` names ([`Jwk::agrees`]: `RS256` only with an `RSA` key of at least 2048 bits,
//! `ES256` only with an `EC` key on `P-256`; the JWK's `alg`, `use` and `key_ops`, when present,
//! must say the same). Public keys are never HMAC secrets: `HS256` only ever uses
//! `AUDIT_JWT_SECRET`. With more than one key in the set a token must name its key (`kid`).
//!
//! The signature itself is the host's: [`super::Io::verify_signature`] (the Worker: WebCrypto,
//! RSASSA-PKCS1-v1_5 / ECDSA P-256 with SHA-256). Native builds have no such verifier, so there an
//! RS256/ES256 token is refused (401) with a reason saying so.
//!
//! The fetched set ([`keys_for`]): kept [`DEFAULT_TTL_SECS`] or the answer's `Cache-Control:
//! max-age`, bounded to [`MIN_TTL_SECS`]..=[`MAX_TTL_SECS`]; a token naming a `kid` the set does
//! not hold makes one refetch, at most once per [`REFETCH_MIN_SECS`] per isolate (a flood of
//! forged `kid`s costs the provider one request per isolate and interval, once the isolate holds a
//! fresh set: without one, each request arriving while a fetch is in flight fetches too, since
//! workerd ties I/O to the request that made it); a failed fetch is
//! never an acceptance: the caller answers 503 with `Retry-After`, and no new fetch is tried for
//! [`FAILURE_RETRY_SECS`].

use std::cell::RefCell;
use std::rc::Rc;

use super::jwt::{Alg, Identity, JwtError, JwtRules};
use super::Io;
use crate::error::cat;
use crate::json::Json;

/// Cache lifetime of a fetched set whose answer has no `max-age`, in seconds.
pub const DEFAULT_TTL_SECS: i64 = 600;
/// Shortest cache lifetime (a `max-age` below it, `no-cache` or `no-store` count as this).
pub const MIN_TTL_SECS: i64 = 60;
/// Longest cache lifetime (a longer `max-age` would keep a revoked key trusted).
pub const MAX_TTL_SECS: i64 = 3600;
/// At most one refetch for an unknown `kid` per this many seconds, per isolate.
pub const REFETCH_MIN_SECS: i64 = 30;
/// After a failed fetch, no new one for this many seconds (answered 503 meanwhile).
pub const FAILURE_RETRY_SECS: i64 = 10;
/// Bound on one fetch of the key set, in milliseconds.
pub const FETCH_TIMEOUT_MS: u32 = 5000;
/// Largest JWK Set accepted, in bytes.
pub const MAX_SET_BYTES: usize = 64 * 1024;
/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_BYTES: usize = 256;

/// One public key of a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    /// `kid`, when the set names it.
    pub kid: Option<String>,
    /// The key material (base64url, as published).
    pub key: KeyMaterial,
    /// `alg`, when present.
    pub alg: Option<String>,
    /// `use`, when present: whether it is `sig`.
    pub use_: Option<bool>,
    /// `key_ops`, when present (an array): whether it lists `verify`.
    pub key_ops: Option<bool>,
}

/// The public numbers of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// `kty: RSA`.
    Rsa {
        /// The modulus.
        n: String,
        /// The public exponent.
        e: String,
    },
    /// `kty: EC`, `crv: P-256`.
    P256 {
        /// The point's x.
        x: String,
        /// The point's y.
        y: String,
    },
}

impl Jwk {
    /// Whether this key may verify a token signed with `alg`.
    pub fn agrees(&self, alg: Alg) -> bool {
        let kind =
            matches!((&self.key, alg), (KeyMaterial::Rsa { .. }, Alg::Rs256) | (KeyMaterial::P256 { .. }, Alg::Es256));
        kind && self.alg.as_deref().is_none_or(|a| a == alg.name())
            && self.use_ != Some(false)
            && self.key_ops != Some(false)
    }
}

/// The keys of a JWK Set text (`{"keys": [...]}`) that could verify RS256 or ES256; keys of other
/// types (`oct`, `OKP`, other curves) are left out. Refused: not a set, a key with private members
/// (`d`, `p`, ...: a secret published by mistake), a usable key type whose numbers are not
/// base64url of the right size, an RSA key under 2048 bits.
pub fn parse_set(text: &str) -> Result<Vec<Jwk>, String> {
    if text.len() > MAX_SET_BYTES {
        return Err("the JWK Set is larger than 64 KiB".into());
    }
    let set = crate::json::parse(text, 16).map_err(|_| "the JWK Set is not JSON".to_owned())?;
    let keys = set.get("keys").and_then(Json::as_array).ok_or("the JWK Set has no \"keys\" array")?;
    let mut out = Vec::new();
    for k in keys {
        let s = |m: &str| k.get(m).and_then(Json::as_str);
        if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|m| k.get(m).is_some()) {
            return Err("the JWK Set holds a private or secret key; publish public keys only".into());
        }
        let b64 = |m: &str, len: Option<usize>| -> Result<String, String> {
            let v = s(m).ok_or_else(|| cat(&["a key of the JWK Set has no \"", m, "\""]))?;
            let bytes = crate::b64::decode_url(v).ok_or_else(|| cat(&["a key's \"", m, "\" is not base64url"]))?;
            if len.is_some_and(|l| bytes.len() != l) {
                return Err(cat(&["a P-256 key's \"", m, "\" is not 32 bytes"]));
            }
            Ok(v.to_owned())
        };
        let key = match (s("kty"), s("crv")) {
            (Some("RSA"), _) => {
                let n = b64("n", None)?;
                let len = crate::b64::decode_url(&n).map_or(0, |b| b.iter().skip_while(|&&x| x == 0).count());
                if len < MIN_RSA_BYTES {
                    return Err("an RSA key of the JWK Set is shorter than 2048 bits".into());
                }
                KeyMaterial::Rsa { n, e: b64("e", None)? }
            }
            (Some("EC"), Some("P-256")) => KeyMaterial::P256 { x: b64("x", Some(32))?, y: b64("y", Some(32))? },
            _ => continue,
        };
        out.push(Jwk {
            kid: s("kid").map(str::to_owned),
            key,
            alg: s("alg").map(str::to_owned),
            use_: s("use").map(|u| u == "sig"),
            key_ops: k.get("key_ops").and_then(Json::as_array).map(|a| a.iter().any(|o| o.as_str() == Some("verify"))),
        });
    }
    Ok(out)
}

/// The key of `set` that verifies a token signed with `alg` naming `kid`.
pub fn select<'a>(mut set: impl Iterator<Item = &'a Jwk>, kid: Option<&str>, alg: Alg) -> Result<&'a Jwk, JwtError> {
    let key = match kid {
        Some(kid) => {
            let mut named = set.filter(|k| k.kid.as_deref() == Some(kid)).peekable();
            named.peek().ok_or(JwtError::NoKey(NoKey::UnknownKid))?;
            return named.find(|k| k.agrees(alg)).ok_or(JwtError::NoKey(NoKey::WrongKind));
        }
        None => {
            let first = set.next().ok_or(JwtError::NoKey(NoKey::UnknownKid))?;
            if set.next().is_some() {
                return Err(JwtError::NoKey(NoKey::KidRequired));
            }
            first
        }
    };
    if key.agrees(alg) {
        Ok(key)
    } else {
        Err(JwtError::NoKey(NoKey::WrongKind))
    }
}

/// Whether `url` is an absolute `https://` URL with a host (the key set is fetched only over TLS).
pub fn is_https(url: &str) -> bool {
    let rest = match url.get(..8) {
        Some(p) if p.eq_ignore_ascii_case("https://") => &url[8..],
        _ => return false,
    };
    !rest.is_empty() && !rest.starts_with(['/', '?', '#']) && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Why a token was not accepted: its own fault (401) or the key set's (503, never an acceptance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The token is refused.
    Token(JwtError),
    /// The key set could not be fetched (the text is for the log).
    Unavailable(String),
}

/// Verifies `token` at `now` (Unix seconds) with every algorithm `rules` accept: HS256 with the
/// secret, RS256 / ES256 with the key its `kid` names ([`select`]) through the host's verifier;
/// then the claims, as for every token.
pub async fn verify<I: Io>(token: &str, rules: &JwtRules, now: i64, io: &I) -> Result<Identity, Refusal> {
    let t = super::jwt::parse(token, rules).map_err(Refusal::Token)?;
    if t.alg == Alg::Hs256 {
        if !t.hmac_matches(rules) {
            return Err(Refusal::Token(JwtError::BadSignature));
        }
    } else {
        let kid = t.kid.as_deref();
        // The static keys alone when one of them is named; else the fetched set as well.
        let named_static = kid.is_some_and(|kid| rules.public_keys.iter().any(|k| k.kid.as_deref() == Some(kid)));
        let fetched = match rules.jwks_url.as_deref().filter(|_| !named_static) {
            Some(url) => keys_for(io, url, kid, now).await.map_err(Refusal::Unavailable)?,
            None => Rc::new(Vec::new()),
        };
        let key = select(rules.public_keys.iter().chain(fetched.iter()), kid, t.alg).map_err(Refusal::Token)?;
        // JWS ES256 signatures are r || s, 32 bytes each.
        if t.alg == Alg::Es256 && t.signature.len() != 64 {
            return Err(Refusal::Token(JwtError::BadSignature));
        }
        match io.verify_signature(t.alg, key, t.signing_input.as_bytes(), &t.signature).await {
            Ok(true) => {}
            Ok(false) => return Err(Refusal::Token(JwtError::BadSignature)),
            Err(why) => return Err(Refusal::Token(JwtError::NoVerifier(why))),
        }
    }
    super::jwt::claims(&t, rules, now).map_err(Refusal::Token)
}

/// Why no key of the set verifies a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoKey {
    /// The token's `kid` names no key of the set.
    UnknownKid,
    /// The set has several keys and the token names none.
    KidRequired,
    /// The key the token names is not a key for its `alg`.
    WrongKind,
}

impl NoKey {
    pub(crate) fn message(self) -> &'static str {
        match self {
            NoKey::UnknownKid => "token's kid names no key of the identity provider's key set",
            NoKey::KidRequired => "token has no kid, and the key set has more than one key",
            NoKey::WrongKind => "token's alg does not match the key its kid names",
        }
    }
}

/// The lifetime of a fetched set from its answer's `Cache-Control`.
pub fn ttl_secs(cache_control: Option<&str>) -> i64 {
    let Some(cc) = cache_control else { return DEFAULT_TTL_SECS };
    let mut ttl = None;
    for d in cc.split(',') {
        let d = d.trim();
        let name = d.split('=').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return MIN_TTL_SECS;
        }
        if name.eq_ignore_ascii_case("max-age") {
            let v = d.split_once('=').map_or("", |(_, v)| v.trim().trim_matches('"'));
            ttl = crate::json::digits_u64(v).map(|n| n.min(i64::MAX as u64) as i64);
        }
    }
    ttl.unwrap_or(DEFAULT_TTL_SECS).clamp(MIN_TTL_SECS, MAX_TTL_SECS)
}

/// A fetched set: `JWT_JWKS_URL`'s answer as the host gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The body text.
    pub body: String,
    /// Its `Cache-Control` header.
    pub cache_control: Option<String>,
}

/// The isolate's cached set of one URL.
struct Cached {
    url: String,
    keys: Rc<Vec<Jwk>>,
    /// When the keys were fetched (`None`: not yet).
    fetched_at: Option<i64>,
    expires_at: i64,
    /// The last refetch for an unknown kid.
    last_refetch: Option<i64>,
    /// No fetch before this (after a failure).
    retry_at: i64,
}

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// The keys fetched from `url` to verify a token naming `kid`, from the cache when fresh.
/// `Err`: the set could not be had (the caller answers 503, never accepts); the text is for the
/// log and names no secret.
pub async fn keys_for<I: Io>(io: &I, url: &str, kid: Option<&str>, now: i64) -> Result<Rc<Vec<Jwk>>, String> {
    // The cache's rules in two plain functions, the await alone here (a small state machine).
    match cached(url, kid, now)? {
        Some(keys) => Ok(keys),
        None => store(url, now, io.fetch_jwks(url).await),
    }
}

/// The cached keys of `url` when fresh and no refetch for `kid` is due (`Ok(None)`: fetch now,
/// claimed for this request); `Err` while a failed fetch's pause lasts.
fn cached(url: &str, kid: Option<&str>, now: i64) -> Result<Option<Rc<Vec<Jwk>>>, String> {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let e = match c.as_mut().filter(|e| e.url == url) {
            Some(e) => e,
            None => c.insert(Cached {
                url: url.to_owned(),
                keys: Rc::new(Vec::new()),
                fetched_at: None,
                expires_at: i64::MIN,
                last_refetch: None,
                retry_at: i64::MIN,
            }),
        };
        let fresh = e.fetched_at.is_some() && now < e.expires_at;
        if !fresh {
            return match now < e.retry_at {
                true => Err(cat(&[UNFETCHED, "; waiting before the next try"])),
                false => Ok(None),
            };
        }
        let unknown = kid.is_some_and(|kid| !e.keys.iter().any(|k| k.kid.as_deref() == Some(kid)));
        let may_refetch = unknown
            && e.fetched_at != Some(now)
            && e.last_refetch.is_none_or(|t| now - t >= REFETCH_MIN_SECS)
            && now >= e.retry_at;
        if may_refetch {
            // Claimed before the fetch: requests arriving meanwhile do not fetch too.
            e.last_refetch = Some(now);
            return Ok(None);
        }
        Ok(Some(e.keys.clone()))
    })
}

/// The set could not be had: the start of every such reason.
const UNFETCHED: &str = "the identity provider's key set could not be fetched";

/// Keeps the answer `got` of `url`'s fetch at `now` (a failure: no new fetch for
/// [`FAILURE_RETRY_SECS`]); the keys, or why there are none.
fn store(url: &str, now: i64, got: Result<Fetched, String>) -> Result<Rc<Vec<Jwk>>, String> {
    let got = got.and_then(|f| Ok((parse_set(&f.body)?, ttl_secs(f.cache_control.as_deref()))));
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let Some(e) = c.as_mut().filter(|e| e.url == url) else {
            return got.map(|(k, _)| Rc::new(k));
        };
        match got {
            Ok((k, ttl)) => {
                e.keys = Rc::new(k);
                e.fetched_at = Some(now);
                e.expires_at = now.saturating_add(ttl);
                Ok(e.keys.clone())
            }
            Err(why) => {
                e.retry_at = now + FAILURE_RETRY_SECS;
                Err(cat(&[UNFETCHED, ": ", &why]))
            }
        }
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod tests {
    use super::*;

    /// A 2048-bit modulus's worth of base64url, and a 32-byte coordinate (the numbers need not
    /// be a real key here).
    fn rsa_n(bytes: usize) -> String {
        // "w" is 0b110000: a first byte that is not zero; the rest zero bits.
        cat(&["w", &"A".repeat((bytes * 8).div_ceil(6) - 1)])
    }
    const P256_X: &str = "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    pub(crate) fn rsa(kid: Option<&str>) -> Jwk {
        Jwk {
            kid: kid.map(str::to_owned),
            key: KeyMaterial::Rsa { n: rsa_n(256), e: "AQAB".into() },
            alg: None,
            use_: None,
            key_ops: None,
        }
    }

    fn ec(kid: Option<&str>) -> Jwk {
        Jwk { key: KeyMaterial::P256 { x: P256_X.to_owned(), y: P256_X.to_owned() }, ..rsa(kid) }
    }

    #[test]
    fn the_key_decides_the_algorithm() {
        let (r, e) = (rsa(Some("r")), ec(Some("e")));
        assert!(r.agrees(Alg::Rs256) && !r.agrees(Alg::Es256) && !r.agrees(Alg::Hs256));
        assert!(e.agrees(Alg::Es256) && !e.agrees(Alg::Rs256) && !e.agrees(Alg::Hs256));
        // alg, use and key_ops, when present, must say the same.
        assert!(!Jwk { alg: Some("RS384".into()), ..rsa(None) }.agrees(Alg::Rs256));
        assert!(!Jwk { alg: Some("ES256".into()), ..rsa(None) }.agrees(Alg::Rs256));
        assert!(Jwk { alg: Some("RS256".into()), use_: Some(true), ..rsa(None) }.agrees(Alg::Rs256));
        assert!(!Jwk { use_: Some(false), ..rsa(None) }.agrees(Alg::Rs256));
        assert!(!Jwk { key_ops: Some(false), ..ec(None) }.agrees(Alg::Es256));
        assert!(Jwk { key_ops: Some(true), ..ec(None) }.agrees(Alg::Es256));
    }

    #[test]
    fn a_kid_is_required_when_the_set_has_several_keys() {
        let set = [rsa(Some("r")), ec(Some("e"))];
        assert_eq!(select(set.iter(), Some("r"), Alg::Rs256).unwrap().kid.as_deref(), Some("r"));
        assert_eq!(select(set.iter(), Some("e"), Alg::Es256).unwrap().kid.as_deref(), Some("e"));
        // The EC key's kid on an RS256 token: refused, never tried as another kind of key.
        assert_eq!(select(set.iter(), Some("e"), Alg::Rs256).unwrap_err(), JwtError::NoKey(NoKey::WrongKind));
        assert_eq!(select(set.iter(), Some("x"), Alg::Rs256).unwrap_err(), JwtError::NoKey(NoKey::UnknownKid));
        assert_eq!(select(set.iter(), None, Alg::Rs256).unwrap_err(), JwtError::NoKey(NoKey::KidRequired));
        let one = [rsa(None)];
        assert!(select(one.iter(), None, Alg::Rs256).is_ok());
        assert_eq!(select(one.iter(), None, Alg::Es256).unwrap_err(), JwtError::NoKey(NoKey::WrongKind));
        assert_eq!(select(std::iter::empty(), None, Alg::Rs256).unwrap_err(), JwtError::NoKey(NoKey::UnknownKid));
    }

    #[test]
    fn parses_public_keys_and_refuses_private_ones() {
        let n = rsa_n(256);
        let x = P256_X.to_owned();
        let text = cat(&[
            r#"{"keys":[{"kty":"RSA","kid":"r","use":"sig","alg":"RS256","n":""#,
            &n,
            r#"","e":"AQAB"},{"kty":"EC","crv":"P-256","kid":"e","x":""#,
            &x,
            r#"","y":""#,
            &x,
            r#""},{"kty":"oct","k":"c2VjcmV0"},{"kty":"OKP","crv":"Ed25519","x":"abc"},{"kty":"EC","crv":"P-384","x":"a","y":"b"}]}"#,
        ]);
        // The oct key is a secret: the whole set is refused.
        assert!(parse_set(&text).unwrap_err().contains("private or secret"));
        let text = text.replace(r#"{"kty":"oct","k":"c2VjcmV0"},"#, "");
        let keys = parse_set(&text).unwrap();
        assert_eq!(keys.len(), 2, "OKP and P-384 left out");
        assert_eq!(keys[0].alg.as_deref(), Some("RS256"));
        assert_eq!((keys[0].use_, keys[0].key_ops, keys[1].use_), (Some(true), None, None));
        let ops = |o: &str| parse_set(&text.replace(r#""use":"sig""#, &cat(&[r#""key_ops":"#, o]))).unwrap()[0].key_ops;
        assert_eq!(
            (ops(r#"["encrypt"]"#), ops(r#"["sign","verify"]"#), ops("[]")),
            (Some(false), Some(true), Some(false))
        );
        assert_eq!(keys[1].key, KeyMaterial::P256 { x: x.clone(), y: x });
        let short = cat(&[r#"{"keys":[{"kty":"RSA","n":""#, &rsa_n(200), r#"","e":"AQAB"}]}"#]);
        assert!(parse_set(&short).unwrap_err().contains("2048"));
        let private = text.replace(r#""e":"AQAB""#, r#""e":"AQAB","d":"AQAB""#);
        assert!(parse_set(&private).is_err());
        for bad in ["", "[]", r#"{"keys":{}}"#, r#"{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}"#] {
            assert!(parse_set(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cache_lifetime_is_bounded() {
        assert_eq!(ttl_secs(None), DEFAULT_TTL_SECS);
        assert_eq!(ttl_secs(Some("public, max-age=15, stale-while-revalidate=15")), MIN_TTL_SECS);
        assert_eq!(ttl_secs(Some("public, max-age=900")), 900);
        assert_eq!(ttl_secs(Some("max-age=31536000")), MAX_TTL_SECS);
        assert_eq!(ttl_secs(Some("no-store")), MIN_TTL_SECS);
        assert_eq!(ttl_secs(Some("public")), DEFAULT_TTL_SECS);
        assert_eq!(ttl_secs(Some("max-age=abc")), DEFAULT_TTL_SECS);
    }

    /// A platform whose key set answer and signature check the test sets.
    struct KeyIo {
        answer: RefCell<Result<Fetched, String>>,
        fetches: std::cell::Cell<u32>,
    }

    impl KeyIo {
        fn new(set: &str) -> KeyIo {
            KeyIo {
                answer: RefCell::new(Ok(Fetched { body: set.into(), cache_control: None })),
                fetches: Default::default(),
            }
        }
    }

    impl Io for KeyIo {
        async fn read_body(&self, _: usize) -> Result<String, super::super::ReadError> {
            Ok(String::new())
        }
        async fn rate_limit(&self, _: &str) -> Result<bool, String> {
            Ok(true)
        }
        fn log(&self, _: &str) {}
        async fn fetch_jwks(&self, _: &str) -> Result<Fetched, String> {
            self.fetches.set(self.fetches.get() + 1);
            self.answer.borrow().clone()
        }
        async fn verify_signature(&self, _: Alg, k: &Jwk, _: &[u8], sig: &[u8]) -> Result<bool, String> {
            Ok(sig == k.kid.as_deref().unwrap_or("").as_bytes())
        }
    }

    fn set_of(kids: &[&str]) -> String {
        let keys: Vec<String> = kids
            .iter()
            .map(|k| cat(&[r#"{"kty":"RSA","kid":""#, k, r#"","e":"AQAB","n":""#, &rsa_n(256), r#""}"#]))
            .collect();
        cat(&[r#"{"keys":["#, &crate::error::join(&keys, ","), "]}"])
    }

    #[test]
    fn the_fetched_set_is_cached_refetched_for_an_unknown_kid_at_most_so_often_and_never_accepted_when_down() {
        use futures::executor::block_on;
        let io = KeyIo::new(&set_of(&["a"]));
        let url = "https://idp.example/cache-test";
        let kids = |r: Result<Rc<Vec<Jwk>>, String>| -> Vec<String> {
            r.unwrap().iter().filter_map(|k| k.kid.clone()).collect()
        };
        assert_eq!(kids(block_on(keys_for(&io, url, Some("a"), 1000))), ["a"]);
        assert_eq!(kids(block_on(keys_for(&io, url, Some("a"), 1001))), ["a"]);
        assert_eq!(io.fetches.get(), 1);
        // Unknown kid: not in the second the set was fetched; then one refetch per interval.
        block_on(keys_for(&io, url, Some("x"), 1000)).unwrap();
        assert_eq!(io.fetches.get(), 1);
        *io.answer.borrow_mut() = Ok(Fetched { body: set_of(&["a", "b"]), cache_control: Some("max-age=120".into()) });
        assert_eq!(kids(block_on(keys_for(&io, url, Some("b"), 1001))), ["a", "b"]);
        assert_eq!(io.fetches.get(), 2);
        for t in [1002, 1010, 1001 + REFETCH_MIN_SECS - 1] {
            block_on(keys_for(&io, url, Some("forged"), t)).unwrap();
        }
        assert_eq!(io.fetches.get(), 2, "a forged-kid flood costs no fetch within the interval");
        block_on(keys_for(&io, url, Some("forged"), 1001 + REFETCH_MIN_SECS)).unwrap();
        assert_eq!(io.fetches.get(), 3);
        // Expired (max-age 120 from the last fetch): fetched again; a failure is an Err (503),
        // and no new try for FAILURE_RETRY_SECS.
        let expired = 1001 + REFETCH_MIN_SECS + 120;
        *io.answer.borrow_mut() = Err("HTTP status 500".into());
        assert!(block_on(keys_for(&io, url, Some("a"), expired)).unwrap_err().contains("HTTP status 500"));
        assert!(block_on(keys_for(&io, url, Some("a"), expired + FAILURE_RETRY_SECS - 1)).is_err());
        assert_eq!(io.fetches.get(), 4);
        *io.answer.borrow_mut() = Ok(Fetched { body: set_of(&["c"]), cache_control: None });
        assert_eq!(kids(block_on(keys_for(&io, url, Some("c"), expired + FAILURE_RETRY_SECS))), ["c"]);
        // A set that is not a set is a failure too, never an empty set that refuses silently.
        *io.answer.borrow_mut() = Ok(Fetched { body: "<html>".into(), cache_control: None });
        assert!(block_on(keys_for(&io, "https://idp.example/other", None, 5000)).is_err());
    }

    fn token(header: &str, claims: &str, sig: &[u8]) -> String {
        use crate::b64::encode_url;
        cat(&[&encode_url(header.as_bytes()), ".", &encode_url(claims.as_bytes()), ".", &encode_url(sig)])
    }

    #[test]
    fn rs256_es256_are_opt_in_and_every_claim_rule_applies() {
        use futures::executor::block_on;
        let env = |pairs: &'static [(&'static str, &'static str)], keys: String| {
            super::super::Settings::from_env(move |k| match k {
                "JWT_PUBLIC_KEYS" => Some(keys.clone()),
                _ => pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()),
            })
        };
        let s = env(&[("AUDIT_JWT_SECRET", "unit-test-jwt-secret-0123456789abcdef")], set_of(&["a", "b"]));
        let rules = s.jwt.clone().unwrap();
        assert_eq!(rules.algorithms, [Alg::Rs256, Alg::Es256], "a key set's default");
        let io = KeyIo::new("{}");
        let claims = r#"{"sub":"u1","aud":"neo4j-audit","exp":1060}"#;
        let ok = token(r#"{"alg":"RS256","kid":"b"}"#, claims, b"b");
        assert_eq!(block_on(verify(&ok, &rules, 1000, &io)).unwrap().sub, "u1");
        assert_eq!(io.fetches.get(), 0, "no JWT_JWKS_URL: nothing fetched");
        let refused = |t: &str, now: i64| block_on(verify(t, &rules, now, &io)).unwrap_err();
        assert_eq!(refused(&ok, 2000), Refusal::Token(JwtError::Expired));
        assert_eq!(
            refused(&token(r#"{"alg":"RS256","kid":"a"}"#, claims, b"b"), 1000),
            Refusal::Token(JwtError::BadSignature)
        );
        let aud = token(r#"{"alg":"RS256","kid":"b"}"#, r#"{"sub":"u1","aud":"x","exp":1060}"#, b"b");
        assert_eq!(refused(&aud, 1000), Refusal::Token(JwtError::WrongAudience));
        // HS256 (even with the right secret) is not accepted unless listed; none never.
        let hs =
            super::super::jwt::sign_hs256(b"unit-test-jwt-secret-0123456789abcdef", &serde_json::json!({"sub": "u"}));
        assert!(matches!(refused(&hs, 1000), Refusal::Token(JwtError::UnsupportedAlg(_))));
        assert!(matches!(
            refused(&token(r#"{"alg":"none"}"#, claims, b""), 1000),
            Refusal::Token(JwtError::UnsupportedAlg(_))
        ));
        // Natively there is no RSA/EC verifier: refused with a reason that says so.
        struct Native;
        impl Io for Native {
            async fn read_body(&self, _: usize) -> Result<String, super::super::ReadError> {
                Ok(String::new())
            }
            async fn rate_limit(&self, _: &str) -> Result<bool, String> {
                Ok(true)
            }
            fn log(&self, _: &str) {}
        }
        let e = block_on(verify(&ok, &rules, 1000, &Native)).unwrap_err();
        assert!(matches!(&e, Refusal::Token(JwtError::NoVerifier(m)) if m.contains("only by the Worker")), "{e:?}");
        // Settings that cannot verify securely are misconfigured.
        for (pairs, keys) in [
            (&[("JWT_JWKS_URL", "http://idp.example/jwks")][..], String::new()),
            (&[("JWT_ALGORITHMS", "HS256")][..], set_of(&["a"])),
            (&[("JWT_ALGORITHMS", "RS256,HS512")][..], set_of(&["a"])),
            (&[("JWT_ALGORITHMS", "RS256")][..], String::new()),
            (&[][..], "{\"keys\":[]}".to_owned()),
        ] {
            let s = env(pairs, keys);
            assert!(
                s.jwt.is_none() && s.misconfiguration().unwrap().contains("JWT_"),
                "{pairs:?}: {:?}",
                s.misconfiguration()
            );
        }
        assert!(env(&[("JWT_JWKS_URL", "https://idp.example/.well-known/jwks.json")], String::new()).jwt.is_some());
    }
}
