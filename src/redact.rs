//! Redaction: values under sensitive keys become `"[REDACTED]"` before an event leaves the client.
//!
//! Keys match case-insensitively and ignoring `_` and `-` (so `apiKey`, `api_key`, `API-KEY` are
//! one key), at any depth of objects and arrays. The whole value under a matching key is replaced,
//! whatever its type. Redaction runs before the event is hashed, so the chain covers the redacted
//! form, which is the only form that is ever sent or stored.

use serde_json::Value;

/// What a redacted value becomes.
pub const REDACTED: &str = "[REDACTED]";

/// Keys redacted when the configuration gives no `redact` list.
pub const DEFAULT_REDACT_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "clientSecret",
    "token",
    "accessToken",
    "refreshToken",
    "idToken",
    "authorization",
    "cookie",
    "setCookie",
    "apiKey",
    "privateKey",
    "sessionId",
    "creditCard",
    "cardNumber",
    "cvv",
    "ssn",
];

/// A set of keys to redact.
///
/// ```
/// use neo4j_audit::redact::Redactor;
/// let r = Redactor::default();
/// let mut v = serde_json::json!({"user": "ann", "Password": "hunter2",
///     "nested": [{"api_key": "k-1", "keep": 1}]});
/// r.apply(&mut v);
/// assert_eq!(v, serde_json::json!({"user": "ann", "Password": "[REDACTED]",
///     "nested": [{"api_key": "[REDACTED]", "keep": 1}]}));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redactor {
    keys: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(DEFAULT_REDACT_KEYS.iter().copied())
    }
}

/// The form keys are compared in: lower case, without `_` and `-`.
fn normalise(key: &str) -> String {
    key.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect()
}

impl Redactor {
    /// Redacts exactly `keys` (an empty list redacts nothing).
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        let mut keys: Vec<String> =
            keys.into_iter().map(normalise).filter(|k| !k.is_empty()).collect();
        keys.sort();
        keys.dedup();
        Redactor { keys }
    }

    /// From the configuration's `redact` option: `None` means the default list.
    pub fn from_config(redact: Option<&[String]>) -> Self {
        match redact {
            None => Redactor::default(),
            Some(keys) => Redactor::new(keys.iter().map(String::as_str)),
        }
    }

    /// Whether values under `key` are redacted.
    pub fn matches(&self, key: &str) -> bool {
        !self.keys.is_empty() && self.keys.binary_search(&normalise(key)).is_ok()
    }

    /// Redacts details given as JSON text (as the logger receives them from both the Rust and
    /// the JavaScript path). Text that is not JSON is passed through unchanged: it is refused
    /// later as invalid input.
    pub fn apply_json(&self, details_json: Option<String>) -> Option<String> {
        let text = details_json?;
        if self.keys.is_empty() {
            return Some(text);
        }
        match serde_json::from_str::<Value>(&text) {
            Ok(mut v) => {
                self.apply(&mut v);
                Some(serde_json::to_string(&v).unwrap_or(text))
            }
            Err(_) => Some(text),
        }
    }

    /// Replaces, in place, every value under a matching key by `"[REDACTED]"`.
    pub fn apply(&self, v: &mut Value) {
        if self.keys.is_empty() {
            return;
        }
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if self.matches(k) {
                        *x = Value::String(REDACTED.to_owned());
                    } else {
                        self.apply(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.apply(x)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_list_any_depth_any_case() {
        let mut v = json!({
            "TOKEN": "t", "Authorization": "Bearer x", "cookie": {"a": 1},
            "list": [[{"SECRET": 1}], {"set-cookie": "s"}], "tokens_used": 3, "note": "password"
        });
        Redactor::default().apply(&mut v);
        assert_eq!(v["TOKEN"], REDACTED);
        assert_eq!(v["Authorization"], REDACTED);
        assert_eq!(v["cookie"], REDACTED, "non-string values are replaced whole");
        assert_eq!(v["list"][0][0]["SECRET"], REDACTED);
        assert_eq!(v["list"][1]["set-cookie"], REDACTED);
        assert_eq!(v["tokens_used"], 3, "only whole keys match");
        assert_eq!(v["note"], "password", "values are never matched");
    }

    #[test]
    fn custom_list_replaces_default_and_empty_disables() {
        let r = Redactor::from_config(Some(&["ssnNumber".to_owned()]));
        let mut v = json!({"SSN_number": "1", "password": "p"});
        r.apply(&mut v);
        assert_eq!(v, json!({"SSN_number": REDACTED, "password": "p"}));
        let none = Redactor::from_config(Some(&[]));
        let mut v = json!({"password": "p"});
        none.apply(&mut v);
        assert_eq!(v["password"], "p");
    }
}
