//! The `POST /v1/events` body: one event object or `{"events": [...]}`, checked field by field.
//! Events never carry an identity: any user field in the body is refused (403), because the
//! acting user comes only from the verified token.
//!
//! ```
//! use neo4j_audit::ingest::body::{parse_events, BodyLimits, BodyError};
//! let lim = BodyLimits::default();
//! let ev = parse_events(r#"{"actionType":"DOC_OPENED","details":{"doc":"d1"}}"#, &lim).unwrap();
//! assert_eq!(ev[0].action_type, "DOC_OPENED");
//! let forged = parse_events(r#"{"actionType":"X","user":{"uid":"admin"}}"#, &lim);
//! assert!(matches!(forged, Err(BodyError::NamesUser(_))));
//! ```

use crate::error::{cat, int, num, quoted};
use crate::json::Json;

/// Bounds on one request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyLimits {
    /// Events per request.
    pub max_batch: usize,
    /// Serialised `details` of one event, in bytes.
    pub max_details_bytes: usize,
    /// Nesting of `details` (the object itself is depth 1).
    pub max_details_depth: usize,
}

impl Default for BodyLimits {
    /// The rule table's defaults (src/rules.rs), so the Worker accepts what the client does.
    fn default() -> Self {
        let r = crate::rules::Limits::default();
        BodyLimits {
            max_batch: crate::rules::DEFAULT_MAX_BATCH,
            max_details_bytes: r.max_details_bytes,
            max_details_depth: r.max_details_depth,
        }
    }
}

impl BodyLimits {
    fn rules(&self) -> crate::rules::Limits {
        crate::rules::Limits {
            max_details_bytes: self.max_details_bytes,
            max_details_depth: self.max_details_depth,
            size_setting: "MAX_DETAILS_BYTES",
        }
    }
}

pub use crate::rules::MAX_NAME_LEN;

/// The fields an event may have.
pub const EVENT_KEYS: [&str; 6] = ["actionType", "category", "details", "UID", "occurredAt", "targets"];

/// Keys that would name the acting user.
pub const IDENTITY_KEYS: [&str; 7] = ["user", "userUID", "userUid", "userId", "userName", "uid", "actor"];

/// One accepted event, before the identity is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingEvent {
    /// `actionType`, checked against the rule table.
    pub action_type: String,
    /// `category`, checked against the rule table; `None` when absent or `null`.
    pub category: Option<String>,
    /// A non-empty `details` object as compact JSON text (members in the order sent, numbers
    /// exactly as sent), checked against the rule table (depth, size as sent).
    pub details: Option<String>,
    /// The client's own event UID (a UUID), for idempotent retries; see [`stored_uid`]. Unique
    /// within one request.
    pub client_uid: Option<String>,
    /// When the user acted, as the client says (ms since the epoch); checked against the
    /// Worker's clock by [`OccurredAtWindow`].
    pub occurred_at: Option<i64>,
    /// What the action was performed on, checked against the rule table (the Worker checks the
    /// labels against `ALLOWED_TARGET_LABELS`).
    pub targets: Vec<crate::event::Target>,
}

/// Why a body was refused; maps to 400 / 403 / 413.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// 400.
    Invalid(String),
    /// 403: the body names a user.
    NamesUser(String),
    /// 413: too many events or details too large.
    TooLarge(String),
}

// Written out (not thiserror's `#[error("{0}")]`), as are the messages below (`cat`, not
// `format!`): no core::fmt machinery in the Worker's .wasm (see crate::error::num).
impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (BodyError::Invalid(m) | BodyError::NamesUser(m) | BodyError::TooLarge(m)) = self;
        f.write_str(m)
    }
}

/// `m` about the `i`-th event of a request: `events[i]: m`.
pub(crate) fn at_event(i: usize, m: &str) -> String {
    cat(&["events[", &num(i as u64), "]: ", m])
}

/// Nesting a body may have at all (`serde_json`'s recursion limit, which the Worker used before;
/// `details` have their own, smaller bound).
pub const MAX_BODY_DEPTH: usize = 127;

/// Parses and checks a whole body.
///
/// Parsed with the crate's own JSON parser (`src/json.rs`), which keeps every number's text:
/// `details` are stored with their numbers exactly as sent (`serde_json` turned an integer
/// beyond `u64` into a float and `1.50` into `1.5`). An object of the body itself (the batch,
/// an event, a target) that repeats a member name is refused (400): `serde_json` kept the last
/// value silently. So are `details` that repeat a member name in any of their objects (the
/// rule table's rule, `rules::Limits::details_of`; the Rust client refuses the same text).
pub fn parse_events(text: &str, lim: &BodyLimits) -> Result<Vec<IncomingEvent>, BodyError> {
    use crate::json::ParseError;
    let v = crate::json::parse(text, MAX_BODY_DEPTH).map_err(|e| {
        BodyError::Invalid(match e {
            ParseError::Syntax(at) => cat(&["body is not valid JSON (at byte ", &num(at as u64), ")"]),
            ParseError::TooDeep => {
                cat(&["body is not valid JSON (nested more than ", &num(MAX_BODY_DEPTH as u64), " levels deep)"])
            }
            ParseError::LoneSurrogate => "body is not valid JSON (a \\u escape names a lone UTF-16 surrogate)".into(),
            ParseError::OutOfRange(at) => cat(&[
                "body holds a number beyond ±1.7976931348623157e308 (at byte ",
                &num(at as u64),
                "): not a finite number",
            ]),
        })
    })?;
    let Json::Obj(mut top) = v else {
        return Err(BodyError::Invalid("body must be a JSON object".into()));
    };
    let items: Vec<Json> = match take(&mut top, "events") {
        None => vec![Json::Obj(top)],
        Some(Json::Arr(a)) => {
            if let Some((k, _)) = top.first() {
                if k == "events" {
                    return Err(repeated(k, "the batch object"));
                }
                return Err(unknown_or_identity(k, "the batch object"));
            }
            a
        }
        Some(_) => return Err(BodyError::Invalid("events must be an array".into())),
    };
    if items.is_empty() {
        return Err(BodyError::Invalid("events must not be empty".into()));
    }
    if items.len() > lim.max_batch {
        return Err(BodyError::TooLarge(cat(&[
            &num(items.len() as u64),
            " events in one request, more than MAX_BATCH (",
            &num(lim.max_batch as u64),
            ")",
        ])));
    }
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        events.push(parse_one(item, lim).map_err(|e| prefix(i, e))?);
    }
    refuse_duplicate_uids(&events)?;
    Ok(events)
}

/// Removes the first member `key` from an object's members.
fn take(m: &mut Vec<(String, Json)>, key: &str) -> Option<Json> {
    let i = m.iter().position(|(k, _)| k == key)?;
    Some(m.remove(i).1)
}

fn repeated(key: &str, place: &str) -> BodyError {
    BodyError::Invalid(cat(&["field ", &quoted(key), " appears more than once in ", place]))
}

/// Two events of one request with the same client `UID` would be stored as one node (MERGE on
/// the derived UID) while the request's hash chain counts both: a chain with a hole and an
/// `accepted` count that overstates what was stored. Such a request is refused whole (400).
fn refuse_duplicate_uids(events: &[IncomingEvent]) -> Result<(), BodyError> {
    // Sorted by (UID, index): a repeat is a neighbour of its UID's first event. The first
    // repeat in request order is reported, with the event it repeats.
    let mut by_uid: Vec<(&str, usize)> = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        if let Some(u) = ev.client_uid.as_deref() {
            by_uid.push((u, i));
        }
    }
    crate::sort::sort(&mut by_uid);
    let mut first = 0;
    let mut found: Option<(usize, usize)> = None;
    for (n, &(uid, i)) in by_uid.iter().enumerate() {
        if n == 0 || by_uid[n - 1].0 != uid {
            first = i;
        } else if !matches!(found, Some((at, _)) if at < i) {
            found = Some((i, first));
        }
    }
    match found {
        Some((i, j)) => Err(BodyError::Invalid(at_event(
            i,
            &cat(&["UID repeats the UID of events[", &num(j as u64), "]; each event of a request needs its own UID"]),
        ))),
        None => Ok(()),
    }
}

fn prefix(i: usize, e: BodyError) -> BodyError {
    match e {
        BodyError::Invalid(m) => BodyError::Invalid(at_event(i, &m)),
        BodyError::NamesUser(m) => BodyError::NamesUser(at_event(i, &m)),
        BodyError::TooLarge(m) => BodyError::TooLarge(at_event(i, &m)),
    }
}

fn unknown_or_identity(key: &str, place: &str) -> BodyError {
    if IDENTITY_KEYS.contains(&key) {
        BodyError::NamesUser(cat(&[
            place,
            " names a user (",
            &quoted(key),
            "); the acting user comes only from the bearer token",
        ]))
    } else {
        let shown = crate::outcome::first_chars(key, 40);
        BodyError::Invalid(cat(&["unknown field ", &quoted(shown), " in ", place]))
    }
}

fn parse_one(item: Json, lim: &BodyLimits) -> Result<IncomingEvent, BodyError> {
    let Json::Obj(m) = item else {
        return Err(BodyError::Invalid("an event must be a JSON object".into()));
    };
    // Identity first, so a forged user is reported as such even next to other mistakes.
    if let Some((k, _)) = m.iter().find(|(k, _)| IDENTITY_KEYS.contains(&k.as_str())) {
        return Err(unknown_or_identity(k, "the event"));
    }
    if let Some((k, _)) = m.iter().find(|(k, _)| !EVENT_KEYS.contains(&k.as_str())) {
        return Err(unknown_or_identity(k, "the event"));
    }
    // Only the six known names are left, so this is a short check.
    let obj = Json::Obj(m);
    if let Some(k) = obj.repeated_key() {
        return Err(repeated(k, "the event"));
    }
    let get = |k: &str| obj.get(k);
    let action_type = match get("actionType") {
        Some(Json::Str(s)) => check_name("actionType", s)?,
        _ => return Err(BodyError::Invalid("actionType must be a string".into())),
    };
    let category = match get("category") {
        None | Some(Json::Null) => None,
        Some(Json::Str(s)) => Some(check_name("category", s)?),
        Some(_) => return Err(BodyError::Invalid("category must be a string".into())),
    };
    // Checked as sent (413 when too large); the event builder redacts it and checks it again.
    let details = lim.rules().details_of(get("details")).map_err(violation)?;
    let client_uid = match get("UID") {
        None | Some(Json::Null) => None,
        Some(Json::Str(u)) if crate::random::is_hyphenated(u) => Some(u.to_ascii_lowercase()),
        Some(_) => return Err(BodyError::Invalid("UID must be a hyphenated UUID".into())),
    };
    let occurred_at = match get("occurredAt") {
        None | Some(Json::Null) => None,
        Some(n) if n.as_i64().is_some_and(|t| t >= 0) => n.as_i64(),
        Some(_) => {
            return Err(BodyError::Invalid(
                "occurredAt must be a non-negative integer (milliseconds since the Unix epoch)".into(),
            ))
        }
    };
    let targets = match get("targets") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Arr(a)) => {
            let mut targets = Vec::with_capacity(a.len());
            for (i, t) in a.iter().enumerate() {
                targets.push(parse_target(i, t)?);
            }
            targets
        }
        Some(_) => return Err(BodyError::Invalid("targets must be an array of {label, uid, role?}".into())),
    };
    crate::rules::check_targets(&targets).map_err(violation)?;
    Ok(IncomingEvent { action_type, category, details, client_uid, occurred_at, targets })
}

fn parse_target(i: usize, t: &Json) -> Result<crate::event::Target, BodyError> {
    let shape = || {
        BodyError::Invalid(cat(&["targets[", &num(i as u64), "] must be {label: string, uid: string, role?: string}"]))
    };
    let Json::Obj(m) = t else { return Err(shape()) };
    if m.iter().any(|(k, _)| !matches!(k.as_str(), "label" | "uid" | "role")) || t.repeated_key().is_some() {
        return Err(shape());
    }
    let text = |k: &str| match t.get(k) {
        Some(Json::Str(s)) => Ok(Some(s.clone())),
        None | Some(Json::Null) => Ok(None),
        Some(_) => Err(shape()),
    };
    Ok(crate::event::Target {
        label: text("label")?.ok_or_else(shape)?,
        uid: text("uid")?.ok_or_else(shape)?,
        role: text("role")?,
    })
}

/// How far a client's `occurredAt` may be from the Worker's clock: at most `max_skew_ms` in the
/// future (clock skew) and at most `max_age_ms` in the past (how long a client may have queued
/// the event; the client's durable queue keeps events for up to 7 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OccurredAtWindow {
    /// How far in the future `occurredAt` may be, in ms.
    pub max_skew_ms: i64,
    /// How far in the past `occurredAt` may be, in ms.
    pub max_age_ms: i64,
}

/// Default `OCCURRED_AT_MAX_SKEW_SECS`: 5 minutes.
pub const DEFAULT_OCCURRED_AT_MAX_SKEW_SECS: u64 = 300;
/// Default `OCCURRED_AT_MAX_AGE_SECS`: 8 days (the client queue's 7 days plus a day of margin).
pub const DEFAULT_OCCURRED_AT_MAX_AGE_SECS: u64 = 8 * 24 * 3600;

impl Default for OccurredAtWindow {
    fn default() -> Self {
        OccurredAtWindow {
            max_skew_ms: DEFAULT_OCCURRED_AT_MAX_SKEW_SECS as i64 * 1000,
            max_age_ms: DEFAULT_OCCURRED_AT_MAX_AGE_SECS as i64 * 1000,
        }
    }
}

impl OccurredAtWindow {
    /// `Ok` when `occurred_at` lies in `[now - max_age, now + max_skew]`; else why not (400).
    ///
    /// ```
    /// use neo4j_audit::ingest::body::OccurredAtWindow;
    /// let w = OccurredAtWindow { max_skew_ms: 1_000, max_age_ms: 10_000 };
    /// assert!(w.check(50_000, 50_500).is_ok());
    /// assert!(w.check(50_000, 51_001).is_err()); // too far ahead
    /// assert!(w.check(50_000, 39_999).is_err()); // too old
    /// ```
    pub fn check(&self, now_ms: i64, occurred_at: i64) -> Result<(), String> {
        if occurred_at > now_ms.saturating_add(self.max_skew_ms) {
            return Err(cat(&[
                "occurredAt is more than ",
                &int(self.max_skew_ms / 1000),
                " s ahead of the server clock",
            ]));
        }
        if occurred_at < now_ms.saturating_sub(self.max_age_ms) {
            return Err(cat(&["occurredAt is more than ", &int(self.max_age_ms / 1000), " s in the past"]));
        }
        Ok(())
    }
}

/// The UID stored for a client-supplied event UID: a UUID (version 8) derived with SHA-256 from
/// the trail's name, the token subject and the client's UID. The same subject retrying the same
/// event into the same trail gets the same UID, so Neo4j's `MERGE` keeps one copy; another
/// subject can never reach (and re-link) someone else's event by naming its UID; and one event
/// posted to the Workers of two trails of one database (staging and production, a mirroring
/// proxy) is an event in each (derived from the subject alone, the second Worker found the first
/// trail's event "already stored", answered `accepted` and wrote nothing into its own trail).
///
/// ```
/// use neo4j_audit::ingest::body::stored_uid;
/// let a = stored_uid("audit", "alice", "0b5e7f33-5c1e-4f0a-9a0e-3c0e8d1b2a11");
/// assert_eq!(a, stored_uid("audit", "alice", "0b5e7f33-5c1e-4f0a-9a0e-3c0e8d1b2a11"));
/// assert_ne!(a, stored_uid("audit", "mallory", "0b5e7f33-5c1e-4f0a-9a0e-3c0e8d1b2a11"));
/// assert_ne!(a, stored_uid("staging", "alice", "0b5e7f33-5c1e-4f0a-9a0e-3c0e8d1b2a11"));
/// assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 8);
/// ```
pub fn stored_uid(trail: &str, sub: &str, client_uid: &str) -> String {
    use crate::sha::Sha256;
    // `trail NUL sub`, length first: a trail name has no control characters, so the pair is
    // unambiguous (and a tenant's `org:<tenant>` trail derives the UIDs it derived before, when
    // this scope was built by the caller for tenants only).
    let len = trail.len() + 1 + sub.len();
    let mut h = Sha256::new();
    h.update(b"neo4j-audit ingest uid\0");
    h.update((len as u64).to_be_bytes());
    h.update(trail.as_bytes());
    h.update(b"\0");
    h.update(sub.as_bytes());
    h.update(client_uid.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80; // version 8 (custom)
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    crate::random::hyphenated(&b)
}

fn check_name(what: &str, s: &str) -> Result<String, BodyError> {
    crate::rules::check_name(what, s).map_err(violation)?;
    Ok(s.to_owned())
}

fn violation(v: crate::rules::Violation) -> BodyError {
    match v {
        crate::rules::Violation::Invalid(m) => BodyError::Invalid(m),
        crate::rules::Violation::TooLarge(m) => BodyError::TooLarge(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(b: &str) -> String {
        match parse_events(b, &lim()) {
            Err(BodyError::Invalid(m)) => m,
            other => panic!("{b}: {other:?}"),
        }
    }

    /// A tenant's trail (`org:<tenant>`) derives the UIDs it did when the caller built the scope
    /// `org:<tenant> NUL sub` for tenants only (re-sends across the change stay one event); known
    /// answer of that former derivation.
    #[test]
    fn stored_uids_of_tenant_trails_are_the_ones_derived_before() {
        assert_eq!(
            stored_uid("org:acme", "u-1", "0b5e7f33-5c1e-4f0a-9a0e-3c0e8d1b2a11"),
            "ccdfe099-6173-883b-b7cf-41da2cf47dac"
        );
    }

    #[test]
    fn repeated_fields_are_refused_where_they_would_be_ambiguous() {
        // serde_json (the Worker's parser before) kept the last value silently.
        let m = invalid(r#"{"actionType":"A","actionType":"B"}"#);
        assert!(m.contains("\"actionType\" appears more than once in the event"), "{m}");
        let m = invalid(r#"{"events":[{"actionType":"A"}],"events":[{"actionType":"B"}]}"#);
        assert!(m.contains("\"events\" appears more than once"), "{m}");
        invalid(r#"{"events":[{"actionType":"A","details":{"a":1},"details":{"b":2}}]}"#);
        invalid(r#"{"actionType":"A","targets":[{"label":"Doc","uid":"d","uid":"e"}]}"#);
        // A repeated identity field is still 403.
        assert!(matches!(
            parse_events(r#"{"actionType":"A","user":1,"user":2}"#, &lim()),
            Err(BodyError::NamesUser(_))
        ));
    }

    /// Details that give a member name twice in one object (at any depth) are refused, by the
    /// Worker (400) and by the Rust client's text path alike (the rule table's rule): JSON
    /// readers keep only one value (`JSON.parse` the last), so the stored and hashed text would
    /// say `{"amount":1,"amount":1000}` while every reader shows 1000. Before, the Worker stored
    /// it as sent and the client's `build_json` took it too.
    #[test]
    fn details_that_repeat_a_member_name_are_refused_by_worker_and_client_alike() {
        let builder =
            crate::event::EventBuilder::new(crate::redact::Redactor::default(), crate::rules::Limits::default());
        let refused = [
            r#"{"k":1,"k":2}"#,
            r#"{"amount":1,"note":"x","amount":1000}"#,
            r#"{"a":[{"k":1,"k":1}]}"#,
            r#"{"k":1,"k":2}"#,
            r#"{"password":"a","password":"b"}"#,
        ];
        for d in refused {
            let m = invalid(&format!(r#"{{"events":[{{"actionType":"A"}},{{"actionType":"A","details":{d}}}]}}"#));
            assert!(
                m.starts_with("events[1]: details give the member name \"")
                    && m.ends_with("twice in one object; JSON readers would keep only one of the values"),
                "{d}: {m}"
            );
            let e = builder.build_json(None, "A", None, Some(d)).unwrap_err();
            assert!(e.to_string().contains("details give the member name"), "{d}: {e}");
        }
        // The same name in different objects, or as a value, is fine for both.
        for d in [r#"{"a":{"k":1},"b":{"k":2}}"#, r#"{"k":"k","l":[{"k":1},{"k":2}]}"#, r#"{"a": 1, "b": 2}"#] {
            let ev = parse_events(&format!(r#"{{"actionType":"A","details":{d}}}"#), &lim()).unwrap();
            let e = builder.build_json(None, "A", None, Some(d)).unwrap();
            let (ours, worker) = (e.details.unwrap(), ev[0].details.clone().unwrap());
            assert_eq!(ours, worker, "{d}");
        }
    }

    #[test]
    fn numbers_beyond_the_largest_double_are_refused() {
        // Found by a new user: {"details":{"n":1e99999}} was stored (201) as its text, which
        // every JavaScript reader sees as Infinity (export printed null); the client refuses it.
        let m = invalid(r#"{"actionType":"A","details":{"n":1e99999}}"#);
        assert!(m.contains("number beyond") && m.contains("not a finite number"), "{m}");
        invalid(r#"{"actionType":"A","details":{"n":[-1.8e308]}}"#);
        let ev =
            parse_events(r#"{"actionType":"A","details":{"n":1.7976931348623157e308,"m":1e-400}}"#, &lim()).unwrap();
        assert_eq!(ev[0].details.as_deref(), Some(r#"{"n":1.7976931348623157e308,"m":1e-400}"#));
    }

    #[test]
    fn details_keep_order_and_numbers_exactly() {
        let lim = BodyLimits::default();
        let d = r#"{"z":1,"a":{"y":[2,"x"],"b":null},"big":123456789012345678901234567890,"u":18446744073709551616,"f":1.50,"e":-2E-3,"s":"\u00e9\n"}"#;
        let ev = parse_events(&format!(r#"{{ "actionType" : "A", "details" : {d} }}"#), &lim).unwrap();
        // Compact, in the caller's order, numbers as written; strings re-escaped as serde_json does.
        assert_eq!(
            ev[0].details.as_deref(),
            Some(
                r#"{"z":1,"a":{"y":[2,"x"],"b":null},"big":123456789012345678901234567890,"u":18446744073709551616,"f":1.50,"e":-2E-3,"s":"é\n"}"#
            )
        );
        // Where no number needs more than serde_json kept, the same value serde_json parsed.
        let plain = r#"{"z":1,"a":{"y":[2,"x"],"b":null},"n":-7,"s":"\ud83d\ude00"}"#;
        let ev = parse_events(&format!(r#"{{"actionType":"A","details":{plain}}}"#), &lim).unwrap();
        let ours: serde_json::Value = serde_json::from_str(ev[0].details.as_deref().unwrap()).unwrap();
        assert_eq!(ours, serde_json::from_str::<serde_json::Value>(plain).unwrap());
        // In the caller's order (a `Value`'s is serde_json's own), escapes written as serde_json writes them.
        assert_eq!(ev[0].details.as_deref().unwrap(), r#"{"z":1,"a":{"y":[2,"x"],"b":null},"n":-7,"s":"😀"}"#);
    }

    #[test]
    fn body_syntax_depth_and_surrogates_are_400() {
        let deep = format!(r#"{{"actionType":"A","x":{}{}}}"#, "[".repeat(127), "]".repeat(127));
        assert!(invalid(&deep).contains("not valid JSON (nested more than 127"));
        assert!(invalid(r#"{"actionType":"\ud800"}"#).contains("lone UTF-16 surrogate"));
        assert!(invalid(r#"{"actionType":"A","details":{"k":"\udc00"}}"#).contains("not valid JSON"));
        assert!(invalid(r#"{"actionType":"A",}"#).contains("not valid JSON (at byte 18)"));
        assert!(invalid("{\"actionType\":\"A\"} x").contains("not valid JSON"));
        // The details bound is the rule table's, with its message.
        let lim = BodyLimits { max_details_depth: 2, ..lim() };
        match parse_events(r#"{"actionType":"A","details":{"a":{"b":{}}}}"#, &lim) {
            Err(BodyError::Invalid(m)) => assert_eq!(m, "events[0]: details are nested 3 levels deep, more than 2"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_first_repeated_uid_in_request_order_is_named() {
        let u = |c: char| format!("{}-5c1e-4f0a-9a0e-3c0e8d1b2a11", c.to_string().repeat(8));
        let b = format!(
            r#"{{"events":[{{"actionType":"A","UID":"{}"}},{{"actionType":"A","UID":"{}"}},{{"actionType":"A","UID":"{}"}},{{"actionType":"A","UID":"{}"}}]}}"#,
            u('b'),
            u('a'),
            u('a'),
            u('b')
        );
        let lim = BodyLimits { max_batch: 4, ..lim() };
        match parse_events(&b, &lim) {
            Err(BodyError::Invalid(m)) => assert!(m.starts_with("events[2]: UID repeats the UID of events[1]"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    fn lim() -> BodyLimits {
        BodyLimits { max_batch: 3, max_details_bytes: 100, max_details_depth: 3 }
    }

    #[test]
    fn single_and_batch() {
        let one = parse_events(r#"{"actionType":"A","category":"C.1","details":{}}"#, &lim()).unwrap();
        assert_eq!(
            one,
            vec![IncomingEvent {
                action_type: "A".into(),
                category: Some("C.1".into()),
                details: None,
                client_uid: None,
                occurred_at: None,
                targets: vec![]
            }]
        );
        let many =
            parse_events(r#"{"events":[{"actionType":"A"},{"actionType":"B","details":{"k":[1]}}]}"#, &lim()).unwrap();
        assert_eq!(many.len(), 2);
        assert_eq!(many[1].details.as_deref(), Some(r#"{"k":[1]}"#));
    }

    #[test]
    fn shape_errors_are_400() {
        for b in [
            "",
            "[]",
            "1",
            "{",
            r#"{"events":{}}"#,
            r#"{"events":[]}"#,
            r#"{"events":[1]}"#,
            r#"{"actionType":""}"#,
            r#"{"actionType":"a b"}"#,
            r#"{"actionType":"A","category":5}"#,
            r#"{"actionType":"A","details":[1]}"#,
            r#"{"actionType":"A","extra":1}"#,
            r#"{"events":[{"actionType":"A"}],"trail":"x"}"#,
            r#"{"actionType":"A","UID":"x"}"#,
            r#"{"actionType":"A","UID":"0b5e7f335c1e4f0a9a0e3c0e8d1b2a11"}"#,
            r#"{"actionType":"A","occurredAt":"2026-01-01"}"#,
            r#"{"actionType":"A","occurredAt":1.5}"#,
            r#"{"actionType":"A","occurredAt":-1}"#,
        ] {
            assert!(matches!(parse_events(b, &lim()), Err(BodyError::Invalid(_))), "{b}");
        }
        let long = format!(r#"{{"actionType":"{}"}}"#, "A".repeat(MAX_NAME_LEN + 1));
        assert!(matches!(parse_events(&long, &lim()), Err(BodyError::Invalid(_))));
        let deep = r#"{"actionType":"A","details":{"a":{"b":{"c":{}}}}}"#;
        assert!(matches!(parse_events(deep, &lim()), Err(BodyError::Invalid(m)) if m.contains("deep")));
    }

    #[test]
    fn duplicate_uids_in_one_request_are_400_naming_the_index() {
        let u = "0b5e7f33-5c1e-4f0a-9a0e-3c0e8d1b2a11";
        let v = "1b5e7f33-5c1e-4f0a-9a0e-3c0e8d1b2a11";
        let dup = format!(
            r#"{{"events":[{{"actionType":"A","UID":"{u}"}},{{"actionType":"B","UID":"{v}"}},{{"actionType":"C","UID":"{}"}}]}}"#,
            u.to_uppercase()
        );
        match parse_events(&dup, &lim()) {
            Err(BodyError::Invalid(m)) => assert!(m.contains("events[2]") && m.contains("events[0]"), "{m}"),
            other => panic!("{other:?}"),
        }
        let distinct = format!(
            r#"{{"events":[{{"actionType":"A","UID":"{u}"}},{{"actionType":"B","UID":"{v}"}},{{"actionType":"C"}},{{"actionType":"D"}}]}}"#
        );
        let lim4 = BodyLimits { max_batch: 4, ..lim() };
        assert_eq!(parse_events(&distinct, &lim4).unwrap().len(), 4, "events without a UID never clash");
    }

    #[test]
    fn occurred_at_is_read_and_windowed() {
        let ev = parse_events(r#"{"actionType":"A","occurredAt":1700000000000}"#, &lim()).unwrap();
        assert_eq!(ev[0].occurred_at, Some(1_700_000_000_000));
        let w = OccurredAtWindow::default();
        let now = 1_700_000_000_000;
        assert!(w.check(now, now).is_ok());
        assert!(w.check(now, now + 300_000).is_ok());
        assert!(w.check(now, now + 300_001).is_err());
        assert!(w.check(now, now - 8 * 24 * 3600 * 1000).is_ok());
        assert!(w.check(now, now - 8 * 24 * 3600 * 1000 - 1).is_err());
    }

    #[test]
    fn targets_follow_the_rule_table() {
        let ev = parse_events(r#"{"actionType":"A","targets":[{"label":"Document","uid":"d-1","role":"subject"},{"label":"Folder","uid":"f"}]}"#, &lim()).unwrap();
        assert_eq!(
            ev[0].targets,
            vec![
                crate::event::Target::new("Document", "d-1").role("subject"),
                crate::event::Target::new("Folder", "f")
            ]
        );
        for b in [
            r#"{"actionType":"A","targets":{}}"#,
            r#"{"actionType":"A","targets":[1]}"#,
            r#"{"actionType":"A","targets":[{"label":"Doc ument","uid":"d"}]}"#,
            r#"{"actionType":"A","targets":[{"label":"Doc","uid":""}]}"#,
            r#"{"actionType":"A","targets":[{"label":"Doc","uid":"d","extra":1}]}"#,
            r#"{"actionType":"A","targets":[{"label":"Doc","uid":"d"},{"label":"Doc","uid":"d"}]}"#,
        ] {
            assert!(matches!(parse_events(b, &lim()), Err(BodyError::Invalid(_))), "{b}");
        }
    }

    #[test]
    fn size_errors_are_413() {
        let big = format!(r#"{{"actionType":"A","details":{{"k":"{}"}}}}"#, "x".repeat(200));
        // Named by the Worker's variable, not the client's `maxDetailsBytes` (a new user's
        // finding: an operator reading the 413 looked for a client setting).
        match parse_events(&big, &lim()) {
            Err(BodyError::TooLarge(m)) => {
                assert!(m.ends_with("bytes as JSON, more than MAX_DETAILS_BYTES (100)"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        let four = r#"{"events":[{"actionType":"A"},{"actionType":"A"},{"actionType":"A"},{"actionType":"A"}]}"#;
        // The batch bound by its variable too (a new user's finding: "4 events in one request,
        // more than 3" named no setting).
        match parse_events(four, &lim()) {
            Err(BodyError::TooLarge(m)) => assert_eq!(m, "4 events in one request, more than MAX_BATCH (3)"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn identity_in_body_is_403() {
        for b in [
            r#"{"actionType":"A","user":{"uid":"admin"}}"#,
            r#"{"actionType":"A","userUID":"admin"}"#,
            r#"{"events":[{"actionType":"A"},{"actionType":"A","userName":"Eve"}]}"#,
            r#"{"events":[{"actionType":"A"}],"user":{"uid":"admin"}}"#,
        ] {
            assert!(matches!(parse_events(b, &lim()), Err(BodyError::NamesUser(_))), "{b}");
        }
    }
}
