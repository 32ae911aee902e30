//! `AuditConfig` (a JS object) → [`Config`]: the host's `JSON.stringify`, then the write path's
//! own JSON reader, field by field. Unknown keys are refused (a typo such as `pasword` must not
//! silently mean "no password"); `null`/`undefined` members mean "not given". Written by hand
//! instead of `serde` + `serde-wasm-bindgen` because those were a large share of the browser
//! `.wasm` (see src/json.rs); `Config`'s `Deserialize` stays for Rust callers.

use crate::error::cat;
use wasm_bindgen::JsValue;

use crate::config::{Api, Config, Delivery};
use crate::error::AuditError;
use crate::json::{self, Json};
use crate::redact::Match;

type R<T> = Result<T, AuditError>;

fn bad<T>(m: String) -> R<T> {
    Err(AuditError::InvalidConfig(m))
}

/// The config's members, in the order of the `unknown field` message (space-separated, see
/// [`members`]).
const TOP: &str = "url endpoint database username password token api trail timeoutMs maxDetailsBytes labels retry \
    batch queue delivery redact redactMatch allowInsecureHttp";

/// Reads and type-checks `config` (validation of the values is [`Config::validate`]'s).
pub(crate) fn from_js(config: &JsValue) -> R<Config> {
    if !config.is_object() {
        return bad("config must be an object with a url (or an endpoint)".into());
    }
    let tree = tree(config, "config ")?;
    let mut c = Config::new("");
    // A refusal quotes the value or key it refuses (`unknown variant `…` of api`): the password or
    // token given in another member too (swapped environment variables) must not be thrown whole,
    // whether or not it was read before the member refused.
    if let Err(e) = read(&mut c, &tree, "config", TOP, 0) {
        if let Json::Obj(m) = &tree {
            for (k, v) in m {
                match (k.as_str(), v.as_str()) {
                    ("password", Some(p)) => c.password = Some(p.to_owned()),
                    ("token", Some(t)) => c.token = Some(t.to_owned()),
                    _ => {}
                }
            }
        }
        return Err(scrubbed(e, &c.secrets()));
    }
    Ok(c)
}

/// The object `v` (`what`: how messages name it, with a space) as the write path's JSON tree.
fn tree(v: &JsValue, what: &str) -> R<Json> {
    let text = super::details::config_json(v, super::details::CONFIG_MEMBERS, true)
        .map_err(|m| AuditError::InvalidConfig(if m.starts_with("invalid ") { m } else { cat(&[what, &m]) }))?;
    json::parse(&text, 8).map_err(|_| AuditError::InvalidConfig(cat(&[what, "could not be read as JSON"])))
}

/// `setCredentials`'s argument: `{username, password}` or `{token}`, each member read as the
/// configuration's (a string; `null`/`undefined`: not given); any other member is refused.
/// Into an otherwise empty [`Config`] (the logger checks them, [`crate::AuditLogger::set_credentials`]).
pub(crate) fn credentials_from_js(v: &JsValue) -> R<Config> {
    if !v.is_object() {
        return bad("credentials must be an object: {username, password} or {token}".into());
    }
    let tree = tree(v, "credentials ")?;
    let mut c = Config::new("");
    // Numbered as in TOP (username is its member 3), so `store` reads them.
    for (i, key, x) in members(&tree, "credentials", "username password token")? {
        store(&mut c, 3 + i, key, x)?;
    }
    Ok(c)
}

/// `e` with each whole occurrence of `secrets` ([`Config::secrets`]) in its message replaced by
/// `***`: the constructor's refusals, which quote what they refuse.
pub(crate) fn scrubbed(e: AuditError, secrets: &[String]) -> AuditError {
    match e {
        AuditError::InvalidConfig(m) => {
            AuditError::InvalidConfig(crate::error::scrub(&m, &crate::error::refs(secrets)))
        }
        e => e,
    }
}

/// The nested objects of the config (members 10 to 13 of TOP): name, members, and the index of
/// their first member in [`store`]'s numbering.
const NESTED: [(&str, &str, usize); 4] = [
    ("labels", "event trail user", 18),
    ("retry", "maxAttempts maxElapsedMs baseDelayMs maxDelayMs", 21),
    ("batch", "maxEvents maxBytes flushIntervalMs maxInFlight", 25),
    ("queue", "enabled maxEvents maxBytes maxAgeMs name", 29),
];

/// Reads the object `v` (`within`, its members `names`, numbered from `base`) into `c`: one
/// loop for the config and each of its nested objects, and one numbering of every member
/// ([`store`]), instead of a reader function per nested object. bench/size fetch-writeonly
/// (bare+wasm-opt, wasm + glue gz -9), 2026-11-30: 66,999 -> 66,630 B. (The nested objects'
/// stores are in [`store`] now, which a first logger compiles whole: not measured with
/// bench/coldstart.mjs.)
/// A nested member is named by its path in messages (`queue.maxEvents`, not `maxEvents`, which
/// `batch` has too), as the validation's own messages name it.
fn read(c: &mut Config, v: &Json, within: &str, names: &str, base: usize) -> R<()> {
    for (i, key, x) in members(v, within, names)? {
        let g = base + i;
        match g {
            10..=13 => {
                let (within, names, base) = NESTED[g - 10];
                read(c, x, within, names, base)?
            }
            _ => {
                let path;
                let key = if base > 0 {
                    path = cat(&[within, ".", key]);
                    &path
                } else {
                    key
                };
                store(c, g, key, x)?
            }
        }
    }
    Ok(())
}

/// One member, by its number (TOP's index; a nested object's members from its base in NESTED).
fn store(c: &mut Config, g: usize, key: &str, v: &Json) -> R<()> {
    match g {
        0 | 2 | 7 | 18 | 19 | 20 | 33 => {
            let s = string(key, v)?;
            *match g {
                0 => &mut c.url,
                2 => &mut c.database,
                7 => &mut c.trail,
                18 => &mut c.labels.event,
                19 => &mut c.labels.trail,
                20 => &mut c.labels.user,
                _ => &mut c.queue.name,
            } = s;
        }
        1 | 3 | 4 | 5 => {
            let s = Some(string(key, v)?);
            *match g {
                1 => &mut c.endpoint,
                3 => &mut c.username,
                4 => &mut c.password,
                _ => &mut c.token,
            } = s;
        }
        6 | 14 | 16 => choice_member(c, g, key, v)?,
        15 => c.redact = Some(redact(v)?),
        17 | 29 => {
            let b = flag(key, v)?;
            *if g == 17 { &mut c.allow_insecure_http } else { &mut c.queue.enabled } = b;
        }
        _ => {
            let n = int(v)?;
            match g {
                21 => c.retry.max_attempts = n.min(u32::MAX as u64) as u32,
                8 | 22 | 23 | 24 | 27 | 32 => {
                    *match g {
                        8 => &mut c.timeout_ms,
                        22 => &mut c.retry.max_elapsed_ms,
                        23 => &mut c.retry.base_delay_ms,
                        24 => &mut c.retry.max_delay_ms,
                        27 => &mut c.batch.flush_interval_ms,
                        _ => &mut c.queue.max_age_ms,
                    } = n
                }
                // A number past usize (wasm32: 2^32) is as large as usize goes, which validation
                // then refuses by name; it wrapped before (`batch.maxEvents: 2 ** 32 + 2` was 2).
                _ => {
                    *match g {
                        9 => &mut c.max_details_bytes,
                        25 => &mut c.batch.max_events,
                        26 => &mut c.batch.max_bytes,
                        28 => &mut c.batch.max_in_flight,
                        30 => &mut c.queue.max_events,
                        _ => &mut c.queue.max_bytes,
                    } = usize::try_from(n).unwrap_or(usize::MAX)
                }
            }
        }
    }
    Ok(())
}

/// The members that name one of two choices (api, delivery, redactMatch), out of line like the
/// nested objects: most configs have none of them.
#[inline(never)]
fn choice_member(c: &mut Config, i: usize, key: &str, v: &Json) -> R<()> {
    match i {
        6 => c.api = [Api::Tx, Api::Query][choice(key, v, ["tx", "query"])?],
        14 => c.delivery = [Delivery::Committed, Delivery::Queued][choice(key, v, ["committed", "queued"])?],
        _ => c.redact_match = [Match::Words, Match::Exact][choice(key, v, ["words", "exact"])?],
    }
    Ok(())
}

/// The members of the object `v` that are given (not `null`), in order, each with its key's index
/// in `names` (space-separated, [`crate::error::listed`]: one text, where a `&[&str]` puts an
/// address and a length per name into the .wasm); refuses a key not in `names` (a typo such as
/// `pasword` must not silently mean "no password") and a `v` that is not an object. One function for every object of the config (a
/// list, not a callback: an indirect call of a new signature keeps wasm-bindgen's unused closure
/// shims alive through wasm-opt, +1.9 KB).
fn members<'a>(v: &'a Json, within: &str, names: &str) -> R<Vec<(usize, &'a str, &'a Json)>> {
    let Json::Obj(m) = v else { return type_error(within, "an object") };
    let mut out = Vec::new();
    for (k, x) in m {
        if x.is_null() {
            continue;
        }
        match crate::error::listed(names, k) {
            Some(i) => out.push((i, k.as_str(), x)),
            None => return Err(unknown(within, k, names)),
        }
    }
    Ok(out)
}

/// Which of two names the string `v` is (the config's enum members: api, delivery, redactMatch).
fn choice(name: &str, v: &Json, names: [&str; 2]) -> R<usize> {
    let s = string(name, v)?;
    match names.iter().position(|n| *n == s) {
        Some(i) => Ok(i),
        None => bad(cat(&[
            "unknown variant `",
            &crate::error::shown(&s),
            "` of ",
            name,
            ", expected `",
            names[0],
            "` or `",
            names[1],
            "`",
        ])),
    }
}

#[inline(never)]
fn redact(v: &Json) -> R<Vec<String>> {
    let Some(items) = v.as_array() else { return type_error("redact", "an array of strings") };
    let mut list = Vec::new();
    for k in items {
        match k.as_str() {
            Some(k) => list.push(k.to_owned()),
            None => return type_error("redact", "an array of strings"),
        }
    }
    Ok(list)
}

fn type_error<T>(key: &str, expected: &str) -> R<T> {
    bad(cat(&["invalid type for `", key, "`, expected ", expected]))
}

/// A key `within` does not have (out of line: a good config never runs it, and V8 compiles a
/// wasm function whole on its first call: a Worker's first logger, bench/coldstart.mjs).
#[cold]
#[inline(never)]
fn unknown(within: &str, key: &str, known: &str) -> AuditError {
    let mut m = cat(&["unknown field `", &crate::error::shown(key), "` in ", within, ", expected one of `"]);
    // `known`'s names (ASCII) each in backquotes, separated by ", ".
    for b in known.bytes() {
        if b == b' ' {
            m.push_str("`, `");
        } else {
            m.push(char::from(b));
        }
    }
    m.push('`');
    AuditError::InvalidConfig(m)
}

fn string(key: &str, v: &Json) -> R<String> {
    v.as_str().map(str::to_owned).map_or_else(|| type_error(key, "a string"), Ok)
}

fn flag(key: &str, v: &Json) -> R<bool> {
    v.as_bool().map_or_else(|| type_error(key, "a boolean"), Ok)
}

/// A numeric member. Anything but an integer from 0 to 2^64 - 1 (negative, a fraction, too large,
/// a string, a boolean; NaN, Infinity and a BigInt, which `configToJson` writes as -1 here) is read as the
/// largest one, past every numeric setting's bound: validation then refuses it naming the
/// setting and the integers it accepts ([`Config::validate`]). Its own message here said
/// "expected a non-negative integer" for -1, while 0 was refused too.
fn int(v: &Json) -> R<u64> {
    Ok(v.as_u64().unwrap_or(u64::MAX))
}
