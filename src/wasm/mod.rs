//! The JavaScript surface: a thin shell that converts JS values, calls [`crate::AuditLogger`] and
//! turns every outcome into a resolved `Promise<boolean>`. No audit logic lives here.

#[cfg(all(feature = "bench", not(feature = "worker")))]
mod bench;
#[cfg(not(feature = "worker"))]
mod config;
#[cfg(not(feature = "worker"))]
mod details;
#[cfg(not(feature = "worker"))]
mod drive;
#[cfg(all(feature = "read", not(feature = "worker")))]
mod read;
#[cfg(all(feature = "read", not(feature = "worker")))]
pub(crate) use read::delay_ms;
#[cfg(not(feature = "worker"))]
mod stream;
#[cfg(feature = "ingest")]
pub mod worker;

#[cfg(not(feature = "worker"))]
use std::rc::Rc;

#[cfg(not(feature = "worker"))]
use wasm_bindgen::prelude::*;

#[cfg(not(feature = "worker"))]
use crate::error::AuditError;
#[cfg(not(feature = "worker"))]
use crate::event::{AuditEvent, LogOptions};
#[cfg(not(feature = "worker"))]
use crate::{AuditLogger, Config};

#[cfg(not(feature = "worker"))]
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Configuration of an {@link AuditLogger}. Each member may be left out or `undefined` (the
 *  default; a missing url or password is refused with a reason): `process.env.X` fits as it is,
 *  also under `exactOptionalPropertyTypes`. */
export interface AuditConfig {
  /** Neo4j HTTP base URL, e.g. "http://127.0.0.1:7474". Omit it in client mode (`endpoint`). */
  url?: string | undefined;
  /** Client mode: the ingest Worker's /v1/events URL. Events go there with `token` (the user's
   *  JWT) as bearer, through the same batching, retries and queue; the Worker takes the user from
   *  the token (the `user` argument is not sent). Exclusive with url/username/password. */
  endpoint?: string | undefined;
  /** Database name, default "neo4j". */
  database?: string | undefined;
  /** Basic auth user (with password). */
  username?: string | undefined;
  password?: string | undefined;
  /** Bearer token (SSO / Aura); exclusive with username/password. */
  token?: string | undefined;
  /** "tx" (default): /db/{db}/tx/commit; "query": Query API /db/{db}/query/v2. */
  api?: "tx" | "query" | undefined;
  /** AuditTrail name, default "default". Client mode (endpoint): not sent, the Worker writes into
   *  its own trail (AUDIT_TRAIL); like database, api and labels it only scopes the queue there. */
  trail?: string | undefined;
  /** Whole-request bound in ms, default 10000. */
  timeoutMs?: number | undefined;
  /** Bound on the serialised details in bytes, default 65536. */
  maxDetailsBytes?: number | undefined;
  /** Node labels, each an identifier, all three different; defaults AuditEvent, AuditTrail, User. */
  labels?: { event?: string | undefined; trail?: string | undefined; user?: string | undefined } | undefined;
  /** Retries of network errors, timeouts, HTTP 408, 429, 500, 502, 503, 504 (and a CDN's 520-524)
   *  and Neo.TransientError (never 501, 505 or another 4xx/5xx no retry cures): exponential backoff
   *  with full jitter. Defaults: maxAttempts 6, maxElapsedMs 30000, baseDelayMs 100, maxDelayMs 5000.
   *  Each attempt is one write request; a first write whose schema check Neo4j refuses goes again
   *  after the schema step as the same attempt, once per logger (docs/delivery.md, Retries). */
  retry?: { maxAttempts?: number | undefined; maxElapsedMs?: number | undefined; baseDelayMs?: number | undefined; maxDelayMs?: number | undefined } | undefined;
  /** Events per request. Defaults: maxEvents 1000, maxBytes 1048576 (a batch takes what waits, up
   *  to these bounds: a lone event goes alone), flushIntervalMs 0 (events arriving while requests
   *  are in flight form the next batch), maxInFlight 4 (requests at once; not in Cloudflare
   *  Workers, where each call's request leaves from its own Worker request at once). Client mode
   *  sends at most 100 events per request (the Worker's bound). */
  batch?: { maxEvents?: number | undefined; maxBytes?: number | undefined; flushIntervalMs?: number | undefined; maxInFlight?: number | undefined } | undefined;
  /** Durable queue: IndexedDB in browsers, memory in Workers/Node. Events are filed under the
   *  logger's identity (the token's subject, or the Neo4j user) and only ever sent under it; any
   *  event older than maxAgeMs is removed (stats().expired). Defaults: enabled true,
   *  maxEvents 10000, maxBytes 8388608, maxAgeMs 604800000 (7 days), name "neo4j-audit". */
  queue?: { enabled?: boolean | undefined; maxEvents?: number | undefined; maxBytes?: number | undefined; maxAgeMs?: number | undefined; name?: string | undefined } | undefined;
  /** "committed" (default): logUserAction resolves true once Neo4j committed the event;
   *  "queued": once it is stored in IndexedDB (browsers; delivery continues in the background).
   *  Where there is no IndexedDB (Node, Workers: a memory queue) "queued" answers as "committed":
   *  true once committed, false when the commit failed (the event stays in the memory queue). */
  delivery?: "committed" | "queued" | undefined;
  /** Keys whose values in details become "[REDACTED]" before the event is hashed or sent.
   *  Default: the library's list (password, secret, token, apiKey, cookie, ...); [] turns it off. */
  redact?: string[] | undefined;
  /** "words" (default): a listed name matches keys that contain its words (password catches
   *  newPassword, db_password; apiKey catches x-api-key); "exact": only the name itself. */
  redactMatch?: "words" | "exact" | undefined;
  /** Accept a plain http:// url/endpoint whose host is not loopback (default false). Without it
   *  such a URL is refused at construction: the password or token would cross the network in
   *  cleartext, and events written over cleartext can be altered or forged in transit (so it is
   *  refused without credentials too). https:// and loopback http:// (localhost,
   *  127.0.0.0/8, [::1]; not *.localhost) need no opt-out. Set it only for a trusted private network. */
  allowInsecureHttp?: boolean | undefined;
}

/** The argument of {@link AuditLogger.setCredentials}: the constructor's members, of the kind the
 *  logger was made with (`username` + `password`, or `token`; never both kinds) and for the same
 *  identity. */
export type AuditCredentials =
  | { username: string; password: string; token?: undefined }
  | { token: string; username?: undefined; password?: undefined };

/** Delivery counters of one logger (`queued` is the current backlog; the rest are totals). */
export interface AuditStats {
  sent: number;
  committed: number;
  failed: number;
  retried: number;
  queued: number;
  dropped: number;
  /** Events the endpoint rejected for good, moved to deadLetters(). */
  deadLettered: number;
  /** Queued events removed because they waited longer than queue.maxAgeMs. */
  expired: number;
}

/** An event the endpoint rejected for good, kept with the reason (see deadLetters()). */
export interface AuditDeadLetter {
  /** The event as it was queued: `details` as JSON text, `occurredAt` (its birth time, ms) and
   *  `targets` (absent when it had none). The chain fields (`streamId`, `seq`, `prevHash`,
   *  `hash`) are null: in client mode the Worker chains the events it stores, not the page. */
  event: { UID: string; eventType: string; eventCategory: string; ts: number; userUID: string | null;
           userName: string | null; details: string | null; streamId: string | null; seq: number | null;
           prevHash: string | null; hash: string | null; source: "client" | "worker"; occurredAt: number | null;
           targets?: { label: string; uid: string; role: string | null }[] };
  reason: string;
  /** When it was rejected, ms since the epoch. */
  at: number;
}

/** What an action was performed on: a node `(:label {UID: uid})` of the application's graph.
 *  Linked as `(event)-[:ON {role}]->(node)` when the node exists; always recorded in the event's
 *  `targetKeys`. `label` is an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters). */
export interface AuditTarget {
  label: string;
  uid: string;
  /** What the node was to the action ("subject", "parent", ...), characters of actionType. */
  role?: string | null | undefined;
}

/** The last argument of logUserAction. */
export interface AuditLogOptions {
  /** At most 16, no (label, uid) twice. */
  targets?: AuditTarget[] | undefined;
}

/** The acting user: the seed's DocUser. */
export interface AuditUser {
  uid: string;
  name?: string | null | undefined;
}

/** The details argument of logUserAction: an object whose own properties become the event's
 *  `details` JSON (an object literal, or a value of an interface or class type). An array, Map or
 *  Set is refused here by the type, as at run time (`false`, "details must be an object"), and so
 *  is a Promise (a call without `await` on what gives the details: "… not a Promise"). */
export type AuditDetails = { readonly [key: string]: unknown } | (object & { readonly [Symbol.iterator]?: never; readonly then?: never });
"#;

/// Writes audit events into Neo4j. Every method resolves; none rejects.
#[cfg(not(feature = "worker"))]
#[wasm_bindgen(js_name = AuditLogger)]
pub struct JsAuditLogger {
    inner: Rc<AuditLogger>,
    /// The delivery machine and its JS driver (src/wasm/drive.rs), with the durable queue
    /// (`queue.enabled`, the default; IndexedDB in browsers, memory elsewhere) or without.
    shell: drive::Shell,
    /// The reads in flight, which `close()` waits for and its bound cancels (src/wasm/read.rs).
    #[cfg(all(feature = "read", not(feature = "worker")))]
    reads: Rc<read::Reads>,
}

/// `free()`, `[Symbol.dispose]()` (wasm-bindgen's), or the garbage collector releasing an
/// unreachable logger: events the durable queue still holds (a failed attempt waiting for its
/// background re-send, which holds the queue only weakly) are sent once more, in the background
/// (one `flush()`, not awaited), instead of being forgotten with the queue. What that flush cannot
/// deliver is lost in Node and Workers (memory queue) and stays in IndexedDB in browsers for the
/// next logger. Calls already made finish on their own (they hold the logger).
/// A logger `close()` was called on sends nothing more when freed: what its close left waits
/// for the next logger (IndexedDB) or is gone with it (memory), as `close()` answered `false`.
#[cfg(not(feature = "worker"))]
impl Drop for JsAuditLogger {
    fn drop(&mut self) {
        if self.inner.config().queue.enabled && self.inner.open().is_ok() && self.inner.stats().queued > 0 {
            let _ = self.shell.flush(None, true);
        }
    }
}

/// `close(timeoutMs)`'s bound: none (`undefined`, `null`), or milliseconds from 0 to 24 h, a
/// fraction dropped (1.5 is 1 ms: rounded down, as the Rust API's `close_within`, so that the
/// bound is never passed; rounded up, `close(1.5)` took 2 ms). Anything else is refused with
/// what it was (a negative number, `NaN`, `Infinity`, more than 24 h, not a number).
#[cfg(not(feature = "worker"))]
fn close_bound(v: &JsValue) -> Result<Option<u64>, AuditError> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let got = match v.as_f64() {
        Some(ms) if (0.0..=86_400_000.0).contains(&ms) => return Ok(Some(ms as u64)),
        Some(ms) if ms.is_nan() => "NaN",
        Some(ms) if ms < 0.0 => "a negative number",
        Some(ms) if ms.is_infinite() => "Infinity (for no bound, call close() without one)",
        Some(_) => "more than 86400000 (24 h)",
        None => "not a number",
    };
    Err(AuditError::InvalidInput(crate::error::cat(&[
        "close(timeoutMs): a number of milliseconds from 0 to 86400000 (a fraction is dropped), or none; got ",
        got,
        "; the logger stays open",
    ])))
}

/// The constructor's `Error` where the host refuses random numbers (the Workers build).
#[cfg(all(feature = "memory-queue", not(feature = "worker")))]
const NO_RANDOM: &str = "no random numbers here (crypto.getRandomValues refused): in a Cloudflare Worker, make the \
     AuditLogger while handling a request, not at the module's top level: in fetch(), e.g. `logger ??= new AuditLogger(config)`";

#[cfg(not(feature = "worker"))]
#[wasm_bindgen(js_class = AuditLogger)]
impl JsAuditLogger {
    /// Validates the configuration; throws an `Error` saying what is wrong (and only here).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "AuditConfig")] config: JsValue,
    ) -> Result<JsAuditLogger, JsError> {
        // Its stream's id and the events' UIDs are random: where the host refuses random numbers
        // (a Cloudflare Worker's top level), say so and what to do, rather than trap later. In
        // the Workers build only (`memory-queue`): browsers and Node never refuse them, and the
        // message would cost the write entry ~190 B gz.
        #[cfg(feature = "memory-queue")]
        crate::random::ready().map_err(|_| JsError::new(NO_RANDOM))?;
        let logger = logger_from_js(config).map_err(|e| JsError::new(&e.message()))?;
        let queue = logger.config().queue.enabled;
        Ok(JsAuditLogger::with(logger, queue))
    }

    /// Logs one action. Resolves `true` once the event is delivered as `delivery` says: with
    /// `"committed"` (the default) when Neo4j committed it and its relationships (in client mode,
    /// when the Worker answered that it stored it), with `"queued"` when it is in the durable
    /// queue; `false` otherwise, with the reason in `lastError`. Never rejects.
    #[wasm_bindgen(js_name = logUserAction, unchecked_return_type = "Promise<boolean>")]
    pub fn log_user_action(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AuditUser | null | undefined")] user: JsValue,
        #[wasm_bindgen(js_name = actionType, unchecked_param_type = "string")] action_type: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] category: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "AuditDetails | null")] details: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "AuditLogOptions | null")] options: JsValue,
    ) -> js_sys::Promise {
        let inner = &self.inner;
        // Born here (rules, redaction, UID, time, chain), synchronously, in call order; then into
        // the machine, still in the call: an event it refuses (closed, the queue full) is the
        // stream's head yet, and its seal is taken back, so it takes no `seq`.
        let res =
            event_from_js(inner, &user, &action_type, &category, &details, &options).and_then(|ev| self.shell.log(ev));
        match res {
            Ok(promise) => promise,
            // Refused input: recorded and answered now; nothing waits.
            Err(e) => self.shell.refused(e),
        }
    }

    /// Creates the constraints and indexes (idempotent). Resolves `true` when all are in place.
    #[wasm_bindgen(js_name = ensureSchema, unchecked_return_type = "Promise<boolean>")]
    pub fn ensure_schema(&self) -> js_sys::Promise {
        // The delivery machine's schema step, as a call (its outcome and lastError as a log
        // call's).
        match self.shell.ensure_schema() {
            Ok(promise) => promise,
            Err(e) => self.shell.refused(e),
        }
    }

    /// Why the most recent call that resolved `false` failed, or a background re-send of queued
    /// events. Cleared by a success of a call made after it (not by a batch-mate's), by a
    /// `flush()` that leaves nothing undelivered and by a background re-send that delivers every
    /// event it re-sent (each unless a failure came after it began). Never holds the password or
    /// token.
    #[wasm_bindgen(getter, js_name = lastError, unchecked_return_type = "string | undefined")]
    pub fn last_error_js(&self) -> JsValue {
        js_opt_str(self.inner.last_error())
    }

    /// Sends what is waiting and re-sends what the queue holds: with IndexedDB it first reads the
    /// store again for this logger's target and identity, so records another tab left there (one
    /// that logged while Neo4j was down and was then closed) are sent too. Resolves once every
    /// event logged before it has its outcome, those read from the store included (calls made
    /// meanwhile do not hold it back): `true` when none of those is left undelivered. Never
    /// rejects.
    #[wasm_bindgen(unchecked_return_type = "Promise<boolean>")]
    pub fn flush(&self) -> js_sys::Promise {
        self.shell.flush(None, false)
    }

    /// Refuses every call made from now on (events, `ensureSchema`, reads resolve `false`/`null`
    /// with a `closed:` reason, also while this flush runs), then delivers what was logged before
    /// it: resolves `true` when nothing is left undelivered, once the reads in flight have ended
    /// too. With `timeoutMs`, resolves within it: what is still under way then is given up on
    /// (its calls resolve `false`, the reads `null`, `timeout:`). Never rejects.
    #[wasm_bindgen(js_name = close, unchecked_return_type = "Promise<boolean>")]
    pub fn close_within(
        &self,
        #[wasm_bindgen(js_name = timeoutMs, unchecked_optional_param_type = "number | null")] timeout_ms: JsValue,
    ) -> js_sys::Promise {
        let within = match close_bound(&timeout_ms) {
            Ok(w) => w,
            Err(e) => return self.shell.refused(e),
        };
        // At once, not when the flush starts: a call made right after close() is refused before
        // it takes a place in the hash chain.
        self.inner.refuse_new();
        let flushed = self.shell.flush(Some(within), false);
        #[cfg(all(feature = "read", not(feature = "worker")))]
        let flushed = read::Reads::closing(&self.reads, &self.inner, flushed, within);
        flushed
    }

    /// Replaces the credentials of this live logger (a rotated password, a refreshed token):
    /// `{username, password}` or `{token}`, checked as the constructor checks them, of the kind
    /// the logger was made with and of its identity (the Neo4j user; the token's `sub` and
    /// lasting claims). Requests made from now on carry them; events a refused login left
    /// waiting are re-sent at once in the background. `true` when taken; else `false` with the
    /// reason in `lastError`, nothing changed. Never throws (but after `free()`).
    #[wasm_bindgen(js_name = setCredentials)]
    pub fn set_credentials(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AuditCredentials")] credentials: JsValue,
    ) -> bool {
        let res = config::credentials_from_js(&credentials)
            .and_then(|c| self.inner.set_credentials(c, crate::config::Spelling::Js));
        match res {
            Ok(()) => {
                self.shell.credentials_changed();
                true
            }
            Err(e) => self.shell.refused_now(e),
        }
    }

    /// Removes this identity's events not on the wire (queued, in the batch buffer, between two
    /// attempts), their stored records and its dead letters (call it on sign-out, after
    /// `flush()`); a call waiting for a removed event resolves `false` (`removed by
    /// clearQueue()`). An event in a request in flight finishes that request and is never sent
    /// again. Resolves with the number of events removed (counted in `stats().dropped`). Never
    /// rejects.
    #[wasm_bindgen(js_name = clearQueue, unchecked_return_type = "Promise<number>")]
    pub fn clear_queue(&self) -> js_sys::Promise {
        self.shell.clear()
    }

    /// The events the endpoint rejected for good (this target and identity), oldest first, each
    /// with the reason. Never rejects.
    #[wasm_bindgen(js_name = deadLetters, unchecked_return_type = "Promise<AuditDeadLetter[]>")]
    pub fn dead_letters(&self) -> js_sys::Promise {
        self.shell.dead_letters()
    }

    /// Set when Neo4j refused the schema statements (a role without schema rights): writes go on
    /// without the constraints and indexes, and this says why.
    #[wasm_bindgen(getter, js_name = schemaWarning, unchecked_return_type = "string | undefined")]
    pub fn schema_warning_js(&self) -> JsValue {
        js_opt_str(self.inner.schema_warning())
    }

    /// Delivery counters: `{sent, committed, failed, retried, queued, dropped, deadLettered, expired}`.
    #[wasm_bindgen(unchecked_return_type = "AuditStats")]
    pub fn stats(&self) -> JsValue {
        let s = self.inner.stats();
        // The object made by the host from the eight counters (one crossing, no JSON text).
        let n = |v: u64| v as f64;
        details::stats_object(
            n(s.sent),
            n(s.committed),
            n(s.failed),
            n(s.retried),
            n(s.queued),
            n(s.dropped),
            n(s.dead_lettered),
            n(s.expired),
        )
    }
}

/// The getters' values for Rust callers (the wasm-bindgen tests).
#[cfg(not(feature = "worker"))]
impl JsAuditLogger {
    fn with(logger: AuditLogger, queue: bool) -> JsAuditLogger {
        JsAuditLogger {
            inner: Rc::new(logger.clone()),
            shell: drive::Shell::new(logger, queue),
            #[cfg(all(feature = "read", not(feature = "worker")))]
            reads: Rc::default(),
        }
    }

    /// `lastError`.
    pub fn last_error(&self) -> Option<String> {
        self.inner.last_error()
    }

    /// `schemaWarning`.
    pub fn schema_warning(&self) -> Option<String> {
        self.inner.schema_warning()
    }

    /// `close()` with no bound.
    pub fn close(&self) -> js_sys::Promise {
        self.close_within(JsValue::UNDEFINED)
    }
}

/// `undefined` or the JS string (made in wasm: wasm-bindgen's `Option<String>` return gives each
/// getter its own decode-and-free code in the glue).
#[cfg(not(feature = "worker"))]
fn js_opt_str(s: Option<String>) -> JsValue {
    s.map_or(JsValue::UNDEFINED, |s| JsValue::from_str(&s))
}

/// One-shot form: builds a logger from `config` and logs one action. Never rejects; an invalid
/// configuration resolves `false`. It keeps no `lastError`: for the reason of a `false`, make an
/// `AuditLogger`.
#[cfg(not(feature = "worker"))]
#[wasm_bindgen(js_name = logUserAction, unchecked_return_type = "Promise<boolean>")]
pub fn log_user_action(
    #[wasm_bindgen(unchecked_param_type = "AuditConfig")] config: JsValue,
    #[wasm_bindgen(unchecked_param_type = "AuditUser | null | undefined")] user: JsValue,
    #[wasm_bindgen(js_name = actionType, unchecked_param_type = "string")] action_type: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "string | null")] category: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "AuditDetails | null")] details: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "AuditLogOptions | null")] options: JsValue,
) -> js_sys::Promise {
    match logger_from_js(config) {
        // The one-shot form keeps no queue: its result is always the commit's.
        Ok(logger) => JsAuditLogger::with(logger, false).log_user_action(user, action_type, category, details, options),
        Err(_) => js_sys::Promise::resolve(&JsValue::FALSE),
    }
}

/// A `Promise` that `fut` resolves (for calls that never reject), for calls that may wait long
/// in large numbers (see bench/memory.mjs) and come by the thousand (bench/throughput.mjs). The
/// promise is made in the host (src/wasm/settle.js) with its resolve function kept in a numbered
/// slot there, and `fut`'s value goes back by that number: per call no closure crosses, no JS
/// function is held in wasm's externref table, and nothing calls into JS through the glue's
/// exception handler (what `Promise::new` and `resolve.call1` cost; `future_to_promise` also kept
/// a `reject`). It wraps `fut` with `map` instead of an `async` block that awaits it: such a
/// block keeps room for the captured future *and* for the future being awaited, so the task
/// would hold `fut`'s size twice. Only the read methods return such promises now (the write
/// path's calls are answered by the JS driver, src/wasm/driver.js).
#[cfg(all(feature = "read", not(feature = "worker")))]
fn resolving(fut: impl std::future::Future<Output = JsValue> + 'static) -> js_sys::Promise {
    let k = SLOTS.with(|s| {
        let mut s = s.borrow_mut();
        s.1.pop().unwrap_or_else(|| {
            s.0 += 1;
            s.0 - 1
        })
    });
    let promise = promise_at(k);
    wasm_bindgen_futures::spawn_local(crate::lite::map(fut, move |v| {
        settle(k, &v);
        SLOTS.with(|s| s.borrow_mut().1.push(k));
    }));
    promise
}

#[cfg(all(feature = "read", not(feature = "worker")))]
#[wasm_bindgen(module = "/src/wasm/settle.js")]
extern "C" {
    /// A pending promise whose resolve function slot `k` keeps (src/wasm/settle.js).
    #[wasm_bindgen(js_name = promiseAt)]
    fn promise_at(k: u32) -> js_sys::Promise;
    /// Resolves slot `k`'s promise with `value` and empties the slot. Never throws.
    fn settle(k: u32, value: &JsValue);
}

#[cfg(all(feature = "read", not(feature = "worker")))]
thread_local! {
    /// The slots of src/wasm/settle.js: the number of slots ever used, and those given back.
    static SLOTS: std::cell::RefCell<(u32, Vec<u32>)> = const { std::cell::RefCell::new((0, Vec::new())) };
}

/// [`resolving`] for the read methods: one instance of the promise code for all of them instead
/// of one per future type (each `future_to_promise` instance was about 1 KB of the .wasm).
#[cfg(all(feature = "read", not(feature = "worker")))]
fn resolving_boxed(fut: std::pin::Pin<Box<dyn std::future::Future<Output = JsValue>>>) -> js_sys::Promise {
    resolving(fut)
}

#[cfg(not(feature = "worker"))]
fn logger_from_js(config: JsValue) -> Result<AuditLogger, AuditError> {
    let cfg: Config = config::from_js(&config)?;
    // The validation's refusals quote values too (`http:// would send the password unencrypted
    // to "<host>"`): never the password or token.
    let secrets = cfg.secrets();
    // In browsers the hash chain's stream continues across reloads (sessionStorage).
    AuditLogger::from_js_config(cfg)
        .map(|mut l| {
            stream::attach(&mut l);
            l
        })
        .map_err(|e| config::scrubbed(e, &secrets))
}

#[cfg(not(feature = "worker"))]
fn event_from_js(
    logger: &AuditLogger,
    user: &JsValue,
    action_type: &JsValue,
    category: &JsValue,
    details: &JsValue,
    options: &JsValue,
) -> Result<AuditEvent, AuditError> {
    let read = || -> Result<_, AuditError> {
        // Its strings in one crossing, checked by the host on the way (details.js eventText).
        let (user, action_type, category, details) =
            details::call_text(user, action_type, category, details, &logger.limits())?;
        Ok((user, action_type, category, details, options_from_js(options)?))
    };
    // Refused here (wrong types, details JSON cannot carry): a failed call like those the
    // builder refuses, so `stats().failed` counts it too.
    let (user, action_type, category, details, options) = read().inspect_err(|_| logger.counters().add_failed(1))?;
    // The logger's one place where events are born: redaction, validation, hash chain.
    logger.build_event_json_owned(user, action_type, category, details, options)
}

/// `logUserAction`'s last argument: `undefined`/`null`, or `{targets?: AuditTarget[]}` read as
/// the host's `JSON.stringify` gives it (one string crosses into wasm, parsed by the write path's
/// own JSON reader; see [`LogOptions::from_json`]). Unknown keys are refused (a misspelt option
/// must not be ignored silently); the targets' rules are checked by the logger.
#[cfg(not(feature = "worker"))]
fn options_from_js(options: &JsValue) -> Result<LogOptions, AuditError> {
    if options.is_undefined() || options.is_null() {
        return Ok(LogOptions::default());
    }
    options_from_object(options)
}

/// [`options_from_js`] for given options, out of line: a call without options (a Worker's
/// usual first event) never runs it, and V8 compiles a wasm function whole on its first call,
/// so inlined into `logUserAction` it was compiled for nothing.
#[cfg(not(feature = "worker"))]
#[inline(never)]
fn options_from_object(options: &JsValue) -> Result<LogOptions, AuditError> {
    let bad = |m: &str| AuditError::InvalidInput(m.to_owned());
    let not_object = || bad("options must be an object such as {targets: [...]}");
    if !options.is_object() {
        return Err(not_object());
    }
    // JSON.stringify escapes a lone surrogate, which the reader then refuses. It runs first and
    // catches: `Array.isArray` throws on a revoked Proxy, and this call must not throw. Through
    // details.js `configToJson`: a member JSON would drop or turn into `null` (a `role` or
    // `targets` that is NaN, a function, a Symbol) is refused, not read as "not given" (a target
    // stored without its role, an event without its targets, `true`).
    let text =
        details::config_json(options, details::CONFIG_MEMBERS, false).map_err(|m| match m.starts_with("invalid ") {
            true => AuditError::InvalidInput(crate::error::cat(&["options: ", &m])),
            false => AuditError::InvalidInput(crate::error::cat(&["options ", &m])),
        })?;
    if text.starts_with('[') {
        return Err(not_object());
    }
    let tree = crate::json::parse(&text, 4).map_err(|e| match e {
        crate::json::ParseError::LoneSurrogate => crate::rules::lone_surrogate("options").into(),
        _ => bad("options must be plain data: {targets: [{label, uid, role?}]}"),
    })?;
    LogOptions::from_json(&tree)
}
