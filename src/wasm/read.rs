//! JavaScript surface of the read side and the hash chain: `getAuditTrail`, `getUserActivity`,
//! `getTargetActivity`, `chainHead`, and with the build setting `verify` (the entry
//! `neo4j-audit/verify`) `verifyTrail`. Each resolves a plain object, or `null` with the reason in
//! `lastError`; none rejects.
//!
//! No `serde_json` or `serde-wasm-bindgen` here (they were the largest part of this entry's
//! `.wasm`): options cross as the crate's own JSON and are read by `read::js`; results are
//! written as one JSON text that the host's `JSON.parse` turns into plain objects.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::JsAuditLogger;
use crate::error::{cat, AuditError};
use crate::json::{self, Json};
#[cfg(feature = "verify")]
use crate::read::VerifyQuery;
use crate::read::{js, TrailQuery};

#[wasm_bindgen(typescript_custom_section)]
const TS_READ_TYPES: &'static str = r#"
/** An instant: epoch milliseconds, an ISO 8601 string, or a Date. A number of 8 to 10 digits (epoch
 *  seconds, a date without dashes: as milliseconds January 1970) or of 14 or more (epoch micro- or
 *  nanoseconds: after the year 2286) is refused (`null`, `lastError` naming the unit); negative
 *  numbers (before 1970) and Dates and ISO strings of any time are read as given; a string with white
 *  space around it (" 2026-01-01") is refused: `Date.parse` read it as local midnight, where
 *  "2026-01-01" is UTC midnight. */
export type AuditInstant = number | string | Date;

/** Filters of {@link AuditLogger.getAuditTrail}; all optional. */
export interface AuditTrailQuery {
  /** Inclusive lower bound. */
  since?: AuditInstant | undefined;
  /** Exclusive upper bound. */
  until?: AuditInstant | undefined;
  actionType?: string | undefined;
  category?: string | undefined;
  userUid?: string | undefined;
  /** Only events performed on this target, "Label:uid" (see getTargetActivity). */
  target?: string | undefined;
  /** 1..1000, default 50. */
  limit?: number | undefined;
  /** `nextCursor` of the previous page, given with that page's filters (a cursor names a position, not the
   *  filters: alone it reads the unfiltered trail from there); `null` (a last page's `nextCursor`) or
   *  absent: the first page. */
  cursor?: string | null | undefined;
}

/** One stored event. */
export interface AuditTrailEvent {
  uid: string;
  actionType: string;
  category: string;
  /** ISO 8601 UTC with milliseconds, as Date.prototype.toISOString(); on an event whose
   *  `invalid` names "timestamp", the stored value's text (an event whose timestamp was removed is
   *  on no page). */
  timestamp: string;
  /** The same instant in epoch milliseconds (0 when `invalid` names "timestamp"). */
  ts: number;
  userUid: string | null;
  userName: string | null;
  /** The details object; `null` when the event has none. Details another tool stored that are not
   *  the text of a JSON object (text that is not JSON, JSON such as `42` or `[1]`, a number, boolean
   *  or list property) are that text, a string (a non-string property: its JSON text). */
  details: Record<string, unknown> | string | null;
  streamId: string | null;
  seq: number | null;
  prevHash: string | null;
  hash: string | null;
  /** Who wrote it into Neo4j: "client" (a client library, directly) or "worker" (the ingest
   *  Worker, after verifying the user's token); null for an event stored before provenance existed. */
  source: "client" | "worker" | null;
  /** When the user acted, formatted as `timestamp`: the same instant for a direct write; through the
   *  Worker, the client's time of the action (`timestamp` is then the Worker's receive time). */
  occurredAt: string | null;
  /** What the action was performed on; absent when none. */
  targets?: { label: string; uid: string; role: string | null }[];
  /** Absent on a well-formed event. Else the names of the stored properties that are missing or
   *  not of the type the library writes (e.g. ["timestamp"] for a timestamp stored as text):
   *  someone with write access to Neo4j (or another tool) changed the event. Those read as absent
   *  (`details` keeps its text; `uid` is the stored value's JSON text); `verifyTrail` reports the
   *  event as edited. The page is returned all the same. */
  invalid?: string[];
}

/** One page, newest first. */
export interface AuditTrailPage {
  events: AuditTrailEvent[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** This logger's stream position. */
export interface AuditChainHead {
  streamId: string;
  /** seq of the last event built by this logger's stream, null before the first (and always in
   *  client mode, where the Worker chains the events it stores, not the page). */
  seq: number | null;
  /** Its hash (the genesis value, 64 zeros, before the first). */
  hash: string;
}
"#;

/// verifyTrail's types: in the entry `neo4j-audit/verify` only.
#[cfg(feature = "verify")]
#[wasm_bindgen(typescript_custom_section)]
const TS_VERIFY_TYPES: &'static str = r#"
/** The first broken link of a stream. `edited`: the stored fields do not hash to the stored hash,
 *  or an edge into your graph (`PERFORMED_BY`, `ON`) leads elsewhere than the hashed
 *  `userUID` / `targetKeys` name. */
export interface AuditChainBreak {
  kind: "edited" | "deleted" | "inserted" | "reordered" | "forged" | "unsigned" | "unbound";
  seq: number;
  uid: string | null;
  message: string;
}

/** Result of {@link AuditLogger.verifyTrail}. */
export interface AuditVerifyReport {
  ok: boolean;
  checked: number;
  streams: {
    streamId: string; ok: boolean;
    /** The stream's id binds it to this trail (false: a plain-UUID stream begun before
     *  bindings existed, or one bound to another trail). */
    bound: boolean;
    checked: number;
    headSeq: number | null; headHash: string | null;
    firstBreak: AuditChainBreak | null;
    /** With public keys: seq of the last event whose signature verified. */
    signedSeq?: number;
  }[];
  unchained: number;
  /** The first 10 unchained events: each by its UID, or, when that is not a string (a number,
   *  none) or starts with "elementId:", as "elementId:" + its Neo4j element id
   *  (`MATCH (ev) WHERE elementId(ev) = $id RETURN ev`). */
  unchainedUids: string[];
  /** With public keys: the trail's signed head (worth anchoring elsewhere). */
  signedHead?: { streamId: string; seq: number; hash: string;
    seal: { kid: string; sig: string; signedAt: number } | null };
}

/** An Ed25519 public key as a JWK (what GET /v1/keys publishes). `use`, when given, must be
 *  "sig" and `alg` "EdDSA" or "Ed25519": a key declared for another use or algorithm is refused. */
export interface AuditPublicKey { kid: string; x: string; kty?: "OKP"; crv?: "Ed25519"; alg?: string; use?: string }

/** Options of {@link AuditLogger.verifyTrail}. */
export interface AuditVerifyQuery {
  /** Only this stream; one whose id binds it to another trail is refused (invalid input), as is an
   *  id no stream has: empty or blank, with white space at an end or a control character (the rule
   *  table's, as a user's uid). */
  streamId?: string | undefined;
  since?: AuditInstant | undefined;
  /** Trusted keys: a list of JWKs or the JWK Set GET /v1/keys answers. With keys, every stream
   *  must be signed and the trail's signed head must match. One `kid` with two different keys
   *  (here and in `publicKey`) is invalid input. */
  publicKeys?: AuditPublicKey[] | { keys: AuditPublicKey[] } | undefined;
  publicKey?: AuditPublicKey | undefined;
  /** With keys: streams without any signature (direct client writes) do not fail `ok`. */
  allowUnsigned?: boolean | undefined;
  /** Strict: a stream not bound to this trail (plain-UUID id) fails with kind "unbound". */
  requireBound?: boolean | undefined;
  /** Heads kept outside the database (saved chainHead() values): each stream must still hold
   *  that seq with that hash ("deleted" when cut off before it, "forged" when rewritten). A head
   *  taken before the stream's first event (seq null, the genesis hash) anchors nothing. A hash
   *  that is not 64 lowercase hex digits, or a stream bound to another trail, matches no event of
   *  this trail: refused (null, "invalid input: anchors: …"). */
  anchors?: AuditChainHead[] | undefined;
}

"#;

#[wasm_bindgen(js_class = AuditLogger)]
impl JsAuditLogger {
    /// One page of the trail, newest first. Resolves `null` on failure (see `lastError`).
    #[wasm_bindgen(js_name = getAuditTrail, unchecked_return_type = "Promise<AuditTrailPage | null>")]
    pub fn get_audit_trail(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "AuditTrailQuery")] query: JsValue,
    ) -> js_sys::Promise {
        let q = options(&query, &["since", "until"]).and_then(|m| members(&m, TrailQuery::from_members));
        self.read(q.map(Call::Trail))
    }

    /// The events of one user, newest first: `getAuditTrail({userUid: uid, ...options})`.
    #[wasm_bindgen(js_name = getUserActivity, unchecked_return_type = "Promise<AuditTrailPage | null>")]
    pub fn get_user_activity(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] uid: JsValue,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ since?: AuditInstant | undefined; until?: AuditInstant | undefined; actionType?: string | undefined; category?: string | undefined; limit?: number | undefined; cursor?: string | null | undefined }"
        )]
        options: JsValue,
    ) -> js_sys::Promise {
        // The filters getTargetActivity takes, and category (until and the others were refused: an
        // admin page showing one user's week could not ask for it).
        const OWN: &str = "getUserActivity options are since, until, actionType, category, limit and cursor";
        let q = own_fields(&options, &["since", "until"], OWN).and_then(|q| {
            if let Some(k) = [(q.user_uid.is_some(), "userUid"), (q.target.is_some(), "target")].iter().find(|f| f.0) {
                return Err(not_own(OWN, k.1));
            }
            crate::read::user_query(&non_empty(&uid, "uid")?, q)
        });
        self.read(q.map(Call::Trail))
    }

    /// The events performed on the node `label` / `uid` (an {@link AuditTarget}), newest first,
    /// keyset-paginated: `getAuditTrail({target: label + ":" + uid, ...options})`. Only events
    /// linked to that node are found: an event whose node did not exist when it was written has no
    /// `ON` link (the library never creates the node) and is not listed, though its `targets`
    /// name it. Resolves `null` on failure (see `lastError`).
    #[wasm_bindgen(js_name = getTargetActivity, unchecked_return_type = "Promise<AuditTrailPage | null>")]
    pub fn get_target_activity(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] label: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] uid: JsValue,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ since?: AuditInstant | undefined; until?: AuditInstant | undefined; actionType?: string | undefined; limit?: number | undefined; cursor?: string | null | undefined }"
        )]
        options: JsValue,
    ) -> js_sys::Promise {
        const OWN: &str = "getTargetActivity options are since, until, actionType, limit and cursor";
        let q = own_fields(&options, &["since", "until"], OWN).and_then(|q| {
            if let Some(k) =
                [(q.category.is_some(), "category"), (q.user_uid.is_some(), "userUid"), (q.target.is_some(), "target")]
                    .iter()
                    .find(|f| f.0)
            {
                return Err(not_own(OWN, k.1));
            }
            crate::read::target_query(&non_empty(&label, "label")?, &non_empty(&uid, "uid")?, &q)
        });
        self.read(q.map(Call::Trail))
    }

    /// Reads the trail's chained events back and reports, per stream, the first broken link.
    /// Resolves `null` when the events could not be read (see `lastError`). In the entry
    /// `neo4j-audit/verify` only (cargo feature `verify`).
    #[cfg(feature = "verify")]
    #[wasm_bindgen(js_name = verifyTrail, unchecked_return_type = "Promise<AuditVerifyReport | null>")]
    pub fn verify_trail(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "AuditVerifyQuery")] query: JsValue,
    ) -> js_sys::Promise {
        let q = options(&query, &["since"]).and_then(|m| members(&m, VerifyQuery::from_members));
        self.read(q.map(Call::Verify))
    }

    /// In `neo4j-audit/read`: `verifyTrail` lives in the entry `neo4j-audit/verify` (the read
    /// entry leaves verification out: ~17 KB gz smaller). Resolves `null`, never throws, with
    /// `lastError` naming the entry to import, for code written when `neo4j-audit/read` had it.
    #[cfg(not(feature = "verify"))]
    #[wasm_bindgen(js_name = verifyTrail, unchecked_return_type = "Promise<null>")]
    pub fn verify_trail_elsewhere(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "unknown")] _query: JsValue,
    ) -> js_sys::Promise {
        self.read(Err(AuditError::InvalidInput(
            "verifyTrail is in the entry neo4j-audit/verify: import { AuditLogger } from \"neo4j-audit/verify\"".into(),
        )))
    }

    /// This logger's stream id and the hash of the last event it built (delivered or not):
    /// anchor it elsewhere to detect a rewritten trail. Client mode chains nothing (the Worker
    /// does): there `seq` stays null and `hash` the genesis value.
    #[wasm_bindgen(js_name = chainHead, unchecked_return_type = "AuditChainHead")]
    pub fn chain_head(&self) -> JsValue {
        let st = self.inner.chain_head();
        let mut text = String::from("{\"streamId\":");
        json::write_str(&mut text, &st.stream_id);
        text.push_str(",\"seq\":");
        match st.next_seq.checked_sub(1) {
            Some(n) => json::write_uint(&mut text, n),
            None => text.push_str("null"),
        }
        text.push_str(",\"hash\":");
        json::write_str(&mut text, &st.head);
        text.push('}');
        js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL)
    }
}

/// The rule of a two-valued setting (the Rust side's `rules::switch`), for tools that read
/// settings from the environment (the CLI's `NEO4J_ALLOW_INSECURE_HTTP`), so they accept exactly
/// what the Worker does: whether `value` is `otherValue` (any case, white space around it
/// ignored; unset or empty: `defaultValue`). Throws an `Error` naming the setting and its two
/// values, never the value.
#[wasm_bindgen(js_name = switchSetting)]
pub fn switch_setting(
    #[wasm_bindgen(unchecked_param_type = "string")] name: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | undefined | null")] value: &JsValue,
    #[wasm_bindgen(js_name = defaultValue, unchecked_param_type = "string")] default: &JsValue,
    #[wasm_bindgen(js_name = otherValue, unchecked_param_type = "string")] other: &JsValue,
) -> Result<bool, JsError> {
    // JS values, read here: a `&str` parameter handed a number (or nothing) reached
    // wasm-bindgen's string copy and trapped (`memory access out of bounds`).
    let (Some(name), Some(default), Some(other)) = (name.as_string(), default.as_string(), other.as_string()) else {
        return Err(JsError::new(
            "switchSetting(name, value, defaultValue, otherValue): name, defaultValue and otherValue must be strings",
        ));
    };
    let value = match value.as_string() {
        Some(v) => Some(v),
        None if value.is_null() || value.is_undefined() => None,
        // A value of another type is neither of the two: refused as a wrong text is.
        None => return Err(JsError::new(&crate::rules::switch_error(&name, &default, &other))),
    };
    crate::rules::switch(&name, value.as_deref(), &default, &other).map_err(|e| JsError::new(&e))
}

/// What a read method asks for, once its arguments are checked.
enum Call {
    /// A page of the trail (getAuditTrail, getUserActivity, getTargetActivity).
    Trail(TrailQuery),
    /// verifyTrail.
    #[cfg(feature = "verify")]
    Verify(VerifyQuery),
}

impl JsAuditLogger {
    /// The promise of every read method: one future type for all of them, boxed
    /// ([`super::resolving_boxed`]: no `future_to_promise` instance of its own in the .wasm). An argument error resolves `null`
    /// with it in `lastError`, as a failed read does. Filed in [`Reads`] while it runs, so that
    /// `close()` waits for it and `close(timeoutMs)`'s bound cancels it.
    fn read(&self, call: Result<Call, AuditError>) -> js_sys::Promise {
        // Admitted now, when it is called: its future first runs on a later microtask, after a
        // `close()` made right after this call (which then waits for it, as documented).
        let call = self.inner.open().and(call);
        let inner = self.inner.clone();
        let work = Box::pin(async move {
            let mut out = String::new();
            let res = match call {
                Ok(Call::Trail(q)) => inner
                    .trail_events(&q)
                    .await
                    .map(|(events, next)| js::write_page(&events, next.as_deref(), &mut out)),
                #[cfg(feature = "verify")]
                Ok(Call::Verify(q)) => inner.verify_all(q).await.map(|r| js::write_report(&r, &mut out)),
                Err(e) => Err(e),
            };
            resolve(&inner, res.map(|()| out))
        });
        let (reads, inner, cancel) = (self.reads.clone(), self.inner.clone(), Rc::new(Cancel::default()));
        let id = reads.next.get().wrapping_add(1);
        reads.next.set(id);
        let raced = crate::lite::select(work, Cancelled(cancel.clone()));
        let promise = super::resolving_boxed(Box::pin(crate::lite::map(raced, move |r| {
            reads.out.borrow_mut().retain(|r| r.0 != id);
            match r {
                crate::lite::Either::Left((v, _)) => v,
                // Cancelled by close()'s bound: its requests are aborted as `work` is dropped.
                crate::lite::Either::Right(_) => resolve(&inner, Err(AuditError::Timeout(reads.bound.get()))),
            }
        })));
        self.reads.out.borrow_mut().push((id, promise.clone(), cancel));
        promise
    }
}

/// A logger's reads in flight (`getAuditTrail`, `getUserActivity`, `getTargetActivity`,
/// `verifyTrail`). `close()` resolves only once they have ended too, and `close(timeoutMs)`
/// cancels those still out at its bound — their requests aborted, their calls `null` with
/// `timeout: no answer from Neo4j within <timeoutMs> ms` — as the native `close_within` does:
/// once `close()` resolved the logger holds no request (in Node a read in flight went on to its
/// own `timeoutMs` and kept the process alive that long, after close resolved `true`).
#[derive(Default)]
pub(super) struct Reads {
    next: std::cell::Cell<u32>,
    out: std::cell::RefCell<Vec<(u32, js_sys::Promise, Rc<Cancel>)>>,
    /// The bound that cancelled them (their calls' reason).
    bound: std::cell::Cell<std::time::Duration>,
}

impl Reads {
    /// `close(within)`'s promise: the delivery's `flushed` (`Promise<boolean>`), then the reads in
    /// flight ended — with `within` (ms, counted from now) those still out at the bound are
    /// cancelled, and close resolves `false` with their reason in `lastError`.
    pub(super) fn closing(
        reads: &Rc<Reads>,
        logger: &Rc<crate::AuditLogger>,
        flushed: js_sys::Promise,
        bound: Option<u64>,
    ) -> js_sys::Promise {
        use wasm_bindgen_futures::JsFuture;
        let end = bound.map(|ms| crate::event::steady_millis().saturating_add(ms as i64));
        let (reads, logger) = (reads.clone(), logger.clone());
        let ended = |out: &js_sys::Array, ms: f64| {
            let p = JsFuture::from(within(out, ms));
            async move { p.await.ok() == Some(JsValue::TRUE) }
        };
        super::resolving_boxed(Box::pin(async move {
            let ok = JsFuture::from(flushed).await.ok() == Some(JsValue::TRUE);
            let out: js_sys::Array = reads.out.borrow().iter().map(|r| JsValue::from(&r.1)).collect();
            let left = end.map_or(-1.0, |end| (end - crate::event::steady_millis()).max(0) as f64);
            if out.length() == 0 || ended(&out, left).await {
                return JsValue::from_bool(ok);
            }
            // The bound passed: those still out are cancelled, and close() waits for their calls.
            let d = std::time::Duration::from_millis(bound.unwrap_or_default());
            reads.bound.set(d);
            let out = js_sys::Array::new();
            for (_, promise, cancel) in reads.out.borrow().iter() {
                cancel.set.set(true);
                if let Some(w) = cancel.waker.take() {
                    w.wake();
                }
                out.push(promise);
            }
            ended(&out, -1.0).await;
            JsValue::from_bool(logger.record(Err(AuditError::Timeout(d))))
        }))
    }
}

/// Argument `what` of getUserActivity / getTargetActivity: a non-empty string (without lone
/// surrogates).
fn non_empty(v: &JsValue, what: &str) -> Result<String, AuditError> {
    super::details::js_text(v, what)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuditError::InvalidInput(cat(&[what, " must be a non-empty string"])))
}

/// `Ok(json)` → the host's `JSON.parse` of it, plain JS objects (lastError cleared); `Err` →
/// `null` (lastError set).
fn resolve(logger: &crate::AuditLogger, res: Result<String, AuditError>) -> JsValue {
    let res = res.and_then(|text| {
        js_sys::JSON::parse(&text).map_err(|_| AuditError::UnexpectedResponse("result conversion: not JSON".into()))
    });
    match res {
        Ok(v) => {
            logger.record(Ok(()));
            v
        }
        Err(e) => {
            logger.record(Err(e));
            JsValue::NULL
        }
    }
}

/// A read's cancellation by close()'s bound: set, and the read's task woken.
#[derive(Default)]
struct Cancel {
    set: std::cell::Cell<bool>,
    waker: std::cell::Cell<Option<std::task::Waker>>,
}

/// Ready once its [`Cancel`] is set.
struct Cancelled(Rc<Cancel>);

impl std::future::Future for Cancelled {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0.set.get() {
            return std::task::Poll::Ready(());
        }
        self.0.waker.set(Some(cx.waker().clone()));
        std::task::Poll::Pending
    }
}

/// getUserActivity's / getTargetActivity's options as a [`TrailQuery`]. An unknown key was
/// answered with getAuditTrail's field list (category, userUid, target...), which these calls
/// then refuse: the call's own list (`own`) instead.
fn own_fields(js: &JsValue, times: &[&str], own: &str) -> Result<TrailQuery, AuditError> {
    options(js, times).and_then(|m| members(&m, TrailQuery::from_members)).map_err(|e| match e {
        // `options` writes it as "options: unknown field …" (a prefix test: `contains` would bring
        // core's two-way substring search into the .wasm).
        AuditError::InvalidInput(m) if m.starts_with("options: unknown field") => {
            not_own(own, m.strip_prefix("options: ").and_then(js::unknown_trail_key).unwrap_or("?"))
        }
        e => e,
    })
}

/// Waits `ms` milliseconds (verifyTrail reading a stream with a gap again:
/// `AuditLogger::verify_all`) on the host's timer through src/wasm/settle.js (a little smaller
/// here than `transport::sleep_ms`'s closure and clearing on drop).
pub(crate) async fn delay_ms(ms: u64) {
    let _ = wasm_bindgen_futures::JsFuture::from(delay(ms as f64)).await;
}

/// `own` (the call's list of options) naming the key it refused.
fn not_own(own: &str, key: &str) -> AuditError {
    AuditError::InvalidInput(cat(&[own, "; got `", key, "`"]))
}

#[wasm_bindgen(module = "/src/wasm/settle.js")]
extern "C" {
    /// The own enumerable members of an options object as `[key, value, ...]`, `null` for an
    /// array, `false` for a Promise (any thenable), what was thrown as a string when it cannot be
    /// read (src/wasm/settle.js). Never throws.
    #[wasm_bindgen(js_name = optionMembers)]
    fn option_members(options: &JsValue) -> JsValue;

    /// Whether the promises `ps` (none rejects) all settle within `ms` (-1: no bound) (src/wasm/settle.js).
    fn within(ps: &js_sys::Array, ms: f64) -> js_sys::Promise;
    /// Resolves after `ms` milliseconds (src/wasm/settle.js).
    fn delay(ms: f64) -> js_sys::Promise;
    /// A Date's epoch milliseconds, Infinity for an Invalid Date, NaN for any other value
    /// (src/wasm/settle.js). Never throws.
    #[wasm_bindgen(js_name = dateTime)]
    fn date_time(v: &JsValue) -> f64;
}

/// The members of a JS options object (or `undefined`/`null`: none), for a `from_members`
/// ([`members`]): `null`/`undefined` members skipped, `times` (the keys holding instants: number
/// of ms, ISO string or Date) as epoch milliseconds, other numbers as non-negative integers,
/// strings, booleans, and structured values (verifyTrail's publicKeys) as plain JSON data.
fn options(js: &JsValue, times: &[&str]) -> Result<Vec<(String, Json)>, AuditError> {
    let bad = |m: String| AuditError::InvalidInput(m);
    let mut members = Vec::new();
    if !(js.is_undefined() || js.is_null()) {
        // Read by a function that catches: `Array.isArray`, `Object.keys` and a getter may throw
        // (a revoked or hostile Proxy), and these calls must resolve, never throw; a member that
        // cannot be read is refused, not taken as left out (its default).
        let read = if js.is_object() { option_members(js) } else { JsValue::NULL };
        if read.is_null() {
            return Err(bad("options must be an object".into()));
        }
        if read.as_bool() == Some(false) {
            return Err(bad("options must be an object, not a Promise (await it first)".into()));
        }
        if let Some(why) = read.as_string() {
            return Err(bad(cat(&[
                "options could not be read (a getter or Proxy threw: ",
                &crate::error::shown(&why),
                ")",
            ])));
        }
        let read: js_sys::Array = read.unchecked_into();
        for i in (0..read.length()).step_by(2) {
            let (k, v) = (read.get(i).as_string().unwrap_or_default(), read.get(i + 1));
            if v.is_undefined() || v.is_null() {
                continue;
            }
            let value = if times.contains(&k.as_str()) {
                // A number beyond a 64-bit count (1e300, 2 ** 63) was read as i64::MAX or
                // MIN and refused as that number, "epoch nanoseconds?", a value never given.
                if v.as_f64().is_some_and(|n| n.is_finite() && !(i64::MIN as f64..-(i64::MIN as f64)).contains(&n)) {
                    return Err(bad(cat(&[
                        &k,
                        " is out of range: epoch milliseconds must fit in a 64-bit integer (about 292 million years either side of 1970)",
                    ])));
                }
                let ms = instant(&v).ok_or_else(|| {
                    // A Date whose time is NaN (`new Date("next week")`) is a Date: say what is wrong with it.
                    if let Some(s) = v.as_string() {
                        // Text: say which (a new user met the generic rule for `2026-02-30`).
                        let rule = match (s.trim() == s, crate::read::calendar_date(&s)) {
                            (false, _) => " has white space around it (Date.parse reads \" 2026-01-01\" as local midnight, \"2026-01-01\" as UTC): give the time alone",
                            (true, false) => " is no day of the calendar",
                            (true, true) => " is not a date and time ISO 8601 reads (e.g. 2026-02-28 or 2026-02-28T12:00:00Z)",
                        };
                        let shown = crate::error::quoted(crate::outcome::first_chars(&s, 40));
                        return bad(cat(&[&k, " ", &shown, rule]));
                    }
                    let rule = match v.is_object() && date_time(&v) == f64::INFINITY {
                        true => " is an Invalid Date (its time is NaN: new Date() of text it could not read?)",
                        false => " must be epoch milliseconds, an ISO 8601 string or a Date",
                    };
                    bad(cat(&[&k, rule]))
                })?;
                // A number in another unit (epoch seconds, microseconds) is refused; a Date or an
                // ISO string is the instant it names.
                if v.as_f64().is_some() {
                    crate::read::check_epoch_millis(&k, ms)?;
                }
                Json::from(ms)
            } else if let Some(n) = v.as_f64() {
                if n.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&n) {
                    // No option takes it (`limit` is a whole number from 1, and the others no
                    // number at all): `-1` stands for it, so that `from_members` names what is
                    // wrong as for any other number (`{limit: -1}` as `{limit: 1e12}`, a mistyped
                    // `{lmit: -1}` as the unknown field it is: it read "lmit must be a
                    // non-negative integer").
                    Json::Num("-1".into())
                } else {
                    Json::from(n as u64)
                }
            } else if let Some(s) = super::details::js_text(&v, &crate::error::shown(&k))? {
                // A lone surrogate would become U+FFFD and filter for a different value.
                Json::Str(s)
            } else if let Some(b) = v.as_bool() {
                Json::Bool(b)
            } else if v.is_object() {
                // Structured options (verifyTrail's publicKeys, anchors): plain JSON data, nested
                // as deep as serde_json would read it, written by details.js `configToJson`, which
                // refuses what JSON would drop and a sparse array (an `anchors` array whose
                // `length` was set to 1e7 was written as 50 MB of `null`s and grew wasm memory by
                // hundreds of MB for good). No bound on the members: a nightly `--anchor` report
                // holds one anchor per stream of the trail, and a browser tab is a stream.
                let k = crate::error::shown(&k);
                let plain = || bad(cat(&[&k, " must be plain JSON data"]));
                let text = super::details::config_json(&v, f64::INFINITY, false).map_err(|m| {
                    match m.starts_with("invalid ") {
                        true => bad(cat(&[&k, ": ", &m])),
                        false => bad(cat(&[&k, " ", &m])),
                    }
                })?;
                json::parse(&text, 127).map_err(|_| plain())?
            } else {
                return Err(bad(cat(&[&crate::error::shown(&k), " must be a string or a number"])));
            };
            members.push((k, value));
        }
    }
    Ok(members)
}

/// An options object's members, as `from` reads them.
type Members = [(String, Json)];

/// The options read by `from`, which refuses unknown keys.
fn members<T>(m: &Members, from: fn(&Members) -> Result<T, String>) -> Result<T, AuditError> {
    from(m).map_err(|e| AuditError::InvalidInput(cat(&["options: ", &e])))
}

fn instant(v: &JsValue) -> Option<i64> {
    let ms = if let Some(n) = v.as_f64() {
        n
    } else if let Some(s) = v.as_string() {
        // White space around it: V8's Date.parse read " 2026-01-01" (a form field's stray space,
        // a file's line break) as local midnight, where "2026-01-01" is UTC midnight, and moved
        // the window by the host's offset without a word. Refused, as the CLI refuses it.
        if !crate::read::calendar_date(&s) || s.trim() != s {
            return None;
        }
        js_sys::Date::parse(&s)
    } else if v.is_object() {
        // Not js_sys's `instanceof Date` and `getTime()`: a Proxy of a Date passes the first, and
        // the second then threw out of the call (which must resolve, never throw).
        date_time(v)
    } else {
        return None;
    };
    (ms.is_finite() && ms.fract() == 0.0).then_some(ms as i64)
}
