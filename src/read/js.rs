//! The read side's JavaScript edge without `serde_json`: options from the members of a JS
//! options object (as the crate's own JSON, [`crate::json`]) and results as JSON text that the
//! host's `JSON.parse` turns into objects. Each accepts, refuses and writes what the types'
//! `serde` derives do for the same data (tested against `serde_json` below), so the JavaScript
//! API is unchanged while the browser's read entry carries no `serde_json` or
//! `serde-wasm-bindgen`.

use super::{iso_millis, PageEvent, PublicKeys, TrailQuery, VerifyQuery, DETAILS_DEPTH};
use crate::chain::VerifyReport;
use crate::error::cat;
use crate::event::Source;
use crate::json::{self, Json};
use crate::sign::PublicJwk;

// Options from JavaScript as the crate's own JSON: the members of an options object, accepted and
// refused as the types' `Deserialize` does (unknown and repeated members refused, `null` as
// absent), with the same words for unknown members; tested against `serde_json` below.

const TRAIL_FIELDS: &[&str] = &["since", "until", "actionType", "category", "userUid", "target", "limit", "cursor"];
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
const VERIFY_FIELDS: &[&str] =
    &["streamId", "since", "publicKeys", "publicKey", "allowUnsigned", "requireBound", "anchors"];
#[cfg(all(target_arch = "wasm32", feature = "worker"))] // GET /v1/verify takes no anchors
const VERIFY_FIELDS: &[&str] = &["streamId", "since", "publicKeys", "publicKey", "allowUnsigned", "requireBound"];

fn unknown_field(k: &str, expected: &[&str]) -> String {
    let mut out = cat(&["unknown field `", &crate::error::shown(k), "`, expected one of "]);
    for (i, e) in expected.iter().enumerate() {
        out.push_str(if i == 0 { "`" } else { ", `" });
        out.push_str(e);
        out.push('`');
    }
    out
}

/// The key an `unknown_field(k, TRAIL_FIELDS)` message names (`getUserActivity` and
/// `getTargetActivity` show it beside their own list of options).
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))] // the Worker reads no trail pages
pub(crate) fn unknown_trail_key(m: &str) -> Option<&str> {
    const HEAD: &str = "unknown field `";
    let tail = unknown_field("", TRAIL_FIELDS);
    m.strip_prefix(HEAD)?.strip_suffix(&tail[HEAD.len()..])
}

fn invalid_type(k: &str, v: &Json, expected: &str) -> String {
    let got = match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Num(_) => "a number",
        Json::Str(_) => "a string",
        Json::Arr(_) => "an array",
        Json::Obj(_) => "an object",
    };
    cat(&["invalid type: ", got, " for `", k, "`, expected ", expected])
}

/// The members in order, refusing one given twice.
fn members(m: &[(String, Json)]) -> impl Iterator<Item = Result<(&str, &Json), String>> {
    m.iter().enumerate().map(move |(i, (k, v))| {
        if m[..i].iter().any(|(p, _)| p == k) {
            return Err(cat(&["duplicate field `", k, "`"]));
        }
        Ok((k.as_str(), v))
    })
}

fn opt_string(k: &str, v: &Json) -> Result<Option<String>, String> {
    match v {
        Json::Null => Ok(None),
        Json::Str(s) => Ok(Some(s.clone())),
        _ => Err(invalid_type(k, v, "a string")),
    }
}

fn opt_i64(k: &str, v: &Json) -> Result<Option<i64>, String> {
    match v {
        Json::Null => Ok(None),
        _ => v.as_i64().map(Some).ok_or_else(|| invalid_type(k, v, "a whole number (epoch milliseconds)")),
    }
}

impl TrailQuery {
    /// From the members of an options object (what its `Deserialize` accepts).
    pub(crate) fn from_members(m: &[(String, Json)]) -> Result<TrailQuery, String> {
        let mut q = TrailQuery::default();
        for kv in members(m) {
            let (k, v) = kv?;
            match k {
                "since" => q.since = opt_i64(k, v)?,
                "until" => q.until = opt_i64(k, v)?,
                "actionType" => q.action_type = opt_string(k, v)?,
                "category" => q.category = opt_string(k, v)?,
                "userUid" => q.user_uid = opt_string(k, v)?,
                "target" => q.target = opt_string(k, v)?,
                "cursor" => q.cursor = opt_string(k, v)?,
                "limit" => {
                    q.limit = match v {
                        Json::Null => None,
                        _ => Some(
                            v.as_u64()
                                .and_then(|n| u32::try_from(n).ok())
                                .ok_or_else(|| invalid_type(k, v, "a whole number, 1 to 1000"))?,
                        ),
                    }
                }
                _ => return Err(unknown_field(k, TRAIL_FIELDS)),
            }
        }
        Ok(q)
    }
}

impl VerifyQuery {
    /// From the members of an options object (what its `Deserialize` accepts).
    pub(crate) fn from_members(m: &[(String, Json)]) -> Result<VerifyQuery, String> {
        let mut q = VerifyQuery::default();
        for kv in members(m) {
            let (k, v) = kv?;
            match k {
                "streamId" => q.stream_id = opt_string(k, v)?,
                "since" => q.since = opt_i64(k, v)?,
                "publicKeys" => q.public_keys = if v.is_null() { None } else { Some(PublicKeys::from_json(v)?) },
                "publicKey" => q.public_key = if v.is_null() { None } else { Some(jwk_from_json(v)?) },
                "allowUnsigned" => q.allow_unsigned = v.as_bool().ok_or_else(|| invalid_type(k, v, "a boolean"))?,
                "requireBound" => q.require_bound = v.as_bool().ok_or_else(|| invalid_type(k, v, "a boolean"))?,
                #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
                "anchors" => q.anchors = anchors_from_json(v)?,
                _ => return Err(unknown_field(k, VERIFY_FIELDS)),
            }
        }
        Ok(q)
    }
}

/// `[{streamId, seq, hash}, …]` (other members of each ignored), as `Vec<Anchor>`'s
/// `Deserialize` reads it.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
fn anchors_from_json(v: &Json) -> Result<Vec<super::Anchor>, String> {
    const SHAPE: &str = "anchors must be a list of {streamId, seq, hash} (what chainHead() gives)";
    let list = v.as_array().ok_or(SHAPE)?;
    let mut anchors = Vec::with_capacity(list.len());
    for a in list {
        let s = |k: &str| a.get(k).and_then(Json::as_str).map(str::to_owned);
        let seq = a.get("seq");
        match (s("streamId"), seq.and_then(Json::as_u64), s("hash")) {
            (Some(stream_id), Some(seq), Some(hash)) => anchors.push(super::Anchor { stream_id, seq, hash }),
            // chainHead() before the stream's first event (seq null, the genesis hash) anchors
            // nothing, so it checks nothing (TypeScript's AuditChainHead is accepted as is).
            (Some(_), None, Some(hash)) if seq.is_some_and(Json::is_null) && hash == crate::chain::GENESIS => {}
            _ => return Err(SHAPE.to_owned()),
        }
    }
    Ok(anchors)
}

impl PublicKeys {
    /// `[jwk, …]` or `{"keys": [jwk, …]}` (other members of the set ignored). Refused in words
    /// that say what is expected (serde's untagged enum said "data did not match any variant of
    /// untagged enum PublicKeys"), or what is wrong with a key.
    fn from_json(v: &Json) -> Result<PublicKeys, String> {
        const SHAPE: &str =
            "publicKeys must be a JWK Set ({keys: [JWK, ...]}, as GET /v1/keys answers) or an array of JWKs";
        let list = |a: &[Json]| -> Result<Vec<PublicJwk>, String> {
            let mut keys = Vec::with_capacity(a.len());
            for k in a {
                keys.push(jwk_from_json(k).map_err(|e| crate::error::cat(&["publicKeys: ", &e]))?);
            }
            Ok(keys)
        };
        match (v, v.get("keys")) {
            (Json::Arr(a), _) => list(a).map(PublicKeys::List),
            (Json::Obj(_), Some(Json::Arr(a))) => list(a).map(|keys| PublicKeys::Set { keys }),
            _ => Err(SHAPE.to_owned()),
        }
    }
}

/// A JWK object: `kid` and `x` required, `kty`, `crv`, `alg`, `use` defaulted, other members ignored.
fn jwk_from_json(v: &Json) -> Result<PublicJwk, String> {
    let Json::Obj(_) = v else { return Err(invalid_type("publicKey", v, "a JWK object")) };
    let field = |k: &str| match v.get(k) {
        None => Ok(None),
        Some(Json::Str(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid_type(k, other, "a string")),
    };
    let required = |k: &str| field(k)?.ok_or_else(|| cat(&["missing field `", k, "`"]));
    // Absent members take the defaults of PublicJwk's `Deserialize`.
    use crate::sign::{ed25519, eddsa, okp, sig};
    Ok(PublicJwk {
        kid: required("kid")?,
        kty: field("kty")?.unwrap_or_else(okp),
        crv: field("crv")?.unwrap_or_else(ed25519),
        x: required("x")?,
        alg: field("alg")?.unwrap_or_else(eddsa),
        use_: field("use")?.unwrap_or_else(sig),
    })
}

// Results for JavaScript as JSON text (the host's `JSON.parse` makes the objects): the keys and
// values the types' `Serialize` gives, written directly; tested against `serde_json` below.

/// A page of events (with the next page's cursor) as [`TrailPage`]'s JSON. `details` is the
/// stored text itself when it is a JSON object (the same value `serde_json` would parse from it),
/// else that text as a string, as [`TrailEvent::details`].
#[inline(never)]
pub(crate) fn write_page(events: &[PageEvent], next_cursor: Option<&str>, out: &mut String) {
    use crate::json::write_opt_str;
    out.reserve(events.iter().map(|e| e.event.json_len() + 160).sum::<usize>() + 32);
    out.push_str("{\"events\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_trail_event(e, out);
    }
    out.push_str("],\"nextCursor\":");
    write_opt_str(out, next_cursor);
    out.push('}');
}

/// One event as [`TrailEvent`]'s JSON.
fn write_trail_event(p: &PageEvent, out: &mut String) {
    use crate::json::{write_int, write_opt_str, write_str, write_uint};
    let e = &p.event;
    out.push_str("{\"uid\":");
    write_str(out, &e.uid);
    out.push_str(",\"actionType\":");
    write_str(out, &e.action_type);
    out.push_str(",\"category\":");
    write_str(out, &e.category);
    out.push_str(",\"timestamp\":");
    match &p.raw_time {
        Some(t) => write_str(out, t),
        None => {
            out.push('"');
            out.push_str(&iso_millis(e.ts));
            out.push('"');
        }
    }
    out.push_str(",\"ts\":");
    write_int(out, e.ts);
    out.push_str(",\"userUid\":");
    write_opt_str(out, e.user_uid.as_deref());
    out.push_str(",\"userName\":");
    write_opt_str(out, e.user_name.as_deref());
    out.push_str(",\"details\":");
    match e.details.as_deref() {
        None => out.push_str("null"),
        Some(d) if matches!(json::parse(d, DETAILS_DEPTH), Ok(Json::Obj(_))) => out.push_str(d),
        Some(d) => write_str(out, d),
    }
    out.push_str(",\"streamId\":");
    write_opt_str(out, e.stream_id.as_deref());
    out.push_str(",\"seq\":");
    match e.seq {
        Some(n) => write_uint(out, n),
        None => out.push_str("null"),
    }
    out.push_str(",\"prevHash\":");
    write_opt_str(out, e.prev_hash.as_deref());
    out.push_str(",\"hash\":");
    write_opt_str(out, e.hash.as_deref());
    // Provenance ([`TrailEvent::source`], `occurred_at`): both null when not stored.
    match e.occurred_at {
        Some(at) => {
            out.push_str(match e.source {
                Source::Client => ",\"source\":\"client\",\"occurredAt\":\"",
                Source::Worker => ",\"source\":\"worker\",\"occurredAt\":\"",
            });
            out.push_str(&iso_millis(at));
            out.push('"');
        }
        None => out.push_str(",\"source\":null,\"occurredAt\":null"),
    }
    crate::event::write_targets(out, &e.targets);
    // [`TrailEvent::invalid`]: only when there is one.
    if !p.invalid.is_empty() {
        out.push_str(",\"invalid\":");
        crate::json::write_str_array(out, &p.invalid);
    }
    out.push('}');
}

/// A verification report as [`VerifyReport`]'s JSON.
#[inline(never)]
pub(crate) fn write_report(r: &VerifyReport, out: &mut String) {
    use crate::json::{write_opt_str, write_str, write_uint};
    let opt_uint = |out: &mut String, n: Option<u64>| match n {
        Some(n) => write_uint(out, n),
        None => out.push_str("null"),
    };
    let bool_ = |b: bool| if b { "true" } else { "false" };
    out.push_str("{\"ok\":");
    out.push_str(bool_(r.ok));
    out.push_str(",\"checked\":");
    write_uint(out, r.checked);
    out.push_str(",\"streams\":[");
    for (i, s) in r.streams.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"streamId\":");
        write_str(out, &s.stream_id);
        out.push_str(",\"ok\":");
        out.push_str(bool_(s.ok));
        out.push_str(",\"bound\":");
        out.push_str(bool_(s.bound));
        out.push_str(",\"checked\":");
        write_uint(out, s.checked);
        out.push_str(",\"headSeq\":");
        opt_uint(out, s.head_seq);
        out.push_str(",\"headHash\":");
        write_opt_str(out, s.head_hash.as_deref());
        out.push_str(",\"firstBreak\":");
        match &s.first_break {
            None => out.push_str("null"),
            Some(b) => {
                out.push_str("{\"kind\":\"");
                out.push_str(b.kind.name());
                out.push_str("\",\"seq\":");
                write_uint(out, b.seq);
                out.push_str(",\"uid\":");
                write_opt_str(out, b.uid.as_deref());
                out.push_str(",\"message\":");
                write_str(out, &b.message);
                out.push('}');
            }
        }
        if let Some(n) = s.signed_seq {
            out.push_str(",\"signedSeq\":");
            write_uint(out, n);
        }
        out.push('}');
    }
    out.push_str("],\"unchained\":");
    write_uint(out, r.unchained);
    out.push_str(",\"unchainedUids\":[");
    for (i, u) in r.unchained_uids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, u);
    }
    out.push(']');
    if let Some(h) = &r.signed_head {
        out.push_str(",\"signedHead\":");
        super::write_opt_head(Some(h), out);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{Break, BreakKind, SignedHead, StoredSeal, StreamReport};
    use crate::event::{AuditEvent, Target};
    use crate::read::{TrailEvent, TrailPage};

    fn members_of(text: &str) -> Vec<(String, Json)> {
        match json::parse(text, 127).unwrap() {
            Json::Obj(m) => m,
            _ => panic!("{text} is not an object"),
        }
    }

    /// Accepted with the same value, or refused, exactly as `serde_json` does.
    type Members = [(String, Json)];
    fn same_as_serde<T>(texts: &[&str], ours: fn(&Members) -> Result<T, String>)
    where
        T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        for t in texts {
            let theirs = serde_json::from_str::<T>(t);
            match (ours(&members_of(t)), theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{t}"),
                (Err(a), Err(b)) => {
                    // Unknown members are named in serde's words (JavaScript callers match on them).
                    if b.to_string().starts_with("unknown field") {
                        assert!(b.to_string().starts_with(&a), "{t}: {a} vs {b}");
                    }
                }
                (a, b) => panic!("{t}: ours {a:?}, serde_json {b:?}"),
            }
        }
    }

    /// A wrong type says what is wanted in a JavaScript caller's words, not Rust's (a new user
    /// met "expected an integer (u32)" for `limit: "5"`), and the range the read takes (it said
    /// "0 to 4294967295", a u32's, to an Express app passing `req.query.limit`).
    #[test]
    fn a_wrong_option_type_is_said_in_javascript_words() {
        let e = TrailQuery::from_members(&members_of(r#"{"limit":"5"}"#)).unwrap_err();
        assert_eq!(e, "invalid type: a string for `limit`, expected a whole number, 1 to 1000");
        assert!(e.ends_with(&format!(" 1 to {}", crate::read::MAX_LIMIT)));
        let e = TrailQuery::from_members(&members_of(r#"{"since":"x"}"#)).unwrap_err();
        assert_eq!(e, "invalid type: a string for `since`, expected a whole number (epoch milliseconds)");
    }

    #[test]
    fn trail_options_are_read_as_serde_reads_them() {
        same_as_serde::<TrailQuery>(
            &[
                "{}",
                r#"{"since":5,"until":-9,"actionType":"A","category":"C","userUid":"u","target":"Doc:1","limit":10,"cursor":"c"}"#,
                r#"{"since":null,"limit":null,"cursor":null}"#,
                r#"{"limit":4294967295}"#,
                r#"{"limit":4294967296}"#,
                r#"{"limit":-1}"#,
                r#"{"limit":1.5}"#,
                r#"{"limit":"5"}"#,
                r#"{"since":9223372036854775807}"#,
                r#"{"since":9223372036854775808}"#,
                r#"{"since":1e3}"#,
                r#"{"since":"5"}"#,
                r#"{"actionType":5}"#,
                r#"{"actionType":true}"#,
                r#"{"category":["C"]}"#,
                r#"{"limt":5}"#,
                r#"{"Limit":5}"#,
                r#"{"limit":5,"limit":6}"#,
            ],
            TrailQuery::from_members,
        );
    }

    #[test]
    fn verify_options_are_read_as_serde_reads_them() {
        let x = "A".repeat(43);
        let jwk = format!(r#"{{"kid":"k1","x":"{x}"}}"#);
        let full = format!(
            r#"{{"kid":"k2","x":"{x}","kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","d":"ignored","ext":true}}"#
        );
        let texts: Vec<String> = vec![
            "{}".into(),
            r#"{"streamId":"s","since":1,"allowUnsigned":true}"#.into(),
            r#"{"allowUnsigned":false}"#.into(),
            r#"{"allowUnsigned":1}"#.into(),
            r#"{"allowUnsigned":null}"#.into(),
            r#"{"requireBound":true,"allowUnsigned":true}"#.into(),
            r#"{"requireBound":"yes"}"#.into(),
            r#"{"anchors":[]}"#.into(),
            r#"{"anchors":[{"streamId":"s.t","seq":3,"hash":"ab"},{"streamId":"u","seq":0,"hash":"cd","seal":null}]}"#
                .into(),
            r#"{"anchors":[{"streamId":"s","seq":null,"hash":"ab"}]}"#.into(),
            r#"{"anchors":[{"streamId":"s","hash":"ab"}]}"#.into(),
            r#"{"anchors":{"streamId":"s","seq":1,"hash":"ab"}}"#.into(),
            r#"{"anchors":null}"#.into(),
            r#"{"streamId":7}"#.into(),
            format!(r#"{{"publicKeys":[{jwk},{full}]}}"#),
            format!(r#"{{"publicKeys":{{"keys":[{jwk}],"other":1}}}}"#),
            r#"{"publicKeys":[]}"#.into(),
            r#"{"publicKeys":{"keys":[]}}"#.into(),
            r#"{"publicKeys":{}}"#.into(),
            r#"{"publicKeys":[{"kid":"k1"}]}"#.into(),
            r#"{"publicKeys":[{"x":"y"}]}"#.into(),
            format!(r#"{{"publicKeys":[{{"kid":"k1","x":"{x}","kty":null}}]}}"#),
            format!(r#"{{"publicKeys":[{{"kid":5,"x":"{x}"}}]}}"#),
            r#"{"publicKeys":"k1:abc"}"#.into(),
            r#"{"publicKeys":null}"#.into(),
            format!(r#"{{"publicKey":{jwk}}}"#),
            format!(r#"{{"publicKey":{full},"publicKeys":[{jwk}]}}"#),
            r#"{"publicKey":{"kid":"k"}}"#.into(),
            r#"{"publicKey":[1]}"#.into(),
            r#"{"publicKey":null}"#.into(),
            r#"{"publickey":{}}"#.into(),
        ];
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        same_as_serde::<VerifyQuery>(&texts, VerifyQuery::from_members);
    }

    #[test]
    fn public_keys_of_the_wrong_shape_say_what_is_expected() {
        // A new user's finding: {publicKeys: {keys: "x"}} gave "data did not match any variant
        // of untagged enum PublicKeys".
        for t in [
            r#"{"publicKeys":{"keys":"x"}}"#,
            r#"{"publicKeys":5}"#,
            r#"{"publicKeys":"k1:abc"}"#,
            r#"{"publicKeys":{}}"#,
        ] {
            let e = VerifyQuery::from_members(&members_of(t)).unwrap_err();
            assert_eq!(
                e, "publicKeys must be a JWK Set ({keys: [JWK, ...]}, as GET /v1/keys answers) or an array of JWKs",
                "{t}"
            );
        }
        let e = VerifyQuery::from_members(&members_of(r#"{"publicKeys":{"keys":[{"kid":"k1"}]}}"#)).unwrap_err();
        assert_eq!(e, "publicKeys: missing field `x`");
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))] // SigningKey::public_jwk is native only
    fn a_public_key_for_another_use_or_algorithm_is_refused_and_one_without_them_taken() {
        let x = crate::sign::SigningKey::from_secret("k1", &"1".repeat(64)).unwrap().public_jwk().x;
        let q = |t: String| VerifyQuery::from_members(&members_of(&t)).unwrap();
        assert!(q(format!(r#"{{"publicKeys":[{{"kid":"k1","x":"{x}"}}]}}"#)).key_set().unwrap().is_some());
        for (member, shown) in
            [(r#""use":"enc""#, r#"its "use" is "enc""#), (r#""alg":"RS256""#, r#"its "alg" is "RS256""#)]
        {
            let e =
                q(format!(r#"{{"publicKeys":{{"keys":[{{"kid":"k1","x":"{x}",{member}}}]}}}}"#)).key_set().unwrap_err();
            let e = e.to_string();
            assert!(e.contains(&format!(r#"keys: key "k1": {shown}"#)), "{e}");
        }
    }

    #[test]
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn a_chain_head_taken_before_the_first_event_anchors_nothing() {
        // A new user's finding: verifyTrail({anchors: [logger.chainHead()]}) on a fresh stream was
        // refused ("anchors must be a list of {streamId, seq, hash} (what chainHead() gives)"),
        // and TypeScript refused chainHead()'s type (seq: number | null) for anchors.
        let genesis = crate::chain::GENESIS;
        let t = format!(
            r#"{{"anchors":[{{"streamId":"s","seq":null,"hash":"{genesis}"}},{{"streamId":"t","seq":2,"hash":"ab"}}]}}"#
        );
        let q = VerifyQuery::from_members(&members_of(&t)).unwrap();
        assert_eq!(q.anchors, vec![crate::read::Anchor { stream_id: "t".into(), seq: 2, hash: "ab".into() }]);
        // seq null with another hash is no head chainHead() gives: still refused.
        for t in [
            r#"{"anchors":[{"streamId":"s","seq":null,"hash":"ab"}]}"#,
            r#"{"anchors":[{"streamId":"s","hash":"ab"}]}"#,
        ] {
            assert!(VerifyQuery::from_members(&members_of(t)).is_err(), "{t}");
        }
    }

    fn page_event(event: AuditEvent) -> PageEvent {
        PageEvent { event, invalid: Vec::new(), raw_time: None }
    }

    fn event(i: u64) -> AuditEvent {
        let mut e = AuditEvent::build(None, &format!("E{i}"), None, None, 1000).unwrap();
        e.ts = 1_700_000_000_000 + i as i64;
        e.uid = format!("uid-{i}-\"q\"");
        e.stream_id = Some("s-1".into());
        e.seq = Some(i);
        e.prev_hash = Some("0".repeat(64));
        e.hash = Some("a".repeat(64));
        e
    }

    #[test]
    fn a_page_is_the_value_serde_gives() {
        // Objects: details that are JSON of another type read back as their text (below).
        let deep = format!("{}1{}", "{\"a\":".repeat(127), "}".repeat(127));
        let too_deep = format!("{}1{}", "{\"a\":".repeat(128), "}".repeat(128));
        let details = [
            None,
            Some(
                r#"{"i":4,"note":"line\nbreak ✓","nested":{"Password":"[REDACTED]","list":[{"apiKey":"k"}]}}"#
                    .to_owned(),
            ),
            Some(r#"{"n":[1,2.5,-0.125,1e3,null,true],"s":"\u00e9\ud83d\ude00","big":1152921504606846976}"#.to_owned()),
            Some(" { \"spaced\" : [ 1 , 2 ] } ".to_owned()),
            Some(r#"{"a":1,"a":2}"#.to_owned()),
            Some("not json".to_owned()),
            Some(r#"{"lone":"\ud800"}"#.to_owned()),
            Some("{\"a\":1} trailing".to_owned()),
            Some("\"just a string\"".to_owned()),
            Some("".to_owned()),
            // JSON, but not an object (another tool stored it): the text, as a string.
            Some("42".to_owned()),
            Some("[1,{\"a\":2}]".to_owned()),
            Some("null".to_owned()),
            Some("true".to_owned()),
        ];
        let mut events: Vec<AuditEvent> = details
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let mut e = event(i as u64);
                e.details = d.clone();
                e
            })
            .collect();
        events[1].user_uid = Some("u\u{1}".into());
        events[1].user_name = Some("Zoë \"Z\"".into());
        events[2].targets = vec![Target::new("Document", "d-1").role("subject"), Target::new("Folder", "f")];
        events[2].source = Source::Worker;
        events[2].occurred_at = Some(1_699_999_999_123);
        events[0].occurred_at = Some(events[0].ts);
        events[3].occurred_at = None;
        events[3].stream_id = None;
        events[3].seq = None;
        events[3].prev_hash = None;
        events[3].hash = None;
        events[4].ts = -1;
        let mut pages: Vec<PageEvent> = events.iter().cloned().map(page_event).collect();
        // Marked events: a timestamp stored as text (read as 0), a UID that was a number.
        pages[5].invalid = vec!["timestamp".into(), "details".into()];
        pages[5].raw_time = Some("2026-11-30 \"noon\"".into());
        pages[5].event.ts = 0;
        pages[6].invalid = vec!["UID".into()];
        pages[6].event.uid = "42".into();
        for cursor in [None, Some("c-1")] {
            let mut text = String::new();
            write_page(&pages, cursor, &mut text);
            let page = TrailPage {
                events: pages.iter().cloned().map(TrailEvent::from).collect(),
                next_cursor: cursor.map(str::to_owned),
            };
            let ours: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(ours, serde_json::to_value(&page).unwrap());
            // Provenance as stored: null when the event has none (stored before it existed).
            let ev = &ours["events"];
            assert_eq!((&ev[0]["source"], &ev[0]["occurredAt"]), (&serde_json::json!("client"), &ev[0]["timestamp"]));
            assert_eq!(ev[2]["source"], "worker");
            assert_eq!(ev[2]["occurredAt"], "2023-11-14T22:13:19.123Z");
            assert_eq!((&ev[3]["source"], &ev[3]["occurredAt"]), (&serde_json::Value::Null, &serde_json::Value::Null));
            assert_eq!(
                (&ev[5]["timestamp"], &ev[5]["ts"]),
                (&serde_json::json!("2026-11-30 \"noon\""), &serde_json::json!(0))
            );
            assert_eq!(
                (&ev[5]["invalid"], &ev[6]["invalid"]),
                (&serde_json::json!(["timestamp", "details"]), &serde_json::json!(["UID"]))
            );
            assert_eq!(ev[4].get("invalid"), None, "a well-formed event has no `invalid`");
        }
        // Details that are not a JSON object's text are that text, as a string (Rust and JS alike).
        for (i, d) in details.iter().enumerate() {
            let got = TrailEvent::from(events[i].clone()).details;
            match d.as_deref() {
                None => assert_eq!(got, None),
                Some(t) if t.trim_start().starts_with('{') && serde_json::from_str::<serde_json::Value>(t).is_ok() => {
                    assert!(got.as_ref().is_some_and(serde_json::Value::is_object), "{t:?}: {got:?}")
                }
                Some(t) => assert_eq!(got, Some(serde_json::Value::String(t.to_owned())), "{t:?}"),
            }
        }
        // Nested as deep as serde_json reads (its recursion limit), and one deeper: a value, and
        // the text as a string. (Compared apart: inside a page they exceed serde_json's limit.)
        assert!(serde_json::from_str::<serde_json::Value>(&deep).is_ok());
        assert!(serde_json::from_str::<serde_json::Value>(&too_deep).is_err());
        for (d, raw) in [(deep, true), (too_deep, false)] {
            let mut e = event(0);
            e.details = Some(d.clone());
            let mut text = String::new();
            write_page(&[page_event(e)], None, &mut text);
            let mut quoted = String::new();
            json::write_str(&mut quoted, &d);
            assert!(text.contains(&format!("\"details\":{}", if raw { &d } else { &quoted })));
            assert!(json::parse(&text, 200).is_ok());
        }
        let mut empty = String::new();
        write_page(&[], None, &mut empty);
        assert_eq!(empty, serde_json::to_string(&TrailPage { events: vec![], next_cursor: None }).unwrap());
        // Without details or with compact ones, byte for byte. (Keys in sorted order here: a
        // `TrailEvent`'s details are a `Value`, in serde_json's `Map` order, sorted without its
        // `preserve_order`, which the crate does not turn on; the page keeps the stored order.)
        let mut plain = pages[..3].to_vec();
        plain[1].event.details =
            Some(r#"{"i":4,"nested":{"Password":"[REDACTED]","list":[{"apiKey":"k"}]},"note":"line\nbreak ✓"}"#.into());
        plain[2].event.details = Some(r#"{"a":[1,"x"]}"#.into());
        let mut text = String::new();
        write_page(&plain, Some("c"), &mut text);
        let page =
            TrailPage { events: plain.into_iter().map(TrailEvent::from).collect(), next_cursor: Some("c".into()) };
        assert_eq!(text, serde_json::to_string(&page).unwrap());
    }

    #[test]
    fn a_report_is_the_bytes_serde_gives() {
        let seal = StoredSeal { kid: "k\"1".into(), sig: "c2ln".into(), signed_at: 1_800_000_000_000 };
        let stream = |id: &str, kind: Option<BreakKind>, signed: Option<u64>| StreamReport {
            stream_id: id.into(),
            ok: kind.is_none(),
            bound: id == "ok",
            checked: 7,
            head_seq: if id == "empty" { None } else { Some(6) },
            head_hash: if id == "empty" { None } else { Some("b".repeat(64)) },
            first_break: kind.map(|kind| Break {
                kind,
                seq: 3,
                uid: (id != "nouid").then(|| "u-3".into()),
                message: "seq 3: \"x\"\n".into(),
            }),
            signed_seq: signed,
        };
        let kinds = BreakKind::ALL;
        let mut streams: Vec<StreamReport> = kinds.iter().map(|k| stream("s", Some(*k), None)).collect();
        streams.push(stream("empty", None, None));
        streams.push(stream("nouid", Some(BreakKind::Deleted), Some(2)));
        streams.push(stream("ok", None, Some(6)));
        for (streams, head, unchained) in [
            (vec![], None, vec![]),
            (streams.clone(), None, vec!["a".to_owned(), "b\u{7f}".to_owned()]),
            (
                streams,
                Some(SignedHead { stream_id: "w".into(), seq: 9, hash: "c".repeat(64), seal: Some(seal) }),
                vec![],
            ),
            (
                vec![stream("w", None, Some(1))],
                Some(SignedHead { stream_id: "w".into(), seq: 1, hash: "d".into(), seal: None }),
                vec![],
            ),
        ] {
            let r = VerifyReport {
                ok: unchained.is_empty(),
                checked: u64::MAX,
                streams,
                unchained: unchained.len() as u64,
                unchained_uids: unchained,
                signed_head: head,
            };
            let mut text = String::new();
            write_report(&r, &mut text);
            assert_eq!(text, serde_json::to_string(&r).unwrap());
        }
    }
}
