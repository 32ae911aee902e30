//! Who a logger writes as, derived once from its configuration: the durable queue files each
//! event under this identity and sends it only under the same one, so an event logged by one
//! user can never be delivered with another user's credentials.
//!
//! - client mode (`endpoint` + `token`): `sub:<the token's sub claim>`, followed by
//!   `|h:<hash>` of the token's other lasting claims when it has any (`iss`, `aud`, a tenant
//!   claim, …; those left out are `IGNORED_CLAIMS` in src/identity.rs): one user in two tenants is two identities;
//!   a `sub` holding `|h:` gives `id:<hash>` instead, so no `sub` spells another's `sub` and claims;
//! - direct mode with Basic auth: `user:<username>`;
//! - direct mode with a bearer token: `sub:<sub>` when the token is a JWT with a subject;
//! - a token without a readable subject: `token:<first 16 bytes of SHA-256 of it, hex>` (the
//!   token itself is never stored);
//! - no credentials: `anonymous`.
//!
//! The client cannot verify the token (only the Worker holds the key); the subject read here
//! only decides which queued events a logger may send. The Worker still takes the identity from
//! the token it verifies, so a forged token gains nothing.
//!
//! ```
//! use neo4j_audit::identity::token_subject;
//! // {"alg":"HS256"} . {"sub":"alice"} . signature
//! assert_eq!(token_subject("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln").as_deref(), Some("alice"));
//! assert_eq!(token_subject("opaque-token"), None);
//! ```

use crate::error::cat;
use crate::sha::Sha256;

use crate::config::Config;

/// A storage scope made of `parts` (a logger's target, trail and identity): each part
/// length-prefixed, then `\u{1}`, so no two lists of parts share a scope or make one a prefix of
/// another, whatever the parts contain. The durable queue files records under it and a page keeps
/// its chain state under it; the parts were once joined with `|`, which a trail name or a token's
/// `sub` (`auth0|123`) may contain, so trail `t|user:a` written as `b` and trail `t` written as
/// `a|…` could share a scope, and one logger could send the other identity's queued events.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // the queue and the page's chain state are wasm's
pub(crate) fn scope(parts: &[&str]) -> String {
    let mut s = String::from("2|");
    for p in parts {
        s.push_str(&crate::error::num(p.len() as u64));
        s.push(':');
        s.push_str(p);
    }
    s.push('\u{1}');
    s
}

/// The identity of a configuration (see the module docs).
pub fn of_config(c: &Config) -> String {
    let id = match (&c.username, &c.token) {
        (Some(u), _) => cat(&["user:", u]),
        (None, Some(t)) => of_token(t),
        (None, None) => "anonymous".into(),
    };
    // Control characters would break the queue's key layout: such a name is kept as a hash.
    if id.chars().any(char::is_control) {
        hashed("id", &id)
    } else {
        id
    }
}

/// [`of_config`] for a bearer token, out of line: a logger with Basic auth (the usual Worker's)
/// never runs it, and V8 compiles a wasm function whole on its first call (bench/coldstart-v8.mjs).
#[inline(never)]
fn of_token(t: &str) -> String {
    match token_identity(t) {
        Some((sub, scope)) => {
            let id = match &scope {
                None => cat(&["sub:", &sub]),
                Some(scope) => cat(&["sub:", &sub, "|", scope]),
            };
            // A `sub` holding `|h:` could spell another user's `sub` and claims hash
            // (`alice|h:<hash>` without other claims = `alice` with them): such an identity is
            // kept as a hash, so `sub:<a>|h:<b>` always splits at its first `|h:`.
            if crate::error::find(&sub, "|h:").is_some() {
                hashed("id", &id)
            } else {
                id
            }
        }
        None => hashed("token", t),
    }
}

fn hashed(kind: &str, s: &str) -> String {
    let h = Sha256::digest(s.as_bytes());
    let mut out = String::with_capacity(kind.len() + 33);
    out.push_str(kind);
    out.push(':');
    out.push_str(&crate::chain::hex(&h[..16]));
    out
}

/// Claims left out of [`token_identity`]'s scope: those that change from one token of a user to
/// the next (times, ids, nonces, sessions), describe the user (names, e-mail, picture) or what the
/// token may do (scopes, roles, permissions): none of them names another user or tenant.
/// Identity providers' own per-token or per-sign-in claims too: Microsoft Entra ID's `aio` (opaque,
/// new in every token) and `ipaddr` (where the user signed in from), Clerk's `fva` (minutes since
/// the last factor verification: another value in a token a minute later), Amazon Cognito's
/// `event_id` and `origin_jti` (new at each sign-in), and RFC 7800's `cnf` (the key a token is
/// bound to, e.g. DPoP's): kept, each such token was an identity of its own, so a user's events
/// queued under one token were never sent with the next and expired (redteam16).
/// Space-separated, for [`crate::error::listed`].
const IGNORED_CLAIMS: &str = "sub exp iat nbf jti auth_time nonce at_hash c_hash s_hash sid session_state uti rh \
    name given_name family_name middle_name nickname preferred_username email email_verified picture locale zoneinfo \
    updated_at scope scp permissions roles groups azp acr amr client_id ver aio ipaddr fva event_id origin_jti cnf";

/// Whether `name` is one of [`IGNORED_CLAIMS`].
fn ignored_claim(name: &str) -> bool {
    crate::error::listed(IGNORED_CLAIMS, name).is_some()
}

/// Whether the queue's identity leaves claim `name` out ([`IGNORED_CLAIMS`], `sub` aside: it is
/// the identity's first part): two tokens of one `sub` that differ only in such a claim share one
/// queue. The Worker refuses such a `TENANT_CLAIM` (src/ingest/mod.rs), since one user's event
/// queued under one tenant's token would go out with another tenant's token, into its trail.
#[cfg_attr(not(feature = "ingest"), allow(dead_code))]
pub(crate) fn ignores_claim(name: &str) -> bool {
    name != "sub" && ignored_claim(name)
}

/// The `sub` claim of a JWT (read, not verified) and, when the token has other lasting claims
/// (`iss`, `aud`, a tenant or organisation claim, …), a hash of them (`h:` + 32 hex digits of
/// SHA-256 over them, sorted by name, as compact JSON): a Worker with `TENANT_CLAIM` writes the
/// same `sub` into another tenant's trail when that claim differs, so two tokens of one `sub`
/// that differ in such a claim are two identities, and one's queued events are never sent with
/// the other's token. Tokens that differ only in [`IGNORED_CLAIMS`] (a refreshed token) are one
/// identity.
fn token_identity(token: &str) -> Option<(String, Option<String>)> {
    let claims = token_claims(token)?;
    let sub = claims.get("sub")?.as_str()?;
    if sub.is_empty() {
        return None;
    }
    let mut kept: Vec<&(String, crate::json::Json)> = Vec::new();
    for member in claims.as_object()? {
        if !ignored_claim(&member.0) {
            kept.push(member);
        }
    }
    if kept.is_empty() {
        return Some((sub.to_owned(), None));
    }
    // By name, a repeated name in document order: `kept` points into one slice, so the
    // addresses give that order (an unstable sort: std's stable one would be another ~700 B
    // instance in the .wasm).
    crate::sort::sort_by(&mut kept, |a, b| (&a.0, *a as *const _ as usize) < (&b.0, *b as *const _ as usize));
    let mut text = String::new();
    for (k, v) in kept {
        crate::json::write_str(&mut text, k);
        text.push(':');
        v.write(&mut text);
        text.push(',');
    }
    Some((sub.to_owned(), Some(hashed("h", &text))))
}

/// The claims of a JWT (read, not verified), when its payload is a JSON object.
fn token_claims(token: &str) -> Option<crate::json::Json> {
    // The second `.`-separated part (`split('.').nth(1)`, by error::find: no char searcher in the .wasm).
    let t = token.trim();
    let rest = &t[crate::error::find(t, ".")? + 1..];
    let payload = &rest[..crate::error::find(rest, ".").unwrap_or(rest.len())];
    let bytes = crate::b64::decode_url(payload.trim_end_matches('='))?;
    let v = crate::json::parse(std::str::from_utf8(&bytes).ok()?, 32).ok()?;
    v.as_object()?;
    Some(v)
}

/// The `sub` claim of a JWT (read, not verified), when it has a non-empty string one.
pub fn token_subject(token: &str) -> Option<String> {
    let v = token_claims(token)?;
    let sub = v.get("sub")?.as_str()?;
    (!sub.is_empty()).then(|| sub.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_claims_are_whole_names() {
        for name in ["sub", "exp", "auth_time", "rh", "preferred_username", "updated_at", "client_id", "ver"] {
            assert!(ignored_claim(name), "{name}");
        }
        // Not a part of one name, two names with their space, or nothing.
        for name in ["", "su", "ubx", "iss", "aud", "tenant", "sub exp", "rh ", " rh", "vers"] {
            assert!(!ignored_claim(name), "{name:?}");
        }
        assert_eq!(IGNORED_CLAIMS.split(' ').count(), 42);
        assert!(IGNORED_CLAIMS.split(' ').all(|w| !w.is_empty() && !w.contains(char::is_whitespace)));
    }

    #[test]
    fn ignores_claim_takes_whole_names_and_never_sub() {
        // The merge of the one-text list with the Worker's TENANT_CLAIM check first read it as a
        // substring test: a tenant claim such as "ten" or "id" was refused as ignored.
        for name in ["azp", "client_id", "email", "sid"] {
            assert!(ignores_claim(name), "{name}");
        }
        for name in ["sub", "", "ten", "id", "at", "org_id", "tid", "tenant"] {
            assert!(!ignores_claim(name), "{name:?}");
        }
    }

    fn jwt(claims: &str) -> String {
        format!("eyJhbGciOiJIUzI1NiJ9.{}.sig", crate::b64::encode_url(claims.as_bytes()))
    }

    #[test]
    fn scopes_of_different_parts_never_meet() {
        // Joined with '|', these two (trail, identity) pairs gave the same queue scope: a logger
        // of one would have sent the other's queued events under its own credentials.
        let a = scope(&["", "http://h:7474", "neo4j", "AuditEvent", "t|sub:a", "sub:b"]);
        let b = scope(&["", "http://h:7474", "neo4j", "AuditEvent", "t", "sub:a|sub:b"]);
        assert_ne!(a, b);
        // Nor is one scope a prefix of another's record key (scope + event uid).
        let c = scope(&["", "http://h:7474", "neo4j", "AuditEvent", "t", "sub:a"]);
        let d = scope(&["", "http://h:7474", "neo4j", "AuditEvent", "t", "sub:a\u{1}x"]);
        assert!(!cat(&[&d, "uid"]).starts_with(&c) && !cat(&[&c, "uid"]).starts_with(&d));
        assert_eq!(c, "2|0:13:http://h:74745:neo4j10:AuditEvent1:t5:sub:a\u{1}");
    }

    #[test]
    fn identities() {
        let basic = Config::new("http://h:1").basic_auth("neo4j", "pw");
        assert_eq!(of_config(&basic), "user:neo4j");
        let mut client = Config::new("");
        client.endpoint = Some("https://w/v1/events".into());
        client.token = Some(jwt(r#"{"sub":"alice","exp":1}"#));
        assert_eq!(of_config(&client), "sub:alice");
        client.token = Some(jwt(r#"{"sub":"bob"}"#));
        assert_eq!(of_config(&client), "sub:bob");
        let opaque = Config::new("http://h:1").bearer("opaque-secret-token");
        let id = of_config(&opaque);
        assert!(id.starts_with("token:") && !id.contains("opaque"), "{id}");
        assert_eq!(of_config(&Config::new("http://h:1")), "anonymous");
    }

    /// The identity of an ingest-mode logger holding a token with these claims.
    fn ingest_identity(claims: &str) -> String {
        let mut c = Config::new("");
        c.endpoint = Some("https://w/v1/events".into());
        c.token = Some(jwt(claims));
        of_config(&c)
    }

    /// One user (`sub`) in two tenants: a Worker with `TENANT_CLAIM` writes each token's events
    /// into that tenant's trail, so a queued event logged under org A's token must not be sent
    /// with org B's (before, both were `sub:alice` and shared the queue). A refreshed token
    /// (new exp/iat/jti, another name) stays the same identity.
    #[test]
    fn tokens_of_one_subject_in_two_tenants_are_two_identities() {
        let with = ingest_identity;
        let a = with(r#"{"sub":"alice","org_id":"A","aud":"neo4j-audit","exp":1,"iat":0}"#);
        let b = with(r#"{"sub":"alice","org_id":"B","aud":"neo4j-audit","exp":1,"iat":0}"#);
        assert_ne!(a, b);
        assert!(a.starts_with("sub:alice|h:") && !a.contains("org_id") && !a.contains('A'), "{a}");
        let refreshed = with(
            r#"{"aud":"neo4j-audit","org_id":"A","sub":"alice","exp":99,"iat":50,"jti":"x","name":"Ann","sid":"s2","scope":"read write","roles":["admin"]}"#,
        );
        assert_eq!(a, refreshed);
        assert_ne!(a, with(r#"{"sub":"alice","org_id":"A","aud":"neo4j-audit","iss":"https://other.example"}"#));
        assert_eq!(with(r#"{"sub":"alice","exp":1,"name":"Ann"}"#), "sub:alice");
    }

    /// Found by redteam40: a token whose `sub` is `alice|h:<hash>` and has no other lasting
    /// claims had alice's identity in a tenant whose claims hash to `<hash>`, so a logger holding
    /// it could send alice's queued events with its own token.
    #[test]
    fn a_subject_cannot_spell_another_subject_and_its_claims() {
        let with = ingest_identity;
        let alice = with(r#"{"sub":"alice","org_id":"A","aud":"neo4j-audit"}"#);
        let forged = with(&format!(r#"{{"sub":"{}"}}"#, &alice["sub:".len()..]));
        assert_ne!(alice, forged);
        assert!(forged.starts_with("id:") && !forged.contains("alice"), "{forged}");
        // `|` alone (Auth0's `auth0|123`) keeps its readable identity.
        assert_eq!(with(r#"{"sub":"auth0|123"}"#), "sub:auth0|123");
    }

    /// Found by redteam16: claims an identity provider puts into every token with another value
    /// (Entra ID's `aio`, Clerk's `fva`, ...) or gives anew at each sign-in (Cognito's `event_id`,
    /// `origin_jti`) made each token an identity of its own: a user's events queued under one
    /// token were never sent by the logger of the next (a refresh, or the next sign-in) and expired.
    #[test]
    fn per_token_claims_of_identity_providers_leave_the_identity_alone() {
        let with = ingest_identity;
        let entra = |aio: &str, ip: &str| {
            with(&format!(
                r#"{{"sub":"s1","tid":"T","iss":"https://login/T/v2.0","aud":"api","aio":"{aio}","ipaddr":"{ip}","uti":"u"}}"#
            ))
        };
        assert_eq!(entra("E2ZgYJg1", "10.0.0.1"), entra("AXQAi/8U", "10.0.0.2"));
        assert_ne!(
            entra("E2ZgYJg1", "10.0.0.1"),
            with(r#"{"sub":"s1","tid":"U","iss":"https://login/T/v2.0","aud":"api"}"#)
        );
        let clerk = |fva: &str| {
            with(&format!(
                r#"{{"sub":"user_1","iss":"https://clerk.app","azp":"https://app","fva":{fva},"sid":"sess_1","v":2}}"#
            ))
        };
        assert_eq!(clerk("[0,-1]"), clerk("[7,-1]"));
        let cognito = |event: &str| {
            with(&format!(
                r#"{{"sub":"c1","iss":"https://cognito-idp/pool","client_id":"x","event_id":"{event}","origin_jti":"{event}","token_use":"access"}}"#
            ))
        };
        assert_eq!(cognito("a1"), cognito("b2"));
        let dpop = |jkt: &str| with(&format!(r#"{{"sub":"d1","aud":"neo4j-audit","cnf":{{"jkt":"{jkt}"}}}}"#));
        assert_eq!(dpop("k1"), dpop("k2"));
        // None of them can be a Worker's TENANT_CLAIM (it would not tell the queue's identities apart).
        for name in ["aio", "ipaddr", "fva", "event_id", "origin_jti", "cnf"] {
            assert!(ignores_claim(name), "{name}");
        }
    }
}
