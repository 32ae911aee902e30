//! CORS decisions from an exact-match allow-list (`ALLOWED_ORIGINS`, comma separated). An origin
//! that is not on the list gets no CORS header at all. Two values are never origins to trust, even
//! when listed: `*` (no wildcard: an audit endpoint names its callers) and `null` (the opaque
//! origin of sandboxed iframes, `data:` and `file:` pages and some redirects — any page can
//! produce it).
//!
//! ```
//! use neo4j_audit::ingest::cors::Cors;
//! let cors = Cors::parse("https://app.example, http://127.0.0.1:8080/");
//! assert!(cors.allows("http://127.0.0.1:8080"));
//! assert!(!cors.allows("https://evil.example"));
//! assert!(cors.headers(Some("https://evil.example")).is_empty());
//! ```

/// Methods the Worker answers.
pub const ALLOW_METHODS: &str = "GET, POST, OPTIONS";
/// Request headers a browser may send.
pub const ALLOW_HEADERS: &str = "Authorization, Content-Type";
/// How long a browser may cache a preflight answer, in seconds.
pub const MAX_AGE_SECS: u32 = 600;

/// The allow-list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cors {
    origins: Vec<String>,
}

impl Cors {
    /// Parses a comma-separated list; entries are trimmed and lose a trailing `/`. `*` and
    /// `null` are dropped (see the module documentation).
    pub fn parse(list: &str) -> Self {
        let mut origins = Vec::new();
        for o in list.split(',') {
            let o = o.trim().trim_end_matches('/');
            if !o.is_empty() && !never_allowed(o) {
                origins.push(o.to_owned());
            }
        }
        Cors { origins }
    }

    /// Whether `origin` is on the list (exact match; `*` and `null` never are).
    pub fn allows(&self, origin: &str) -> bool {
        !never_allowed(origin) && self.origins.iter().any(|o| o == origin)
    }

    /// Headers for an actual (non-preflight) response.
    pub fn headers(&self, origin: Option<&str>) -> Vec<(String, String)> {
        match origin {
            Some(o) if self.allows(o) => vec![
                ("Access-Control-Allow-Origin".into(), o.to_owned()),
                ("Access-Control-Expose-Headers".into(), "Retry-After".into()),
            ],
            _ => Vec::new(),
        }
    }

    /// Headers for a successful preflight, or `None` when the preflight must fail: origin not
    /// allowed, a method we do not serve, or a request header outside [`ALLOW_HEADERS`].
    pub fn preflight(
        &self,
        origin: &str,
        method: Option<&str>,
        request_headers: Option<&str>,
    ) -> Option<Vec<(String, String)>> {
        if !self.allows(origin) {
            return None;
        }
        if !matches!(method, Some("GET" | "POST")) {
            return None;
        }
        let mut allowed: Vec<String> = Vec::new();
        for h in ALLOW_HEADERS.split(',') {
            allowed.push(h.trim().to_ascii_lowercase());
        }
        let asked_ok = request_headers
            .unwrap_or("")
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .all(|h| allowed.contains(&h));
        if !asked_ok {
            return None;
        }
        Some(vec![
            ("Access-Control-Allow-Origin".into(), origin.to_owned()),
            ("Access-Control-Allow-Methods".into(), ALLOW_METHODS.into()),
            ("Access-Control-Allow-Headers".into(), ALLOW_HEADERS.into()),
            ("Access-Control-Max-Age".into(), crate::error::num(MAX_AGE_SECS.into())),
        ])
    }
}

/// `*` and `null` (any case): values an allow-list must never match.
fn never_allowed(origin: &str) -> bool {
    origin == "*" || origin.eq_ignore_ascii_case("null")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preflight_rules() {
        let c = Cors::parse("https://a.example");
        let ok = c.preflight("https://a.example", Some("POST"), Some("content-type, authorization")).unwrap();
        assert!(ok.iter().any(|(k, v)| k == "Access-Control-Allow-Origin" && v == "https://a.example"));
        assert!(c.preflight("https://b.example", Some("POST"), None).is_none());
        assert!(c.preflight("https://a.example", Some("DELETE"), None).is_none());
        assert!(c.preflight("https://a.example", Some("POST"), Some("x-evil")).is_none());
        assert!(c.preflight("https://a.example", None, None).is_none());
    }

    #[test]
    fn wildcard_and_blanks_are_ignored() {
        let c = Cors::parse(" *, ,https://a.example/ ");
        assert!(c.allows("https://a.example"));
        assert!(!c.allows("*"));
        assert!(!c.allows("https://x.example"));
        assert!(Cors::parse("").headers(Some("https://a.example")).is_empty());
    }

    #[test]
    fn the_null_origin_is_never_allowed() {
        let c = Cors::parse("null, NULL ,https://a.example");
        assert!(!c.allows("null") && !c.allows("NULL"));
        assert!(c.headers(Some("null")).is_empty());
        assert!(c.preflight("null", Some("POST"), None).is_none());
        assert_eq!(c, Cors::parse("https://a.example"));
    }
}
