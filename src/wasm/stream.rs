//! Browsers: the logger's stream state (id, next seq, head hash) kept in `sessionStorage`, so a
//! reload of the tab continues the same hash chain. The state is written in the same task as the
//! call that chained the event (no page can close in between, so there is no window in which an
//! event is chained but its state is not saved), but one microtask tick after the call's request
//! went out: `setItem` costs tens of microseconds in Chromium, which a lone call would otherwise
//! pay before its request starts (bench/latency_chromium.mjs). States due in the same task are
//! written once, the latest per key, and a logger made meanwhile (the one-shot function) reads
//! the due state, not the stored one. Where there is none (Workers, Node), a logger is a new
//! stream, kept in memory.
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
}

struct SessionStore {
    storage: web_sys::Storage,
    key: String,
}

thread_local! {
    /// States saved but not written yet, `(key, JSON)`, the latest per key (see the module docs).
    static DUE: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
    /// States the storage refused (full), the latest per key, until a later one is written: the
    /// tab's other loggers of that stream read them (with none saved, a logger chained from its
    /// own last-known head, giving out again the seqs given out since: a fork); a reload, which
    /// starts without them, begins a new stream.
    static HELD: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The state `list` holds for `key`.
fn held_in(
    list: &'static std::thread::LocalKey<std::cell::RefCell<Vec<(String, String)>>>,
    key: &str,
) -> Option<String> {
    list.with(|d| d.borrow().iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
}

impl StreamStore for SessionStore {
    fn load(&self) -> Option<StreamState> {
        let raw = match held_in(&DUE, &self.key).or_else(|| held_in(&HELD, &self.key)) {
            Some(v) => v,
            None => self.storage.get_item(&self.key).ok()??,
        };
        StreamState::from_json(&raw)
    }

    fn save(&self, state: &StreamState) {
        let json = state.to_json();
        let first = DUE.with(|d| {
            let mut d = d.borrow_mut();
            let first = d.is_empty();
            match d.iter_mut().find(|(k, _)| *k == self.key) {
                Some(due) => due.1 = json,
                None => d.push((self.key.clone(), json)),
            }
            first
        });
        if !first {
            return; // the task below is due already
        }
        let storage = self.storage.clone();
        // Spawned while the call is being made, so it is polled first: it steps aside once, and
        // writes on the next microtask tick, after the call's own task sent its request.
        wasm_bindgen_futures::spawn_local(async move {
            let mut stepped_aside = false;
            std::future::poll_fn(|cx| {
                if std::mem::replace(&mut stepped_aside, true) {
                    return std::task::Poll::Ready(());
                }
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            })
            .await;
            for (key, json) in DUE.with(|d| std::mem::take(&mut *d.borrow_mut())) {
                // A full or disabled storage only costs continuity after a reload: a state it
                // refuses takes the stale one with it, so a reload starts a new stream instead of
                // giving out again the seqs given out since (a fork).
                // Until then, the tab's loggers share it in memory (HELD).
                let refused = storage.set_item(&key, &json).is_err();
                if refused {
                    let _ = storage.remove_item(&key);
                }
                HELD.with(|h| {
                    let mut h = h.borrow_mut();
                    h.retain(|(k, _)| *k != key);
                    if refused {
                        h.push((key, json));
                    }
                });
            }
        });
    }
}

/// Makes `logger` continue the tab's saved stream for its (url, database, trail), if the host has
/// `sessionStorage`.
pub fn attach(logger: &mut AuditLogger) {
    let Some(storage) = crate::queue::window().and_then(|w| w.session_storage().ok().flatten()) else {
        return;
    };
    attach_to(logger, storage);
}

/// [`attach`] where there is a sessionStorage (a page), out of line: in a Worker or Node the
/// constructor never runs it, and V8 compiles a wasm function whole on its first call.
#[inline(never)]
fn attach_to(logger: &mut AuditLogger, storage: web_sys::Storage) {
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
    let store = SessionStore { storage, key };
    let state = match store.load() {
        Some(saved) if lease(&saved.stream_id, &saved.head) => saved,
        _ => {
            let fresh = StreamState::for_trail(&c.trail);
            if !lease(&fresh.stream_id, &fresh.head) {
                // Unleased, a saved state could be resumed by a copy of this tab: keep none (the
                // stream stays in memory; a reload starts a new one).
                let _ = store.storage.remove_item(&store.key);
                logger.resume_stream(fresh, None);
                return;
            }
            fresh
        }
    };
    store.save(&state);
    logger.resume_stream(state, Some(Box::new(store)));
}
