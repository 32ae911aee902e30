//! CORS decisions from an exact-match allow-list (`ALLOWED_ORIGINS`, comma separated; each entry
//! taken as the origin a browser sends for it, so a page URL names its origin). An origin
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
    /// Parses a comma-separated list; each entry is trimmed and put in the form a browser sends
    /// as `Origin` (`origin_form`: a page URL such as `https://App.example/app/` allows
    /// `https://app.example`). `*` and `null` are dropped (see the module documentation).
    pub fn parse(list: &str) -> Self {
        let mut origins = Vec::new();
        for o in list.split(',') {
            let o = origin_form(o.trim());
            if !o.is_empty() && !never_allowed(&o) {
                origins.push(o);
            }
        }
        Cors { origins }
    }

    /// Whether no origin is allowed (`ALLOWED_ORIGINS` unset, empty, or only `*` / `null`).
    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
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

/// An allow-list entry as the `Origin` header a browser sends for it: `scheme://host[:port]`,
/// scheme and host in lower case, without a path, query or fragment and without the scheme's
/// default port (`:443` for https, `:80` for http). An entry without `://` is kept as written,
/// less a trailing `/`.
fn origin_form(entry: &str) -> String {
    let Some(i) = crate::error::find(entry, "://") else {
        return entry.trim_end_matches('/').to_owned();
    };
    let rest = &entry[i + 3..];
    let end = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
    let mut origin = String::with_capacity(i + 3 + end);
    for c in entry[..i + 3 + end].chars() {
        origin.push(c.to_ascii_lowercase());
    }
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if origin.starts_with(scheme) && origin.ends_with(port) {
            origin.truncate(origin.len() - port.len());
        }
    }
    origin
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

    /// An operator copies the page's URL, not its origin: a path (an app served from `/app/`),
    /// upper case or the scheme's default port never equals the `Origin` a browser sends
    /// (lower case, no path, no default port), so every request of that page was refused with
    /// 403 and no CORS header, which the page only sees as "Failed to fetch".
    #[test]
    fn entries_written_as_page_urls_allow_their_origin() {
        let c = Cors::parse("https://App.Example.com/app/index.html, HTTP://127.0.0.1:8080/app/, https://b.example:443, http://c.example:80/x?y#z, http://[::1]:80");
        for o in [
            "https://app.example.com",
            "http://127.0.0.1:8080",
            "https://b.example",
            "http://c.example",
            "http://[::1]",
        ] {
            assert!(c.allows(o), "{o}");
            assert!(c.preflight(o, Some("POST"), Some("authorization")).is_some(), "{o}");
        }
        // Still exact on what the browser sends; other ports and hosts stay out.
        for o in
            ["https://app.example.com:8443", "http://app.example.com", "https://evil.example", "http://127.0.0.1:8081"]
        {
            assert!(!c.allows(o), "{o}");
        }
        assert_eq!(Cors::parse("https://a.example:4443/").origins, ["https://a.example:4443"]);
        assert!(!Cors::parse("https://null/, null/").allows("null"));
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
