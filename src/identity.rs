//! Who a logger writes as, derived once from its configuration: the durable queue files each
//! event under this identity and sends it only under the same one, so an event logged by one
//! user can never be delivered with another user's credentials.
//!
//! - client mode (`endpoint` + `token`): `sub:<the token's sub claim>`;
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
use sha2::{Digest, Sha256};

use crate::config::Config;

/// The identity of a configuration (see the module docs).
pub fn of_config(c: &Config) -> String {
    let id = match (&c.username, &c.token) {
        (Some(u), _) => cat(&["user:", u]),
        (None, Some(t)) => match token_subject(t) {
            Some(sub) => cat(&["sub:", &sub]),
            None => hashed("token", t),
        },
        (None, None) => "anonymous".into(),
    };
    // Control characters would break the queue's key layout: such a name is kept as a hash.
    if id.chars().any(char::is_control) {
        hashed("id", &id)
    } else {
        id
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

/// The `sub` claim of a JWT (read, not verified), when it has a non-empty string one.
pub fn token_subject(token: &str) -> Option<String> {
    // The second `.`-separated part (`split('.').nth(1)`, by error::find: no char searcher in the .wasm).
    let t = token.trim();
    let rest = &t[crate::error::find(t, ".")? + 1..];
    let payload = &rest[..crate::error::find(rest, ".").unwrap_or(rest.len())];
    let bytes = crate::b64::decode_url(payload.trim_end_matches('='))?;
    let v = crate::json::parse(std::str::from_utf8(&bytes).ok()?, 32).ok()?;
    let sub = v.get("sub")?.as_str()?;
    (!sub.is_empty()).then(|| sub.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!("eyJhbGciOiJIUzI1NiJ9.{}.sig", crate::b64::encode_url(claims.as_bytes()))
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
}
