//! The parts of a URL that configuration validation checks. Natively the `url` crate parses it; on
//! wasm with feature `fetch`, the host's own WHATWG `URL` does (the standard the `url` crate
//! implements), which keeps the `url` and `idna` crates — and their Unicode tables — out of the
//! package.
//!
//! ```
//! # // urlcheck is private; the same checks run through Config::validate:
//! use neo4j_audit::Config;
//! assert!(Config::new("http://127.0.0.1:7474").validate().is_ok());
//! assert!(Config::new("ftp://h").validate().is_err());
//! ```

/// What validation needs to know about a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlParts {
    /// Lower-case, without the colon.
    pub scheme: String,
    pub has_credentials: bool,
    pub has_query_or_fragment: bool,
    pub host: String,
    /// The port written in the URL (`None`: none, or the scheme's default, which the parsers drop).
    pub port: Option<u16>,
}

/// Parses `s` as an absolute URL; the error text says why it is not one.
#[cfg(not(all(target_arch = "wasm32", feature = "fetch")))]
pub(crate) fn parse(s: &str) -> Result<UrlParts, String> {
    let u = url::Url::parse(s).map_err(|e| e.to_string())?;
    Ok(UrlParts {
        scheme: u.scheme().to_owned(),
        has_credentials: !u.username().is_empty() || u.password().is_some(),
        has_query_or_fragment: u.query().is_some() || u.fragment().is_some(),
        host: u.host_str().unwrap_or_default().to_owned(),
        port: u.port(),
    })
}

/// Parses `s` as an absolute URL with the host's `URL`; the error text says why it is not one.
/// One call into JS (`urlParts`, src/wasm/unicode.js) returns every part validation needs.
#[cfg(all(target_arch = "wasm32", feature = "fetch"))]
pub(crate) fn parse(s: &str) -> Result<UrlParts, String> {
    #[wasm_bindgen::prelude::wasm_bindgen(module = "/src/wasm/unicode.js")]
    extern "C" {
        #[wasm_bindgen(js_name = urlParts)]
        fn url_parts(s: &str) -> Option<String>;
    }
    let text = url_parts(s).ok_or_else(|| "invalid URL".to_owned())?;
    let b = text.as_bytes();
    // The space after the scheme, by a plain loop (`split_once` brings memchr's code along).
    let mut sp = 2.min(b.len());
    while sp < b.len() && b[sp] != b' ' {
        sp += 1;
    }
    // The host ends at the next space, the port (digits, or none) follows it.
    let mut end = (sp + 1).min(b.len());
    while end < b.len() && b[end] != b' ' {
        end += 1;
    }
    // (Not read in the Workers-only builds, which do not check it: config.rs.)
    #[cfg(not(all(target_arch = "wasm32", any(feature = "worker", feature = "memory-queue"))))]
    let port = {
        let digits = b.get(end + 1..).unwrap_or_default();
        (!digits.is_empty())
            .then(|| digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0'))))
            .and_then(|n| u16::try_from(n).ok())
    };
    #[cfg(all(target_arch = "wasm32", any(feature = "worker", feature = "memory-queue")))]
    let port = None;
    Ok(UrlParts {
        scheme: text.get(2.min(sp)..sp).unwrap_or_default().to_owned(),
        has_credentials: b.first() == Some(&b'1'),
        has_query_or_fragment: b.get(1) == Some(&b'1'),
        host: text.get(sp + 1..end).unwrap_or_default().to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let p = parse("HTTP://u:p@Example.com:7474/x?q#f").unwrap();
        assert_eq!(p.scheme, "http");
        assert!(p.has_credentials && p.has_query_or_fragment);
        assert_eq!((p.host.as_str(), p.port), ("example.com", Some(7474)));
        assert_eq!(parse("http://h:80").unwrap().port, None); // the scheme's default
        assert_eq!(parse("http://[::1]:6000/x").unwrap().port, Some(6000));
        let p = parse("https://127.0.0.1:7473").unwrap();
        assert!(!p.has_credentials && !p.has_query_or_fragment);
        assert!(parse("nope").is_err());
    }
}
