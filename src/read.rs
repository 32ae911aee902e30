//! The read side: a trail's events, newest first, with keyset pagination; a user's activity; and
//! chain verification ([`crate::chain`]) over what is stored.
//!
//! Every query is constant text chosen from a few fragments (which filters are present) plus
//! `$parameters`; each is steered onto one of the indexes that `ensureSchema` creates with a
//! `USING INDEX` hint, so it never scans every event.
//!
//! Internally the read side works on the crate's own JSON (`src/json.rs`): statements carry their
//! parameters in it and Neo4j's rows are read as parsed, so the browser's read entry carries no
//! `serde_json` (its results are written as JSON text that the host's `JSON.parse` turns into
//! objects, `src/read/js.rs`). The public Rust API keeps its `serde_json` types ([`Statement`],
//! [`TrailEvent::details`]), converted at its edge.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chain::{SignedHead, StoredSeal, VerifyReport};
use crate::config::Labels;
use crate::cypher::Statement;
use crate::error::{cat, find, int, num, split_once, AuditError};
use crate::event::{AuditEvent, Source, Target};
use crate::json::Json;
use crate::logger::AuditLogger;
use crate::sign::{KeySet, PublicJwk};

/// A refusal's name for a query field: JavaScript's option name in the npm package's builds
/// (wasm32 with `js`: `userUid`, the name its caller wrote), else the Rust field's (`user_uid`):
/// a Rust program was told `userUid must be …` of a field it knows as `user_uid`. Chosen when
/// built, so each build holds one name.
macro_rules! field_name {
    ($(#[$m:meta])* $name:ident, $js:literal, $rust:literal) => {
        $(#[$m])*
        #[cfg(all(target_arch = "wasm32", feature = "js"))]
        const $name: &str = $js;
        $(#[$m])*
        #[cfg(not(all(target_arch = "wasm32", feature = "js")))]
        const $name: &str = $rust;
    };
}
field_name!(USER_UID, "userUid", "user_uid");
field_name!(ACTION_TYPE, "actionType", "action_type");
field_name!(
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    STREAM_ID_IN,
    "streamId: stream ",
    "stream_id: stream "
);
field_name!(
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    STREAM_ID,
    "streamId",
    "stream_id"
);
field_name!(
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    STREAM_ID_IS,
    " (a stream's id, as chainHead() gives it)",
    " (a stream's id, as chain_head() gives it)"
);
field_name!(
    /// How a refused number's words end ([`check_epoch_millis`]): the forms of an instant.
    INSTANT_FORMS,
    "; an instant is epoch milliseconds like 1767225600000, an ISO 8601 string or a Date)",
    "; since and until are epoch milliseconds, like 1767225600000)"
);
field_name!(KEYS_EMPTY, "publicKeys is empty", "public_keys is empty");
field_name!(KEYS_IN, "publicKeys: ", "public_keys: ");

/// Page size when none is given.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page.
pub const MAX_LIMIT: u32 = 1000;
/// Events per request while verifying.
const VERIFY_PAGE: u32 = 1000;
/// How often [`AuditLogger::verify_trail`] reads a stream again whose first break is a gap
/// before its last event (a batch of a logger still writing may have been in flight), and how long
/// it waits before each reading (ms).
const GAP_READS: u32 = 3;
const GAP_WAIT_MS: u64 = 250;

/// Filters of [`AuditLogger::audit_trail`]; every one optional. Times are epoch
/// milliseconds (UTC): `since` inclusive, `until` exclusive. A time of 8 to 10 digits (epoch
/// seconds, `as_secs()`: as milliseconds January 1970) or of 14 or more (epoch micro- or
/// nanoseconds: after the year 2286) is refused ([`AuditError::InvalidInput`] naming the unit), as
/// the CLI refuses such a `--since`; negative times (before 1970) and the others are read as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrailQuery {
    /// Only events at or after this instant (epoch ms).
    pub since: Option<i64>,
    /// Only events before this instant (epoch ms).
    pub until: Option<i64>,
    /// Only events of this action type (`eventType`), exact match.
    pub action_type: Option<String>,
    /// Only events of this category (`eventCategory`), exact match.
    pub category: Option<String>,
    /// Only events of this user (`userUID`), exact match.
    pub user_uid: Option<String>,
    /// Only events performed on this target, `"Label:uid"` (see [`Target::key`]); read through
    /// the `ON` relationships' index. [`AuditLogger::target_activity`] sets it (and refuses a
    /// query that has one already, as [`AuditLogger::user_activity`] refuses a `user_uid`).
    pub target: Option<String>,
    /// Events per page, 1..=1000, default 50.
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// One stored event as the read side returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailEvent {
    /// The event's `UID`.
    pub uid: String,
    /// The stored `eventType` (empty if missing).
    pub action_type: String,
    /// The stored `eventCategory` (empty if missing).
    pub category: String,
    /// ISO 8601, UTC, milliseconds: `2026-11-27T22:10:46.123Z` (as JavaScript's `toISOString`);
    /// with `"timestamp"` in [`TrailEvent::invalid`], the stored value's text.
    pub timestamp: String,
    /// The same instant in epoch milliseconds (0 with `"timestamp"` in [`TrailEvent::invalid`]).
    pub ts: i64,
    /// The acting user's `userUID`, if recorded.
    pub user_uid: Option<String>,
    /// The acting user's `userName`, if recorded.
    pub user_name: Option<String>,
    /// The details object, parsed (`None` when there were none): each number the nearest `f64`, or
    /// a `u64`/`i64` when it is an integer that fits; its keys in your `serde_json::Map`'s order,
    /// sorted unless your program turns on serde_json's `preserve_order` (then in the order
    /// stored, which is the order given; the crate turns on no serde_json feature, docs/rust.md).
    /// Details that are not the text of
    /// a JSON object (another tool stored them: text that is not JSON, JSON of another type such
    /// as `42` or `[1]`, a number, boolean or list property, an object nested deeper than 127
    /// levels) are a [`Value::String`] of the stored text (a non-string property: its JSON text).
    pub details: Option<Value>,
    /// The event's chain stream ([`crate::chain`]); `None`, like `seq`, `prev_hash` and `hash`,
    /// on an unchained event.
    pub stream_id: Option<String>,
    /// Position in the stream, from 0.
    pub seq: Option<u64>,
    /// `hash` of the previous event of the stream (64 hex digits).
    pub prev_hash: Option<String>,
    /// This event's chain hash (64 hex digits).
    pub hash: Option<String>,
    /// Who wrote it into Neo4j: [`Source::Client`] (a client library, directly) or
    /// [`Source::Worker`] (the ingest Worker, which verified the user's token); `None` for an event
    /// stored before provenance existed (no `occurredAt` either: e.g. the Python seed's events).
    pub source: Option<Source>,
    /// When the user acted, as `timestamp` is written (ISO 8601, UTC, milliseconds): the same
    /// instant for a direct write; through the Worker, the client's time of the action, earlier
    /// than `timestamp` (the Worker's receive time) when the event waited in a queue. `None` when
    /// not stored (before provenance existed).
    pub occurred_at: Option<String>,
    /// What the action was performed on (from `targetKeys` / `targetRoles`; empty for none, and
    /// then not serialised, so an event without targets has the fields it had before targets).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// The names of this event's stored properties that are missing or not of the type the
    /// library writes (e.g. `["timestamp"]` for a timestamp stored as text, `["details"]` for a
    /// number there): another tool or someone with write access to Neo4j changed the event.
    /// Such a property reads as absent (`None`, or `""` for `action_type`/`category`; `details`
    /// keeps its text), `timestamp` as the stored value's text with `ts` 0, and `uid` as the
    /// stored value's JSON text. Empty for a well-formed event, and then not serialised.
    /// `verify_trail` reports such an event as `edited`. An event whose `UID` or `timestamp` was
    /// removed is on no page (the indexes hold events by both); `verify_trail` reports it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<String>,
}

/// One page of events, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailPage {
    /// At most `limit` events, newest first.
    pub events: Vec<TrailEvent>,
    /// Pass as `cursor` for the next (older) page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Options of [`AuditLogger::verify_trail`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyQuery {
    /// Only this stream (default: every stream of the trail). An id no stream has — empty or
    /// blank, with white space at an end (`id + " "`), a control character (`id + "\n"`) — is
    /// refused ([`AuditError::InvalidInput`], the rule table's rule for a written uid), as is one
    /// bound to another trail.
    pub stream_id: Option<String>,
    /// Only events from this instant (epoch ms; in epoch seconds or microseconds refused, as
    /// [`TrailQuery`]'s times) on. Each stream's check starts from its event
    /// just before the window's first one (its hash checked, not counted in `checked`), so
    /// events deleted at the window's start, or moved before it by an edited `timestamp`, are
    /// reported as from the start; with none before it, the stream must begin in the window.
    /// Not read in the Worker's build (`GET /v1/verify` takes no window: `VerifyQuery::since_ms`).
    pub since: Option<i64>,
    /// Trusted Ed25519 public keys (a list of JWKs, or the JWK Set `GET /v1/keys` answers). With
    /// keys, every stream must be signed by one of them (see `allow_unsigned`), and the trail's
    /// signed head must match its stream's end.
    pub public_keys: Option<PublicKeys>,
    /// One trusted key (added to `public_keys`).
    pub public_key: Option<PublicJwk>,
    /// With keys: streams that carry no seal at all (e.g. a client's direct writes) are reported
    /// but do not fail `ok`. The Worker's stream (the one the trail's head names) must be signed.
    #[serde(default)]
    pub allow_unsigned: bool,
    /// Strict mode: a stream whose id does not bind it to this trail (a plain UUID, begun before
    /// bindings existed) fails with `Unbound`, so an auditor can refuse streams that could have
    /// been moved in from another trail unseen. Off by default: such streams verify and are
    /// reported with `bound: false`.
    #[serde(default)]
    pub require_bound: bool,
    /// Heads kept outside the database (what [`AuditLogger::chain_head`] or a report's
    /// `head_seq`/`head_hash` gave earlier): each named stream must still hold that event, with
    /// that hash — `Deleted` when the stream now ends before it (its newest events cut off, or
    /// none of its events left), `Forged` when the event there has another hash (the stream was
    /// rewritten up to it). The only check that catches a consistently re-hashed or truncated
    /// unsigned stream, and (with keys) a signed stream deleted whole together with the trail's
    /// head, which leaves nothing in the database naming it. An anchor that could match no event
    /// of the trail — its `hash` not 64 lowercase hex digits, or its stream bound to another
    /// trail — is refused ([`AuditError::InvalidInput`]), not reported `Forged` / `Deleted`. Not in the Worker's build (`GET /v1/verify` takes no anchors).
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    #[serde(default)]
    pub anchors: Vec<Anchor>,
}

impl VerifyQuery {
    /// [`VerifyQuery::since`] as the verifier reads it: always `None` in the Worker's build
    /// (wasm, feature `worker`), whose `GET /v1/verify` takes no window (as it takes no
    /// `anchors`), so the window's statements and checks are left out of its `.wasm`.
    #[inline(always)]
    pub(crate) fn since_ms(&self) -> Option<i64> {
        #[cfg(all(target_arch = "wasm32", feature = "worker"))]
        return None;
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        self.since
    }
}

/// A stream's head kept outside the database, for [`VerifyQuery::anchors`]: `{streamId, seq,
/// hash}` (the shape `chainHead()` and a report's `signedHead` have; other members ignored).
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anchor {
    /// The stream.
    pub stream_id: String,
    /// `seq` of the anchored event.
    pub seq: u64,
    /// Its `hash`.
    pub hash: String,
}

/// A head from [`AuditLogger::chain_head`] as an anchor, to keep outside the database and pass
/// back in [`VerifyQuery::anchors`] (JavaScript's `chainHead()` has this shape already).
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
impl crate::chain::StreamState {
    /// The last event this stream built, `{stream_id, seq, hash}`; `None` before its first event.
    pub fn anchor(&self) -> Option<Anchor> {
        let seq = self.next_seq.checked_sub(1)?;
        Some(Anchor { stream_id: self.stream_id.clone(), seq, hash: self.head.clone() })
    }
}

/// The anchors a report leaves for the next run's [`VerifyQuery::anchors`] (a nightly
/// verification keeping heads outside the database), as the CLI's `verify --anchor` carries an
/// earlier `--json` report on.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
impl VerifyReport {
    /// For each stream: its head as this report read it, when it is intact and events of it were
    /// read; else (no event in a `since` window, or BROKEN: its own head is the damaged one, never
    /// an anchor) the newest of `previous` naming it, so a quiet or broken stream is checked again
    /// next time instead of dropping out. Anchors in `previous` of streams this report does not
    /// list are kept. Pass the anchors this report was verified with (empty the first time).
    ///
    /// ```no_run
    /// # async fn nightly(logger: neo4j_audit::AuditLogger, kept: Vec<neo4j_audit::Anchor>) -> Result<(), neo4j_audit::AuditError> {
    /// use neo4j_audit::VerifyQuery;
    /// let day = 24 * 3600 * 1000;
    /// let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 - day;
    /// let report = logger.verify_trail(&VerifyQuery { since: Some(since), anchors: kept.clone(), ..Default::default() }).await?;
    /// let tomorrow = report.anchors(&kept); // store outside the database (serde: Anchor is Serialize)
    /// # Ok(()) }
    /// ```
    pub fn anchors(&self, previous: &[Anchor]) -> Vec<Anchor> {
        let newest = |id: &str| previous.iter().filter(|a| a.stream_id == id).max_by_key(|a| a.seq).cloned();
        let mut out: Vec<Anchor> = Vec::new();
        for s in &self.streams {
            let own = match (&s.head_seq, &s.head_hash) {
                (Some(seq), Some(hash)) if s.ok && s.checked > 0 => {
                    Some(Anchor { stream_id: s.stream_id.clone(), seq: *seq, hash: hash.clone() })
                }
                _ => None,
            };
            if let Some(a) = own.or_else(|| newest(&s.stream_id)) {
                out.push(a);
            }
        }
        for a in previous {
            if !self.streams.iter().any(|s| s.stream_id == a.stream_id)
                && !out.iter().any(|o| o.stream_id == a.stream_id)
            {
                out.extend(newest(&a.stream_id));
            }
        }
        out
    }
}

/// Where a paged verification stands ([`AuditLogger::verify_trail_page`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyProgress {
    /// Streams not started yet, in order.
    pub pending: Vec<String>,
    /// The stream in progress.
    pub current: Option<crate::chain::VerifierState>,
    /// The last event read of the stream in progress (streamId, seq, UID).
    pub after: Option<(String, u64, String)>,
    /// Events read so far.
    pub checked: u64,
    /// No break in the streams finished so far.
    pub ok: bool,
    /// The trail's signed head: read at the start, and again on each resumed page (signed mode),
    /// where a head further on in the same stream replaces it (the stream's end is judged
    /// against the later one; a head behind it or of another stream is not taken).
    pub head: Option<SignedHead>,
    /// Events per page when it is below the usual 1000: a page's answer was over the reader's
    /// bound, so the walk goes on with pages this long (`None`: 1000). Written only when set, so
    /// a progress without it (a `GET /v1/verify` cursor issued before it existed) reads as 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// More streams to verify after `pending`: those whose ids come after this one, read from
    /// Neo4j when `pending` is done (`None`: `pending` is all). A walk holds at most 1000 stream
    /// ids at a time and a paused one carries at most 16, so a cursor stays small on a trail of
    /// any number of streams (before, it named every stream still to read, and on a trail of
    /// more than ~150 streams a `GET /v1/verify` cursor was over the 16 KB a URL may have).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_after: Option<String>,
}

#[cfg_attr(not(feature = "ingest"), allow(dead_code))] // the Worker's verification cursor
impl VerifyProgress {
    /// Appends this progress as JSON: what its `Serialize` gives (tested below), written directly
    /// (the Worker's `GET /v1/verify` cursor; no `serde_json` in the Worker).
    pub(crate) fn write_json(&self, out: &mut String) {
        use crate::json::{write_str, write_uint};
        out.push_str("{\"pending\":[");
        for (i, p) in self.pending.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(out, p);
        }
        out.push_str("],\"current\":");
        match &self.current {
            None => out.push_str("null"),
            Some(c) => write_verifier_state(c, out),
        }
        out.push_str(",\"after\":");
        match &self.after {
            None => out.push_str("null"),
            Some((s, n, u)) => {
                out.push('[');
                write_str(out, s);
                out.push(',');
                write_uint(out, *n);
                out.push(',');
                write_str(out, u);
                out.push(']');
            }
        }
        out.push_str(",\"checked\":");
        write_uint(out, self.checked);
        out.push_str(if self.ok { ",\"ok\":true,\"head\":" } else { ",\"ok\":false,\"head\":" });
        write_opt_head(self.head.as_ref(), out);
        if let Some(n) = self.page {
            out.push_str(",\"page\":");
            write_uint(out, n.into());
        }
        if let Some(s) = &self.rest_after {
            out.push_str(",\"restAfter\":");
            write_str(out, s);
        }
        out.push('}');
    }

    /// The progress [`VerifyProgress::write_json`] (or `serde_json`) wrote; `None` for anything else.
    pub(crate) fn from_json(v: &Json) -> Option<VerifyProgress> {
        let strs = |v: &Json| {
            let mut out = Vec::new();
            for s in v.as_array()? {
                out.push(s.as_str()?.to_owned());
            }
            Some(out)
        };
        Some(VerifyProgress {
            pending: strs(v.get("pending")?)?,
            current: match v.get("current")? {
                Json::Null => None,
                c => Some(verifier_state_from(c)?),
            },
            after: match v.get("after")? {
                Json::Null => None,
                Json::Arr(a) if a.len() == 3 => {
                    Some((a[0].as_str()?.to_owned(), a[1].as_u64()?, a[2].as_str()?.to_owned()))
                }
                _ => return None,
            },
            checked: v.get("checked")?.as_u64()?,
            ok: v.get("ok")?.as_bool()?,
            head: opt_head_from(v.get("head")?)?,
            // 2 ..= 1000, as [`verify::VerifyRun::smaller_page`] makes it; absent in cursors
            // issued before it was carried.
            page: match v.get("page") {
                None => None,
                Some(n) => Some(n.as_u64().filter(|n| (2..u64::from(VERIFY_PAGE)).contains(n))? as u32),
            },
            rest_after: match v.get("restAfter") {
                None => None,
                Some(s) => Some(s.as_str()?.to_owned()),
            },
        })
    }
}

fn write_opt_seal(seal: Option<&StoredSeal>, out: &mut String) {
    use crate::json::{write_int, write_str};
    match seal {
        None => out.push_str("null"),
        Some(s) => {
            out.push_str("{\"kid\":");
            write_str(out, &s.kid);
            out.push_str(",\"sig\":");
            write_str(out, &s.sig);
            out.push_str(",\"signedAt\":");
            write_int(out, s.signed_at);
            out.push('}');
        }
    }
}

fn write_opt_head(head: Option<&SignedHead>, out: &mut String) {
    use crate::json::{write_str, write_uint};
    match head {
        None => out.push_str("null"),
        Some(h) => {
            out.push_str("{\"streamId\":");
            write_str(out, &h.stream_id);
            out.push_str(",\"seq\":");
            write_uint(out, h.seq);
            out.push_str(",\"hash\":");
            write_str(out, &h.hash);
            out.push_str(",\"seal\":");
            write_opt_seal(h.seal.as_ref(), out);
            out.push('}');
        }
    }
}

fn write_verifier_state(c: &crate::chain::VerifierState, out: &mut String) {
    use crate::json::{write_opt_str, write_str, write_uint};
    let opt_uint = |out: &mut String, n: Option<u64>| match n {
        Some(n) => write_uint(out, n),
        None => out.push_str("null"),
    };
    let pair = |out: &mut String, p: &Option<(u64, String)>| match p {
        None => out.push_str("null"),
        Some((n, s)) => {
            out.push('[');
            write_uint(out, *n);
            out.push(',');
            write_str(out, s);
            out.push(']');
        }
    };
    out.push_str("{\"streamId\":");
    write_str(out, &c.stream_id);
    out.push_str(",\"checked\":");
    write_uint(out, c.checked);
    out.push_str(",\"headSeq\":");
    opt_uint(out, c.head_seq);
    out.push_str(",\"headHash\":");
    write_opt_str(out, c.head_hash.as_deref());
    out.push_str(",\"firstBreak\":");
    match &c.first_break {
        None => out.push_str("null"),
        Some((kind, seq, uid, message)) => {
            out.push_str("[\"");
            out.push_str(kind.name());
            out.push_str("\",");
            write_uint(out, *seq);
            out.push(',');
            write_opt_str(out, uid.as_deref());
            out.push(',');
            write_str(out, message);
            out.push(']');
        }
    }
    out.push_str(",\"signedSeq\":");
    opt_uint(out, c.signed_seq);
    out.push_str(if c.anchored { ",\"anchored\":true,\"last\":" } else { ",\"anchored\":false,\"last\":" });
    pair(out, &c.last);
    out.push_str(",\"group\":[");
    // An event held without its details (`hashed`) is `[event, seal, true]`: a cursor's reader
    // of before refuses it (the walk starts again) rather than take it for an edited event.
    for (i, (e, seal)) in c.group.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        e.write_json(out);
        out.push(',');
        write_opt_seal(seal.as_ref(), out);
        out.push_str(if i < c.hashed { ",true]" } else { "]" });
    }
    out.push_str("],\"unsignedFrom\":");
    pair(out, &c.unsigned_from);
    out.push_str(",\"head\":");
    write_opt_head(c.head.as_ref(), out);
    out.push_str(",\"edgesOff\":");
    write_opt_str(out, c.edges_off.as_deref());
    out.push_str(",\"fieldsOff\":");
    write_opt_str(out, c.fields_off.as_deref());
    out.push('}');
}

fn opt_seal_from(v: &Json) -> Option<Option<StoredSeal>> {
    match v {
        Json::Null => Some(None),
        s => Some(Some(StoredSeal {
            kid: s.get("kid")?.as_str()?.to_owned(),
            sig: s.get("sig")?.as_str()?.to_owned(),
            signed_at: s.get("signedAt")?.as_i64()?,
        })),
    }
}

fn opt_head_from(v: &Json) -> Option<Option<SignedHead>> {
    match v {
        Json::Null => Some(None),
        h => Some(Some(SignedHead {
            stream_id: h.get("streamId")?.as_str()?.to_owned(),
            seq: h.get("seq")?.as_u64()?,
            hash: h.get("hash")?.as_str()?.to_owned(),
            seal: opt_seal_from(h.get("seal")?)?,
        })),
    }
}

fn verifier_state_from(v: &Json) -> Option<crate::chain::VerifierState> {
    use crate::chain::BreakKind;
    let opt_u = |k: &str| match v.get(k)? {
        Json::Null => Some(None),
        n => n.as_u64().map(Some),
    };
    let pair = |k: &str| match v.get(k)? {
        Json::Null => Some(None),
        Json::Arr(a) if a.len() == 2 => Some(Some((a[0].as_u64()?, a[1].as_str()?.to_owned()))),
        _ => None,
    };
    let mut hashed = 0;
    Some(crate::chain::VerifierState {
        stream_id: v.get("streamId")?.as_str()?.to_owned(),
        checked: v.get("checked")?.as_u64()?,
        head_seq: opt_u("headSeq")?,
        head_hash: match v.get("headHash")? {
            Json::Null => None,
            s => Some(s.as_str()?.to_owned()),
        },
        first_break: match v.get("firstBreak")? {
            Json::Null => None,
            Json::Arr(a) if a.len() == 4 => Some((
                {
                    let name = a[0].as_str()?;
                    BreakKind::ALL.into_iter().find(|k| k.name() == name)?
                },
                a[1].as_u64()?,
                match &a[2] {
                    Json::Null => None,
                    u => Some(u.as_str()?.to_owned()),
                },
                a[3].as_str()?.to_owned(),
            )),
            _ => return None,
        },
        signed_seq: opt_u("signedSeq")?,
        anchored: v.get("anchored")?.as_bool()?,
        last: pair("last")?,
        group: {
            let mut group = Vec::new();
            for g in v.get("group")?.as_array()? {
                let (e, seal) = match g.as_array()? {
                    [e, seal] => (e, seal),
                    // Held without its details (the first ones only).
                    [e, seal, Json::Bool(true)] if hashed == group.len() => {
                        hashed += 1;
                        (e, seal)
                    }
                    _ => return None,
                };
                group.push((AuditEvent::from_json(e)?, opt_seal_from(seal)?));
            }
            group
        },
        hashed,
        unsigned_from: pair("unsignedFrom")?,
        head: opt_head_from(v.get("head")?)?,
        // Absent from a cursor of an earlier version: none.
        edges_off: match v.get("edgesOff") {
            None | Some(Json::Null) => None,
            Some(s) => Some(s.as_str()?.to_owned()),
        },
        fields_off: match v.get("fieldsOff") {
            None | Some(Json::Null) => None,
            Some(s) => Some(s.as_str()?.to_owned()),
        },
    })
}

/// Trusted public keys: a list of JWKs or a JWK Set (`{"keys": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum PublicKeys {
    /// `[jwk, ...]`.
    List(Vec<PublicJwk>),
    /// `{"keys": [jwk, ...]}`.
    Set {
        /// The keys.
        keys: Vec<PublicJwk>,
    },
}

impl From<Vec<PublicJwk>> for PublicKeys {
    fn from(v: Vec<PublicJwk>) -> Self {
        PublicKeys::List(v)
    }
}

impl VerifyQuery {
    /// Refuses an anchor that could match no event of `trail`: its `hash` not a hash as the chain
    /// writes it, 64 lowercase hex digits (the head mistyped or copied otherwise: in upper case,
    /// with a space, cut short), or a stream id whose binding names another trail (an anchor, or
    /// a report, of another trail's verification; a mistyped id). Either was reported as a break, `Forged` ("rewritten up
    /// to the anchored head") or `Deleted` ("cut off the end"), of a stream that was intact or
    /// not this trail's at all. So is a `stream_id` bound to another trail: no event of this
    /// trail can be in that stream, and "no events" would not say why.
    #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
    fn check_anchors(&self, trail: &str) -> Result<(), AuditError> {
        if let Some(id) = &self.stream_id {
            // A stream's id is an identifier the library made (the rule table's, as a written uid):
            // an empty or blank one (an unset variable's value), or one with white space at an
            // end (`" "`, `id + " "`: a quoting slip), names no stream, and was `ok` with nothing
            // checked, a stream "" listed as verified.
            use crate::rules::Violation::{Invalid, TooLarge};
            if let Err(Invalid(m) | TooLarge(m)) = crate::rules::check_uid(STREAM_ID, id) {
                return Err(AuditError::InvalidInput(cat(&[&m, STREAM_ID_IS])));
            }
            if crate::chain::stream_trail_binding(id, trail) == Some(false) {
                return Err(AuditError::InvalidInput(cat(&[
                    STREAM_ID_IN,
                    &crate::error::shown(id),
                    "'s id does not bind it to trail \"",
                    trail,
                    "\" (a stream of another trail, or a mistyped id?): no event of this trail can be in it",
                ])));
            }
        }
        let hash = |h: &str| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        for a in &self.anchors {
            let seq = a.seq.to_string();
            let id = crate::error::shown(&a.stream_id);
            let head = ["anchors: the anchor of stream ", &id, " at seq ", &seq];
            if !hash(&a.hash) {
                return Err(AuditError::InvalidInput(cat(&[
                    &cat(&head),
                    ": its hash is not 64 lowercase hex digits (a head's hash as chainHead() or a report's headHash gives it): it could match no event",
                ])));
            }
            if !stream_id_shape(&a.stream_id) {
                return Err(AuditError::InvalidInput(cat(&[
                    &cat(&head),
                    ": its stream id is not one this library gives a stream (a UUID, or <UUID>.<32 hex digits> bound to a trail, in lower case, as chainHead() or a report's streamId gives it): it could name no stream",
                ])));
            }
            if crate::chain::stream_trail_binding(&a.stream_id, trail) == Some(false) {
                return Err(AuditError::InvalidInput(cat(&[
                    &cat(&head),
                    ": the stream's id does not bind it to trail \"",
                    trail,
                    "\" (an anchor or report of another trail, or a mistyped id?): no event of this trail can be in that stream",
                ])));
            }
        }
        Ok(())
    }
}

/// Whether `id` has a shape the library gives a stream's id: a UUID as [`crate::random::uuid_v4`]
/// writes it (`8-4-4-4-12` lower-case hex digits), alone (streams begun before bindings) or with
/// the `.` and 32 lower-case hex digits of its trail binding ([`crate::chain::trail_stream_id`]).
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
fn stream_id_shape(id: &str) -> bool {
    let hex = |b: &u8| matches!(b, b'0'..=b'9' | b'a'..=b'f');
    let b = id.as_bytes();
    let uuid = |u: &[u8]| {
        u.len() == 36
            && u.iter().enumerate().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { hex(c) })
    };
    match b.len() {
        36 => uuid(b),
        69 => uuid(&b[..36]) && b[36] == b'.' && b[37..].iter().all(hex),
        _ => false,
    }
}

impl VerifyQuery {
    /// Every trusted key (`public_keys` and `public_key`); `None` when neither is given.
    #[inline(never)]
    pub fn key_set(&self) -> Result<Option<KeySet>, AuditError> {
        let mut all: Vec<PublicJwk> = match &self.public_keys {
            Some(PublicKeys::List(v)) | Some(PublicKeys::Set { keys: v }) => v.clone(),
            None => Vec::new(),
        };
        if let Some(k) = &self.public_key {
            all.push(k.clone());
        }
        if self.public_keys.is_none() && self.public_key.is_none() {
            return Ok(None);
        }
        if all.is_empty() {
            return Err(AuditError::InvalidInput(KEYS_EMPTY.into()));
        }
        // One id with two keys: which one checks its seals went by the list's order (the
        // first). The Worker's own set (AUDIT_PUBLIC_KEYS) is refused so when it is read.
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        for (i, k) in all.iter().enumerate() {
            let x = |j: &PublicJwk| j.x.trim_end_matches('=').to_owned();
            if all[..i].iter().any(|o| o.kid == k.kid && x(o) != x(k)) {
                let why = " is listed twice with different keys: which one signs its seals is unknown";
                return Err(AuditError::InvalidInput(cat(&[KEYS_IN, "key ", &crate::error::quoted(&k.kid), why])));
            }
        }
        KeySet::from_jwks(&all).map(Some).map_err(|e| AuditError::InvalidInput(cat(&[KEYS_IN, &e])))
    }
}

// What the JavaScript shell needs (verifyTrail's options and report with `verify` only).
#[cfg_attr(not(all(target_arch = "wasm32", feature = "js", feature = "verify")), allow(dead_code))]
pub(crate) mod js;
mod verify;

/// Nesting `serde_json` accepts when it parses (its recursion limit): stored details nested
/// deeper are returned as their text, as before (Rust and JavaScript alike).
const DETAILS_DEPTH: usize = 127;

/// `in_millis!("x")`: whether `x` is a `DateTime` whose epoch milliseconds fit in a 64-bit
/// integer, as every writer's do (`datetime({epochMillis: …})`); null for a value of another type
/// or none. Neo4j's `.epochMillis` of a `DateTime` beyond them (it stores years up to ±999,999,999)
/// fails the whole statement ("long overflow"): one event edited so made every page holding it,
/// and every verification of its trail, an error instead of a report (`tests/chain.rs`
/// `stored_properties_of_another_type_are_edited_at_their_event`). Such a value is read as one
/// of another type.
macro_rules! in_millis {
    ($x:literal) => {
        concat!(millis_min!(), $x, millis_max!())
    };
}
/// `in_millis!`' text before the value.
macro_rules! millis_min {
    () => {
        "datetime({epochMillis: -9223372036854775807}) <= "
    };
}
/// `in_millis!`' text after the value.
macro_rules! millis_max {
    () => {
        " <= datetime({epochMillis: 9223372036854775807})"
    };
}

/// After [`RETURN_EVENT`] in a page's statement: the page's keyset columns `ts` and `uid` (the
/// ones its `ORDER BY` and [`window`] use) as the cursor needs them: `ts` in ms, `ts` below the
/// millisecond (ns, which `epochMillis` leaves out), `uid` and `ts`'s time zone, so the cursor
/// names the page's last row exactly in the order the next page continues. (A link's `created`
/// is the event's `timestamp` as written; an event re-timed by hand after that is still ordered
/// by its link. Neo4j orders one instant in two zones as two values: `…T02:00+02:00` after
/// `…T00:00Z`.)
///
/// A `ts` that is not a `DateTime` (another tool's text, a `LocalDateTime`, one beyond
/// `in_millis!`' bounds) gives nulls here rather than failing the statement, and the page's
/// [`READ_TYPES`] and raw `timestamp` columns follow: such a row is returned marked
/// ([`TrailEvent::invalid`]), and a page that ends on one continues by position ([`skip_cursor`]).
fn cursor_columns(ts: &str, uid: &str) -> String {
    let dt = cat(&["CASE WHEN ", millis_min!(), ts, millis_max!(), " THEN ", ts]);
    cat(&[
        ", ",
        &dt,
        ".epochMillis END AS cursorMs, ",
        &dt,
        ".nanosecond % 1000000 END AS cursorNs, ",
        uid,
        " AS cursorUid, ",
        &dt,
        ".timezone END AS cursorTz",
        READ_TYPES,
        concat!(", CASE WHEN ", in_millis!("ev.timestamp"), " THEN null ELSE ev.timestamp END"),
    ])
}

/// An event's columns, as pages and verification read them. A `timestamp` or `occurredAt` that is
/// not a `DateTime` (or one beyond `in_millis!`' bounds) reads as null instead of failing the
/// statement (Neo4j's `.epochMillis` of text or a `LocalDateTime` is an error), so one event
/// changed that way is returned marked at its place ([`READ_TYPES`], [`VERIFY_TYPES`]), not the whole page or verification refused.
const RETURN_EVENT: &str = concat!(
    "RETURN ev.UID, ev.eventType, ev.eventCategory, CASE WHEN ",
    in_millis!("ev.timestamp"),
    " THEN ev.timestamp.epochMillis END, \
     ev.userUID, ev.userName, ev.details, ev.streamId, ev.seq, ev.prevHash, ev.hash, ev.source, CASE WHEN ",
    in_millis!("ev.occurredAt"),
    " THEN ev.occurredAt.epochMillis END, ev.targetKeys, ev.targetRoles"
);

/// A verification row's last column: the names of the event's properties that are missing or not
/// of the type the writers store (a chained event: strings, a `DateTime` timestamp, an integer
/// `seq` ≥ 0, lists of strings, every target key `Label:uid`, a role per key, a `source` that is
/// `client` or `worker`: outside a version 1 hash, read as `client` otherwise),
/// [`row_fields_off`]. The hash cannot see all of these: a property read back as absent (a
/// `userName` made a number where the event had none, a target key without `:`, a role beyond
/// the keys) hashes as absent.
const VERIFY_TYPES: &str = concat!(
    ", [x IN [['UID', ev.UID IS :: STRING NOT NULL], \
     ['eventType', ev.eventType IS :: STRING NOT NULL], ['eventCategory', ev.eventCategory IS :: STRING NOT NULL], \
     ['timestamp', coalesce(",
    in_millis!("ev.timestamp"),
    ", false)], ['userUID', ev.userUID IS :: STRING], \
     ['userName', ev.userName IS :: STRING], ['details', ev.details IS :: STRING], \
     ['seq', coalesce(ev.seq IS :: INTEGER NOT NULL AND ev.seq >= 0, false)], \
     ['prevHash', ev.prevHash IS :: STRING NOT NULL], ['hash', ev.hash IS :: STRING NOT NULL], \
     ['source', coalesce(ev.source IN ['client', 'worker'], true)], ['occurredAt', coalesce(",
    in_millis!("ev.occurredAt"),
    ", ev.occurredAt IS NULL)], \
     ['targetKeys', CASE WHEN ev.targetKeys IS :: LIST<STRING NOT NULL> \
       THEN all(k IN coalesce(ev.targetKeys, []) WHERE k CONTAINS ':') ELSE false END], \
     ['targetRoles', CASE WHEN ev.targetRoles IS :: LIST<STRING NOT NULL> AND ev.targetKeys IS :: LIST<STRING NOT NULL> \
       THEN size(coalesce(ev.targetRoles, [])) = size(coalesce(ev.targetKeys, [])) \
       ELSE ev.targetRoles IS :: LIST<STRING NOT NULL> END]] WHERE NOT x[1] | x[0]]"
);

/// A page row's column 19 (after [`cursor_columns`]' four): the names of the event's properties
/// that are missing or not of the type the writers store, as [`VERIFY_TYPES`] but for any event
/// (chain fields, provenance and targets may be absent; `eventType`/`eventCategory`, which every
/// writer stores, are marked when absent too, and read as empty): [`TrailEvent::invalid`].
const READ_TYPES: &str = concat!(
    ", [x IN [['UID', ev.UID IS :: STRING NOT NULL], \
     ['eventType', ev.eventType IS :: STRING NOT NULL], ['eventCategory', ev.eventCategory IS :: STRING NOT NULL], \
     ['timestamp', coalesce(",
    in_millis!("ev.timestamp"),
    ", false)], ['userUID', ev.userUID IS :: STRING], \
     ['userName', ev.userName IS :: STRING], ['details', ev.details IS :: STRING], \
     ['streamId', ev.streamId IS :: STRING], ['seq', coalesce(ev.seq IS :: INTEGER AND ev.seq >= 0, true)], \
     ['prevHash', ev.prevHash IS :: STRING], ['hash', ev.hash IS :: STRING], \
     ['source', coalesce(ev.source IN ['client', 'worker'], true)], ['occurredAt', coalesce(",
    in_millis!("ev.occurredAt"),
    ", ev.occurredAt IS NULL)], \
     ['targetKeys', CASE WHEN ev.targetKeys IS :: LIST<STRING NOT NULL> \
       THEN all(k IN coalesce(ev.targetKeys, []) WHERE k CONTAINS ':') ELSE false END], \
     ['targetRoles', ev.targetRoles IS :: LIST<STRING NOT NULL>]] WHERE NOT x[1] | x[0]]"
);

fn in_trail(preds: &mut Preds, labels: &Labels) {
    preds.push(&["EXISTS { MATCH (:", &labels.trail, " {name: $trail})-[:HAS_EVENT]->(ev) }"]);
}

/// The statement for one page of [`TrailQuery`] (it asks for `limit + 1` rows to learn whether
/// another page follows).
///
/// ```
/// use neo4j_audit::{read::{trail_statement, TrailQuery}, Labels};
/// let q = TrailQuery { user_uid: Some("u-1".into()), ..Default::default() };
/// let st = trail_statement(&Labels::default(), "main", &q).unwrap();
/// assert!(st.text.contains("USING INDEX ev:AuditEvent(userUID, timestamp, UID)"));
/// assert!(!st.text.contains("u-1"));
/// assert_eq!(st.parameters["userUid"], "u-1");
/// ```
pub fn trail_statement(labels: &Labels, trail: &str, q: &TrailQuery) -> Result<Statement, AuditError> {
    trail_query(labels, trail, q, false).map(Query::statement)
}

/// [`trail_statement`] for a trail marked `indexed` ([`crate::cypher::TRAIL_INDEXED`]: every
/// one of its `HAS_EVENT` links carries the per-trail key). A page with no equality filter (no
/// user, action type, category or target; a time window and a cursor are fine) is then read in
/// index order from the trail's own links, so it costs the same whatever other trails hold; the
/// rows and their order are [`trail_statement`]'s. Other pages are [`trail_statement`]'s.
///
/// ```
/// use neo4j_audit::{read::{trail_statement_indexed, TrailQuery}, Labels};
/// let st = trail_statement_indexed(&Labels::default(), "main", &TrailQuery::default()).unwrap();
/// assert!(st.text.contains("USING INDEX r:HAS_EVENT(trail, created, eventUID)"));
/// ```
pub fn trail_statement_indexed(labels: &Labels, trail: &str, q: &TrailQuery) -> Result<Statement, AuditError> {
    trail_query(labels, trail, q, true).map(Query::statement)
}

/// Whether [`trail_statement_indexed`] reads `q` by the per-trail index.
fn uses_trail_index(q: &TrailQuery) -> bool {
    q.target.is_none() && q.user_uid.is_none() && q.action_type.is_none() && q.category.is_none()
}

/// A read statement in the crate's own JSON: its text and its parameters (an object). The public
/// builders return it as a [`Statement`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    pub(crate) text: String,
    pub(crate) params: Json,
}

impl Query {
    fn statement(self) -> Statement {
        Statement { text: self.text, parameters: self.params.to_serde() }
    }
}

/// A statement's parameters, in the order given.
struct Params(Vec<(String, Json)>);

impl Params {
    fn new() -> Self {
        Params(Vec::new())
    }

    fn insert(&mut self, key: String, value: Json) {
        self.0.push((key, value));
    }

    fn into_json(self) -> Json {
        Json::Obj(self.0)
    }
}

/// A statement's `WHERE` conditions, joined by ` AND ` as they are added (one text, no list of
/// parts to join).
struct Preds(String);

impl Preds {
    fn new() -> Self {
        Preds(String::new())
    }

    /// Adds one condition, written as the concatenation of `parts`.
    fn push(&mut self, parts: &[&str]) {
        if !self.0.is_empty() {
            self.0.push_str(" AND ");
        }
        for p in parts {
            self.0.push_str(p);
        }
    }
}

/// [`trail_statement`] (`indexed`: [`trail_statement_indexed`]).
#[inline(never)]
pub(crate) fn trail_query(labels: &Labels, trail: &str, q: &TrailQuery, indexed: bool) -> Result<Query, AuditError> {
    labels.validate()?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(AuditError::InvalidInput(cat(&["limit must be between 1 and ", &num(MAX_LIMIT.into())])));
    }
    check_filters(q)?;
    let mut params = Params::new();
    params.insert("trail".into(), Json::from(trail));
    params.insert("limit".into(), Json::from(limit + 1));
    let mut preds = Preds::new();
    let ev = &labels.event;
    // The driving index: the most selective equality filter, else time. Each index ends in
    // (timestamp, UID), and the ORDER BY names the index's properties in order (the equality
    // property first, constant within the page), so Neo4j reads the page in index order and
    // stops after `limit` rows instead of sorting every match.
    if let Some(target) = &q.target {
        check_target_key(target)?;
        return target_statement(labels, target, q, params);
    }
    if indexed && uses_trail_index(q) {
        return trail_index_statement(labels, q, params);
    }
    preds.push(&["ev.UID IS NOT NULL"]);
    let lead = if q.user_uid.is_some() {
        Some("userUID")
    } else if q.action_type.is_some() {
        Some("eventType")
    } else if q.category.is_some() {
        Some("eventCategory")
    } else {
        None
    };
    let (hint, order) = match lead {
        Some(p) => (
            cat(&["USING INDEX ev:", ev, "(", p, ", timestamp, UID)"]),
            cat(&["ev.", p, " DESC, ev.timestamp DESC, ev.UID DESC"]),
        ),
        None => (cat(&["USING INDEX ev:", ev, "(timestamp, UID)"]), "ev.timestamp DESC, ev.UID DESC".into()),
    };
    equalities(&mut preds, &mut params, q);
    preds.push(&["ev.timestamp IS NOT NULL"]);
    let skip = window(&mut preds, &mut params, q, "ev.timestamp", "ev.UID")?;
    in_trail(&mut preds, labels);
    let cursor = cursor_columns("ev.timestamp", "ev.UID");
    let text = cat(&[
        "MATCH (ev:",
        ev,
        ") ",
        &hint,
        " WHERE ",
        &preds.0,
        " ",
        RETURN_EVENT,
        &cursor,
        " ORDER BY ",
        &order,
        skip,
        " LIMIT $limit",
    ]);
    Ok(Query { text, params: params.into_json() })
}

/// A page of a trail marked `indexed`, driven by the `HAS_EVENT` links' index on
/// `(trail, created, eventUID)` (`created` and `eventUID` are the event's `timestamp` and `UID`,
/// so the order and the cursor are [`trail_query`]'s). The link must start at the trail node
/// itself and the event must have what the shared-index read asks for (its label, `UID` and
/// `timestamp`), so the rows are the same.
fn trail_index_statement(labels: &Labels, q: &TrailQuery, mut params: Params) -> Result<Query, AuditError> {
    let Labels { event: ev, trail, .. } = labels;
    let mut preds = Preds::new();
    preds.push(&["r.trail = $trail AND r.created IS NOT NULL AND r.eventUID IS NOT NULL"]);
    let skip = window(&mut preds, &mut params, q, "r.created", "r.eventUID")?;
    preds.push(&[
        "ev.UID IS NOT NULL AND ev.timestamp IS NOT NULL AND startNode(r):",
        trail,
        " AND startNode(r).name = $trail",
    ]);
    let text = cat(&[
        "MATCH ()-[r:HAS_EVENT]->(ev:",
        ev,
        ") USING INDEX r:HAS_EVENT(trail, created, eventUID) WHERE ",
        &preds.0,
        " ",
        RETURN_EVENT,
        &cursor_columns("r.created", "r.eventUID"),
        " ORDER BY r.trail DESC, r.created DESC, r.eventUID DESC",
        skip,
        " LIMIT $limit",
    ]);
    Ok(Query { text, params: params.into_json() })
}

/// The statement that tells whether `trail` is marked `indexed` (one row with a boolean; no row
/// when the trail does not exist).
fn trail_indexed_query(labels: &Labels, trail: &str) -> Query {
    Query {
        text: trail_text(labels, false, &[" RETURN t.", crate::cypher::TRAIL_INDEXED, " = true"]),
        params: trail_params(trail, None),
    }
}

/// `MATCH (t:<trail label> {name: $trail})`, with `events` followed by
/// `-[r:HAS_EVENT]->(ev:<event label>`, then `rest`: the start the read side's statements on the
/// trail node share.
fn trail_text(labels: &Labels, events: bool, rest: &[&str]) -> String {
    let mut text = cat(&["MATCH (t:", &labels.trail, " {name: $trail})"]);
    if events {
        text.push_str("-[r:HAS_EVENT]->(ev:");
        text.push_str(&labels.event);
    }
    for p in rest {
        text.push_str(p);
    }
    text
}

/// `{trail}`, and with `since` given `{trail, since}` (`null` for none).
fn trail_params(trail: &str, since: Option<Option<i64>>) -> Json {
    let mut params = vec![("trail".into(), Json::from(trail))];
    if let Some(s) = since {
        params.push(("since".into(), Json::from(s)));
    }
    Json::Obj(params)
}

/// The time window and the keyset cursor of a page, on the given time and UID columns (the
/// event's own, or the `ON` relationship's copies of them).
///
/// Returns `" SKIP $skip"` for a [`skip_cursor`] (which sets no bound), else `""`: the text that
/// goes before the statement's `LIMIT`.
fn window(
    preds: &mut Preds,
    params: &mut Params,
    q: &TrailQuery,
    ts: &str,
    uid: &str,
) -> Result<&'static str, AuditError> {
    // The bounds in the zone -18:00: Neo4j orders the `DateTime`s of one instant by zone, one west
    // of UTC before UTC's (`…T19:00-05:00[Etc/GMT+5]` before `…T00:00Z`, the same instant), and
    // compares them so: a bound in UTC left out an event stored at exactly `since` in a zone west
    // of UTC (another tool's timestamp; the library writes UTC) and took in one at exactly
    // `until`. In -18:00, the least offset there is, a bound is after every earlier instant and
    // before every `DateTime` of its own: the bounds are the instants, in any zone, and still a
    // range the indexes seek. (verify's `since` alike.)
    if let Some(s) = q.since {
        preds.push(&[ts, " >= datetime({epochMillis: $since, timezone: '-18:00'})"]);
        params.insert("since".into(), Json::from(s));
    }
    if let Some(u) = q.until {
        preds.push(&[ts, " < datetime({epochMillis: $until, timezone: '-18:00'})"]);
        params.insert("until".into(), Json::from(u));
    }
    if let Some(skip) = q.cursor.as_deref().and_then(skip_of) {
        params.insert("skip".into(), Json::from(skip));
        return Ok(" SKIP $skip");
    }
    if let Some(c) = &q.cursor {
        // The page's last event's exact instant (whole milliseconds alone would skip the rest of
        // its millisecond when it has a finer time, which the chain does not cover).
        let (cursor_ms, sub_ms, zone, cursor_uid) = decode_cursor(c)?;
        let at = match zone {
            Some(z) => {
                params.insert("cursorTz".into(), Json::from(z));
                "datetime({epochSeconds: $cursorSec, nanosecond: $cursorNano, timezone: $cursorTz})"
            }
            None => "datetime({epochSeconds: $cursorSec, nanosecond: $cursorNano})",
        };
        preds.push(&[ts, " <= ", at, " AND (", ts, " < ", at, " OR ", uid, " < $cursorUid)"]);
        params.insert("cursorSec".into(), Json::from(cursor_ms.div_euclid(1000)));
        params.insert("cursorNano".into(), Json::from(cursor_ms.rem_euclid(1000) * 1_000_000 + i64::from(sub_ms)));
        params.insert("cursorUid".into(), Json::from(cursor_uid));
    }
    Ok("")
}

/// The equality filters of a page (user, action type, category) on the event's properties.
fn equalities(preds: &mut Preds, params: &mut Params, q: &TrailQuery) {
    for (key, prop, val) in [
        ("userUid", "userUID", &q.user_uid),
        ("actionType", "eventType", &q.action_type),
        ("category", "eventCategory", &q.category),
    ] {
        if let Some(v) = val {
            preds.push(&["ev.", prop, " = $", key]);
            params.insert(key.into(), Json::from(v));
        }
    }
}

/// A `since` / `until` given as a number of epoch milliseconds (`what`, `ms`) that is certainly
/// another unit: 8 to 10 digits are a time in January to April 1970, where what was meant is
/// epoch seconds (`Date.now() / 1000`, `as_secs()`) or a date without dashes (`20261205`), and 14
/// digits or more a time after the year 2286, where what was meant is epoch microseconds or
/// nanoseconds. Either read a window no event is in (or every event), silently. Refused, naming
/// the unit, as the CLI refuses such a `--since` (docs/cli.md, Times). Negative numbers (instants
/// before 1970) and the other counts of digits are instants as given.
pub(crate) fn check_epoch_millis(what: &str, ms: i64) -> Result<(), AuditError> {
    let meant = if (10_000_000..10_000_000_000).contains(&ms) {
        let date = if ms < 100_000_000 { "; a date? give it with dashes, as ISO 8601" } else { "" };
        cat(&[", ", &iso_millis(ms), " (epoch seconds? give milliseconds, ", &int(ms), "000", date])
    } else if ms >= 10_000_000_000_000 {
        let (unit, div) = match ms {
            1_000_000_000_000_000_000.. => ("nanoseconds", 1_000_000),
            1_000_000_000_000_000.. => ("microseconds", 1000),
            _ => ("", 1),
        };
        let hint = match div {
            1 => "a digit too many?".to_owned(),
            _ => cat(&["epoch ", unit, "? give milliseconds, ", &int(ms / div)]),
        };
        cat(&[" after the year 2286 (", &hint])
    } else {
        return Ok(());
    };
    Err(AuditError::InvalidInput(cat(&[what, " ", &int(ms), " reads as epoch milliseconds", &meant, INSTANT_FORMS])))
}

/// The equality filters must be values the rule table lets an event have (`userUid` as
/// `user.uid`, `actionType` and `category` as the write's names), as [`check_target_key`] does
/// for `target`: `{actionType: "Doc opened"}` or `{userUid: ""}` is `invalid input`, not a query
/// that can only find nothing.
fn check_filters(q: &TrailQuery) -> Result<(), AuditError> {
    if let (Some(since), Some(until)) = (q.since, q.until) {
        if until <= since {
            return Err(AuditError::InvalidInput(
                "until must be later than since (since is inclusive, until exclusive: no event can be in this window)"
                    .into(),
            ));
        }
    }
    if let Some(u) = &q.user_uid {
        crate::rules::check_uid_filter(USER_UID, u)?;
    }
    if let Some(a) = &q.action_type {
        crate::rules::check_name(ACTION_TYPE, a)?;
    }
    if let Some(c) = &q.category {
        crate::rules::check_name("category", c)?;
    }
    Ok(())
}

/// A `target` filter must be `"Label:uid"` (split at the first `:`; a label has none) with the
/// rule table's label and uid, as [`AuditLogger::target_activity`] checks its arguments: a
/// malformed one is `invalid input`, not a query that can only find nothing.
fn check_target_key(key: &str) -> Result<(), AuditError> {
    let ok =
        split_once(key, ":").is_some_and(|(label, uid)| crate::rules::check_target_key("target", label, uid).is_ok());
    if ok {
        Ok(())
    } else {
        Err(AuditError::InvalidInput(
            "target must be \"Label:uid\": an identifier label ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters), a colon and a non-empty uid of at most 1024 bytes without control characters".into(),
        ))
    }
}

/// A page of events on one target, driven by the `ON` relationships' index on
/// `(target, created, eventUID)` (`created` and `eventUID` are the event's `timestamp` and `UID`,
/// so the cursor is the same as the trail's). Other filters apply to each event found.
fn target_statement(labels: &Labels, target: &str, q: &TrailQuery, mut params: Params) -> Result<Query, AuditError> {
    let ev = &labels.event;
    params.insert("target".into(), Json::from(target));
    let mut preds = Preds::new();
    preds.push(&["r.target = $target AND r.created IS NOT NULL AND r.eventUID IS NOT NULL"]);
    let skip = window(&mut preds, &mut params, q, "r.created", "r.eventUID")?;
    equalities(&mut preds, &mut params, q);
    // The link is not in the chain, the event's targetKeys and timestamp are: a link added or
    // re-timed by hand must not put an event on a node's activity, or elsewhere in time.
    preds.push(&["$target IN ev.targetKeys AND r.created = ev.timestamp AND r.eventUID = ev.UID"]);
    // One row per event: an application graph with two nodes of one label and `UID` (no
    // uniqueness constraint there) has the event linked to each, and every such link listed the
    // event again. Of the links that pass the checks above, the one with the least element id
    // is read (a link added by hand with other keys hides nothing).
    preds.push(&["NOT EXISTS { (ev)-[r2:ON]->() WHERE r2.target = $target AND r2.created = r.created \
         AND r2.eventUID = r.eventUID AND elementId(r2) < elementId(r) }"]);
    in_trail(&mut preds, labels);
    let text = cat(&[
        "MATCH (ev:",
        ev,
        ")-[r:ON]->() USING INDEX r:ON(target, created, eventUID) WHERE ",
        &preds.0,
        " ",
        RETURN_EVENT,
        &cursor_columns("r.created", "r.eventUID"),
        " ORDER BY r.target DESC, r.created DESC, r.eventUID DESC",
        skip,
        " LIMIT $limit",
    ]);
    Ok(Query { text, params: params.into_json() })
}

/// An opaque cursor for the position after `ev`.
pub fn encode_cursor(ts: i64, uid: &str) -> String {
    cursor_at(ts, 0, None, uid)
}

/// The cursor after the event at `ts` ms plus `sub_ms` ns (0..1 000 000) in time zone `zone`
/// with `uid`: base64url of `ms:UID`, `ms.nnnnnn:UID` for a time finer than a millisecond, and
/// `[zone]` before the `:` for a zone other than UTC's `Z` (e.g. `5[+02:00]:UID`).
fn cursor_at(ts: i64, sub_ms: u32, zone: Option<&str>, uid: &str) -> String {
    let mut text = int(ts);
    if sub_ms > 0 {
        let n = num(u64::from(sub_ms));
        text.push('.');
        for _ in n.len()..6 {
            text.push('0');
        }
        text.push_str(&n);
    }
    if let Some(z) = zone.filter(|z| *z != "Z") {
        text.push('[');
        text.push_str(z);
        text.push(']');
    }
    crate::b64::encode_url(cat(&[&text, ":", uid]).as_bytes())
}

/// The cursor after the first `n` rows of a page's order read without a time bound: where a page
/// continues whose last event's time key is not a `DateTime` (see [`cursor_columns`]). Such
/// events come first in Neo4j's descending order (text, numbers, booleans and local times all
/// sort after `DateTime`s; lists and points sort before them, so those come last and a time
/// cursor passes over them: docs/reading.md), so the rows before any `DateTime` are
/// skipped by position, and the first page that ends on a `DateTime` gives a time cursor again:
/// base64url of `~n`.
fn skip_cursor(n: u64) -> String {
    crate::b64::encode_url(cat(&["~", &num(n)]).as_bytes())
}

/// The `n` of a [`skip_cursor`]; `None` for any other text, and for an `n` that no page made
/// and Neo4j cannot take, where a crafted cursor must be refused as any other ([`decode_cursor`]):
/// above `i64::MAX` Neo4j fails the `SKIP` with a `DatabaseError` ("Unsupported type of Number"),
/// and within `MAX_LIMIT + 1` of it `SKIP $skip LIMIT $limit` with "long overflow".
fn skip_of(c: &str) -> Option<u64> {
    let s = crate::b64::decode_url(c)?;
    let most = i64::MAX as u64 - u64::from(MAX_LIMIT) - 1;
    crate::json::digits_u64(std::str::from_utf8(s.strip_prefix(b"~")?).ok()?).filter(|&n| n <= most)
}

/// The refusal of a cursor this library did not return.
const CURSOR_REFUSED: &str = "cursor is not one this library returned";

/// `(ms, ns below the millisecond, time zone, UID)` of a cursor [`cursor_at`] made.
#[inline(never)]
fn decode_cursor(c: &str) -> Result<(i64, u32, Option<String>, String), AuditError> {
    // One refusal for every way a cursor can be wrong (built once, not at each `?`).
    cursor_parts(c).ok_or_else(|| AuditError::InvalidInput(CURSOR_REFUSED.into()))
}

/// [`decode_cursor`]; `None` for anything [`cursor_at`] did not make.
fn cursor_parts(c: &str) -> Option<(i64, u32, Option<String>, String)> {
    let s = String::from_utf8(crate::b64::decode_url(c)?).ok()?;
    // A zone (an offset such as +02:00, or a region name) is in brackets before the first `:`
    // outside them.
    let (ts, zone, uid) = match split_once(&s, "[") {
        Some((ts, rest)) if find(ts, ":").is_none() => {
            // (`split_once` and `find` of crate::error: core's searchers are large in the .wasm.)
            let (zone, uid) = split_once(rest, "]")?;
            let uid = uid.strip_prefix(':')?;
            if !zone_ok(zone) {
                return None;
            }
            (ts, Some(zone.to_owned()), uid)
        }
        _ => {
            let (ts, uid) = split_once(&s, ":")?;
            (ts, None, uid)
        }
    };
    let (ts, sub_ms) = match split_once(ts, ".") {
        Some((ms, ns)) if ns.len() == 6 => (ms, crate::json::digits_u64(ns)? as u32),
        Some(_) => return None,
        None => (ts, 0),
    };
    // i64's FromStr grammar (an optional `+` or `-`, then digits) without its generic parser.
    let unsigned = ts.strip_prefix('+').filter(|t| !t.starts_with('-')).unwrap_or(ts);
    Some((crate::json::digits_i64(unsigned)?, sub_ms, zone, uid.to_owned()))
}

/// Whether `zone` has the form of a time zone Neo4j gives a `DateTime` (its `.timezone`, which
/// [`cursor_columns`] reads into a cursor): `Z`; an offset `±HH:MM` or `±HH:MM:SS` of at most
/// 18 hours; a region name (`Europe/Berlin`, `Etc/GMT+5`, `UTC`, `EST5EDT`: a letter, then
/// letters, digits and `/ _ + - . ~`, at most 64 bytes); or `UTC`, `GMT` or `UT` followed by such
/// an offset (`UTC+01:00`). Anything else is no cursor this library returned and is refused before
/// any request: Neo4j refused it in the statement, and its error was the read's reason (`Invalid
/// value for TimeZone: Text '+99:00' could not be parsed`). A region name of that form which
/// Neo4j does not know (`Mars/Olympus`) is only found by Neo4j: [`unknown_zone`].
fn zone_ok(zone: &str) -> bool {
    let offset = |o: &[u8]| {
        let two = |i: usize| match (o.get(i), o.get(i + 1)) {
            (Some(a @ b'0'..=b'9'), Some(b @ b'0'..=b'9')) => Some(u32::from(a - b'0') * 10 + u32::from(b - b'0')),
            _ => None,
        };
        if !matches!(o.len(), 6 | 9) {
            return false;
        }
        let (h, m) = match (o[0], two(1), o[3], two(4)) {
            (b'+' | b'-', Some(h), b':', Some(m)) if m < 60 => (h, m),
            _ => return false,
        };
        let s = match o.len() {
            9 if o[6] == b':' => match two(7) {
                Some(s) if s < 60 => s,
                _ => return false,
            },
            9 => return false,
            _ => 0,
        };
        h * 3600 + m * 60 + s <= 18 * 3600
    };
    let b = zone.as_bytes();
    match b.first() {
        Some(b'+' | b'-') => offset(b),
        Some(c) if c.is_ascii_alphabetic() && b.len() <= 64 => {
            for prefix in ["UTC", "GMT", "UT"] {
                if let Some(o) = zone.strip_prefix(prefix).filter(|o| o.starts_with(['+', '-'])) {
                    return offset(o.as_bytes());
                }
            }
            b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'_' | b'+' | b'-' | b'.' | b'~'))
        }
        _ => false,
    }
}

/// A page's error when its cursor names a zone of [`zone_ok`]'s form that Neo4j does not know (a
/// crafted `[Mars/Olympus]`): Neo4j refuses the statement with `Invalid value for TimeZone: …`,
/// and that is the cursor's refusal, `invalid input` as for any cursor this library did not
/// return (the cursor's zone is the only zone a page's statement names). Other errors as they are.
fn unknown_zone(e: AuditError, st: &Query) -> AuditError {
    match e {
        AuditError::Neo4j { message, .. }
            if st.params.get("cursorTz").is_some() && message.starts_with("Invalid value for TimeZone") =>
        {
            AuditError::InvalidInput(cat(&[CURSOR_REFUSED, " (its time zone is not one Neo4j knows)"]))
        }
        e => e,
    }
}

/// A page's rows as events (at most `limit`) and the next page's cursor, `None` when these
/// rows are the last (the statement asks for `limit + 1`).
/// `skip`: the rows the page's [`skip_cursor`] skipped (0 for none).
#[inline(never)]
fn page_events(
    mut rows: crate::outcome::JsonRows,
    limit: usize,
    skip: u64,
) -> Result<(Vec<PageEvent>, Option<String>), AuditError> {
    let mut events = Vec::with_capacity(rows.len());
    for r in &mut rows {
        let (invalid, raw_time) = row_invalid(r);
        events.push(PageEvent { event: row_event(r)?, invalid, raw_time });
    }
    let next_cursor = if events.len() > limit {
        events.truncate(limit);
        // cursor_columns, after RETURN_EVENT's 15 columns.
        let last = &rows[limit - 1];
        let sub_ms = last.get(16).and_then(Json::as_u64).unwrap_or(0);
        let zone = last.get(18).and_then(Json::as_str);
        match (last.get(15).and_then(Json::as_i64), last.get(17)) {
            (Some(at), Some(Json::Str(uid))) => Some(cursor_at(at, sub_ms.min(999_999) as u32, zone, uid)),
            // A UID of another type (another tool's number): its JSON text.
            (Some(at), Some(uid)) if !matches!(uid, Json::Null) => {
                let mut text = String::new();
                uid.write(&mut text);
                Some(cursor_at(at, sub_ms.min(999_999) as u32, zone, &text))
            }
            // The last event's time key is not a `DateTime`: continue by position.
            (None, _) => Some(skip_cursor(skip.saturating_add(limit as u64))),
            _ => return Err(AuditError::UnexpectedResponse("a page's last row without its UID".into())),
        }
    } else {
        None
    };
    Ok((events, next_cursor))
}

/// A stored event as a page read it ([`TrailEvent`] before its conversion).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PageEvent {
    /// The event; a property named in `invalid` reads as absent (`timestamp`: 0; `UID`: its
    /// JSON text, empty when missing).
    pub(crate) event: AuditEvent,
    /// [`TrailEvent::invalid`].
    pub(crate) invalid: Vec<String>,
    /// With `timestamp` in `invalid`: the stored value's text ([`TrailEvent::timestamp`]).
    pub(crate) raw_time: Option<String>,
}

impl PageEvent {
    /// [`TrailEvent::timestamp`]: ISO 8601, or the stored text of an invalid one.
    pub(crate) fn timestamp(&self) -> String {
        match &self.raw_time {
            Some(t) => t.clone(),
            None => iso_millis(self.event.ts),
        }
    }
}

/// A page row's [`READ_TYPES`] names and (with `timestamp` among them) the stored timestamp's
/// text (column 20: a string as it is, another value as its JSON text, none as ""); the row
/// patched so that [`row_event`] reads it (as [`row_fields_off`] does).
fn row_invalid(row: &mut [Json]) -> (Vec<String>, Option<String>) {
    let names: Vec<String> = row
        .get(19)
        .and_then(Json::as_array)
        .unwrap_or(&[])
        .iter()
        .filter_map(Json::as_str)
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return (names, None);
    }
    let raw_time = names.iter().any(|n| n == "timestamp").then(|| match row.get_mut(20) {
        Some(Json::Str(s)) => std::mem::take(s),
        None | Some(Json::Null) => String::new(),
        Some(v) => {
            let mut text = String::new();
            v.write(&mut text);
            text
        }
    });
    row_fields_off(row);
    (names, raw_time)
}

/// The string in column `i`, moved out of the row.
fn take_str(row: &mut [Json], i: usize) -> Option<String> {
    match row.get_mut(i) {
        Some(Json::Str(s)) => Some(std::mem::take(s)),
        _ => None,
    }
}

/// `details` as stored: a string as it is; a property of another type that another tool stored
/// there (a number, a boolean, a list; Neo4j has no map properties) as its JSON text; none as `None`.
/// (Before, such a property read as `None`, as if the event had no details.)
fn take_details(row: &mut [Json], i: usize) -> Option<String> {
    match row.get_mut(i) {
        Some(Json::Str(s)) => Some(std::mem::take(s)),
        None | Some(Json::Null) => None,
        Some(v) => {
            let mut text = String::new();
            v.write(&mut text);
            Some(text)
        }
    }
}

/// A result row (in [`RETURN_EVENT`] order) as an [`AuditEvent`] with its chain fields (the
/// row's strings are moved out).
fn row_event(row: &mut [Json]) -> Result<AuditEvent, AuditError> {
    let bad = |what: &str| AuditError::UnexpectedResponse(cat(&["stored event without ", what]));
    let ts = row.get(3).and_then(Json::as_i64).ok_or_else(|| bad("timestamp"))?;
    Ok(AuditEvent {
        uid: take_str(row, 0).ok_or_else(|| bad("UID"))?,
        action_type: take_str(row, 1).unwrap_or_default(),
        category: take_str(row, 2).unwrap_or_default(),
        ts,
        user_uid: take_str(row, 4),
        user_name: take_str(row, 5),
        details: take_details(row, 6),
        stream_id: take_str(row, 7),
        seq: row.get(8).and_then(Json::as_u64),
        prev_hash: take_str(row, 9),
        hash: take_str(row, 10),
        // Provenance; events stored before it existed have neither (read as client-written);
        // any other value reads as client-written too (what `Source`'s `Deserialize` fails on).
        source: match row.get(11).and_then(Json::as_str) {
            Some("worker") => crate::event::Source::Worker,
            _ => crate::event::Source::Client,
        },
        occurred_at: row.get(12).and_then(Json::as_i64),
        targets: row_targets(row.get(13), row.get(14)),
    })
}

/// `targetKeys` (`"Label:uid"`; a label has no `:`) and `targetRoles` (`""` for none) back
/// into targets, in the order given.
fn row_targets(keys: Option<&Json>, roles: Option<&Json>) -> Vec<Target> {
    let Some(keys) = keys.and_then(Json::as_array) else { return Vec::new() };
    let roles = roles.and_then(Json::as_array);
    let mut targets = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let Some((label, uid)) = k.as_str().and_then(|k| split_once(k, ":")) else { continue };
        let role = roles.and_then(|r| r.get(i)).and_then(Json::as_str).filter(|r| !r.is_empty());
        targets.push(Target { label: label.to_owned(), uid: uid.to_owned(), role: role.map(str::to_owned) });
    }
    targets
}

impl From<PageEvent> for TrailEvent {
    fn from(p: PageEvent) -> Self {
        let timestamp = p.timestamp();
        TrailEvent { timestamp, invalid: p.invalid, ..TrailEvent::from(p.event) }
    }
}

impl From<AuditEvent> for TrailEvent {
    fn from(e: AuditEvent) -> Self {
        // Read with the crate's own parser, as the JavaScript read side reads it (`js.rs`): each
        // number the nearest double (serde_json's own reader needs its `float_roundtrip` for
        // that, a feature the crate would turn on in every program that depends on it).
        let details = e.details.as_deref().map(|d| match crate::json::parse(d, DETAILS_DEPTH) {
            Ok(v @ Json::Obj(_)) => v.to_serde(),
            _ => Value::String(d.to_owned()),
        });
        TrailEvent {
            timestamp: iso_millis(e.ts),
            ts: e.ts,
            uid: e.uid,
            action_type: e.action_type,
            category: e.category,
            user_uid: e.user_uid,
            user_name: e.user_name,
            details,
            stream_id: e.stream_id,
            seq: e.seq,
            prev_hash: e.prev_hash,
            hash: e.hash,
            source: e.occurred_at.map(|_| e.source),
            occurred_at: e.occurred_at.map(iso_millis),
            targets: e.targets,
            invalid: Vec::new(),
        }
    }
}

/// Whether a time string that starts with an ISO 8601 date (`YYYY-MM-DD`) names a day of the
/// calendar. `Date.parse` (the read side's `since`/`until` strings on wasm) rolls `2026-02-30`
/// over to March 2 in V8, and the spec leaves such a date to each host: refused instead.
/// Text without that prefix is left to the parser.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))] // used by src/wasm/read.rs
pub(crate) fn calendar_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r.clone())?
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| b[r].iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else { return true };
    if b[4] != b'-' || b[7] != b'-' {
        return true;
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => 0,
    };
    (1..=days).contains(&d)
}

/// Epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian, UTC).
///
/// ```
/// assert_eq!(neo4j_audit::read::iso_millis(0), "1970-01-01T00:00:00.000Z");
/// assert_eq!(neo4j_audit::read::iso_millis(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
/// ```
pub fn iso_millis(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    // Days since 1970-01-01 → civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let mut out = String::with_capacity(24);
    // `{y:04}`: the sign, then the digits zero-padded to four characters in all.
    if y < 0 {
        out.push('-');
    }
    let w = if y < 0 { 3 } else { 4 };
    for (n, width, after) in [
        (y.unsigned_abs(), w, "-"),
        (m as u64, 2, "-"),
        (d as u64, 2, "T"),
        ((rem / 3_600_000) as u64, 2, ":"),
        ((rem / 60_000 % 60) as u64, 2, ":"),
        ((rem / 1000 % 60) as u64, 2, "."),
        ((rem % 1000) as u64, 3, "Z"),
    ] {
        let digits = num(n);
        for _ in digits.len()..width {
            out.push('0');
        }
        out.push_str(&digits);
        out.push_str(after);
    }
    out
}

/// One page of verification reading: every chained event of the trail in (streamId, seq, UID)
/// order, after the position `after`.
pub fn verify_statement(
    labels: &Labels,
    trail: &str,
    q: &VerifyQuery,
    after: Option<&(String, u64, String)>,
) -> Result<Statement, AuditError> {
    verify_query(labels, trail, q, after, false, None, false).map(Query::statement)
}

/// [`verify_statement`]; with `before` (a `seq`), instead the one event of stream
/// `q.stream_id` just before that `seq` (the last one below it): where a `since` window's check
/// starts from. `first`: only the first event (with `q.since`: where a window starts in the stream).
/// `at`: within one stream, the events at the position `after` too (its `seq` and `UID`): the
/// reader drops the one it read there, and a copy of it (another node with its `UID`, once the
/// uniqueness constraint is dropped) is read and `inserted`; strictly after the position, the copy
/// was skipped.
fn verify_query(
    labels: &Labels,
    trail: &str,
    q: &VerifyQuery,
    after: Option<&(String, u64, String)>,
    at: bool,
    before: Option<u64>,
    first: bool,
) -> Result<Query, AuditError> {
    labels.validate()?;
    let ev = &labels.event;
    let mut preds = Preds::new();
    let mut params = Params::new();
    params.insert("trail".into(), Json::from(trail));
    params.insert("limit".into(), Json::from(if before.is_some() || first { 1 } else { VERIFY_PAGE }));
    match &q.stream_id {
        Some(s) => {
            preds.push(&["ev.streamId = $streamId"]);
            params.insert("streamId".into(), Json::from(s));
        }
        None => preds.push(&["ev.streamId IS NOT NULL"]),
    }
    preds.push(&["ev.seq IS NOT NULL"]);
    if let Some(s) = q.since_ms() {
        preds.push(&["ev.timestamp >= datetime({epochMillis: $since, timezone: '-18:00'})"]);
        params.insert("since".into(), Json::from(s));
    }
    if let Some((s, seq, uid)) = after {
        // The position after (stream, seq, UID). Within one stream (how verifyTrail reads) the
        // bound on `seq` stands alone (`seq >= $afterSeq`), so the index seek on (streamId, seq)
        // starts at the position: behind an OR only, the seek would read the stream from seq 0 on
        // every page, and a verification would read O(n²) index entries.
        if q.stream_id.as_deref() == Some(s.as_str()) {
            preds.push(&[
                "ev.seq >= $afterSeq AND (ev.seq > $afterSeq OR ev.UID ",
                if at { ">=" } else { ">" },
                " $afterUid)",
            ]);
        } else {
            preds.push(&["ev.streamId >= $afterStream AND (ev.streamId > $afterStream OR ev.seq > $afterSeq \
                 OR (ev.seq = $afterSeq AND ev.UID > $afterUid))"]);
        }
        params.insert("afterStream".into(), Json::from(s));
        params.insert("afterSeq".into(), Json::from(*seq));
        params.insert("afterUid".into(), Json::from(uid));
    }
    if let Some(seq) = before {
        preds.push(&["ev.seq < $beforeSeq"]);
        params.insert("beforeSeq".into(), Json::from(seq));
    }
    in_trail(&mut preds, labels);
    let text = cat(&[
        "MATCH (ev:",
        ev,
        ") USING INDEX ev:",
        ev,
        "(streamId, seq) WHERE ",
        &preds.0,
        " ",
        RETURN_EVENT,
        ", ev.sigKid, ev.sig, ev.sigAt, ",
        // The edges into the application's graph agree with the hashed fields ([`row_edges_ok`]).
        // One edge per node and target (a node under two labels named as two targets has two,
        // each its own `target`): the writer MERGEs them on it, so a second edge with the same
        // target to the same node is a copy made by hand (it showed the event twice on the node's
        // activity).
        "NOT EXISTS { (ev)-[:PERFORMED_BY]->(u) WHERE NOT coalesce(u:",
        &labels.user,
        " AND u.UID = ev.userUID AND COUNT { (ev)-[:PERFORMED_BY]->(u) } = 1, false) } \
         AND NOT EXISTS { (ev)-[o:ON]->(n) WHERE NOT coalesce(CASE WHEN ev.targetKeys IS :: LIST<STRING NOT NULL> NOT NULL \
         AND ev.targetRoles IS :: LIST<STRING NOT NULL> NOT NULL THEN any(i IN range(0, size(ev.targetKeys) - 1) \
         WHERE ev.targetKeys[i] = o.target AND ev.targetRoles[i] = coalesce(o.role, '')) END \
         AND o.created = ev.timestamp AND o.eventUID = ev.UID \
         AND any(l IN labels(n) WHERE n.UID IS :: STRING AND l + ':' + n.UID = o.target) \
         AND COUNT { (ev)-[p:ON]->(n) WHERE p.target = o.target } = 1, false) }",
        VERIFY_TYPES,
        " ORDER BY ",
        if before.is_some() { "ev.streamId DESC, ev.seq DESC, ev.UID DESC" } else { "ev.streamId, ev.seq, ev.UID" },
        " LIMIT $limit",
    ]);
    Ok(Query { text, params: params.into_json() })
}

/// Events of the trail that verification did not read as the trail's pages show them: without
/// chain fields, with a `streamId` that is not a string (no stream lists it), a `seq` that is NaN
/// (`ev.seq <> ev.seq`) or a `UID` that is not a string — [`verify_query`] reads on after a
/// position (`seq >= $afterSeq AND (seq > $afterSeq OR UID > $afterUid)`), and is never after
/// one there (NaN compares false, a `UID` of another type null; any other `seq` of another type
/// sorts before the numbers, onto a stream's first page, where it is `edited`) — or (an `indexed`
/// trail, whose pages are read by the links' copied keys) linked by a link whose keys are not the
/// event's, or by two links from trail nodes of the trail's name (two nodes of one name, where
/// the uniqueness constraint is missing, each link the event once: the pages showed it twice
/// while verification, counting one node's links, said `ok`). With `since`,
/// an event is the window's by its `timestamp` or by its link's `created` (what the window's
/// pages go by): a link whose time was moved into the window is seen there; and so is an event
/// whose `timestamp` or link `created` is not a `DateTime` (a `LocalDateTime` from the Python
/// writer still running after the cut-over, text, none): it cannot be shown to be before the
/// window, so it is in every window (before, it was in none, and `verify --since` said `ok`).
///
/// It names the first ten: by `UID`, or `elementId:` and the node's element id when the `UID` is
/// not a string or starts with `elementId:` itself.
///
/// The same statement in the Worker's `GET /v1/verify`.
fn unchained_query(labels: &Labels, trail: &str, q: &VerifyQuery) -> Query {
    let since = if q.since_ms().is_some() {
        " AND (coalesce(ev.timestamp >= datetime({epochMillis: $since, timezone: '-18:00'}), true) \
         OR coalesce(r.created >= datetime({epochMillis: $since, timezone: '-18:00'}), true))"
    } else {
        ""
    };
    // (An event linked twice is one event: DISTINCT.)
    let text = trail_text(
        labels,
        true,
        &[
            ") WHERE (NOT ev.streamId IS :: STRING NOT NULL OR ev.seq IS NULL OR ev.seq <> ev.seq \
             OR NOT ev.UID IS :: STRING NOT NULL OR t.",
            crate::cypher::TRAIL_INDEXED,
            " AND (NOT coalesce(r.trail = $trail AND r.created = ev.timestamp AND r.eventUID = ev.UID, false) \
         OR COUNT { (:",
            &labels.trail,
            " {name: $trail})-[:HAS_EVENT]->(ev) } > 1))",
            since,
            // Named by its UID; one that is not a string (a number, none), or that could be taken
            // for such a name, by its element id: every unchained event counted can be found.
            " WITH DISTINCT ev RETURN count(ev), collect(CASE WHEN ev.UID IS :: STRING NOT NULL \
             AND NOT ev.UID STARTS WITH 'elementId:' THEN ev.UID ELSE 'elementId:' + elementId(ev) END)[0..10]",
        ],
    );
    Query { text, params: trail_params(trail, Some(q.since_ms())) }
}

/// A read statement's rows, the request's future boxed: each `.await` of it is one call through
/// a vtable, not the request's state machine inlined into the caller's (and held in its state).
#[cfg(not(target_arch = "wasm32"))]
type Rows<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<crate::outcome::JsonRows, AuditError>> + Send + 'a>>;
#[cfg(target_arch = "wasm32")]
type Rows<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<crate::outcome::JsonRows, AuditError>> + 'a>>;

/// What to do when a read meets an event whose `timestamp` is not a `DateTime`: no zone (a
/// `LocalDateTime`, as the Python `log_user_action` this library replaces stored it), or text (a
/// copy of its graph that went through another tool): Neo4j's own answers, "Epoch not
/// supported." and "Type mismatch: expected a map but was String(…)", name no remedy.
fn local_time_hint(e: AuditError) -> AuditError {
    let hint = match &e {
        AuditError::Neo4j { message, .. } if message.starts_with("Epoch not supported") => {
            " (an event's timestamp is a LocalDateTime, as the Python log_user_action wrote them: \
             convert them with `neo4j-audit migrate --zone <their writer's time zone>`)"
        }
        AuditError::Neo4j { message, .. } if message.starts_with("Type mismatch: expected a map but was String") => {
            " (an event's timestamp is text, not a DateTime: `neo4j-audit migrate` converts ISO 8601 text, \
             with --zone <their writer's time zone> for text without an offset)"
        }
        _ => return e,
    };
    match e {
        AuditError::Neo4j { code, message } => AuditError::Neo4j { code, message: cat(&[&message, hint]) },
        e => e,
    }
}

impl AuditLogger {
    /// Runs a read statement ([`Rows`]).
    fn query<'a>(&'a self, st: &'a Query) -> Rows<'a> {
        Box::pin(async move { self.run_json(&st.text, &st.params).await.map_err(local_time_hint) })
    }

    /// The JavaScript name of [`AuditLogger::audit_trail`] (for the wasm shell).
    #[doc(hidden)]
    pub async fn get_audit_trail(&self, q: &TrailQuery) -> Result<TrailPage, AuditError> {
        self.audit_trail(q).await
    }

    /// The JavaScript name of [`AuditLogger::user_activity`] (for the wasm shell).
    #[doc(hidden)]
    pub async fn get_user_activity(&self, uid: &str, q: &TrailQuery) -> Result<TrailPage, AuditError> {
        self.user_activity(uid, q).await
    }

    /// One page of this logger's trail, newest first. See [`TrailQuery`]; pass the page's
    /// `next_cursor` as `cursor` (same filters) for the next, older page.
    pub async fn audit_trail(&self, q: &TrailQuery) -> Result<TrailPage, AuditError> {
        self.open()?;
        // (JavaScript reads its numbers so in `wasm::read`, and a Date or ISO string as given.)
        for (what, t) in [("since", q.since), ("until", q.until)] {
            t.map_or(Ok(()), |ms| check_epoch_millis(what, ms))?;
        }
        let (events, next_cursor) = self.trail_events(q).await?;
        // (`PageEvent`s: a stored event's invalid properties are marked, not a failed page.)
        Ok(TrailPage { events: events.into_iter().map(TrailEvent::from).collect(), next_cursor })
    }

    /// [`AuditLogger::audit_trail`]'s events as stored, and the next page's cursor (what
    /// `js::write_page` writes for JavaScript). The caller admitted the read
    /// ([`AuditLogger::open`]; the wasm shell when the JavaScript call was made).
    pub(crate) async fn trail_events(&self, q: &TrailQuery) -> Result<(Vec<PageEvent>, Option<String>), AuditError> {
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let cfg = self.config();
        // The statement first: a bad limit, filter, cursor or window is `InvalidInput` before any
        // request, whether Neo4j is up or not (it was a network error with Neo4j down, as the
        // trail's mark was read first). Both statements check the query alike.
        let by_mark = uses_trail_index(q) && !self.trail_indexed_seen();
        if by_mark {
            trail_query(&cfg.labels, &cfg.trail, q, false)?;
        }
        let indexed = uses_trail_index(q) && (!by_mark || self.trail_indexed().await?);
        let st = trail_query(&cfg.labels, &cfg.trail, q, indexed)?;
        let rows = self.query(&st).await.map_err(|e| unknown_zone(e, &st))?;
        page_events(rows, limit, q.cursor.as_deref().and_then(skip_of).unwrap_or(0))
    }

    /// Whether this logger's trail is marked `indexed` (every link carries the per-trail key):
    /// read from the trail node until it is, then remembered (the mark is never removed). Until
    /// then pages are read by the shared indexes, as before the per-trail index, so a trail whose
    /// stored events are not migrated yet still reads completely.
    async fn trail_indexed(&self) -> Result<bool, AuditError> {
        if self.trail_indexed_seen() {
            return Ok(true);
        }
        let cfg = self.config();
        cfg.labels.validate()?;
        let st = trail_indexed_query(&cfg.labels, &cfg.trail);
        let rows = self.query(&st).await?;
        let yes = matches!(rows.first().and_then(|r| r.first()), Some(Json::Bool(true)));
        if yes {
            self.set_trail_indexed_seen();
        }
        Ok(yes)
    }

    /// The events of user `uid` in this logger's trail, newest first, keyset-paginated like
    /// [`AuditLogger::audit_trail`]; `q` may narrow them further (`since`, `until`,
    /// `action_type`, `category`, `target`, `limit`, `cursor`). The user is `uid`: a `q` with a
    /// `user_uid` of its own (even the same one) is refused
    /// ([`AuditError::InvalidInput`] naming `user_uid`), as JavaScript's `getUserActivity`
    /// refuses a `userUid` option.
    ///
    /// ```no_run
    /// # async fn demo(logger: neo4j_audit::AuditLogger) -> Result<(), neo4j_audit::AuditError> {
    /// use neo4j_audit::TrailQuery;
    /// let mut q = TrailQuery { limit: Some(20), ..Default::default() };
    /// loop {
    ///     let page = logger.user_activity("user-123", &q).await?;
    ///     for e in &page.events {
    ///         println!("{} {}", e.timestamp, e.action_type);
    ///     }
    ///     match page.next_cursor {
    ///         Some(c) => q.cursor = Some(c),
    ///         None => break,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn user_activity(&self, uid: &str, q: &TrailQuery) -> Result<TrailPage, AuditError> {
        // Checked here, not in user_query: the wasm shell refuses the option by its JavaScript
        // name before, and this text stays out of the read entry.
        if q.user_uid.is_some() {
            return Err(AuditError::InvalidInput(
                "user_uid: user_activity reads the user given as its uid; leave TrailQuery::user_uid None".into(),
            ));
        }
        self.audit_trail(&user_query(uid, q.clone())?).await
    }

    /// The events performed on the node `label` / `uid` ([`Target`]) in this logger's trail,
    /// newest first, keyset-paginated like [`AuditLogger::audit_trail`]; `q` may narrow them
    /// further (`since`, `until`, `action_type`, `limit`, `cursor`, …). The node is `label` /
    /// `uid`: a `q` with a `target` of its own (even the same one) is refused
    /// ([`AuditError::InvalidInput`] naming `target`), as JavaScript's `getTargetActivity`
    /// refuses a `target` option. Events whose target node did not exist when they were written
    /// have no `ON` relationship and are not found here (their `targetKeys` still name it).
    pub async fn target_activity(&self, label: &str, uid: &str, q: &TrailQuery) -> Result<TrailPage, AuditError> {
        if q.target.is_some() {
            return Err(AuditError::InvalidInput(
                "target: target_activity reads the node given as its label and uid; leave TrailQuery::target None"
                    .into(),
            ));
        }
        self.audit_trail(&target_query(label, uid, q)?).await
    }

    /// The JavaScript name of [`AuditLogger::target_activity`] (for the wasm shell).
    #[doc(hidden)]
    pub async fn get_target_activity(&self, label: &str, uid: &str, q: &TrailQuery) -> Result<TrailPage, AuditError> {
        self.target_activity(label, uid, q).await
    }

    /// Reads the chained events of this logger's trail back and reports, per stream, the first
    /// broken link (see [`crate::chain::BreakKind`]). A stream whose first break is a gap before
    /// its last event (a batch of a logger still writing may be in flight behind later ones) is
    /// read again, 250 ms later, up to three times; a gap still there is reported.
    pub async fn verify_trail(&self, q: &VerifyQuery) -> Result<VerifyReport, AuditError> {
        self.open()?;
        q.since_ms().map_or(Ok(()), |ms| check_epoch_millis("since", ms))?;
        self.verify_all(q.clone()).await
    }

    /// [`AuditLogger::verify_trail`] once admitted ([`AuditLogger::open`]; the wasm shell when
    /// the JavaScript call was made).
    pub(crate) async fn verify_all(&self, mut q: VerifyQuery) -> Result<VerifyReport, AuditError> {
        // A gap before a stream's last event can be a batch still in flight: a logger's batches
        // (up to `batch.max_in_flight` at once) commit in any order, so a verification read
        // while it writes found later events stored before the batch ahead of them, and reported
        // `deleted` (about one run in five beside a busy Node logger; the next run was `ok`).
        // Such a stream is read again, a moment later: a gap still there is reported; one that
        // was filled (the event is stored, its chain intact) is not, and a new gap further on is
        // read again in turn, at most GAP_READS times. (Nothing is excused: the report is of the
        // events as stored at the last reading.) One call of `verify_pages` in the loop, for the
        // whole trail and then each stream read again: its state machine is in the .wasm once.
        let gap_of = |s: &crate::chain::StreamReport| {
            s.first_break
                .as_ref()
                .filter(|b| b.kind == crate::chain::BreakKind::Deleted && s.head_seq.is_some_and(|h| h > b.seq))
                .map(|b| b.seq)
        };
        let mut report = VerifyReport {
            ok: true,
            checked: 0,
            streams: Vec::new(),
            unchained: 0,
            unchained_uids: Vec::new(),
            signed_head: None,
        };
        let mut first = true;
        // The stream read again (its index), how often, and its gap at the last reading.
        let (mut at, mut reads, mut gap) = (0, 0, None);
        loop {
            let (got, _) = self.verify_pages::<false>(&q, None, u64::MAX).await?;
            if first {
                (report, first) = (got, false);
            } else if let Some(s) = got.streams.into_iter().find(|s| s.stream_id == report.streams[at].stream_id) {
                // Added first (a stream's count, like the total, leaves out the event before a
                // `since` window: `a_since_windows_stream_counts_leave_out_the_event_before_it`).
                report.checked = (report.checked + s.checked).saturating_sub(report.streams[at].checked);
                report.streams[at] = s;
            }
            loop {
                let Some(s) = report.streams.get(at) else {
                    report.ok = report.unchained == 0 && report.streams.iter().all(|s| s.ok);
                    return Ok(report);
                };
                let now = gap_of(s);
                if now.is_some() && now != gap && reads < GAP_READS {
                    (reads, gap) = (reads + 1, now);
                    q.stream_id = Some(s.stream_id.clone());
                    break;
                }
                (at, reads, gap) = (at + 1, 0, None);
            }
            #[cfg(all(target_arch = "wasm32", feature = "js", not(feature = "worker")))]
            crate::wasm::delay_ms(GAP_WAIT_MS).await;
            #[cfg(not(all(target_arch = "wasm32", feature = "js", not(feature = "worker"))))]
            crate::transport::sleep_ms(GAP_WAIT_MS).await;
        }
    }

    /// One page of [`AuditLogger::verify_trail`]: reads about `max_events` events (whole pages
    /// of 1000) from `progress` on (`None`: the start). Returns the streams finished in this page
    /// (`checked` and `ok` count everything so far; `unchained` only on the last page) and where
    /// to continue, `None` when done. `GET /v1/verify` serves it page by page.
    pub async fn verify_trail_page(
        &self,
        q: &VerifyQuery,
        progress: Option<VerifyProgress>,
        max_events: u64,
    ) -> Result<(VerifyReport, Option<VerifyProgress>), AuditError> {
        self.open()?;
        q.since_ms().map_or(Ok(()), |ms| check_epoch_millis("since", ms))?;
        self.verify_pages::<true>(q, progress, max_events).await
    }

    /// [`AuditLogger::verify_trail_page`]; `PAGED` false ([`AuditLogger::verify_trail`]: from the
    /// start, to the end) leaves the cursor's code (resume, pause) out of that instance, which
    /// is the only one in the browser's read entry: an async fn's arguments live in its future,
    /// so the compiler cannot drop that code for a constant `None` / `u64::MAX` itself.
    async fn verify_pages<const PAGED: bool>(
        &self,
        q: &VerifyQuery,
        progress: Option<VerifyProgress>,
        max_events: u64,
    ) -> Result<(VerifyReport, Option<VerifyProgress>), AuditError> {
        #[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
        q.check_anchors(&self.config().trail)?;
        let keys = q.key_set()?;
        if let Some(k) = &keys {
            k.ready().await.map_err(|e| AuditError::InvalidInput(cat(&[KEYS_IN, &e])))?;
        }
        // Seals are checked a page at a time ahead of the (synchronous) verifier: the wasm
        // builds verify with the host's WebCrypto, which is asynchronous.
        let checked = keys.map(crate::sign::Checked::new);
        let seals = checked.as_ref().map(|k| k as &dyn crate::chain::SealCheck);
        let mut run = verify::VerifyRun::<PAGED>::new(self.config(), q, seals, progress, max_events);
        let mut rows = Vec::new();
        loop {
            match run.step(rows)? {
                // A page whose answer is over the reader's bound (the Worker's: its bound on every
                // answer) is read again in smaller pages.
                verify::Step::Run(mut st) => {
                    rows = loop {
                        match self.query(&st).await {
                            Ok(r) => break r,
                            Err(e) => match run.smaller_page(&e) {
                                Some(smaller) => st = smaller,
                                None => return Err(e),
                            },
                        }
                    }
                }
                verify::Step::Seals => {
                    if let Some(c) = &checked {
                        c.check_all(run.seal_items()).await;
                    }
                    rows = Vec::new();
                }
                verify::Step::Done => return Ok(run.finish()),
            }
        }
    }

    /// The trail's signed head (the Worker's stream, see `ingest::signed`), if it has one.
    pub async fn signed_head(&self) -> Result<Option<SignedHead>, AuditError> {
        self.open()?;
        let st = head_query(self.config())?;
        let rows = self.query(&st).await?;
        Ok(rows.first().and_then(|r| head_from_cells(r)))
    }
}

/// The trail's signed head: [`head_from_cells`] reads the row.
fn head_query(cfg: &crate::config::Config) -> Result<Query, AuditError> {
    cfg.labels.validate()?;
    let text = trail_text(
        &cfg.labels,
        false,
        &[" RETURN t.chainStream, t.chainSeq, t.chainHash, t.chainKid, t.chainSig, t.chainSignedAt"],
    );
    Ok(Query { text, params: trail_params(&cfg.trail, None) })
}

/// Stream ids a walk reads at a time ([`stream_ids_query`]).
const STREAM_BATCH: usize = 1000;

/// The ids of the trail's streams (of events from `q.since` on), in order: the first
/// [`STREAM_BATCH`], or those after `after`.
fn stream_ids_query(cfg: &crate::config::Config, q: &VerifyQuery, after: Option<&str>) -> Query {
    let since = if q.since_ms().is_some() {
        " AND ev.timestamp >= datetime({epochMillis: $since, timezone: '-18:00'})"
    } else {
        ""
    };
    let text = trail_text(
        &cfg.labels,
        true,
        &[
            ") WHERE ev.streamId IS NOT NULL AND ev.seq IS NOT NULL",
            since,
            if after.is_some() { " AND ev.streamId > $after" } else { "" },
            " RETURN DISTINCT ev.streamId AS s ORDER BY s LIMIT 1000",
        ],
    );
    let mut params = trail_params(&cfg.trail, Some(q.since_ms()));
    if let (Json::Obj(m), Some(a)) = (&mut params, after) {
        m.push(("after".into(), Json::from(a)));
    }
    Query { text, params }
}

/// The anchored event (an intact stream holds exactly one at that seq), read as a page reads one.
#[cfg(not(all(target_arch = "wasm32", feature = "worker")))]
fn anchor_query(cfg: &crate::config::Config, a: &Anchor) -> Result<Query, AuditError> {
    // The stream's first event at or after the anchored seq, with the columns a page has, so the
    // anchored event is checked as a page's events are (src/read/verify.rs, `Phase::Anchor`).
    let one = VerifyQuery { stream_id: Some(a.stream_id.clone()), ..Default::default() };
    verify_query(&cfg.labels, &cfg.trail, &one, Some(&(a.stream_id.clone(), a.seq, String::new())), true, None, true)
}

/// Adds `id` to the streams still to verify, kept in order (an unstable sort, [`crate::sort`]:
/// equal ids are the same).
fn add_stream(pending: &mut Vec<String>, id: &str) {
    if !pending.iter().any(|p| p == id) {
        pending.push(id.to_owned());
        crate::sort::sort(pending);
    }
}

/// A stored head from the columns (chainStream, chainSeq, chainHash, chainKid, chainSig,
/// chainSignedAt).
pub fn head_from_row(row: &[Value]) -> Option<SignedHead> {
    head_from_cells(row)
}

/// A result cell as `serde_json` (the public API) or the crate's own JSON (the read path) holds it.
pub(crate) trait Cell {
    fn text(&self) -> Option<&str>;
    fn int(&self) -> Option<i64>;
    fn uint(&self) -> Option<u64>;
}

impl Cell for Value {
    fn text(&self) -> Option<&str> {
        self.as_str()
    }
    fn int(&self) -> Option<i64> {
        self.as_i64()
    }
    fn uint(&self) -> Option<u64> {
        self.as_u64()
    }
}

impl Cell for Json {
    fn text(&self) -> Option<&str> {
        self.as_str()
    }
    fn int(&self) -> Option<i64> {
        self.as_i64()
    }
    fn uint(&self) -> Option<u64> {
        self.as_u64()
    }
}

/// [`head_from_row`] for either kind of row.
pub(crate) fn head_from_cells<C: Cell>(row: &[C]) -> Option<SignedHead> {
    let s = |i: usize| row.get(i).and_then(C::text).map(str::to_owned);
    let seal = match (s(3), s(4), row.get(5).and_then(C::int)) {
        (Some(kid), Some(sig), Some(signed_at)) => Some(StoredSeal { kid, sig, signed_at }),
        _ => None,
    };
    Some(SignedHead { stream_id: s(0)?, seq: row.get(1).and_then(C::uint)?, hash: s(2)?, seal })
}

/// A verification row's edges check (after the seal's columns): every `PERFORMED_BY` edge of
/// the event leads to the user node its hashed `userUID` names, and every `ON` edge to the node
/// its `target` names, which is one of the hashed `targetKeys`, with that target's hashed role
/// and the event's `timestamp` and `UID` as its `created` / `eventUID` (an edge re-pointed, moved
/// or re-keyed is an edit the hash cannot see), and no node has two such edges from the event (a copy would show the
/// event twice on the node's activity). Edges missing are not judged: they exist only where the
/// node did.
fn row_edges_ok(row: &[Json]) -> bool {
    !matches!(row.get(18), Some(Json::Bool(false)))
}

/// A verification row's [`VERIFY_TYPES`] column: the names of the properties of another type,
/// comma separated (`None`: none). A row with such properties is made readable first (a missing
/// time as 0, a `UID` that is not text as its JSON text), so the event is reported where it was
/// read.
/// (Also [`row_invalid`]'s patch of a page row, whose column 19 is [`READ_TYPES`]'.)
fn row_fields_off(row: &mut [Json]) -> Option<String> {
    let names: Vec<&str> =
        row.get(19).and_then(Json::as_array).unwrap_or(&[]).iter().filter_map(Json::as_str).collect();
    if names.is_empty() {
        return None;
    }
    let names = names.join(", ");
    if row.get(3).and_then(Json::as_i64).is_none() {
        row[3] = Json::from(0i64);
    }
    if let Some(uid) = row.get_mut(0).filter(|u| !matches!(u, Json::Str(_))) {
        let mut text = String::new();
        if !matches!(uid, Json::Null) {
            uid.write(&mut text);
        }
        *uid = Json::Str(text);
    }
    Some(names)
}

/// The event seal in a verify row (after the [`RETURN_EVENT`] columns).
fn row_seal(row: &[Json]) -> Option<StoredSeal> {
    let s = |i: usize| row.get(i).and_then(Json::as_str).map(str::to_owned);
    // RETURN_EVENT has 15 columns (0..=14: the event, provenance, targetKeys, targetRoles).
    Some(StoredSeal { kid: s(15)?, sig: s(16)?, signed_at: row.get(17).and_then(Json::as_i64)? })
}

/// The query of [`AuditLogger::user_activity`].
pub(crate) fn user_query(uid: &str, q: TrailQuery) -> Result<TrailQuery, AuditError> {
    crate::rules::check_uid_filter("uid", uid)?;
    Ok(TrailQuery { user_uid: Some(uid.to_owned()), ..q })
}

/// The query of [`AuditLogger::target_activity`].
pub(crate) fn target_query(label: &str, uid: &str, q: &TrailQuery) -> Result<TrailQuery, AuditError> {
    // The rule table's read-side target rule (a filter: invisible characters, bidirectional
    // controls among them, not refused),
    // named as this call's arguments (`label`, `uid`), not as the `targets[0]` of a write the
    // caller never made.
    // The message taken out of the violation directly: `to_string()` would bring core::fmt's
    // machinery into the read entry's .wasm for this one line.
    crate::rules::check_target_key("", label, uid).map_err(|v| {
        let (crate::rules::Violation::Invalid(m) | crate::rules::Violation::TooLarge(m)) = v;
        AuditError::InvalidInput(match m.strip_prefix('.') {
            Some(rest) => rest.to_owned(),
            None => m,
        })
    })?;
    Ok(TrailQuery { target: Some(Target::new(label, uid).key()), ..q.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `worker` (like the other deployable features) is a wasm build setting: natively it changes
    /// nothing. `cargo test --all-features` (which turns it on) left the native `verify_trail`
    /// without its stream-id checks (`#[cfg(not(feature = "worker"))]` without the target):
    /// tests/read.rs `a_refusal_names_the_field_as_rust_writes_it` and tests/chain.rs
    /// `a_since_windows_stream_counts_leave_out_the_event_before_it` failed under it, and this
    /// test did not compile.
    #[test]
    fn a_stream_id_is_checked_natively_whatever_the_features() {
        let q = VerifyQuery { stream_id: Some(String::new()), ..Default::default() };
        let e = q.check_anchors("t").unwrap_err().to_string();
        assert!(e.starts_with("invalid input: stream_id must be a non-empty string"), "{e}");
    }

    /// An anchor whose stream id is of no shape the library gives a stream (a v4 UUID, or one
    /// bound to a trail, `<UUID>.<32 hex digits>`; lower case) could match no stream: refused as
    /// invalid input, as a hash of the wrong shape is. Before, `"a"` (or a UUID in upper case,
    /// or with a space) was reported `deleted`: an intact trail said to be cut.
    #[test]
    fn an_anchor_naming_a_stream_id_no_stream_can_have_is_refused() {
        let hash = "0".repeat(64);
        let uuid = crate::random::uuid_v4();
        let bound = crate::chain::trail_stream_id("t");
        let anchor = |id: &str| VerifyQuery {
            anchors: vec![Anchor { stream_id: id.into(), seq: 3, hash: hash.clone() }],
            ..Default::default()
        };
        for id in
            ["a", "", " ", &uuid.to_uppercase(), &format!("{uuid} "), &uuid[..35], &format!("{uuid}.x"), &bound[..60]]
        {
            let e = anchor(id).check_anchors("t").unwrap_err().to_string();
            let want = format!(
                "invalid input: anchors: the anchor of stream {} at seq 3: its stream id is not one",
                crate::error::shown(id)
            );
            assert!(e.starts_with(&want), "{id:?}: {e}");
        }
        for id in [&uuid, &bound] {
            assert!(anchor(id).check_anchors("t").is_ok(), "{id}");
        }
    }

    /// Found by props::parser_agrees_with_serde_json_on_generated_and_mutated_texts: serde_json
    /// without `float_roundtrip` refused `179769313486231570000e288` (the largest double, written
    /// with more digits), which the write path accepts and stores, so the native read API gave
    /// those details as a string (and `Json::to_serde` the number as null); and it read long
    /// mantissas off in their last digits, where `JSON.parse` reads the nearest double. Turning
    /// that feature on changed every dependent's serde_json, so the read API parses details with
    /// src/json.rs now (the tests' serde_json has `float_roundtrip`, a dev-dependency's feature:
    /// tests/dependent.rs checks the same without it).
    #[test]
    fn details_numbers_read_back_as_the_nearest_double() {
        let nums = [
            "179769313486231570000e288",
            "1.7976931348623156e308",
            "5631938436568231.7391e+290",
            "2.2250738585072011e-308",
        ];
        let text = format!("{{\"a\":{},\"b\":{},\"c\":{},\"d\":{}}}", nums[0], nums[1], nums[2], nums[3]);
        let e = AuditEvent::from_parts(None, "X", None, Some(text.clone()), 65536).unwrap();
        let t = TrailEvent::from(e);
        let d = t.details.as_ref().and_then(Value::as_object).unwrap_or_else(|| panic!("{:?}", t.details));
        for (k, n) in ["a", "b", "c", "d"].iter().zip(nums) {
            assert_eq!(d[*k].as_f64().map(f64::to_bits), Some(n.parse::<f64>().unwrap().to_bits()), "{n}");
            let j = crate::json::Json::Num(n.to_owned());
            assert_eq!(j.to_serde().as_f64().map(f64::to_bits), Some(n.parse::<f64>().unwrap().to_bits()), "{n}");
        }
    }

    #[test]
    fn a_bad_target_is_named_by_the_arguments_of_get_target_activity() {
        let e = target_query("Doc ument", "d", &TrailQuery::default()).unwrap_err().to_string();
        assert!(e.starts_with("invalid input: label must be an identifier"), "{e}");
        let e = target_query("Document", " ", &TrailQuery::default()).unwrap_err().to_string();
        assert!(e.starts_with("invalid input: uid must be a non-empty string"), "{e}");
        assert_eq!(
            target_query("Document", "d-1", &TrailQuery::default()).unwrap().target.as_deref(),
            Some("Document:d-1")
        );
    }

    #[test]
    fn a_malformed_target_filter_is_invalid_input() {
        // getAuditTrail({target}) must be "Label:uid" with the rule table's label and uid; a
        // malformed one was sent to Neo4j and answered with an empty page (`true`-like success)
        // instead of the `invalid input:` that getTargetActivity gives for the same mistake.
        for bad in ["nolabel", ":x", "Doc:", "Bad Label:x", "Doc\u{1}:x"] {
            let q = TrailQuery { target: Some(bad.into()), ..Default::default() };
            for indexed in [false, true] {
                let e = trail_query(&Labels::default(), "t", &q, indexed).unwrap_err().to_string();
                assert!(e.starts_with("invalid input: target must be \"Label:uid\""), "{bad}: {e}");
            }
        }
        let q = TrailQuery { target: Some("Document:doc:1".into()), ..Default::default() };
        let st = trail_query(&Labels::default(), "t", &q, true).unwrap();
        assert!(st.text.contains("USING INDEX r:ON(target, created, eventUID)"));
    }

    #[test]
    fn a_filter_no_event_can_have_is_invalid_input_not_an_empty_page() {
        // What the rule table refuses at write time can only find nothing: say so instead, naming
        // the field as Rust does (`user_uid`; JavaScript's builds name its option, `userUid`).
        let cases = [
            (TrailQuery { user_uid: Some("".into()), ..Default::default() }, "user_uid must be a non-empty string"),
            (TrailQuery { user_uid: Some("  ".into()), ..Default::default() }, "user_uid must be a non-empty string"),
            (TrailQuery { user_uid: Some("a\nb".into()), ..Default::default() }, "user_uid must be a non-empty string"),
            (TrailQuery { action_type: Some("".into()), ..Default::default() }, "action_type must be 1-64 characters"),
            (
                TrailQuery { action_type: Some("Doc opened".into()), ..Default::default() },
                "action_type must be 1-64 characters",
            ),
            (TrailQuery { category: Some("".into()), ..Default::default() }, "category must be 1-64 characters"),
            (
                TrailQuery { target: Some("Document:d".into()), category: Some("a b".into()), ..Default::default() },
                "category must be 1-64 characters",
            ),
        ];
        for (q, want) in cases {
            for indexed in [false, true] {
                let e = trail_query(&Labels::default(), "t", &q, indexed).unwrap_err().to_string();
                assert!(e.starts_with(&format!("invalid input: {want}")), "{q:?}: {e}");
            }
        }
        for uid in ["", " ", "a\u{1b}"] {
            let e = user_query(uid, TrailQuery::default()).unwrap_err().to_string();
            assert!(e.starts_with("invalid input: uid must be a non-empty string"), "{uid:?}: {e}");
        }
        let ok = TrailQuery {
            user_uid: Some("u-1".into()),
            action_type: Some("DOC.OPENED:v2".into()),
            category: Some("DOCUMENT_MANAGEMENT".into()),
            ..Default::default()
        };
        assert!(trail_query(&Labels::default(), "t", &ok, true).is_ok());
    }

    #[test]
    fn verify_progress_json_is_serdes() {
        use crate::chain::{BreakKind, VerifierState};
        let seal = StoredSeal { kid: "k\"1".into(), sig: "c2ln".into(), signed_at: -5 };
        let head = SignedHead { stream_id: "s-1".into(), seq: 9, hash: "h".repeat(64), seal: Some(seal.clone()) };
        let mut e = AuditEvent::build(None, "LOGIN", None, None, 100).unwrap();
        e.details = Some(r#"{"n":1.50}"#.into());
        e.targets = vec![Target::new("Doc", "d").role("r")];
        let state = VerifierState {
            stream_id: "s-1".into(),
            checked: 3,
            head_seq: Some(2),
            head_hash: None,
            first_break: Some((BreakKind::Reordered, 2, None, "moved \"x\"".into())),
            signed_seq: None,
            anchored: true,
            last: Some((2, "ab".into())),
            group: vec![(e.clone(), Some(seal)), (e, None)],
            hashed: 0,
            unsigned_from: None,
            head: Some(head.clone()),
            edges_off: Some("u-\"1".into()),
            fields_off: Some("timestamp, userName".into()),
        };
        // Events held without their details (`hashed`): `[event, seal, true]`, the first ones only.
        let held_ev = state.group[0].0.clone();
        let held = VerifierState { hashed: 1, group: vec![(held_ev.clone(), None), (held_ev, None)], ..state.clone() };
        let p = VerifyProgress {
            pending: vec![],
            current: Some(held),
            after: None,
            checked: 1,
            ok: true,
            head: None,
            page: None,
            rest_after: None,
        };
        let mut ours = String::new();
        p.write_json(&mut ours);
        assert_eq!(ours.matches("null,true]").count(), 1, "{ours}");
        assert_eq!(VerifyProgress::from_json(&crate::json::parse(&ours, 16).unwrap()).as_ref(), Some(&p));
        let later = ours.replacen("null,true]", "null]", 1).replacen("null]]", "null,true]]", 1);
        assert_eq!(VerifyProgress::from_json(&crate::json::parse(&later, 16).unwrap()), None, "{later}");
        for p in [
            VerifyProgress {
                pending: vec!["a".into(), "b".into()],
                current: Some(state),
                after: Some(("s-1".into(), 2, "u".into())),
                checked: u64::MAX,
                ok: false,
                head: Some(head),
                page: Some(250),
                rest_after: Some("b".into()),
            },
            VerifyProgress {
                pending: vec![],
                current: None,
                after: None,
                checked: 0,
                ok: true,
                head: None,
                page: None,
                rest_after: None,
            },
        ] {
            let mut ours = String::new();
            p.write_json(&mut ours);
            let theirs = serde_json::to_string(&p).unwrap();
            assert_eq!(ours, theirs);
            assert_eq!(VerifyProgress::from_json(&crate::json::parse(&theirs, 16).unwrap()), Some(p));
        }
        assert_eq!(VerifyProgress::from_json(&crate::json::parse(r#"{"pending":[]}"#, 4).unwrap()), None);
        // A smaller page is 2 ..= 999 (as `smaller_page` makes it); a cursor of before has none.
        let base = r#"{"pending":[],"current":null,"after":null,"checked":0,"ok":true,"head":null"#;
        for (page, expect) in
            [("", Some(None)), (",\"page\":2", Some(Some(2))), (",\"page\":999", Some(Some(999)))].into_iter().chain(
                [",\"page\":1000", ",\"page\":1", ",\"page\":0", ",\"page\":\"5\"", ",\"page\":null"]
                    .map(|p| (p, None)),
            )
        {
            let text = format!("{base}{page}}}");
            let got = VerifyProgress::from_json(&crate::json::parse(&text, 4).unwrap()).map(|p| p.page);
            assert_eq!(got, expect, "{text}");
        }
    }

    #[test]
    fn skip_cursors_are_bounded_and_anything_else_is_refused() {
        assert_eq!(skip_of(&skip_cursor(0)), Some(0));
        assert_eq!(skip_of(&skip_cursor(250)), Some(250));
        let most = i64::MAX as u64 - u64::from(MAX_LIMIT) - 1;
        assert_eq!(skip_of(&skip_cursor(most)), Some(most));
        // A client's own `~n` above what Neo4j's SKIP takes (it answered "Unsupported type of
        // Number", a DatabaseError), or so near it that SKIP + LIMIT overflows ("long overflow"):
        // refused as any cursor this library did not return.
        let q = |c: &[u8]| TrailQuery { cursor: Some(crate::b64::encode_url(c)), ..Default::default() };
        let bads = [
            &b"~18446744073709551615"[..],
            b"~9223372036854775808",
            b"~9223372036854775807",
            b"~-1",
            b"~",
            b"~1 ",
            b"~+1",
        ];
        for bad in bads.into_iter().chain([format!("~{}", most + 1).as_bytes()]) {
            let e = trail_statement(&Labels::default(), "audit", &q(bad)).unwrap_err();
            assert_eq!(e, AuditError::InvalidInput("cursor is not one this library returned".into()), "{bad:?}");
        }
        let st = trail_statement(&Labels::default(), "audit", &q(b"~7")).unwrap();
        assert!(st.text.contains(" SKIP $skip LIMIT $limit"), "{}", st.text);
        assert_eq!(st.parameters["skip"], 7);
    }

    #[test]
    fn a_cursor_zone_has_a_form_neo4j_gives() {
        for ok in [
            "Z",
            "+02:00",
            "-05:30",
            "+02:00:30",
            "-18:00",
            "+18:00",
            "+00:00",
            "Europe/Berlin",
            "europe/berlin",
            "America/Argentina/Buenos_Aires",
            "America/Port-au-Prince",
            "Etc/GMT+5",
            "Etc/GMT-14",
            "EST5EDT",
            "UTC",
            "GMT0",
            "UT",
            "W-SU",
            "SystemV/AST4",
            "UTC+01:00",
            "GMT-03:30",
            "UT+18:00",
            "UTC+01:00:30",
        ] {
            assert!(zone_ok(ok), "{ok}");
            let c = cursor_at(5, 0, Some(ok), "u");
            assert!(decode_cursor(&c).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "+99:00",
            "+25:00",
            "+18:01",
            "-18:00:01",
            "+1:00",
            "+0200",
            "+02",
            "+2",
            "+02:60",
            "+02:00:60",
            "+02:00:5",
            "+02:00:",
            "+02:00-30",
            "+02-00",
            ".",
            "-",
            "+",
            "1",
            "_x",
            "~",
            "/",
            "GMT+1",
            "UTC+1",
            "UT+19:00",
            "UTC+",
            "Europe/Berlin ",
            " UTC",
            "a b",
            "ü",
            "A\u{0}",
            &"A".repeat(65),
        ] {
            assert!(!zone_ok(bad), "{bad:?}");
            let c = crate::b64::encode_url(cat(&["5[", bad, "]:u"]).as_bytes());
            assert_eq!(decode_cursor(&c), Err(AuditError::InvalidInput(CURSOR_REFUSED.into())), "{bad:?}");
        }
        assert!(zone_ok(&"A".repeat(64)));
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = encode_cursor(1_700_000_000_000, "a-b-c");
        assert_eq!(decode_cursor(&c).unwrap(), (1_700_000_000_000, 0, None, "a-b-c".to_owned()));
        // A time finer than a millisecond: six more digits; the plain form is unchanged.
        assert_eq!(c, cursor_at(1_700_000_000_000, 0, None, "a-b-c"));
        assert_eq!(c, cursor_at(1_700_000_000_000, 0, Some("Z"), "a-b-c"));
        // A zone other than UTC's Z: in brackets, ':' and all.
        for zone in ["+02:00", "-05:30", "Europe/Berlin", "America/Argentina/Buenos_Aires"] {
            let c = cursor_at(-1500, 42, Some(zone), "u:v[w]:x");
            assert_eq!(decode_cursor(&c).unwrap(), (-1500, 42, Some(zone.to_owned()), "u:v[w]:x".to_owned()));
        }
        assert_eq!(crate::b64::decode_url(&cursor_at(5, 0, Some("+02:00"), "u")).unwrap(), b"5[+02:00]:u");
        // An old cursor whose UID has a bracket still reads as zoneless.
        assert_eq!(decode_cursor(&crate::b64::encode_url(b"5:u[x]:y")).unwrap(), (5, 0, None, "u[x]:y".to_owned()));
        for bad in ["5[]:u", "5[+02:00:u", "5[+02 00]:u", "5[+02:00]u"] {
            assert!(decode_cursor(&crate::b64::encode_url(bad.as_bytes())).is_err(), "{bad}");
        }
        for (ms, ns) in [(1_700_000_000_000, 500_000), (-1500, 300_000), (0, 1), (7, 999_999)] {
            assert_eq!(decode_cursor(&cursor_at(ms, ns, None, "u:v")).unwrap(), (ms, ns, None, "u:v".to_owned()));
        }
        assert_eq!(crate::b64::decode_url(&cursor_at(5, 42, None, "u")).unwrap(), b"5.000042:u");
        for bad in ["5.1:u", "5.1234567:u", "5.+12345:u", "5.:u", "5.00000a:u", ".000001:u"] {
            assert!(decode_cursor(&crate::b64::encode_url(bad.as_bytes())).is_err(), "{bad}");
        }
        assert!(decode_cursor("not base64 !").is_err());
        let bad_ts = crate::b64::encode_url(b"soon:x");
        assert!(decode_cursor(&bad_ts).is_err());
        let no_colon = crate::b64::encode_url(b"123");
        assert!(decode_cursor(&no_colon).is_err());
        // The timestamp is read as i64's FromStr reads it.
        for ts in [
            "0",
            "-0",
            "+5",
            "007",
            "-12",
            "+-5",
            "-+5",
            "++5",
            "+",
            "-",
            "",
            " 1",
            "1 ",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "1e3",
        ] {
            let c = crate::b64::encode_url(cat(&[ts, ":u"]).as_bytes());
            assert_eq!(decode_cursor(&c).ok().map(|(t, _, _, _)| t), ts.parse::<i64>().ok(), "{ts:?}");
        }
    }

    #[test]
    fn statement_picks_an_index_and_keeps_values_out() {
        let labels = Labels::default();
        let evil = "x' OR 1=1 //";
        // (A category can hold no quote: the rule table refuses it, a_filter_no_event_can_have_….)
        let q = TrailQuery {
            user_uid: Some(evil.into()),
            since: Some(5),
            until: Some(9),
            cursor: Some(encode_cursor(8, evil)),
            ..Default::default()
        };
        let st = trail_statement(&labels, evil, &q).unwrap();
        assert!(!st.text.contains(evil));
        assert!(st.text.contains("USING INDEX ev:AuditEvent(userUID, timestamp, UID)"));
        assert_eq!(st.parameters["userUid"], evil);
        assert_eq!(st.parameters["cursorUid"], evil);
        assert_eq!(st.parameters["limit"], DEFAULT_LIMIT + 1);
        let plain = trail_statement(&labels, "t", &TrailQuery::default()).unwrap();
        assert!(plain.text.contains("USING INDEX ev:AuditEvent(timestamp, UID)"));
        assert!(trail_statement(&labels, "t", &TrailQuery { limit: Some(0), ..Default::default() }).is_err());
        assert!(trail_statement(&labels, "t", &TrailQuery { limit: Some(5000), ..Default::default() }).is_err());
    }

    #[test]
    fn a_date_string_must_name_a_day_of_the_calendar() {
        for ok in [
            "2026-02-28",
            "2024-02-29",
            "2000-02-29",
            "2026-12-31T23:59:59Z",
            "2026-04-30T10:00",
            "Mon, 02 Feb 2026",
            "1700000000000",
            "",
        ] {
            assert!(calendar_date(ok), "{ok}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-02-30",
            "2026-04-31T10:00:00Z",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2026-01-32",
        ] {
            assert!(!calendar_date(bad), "{bad}");
        }
    }

    /// A trusted key set that names one `kid` with two different keys is refused: which key
    /// checks a seal of that `kid` went by the order of the list (the first), so a set merged
    /// from a pinned copy and a fetched one (`[...fetched.keys, ...pinned.keys]`) verified with
    /// whatever key the fetched set put first under the pinned key's id. The Worker refuses such a
    /// set of its own (`AUDIT_PUBLIC_KEYS`: an id listed twice); the same key listed twice is kept.
    #[test]
    #[cfg(not(target_arch = "wasm32"))] // SigningKey::public_jwk is native only
    fn a_key_set_naming_one_kid_with_two_keys_is_refused() {
        let a = crate::sign::SigningKey::from_secret("k1", &"1".repeat(64)).unwrap().public_jwk();
        let b = crate::sign::SigningKey::from_secret("k1", &"2".repeat(64)).unwrap().public_jwk();
        let c = crate::sign::SigningKey::from_secret("k2", &"2".repeat(64)).unwrap().public_jwk();
        for keys in [vec![a.clone(), b.clone()], vec![b.clone(), a.clone()]] {
            let q = VerifyQuery { public_keys: Some(keys.into()), ..Default::default() };
            let e = q.key_set().map(|_| ()).unwrap_err().to_string();
            assert!(e.starts_with("invalid input: public_keys: key \"k1\" is listed twice"), "{e}");
        }
        // One key under its id twice (a pinned copy and a fetched one that agree), or two ids: taken.
        let q = VerifyQuery {
            public_keys: Some(vec![a.clone(), c, a.clone()].into()),
            public_key: Some(a),
            ..Default::default()
        };
        assert!(q.key_set().unwrap().is_some());
    }

    /// A key declared for another use (`"use": "enc"`, RFC 7517 §4.2) or another algorithm
    /// (`"alg": "RS256"`; an Ed25519 key's is `EdDSA`, RFC 8037 §3.1, or the fully-specified
    /// `Ed25519`, RFC 9864) is refused by name: it was taken and checked seals as any other. A
    /// key with neither member is taken, as before.
    #[test]
    #[cfg(not(target_arch = "wasm32"))] // SigningKey::public_jwk is native only
    fn a_key_declared_for_another_use_or_algorithm_is_refused() {
        let k = crate::sign::SigningKey::from_secret("k1", &"1".repeat(64)).unwrap().public_jwk();
        let with = |alg: &str, use_: &str| PublicJwk { alg: alg.into(), use_: use_.into(), ..k.clone() };
        for (jwk, why) in [
            (
                with("EdDSA", "enc"),
                "key \"k1\": its \"use\" is \"enc\", not \"sig\": it is not a key that verifies signatures",
            ),
            (
                with("RS256", "sig"),
                "key \"k1\": its \"alg\" is \"RS256\", not EdDSA (or Ed25519): it is not a key for Ed25519 signatures",
            ),
            (
                with("eddsa", "sig"),
                "key \"k1\": its \"alg\" is \"eddsa\", not EdDSA (or Ed25519): it is not a key for Ed25519 signatures",
            ),
        ] {
            let q = VerifyQuery { public_keys: Some(vec![jwk.clone()].into()), ..Default::default() };
            let e = q.key_set().map(|_| ()).unwrap_err().to_string();
            assert_eq!(e, format!("invalid input: public_keys: {why}"));
            assert_eq!(KeySet::from_jwks(&[jwk]).map(|_| ()).unwrap_err(), why);
        }
        for jwk in [k.clone(), with("Ed25519", "sig")] {
            assert!(KeySet::from_jwks(&[jwk]).is_ok());
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_millis(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
        assert_eq!(iso_millis(-1), "1969-12-31T23:59:59.999Z");
        // The year as `format!`'s `{:04}` wrote it: zero-padded, the sign counted in the width.
        assert_eq!(iso_millis(-62_009_366_400_000), "0005-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(-62_167_219_200_000), "0000-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(-62_198_755_200_000), "-001-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(253_402_300_800_000), "10000-01-01T00:00:00.000Z");
    }
}
