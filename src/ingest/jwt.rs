//! JWT (JWS compact) verification, secure by default: `alg` must be one of
//! [`JwtRules::algorithms`] (HS256 with `AUDIT_JWT_SECRET` here; RS256 / ES256 with a public key
//! set: [`super::jwks`]); the header's `typ`, when
//! present, must say JWT; the signature is checked in constant time; then `exp` (required),
//! `nbf` and `iat` (neither ahead of now), `aud` (required: [`DEFAULT_AUDIENCE`] unless configured otherwise or explicitly turned
//! off), the optional `iss`, and a cap on the token's lifetime ([`DEFAULT_MAX_LIFETIME_SECS`]),
//! with a configurable clock skew. The verified `sub` is the acting user's uid and `name` its
//! display name.
//!
//! ```
//! use neo4j_audit::ingest::jwt::{sign_hs256, verify, JwtError, JwtRules};
//! let rules = JwtRules::new(b"0123456789abcdef0123456789abcdef".to_vec());
//! let claims = serde_json::json!({"sub": "u1", "name": "Ann", "aud": "neo4j-audit", "exp": 2_000});
//! let token = sign_hs256(&rules.secret, &claims);
//! let who = verify(&token, &rules, 1_000).unwrap();
//! assert_eq!((who.sub.as_str(), who.name.as_deref()), ("u1", Some("Ann")));
//! assert_eq!(verify(&token, &rules, 3_000).unwrap_err(), JwtError::Expired);
//! let no_aud = sign_hs256(&rules.secret, &serde_json::json!({"sub": "u1", "exp": 2_000}));
//! assert_eq!(verify(&no_aud, &rules, 1_000).unwrap_err(), JwtError::WrongAudience);
//! ```

use super::mac::HmacSha256;
use crate::error::{cat, quoted};
use crate::json::Json;

/// Longest token accepted, in bytes (a guard before any decoding): room for an identity provider's
/// largest tokens (Microsoft Entra ID puts up to 200 group ids into a JWT, ~11 KB; 8192 refused
/// them). A longer one is [`JwtError::Malformed`] (a message of its own cost the Worker's .wasm
/// 60 bytes of its size budget).
pub const MAX_TOKEN_LEN: usize = 16384;
/// Longest `sub` / `name` accepted, in bytes: the rule table's `user.uid` / `user.name` bound
/// (`sub` and `name` become the event's user).
pub const MAX_CLAIM_LEN: usize = crate::rules::MAX_USER_FIELD_LEN;
/// The audience a token must name when `JWT_AUDIENCE` is not set.
pub const DEFAULT_AUDIENCE: &str = "neo4j-audit";
/// Longest accepted token lifetime (`JWT_MAX_LIFETIME_SECS`), in seconds: one day.
pub const DEFAULT_MAX_LIFETIME_SECS: i64 = 86_400;
/// Header `typ` values accepted (compared case-insensitively); a header without `typ` is fine.
pub const ACCEPTED_TYPES: [&str; 4] = ["JWT", "application/jwt", "at+jwt", "application/at+jwt"];

/// A signature algorithm a token may name (`JWT_ALGORITHMS`); every other `alg`, `none`
/// included, is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// HMAC SHA-256 with `AUDIT_JWT_SECRET` (never with a public key).
    Hs256,
    /// RSASSA-PKCS1-v1_5 SHA-256 with an `RSA` key of the key set.
    Rs256,
    /// ECDSA P-256 SHA-256 with an `EC` `P-256` key of the key set.
    Es256,
}

impl Alg {
    /// The algorithm a JOSE `alg` names (exactly, case-sensitive), if supported.
    pub fn parse(name: &str) -> Option<Alg> {
        match name {
            "HS256" => Some(Alg::Hs256),
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }

    /// Its JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }
}

/// What a token must satisfy.
#[derive(Clone)]
pub struct JwtRules {
    /// The HS256 key (empty when `AUDIT_JWT_SECRET` is unset: no HS256 token then verifies).
    /// Never shown by `Debug`.
    pub secret: Vec<u8>,
    /// The algorithms accepted (`JWT_ALGORITHMS`; [`JwtRules::new`]: HS256 only).
    pub algorithms: Vec<Alg>,
    /// `JWT_JWKS_URL`: the identity provider's key set, fetched and cached ([`super::jwks`]).
    /// `Debug` masks its userinfo, query and fragment (an API key may ride there).
    pub jwks_url: Option<String>,
    /// `JWT_PUBLIC_KEYS`: a static key set, used beside the fetched one.
    pub public_keys: Vec<super::jwks::Jwk>,
    /// A second HS256 key, also accepted, while `secret` is being rotated in
    /// (`AUDIT_JWT_SECRET_PREVIOUS`): tokens signed before the switch stay valid until they
    /// expire. Never shown by `Debug`.
    pub previous_secret: Option<Vec<u8>>,
    /// When set, `aud` (a string or an array of strings) must contain it. `None` only by an
    /// explicit opt-out (`JWT_AUDIENCE_CHECK=off`).
    pub audience: Option<String>,
    /// When set, `iss` must equal it.
    pub issuer: Option<String>,
    /// Tolerated clock difference, in seconds, for `exp`, `nbf` and the lifetime cap.
    pub leeway_secs: i64,
    /// Longest lifetime, in seconds: `exp - iat` (when `iat` is present) and `exp - now` (beyond
    /// the leeway) must not exceed it, so a leaked token is useful for a bounded time only.
    pub max_lifetime_secs: i64,
    /// When set (`TENANT_CLAIM`), the claim naming the token's tenant: read into
    /// [`Identity::tenant`] (a string of 1–[`MAX_TENANT_LEN`] bytes without control characters,
    /// the text of an identifier, `rules::check_identifier_text` (src/rules.rs): no white space at either
    /// end, no invisible characters; anything else is [`JwtError::BadTenant`]).
    pub tenant_claim: Option<String>,
}

/// Longest tenant claim value accepted, in bytes.
pub const MAX_TENANT_LEN: usize = 200;

impl std::fmt::Debug for JwtRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtRules")
            .field("secret", &"***")
            .field("previous_secret", &self.previous_secret.as_ref().map(|_| "***"))
            .field("algorithms", &self.algorithms)
            .field("jwks_url", &self.jwks_url.as_deref().map(crate::config::debug_url))
            .field("public_keys", &self.public_keys.len())
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("leeway_secs", &self.leeway_secs)
            .field("max_lifetime_secs", &self.max_lifetime_secs)
            .field("tenant_claim", &self.tenant_claim)
            .finish()
    }
}

impl JwtRules {
    /// The secure defaults: audience [`DEFAULT_AUDIENCE`] required, no issuer check, a 60 s
    /// leeway and a lifetime of at most [`DEFAULT_MAX_LIFETIME_SECS`].
    pub fn new(secret: Vec<u8>) -> Self {
        JwtRules {
            secret,
            algorithms: vec![Alg::Hs256],
            jwks_url: None,
            public_keys: Vec::new(),
            previous_secret: None,
            audience: Some(DEFAULT_AUDIENCE.to_owned()),
            issuer: None,
            leeway_secs: 60,
            max_lifetime_secs: DEFAULT_MAX_LIFETIME_SECS,
            tenant_claim: None,
        }
    }
}

/// The token of an `Authorization` header value using the `Bearer` scheme, whose name is
/// case-insensitive (RFC 6750 §2.1, RFC 9110 §11.1); `None` for another scheme or no token.
///
/// ```
/// use neo4j_audit::ingest::jwt::bearer_token;
/// assert_eq!(bearer_token("Bearer abc"), Some("abc"));
/// assert_eq!(bearer_token("bearer  abc "), Some("abc"));
/// assert_eq!(bearer_token("Basic abc"), None);
/// assert_eq!(bearer_token("Bearer "), None);
/// ```
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, rest) = header.trim_start().split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return None;
    }
    let token = rest.trim();
    (!token.is_empty()).then_some(token)
}

/// The verified identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The `sub` claim: the acting user's uid (non-blank, no control characters, at most
    /// [`MAX_CLAIM_LEN`] bytes).
    pub sub: String,
    /// The `name` claim, the user's display name, if present and not `null`.
    pub name: Option<String>,
    /// The value of [`JwtRules::tenant_claim`], when configured and present (a token without it
    /// is still valid here; the ingest endpoint refuses it).
    pub tenant: Option<String>,
}

/// Why a token was refused. The text is safe to return to the caller: it never quotes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts of JSON objects, longer than [`MAX_TOKEN_LEN`], no `alg`, a
    /// `crit` header, or a time claim (`nbf`, `iat`) that is a number beyond `f64`'s range.
    Malformed,
    /// A time claim (`nbf`, `iat`) that is present but not a number.
    BadTime(&'static str),
    /// The `name` claim is present and not `null` but not a string of at most [`MAX_CLAIM_LEN`]
    /// bytes without control characters or bidirectional controls (the rule table's `user.name`).
    BadName,
    /// The header's `alg` is not one of [`JwtRules::algorithms`] (its first 16 characters).
    UnsupportedAlg(String),
    /// No key of the set verifies this token (RS256 / ES256).
    NoKey(super::jwks::NoKey),
    /// The host could not check an RS256 / ES256 signature (native builds: never; the Worker:
    /// WebCrypto refused the key). The reason names no key material.
    NoVerifier(String),
    /// The tenant claim is not a usable string (see [`JwtRules::tenant_claim`]).
    BadTenant,
    /// The HMAC does not match.
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` or `iat` is still ahead (beyond the leeway).
    NotYetValid,
    /// No numeric `exp`.
    MissingExp,
    /// `aud` does not contain the required audience.
    WrongAudience,
    /// `iss` is not the required issuer.
    WrongIssuer,
    /// `sub` is missing, not a string, or not a written `user.uid` (`rules::check_uid`, src/rules.rs:
    /// blank, too long, control or invisible characters, white space at either end).
    BadSubject,
    /// The lifetime exceeds [`JwtRules::max_lifetime_secs`].
    TooLongLived,
    /// The header's `typ` is not one of [`ACCEPTED_TYPES`].
    WrongType,
}

// Written out (not thiserror's `#[error(...)]`): no core::fmt machinery in the Worker's .wasm (see
// crate::error::num).
impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl JwtError {
    /// The `Display` text (what `to_string` gives).
    pub(crate) fn message(&self) -> String {
        match self {
            JwtError::Malformed => "token is not a well-formed JWS compact serialisation".into(),
            JwtError::BadTime(claim) => {
                cat(&["token's ", claim, " claim is not a number (NumericDate, seconds since the Unix epoch)"])
            }
            // (1024: MAX_CLAIM_LEN, written out: no number formatting for it in the .wasm; the
            // test `bidirectional_controls_in_identity_claims_are_refused` holds them together.)
            JwtError::BadName => {
                "token's name claim is not a string of at most 1024 bytes without control characters or bidirectional controls".into()
            }
            JwtError::UnsupportedAlg(alg) => {
                cat(&["token algorithm ", &quoted(alg), " is not accepted (JWT_ALGORITHMS)"])
            }
            JwtError::NoKey(why) => why.message().into(),
            JwtError::NoVerifier(why) => cat(&["token signature could not be checked: ", why]),
            JwtError::BadTenant => {
                "token's tenant claim is not a trail name: 1-200 bytes, no control or invisible characters, no white space at either end".into()
            }
            JwtError::BadSignature => "token signature is invalid".into(),
            JwtError::Expired => "token has expired".into(),
            JwtError::NotYetValid => "token is not valid yet".into(),
            JwtError::MissingExp => "token has no numeric exp claim".into(),
            // The settings are named (never their values' secrets: an audience and an issuer are
            // public), so whoever reads the 401 knows what the operator must set or the identity
            // provider must put into its tokens.
            JwtError::WrongAudience => {
                "token audience (aud) is missing or does not name this endpoint's JWT_AUDIENCE (default \"neo4j-audit\")"
                    .into()
            }
            JwtError::WrongIssuer => "token issuer (iss) is missing or is not this endpoint's JWT_ISSUER".into(),
            JwtError::BadSubject => "token has no usable sub claim".into(),
            JwtError::TooLongLived => {
                "token lifetime (exp - iat, or exp - now) is longer than this endpoint's JWT_MAX_LIFETIME_SECS".into()
            }
            JwtError::WrongType => "token type (typ) is not JWT".into(),
        }
    }
}

/// A token split and its header checked: `alg` accepted, no `crit`, `typ` a JWT, the signature
/// decoded. The signature itself is not checked yet.
pub struct Token<'a> {
    /// The header's algorithm.
    pub alg: Alg,
    /// The header's `kid`, if any.
    pub kid: Option<String>,
    /// What the signature covers: `header.payload` as sent.
    pub signing_input: &'a str,
    /// The decoded signature.
    pub signature: Vec<u8>,
    payload: &'a str,
}

/// Splits `token` and checks its header against `rules` (see [`Token`]).
pub fn parse<'a>(token: &'a str, rules: &JwtRules) -> Result<Token<'a>, JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Malformed);
    };
    let header = decode_json(h64)?;
    let name = header.get("alg").and_then(Json::as_str).ok_or(JwtError::Malformed)?;
    let Some(alg) = Alg::parse(name).filter(|a| rules.algorithms.contains(a)) else {
        return Err(JwtError::UnsupportedAlg(crate::outcome::first_chars(name, 16).to_owned()));
    };
    // Extensions we do not understand must not be ignored (RFC 7515 §4.1.11).
    if header.get("crit").is_some() {
        return Err(JwtError::Malformed);
    }
    check_type(header.get("typ"))?;
    let kid = match header.get("kid") {
        None => None,
        Some(Json::Str(k)) => Some(k.clone()),
        Some(_) => return Err(JwtError::Malformed),
    };
    let signature = crate::b64::decode_url(s64).ok_or(JwtError::Malformed)?;
    Ok(Token { alg, kid, signing_input: &token[..h64.len() + 1 + p64.len()], signature, payload: p64 })
}

impl Token<'_> {
    /// Whether an HS256 token's HMAC matches `AUDIT_JWT_SECRET` or, while it is rotated,
    /// `AUDIT_JWT_SECRET_PREVIOUS` (constant-time). `false` for any other `alg`.
    pub fn hmac_matches(&self, rules: &JwtRules) -> bool {
        let signed_with = |key: &[u8]| {
            let mut mac = HmacSha256::new(key);
            mac.update(self.signing_input.as_bytes());
            // Constant-time comparison.
            mac.verify(&self.signature)
        };
        self.alg == Alg::Hs256
            && !rules.secret.is_empty()
            && (signed_with(&rules.secret) || rules.previous_secret.as_deref().is_some_and(signed_with))
    }
}

/// Verifies an HS256 `token` at `now_secs` (Unix seconds). An RS256 / ES256 token needs the key
/// set and the host's verifier: [`super::jwks::verify`].
pub fn verify(token: &str, rules: &JwtRules, now_secs: i64) -> Result<Identity, JwtError> {
    let t = parse(token, rules)?;
    if t.alg != Alg::Hs256 {
        return Err(JwtError::NoVerifier("RS256 and ES256 tokens are checked asynchronously (jwks::verify)".into()));
    }
    if !t.hmac_matches(rules) {
        return Err(JwtError::BadSignature);
    }
    claims(&t, rules, now_secs)
}

/// The claims of a token whose signature is verified, checked against `rules` at `now_secs`.
pub fn claims(token: &Token<'_>, rules: &JwtRules, now_secs: i64) -> Result<Identity, JwtError> {
    let claims = decode_json(token.payload)?;
    let exp = match claims.get("exp") {
        Some(Json::Num(_)) => time(&claims, "exp")?,
        _ => None,
    }
    .ok_or(JwtError::MissingExp)?;
    let now = secs(now_secs);
    let leeway = secs(rules.leeway_secs.max(0));
    if now >= exp + leeway {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = time(&claims, "nbf")? {
        if now + leeway < nbf {
            return Err(JwtError::NotYetValid);
        }
    }
    check_lifetime(&claims, exp, now, rules)?;
    if let Some(want) = &rules.audience {
        let ok = match claims.get("aud") {
            Some(Json::Str(a)) => a == want,
            Some(Json::Arr(a)) => a.iter().any(|x| x.as_str() == Some(want)),
            _ => false,
        };
        if !ok {
            return Err(JwtError::WrongAudience);
        }
    }
    if let Some(want) = &rules.issuer {
        if claims.get("iss").and_then(Json::as_str) != Some(want.as_str()) {
            return Err(JwtError::WrongIssuer);
        }
    }
    let sub = claims.get("sub").and_then(Json::as_str).ok_or(JwtError::BadSubject)?;
    // The rule table's `user.uid` (the Worker's events take it as their user).
    if crate::rules::check_uid("sub", sub).is_err() {
        return Err(JwtError::BadSubject);
    }
    let name = match claims.get("name") {
        None | Some(Json::Null) => None,
        Some(Json::Str(n)) if crate::rules::check_user_name(n).is_ok() => Some(n.clone()),
        Some(_) => return Err(JwtError::BadName),
    };
    let tenant = match rules.tenant_claim.as_deref().and_then(|c| claims.get(c)) {
        None | Some(Json::Null) => None,
        // It names the trail: the rule table's trail rule, which is a written uid's within the
        // tenant's own bound (not blank, no control characters, no white space at either end, no
        // invisible characters).
        Some(Json::Str(t)) if t.len() <= MAX_TENANT_LEN && crate::rules::check_uid("tenant", t).is_ok() => {
            Some(t.clone())
        }
        Some(_) => return Err(JwtError::BadTenant),
    };
    Ok(Identity { sub: sub.to_owned(), name, tenant })
}

/// The header's `typ`, when present, must name a JWT (RFC 7519 §5.1, RFC 9068 §2.1), so that
/// another kind of signed object made with the same key is not taken for a token.
fn check_type(typ: Option<&Json>) -> Result<(), JwtError> {
    match typ {
        None => Ok(()),
        Some(Json::Str(t)) if ACCEPTED_TYPES.iter().any(|a| a.eq_ignore_ascii_case(t)) => Ok(()),
        Some(_) => Err(JwtError::WrongType),
    }
}

/// `exp - iat` (when `iat` is present) and `exp - now` (beyond the leeway) must not exceed
/// `rules.max_lifetime_secs`.
fn check_lifetime(claims: &Json, exp: i128, now: i128, rules: &JwtRules) -> Result<(), JwtError> {
    let max = secs(rules.max_lifetime_secs.max(0));
    if let Some(iat) = time(claims, "iat")? {
        if exp - iat > max {
            return Err(JwtError::TooLongLived);
        }
        // Issued later than now (beyond the leeway): a token minted ahead, or by a clock that
        // runs fast, is not used before its time (RFC 7519 leaves `iat` to the endpoint).
        if now + secs(rules.leeway_secs.max(0)) < iat {
            return Err(JwtError::NotYetValid);
        }
    }
    if exp - now > max + secs(rules.leeway_secs.max(0)) {
        return Err(JwtError::TooLongLived);
    }
    Ok(())
}

/// A time claim (`exp`, `nbf`, `iat`): absent is `None`; present, it must be a number
/// ([`nanos`]; a number beyond `f64`'s range made `serde_json` refuse the whole token too:
/// [`JwtError::Malformed`]); anything else is [`JwtError::BadTime`] naming the claim.
fn time(claims: &Json, claim: &'static str) -> Result<Option<i128>, JwtError> {
    match claims.get(claim) {
        None => Ok(None),
        Some(Json::Num(n)) => nanos(n).map(Some).ok_or(JwtError::Malformed),
        Some(_) => Err(JwtError::BadTime(claim)),
    }
}

/// Whole seconds in [`nanos`]' unit.
fn secs(s: i64) -> i128 {
    s as i128 * 1_000_000_000
}

/// Bound on [`nanos`]' result: 10^18 seconds, far beyond any time or lifetime compared with it.
const FAR: i128 = 1_000_000_000_000_000_000 * 1_000_000_000;

/// A NumericDate (JSON number text, already checked against JSON's grammar) in nanoseconds,
/// rounded up to the next nanosecond and clamped to ±[`FAR`]: exact decimal arithmetic instead
/// of an `f64` (which would bring the float parser and its tables into the Worker). Every
/// comparison with whole seconds comes out as with the exact value. `None` for a number with
/// more than 309 integer digits (beyond `f64`, which `serde_json` refused).
fn nanos(text: &str) -> Option<i128> {
    let (neg, t) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => {
            // JSON's exponent: a sign, then digits (saturating: it is clamped below anyway).
            let e = &t[i + 1..];
            let (minus, d) = e.strip_prefix('-').map_or((false, e.trim_start_matches('+')), |d| (true, d));
            let m = crate::json::digits_u64(d).map_or(i64::MAX, |v| v.min(i64::MAX as u64) as i64);
            (&t[..i], if minus { -m } else { m })
        }
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = int.bytes().chain(frac.bytes());
    // The digits without leading zeros, and the power of ten of the last one, in nanoseconds.
    let mut digits: Vec<u8> = Vec::new();
    for d in all.skip_while(|&d| d == b'0') {
        digits.push(d - b'0');
    }
    let scale = exp.clamp(-1_000_000, 1_000_000) - frac.len() as i64 + 9;
    if digits.is_empty() {
        return Some(0);
    }
    let magnitude = digits.len() as i64 + scale; // digits of the value in nanoseconds
    if magnitude - 9 > 309 {
        return None;
    }
    let v = if magnitude > 28 {
        FAR
    } else {
        let keep = magnitude.max(0) as usize;
        let mut v: i128 = 0;
        for &d in digits.iter().take(keep) {
            v = v * 10 + d as i128;
        }
        for _ in digits.len()..keep {
            v *= 10;
        }
        // Digits below a nanosecond round away from zero for a positive value (up) and are cut
        // for a negative one (also up).
        if !neg && digits.iter().skip(keep).any(|&d| d != 0) {
            v += 1;
        }
        v.min(FAR)
    };
    Some(if neg { -v } else { v })
}

/// Nesting allowed in a token's header and claims (`serde_json`'s recursion limit).
const MAX_DEPTH: usize = 127;

/// A base64url part holding a JSON object. An object that repeats a member name is refused:
/// which of two `sub` (or `alg`) values counts must never depend on the parser.
fn decode_json(part: &str) -> Result<Json, JwtError> {
    let bytes = crate::b64::decode_url(part).ok_or(JwtError::Malformed)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| JwtError::Malformed)?;
    match crate::json::parse(text, MAX_DEPTH) {
        Ok(v @ Json::Obj(_)) if v.repeated_key().is_none() => Ok(v),
        _ => Err(JwtError::Malformed),
    }
}

/// Signs `claims` as an HS256 JWT. For tests, tools and the README; the Worker only verifies.
pub fn sign_hs256(secret: &[u8], claims: &serde_json::Value) -> String {
    let h = crate::b64::encode_url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = crate::b64::encode_url(claims.to_string().as_bytes());
    let mut mac = HmacSha256::new(secret);
    let signed = cat(&[&h, ".", &p]);
    mac.update(signed.as_bytes());
    cat(&[&signed, ".", &crate::b64::encode_url(&mac.finalize())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use hmac::Mac;
    use serde_json::{json, Value};

    /// The tests' tokens are signed by the `hmac` crate, not by src/ingest/mac.rs.
    type HmacSha256 = hmac::Hmac<sha2::Sha256>;

    /// A token signed over a hand-written claims text (to test what `json!` cannot write).
    fn raw_claims(claims: &str) -> String {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
        let p = URL_SAFE_NO_PAD.encode(claims);
        let mut mac = HmacSha256::new_from_slice(KEY).unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn claims_parse_edges() {
        // Fractional NumericDates are numbers too.
        let t = raw_claims(r#"{"sub":"u","exp":1000.5,"nbf":1e3}"#);
        assert!(verify(&t, &rules(), 950).is_ok());
        assert_eq!(verify(&t, &rules(), 939).unwrap_err(), JwtError::NotYetValid);
        assert_eq!(verify(&raw_claims(r#"{"sub":"u","exp":"100"}"#), &rules(), 0).unwrap_err(), JwtError::MissingExp);
        // Beyond f64: serde_json refused the whole token; so do we.
        assert_eq!(verify(&raw_claims(r#"{"sub":"u","exp":1e400}"#), &rules(), 0).unwrap_err(), JwtError::Malformed);
        assert_eq!(
            verify(&raw_claims(r#"{"sub":"u","exp":100,"iat":-1e999}"#), &rules(), 0).unwrap_err(),
            JwtError::Malformed
        );
        // A repeated claim is refused (serde_json took the last `sub`: which one counts must not
        // depend on the parser).
        assert_eq!(
            verify(&raw_claims(r#"{"sub":"u","sub":"admin","exp":100}"#), &rules(), 0).unwrap_err(),
            JwtError::Malformed
        );
        // Not JSON, not an object, invalid UTF-8, lone surrogate: malformed.
        for c in ["{", "[1]", "\"x\"", "{\"sub\":\"\\ud800\",\"exp\":100}"] {
            assert_eq!(verify(&raw_claims(c), &rules(), 0).unwrap_err(), JwtError::Malformed, "{c}");
        }
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
        let p = URL_SAFE_NO_PAD.encode(b"{\"sub\":\"\xff\",\"exp\":100}");
        let mut mac = HmacSha256::new_from_slice(KEY).unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        let t = format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
        assert_eq!(verify(&t, &rules(), 0).unwrap_err(), JwtError::Malformed);
        // A repeated header member too (`alg` twice).
        let two_algs = with_header_text(r#"{"alg":"none","alg":"HS256"}"#);
        assert_eq!(verify(&two_algs, &rules(), 0).unwrap_err(), JwtError::Malformed);
        // Whitespace and nesting in claims are fine.
        assert!(verify(&raw_claims(" {\"sub\" : \"u\", \"exp\" : 100, \"x\": {\"y\": [[]]}} "), &rules(), 0).is_ok());
    }

    /// The time checks as they were, in `f64` (what `serde_json`'s `as_f64` gave).
    fn times_in_f64(exp: f64, nbf: Option<f64>, iat: Option<f64>, now: i64, r: &JwtRules) -> Result<(), JwtError> {
        let (now, leeway, max) = (now as f64, r.leeway_secs as f64, r.max_lifetime_secs as f64);
        if now >= exp + leeway {
            return Err(JwtError::Expired);
        }
        if nbf.is_some_and(|nbf| now + leeway < nbf) {
            return Err(JwtError::NotYetValid);
        }
        if iat.is_some_and(|iat| exp - iat > max) {
            return Err(JwtError::TooLongLived);
        }
        if iat.is_some_and(|iat| now + leeway < iat) {
            return Err(JwtError::NotYetValid);
        }
        if exp - now > max + leeway {
            return Err(JwtError::TooLongLived);
        }
        Ok(())
    }

    #[test]
    fn time_claims_decide_as_f64_did() {
        let mut r = rules();
        r.leeway_secs = 60;
        r.max_lifetime_secs = 3600;
        let texts = [
            "1000",
            "1000.0",
            "1000.5",
            "999.999",
            "1e3",
            "1.0005E3",
            "10000e-1",
            "940",
            "939.5",
            "1060",
            "1060.000001",
            "4660",
            "4660.5",
            "4599.75",
            "-5.5",
            "0",
            "-0",
            "0.0000000001",
            "1000.0000000001",
            "999.9999999999",
            "1e-400",
        ];
        let mut compared = 0;
        for exp in texts {
            for nbf in [None, Some("940"), Some("1000.5"), Some("1e3")] {
                for iat in [None, Some("939.5"), Some("-2600"), Some("1000.0000000001"), Some("1061")] {
                    let mut claims = format!(r#"{{"sub":"u","exp":{exp}"#);
                    if let Some(n) = nbf {
                        claims += &format!(r#","nbf":{n}"#);
                    }
                    if let Some(i) = iat {
                        claims += &format!(r#","iat":{i}"#);
                    }
                    claims.push('}');
                    let t = raw_claims(&claims);
                    let f = |x: &str| x.parse::<f64>().unwrap();
                    for now in [0, 879, 880, 939, 940, 941, 999, 1000, 1001, 1059, 1060, 1061] {
                        let want = times_in_f64(f(exp), nbf.map(f), iat.map(f), now, &r);
                        assert_eq!(verify(&t, &r, now).map(|_| ()), want, "{claims} at {now}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 3000);
        // Only where f64 itself rounds (below its precision) could the two differ: f64 takes
        // 1000.00000000000001 for 1000 (expired at 1000 + 60 s of leeway), the exact value is a
        // hair later.
        let t = raw_claims(r#"{"sub":"u","exp":1000.00000000000001}"#);
        assert_eq!(times_in_f64(1000.00000000000001, None, None, 1060, &r), Err(JwtError::Expired));
        assert!(verify(&t, &r, 1060).is_ok());
        // Beyond f64's range: refused as serde_json refused it; huge but in range: clamped.
        assert_eq!(nanos(&format!("1{}", "0".repeat(309))), None);
        assert_eq!(nanos("1e308"), Some(FAR));
        assert_eq!(nanos("-1e308"), Some(-FAR));
        assert_eq!(nanos("1.5"), Some(1_500_000_000));
        assert_eq!(nanos("-1.0000000001"), Some(-1_000_000_000));
        assert_eq!(nanos("1.0000000001"), Some(1_000_000_001));
        assert_eq!(nanos("12e-10"), Some(2));
        assert_eq!(nanos("0e5"), Some(0));
        assert_eq!(nanos("1e99999999999999999999"), None);
        assert_eq!(nanos("1e-99999999999999999999"), Some(1));
    }

    fn with_header_text(header: &str) -> String {
        let h = URL_SAFE_NO_PAD.encode(header);
        let p = URL_SAFE_NO_PAD.encode(json!({"sub": "u", "exp": 100}).to_string());
        let mut mac = HmacSha256::new_from_slice(KEY).unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    const KEY: &[u8] = b"test-secret-test-secret-test-secret!";

    /// The default rules, minus the audience check (tested on its own below).
    fn rules() -> JwtRules {
        JwtRules { audience: None, ..JwtRules::new(KEY.to_vec()) }
    }

    /// A token with a hand-made header.
    fn with_header(header: &Value, claims: &Value) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut mac = HmacSha256::new_from_slice(KEY).unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn accepts_valid_and_reads_claims() {
        let t = sign_hs256(KEY, &json!({"sub": "u-1", "name": "Ann", "exp": 1000, "nbf": 900}));
        assert_eq!(
            verify(&t, &rules(), 950).unwrap(),
            Identity { sub: "u-1".into(), name: Some("Ann".into()), tenant: None }
        );
    }

    #[test]
    fn time_claims_with_leeway() {
        let mut r = rules();
        r.leeway_secs = 10;
        let t = sign_hs256(KEY, &json!({"sub": "u", "exp": 1000, "nbf": 500}));
        assert!(verify(&t, &r, 1009).is_ok());
        assert_eq!(verify(&t, &r, 1010).unwrap_err(), JwtError::Expired);
        assert!(verify(&t, &r, 490).is_ok());
        assert_eq!(verify(&t, &r, 489).unwrap_err(), JwtError::NotYetValid);
        let no_exp = sign_hs256(KEY, &json!({"sub": "u"}));
        assert_eq!(verify(&no_exp, &r, 0).unwrap_err(), JwtError::MissingExp);
    }

    #[test]
    fn refuses_other_keys_and_tampering() {
        let t = sign_hs256(b"another-key-another-key-another-k", &json!({"sub": "u", "exp": 100}));
        assert_eq!(verify(&t, &rules(), 0).unwrap_err(), JwtError::BadSignature);
        let good = sign_hs256(KEY, &json!({"sub": "u", "exp": 100}));
        let forged_payload = URL_SAFE_NO_PAD.encode(json!({"sub": "admin", "exp": 100}).to_string());
        let parts: Vec<&str> = good.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(verify(&forged, &rules(), 0).unwrap_err(), JwtError::BadSignature);
    }

    #[test]
    fn refuses_alg_none_and_others() {
        let p = URL_SAFE_NO_PAD.encode(json!({"sub": "u", "exp": 9e9}).to_string());
        for alg in ["none", "None", "HS384", "RS256", "hs256"] {
            let h = URL_SAFE_NO_PAD.encode(json!({"alg": alg}).to_string());
            for t in [format!("{h}.{p}."), format!("{h}.{p}.AAAA")] {
                assert!(matches!(verify(&t, &rules(), 0), Err(JwtError::UnsupportedAlg(_))), "{alg}");
            }
        }
        for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!", &"a".repeat(MAX_TOKEN_LEN + 1)] {
            assert_eq!(verify(bad, &rules(), 0).unwrap_err(), JwtError::Malformed, "{bad}");
        }
    }

    /// A token with 200 group ids (Microsoft Entra ID's most before its overage claim), ~11 KB,
    /// was refused as "not a well-formed JWS compact serialisation" (the bound was 8192 bytes).
    /// It verifies; one over [`MAX_TOKEN_LEN`] is still refused.
    #[test]
    fn a_token_with_200_group_ids_verifies() {
        let groups: Vec<String> = (0..200).map(|i| format!("{i:08x}-1b2c-4d5e-8f90-a1b2c3d4e5f6")).collect();
        let t = sign_hs256(KEY, &json!({"sub": "u", "exp": 100, "groups": groups, "tid": "x".repeat(36)}));
        assert!(t.len() > 10_000, "{}", t.len());
        assert_eq!(verify(&t, &rules(), 0).unwrap().sub, "u");
        let long = sign_hs256(KEY, &json!({"sub": "u", "exp": 100, "pad": "p".repeat(MAX_TOKEN_LEN)}));
        assert_eq!(verify(&long, &rules(), 0).unwrap_err(), JwtError::Malformed);
    }

    #[test]
    fn audience_issuer_subject() {
        let mut r = rules();
        r.audience = Some("audit".into());
        r.issuer = Some("https://idp".into());
        let ok = sign_hs256(KEY, &json!({"sub": "u", "exp": 100, "aud": ["x", "audit"], "iss": "https://idp"}));
        assert!(verify(&ok, &r, 0).is_ok());
        let aud = sign_hs256(KEY, &json!({"sub": "u", "exp": 100, "aud": "other", "iss": "https://idp"}));
        assert_eq!(verify(&aud, &r, 0).unwrap_err(), JwtError::WrongAudience);
        let iss = sign_hs256(KEY, &json!({"sub": "u", "exp": 100, "aud": "audit", "iss": "evil"}));
        assert_eq!(verify(&iss, &r, 0).unwrap_err(), JwtError::WrongIssuer);
        let sub = sign_hs256(KEY, &json!({"sub": " ", "exp": 100}));
        assert_eq!(verify(&sub, &rules(), 0).unwrap_err(), JwtError::BadSubject);
        // The rule is the rule table's user.uid: a subject the Worker accepts, it can write.
        for (sub, ok) in
            [("a\u{7f}b".to_owned(), false), ("u".repeat(MAX_CLAIM_LEN + 1), false), ("u".repeat(MAX_CLAIM_LEN), true)]
        {
            let t = sign_hs256(KEY, &json!({"sub": sub, "exp": 100}));
            assert_eq!(verify(&t, &rules(), 0).is_ok(), ok, "{sub}");
            assert_eq!(crate::rules::check_uid("user.uid", &sub).is_ok(), ok, "{sub}");
        }
    }

    /// Trojan Source: a subject, name or tenant (a trail's name) holding a bidirectional control
    /// (U+202E, U+2067, U+200F, ...) is refused (401), as the rule table refuses it in a uid or
    /// user name: the Worker's events take their user from the token.
    #[test]
    fn bidirectional_controls_in_identity_claims_are_refused() {
        let mut r = rules();
        r.tenant_claim = Some("org".into());
        for c in ['\u{202e}', '\u{2067}', '\u{200f}', '\u{61c}'] {
            let bad = format!("adm{c}nimda");
            let t = |claims: serde_json::Value| sign_hs256(KEY, &claims);
            let e = verify(&t(json!({"sub": bad, "exp": 100, "org": "o"})), &r, 0).unwrap_err();
            assert_eq!(e, JwtError::BadSubject, "{c:?}");
            let e = verify(&t(json!({"sub": "u", "name": bad, "exp": 100, "org": "o"})), &r, 0).unwrap_err();
            assert_eq!(e, JwtError::BadName, "{c:?}");
            assert!(e.to_string().ends_with("without control characters or bidirectional controls"), "{e}");
            assert!(e.to_string().contains(&cat(&[" at most ", &crate::error::num(MAX_CLAIM_LEN as u64), " bytes"])));
            let e = verify(&t(json!({"sub": "u", "exp": 100, "org": bad})), &r, 0).unwrap_err();
            assert_eq!(e, JwtError::BadTenant, "{c:?}");
        }
        // Right-to-left text itself is no control: a Hebrew name and tenant pass.
        let ok = sign_hs256(KEY, &json!({"sub": "u", "name": "\u{5d3}\u{5e0}\u{5d4}", "exp": 100, "org": "\u{5d0}"}));
        assert!(verify(&ok, &r, 0).is_ok());
    }

    /// An identity that looks like another one: a subject or tenant holding an invisible character
    /// (U+200B, U+FEFF, U+00AD, U+2060, a Hangul filler, a tag character: Unicode's
    /// Default_Ignorable_Code_Point) or a tenant with white space at either end (`" acme"` was a
    /// trail of its own, `org: acme`, that displays as acme's) is refused (401), as the rule
    /// table refuses them in a written uid or trail name. A display name keeps its joiners.
    #[test]
    fn invisible_characters_and_padding_in_identity_claims_are_refused() {
        let mut r = rules();
        r.tenant_claim = Some("org".into());
        let t = |claims: serde_json::Value| sign_hs256(KEY, &claims);
        for c in ['\u{200b}', '\u{feff}', '\u{ad}', '\u{2060}', '\u{200d}', '\u{3164}', '\u{e0041}'] {
            for bad in [format!("alice{c}"), format!("{c}alice"), format!("al{c}ice")] {
                let e = verify(&t(json!({"sub": bad, "exp": 100, "org": "o"})), &r, 0).unwrap_err();
                assert_eq!(e, JwtError::BadSubject, "{bad:?}");
                let e = verify(&t(json!({"sub": "u", "exp": 100, "org": bad})), &r, 0).unwrap_err();
                assert_eq!(e, JwtError::BadTenant, "{bad:?}");
            }
        }
        for bad in [" acme", "acme ", "\u{a0}acme", "acme\u{3000}", "acme\n"] {
            let e = verify(&t(json!({"sub": "u", "exp": 100, "org": bad})), &r, 0).unwrap_err();
            assert_eq!(e, JwtError::BadTenant, "{bad:?}");
        }
        let m = JwtError::BadTenant.to_string();
        assert_eq!(
            m,
            "token's tenant claim is not a trail name: 1-200 bytes, no control or invisible characters, no white space at \
             either end"
        );
        // A name (free text) keeps a zero width non-joiner, an emoji's joiner and variation selector.
        let name =
            "\u{645}\u{6cc}\u{200c}\u{62e}\u{648}\u{627}\u{647}\u{645} \u{1f469}\u{200d}\u{1f4bb} \u{2764}\u{fe0f}";
        let ok = verify(&t(json!({"sub": "u", "name": name, "exp": 100, "org": "a b"})), &r, 0).unwrap();
        assert_eq!((ok.name.as_deref(), ok.tenant.as_deref()), (Some(name), Some("a b")));
    }

    /// A 401 for a token the identity provider made for another audience or issuer, or with a
    /// longer life, names the Worker setting it failed, so an operator knows what to change.
    #[test]
    fn refusals_of_claims_name_the_setting() {
        assert!(JwtError::WrongAudience.message().contains("JWT_AUDIENCE"));
        assert!(JwtError::WrongAudience.message().contains("\"neo4j-audit\""));
        assert!(JwtError::WrongIssuer.message().contains("JWT_ISSUER"));
        assert!(JwtError::TooLongLived.message().contains("JWT_MAX_LIFETIME_SECS"));
    }

    #[test]
    fn audience_is_required_by_default() {
        let d = JwtRules::new(KEY.to_vec());
        assert_eq!(d.audience.as_deref(), Some(DEFAULT_AUDIENCE));
        let none = sign_hs256(KEY, &json!({"sub": "u", "exp": 100}));
        assert_eq!(verify(&none, &d, 0).unwrap_err(), JwtError::WrongAudience);
        let other = sign_hs256(KEY, &json!({"sub": "u", "exp": 100, "aud": "someone-else"}));
        assert_eq!(verify(&other, &d, 0).unwrap_err(), JwtError::WrongAudience);
        let ours = sign_hs256(KEY, &json!({"sub": "u", "exp": 100, "aud": [DEFAULT_AUDIENCE]}));
        assert!(verify(&ours, &d, 0).is_ok());
        // Only the explicit opt-out (audience None) lets a token without aud through.
        assert!(verify(&none, &rules(), 0).is_ok());
    }

    #[test]
    fn lifetime_is_capped() {
        let mut r = rules();
        r.max_lifetime_secs = 3600;
        r.leeway_secs = 60;
        let now = 1_000_000;
        let long_iat = sign_hs256(KEY, &json!({"sub": "u", "iat": now, "exp": now + 3601}));
        assert_eq!(verify(&long_iat, &r, now).unwrap_err(), JwtError::TooLongLived);
        let ok_iat = sign_hs256(KEY, &json!({"sub": "u", "iat": now - 10, "exp": now + 3590}));
        assert!(verify(&ok_iat, &r, now).is_ok());
        // Without iat, exp may be at most max + leeway ahead of now.
        let far = sign_hs256(KEY, &json!({"sub": "u", "exp": now + 3661}));
        assert_eq!(verify(&far, &r, now).unwrap_err(), JwtError::TooLongLived);
        let near = sign_hs256(KEY, &json!({"sub": "u", "exp": now + 3660}));
        assert!(verify(&near, &r, now).is_ok());
        // A lying iat does not help: a token issued later than now (beyond the leeway) is not
        // valid yet, and exp - now still counts.
        let lying = sign_hs256(KEY, &json!({"sub": "u", "iat": now + 86_000, "exp": now + 86_400}));
        assert_eq!(verify(&lying, &r, now).unwrap_err(), JwtError::NotYetValid);
        let ahead = sign_hs256(KEY, &json!({"sub": "u", "iat": now + 61, "exp": now + 600}));
        assert_eq!(verify(&ahead, &r, now).unwrap_err(), JwtError::NotYetValid);
        let within_skew = sign_hs256(KEY, &json!({"sub": "u", "iat": now + 60, "exp": now + 600}));
        assert!(verify(&within_skew, &r, now).is_ok());
        let far_no_iat_check = sign_hs256(KEY, &json!({"sub": "u", "iat": now, "exp": now + 3661}));
        assert_eq!(verify(&far_no_iat_check, &r, now).unwrap_err(), JwtError::TooLongLived);
        let bad_iat = sign_hs256(KEY, &json!({"sub": "u", "iat": "yesterday", "exp": now + 10}));
        assert_eq!(verify(&bad_iat, &r, now).unwrap_err(), JwtError::BadTime("iat"));
        assert_eq!(JwtRules::new(KEY.to_vec()).max_lifetime_secs, DEFAULT_MAX_LIFETIME_SECS);
    }

    #[test]
    fn a_claim_of_the_wrong_type_is_named() {
        // A new user's finding: `name: 5` was answered "token is not a well-formed JWS compact
        // serialisation", which sends them looking at the token's encoding, not at the claim.
        for bad in [
            json!(5),
            json!(true),
            json!(["Ann"]),
            json!({"first": "Ann"}),
            json!("a\nb"),
            json!("n".repeat(MAX_CLAIM_LEN + 1)),
        ] {
            let t = sign_hs256(KEY, &json!({"sub": "u", "exp": 100, "name": bad}));
            let e = verify(&t, &rules(), 0).unwrap_err();
            assert_eq!(e, JwtError::BadName, "{bad}");
            assert_eq!(
                e.to_string(),
                "token's name claim is not a string of at most 1024 bytes without control characters or bidirectional controls"
            );
        }
        // The rule is the rule table's user.name: what the Worker accepts here, it can write.
        for ok in [json!(null), json!(""), json!("Zoë 😀"), json!("n".repeat(MAX_CLAIM_LEN))] {
            let t = sign_hs256(KEY, &json!({"sub": "u", "exp": 100, "name": ok}));
            let who = verify(&t, &rules(), 0).unwrap();
            assert!(crate::rules::check_user(&who.sub, who.name.as_deref()).is_ok(), "{ok}");
        }
        for claim in ["nbf", "iat"] {
            let t = sign_hs256(KEY, &json!({"sub": "u", "exp": 100, claim: "yesterday"}));
            let e = verify(&t, &rules(), 0).unwrap_err();
            assert_eq!(e, JwtError::BadTime(claim));
            assert!(e.to_string().starts_with(&format!("token's {claim} claim is not a number")), "{e}");
        }
    }

    #[test]
    fn header_type_must_name_a_jwt() {
        let c = json!({"sub": "u", "exp": 100});
        for ok in [
            json!({"alg": "HS256"}),
            json!({"alg": "HS256", "typ": "JWT"}),
            json!({"alg": "HS256", "typ": "jwt"}),
            json!({"alg": "HS256", "typ": "at+JWT"}),
            json!({"alg": "HS256", "typ": "application/at+jwt"}),
        ] {
            assert!(verify(&with_header(&ok, &c), &rules(), 0).is_ok(), "{ok}");
        }
        for bad in [
            json!({"alg": "HS256", "typ": "JWS"}),
            json!({"alg": "HS256", "typ": "dpop+jwt"}),
            json!({"alg": "HS256", "typ": ""}),
            json!({"alg": "HS256", "typ": 1}),
        ] {
            assert_eq!(verify(&with_header(&bad, &c), &rules(), 0).unwrap_err(), JwtError::WrongType, "{bad}");
        }
    }
}
