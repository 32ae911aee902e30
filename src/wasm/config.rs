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

/// Reads and type-checks `config` (validation of the values is [`Config::validate`]'s).
pub(crate) fn from_js(config: &JsValue) -> R<Config> {
    if !config.is_object() {
        return bad("config must be an object with a url (or an endpoint)".into());
    }
    let text = super::details::config_json(config).map_err(AuditError::InvalidConfig)?;
    let tree = json::parse(&text, 8)
        .map_err(|_| AuditError::InvalidConfig("config could not be read as JSON".into()))?;
    let mut c = Config::new("");
    for (key, v) in members(&tree, "config")? {
        match key {
            "url" => c.url = string(key, v)?,
            "endpoint" => c.endpoint = Some(string(key, v)?),
            "database" => c.database = string(key, v)?,
            "username" => c.username = Some(string(key, v)?),
            "password" => c.password = Some(string(key, v)?),
            "token" => c.token = Some(string(key, v)?),
            // The less common members are read by functions of their own, never inlined: a
            // Worker's first logger compiles only the code of the members its config has
            // (V8 compiles a wasm function whole on its first call; see bench/coldstart.mjs).
            "api" => api(&mut c, v)?,
            "trail" => c.trail = string(key, v)?,
            "timeoutMs" => c.timeout_ms = int(key, v)?,
            "maxDetailsBytes" => c.max_details_bytes = int(key, v)? as usize,
            "labels" => labels(&mut c, v)?,
            "retry" => retry(&mut c, v)?,
            "batch" => batch(&mut c, v)?,
            "queue" => queue(&mut c, v)?,
            "delivery" => delivery(&mut c, v)?,
            "redact" => redact(&mut c, v)?,
            "redactMatch" => redact_match(&mut c, v)?,
            "allowInsecureHttp" => c.allow_insecure_http = flag(key, v)?,
            _ => return Err(unknown_config_key(key)),
        }
    }
    Ok(c)
}

/// A key the config does not have (out of line: a good config never runs it, and V8 compiles a
/// wasm function whole on its first call: a Worker's first logger, bench/coldstart.mjs).
#[cold]
#[inline(never)]
fn unknown_config_key(key: &str) -> AuditError {
    match unknown::<()>(
        "config",
        key,
        &[
            "url", "endpoint", "database", "username", "password", "token", "api", "trail", "timeoutMs",
            "maxDetailsBytes", "labels", "retry", "batch", "queue", "delivery", "redact", "redactMatch", "allowInsecureHttp",
        ],
    ) {
        Err(e) => e,
        Ok(()) => unreachable!(),
    }
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
fn api(c: &mut Config, v: &Json) -> R<()> {
    c.api = [Api::Tx, Api::Query][choice("api", v, ["tx", "query"])?];
    Ok(())
}

#[inline(never)]
fn labels(c: &mut Config, v: &Json) -> R<()> {
    for (k, x) in members(v, "labels")? {
        let slot = match k {
            "event" => &mut c.labels.event,
            "trail" => &mut c.labels.trail,
            "user" => &mut c.labels.user,
            _ => return unknown("labels", k, &["event", "trail", "user"]),
        };
        *slot = string(k, x)?;
    }
    Ok(())
}

#[inline(never)]
fn retry(c: &mut Config, v: &Json) -> R<()> {
    let r = &mut c.retry;
    for (k, x) in members(v, "retry")? {
        match k {
            "maxAttempts" => r.max_attempts = int(k, x)?.min(u32::MAX as u64) as u32,
            "maxElapsedMs" => r.max_elapsed_ms = int(k, x)?,
            "baseDelayMs" => r.base_delay_ms = int(k, x)?,
            "maxDelayMs" => r.max_delay_ms = int(k, x)?,
            _ => return unknown("retry", k, &["maxAttempts", "maxElapsedMs", "baseDelayMs", "maxDelayMs"]),
        }
    }
    Ok(())
}

#[inline(never)]
fn batch(c: &mut Config, v: &Json) -> R<()> {
    let b = &mut c.batch;
    for (k, x) in members(v, "batch")? {
        match k {
            "maxEvents" => b.max_events = int(k, x)? as usize,
            "maxBytes" => b.max_bytes = int(k, x)? as usize,
            "flushIntervalMs" => b.flush_interval_ms = int(k, x)?,
            "maxInFlight" => b.max_in_flight = int(k, x)? as usize,
            _ => return unknown("batch", k, &["maxEvents", "maxBytes", "flushIntervalMs", "maxInFlight"]),
        }
    }
    Ok(())
}

#[inline(never)]
fn queue(c: &mut Config, v: &Json) -> R<()> {
    let q = &mut c.queue;
    for (k, x) in members(v, "queue")? {
        match k {
            "enabled" => q.enabled = flag(k, x)?,
            "maxEvents" => q.max_events = int(k, x)? as usize,
            "maxBytes" => q.max_bytes = int(k, x)? as usize,
            "maxAgeMs" => q.max_age_ms = int(k, x)?,
            "name" => q.name = string(k, x)?,
            _ => return unknown("queue", k, &["enabled", "maxEvents", "maxBytes", "maxAgeMs", "name"]),
        }
    }
    Ok(())
}

#[inline(never)]
fn delivery(c: &mut Config, v: &Json) -> R<()> {
    c.delivery = [Delivery::Committed, Delivery::Queued][choice("delivery", v, ["committed", "queued"])?];
    Ok(())
}

#[inline(never)]
fn redact(c: &mut Config, v: &Json) -> R<()> {
    let Some(list) = v.as_array() else { return type_error("redact", "an array of strings") };
    let keys = list.iter().map(|k| k.as_str().map(str::to_owned));
    c.redact = Some(keys.collect::<Option<Vec<_>>>().map_or_else(|| type_error("redact", "an array of strings"), Ok)?);
    Ok(())
}

#[inline(never)]
fn redact_match(c: &mut Config, v: &Json) -> R<()> {
    c.redact_match = [Match::Words, Match::Exact][choice("redactMatch", v, ["words", "exact"])?];
    Ok(())
}

/// The members of an object that are given (not `null`), in order.
fn members<'a>(v: &'a Json, what: &str) -> R<impl Iterator<Item = (&'a str, &'a Json)>> {
    match v {
        Json::Obj(m) => Ok(m.iter().filter(|(_, x)| !x.is_null()).map(|(k, x)| (k.as_str(), x))),
        _ => type_error(what, "an object"),
    }
}

fn type_error<T>(key: &str, expected: &str) -> R<T> {
    bad(cat(&["invalid type for `", key, "`, expected ", expected]))
}

fn unknown<T>(within: &str, key: &str, known: &[&str]) -> R<T> {
    let mut m = cat(&["unknown field `", key, "` in ", within, ", expected one of "]);
    for (i, k) in known.iter().enumerate() {
        if i > 0 {
            m.push_str(", ");
        }
        m.push('`');
        m.push_str(k);
        m.push('`');
    }
    bad(m)
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
