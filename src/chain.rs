//! Tamper evidence: every event of a logger's stream carries `seq`, `prevHash` and
//! `hash = SHA-256(canonical(event) ‖ prevHash)`, set when the event is built, in call order.
//!
//! The canonical encoding (specified in docs/tamper-evidence.md) is the UTF-8 bytes of the
//! compact JSON array
//!
//! ```text
//! ["neo4j-audit/chain/v1", streamId, seq, UID, eventType, eventCategory, ts, userUID, userName, details]
//! ```
//!
//! (absent fields are `null`; `seq` and `ts` are integers; strings escaped as `JSON.stringify`
//! does), followed by the 64 ASCII hex digits of `prevHash`. The first event of a stream has
//! `seq = 0` and `prevHash` = 64 zeros ([`GENESIS`]).
//!
//! An event with targets is sealed in version 2 ([`canonical_v2`]: version 1's elements, then
//! `source`, `occurredAt` and `[[label, uid, role], …]`); events without keep version 1, so both
//! verify side by side ([`verify_hash`]).
//!
//! [`Verifier`] re-reads a stream in `seq` order and reports the first broken link.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{cat, num};
use crate::event::AuditEvent;
use crate::sha::Sha256;

/// `prevHash` of the first event of every stream.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// First element of the canonical array: names the encoding, so it can evolve.
pub const CHAIN_VERSION: &str = "neo4j-audit/chain/v1";
/// Version 2 of the canonical encoding: version 1's fields followed by `source` and
/// `occurredAt` (the ingest Worker's signed stream), and by the targets when the event has any.
pub const CHAIN_VERSION_2: &str = "neo4j-audit/chain/v2";

/// The largest `seq` a stream hands out: JavaScript's largest exact integer (`chainHead()`'s
/// `seq` is a Number there), far below what Neo4j stores as an integer (`i64::MAX`; a larger
/// one it refuses for good). A stream state beyond it (a saved state corrupted or written by
/// hand) is not resumed: [`crate::AuditLoggerBuilder::build`] refuses it, a [`StreamStore`]'s
/// is not followed, and a browser's saved one is dropped for a new stream.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// Where a stream stands: its id, the `seq` the next event gets, and the hash of the last event
/// built (the head). This is what must survive a reload for the chain to continue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamState {
    /// The stream's id (a v4 UUID), stored on each event as `streamId`.
    pub stream_id: String,
    /// The `seq` the next event of the stream gets.
    pub next_seq: u64,
    /// `hash` of the last event built (64 hex digits), [`GENESIS`] before the first.
    pub head: String,
}

impl StreamState {
    /// As JSON text (`{"streamId":…,"nextSeq":…,"head":…}`, what `Serialize` gives), written
    /// directly: a browser saves it per event.
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))] // the browser's stores
    pub(crate) fn to_json(&self) -> String {
        use crate::json::{write_str, write_uint};
        let mut out = String::with_capacity(self.stream_id.len() + self.head.len() + 48);
        out.push_str("{\"streamId\":");
        write_str(&mut out, &self.stream_id);
        out.push_str(",\"nextSeq\":");
        write_uint(&mut out, self.next_seq);
        out.push_str(",\"head\":");
        write_str(&mut out, &self.head);
        out.push('}');
        out
    }

    /// The state [`StreamState::to_json`] wrote.
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))] // the browser's stores
    pub(crate) fn from_json(text: &str) -> Option<StreamState> {
        use crate::json::Json;
        let v = crate::json::parse(text, 2).ok()?;
        Some(StreamState {
            stream_id: v.get("streamId")?.as_str()?.to_owned(),
            next_seq: v.get("nextSeq")?.as_u64()?,
            head: v.get("head").and_then(Json::as_str)?.to_owned(),
        })
        .filter(StreamState::resumable)
    }

    /// Whether a stream may go on from this state: its next `seq` is at most [`MAX_SEQ`] and its
    /// head is a hash ([`StreamState::head_is_hash`]).
    pub fn resumable(&self) -> bool {
        self.next_seq <= MAX_SEQ && self.head_is_hash()
    }

    /// Whether `head` is a hash as the chain writes one: 64 lower-case hex digits ([`GENESIS`]
    /// before the first event). Any other text (a corrupted or hand-written state) would be the
    /// next event's `prevHash`, a link that matches no event of the stream.
    pub fn head_is_hash(&self) -> bool {
        self.head.len() == 64 && self.head.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    /// A new stream with a fresh v4 UUID, before its first event.
    pub fn fresh() -> Self {
        StreamState { stream_id: crate::random::uuid_v4(), next_seq: 0, head: GENESIS.into() }
    }

    /// A new stream of trail `trail`, before its first event: its id ([`trail_stream_id`]) binds
    /// it to the trail's name, so its events moved into another trail (or the trail renamed) no
    /// longer verify there, unless someone re-hashes the whole stream under a new id.
    pub fn for_trail(trail: &str) -> Self {
        StreamState { stream_id: trail_stream_id(trail), next_seq: 0, head: GENESIS.into() }
    }
}

/// Keeps a stream's state across restarts. The in-memory default keeps nothing (a new logger is
/// a new stream); a browser implementation stores it beside the durable queue.
///
/// The store is read before and written after every event, synchronously, so that several
/// loggers sharing one store (two loggers of one trail in a tab, or a tab after a reload)
/// continue one chain instead of forking it. Natively the read, the chaining and the write are
/// one step for all the loggers of a process that have a store, whatever their threads; loggers
/// of two processes sharing a store (a file) would fork the stream (`inserted`): give each
/// process a stream of its own. `load` and `save` run inside that step, under the stream's own
/// lock: they may chain events of other streams (another logger's), but must not use their own
/// (chain an event of it, or read its head: that waits for itself, forever). As that step is
/// one for the whole process, each `load` and `save` delays every logger of the process that
/// has a store: a store that waits on the network or an `fsync` slows them all (a state saved
/// later, in the background, is no way out: a restart would resume from an older head and give
/// out its `seq`s again, a fork).
///
/// A stream belongs to one trail (its id binds it to the trail's name): natively a logger
/// follows no state its store loads of a stream bound to another trail (it goes on with its own
/// stream, and saves that), so loggers of two trails sharing one store each keep a stream of
/// their own, and [`crate::AuditLoggerBuilder::resume_stream`] with another trail's state is
/// refused by `build()`.
///
/// Natively a store must be `Send + Sync` (a logger is shared across threads); on WebAssembly it
/// need not be (the browser's `sessionStorage` is not).
pub trait StreamStore: StoreBounds {
    /// The saved state, if any.
    fn load(&self) -> Option<StreamState>;
    /// Called, synchronously, after each event was chained, with the new state.
    fn save(&self, state: &StreamState);
}

/// `Send + Sync` natively, nothing on WebAssembly: the bounds of a [`StreamStore`] and of a
/// [`SealCheck`].
#[cfg(not(target_arch = "wasm32"))]
pub trait StoreBounds: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> StoreBounds for T {}
/// `Send + Sync` natively, nothing on WebAssembly: the bounds of a [`StreamStore`] and of a
/// [`SealCheck`].
#[cfg(target_arch = "wasm32")]
pub trait StoreBounds {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> StoreBounds for T {}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    /// Whether this thread holds the process-wide turn of the chains with a store ([`Turn`]).
    static TURN_HELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The process-wide turn of the chains with a store, held by this thread ([`Chain::seal`]): the
/// guard is held for its drop, never read (as a tuple field, `field 0 is never read` warned in
/// every build of the library but the test builds, a path dependency's too).
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
struct Turn {
    _guard: std::sync::MutexGuard<'static, ()>,
}

#[cfg(not(target_arch = "wasm32"))]
impl Drop for Turn {
    fn drop(&mut self) {
        TURN_HELD.with(|h| h.set(false));
    }
}

/// The stream of one logger: hands out `seq` and links each event to the previous one.
///
/// ```
/// use neo4j_audit::{chain::{Chain, GENESIS, verify_hash}, AuditEvent};
/// let chain = Chain::new_stream();
/// let mut a = AuditEvent::build(None, "LOGIN", None, None, 1000).unwrap();
/// let mut b = AuditEvent::build(None, "LOGOUT", None, None, 1000).unwrap();
/// chain.seal(&mut a);
/// chain.seal(&mut b);
/// assert_eq!((a.seq, b.seq), (Some(0), Some(1)));
/// assert_eq!(a.prev_hash.as_deref(), Some(GENESIS));
/// assert_eq!(b.prev_hash, a.hash);
/// assert!(verify_hash(&b));
/// assert_eq!(chain.state().head, b.hash.unwrap());
/// ```
pub struct Chain {
    state: Mutex<StreamState>,
    store: Option<Box<dyn StreamStore>>,
    /// Natively, a logger's chain: its trail, whose streams alone a store's state may continue
    /// ([`Chain::load`]). `None`: any.
    #[cfg(not(target_arch = "wasm32"))]
    trail: Option<String>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").field("state", &self.state()).finish()
    }
}

impl Chain {
    /// A new stream (fresh id, seq 0, genesis head), kept in memory only.
    pub fn new_stream() -> Self {
        Chain::resume(StreamState::fresh(), None)
    }

    /// A new stream of trail `trail` ([`StreamState::for_trail`]), kept in memory only.
    pub fn for_trail(trail: &str) -> Self {
        Chain::resume(StreamState::for_trail(trail), None)
    }

    /// Continues a stream from a saved state, saving each new state into `store`.
    pub fn resume(state: StreamState, store: Option<Box<dyn StreamStore>>) -> Self {
        Chain {
            state: Mutex::new(state),
            store,
            #[cfg(not(target_arch = "wasm32"))]
            trail: None,
        }
    }

    /// The chain of a logger of `trail`: natively it follows no state its store loads of a
    /// stream bound to another trail ([`Chain::load`]); on wasm it is the chain as it was.
    #[cfg_attr(target_arch = "wasm32", allow(unused_mut, unused_variables))]
    pub(crate) fn in_trail(mut self, trail: &str) -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.trail = Some(trail.to_owned());
        }
        self
    }

    /// The store's saved state, if any: natively only one a stream may go on from (a store of the
    /// application's may load anything): not beyond [`MAX_SEQ`], its head a hash
    /// ([`StreamState::resumable`]), and not a stream bound to
    /// another trail than the logger's (a store shared by loggers of two trails: each went on
    /// with the other's stream, whose events then verified as `forged` in its trail, the other's
    /// as `deleted`; each now keeps its own). A browser's store reads it with
    /// [`StreamState::from_json`] under a key of its trail.
    fn load(&self) -> Option<StreamState> {
        let saved = self.store.as_ref().and_then(|s| s.load());
        #[cfg(not(target_arch = "wasm32"))]
        let saved = saved.filter(|s| {
            s.resumable() && self.trail.as_deref().is_none_or(|t| stream_trail_binding(&s.stream_id, t) != Some(false))
        });
        saved
    }

    /// Natively, with a store: the process-wide turn of the chains that have one, held from
    /// the store's load to its save. Loggers sharing one store (each its own `Chain`) chained
    /// on several threads at once, each under its own lock, so two read the same state and
    /// took the same `seq` (a fork: `inserted`). One turn for every store, as a store's
    /// identity is not known here; a seal is microseconds. (Two processes sharing a store
    /// are beyond it: [`StreamStore`].) A thread that holds it already (a store whose `load`
    /// or `save` chains an event of another stream with a store, e.g. a record of its saves)
    /// goes on under it: taking it again hung that thread, and every chain with a store after it.
    fn store_turn(&self) -> Option<Turn> {
        #[cfg(not(target_arch = "wasm32"))]
        if self.store.is_some() && !TURN_HELD.with(std::cell::Cell::get) {
            static TURN: Mutex<()> = Mutex::new(());
            let guard = TURN.lock().unwrap_or_else(|p| p.into_inner());
            TURN_HELD.with(|h| h.set(true));
            return Some(Turn { _guard: guard });
        }
        None
    }

    /// The current state (id, next seq, head hash).
    pub fn state(&self) -> StreamState {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(saved) = self.load() {
            *st = saved;
        }
        st.clone()
    }

    /// Gives `event` this stream's id, the next `seq`, the head as `prevHash`, and its `hash`;
    /// advances the head. Call once per event, when it is built, in call order.
    pub fn seal(&self, event: &mut AuditEvent) {
        let _turn = self.store_turn();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(saved) = self.load() {
            *st = saved;
        }
        // Resumed beyond the storable seq, or with a head that is no hash (`Chain::resume` takes
        // any state): a new stream, rather than events Neo4j refuses, a seq that wraps or a first
        // link that matches no event. (On wasm every state comes from `StreamState::from_json`,
        // which refuses such a one, or is new.)
        #[cfg(not(target_arch = "wasm32"))]
        if !st.resumable() {
            *st = StreamState::fresh();
        }
        event.stream_id = Some(st.stream_id.clone());
        event.seq = Some(st.next_seq);
        let hash = seal_hash(event, &st.head);
        // The old head moves into the event, the new one is copied once.
        event.prev_hash = Some(std::mem::replace(&mut st.head, hash.clone()));
        event.hash = Some(hash);
        st.next_seq += 1;
        if let Some(store) = &self.store {
            store.save(&st);
        }
    }

    /// Takes back the seal of `event`, the stream's last: the head goes back to its `prevHash`
    /// and its `seq` is handed out again. For an event refused in the very call that sealed it,
    /// before anything else was chained (the browser's queue full, [`crate::AuditLogger::unseal`]):
    /// an event that is never stored must not take a `seq`, or the stream has a hole that
    /// verifies as `deleted`. `false`, changing nothing, when `event` is not the head.
    #[cfg_attr(any(not(target_arch = "wasm32"), feature = "worker"), allow(dead_code))]
    pub(crate) fn unseal(&self, event: &AuditEvent) -> bool {
        let _turn = self.store_turn();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(saved) = self.load() {
            *st = saved;
        }
        let head = event.stream_id.as_deref() == Some(st.stream_id.as_str())
            && event.seq.map(|s| s + 1) == Some(st.next_seq)
            && event.hash.as_deref() == Some(st.head.as_str());
        let Some(prev) = event.prev_hash.as_ref().filter(|_| head) else { return false };
        st.head = prev.clone();
        st.next_seq -= 1;
        if let Some(store) = &self.store {
            store.save(&st);
        }
        true
    }
}

/// Domain tag of a Worker stream id's trail binding ([`trail_stream_id`]).
const STREAM_BINDING: &str = "neo4j-audit/stream/v1";

/// The binding tag of stream `nonce` in trail `trail`: 32 hex digits of
/// `SHA-256("neo4j-audit/stream/v1" ‖ 0 ‖ trail ‖ 0 ‖ nonce)`.
fn binding_tag(trail: &str, nonce: &str) -> String {
    let mut h = Sha256::new();
    h.update(STREAM_BINDING.as_bytes());
    h.update([0]);
    h.update(trail.as_bytes());
    h.update([0]);
    h.update(nonce.as_bytes());
    let mut tag = hex(&h.finalize());
    tag.truncate(32);
    tag
}

/// A new id for a stream of trail `trail` (the ingest Worker's, and a client logger's):
/// `<v4 UUID>.<tag>`, the tag binding it to the trail's name. The id is inside every event's hash
/// (and every seal, event and head), so a stream moved into another trail, or two trails' names
/// swapped, no longer verify there (see [`stream_trail_binding`]). The tag is keyless: it proves
/// nothing against someone who re-hashes the whole stream under a new id.
pub fn trail_stream_id(trail: &str) -> String {
    let nonce = crate::random::uuid_v4();
    let tag = binding_tag(trail, &nonce);
    let mut id = nonce;
    id.push('.');
    id.push_str(&tag);
    id
}

/// Whether `stream_id` was made by [`trail_stream_id`] for `trail`: `None` when it has no
/// binding (streams begun before bindings existed: a plain UUID).
pub fn stream_trail_binding(stream_id: &str, trail: &str) -> Option<bool> {
    let (nonce, tag) = binding_parts(stream_id)?;
    Some(binding_tag(trail, nonce) == tag)
}

/// A stream id's nonce and binding tag, when it has the form [`trail_stream_id`] gives.
fn binding_parts(stream_id: &str) -> Option<(&str, &str)> {
    // The last `.` by a byte loop (`rsplit_once` brings core's memrchr into the .wasm).
    let dot = stream_id.bytes().rposition(|b| b == b'.')?;
    let (nonce, tag) = (&stream_id[..dot], &stream_id[dot + 1..]);
    if tag.len() != 32 || !tag.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    Some((nonce, tag))
}

/// The canonical encoding of `event`'s fields, without `prevHash` (see the module docs).
pub fn canonical(event: &AuditEvent) -> Vec<u8> {
    let mut out = String::with_capacity(event.json_len());
    write_canonical(&mut out, event);
    out.into_bytes()
}

/// How a version 1 canonical form starts: `[`, [`CHAIN_VERSION`] as a JSON string, `,` (a test
/// keeps the two equal).
const V1_OPEN: &str = "[\"neo4j-audit/chain/v1\",";

/// Appends [`canonical`]'s bytes to `out`.
fn write_canonical(out: &mut String, event: &AuditEvent) {
    use crate::json::{write_int, write_opt_str, write_str, write_uint};
    // The separators as bytes: `String::push` of a `char` stayed a call with its UTF-8 step at
    // the size-optimised level, a dozen times per event (`node --cpu-prof` of bench/cpu_full.mjs's
    // loop).
    // SAFETY: only ASCII bytes are pushed, and the rest is appended as `str`: `out` stays UTF-8.
    let comma = |out: &mut String| unsafe { out.as_mut_vec() }.push(b',');
    // A JSON array, written directly: the same bytes `serde_json` gives for it (tested below).
    out.push_str(V1_OPEN);
    write_opt_str(out, event.stream_id.as_deref());
    comma(out);
    match event.seq {
        Some(n) => write_uint(out, n),
        None => out.push_str("null"),
    }
    for s in [&event.uid, &event.action_type, &event.category] {
        comma(out);
        write_str(out, s);
    }
    comma(out);
    write_int(out, event.ts);
    for s in [&event.user_uid, &event.user_name, &event.details] {
        comma(out);
        write_opt_str(out, s.as_deref());
    }
    // SAFETY: as above.
    unsafe { out.as_mut_vec() }.push(b']');
}

/// The version 2 canonical encoding of `event`, without `prevHash`: the compact JSON array
///
/// ```text
/// ["neo4j-audit/chain/v2", streamId, seq, UID, eventType, eventCategory, ts, userUID, userName,
///  details, source, occurredAt]                                  (no targets)
/// ["neo4j-audit/chain/v2", …, source, occurredAt, [[label, uid, role], …]]   (with targets)
/// ```
///
/// (`source` is `"client"` or `"worker"`, `occurredAt` an integer or `null`, a target's `role`
/// a string or `null`; the targets in the order given). Written directly, byte for byte what
/// `serde_json` gives for the array (tested): client events with targets are sealed in this
/// version in the browser, where the write path carries no `serde_json`.
pub fn canonical_v2(event: &AuditEvent) -> Vec<u8> {
    use crate::json::{write_int, write_opt_str, write_str};
    let v1 = canonical(event);
    // Version 1's array without its closing bracket, the version name swapped.
    let body = &v1[CHAIN_VERSION.len() + 4..v1.len() - 1];
    let mut out = String::with_capacity(v1.len() + 64 + event.targets.len() * 48);
    out.push('[');
    write_str(&mut out, CHAIN_VERSION_2);
    out.push(',');
    // SAFETY: `canonical` wrote valid UTF-8 and the cut is at ASCII bytes (`[`, the version's
    // quoted name and its comma; `]`): `out` stays UTF-8 without checking the body again.
    unsafe { out.as_mut_vec() }.extend_from_slice(body);
    out.push_str(match event.source {
        crate::event::Source::Client => ",\"client\",",
        crate::event::Source::Worker => ",\"worker\",",
    });
    match event.occurred_at {
        Some(n) => write_int(&mut out, n),
        None => out.push_str("null"),
    }
    if event.targets.is_empty() {
        out.push(']');
        return out.into_bytes();
    }
    out.push_str(",[");
    for (i, t) in event.targets.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        write_str(&mut out, &t.label);
        out.push(',');
        write_str(&mut out, &t.uid);
        out.push(',');
        write_opt_str(&mut out, t.role.as_deref());
        out.push(']');
    }
    out.push_str("]]");
    out.into_bytes()
}

/// `SHA-256(canonical(event) ‖ prev_hash)` as 64 lowercase hex digits (version 1).
pub fn event_hash(event: &AuditEvent, prev_hash: &str) -> String {
    thread_local! {
        // The hashed text's buffer, kept for the next event (one per event was an allocation
        // and a free on each call's synchronous path). Taken while in use: a nested use (none
        // known) gets a new one.
        static TEXT: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
    }
    TEXT.with(|t| {
        let mut text = t.take();
        text.clear();
        write_canonical(&mut text, event);
        let mut data = text.into_bytes();
        let hash = digest(&mut data, prev_hash);
        data.clear();
        // SAFETY: `data` is empty (ASCII).
        t.set(unsafe { crate::json::ascii_string(data) });
        hash
    })
}

/// `SHA-256(canonical_v2(event) ‖ prev_hash)` as 64 lowercase hex digits (version 2).
pub fn event_hash_v2(event: &AuditEvent, prev_hash: &str) -> String {
    digest(&mut canonical_v2(event), prev_hash)
}

/// `SHA-256(data ‖ prev_hash)` in hex; `prev_hash` is appended to `data`.
fn digest(data: &mut Vec<u8>, prev_hash: &str) -> String {
    data.extend_from_slice(prev_hash.as_bytes());
    #[cfg(all(target_arch = "wasm32", feature = "js", not(feature = "worker"), not(feature = "memory-queue")))]
    if let Some(h) = host::sha256_hex(data) {
        return h;
    }
    hex(&Sha256::digest(&data))
}

/// SHA-256 by the host where it has a synchronous one (Node's `crypto.hash`: src/wasm/hash.js),
/// about three times faster there than the wasm's own for an event's few blocks (one hash per
/// event is the largest single cost of a `logUserAction` call in Node). The same function of the
/// same bytes; browsers (whose WebCrypto only answers asynchronously) keep sha2's. Not in the
/// Workers builds (`memory-queue`): under `nodejs_compat` workerd has `process.getBuiltinModule`,
/// and loading its `node:crypto` when the package is imported cost ~7 ms of CPU per cold start
/// (bench/coldstart-v8.mjs, 2026-12-03); nor was workerd's hash cheaper per event than the wasm's.
#[cfg(all(target_arch = "wasm32", feature = "js", not(feature = "worker"), not(feature = "memory-queue")))]
mod host {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/wasm/hash.js")]
    extern "C" {
        /// Whether the host hashes (asked once).
        #[wasm_bindgen(js_name = hostHash)]
        fn host_hash() -> bool;
        /// SHA-256 of `data` as 64 lowercase hex digits written over its first 64 bytes (one
        /// view of wasm memory, not two); `data` unchanged if the host failed.
        #[wasm_bindgen(js_name = sha256Hex)]
        fn sha256_hex_over(data: &mut [u8]);
    }

    thread_local! {
        static HOST: bool = host_hash();
    }

    /// SHA-256 of `data` in hex, by the host, which overwrites `data`'s start; `None` (`data`
    /// unchanged) where the host has no synchronous SHA-256 or failed. The hashed text (a
    /// canonical JSON array) starts with `[`: never 64 hex digits unless the host wrote them.
    pub(super) fn sha256_hex(data: &mut [u8]) -> Option<String> {
        if data.len() < 64 || !HOST.with(|h| *h) {
            return None;
        }
        sha256_hex_over(data);
        let hex = &data[..64];
        if !hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        // SAFETY: ASCII hex digits only (checked just above).
        Some(unsafe { crate::json::ascii_string(hex.to_vec()) })
    }
}

/// The hash a client event is sealed with: version 2 when it has targets, or provenance other
/// than a client's own (`v1_provenance`: e.g. its `ts` set after it was built, through the Rust
/// API's public fields), which version 1 would leave uncovered; else version 1 (so such events
/// hash exactly as before version 2 existed).
pub fn seal_hash(event: &AuditEvent, prev_hash: &str) -> String {
    if event.targets.is_empty() && v1_provenance(event) {
        event_hash(event, prev_hash)
    } else {
        event_hash_v2(event, prev_hash)
    }
}

/// Gives `event` the place (`stream_id`, `seq`) after `prev_hash` and its version 2 hash; returns
/// the hash. The ingest Worker's signed per-trail stream is sealed this way.
pub fn seal_v2(event: &mut AuditEvent, stream_id: &str, seq: u64, prev_hash: &str) -> String {
    event.stream_id = Some(stream_id.to_owned());
    event.seq = Some(seq);
    event.prev_hash = Some(prev_hash.to_owned());
    let hash = event_hash_v2(event, prev_hash);
    event.hash = Some(hash.clone());
    hash
}

/// Whether the stored `hash` matches the stored fields and `prevHash`. An event with targets
/// only in version 2 (version 1 does not cover them, so targets added to a version 1 event must
/// not verify); otherwise either encoding (version 2 tried first for Worker-written events,
/// version 1 first for the rest).
///
/// Version 1 does not cover the provenance the reader shows beside the event, so a version 1
/// event verifies only with the provenance its writers gave it (`v1_provenance`).
pub fn verify_hash(event: &AuditEvent) -> bool {
    let (Some(prev), Some(hash)) = (&event.prev_hash, &event.hash) else { return false };
    let v2 = |e: &AuditEvent| event_hash_v2(e, prev) == *hash;
    if !event.targets.is_empty() {
        return v2(event);
    }
    let v1 = |e: &AuditEvent| v1_provenance(e) && event_hash(e, prev) == *hash;
    match event.source {
        crate::event::Source::Worker => v2(event) || v1(event),
        crate::event::Source::Client => v1(event) || v2(event),
    }
}

/// Whether a version 1 event's provenance (outside its hash) is what its writer stored: a client
/// stores `occurredAt` = `timestamp` (or, queued by an older version, nothing), and the Worker
/// sealed version 1 only before its streams were bound to their trail (a plain UUID id). Else
/// `source` or `occurredAt` was changed by hand: a client event made to look Worker-written, or
/// its time of action (what an activity list shows) moved.
fn v1_provenance(event: &AuditEvent) -> bool {
    match event.source {
        crate::event::Source::Client => event.occurred_at.is_none_or(|t| t == event.ts),
        crate::event::Source::Worker => event.stream_id.as_deref().is_none_or(|s| binding_parts(s).is_none()),
    }
}

/// `bytes` as lower-case hex digits.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Bytes, not `String::push` of chars (its UTF-8 encoding step, per digit, showed in
    // profiles: two hex strings per event).
    // Written by index into a buffer of the final length (an `extend_from_slice` per byte, with
    // its capacity check, was most of this function's time in bench/cpu_full.mjs's profile).
    let mut s = vec![0u8; bytes.len() * 2];
    for (pair, b) in s.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[(b >> 4) as usize];
        pair[1] = DIGITS[(b & 15) as usize];
    }
    // SAFETY: the buffer was zeros and now holds digits of DIGITS: ASCII only.
    unsafe { crate::json::ascii_string(s) }
}

/// What kind of damage a broken link shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BreakKind {
    /// The stored fields no longer hash to the stored `hash` (a field was edited), or (verifyTrail)
    /// an edge into the application's graph was re-pointed: a `PERFORMED_BY` to another node than
    /// the user the hashed `userUID` names, an `ON` to a node not among the hashed `targetKeys`.
    Edited,
    /// One or more `seq` numbers are missing (events deleted, or never delivered).
    Deleted,
    /// Two events claim the same `seq`; `uid` is the one that does not link into the chain.
    Inserted,
    /// The event's `prevHash` is not the hash of the event before it (moved, replaced, or
    /// re-hashed after an edit).
    Reordered,
    /// Signed stream: a seal (on an event or the trail's head) does not verify with the trusted
    /// public keys — signed with another key, or the stream was re-hashed after a change. Any
    /// stream: its id binds it to another trail ([`Verifier::in_trail`]: moved here, or trails
    /// renamed), or the event at an anchored `seq` has another hash (`read::VerifyQuery::anchors`).
    Forged,
    /// Signed stream (verified with public keys): events after the last valid seal, or a stream
    /// with no seal at all — appended or inserted without the signing key.
    Unsigned,
    /// Only when bound streams are required (`VerifyQuery::require_bound`): the stream's id
    /// carries no trail binding (a plain UUID, begun before bindings existed).
    Unbound,
}

// The read side's (reports written as JSON, the Worker's verify cursor); no other build needs them.
#[cfg(feature = "read")]
impl BreakKind {
    /// Every kind, in declaration order.
    pub(crate) const ALL: [BreakKind; 7] = [
        BreakKind::Edited,
        BreakKind::Deleted,
        BreakKind::Inserted,
        BreakKind::Reordered,
        BreakKind::Forged,
        BreakKind::Unsigned,
        BreakKind::Unbound,
    ];

    /// The kind's name in JSON (what its `Serialize` writes: lower case).
    pub(crate) fn name(self) -> &'static str {
        match self {
            BreakKind::Edited => "edited",
            BreakKind::Deleted => "deleted",
            BreakKind::Inserted => "inserted",
            BreakKind::Reordered => "reordered",
            BreakKind::Forged => "forged",
            BreakKind::Unsigned => "unsigned",
            BreakKind::Unbound => "unbound",
        }
    }
}

/// Checks seals; implemented by `sign::KeySet` (feature `read`), so this module needs no crypto.
///
/// Natively `Send + Sync` ([`StoreBounds`]): the verifier holds a `&dyn SealCheck` across
/// `.await`, so `AuditLogger::verify_trail`'s future is `Send` only if it is (a `tokio::spawn`ed
/// task, an axum handler). Nothing on WebAssembly, where the keys are the host's `CryptoKey`s.
pub trait SealCheck: StoreBounds {
    /// `Err(reason)` unless `seal` is valid over (`stream_id`, `seq`, `hash`) for `head`
    /// (the trail's head seal) or an event seal.
    fn check_seal(&self, head: bool, seal: &StoredSeal, stream_id: &str, seq: u64, hash: &str) -> Result<(), String>;
}

/// A seal as stored: key id, base64url signature, signing time (epoch ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSeal {
    /// Key id.
    pub kid: String,
    /// Ed25519 signature, base64url.
    pub sig: String,
    /// When it was signed, epoch ms.
    pub signed_at: i64,
}

/// The signed head a trail node holds: the Worker stream's last `seq` and `hash`, sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedHead {
    /// The Worker's stream in this trail.
    pub stream_id: String,
    /// `seq` of its last event.
    pub seq: u64,
    /// `hash` of its last event.
    pub hash: String,
    /// The head seal (absent when the Worker had no signing key).
    pub seal: Option<StoredSeal>,
}

/// The first broken link of a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Break {
    /// What kind of damage it is.
    pub kind: BreakKind,
    /// The `seq` where the chain breaks (for `Deleted`: the first missing one).
    pub seq: u64,
    /// The stored event at fault (for `Deleted`: the first event after the gap).
    pub uid: Option<String>,
    /// A human-readable description of the break.
    pub message: String,
}

/// Verification result of one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamReport {
    /// The stream checked.
    pub stream_id: String,
    /// No broken link found (`first_break` is `None`).
    pub ok: bool,
    /// The stream's id binds it to the trail it was read from ([`stream_trail_binding`]);
    /// `false` for a stream begun before bindings existed (a plain UUID; `Unbound` when bound
    /// streams are required) and for one bound to another trail (`Forged`).
    pub bound: bool,
    /// Events read.
    pub checked: u64,
    /// `seq` and `hash` of the last stored event: compare with an anchored [`Chain`] head to see
    /// whether events were cut off the end.
    pub head_seq: Option<u64>,
    /// See `head_seq`; `None` when no event was read.
    pub head_hash: Option<String>,
    /// The first broken link, if any (later ones are not reported).
    pub first_break: Option<Break>,
    /// Verified with public keys: `seq` of the last event whose seal verified (the stream is
    /// proven intact up to it); `None` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_seq: Option<u64>,
}

/// Verification result of a trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// Every stream intact and no event without chain fields. Also `true` for a report of
    /// nothing (`checked` and `unchained` 0: an empty or mistyped trail, a `stream_id` or `since`
    /// that matches nothing): nothing was found broken because nothing was read, so check
    /// `checked` before trusting it (the CLI's `verify` says `NOTHING VERIFIED` and exits 1 there;
    /// a stream that passed at one of `VerifyQuery::anchors` (feature `read`) in a quiet
    /// `since` window is listed `ok` with `checked` 0 and was read at its anchor).
    pub ok: bool,
    /// Chained events read, over every stream.
    pub checked: u64,
    /// One report per stream, in `streamId` order.
    pub streams: Vec<StreamReport>,
    /// Events in the trail without chain fields (written before chaining existed, or inserted
    /// by hand), or that the trail's pages show otherwise than verification read them (a
    /// `streamId` that is not a string; a `HAS_EVENT` link whose copied keys were changed, or a
    /// second link).
    pub unchained: u64,
    /// The first (at most 10) unchained events: each by its `UID`, or, when that is not a string
    /// (a number, or no `UID` at all) or starts with `elementId:`, as `elementId:` followed by the
    /// node's Neo4j element id (`MATCH (ev) WHERE elementId(ev) = $id RETURN ev` finds it).
    pub unchained_uids: Vec<String>,
    /// Verified with public keys: the trail's signed head (the Worker stream's last `seq`,
    /// `hash` and head seal), worth anchoring elsewhere to detect a later cut of the tail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_head: Option<SignedHead>,
}

/// Checks one stream, fed its stored events in (`seq`, `UID`) order.
///
/// `anchored`: the stream is read from its start, so it must begin at `seq` 0 with the genesis
/// `prevHash`; otherwise the first event read is trusted as the anchor (its own hash is
/// checked, not its link: verifyTrail's `since` window pushes the stream's event just before
/// the window first, so the window's first event is checked like any other).
///
/// With [`Verifier::with_seals`], the stream must also be signed: every event seal must verify,
/// the last event must be covered by one, and a signed head (the trail's) must match the end.
pub struct Verifier<'k> {
    report: StreamReport,
    anchored: bool,
    /// `seq` and `hash` of the last event accepted into the chain.
    last: Option<(u64, String)>,
    /// Events sharing the current `seq` (with their seals), until the seq changes.
    group: Vec<(AuditEvent, Option<StoredSeal>)>,
    /// How many of `group`'s first events had their hash checked before a pause and come back
    /// without their `details` ([`VerifierState::hashed`]).
    hashed: usize,
    seals: Option<&'k dyn SealCheck>,
    /// Signed mode: the first event accepted after the last valid seal (`seq`, `UID`).
    unsigned_from: Option<(u64, String)>,
    head: Option<SignedHead>,
    /// The first event pushed whose edges into the application's graph do not match its hashed
    /// fields ([`Verifier::edges_off`]), or whose stored properties are not of the types its
    /// writer stores ([`Verifier::fields_off`]): `Edited` when it is judged.
    edges_off: Option<String>,
    /// For that event: the properties of another type, when that is what is off.
    fields_off: Option<String>,
    /// An event read (since [`Verifier::new`] or [`Verifier::resume`]: a Worker stream's events
    /// all say so) says the Worker wrote it (`source: "worker"`).
    worker: bool,
    /// The stream's id binds it to another trail ([`Verifier::in_trail`]): its first event read
    /// here makes it `Forged`. A stream with no event in this trail is not one of its streams.
    foreign: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Where a [`Verifier`] stands, to continue in a later call ([`Verifier::state`],
/// [`Verifier::resume`]): `GET /v1/verify` carries it from page to page in its cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifierState {
    /// The report so far (serialised with every field).
    pub stream_id: String,
    /// Events read so far.
    pub checked: u64,
    /// See [`StreamReport::head_seq`].
    pub head_seq: Option<u64>,
    /// See [`StreamReport::head_hash`].
    pub head_hash: Option<String>,
    /// The first break found so far.
    pub first_break: Option<(BreakKind, u64, Option<String>, String)>,
    /// See [`StreamReport::signed_seq`].
    pub signed_seq: Option<u64>,
    /// Read from the stream's start.
    pub anchored: bool,
    /// `seq` and `hash` of the last event accepted.
    pub last: Option<(u64, String)>,
    /// Events of the current `seq`, not yet judged.
    pub group: Vec<(AuditEvent, Option<StoredSeal>)>,
    /// How many of `group`'s first events are held without their `details`: their hash was
    /// checked when the state was taken ([`Verifier::state`]), so a `GET /v1/verify` cursor
    /// does not carry up to `MAX_DETAILS_BYTES` of an event's details (it goes back in a URL,
    /// which Cloudflare bounds at 16 KB: such a walk could not go on).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hashed: usize,
    /// First event after the last valid seal.
    pub unsigned_from: Option<(u64, String)>,
    /// The trail's signed head, when it names this stream.
    pub head: Option<SignedHead>,
    /// See [`Verifier::edges_off`] (UID).
    #[serde(default)]
    pub edges_off: Option<String>,
    /// See [`Verifier::fields_off`] (the properties' names).
    #[serde(default)]
    pub fields_off: Option<String>,
}

impl std::fmt::Debug for Verifier<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("report", &self.report).field("last", &self.last).finish_non_exhaustive()
    }
}

impl<'k> Verifier<'k> {
    /// A verifier for stream `stream_id`; `anchored` as described on [`Verifier`].
    pub fn new(stream_id: &str, anchored: bool) -> Self {
        Verifier {
            report: StreamReport {
                stream_id: stream_id.to_owned(),
                ok: true,
                bound: false,
                checked: 0,
                head_seq: None,
                head_hash: None,
                first_break: None,
                signed_seq: None,
            },
            anchored,
            last: None,
            group: Vec::new(),
            hashed: 0,
            seals: None,
            unsigned_from: None,
            head: None,
            edges_off: None,
            fields_off: None,
            worker: false,
            foreign: false,
        }
    }

    /// The stream being verified.
    pub fn stream_id(&self) -> &str {
        &self.report.stream_id
    }

    /// Everything needed to continue later with [`Verifier::resume`].
    pub fn state(&self) -> VerifierState {
        let r = &self.report;
        // The group's first events whose hash holds are kept without their details (what only
        // the hash needs): the state goes into a cursor, and a cursor into a URL.
        let hashed = self.group.iter().enumerate().take_while(|(i, (e, _))| *i < self.hashed || verify_hash(e)).count();
        let mut group = self.group.clone();
        for (e, _) in &mut group[..hashed] {
            e.details = None;
        }
        VerifierState {
            stream_id: r.stream_id.clone(),
            checked: r.checked,
            head_seq: r.head_seq,
            head_hash: r.head_hash.clone(),
            first_break: r.first_break.clone().map(|b| (b.kind, b.seq, b.uid, b.message)),
            signed_seq: r.signed_seq,
            anchored: self.anchored,
            last: self.last.clone(),
            group,
            hashed,
            unsigned_from: self.unsigned_from.clone(),
            head: self.head.clone(),
            edges_off: self.edges_off.clone(),
            fields_off: self.fields_off.clone(),
        }
    }

    /// Continues from `state`; `seals` as for [`Verifier::with_seals`] (`None`: unsigned mode).
    pub fn resume(state: VerifierState, seals: Option<&'k dyn SealCheck>) -> Self {
        let mut v = Verifier::new(&state.stream_id, state.anchored);
        v.report.checked = state.checked;
        v.report.head_seq = state.head_seq;
        v.report.head_hash = state.head_hash;
        v.report.first_break = state.first_break.map(|(kind, seq, uid, message)| Break { kind, seq, uid, message });
        v.report.signed_seq = state.signed_seq;
        v.last = state.last;
        v.hashed = state.hashed.min(state.group.len());
        v.group = state.group;
        v.unsigned_from = state.unsigned_from;
        v.head = state.head;
        v.edges_off = state.edges_off;
        v.fields_off = state.fields_off;
        v.seals = seals;
        v
    }

    /// Requires the stream to be signed, checking seals with `seals`; `head`: the trail's signed
    /// head when it names this stream (its end must be this stream's end).
    pub fn with_seals(mut self, seals: &'k dyn SealCheck, head: Option<SignedHead>) -> Self {
        self.seals = Some(seals);
        self.head = head;
        self
    }

    /// A later signed head of the same stream (a resumed paged walk read it again): the stream's
    /// end is judged against it. Ignored when this verifier holds no head (another stream's).
    #[cfg(any(feature = "read", test))]
    pub(crate) fn newer_head(&mut self, head: SignedHead) {
        if self.head.as_ref().is_some_and(|h| h.stream_id == head.stream_id) {
            self.head = Some(head);
        }
    }

    /// The event just pushed was the stream's event before a `since` window: checked (its hash,
    /// and as the link the window's first event must follow) but not one of the window's events,
    /// so not counted in [`StreamReport::checked`] (the report's total leaves it out too).
    #[cfg(all(feature = "read", not(all(target_arch = "wasm32", feature = "worker"))))]
    pub(crate) fn uncount_before(&mut self) {
        self.report.checked -= 1;
    }

    /// A `since` window found nothing before its first event: the stream must then begin there
    /// as if read from its start (`seq` 0, the genesis `prevHash`).
    #[cfg(any(feature = "read", test))]
    pub(crate) fn anchor_at_genesis(&mut self) {
        self.anchored = true;
    }

    /// Event `uid` (pushed next, or in the current `seq`) has an edge into the application's
    /// graph that its hashed fields do not name: a `PERFORMED_BY` to another node than the user
    /// its `userUID` names, or an `ON` to a node not among its `targetKeys`. The event is then
    /// `Edited` when judged (the first such event counts).
    pub fn edges_off(&mut self, uid: &str) {
        if self.edges_off.is_none() {
            self.edges_off = Some(uid.to_owned());
        }
    }

    /// Event `uid` (pushed next, or in the current `seq`) has stored properties that are missing
    /// or not of the types its writer stores (`fields`: their names, e.g. `"timestamp"`): a
    /// timestamp made text or removed, a `userName` made a number where the event had none
    /// (which the hash, reading it as absent, would not see). The event is then `Edited` when
    /// judged, naming them (before, such an event made the whole verification fail with a store
    /// error, or verified).
    pub fn fields_off(&mut self, uid: &str, fields: &str) {
        if self.edges_off.is_none() || (self.edges_off.as_deref() == Some(uid) && self.fields_off.is_none()) {
            self.edges_off = Some(uid.to_owned());
            self.fields_off = Some(fields.to_owned());
        }
    }

    /// The stream is read from trail `trail`: a stream whose id binds it to another trail
    /// ([`stream_trail_binding`]: a Worker stream moved here, or trails renamed) is `Forged` once
    /// an event of it is read here. Asked for a stream of another trail that has no event in this
    /// one, the report is an empty stream (nothing verified), not a forgery.
    pub fn in_trail(mut self, trail: &str) -> Self {
        let binding = stream_trail_binding(&self.report.stream_id, trail);
        self.report.bound = binding == Some(true);
        self.foreign = binding == Some(false);
        self
    }

    /// The seals of the events pushed but not judged yet (those sharing the last `seq`): a
    /// [`SealCheck`] that answers from checks made ahead needs them with the next events'.
    pub fn pending_seals(&self) -> impl Iterator<Item = (&AuditEvent, &StoredSeal)> {
        self.group.iter().filter_map(|(e, s)| s.as_ref().map(|s| (e, s)))
    }

    /// The next stored event (same stream, ascending `seq`).
    pub fn push(&mut self, ev: AuditEvent) {
        self.push_sealed(ev, None);
    }

    /// The next stored event with its event seal, if it carries one.
    pub fn push_sealed(&mut self, ev: AuditEvent, seal: Option<StoredSeal>) {
        if std::mem::take(&mut self.foreign) {
            let msg = "the stream's id binds it to another trail (moved here, or the trail renamed)";
            self.fail(BreakKind::Forged, 0, None, msg.into());
        }
        self.report.checked += 1;
        self.worker |= ev.source == crate::event::Source::Worker;
        if self.group.first().is_some_and(|(g, _)| g.seq != ev.seq) {
            let next_prev = ev.prev_hash.clone();
            self.flush(next_prev.as_deref());
        }
        self.group.push((ev, seal));
    }

    /// The report, once every event was pushed.
    pub fn finish(mut self) -> StreamReport {
        let head_hash = self.head.as_ref().map(|h| h.hash.clone());
        self.flush(head_hash.as_deref());
        if let Some(seals) = self.seals {
            self.finish_signed(seals);
        }
        self.report.ok = self.report.first_break.is_none();
        self.report
    }

    /// Signed mode, at the end: nothing after the last seal, and the trail's head where it says.
    fn finish_signed(&mut self, seals: &dyn SealCheck) {
        // One message for a head without a seal and for none naming a signed stream.
        const NO_HEAD: &str = "no signed trail head names this stream";
        if let Some((seq, uid)) = self.unsigned_from.clone() {
            let (kind, msg) = match self.report.signed_seq {
                Some(s) => (
                    BreakKind::Unsigned,
                    cat(&["seq ", &num(seq), ": no valid signature after the last signed seq, ", &num(s)]),
                ),
                // The Worker's stream is named by the trail's head, and signed when it has a key:
                // Worker events in a stream with neither had their seals and the head removed
                // (not a never-signed client stream, which `allow_unsigned` tolerates).
                // Worded as what was found: NO_HEAD alone read as a stream never signed.
                None if self.worker && self.head.is_none() => (
                    BreakKind::Forged,
                    "the Worker wrote these events, yet none carries a valid signature and no signed trail head \
                     names the stream: its seals and the head were removed"
                        .into(),
                ),
                None => (BreakKind::Unsigned, cat(&["seq ", &num(seq), ": the stream carries no valid signature"])),
            };
            self.fail(kind, seq, Some(uid), msg);
        }
        let Some(head) = self.head.clone() else {
            // A signed stream has its end covered only by the trail's head: with none naming it
            // (removed, unreadable, or moved on to a new stream), a cut tail would go unseen.
            // (Its last event carries the last valid seal: events after it failed just above.)
            if let Some(s) = self.report.signed_seq {
                self.fail(BreakKind::Unsigned, s + 1, None, NO_HEAD.into());
            }
            return;
        };
        let Some(seal) = &head.seal else {
            // As with no head: at the end nothing covers, the seq after the stream's last event
            // (the head's own seq, unverified, was reported before: the last event's, not the end).
            let end = self.last.as_ref().map_or(head.seq, |(s, _)| *s) + 1;
            self.fail(BreakKind::Unsigned, end, None, NO_HEAD.into());
            return;
        };
        if let Err(why) = seals.check_seal(true, seal, &head.stream_id, head.seq, &head.hash) {
            self.fail(BreakKind::Forged, head.seq, None, cat(&["the trail's signed head: ", &why]));
            return;
        }
        match &self.last {
            Some((s, _)) if *s < head.seq => {
                let from = s + 1;
                let h = num(head.seq);
                let msg = cat(&[
                    "seq ",
                    &num(from),
                    "..",
                    &h,
                    " are missing: cut off the end (the trail's signed head names seq ",
                    &h,
                    ")",
                ]);
                self.fail(BreakKind::Deleted, from, None, msg);
            }
            // In a `since` window (not read from its start) a stream with no event in the window
            // is not empty: its head event is looked up by itself (src/read/verify.rs, as an
            // anchor). Read from its start, it is.
            None if self.report.first_break.is_none() && self.anchored => {
                let msg = cat(&["the stream is empty but the trail's signed head names seq ", &num(head.seq)]);
                self.fail(BreakKind::Deleted, 0, None, msg);
            }
            Some((s, h)) if *s == head.seq && *h != head.hash => {
                let msg = cat(&["seq ", &num(*s), ": not the event the trail's signed head names"]);
                self.fail(BreakKind::Forged, *s, None, msg);
            }
            _ => {}
        }
    }

    fn fail(&mut self, kind: BreakKind, seq: u64, uid: Option<String>, message: String) {
        if self.report.first_break.is_none() {
            self.report.first_break = Some(Break { kind, seq, uid, message });
        }
    }

    /// `next_prev`: the `prevHash` of the event after this group (or the signed head's hash at
    /// the end), which tells the genuine event among several claiming one `seq`.
    fn flush(&mut self, next_prev: Option<&str>) {
        let group = std::mem::take(&mut self.group);
        let hashed = std::mem::take(&mut self.hashed);
        // The hash of member `i`: checked before a pause ([`VerifierState::hashed`]), or now.
        let hash_ok = |i: usize, e: &AuditEvent| i < hashed || verify_hash(e);
        let Some((first, _)) = group.first() else { return };
        let seq = first.seq.unwrap_or(0);
        self.report.head_seq = Some(seq);
        self.report.head_hash = group.last().and_then(|(e, _)| e.hash.clone());
        if self.report.first_break.is_some() {
            return;
        }
        let expected_prev = match &self.last {
            Some((_, h)) => Some(h.clone()),
            None if self.anchored => Some(GENESIS.to_owned()),
            None => None,
        };
        // Among events sharing a seq, the genuine one has a valid hash and links to the last one.
        let links = |i: usize, e: &AuditEvent| {
            hash_ok(i, e) && expected_prev.as_ref().is_none_or(|p| e.prev_hash.as_ref() == Some(p))
        };
        let genuine = (0..group.len())
            .find(|&i| links(i, &group[i].0) && next_prev.is_some() && group[i].0.hash.as_deref() == next_prev)
            .or_else(|| (0..group.len()).find(|&i| links(i, &group[i].0)))
            .unwrap_or(0);
        if group.len() > 1 {
            let intruder = group.iter().enumerate().find(|(i, _)| *i != genuine).map(|(_, (e, _))| e);
            self.fail(
                BreakKind::Inserted,
                seq,
                intruder.map(|e| e.uid.clone()),
                cat(&[&num(group.len() as u64), " events claim seq ", &num(seq)]),
            );
            return;
        }
        let (ev, seal) = &group[genuine];
        if let (Some(fields), true) = (&self.fields_off, self.edges_off.as_deref() == Some(ev.uid.as_str())) {
            // Where it was read: its own seq, or (no readable one) the seq expected there.
            let expected = match &self.last {
                Some((s, _)) => Some(s + 1),
                None if self.anchored => Some(0),
                None => None,
            };
            let at = ev.seq.or(expected).unwrap_or(seq);
            let msg = cat(&[
                "seq ",
                &num(at),
                ": stored ",
                fields,
                ": missing or not of the type its writer stores (changed outside the library)",
            ]);
            self.fail(BreakKind::Edited, at, Some(ev.uid.clone()).filter(|u| !u.is_empty()), msg);
            return;
        }
        if !hash_ok(genuine, ev) {
            // Version 1's hash still matching: what was edited is the provenance beside it.
            let provenance = ev.targets.is_empty()
                && !v1_provenance(ev)
                && ev.prev_hash.as_deref().is_some_and(|p| ev.hash.as_deref() == Some(event_hash(ev, p).as_str()));
            let what = if provenance {
                ": the stored source or occurredAt is not what its writer stored (outside its version 1 hash)"
            } else {
                ": the stored fields do not hash to the stored hash"
            };
            self.fail(BreakKind::Edited, seq, Some(ev.uid.clone()), cat(&["seq ", &num(seq), what]));
            return;
        }
        if self.edges_off.as_deref() == Some(ev.uid.as_str()) {
            self.fail(
                BreakKind::Edited,
                seq,
                Some(ev.uid.clone()),
                cat(&[
                    "seq ",
                    &num(seq),
                    ": an edge into the application's graph (PERFORMED_BY or ON) leads elsewhere than, or does not copy, its hashed userUID / targets, or is doubled",
                ]),
            );
            return;
        }
        let expected_seq = match &self.last {
            Some((s, _)) => Some(s + 1),
            None if self.anchored => Some(0),
            None => None,
        };
        if let Some(want) = expected_seq {
            if seq > want {
                let missing = if seq - want == 1 {
                    cat(&["seq ", &num(want), " is missing"])
                } else {
                    cat(&["seq ", &num(want), "..", &num(seq - 1), " are missing"])
                };
                self.fail(BreakKind::Deleted, want, Some(ev.uid.clone()), missing);
                return;
            }
        }
        if let Some(p) = &expected_prev {
            if ev.prev_hash.as_ref() != Some(p) {
                self.fail(
                    BreakKind::Reordered,
                    seq,
                    Some(ev.uid.clone()),
                    cat(&["seq ", &num(seq), ": prevHash is not the hash of the event before it"]),
                );
                return;
            }
        }
        let hash = ev.hash.clone().unwrap_or_default();
        if let Some(seals) = self.seals {
            match seal {
                Some(seal) => match seals.check_seal(false, seal, &self.report.stream_id, seq, &hash) {
                    Ok(()) => {
                        self.report.signed_seq = Some(seq);
                        self.unsigned_from = None;
                    }
                    Err(why) => {
                        self.fail(BreakKind::Forged, seq, Some(ev.uid.clone()), cat(&["seq ", &num(seq), ": ", &why]));
                        return;
                    }
                },
                None => {
                    if self.unsigned_from.is_none() {
                        self.unsigned_from = Some((seq, ev.uid.clone()));
                    }
                }
            }
        }
        self.last = Some((seq, hash));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store whose `save` chains an event of another stream with a store (a record of its
    /// saves, say): natively the thread already held the process-wide turn, took it again and
    /// hung, and every chain with a store after it. It goes on under the turn it holds.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_store_that_chains_into_another_stream_does_not_hang() {
        struct Mem(Mutex<Option<StreamState>>);
        impl StreamStore for Mem {
            fn load(&self) -> Option<StreamState> {
                self.0.lock().unwrap().clone()
            }
            fn save(&self, state: &StreamState) {
                *self.0.lock().unwrap() = Some(state.clone());
            }
        }
        struct Recording(Mem, std::sync::Arc<Chain>);
        impl StreamStore for Recording {
            fn load(&self) -> Option<StreamState> {
                self.0.load()
            }
            fn save(&self, state: &StreamState) {
                self.0.save(state);
                let mut saved = AuditEvent::build(None, "STATE_SAVED", None, None, 1000).unwrap();
                self.1.seal(&mut saved);
            }
        }
        let records = std::sync::Arc::new(Chain::resume(StreamState::fresh(), Some(Box::new(Mem(Mutex::new(None))))));
        let store = Recording(Mem(Mutex::new(None)), records.clone());
        let chain = Chain::resume(StreamState::fresh(), Some(Box::new(store)));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for _ in 0..3 {
                let mut ev = AuditEvent::build(None, "X", None, None, 1000).unwrap();
                chain.seal(&mut ev);
            }
            tx.send(chain.state().next_seq).unwrap();
        });
        let done = rx.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(done, Ok(3), "sealing hung");
        assert_eq!(records.state().next_seq, 3);
        // The turn is free again, for this thread and others.
        let other = std::thread::spawn(move || {
            let mut ev = AuditEvent::build(None, "Y", None, None, 1000).unwrap();
            records.seal(&mut ev);
            ev.seq
        });
        assert_eq!(other.join().unwrap(), Some(3));
    }

    #[test]
    fn unseal_takes_back_only_the_head() {
        let (chain, evs) = stream(3);
        let before = chain.state();
        // Not the head: nothing changes.
        assert!(!chain.unseal(&evs[1]));
        assert_eq!(chain.state(), before);
        // An event of another stream with the same seq and prevHash: not this stream's head.
        let mut other = evs[2].clone();
        other.stream_id = Some("elsewhere".into());
        assert!(!chain.unseal(&other));
        assert_eq!(chain.state(), before);
        // The head: its seq is handed out again, linked to the event before it.
        assert!(chain.unseal(&evs[2]));
        assert_eq!(
            chain.state(),
            StreamState { stream_id: before.stream_id.clone(), next_seq: 2, head: evs[1].hash.clone().unwrap() }
        );
        let mut again = AuditEvent::build(None, "AGAIN", None, None, 1000).unwrap();
        chain.seal(&mut again);
        assert_eq!((again.seq, again.prev_hash.as_deref()), (Some(2), evs[1].hash.as_deref()));
        let r = verify(&[evs[0].clone(), evs[1].clone(), again], true);
        assert!(r.first_break.is_none(), "{r:?}");
    }

    fn stream(n: usize) -> (Chain, Vec<AuditEvent>) {
        let chain = Chain::new_stream();
        let evs = (0..n)
            .map(|i| {
                let mut e = AuditEvent::build(None, &format!("E{i}"), None, None, 100).unwrap();
                chain.seal(&mut e);
                e
            })
            .collect();
        (chain, evs)
    }

    fn verify(evs: &[AuditEvent], anchored: bool) -> StreamReport {
        let mut v = Verifier::new("s", anchored);
        evs.iter().cloned().for_each(|e| v.push(e));
        v.finish()
    }

    #[test]
    fn a_worker_stream_id_is_bound_to_its_trail() {
        let id = trail_stream_id("org:a");
        assert_eq!(stream_trail_binding(&id, "org:a"), Some(true));
        assert_eq!(stream_trail_binding(&id, "org:b"), Some(false));
        assert_eq!(stream_trail_binding(&uuid_like(), "org:a"), None, "client streams carry no binding");
        // An event of it read in another trail: moved there (or the trail renamed).
        let (_, evs) = stream(1);
        let mut moved = Verifier::new(&id, true).in_trail("org:b");
        moved.push(evs[0].clone());
        let r = moved.finish();
        assert_eq!(r.first_break.map(|b| (b.kind, b.seq)), Some((BreakKind::Forged, 0)));
        assert!(!r.bound);
        assert!(Verifier::new(&id, true).in_trail("org:a").finish().ok);
        assert!(Verifier::new(&uuid_like(), true).in_trail("org:b").finish().ok);
    }

    #[test]
    fn a_stream_of_another_trail_with_no_event_here_is_empty_not_forged() {
        // `verify --stream <id> --trail <another>`: nothing of it in this trail is nothing
        // verified (the CLI says so), not a forgery at seq 0 with 0 events checked.
        let r = Verifier::new(&trail_stream_id("org:a"), true).in_trail("org:b").finish();
        assert!(r.ok && r.first_break.is_none(), "{r:?}");
        assert_eq!((r.checked, r.bound), (0, false));
    }

    #[test]
    fn a_client_stream_is_bound_to_its_trail() {
        let id = Chain::for_trail("org:a").state().stream_id;
        assert_eq!(stream_trail_binding(&id, "org:a"), Some(true));
        assert_eq!(stream_trail_binding(&id, "org:b"), Some(false));
        assert_ne!(id, Chain::for_trail("org:a").state().stream_id, "a fresh nonce per stream");
    }

    #[test]
    fn duplicate_uids_and_far_future_timestamps() {
        let (_, evs) = stream(4);
        // An exact copy of an event (same UID and fields, e.g. after the UID constraint was
        // dropped) beside it: two events claim its seq.
        let mut dup = evs.clone();
        dup.insert(2, evs[2].clone());
        let b = verify(&dup, true).first_break.unwrap();
        assert_eq!((b.kind, b.seq), (BreakKind::Inserted, 2), "{b:?}");
        // A copy moved to the end under the next seq: its hash covers seq, so it is edited.
        let mut moved = evs.clone();
        let mut copy = evs[1].clone();
        copy.seq = Some(4);
        moved.push(copy);
        let b = verify(&moved, true).first_break.unwrap();
        assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 4, Some(evs[1].uid.as_str())), "{b:?}");
        // The chain orders by seq and hashes `ts` as given: a timestamp far in the future (a
        // writer's wrong clock) verifies; judging clocks is not the verifier's job (README).
        let chain = Chain::for_trail("t");
        let far = 4_102_444_800_000; // 2100-01-01
        let evs: Vec<AuditEvent> = [far, 100]
            .iter()
            .map(|ts| {
                let mut e = AuditEvent::build(None, "E", None, None, 100).unwrap();
                e.ts = *ts;
                chain.seal(&mut e);
                e
            })
            .collect();
        assert!(verify(&evs, true).ok);
    }

    fn uuid_like() -> String {
        crate::random::uuid_v4()
    }

    #[test]
    fn stream_state_json_is_serdes() {
        let st = StreamState { stream_id: "s-\"1".into(), next_seq: 42, head: GENESIS.into() };
        assert_eq!(st.to_json(), serde_json::to_string(&st).unwrap());
        assert_eq!(StreamState::from_json(&st.to_json()), Some(st));
        // A browser's saved state beyond MAX_SEQ (edited by hand) is not resumed: the page starts
        // a new stream, as for a corrupted one (its events were refused by Neo4j for good, or the
        // seq wrapped).
        for n in [MAX_SEQ, MAX_SEQ + 1, u64::MAX] {
            let st = StreamState { stream_id: "s".into(), next_seq: n, head: GENESIS.into() };
            assert_eq!(StreamState::from_json(&st.to_json()).is_some(), n == MAX_SEQ, "{n}");
        }
        let mut st = StreamState { stream_id: "s".into(), next_seq: u64::MAX, head: GENESIS.into() };
        let chain = Chain::resume(st.clone(), None);
        let mut e = AuditEvent::build(None, "X", None, None, 1000).unwrap();
        chain.seal(&mut e);
        assert_eq!(e.seq, Some(0), "a new stream, not a wrapped or unstorable seq");
        st.next_seq = MAX_SEQ;
        assert!(st.resumable());
    }

    #[test]
    fn canonical_form_is_fixed() {
        let mut open = String::from("[");
        crate::json::write_str(&mut open, CHAIN_VERSION);
        open.push(',');
        assert_eq!(V1_OPEN, open);
        let e = AuditEvent {
            uid: "u-1".into(),
            action_type: "LOGIN".into(),
            category: "SECURITY".into(),
            ts: 1_700_000_000_123,
            user_uid: None,
            user_name: Some("Zoë \"Z\"\n".into()),
            details: Some(r#"{"a":1}"#.into()),
            stream_id: Some("s-1".into()),
            seq: Some(7),
            prev_hash: Some(GENESIS.into()),
            hash: None,
            source: crate::event::Source::Client,
            occurred_at: Some(1_600_000_000_000),
            targets: Vec::new(),
        };
        assert_eq!(
            String::from_utf8(canonical(&e)).unwrap(),
            r#"["neo4j-audit/chain/v1","s-1",7,"u-1","LOGIN","SECURITY",1700000000123,null,"Zoë \"Z\"\n","{\"a\":1}"]"#
        );
        // Known answer, computed independently in Python:
        // sha256(json.dumps(arr, separators=(",",":"), ensure_ascii=False).encode() + b"0"*64)
        assert_eq!(event_hash(&e, GENESIS), "059c049520a617014d46ed4a5221454bca858645fafb80c2314e87cec7d05987");
        assert_ne!(event_hash(&e, GENESIS), event_hash(&e, &"1".repeat(64)));
    }

    #[test]
    fn version_2_covers_source_occurred_at_and_targets() {
        use crate::event::{Source, Target};
        let mut e = AuditEvent::build(None, "LOGIN", None, None, 100).unwrap();
        (e.uid, e.ts, e.occurred_at, e.stream_id, e.seq) = ("u-1".into(), 5, Some(4), Some("s-1".into()), Some(0));
        e.targets = vec![Target::new("Document", "d-\"1").role("subject"), Target::new("Folder", "f")];
        assert_eq!(
            String::from_utf8(canonical_v2(&e)).unwrap(),
            r#"["neo4j-audit/chain/v2","s-1",0,"u-1","LOGIN","USER_ACTION",5,null,null,null,"client",4,[["Document","d-\"1","subject"],["Folder","f",null]]]"#
        );
        // The same bytes as serde_json writes for that array.
        let arr = serde_json::json!([
            "neo4j-audit/chain/v2",
            "s-1",
            0,
            "u-1",
            "LOGIN",
            "USER_ACTION",
            5,
            null,
            null,
            null,
            "client",
            4,
            [["Document", "d-\"1", "subject"], ["Folder", "f", null]]
        ]);
        assert_eq!(canonical_v2(&e), serde_json::to_vec(&arr).unwrap());
        let h = event_hash_v2(&e, GENESIS);
        let edits: [fn(&mut AuditEvent); 5] = [
            |e: &mut AuditEvent| e.targets[0].uid = "d-2".into(),
            |e: &mut AuditEvent| e.targets[1].role = Some("x".into()),
            |e: &mut AuditEvent| e.targets.reverse(),
            |e: &mut AuditEvent| e.source = Source::Worker,
            |e: &mut AuditEvent| e.occurred_at = None,
        ];
        for edit in edits {
            let mut x = e.clone();
            edit(&mut x);
            assert_ne!(event_hash_v2(&x, GENESIS), h);
        }
    }

    #[test]
    fn v1_and_v2_events_verify_side_by_side_and_targets_are_covered() {
        use crate::event::Target;
        let chain = Chain::new_stream();
        let evs: Vec<AuditEvent> = (0..6)
            .map(|i| {
                let mut e = AuditEvent::build(None, &format!("E{i}"), None, None, 100).unwrap();
                if i % 2 == 1 {
                    e.set_targets(vec![Target::new("Document", format!("d-{i}")).role("subject")]).unwrap();
                }
                chain.seal(&mut e);
                e
            })
            .collect();
        assert_eq!(evs[0].hash, Some(event_hash(&evs[0], GENESIS)), "no targets: version 1, as before");
        assert_eq!(evs[1].hash, Some(event_hash_v2(&evs[1], evs[0].hash.as_deref().unwrap())));
        assert!(verify(&evs, true).ok);
        // Editing, removing or adding a target breaks the hash.
        let mut edited = evs.clone();
        edited[3].targets[0].uid = "d-other".into();
        assert_eq!(verify(&edited, true).first_break.map(|b| (b.kind, b.seq)), Some((BreakKind::Edited, 3)));
        let mut removed = evs.clone();
        removed[3].targets.clear();
        assert_eq!(verify(&removed, true).first_break.map(|b| (b.kind, b.seq)), Some((BreakKind::Edited, 3)));
        let mut added = evs.clone();
        added[2].targets.push(Target::new("Document", "planted"));
        assert_eq!(verify(&added, true).first_break.map(|b| (b.kind, b.seq)), Some((BreakKind::Edited, 2)));
    }

    /// Version 1 leaves `source` and `occurredAt` out, so it verifies only with a client's own
    /// provenance; an event built with other provenance is sealed in version 2, which covers it.
    #[test]
    fn version_1_verifies_only_with_a_clients_own_provenance() {
        use crate::event::Source;
        let chain = Chain::for_trail("t");
        let mut own = AuditEvent::build(None, "E", None, None, 100).unwrap();
        chain.seal(&mut own);
        assert_eq!(own.hash, Some(event_hash(&own, GENESIS)), "version 1");
        assert!(verify_hash(&own));
        // Edited after the seal: the hash (version 1) still matches, the provenance does not.
        let edits: [fn(&mut AuditEvent); 3] = [
            |e: &mut AuditEvent| e.occurred_at = Some(e.ts - 1),
            |e: &mut AuditEvent| e.source = Source::Worker,
            |e: &mut AuditEvent| (e.source, e.occurred_at) = (Source::Worker, Some(0)),
        ];
        for edit in edits {
            let mut x = own.clone();
            edit(&mut x);
            assert_eq!(event_hash(&x, GENESIS), *x.hash.as_ref().unwrap());
            assert!(!verify_hash(&x), "{x:?}");
        }
        // Stored before provenance existed (read back without it): verifies.
        let mut old = own.clone();
        old.occurred_at = None;
        assert!(verify_hash(&old));
        // Built with other provenance (its `ts` moved through the public fields): version 2.
        let mut moved = AuditEvent::build(None, "E", None, None, 100).unwrap();
        moved.ts -= 60_000;
        chain.seal(&mut moved);
        assert_eq!(moved.hash, Some(event_hash_v2(&moved, own.hash.as_deref().unwrap())));
        assert!(verify_hash(&moved));
        let mut x = moved.clone();
        x.occurred_at = Some(x.ts);
        assert!(!verify_hash(&x));
        // A Worker event of a stream begun before streams were bound (a plain UUID id), sealed
        // in version 1 as the Worker then did, still verifies; in a bound stream it cannot be.
        for (id, ok) in [("8e0c1c84-52a4-4a0c-9d0f-2f1b7a6a3c11".to_owned(), true), (trail_stream_id("t"), false)] {
            let mut w = AuditEvent::build(None, "E", None, None, 100).unwrap();
            (w.source, w.occurred_at, w.stream_id, w.seq) = (Source::Worker, Some(1), Some(id), Some(0));
            w.prev_hash = Some(GENESIS.into());
            w.hash = Some(event_hash(&w, GENESIS));
            assert_eq!(verify_hash(&w), ok);
        }
    }

    #[test]
    fn chains_sharing_a_store_continue_one_stream() {
        use std::sync::Arc;
        struct Shared(Arc<Mutex<Option<StreamState>>>);
        impl StreamStore for Shared {
            fn load(&self) -> Option<StreamState> {
                self.0.lock().unwrap().clone()
            }
            fn save(&self, s: &StreamState) {
                *self.0.lock().unwrap() = Some(s.clone());
            }
        }
        let cell = Arc::new(Mutex::new(None));
        let a = Chain::resume(StreamState::fresh(), Some(Box::new(Shared(cell.clone()))));
        let mut e0 = AuditEvent::build(None, "A", None, None, 10).unwrap();
        a.seal(&mut e0);
        // A second chain (e.g. after a reload) on the same store picks up where the first stopped.
        let b = Chain::resume(StreamState::fresh(), Some(Box::new(Shared(cell.clone()))));
        let mut e1 = AuditEvent::build(None, "B", None, None, 10).unwrap();
        b.seal(&mut e1);
        let mut e2 = AuditEvent::build(None, "C", None, None, 10).unwrap();
        a.seal(&mut e2);
        assert_eq!(e1.stream_id, e0.stream_id);
        assert_eq!((e0.seq, e1.seq, e2.seq), (Some(0), Some(1), Some(2)));
        assert_eq!(e1.prev_hash, e0.hash);
        assert_eq!(e2.prev_hash, e1.hash);
        assert!(verify(&[e0, e1, e2], true).ok);
    }

    #[test]
    fn intact_stream_verifies() {
        let (chain, evs) = stream(5);
        let r = verify(&evs, true);
        assert!(r.ok, "{r:?}");
        assert_eq!(r.checked, 5);
        assert_eq!(r.head_hash, Some(chain.state().head));
        assert_eq!(chain.state().next_seq, 5);
    }

    #[test]
    fn edit_delete_insert_reorder_are_found() {
        let (_, evs) = stream(6);
        let mut edited = evs.clone();
        edited[3].details = Some(r#"{"x":1}"#.into());
        let b = verify(&edited, true).first_break.unwrap();
        assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 3, Some(evs[3].uid.as_str())));

        let mut deleted = evs.clone();
        deleted.remove(2);
        let b = verify(&deleted, true).first_break.unwrap();
        assert_eq!((b.kind, b.seq), (BreakKind::Deleted, 2));
        let b = verify(&evs[1..], true).first_break.unwrap();
        assert_eq!((b.kind, b.seq), (BreakKind::Deleted, 0));
        assert!(verify(&evs[1..], false).ok, "a window is anchored on its first event");
        let mut w = Verifier::new("s", false);
        w.anchor_at_genesis();
        evs[1..].iter().for_each(|e| w.push(e.clone()));
        let b = w.finish().first_break.unwrap();
        assert_eq!((b.kind, b.seq), (BreakKind::Deleted, 0), "nothing before the window: from the start");

        // An edge re-pointed (the read side's edges check): edited at that event, also across a
        // resume from the verifier's state (the mark held by the group not judged yet).
        let mut v = Verifier::new("s", true);
        v.push(evs[0].clone());
        v.push(evs[1].clone());
        v.edges_off(&evs[2].uid);
        v.push(evs[2].clone());
        let mut v = Verifier::resume(v.state(), None);
        evs[3..].iter().for_each(|e| v.push(e.clone()));
        let b = v.finish().first_break.unwrap();
        assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 2, Some(evs[2].uid.as_str())), "{b:?}");
        assert!(b.message.contains("PERFORMED_BY or ON"), "{b:?}");
        // A property of another type (the read side's type check), read with placeholders
        // (no time: 0, so the hash fails too): edited there, naming it, not "do not hash"; also
        // across a resume, and ahead of an edge marked on the same event.
        let mut v = Verifier::new("s", true);
        v.push(evs[0].clone());
        v.push(evs[1].clone());
        v.edges_off(&evs[2].uid);
        v.fields_off(&evs[2].uid, "timestamp");
        let mut read = evs[2].clone();
        read.ts = 0;
        v.push(read);
        let mut v = Verifier::resume(v.state(), None);
        evs[3..].iter().for_each(|e| v.push(e.clone()));
        let b = v.finish().first_break.unwrap();
        assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Edited, 2, Some(evs[2].uid.as_str())), "{b:?}");
        assert!(b.message.starts_with("seq 2: stored timestamp: missing or not of the type"), "{b:?}");

        let mut inserted = evs.clone();
        let mut fake = evs[4].clone();
        fake.uid = "intruder".into();
        fake.details = Some("{}".into());
        inserted.insert(4, fake);
        let b = verify(&inserted, true).first_break.unwrap();
        assert_eq!((b.kind, b.seq, b.uid.as_deref()), (BreakKind::Inserted, 4, Some("intruder")));

        // Swap 2 and 3 and re-hash both so each is self-consistent: the link breaks.
        let mut reordered = evs.clone();
        reordered.swap(2, 3);
        for (i, e) in reordered.iter_mut().enumerate().skip(2).take(2) {
            e.seq = Some(i as u64);
            e.hash = Some(event_hash(e, e.prev_hash.as_deref().unwrap()));
        }
        let b = verify(&reordered, true).first_break.unwrap();
        assert_eq!((b.kind, b.seq), (BreakKind::Reordered, 2));
    }

    /// A Worker-style signed stream: writes of the given sizes, each sealed on its last event,
    /// and the trail's head sealed after the last write.
    #[cfg(feature = "ingest")]
    // Signs synchronously (ed25519-dalek): native builds only.
    #[cfg(not(target_arch = "wasm32"))]
    fn signed_stream(sizes: &[usize]) -> (crate::sign::KeySet, Vec<(AuditEvent, Option<StoredSeal>)>, SignedHead) {
        use crate::sign::{KeySet, Purpose, SigningKey};
        let key = SigningKey::from_secret("k", &"07".repeat(32)).unwrap();
        let mut out = Vec::new();
        let (mut seq, mut prev) = (0u64, GENESIS.to_owned());
        for (w, n) in sizes.iter().enumerate() {
            for i in 0..*n {
                let mut e = AuditEvent::build(None, &format!("W{w}E{i}"), None, None, 100).unwrap();
                e.source = crate::event::Source::Worker;
                e.occurred_at = Some(e.ts - 5);
                prev = seal_v2(&mut e, "s", seq, &prev);
                let seal = (i + 1 == *n).then(|| key.seal(Purpose::Event, "s", seq, &prev, 1));
                out.push((e, seal));
                seq += 1;
            }
        }
        let head = SignedHead {
            stream_id: "s".into(),
            seq: seq - 1,
            hash: prev.clone(),
            seal: Some(key.seal(Purpose::Head, "s", seq - 1, &prev, 1)),
        };
        (KeySet::from_jwks(&[key.public_jwk()]).unwrap(), out, head)
    }

    #[cfg(feature = "ingest")]
    // Signs synchronously (ed25519-dalek): native builds only.
    #[cfg(not(target_arch = "wasm32"))]
    fn verify_signed(
        keys: &crate::sign::KeySet,
        evs: &[(AuditEvent, Option<StoredSeal>)],
        head: &SignedHead,
    ) -> Option<(BreakKind, u64, Option<String>)> {
        let mut v = Verifier::new("s", true).with_seals(keys, Some(head.clone()));
        evs.iter().cloned().for_each(|(e, s)| v.push_sealed(e, s));
        v.finish().first_break.map(|b| (b.kind, b.seq, b.uid))
    }

    #[cfg(feature = "ingest")]
    #[test]
    // Signs synchronously (ed25519-dalek): native builds only.
    #[cfg(not(target_arch = "wasm32"))]
    fn signed_stream_tampering_is_named() {
        let (keys, evs, head) = signed_stream(&[3, 2, 4]);
        let uid = |i: usize| Some(evs[i].0.uid.clone());
        assert_eq!(verify_signed(&keys, &evs, &head), None);
        // Version 2 covers provenance: occurredAt edited.
        let mut t = evs.clone();
        t[1].0.occurred_at = Some(0);
        assert_eq!(verify_signed(&keys, &t, &head), Some((BreakKind::Edited, 1, uid(1))));
        // A whole write deleted (seq 3, 4).
        let t: Vec<_> = evs.iter().enumerate().filter(|(i, _)| !(3..5).contains(i)).map(|(_, e)| e.clone()).collect();
        assert_eq!(verify_signed(&keys, &t, &head), Some((BreakKind::Deleted, 3, uid(5))));
        // The tail cut (the last write): the trail's signed head still names seq 8.
        assert_eq!(verify_signed(&keys, &evs[..5], &head), Some((BreakKind::Deleted, 5, None)));
        // Rehashed from seq 1 on after an edit: every hash and link is consistent, the seal is not.
        let mut t = evs.clone();
        t[1].0.details = Some("{}".into());
        let mut prev = t[0].0.hash.clone().unwrap();
        for (e, _) in t.iter_mut().skip(1) {
            let seq = e.seq.unwrap();
            prev = seal_v2(e, "s", seq, &prev);
        }
        assert_eq!(verify_signed(&keys, &t, &head), Some((BreakKind::Forged, 2, uid(2))));
        // An event appended after the last seal (the head rolled forward is not possible without the key).
        let mut t = evs.clone();
        let mut extra = t[8].0.clone();
        extra.uid = "appended".into();
        seal_v2(&mut extra, "s", 9, &t[8].0.hash.clone().unwrap());
        t.push((extra, None));
        assert_eq!(verify_signed(&keys, &t, &head), Some((BreakKind::Unsigned, 9, Some("appended".into()))));
        // Two events claiming seq 4, both linking to seq 3: the one seq 5 does not follow is the intruder.
        let mut t = evs.clone();
        let mut fake = t[4].0.clone();
        fake.uid = "0-sorts-first".into();
        seal_v2(&mut fake, "s", 4, &t[3].0.hash.clone().unwrap());
        t.insert(4, (fake, None));
        assert_eq!(verify_signed(&keys, &t, &head), Some((BreakKind::Inserted, 4, Some("0-sorts-first".into()))));
        // No trail head naming the stream (removed, or moved on to another stream): its end is
        // uncovered, tail cut (to a write's boundary) or not; an unsigned stream stays unsigned.
        for end in [5, 9] {
            let mut v = Verifier::new("s", true).with_seals(&keys, None);
            evs[..end].iter().cloned().for_each(|(e, s)| v.push_sealed(e, s));
            let b = v.finish().first_break.map(|b| (b.kind, b.seq, b.uid));
            assert_eq!(b, Some((BreakKind::Unsigned, end as u64, None)), "{end}");
        }
        // The trail's head naming the stream, its seal removed or unreadable: the end is
        // uncovered as with no head, reported where the table says (the seq after the stream's
        // last event, 9, uid null), not at the head's own seq (8, the last event's).
        let unsealed = SignedHead { seal: None, ..head.clone() };
        assert_eq!(verify_signed(&keys, &evs, &unsealed), Some((BreakKind::Unsigned, 9, None)));
        // A stream with no seal at all, verified with keys.
        let bare: Vec<_> = evs.iter().map(|(e, _)| (e.clone(), None)).collect();
        assert_eq!(verify_signed(&keys, &bare, &head), Some((BreakKind::Unsigned, 0, uid(0))));
        // A verifier's state survives a JSON round trip mid-stream (GET /v1/verify's cursor).
        let mut t = evs.clone();
        t[6].0.action_type = "EDITED".into();
        let mut v = Verifier::new("s", true).with_seals(&keys, Some(head.clone()));
        t[..5].iter().cloned().for_each(|(e, s)| v.push_sealed(e, s));
        let json = serde_json::to_string(&v.state()).unwrap();
        let mut v = Verifier::resume(serde_json::from_str(&json).unwrap(), Some(&keys));
        t[5..].iter().cloned().for_each(|(e, s)| v.push_sealed(e, s));
        let r = v.finish();
        assert_eq!((r.checked, r.first_break.map(|b| (b.kind, b.seq))), (9, Some((BreakKind::Edited, 6))));
        // Version 1 events (client streams) still verify: verify_hash tries both encodings.
        let (_, v1) = stream(3);
        assert!(verify(&v1, true).ok);
    }
}
