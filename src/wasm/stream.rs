//! Browsers: the logger's stream state (id, next seq, head hash) kept in `sessionStorage`, so a
//! reload of the tab continues the same hash chain. The state is written in the same task as the
//! call that chained the event (no page can close in between, so there is no window in which an
//! event is chained but its state is not saved), but two microtask ticks later, after the call's
//! request went out (the machine's turn, queued after the save, calls `fetch()`): `setItem` costs
//! tens of microseconds in Chromium, which a lone call would otherwise pay before its request
//! starts (bench/p2_order_probe.mjs; tests/web.rs checks the order). States due in the same task are
//! written once, the latest per key, and a logger made meanwhile (the one-shot function) reads
//! the due state, not the stored one. Where there is none (Workers, Node), a logger is a new
//! stream, kept in memory. The storage, the states due and those it refused are the host's
//! (src/wasm/lease.js); this module decides which state a logger resumes.
//!
//! A copied tab ("Duplicate tab", `window.open` without `noopener`) gets a copy of the opener's
//! `sessionStorage`, so the state alone would let two live pages continue one stream (two events
//! with one seq: a fork). So a page resumes a saved stream only if it holds the stream's lease: a
//! `localStorage` key (shared by the origin's tabs, read and written synchronously, before the
//! first event is chained) naming the page by an id kept in memory only. A page takes a lease that
//! is free or its own, and gives it back on `pagehide` (not when the page goes into the
//! back/forward cache: it may come back with its stream) with the head of the state it left: a
//! page resumes a given-back stream only from that very head, so a copy that makes its logger after
//! its opener went away (its copied state older than the opener's last) starts a new stream
//! instead of giving out the opener's later seqs again. A stream whose lease another page holds,
//! or a storage that refuses the lease, starts a new stream. A lease is never taken over by time:
//! a tab that died without `pagehide` (a crash) costs its reload the stream's continuity (a new
//! stream), whereas a lease gone stale after a bound would let a copy fork the stream of a live
//! tab whose timers the browser throttled or froze in the background.

use crate::chain::{StreamState, StreamStore};
use crate::error::cat;
use crate::AuditLogger;

/// Storage key prefix; the rest is `url|database|trail|identity` (a user signing in on the same
/// tab starts a stream of their own), and the event and trail labels when they are not the defaults.
const PREFIX: &str = "neo4j-audit:stream:";

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/wasm/lease.js")]
extern "C" {
    /// Takes the lease of stream `id` for this page, to continue it from `head` (src/wasm/lease.js,
    /// which also gives it back on `pagehide`, with the head left): whether the page holds it now.
    /// Never throws.
    #[wasm_bindgen(js_name = lease)]
    fn lease(id: &str, head: &str) -> bool;
    /// Whether the page has a `sessionStorage` it may use.
    #[wasm_bindgen(js_name = hasSession)]
    fn has_session() -> bool;
    /// The state saved under `key`: due (saved in this task, not written yet), refused by the
    /// storage (full; kept in memory for the tab's other loggers of that stream: with none saved,
    /// a logger chained from its own last-known head, giving out again the seqs given out since,
    /// a fork; a reload, which starts without them, begins a new stream), or stored: what a new
    /// logger resumes, if it takes the lease. Never throws.
    #[wasm_bindgen(js_name = streamLoad)]
    fn stream_load(key: &str) -> Option<String>;
    /// The state a logger goes on from at each event: [`stream_load`]'s, but the one this page
    /// wrote last before the stored one (a same-origin frame's, in the tab's shared
    /// sessionStorage, made the page go on with the frame's stream without its lease, and a copy
    /// of the tab with it too: a fork). Never throws.
    #[wasm_bindgen(js_name = streamOwn)]
    fn stream_own(key: &str) -> Option<String>;
    /// Saves a state, written with the others due two microtask ticks later (the latest per key;
    /// a state the storage refuses removes the stored one and is kept in memory). Never throws.
    #[wasm_bindgen(js_name = streamSave)]
    fn stream_save(key: &str, json: &str);
    /// Removes the stored state of `key`. Never throws.
    #[wasm_bindgen(js_name = streamForget)]
    fn stream_forget(key: &str);
}

/// The stream state of one (url, database, trail, identity) in the page's `sessionStorage`; the
/// storage, the states due and those it refused are the host's (src/wasm/lease.js: no Rust task
/// and no thread-local lists in the .wasm for them).
struct SessionStore {
    key: String,
}

impl StreamStore for SessionStore {
    fn load(&self) -> Option<StreamState> {
        StreamState::from_json(&stream_own(&self.key)?)
    }

    fn save(&self, state: &StreamState) {
        stream_save(&self.key, &state.to_json());
    }
}

/// Makes `logger` continue the tab's saved stream for its (url, database, trail), if the host has
/// `sessionStorage`.
pub fn attach(logger: &mut AuditLogger) {
    // Client mode chains nothing here (the Worker does): no state to keep, no lease to take.
    if logger.config().endpoint.is_none() && crate::queue::window().is_some() && has_session() {
        attach_to(logger);
    }
}

/// [`attach`] where there is a sessionStorage (a page), out of line: in a Worker or Node the
/// constructor never runs it, and V8 compiles a wasm function whole on its first call.
#[inline(never)]
fn attach_to(logger: &mut AuditLogger) {
    let c = logger.config();
    let (url, id) = (c.base_url(), logger.identity());
    let mut parts: Vec<&str> = vec![url, &c.database, &c.trail, id];
    // The labels decide which events a verification reads as the trail's: loggers of one trail
    // under other labels keep streams of their own (one shared stream gave each label every other
    // seq, read as `deleted`). The default labels add nothing, so a tab's saved stream goes on.
    if c.labels != crate::config::Labels::default() {
        parts.extend([c.labels.event.as_str(), &c.labels.trail]);
    }
    let key = cat(&[PREFIX, &crate::identity::scope(&parts)]);
    let store = SessionStore { key };
    let state = match stream_load(&store.key).and_then(|j| StreamState::from_json(&j)) {
        Some(saved) if lease(&saved.stream_id, &saved.head) => saved,
        _ => {
            let fresh = StreamState::for_trail(&c.trail);
            if !lease(&fresh.stream_id, &fresh.head) {
                // Unleased, a saved state could be resumed by a copy of this tab: keep none (the
                // stream stays in memory; a reload starts a new one).
                stream_forget(&store.key);
                logger.resume_stream(fresh, None);
                return;
            }
            fresh
        }
    };
    store.save(&state);
    logger.resume_stream(state, Some(Box::new(store)));
}
