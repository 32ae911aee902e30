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
    let text = super::details::config_json(config).map_err(AuditError::InvalidConfig)?;
    let tree =
        json::parse(&text, 8).map_err(|_| AuditError::InvalidConfig("config could not be read as JSON".into()))?;
    let mut c = Config::new("");
    // Each member by its index in TOP: one key lookup for every object of the config instead of a
    // chain of string comparisons per object. The nested objects are read by functions of their
    // own, never inlined: a Worker's first logger compiles only the code of the members its config
    // has (V8 compiles a wasm function whole on its first call; see bench/coldstart.mjs).
    for (i, key, v) in members(&tree, "config", TOP)? {
        // The string members by one read and one store each (one error path and one drop of
        // the default instead of one per member: less code for a first logger to compile).
        match i {
            0 | 2 | 7 => {
                let s = string(key, v)?;
                *match i {
                    0 => &mut c.url,
                    2 => &mut c.database,
                    _ => &mut c.trail,
                } = s;
            }
            1 | 3 | 4 | 5 => {
                let s = Some(string(key, v)?);
                *match i {
                    1 => &mut c.endpoint,
                    3 => &mut c.username,
                    4 => &mut c.password,
                    _ => &mut c.token,
                } = s;
            }
            6 | 14 | 16 => choice_member(&mut c, i, key, v)?,
            8 => c.timeout_ms = int(key, v)?,
            9 => c.max_details_bytes = int(key, v)? as usize,
            10 => labels(&mut c, v)?,
            11 => retry(&mut c, v)?,
            12 => batch(&mut c, v)?,
            13 => queue(&mut c, v)?,
            15 => c.redact = Some(redact(v)?),
            _ => c.allow_insecure_http = flag(key, v)?,
        }
    }
    Ok(c)
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

#[inline(never)]
fn labels(c: &mut Config, v: &Json) -> R<()> {
    let l = &mut c.labels;
    for (i, k, x) in members(v, "labels", "event trail user")? {
        *[&mut l.event, &mut l.trail, &mut l.user][i] = string(k, x)?;
    }
    Ok(())
}

#[inline(never)]
fn retry(c: &mut Config, v: &Json) -> R<()> {
    let r = &mut c.retry;
    for (i, k, x) in members(v, "retry", "maxAttempts maxElapsedMs baseDelayMs maxDelayMs")? {
        let n = int(k, x)?;
        match i {
            0 => r.max_attempts = n.min(u32::MAX as u64) as u32,
            1 => r.max_elapsed_ms = n,
            2 => r.base_delay_ms = n,
            _ => r.max_delay_ms = n,
        }
    }
    Ok(())
}

#[inline(never)]
fn batch(c: &mut Config, v: &Json) -> R<()> {
    let b = &mut c.batch;
    for (i, k, x) in members(v, "batch", "maxEvents maxBytes flushIntervalMs maxInFlight")? {
        let n = int(k, x)?;
        match i {
            0 => b.max_events = n as usize,
            1 => b.max_bytes = n as usize,
            2 => b.flush_interval_ms = n,
            _ => b.max_in_flight = n as usize,
        }
    }
    Ok(())
}

#[inline(never)]
fn queue(c: &mut Config, v: &Json) -> R<()> {
    let q = &mut c.queue;
    for (i, k, x) in members(v, "queue", "enabled maxEvents maxBytes maxAgeMs name")? {
        match i {
            0 => q.enabled = flag(k, x)?,
            1 => q.max_events = int(k, x)? as usize,
            2 => q.max_bytes = int(k, x)? as usize,
            3 => q.max_age_ms = int(k, x)?,
            _ => q.name = string(k, x)?,
        }
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
        None => bad(cat(&["unknown variant `", &s, "` of ", name, ", expected `", names[0], "` or `", names[1], "`"])),
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
    let mut m = cat(&["unknown field `", key, "` in ", within, ", expected one of `"]);
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

fn int(key: &str, v: &Json) -> R<u64> {
    v.as_u64().map_or_else(|| type_error(key, "a non-negative integer"), Ok)
}
