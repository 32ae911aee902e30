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
//! back/forward cache: it may come back with its stream). A stream whose lease another page holds,
//! or a storage that refuses the lease, starts a new stream. A lease is never taken over by time:
//! a tab that died without `pagehide` (a crash) costs its reload the stream's continuity (a new
//! stream), whereas a lease gone stale after a bound would let a copy fork the stream of a live
//! tab whose timers the browser throttled or froze in the background.

use crate::chain::{StreamState, StreamStore};
use crate::error::cat;
use crate::AuditLogger;

/// Storage key prefix; the rest is `url|database|trail|identity` (a user signing in on the same
/// tab starts a stream of their own).
const PREFIX: &str = "neo4j-audit:stream:";
/// Lease key prefix (in `localStorage`); the rest is the stream id, the value the holder's page id.
const LEASE: &str = "neo4j-audit:lease:";

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
    /// This page's id (random, in memory only, so a copy of the tab has another) and the lease
    /// keys it holds (see the module docs); `None` until the page takes its first lease.
    static LEASES: std::cell::RefCell<Option<(String, Vec<String>)>> = const { std::cell::RefCell::new(None) };
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
    let key = cat(&[PREFIX, &crate::identity::scope(&[&c.base_url(), &c.database, &c.trail, &logger.identity()])]);
    let store = SessionStore { storage, key };
    let local = crate::queue::window().and_then(|w| w.local_storage().ok().flatten());
    let state = match store.load() {
        Some(saved) if lease(local.as_ref(), &saved.stream_id) => saved,
        _ => {
            let fresh = StreamState::for_trail(&c.trail);
            if !lease(local.as_ref(), &fresh.stream_id) {
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

/// Takes the lease of stream `id` for this page: whether the page holds it now. A lease this page
/// holds already costs no storage access (the one-shot function builds a logger per call).
fn lease(local: Option<&web_sys::Storage>, id: &str) -> bool {
    let key = cat(&[LEASE, id]);
    let page = LEASES.with(|l| match &*l.borrow() {
        Some((_, held)) if held.contains(&key) => None,
        Some((page, _)) => Some(page.clone()),
        None => Some(crate::random::uuid_v4()),
    });
    let Some(page) = page else { return true };
    let Some(local) = local else { return false };
    match local.get_item(&key) {
        Ok(None) => {}
        Ok(Some(holder)) if holder == page => {}
        _ => return false, // another live page's (or a dead one's), or unreadable
    }
    if local.set_item(&key, &page).is_err() {
        return false;
    }
    let first = LEASES.with(|l| {
        let mut l = l.borrow_mut();
        let first = l.is_none();
        l.get_or_insert_with(|| (page, Vec::new())).1.push(key);
        first
    });
    if first {
        release_on_pagehide(local.clone());
    }
    true
}

/// On `pagehide` (unless the page is kept in the back/forward cache), gives back the leases this
/// page holds and still finds its own.
fn release_on_pagehide(local: web_sys::Storage) {
    use wasm_bindgen::JsCast;
    let Some(window) = crate::queue::window() else { return };
    let cb = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        let persisted = js_sys::Reflect::get(&e, &"persisted".into()).ok().and_then(|v| v.as_bool());
        if persisted == Some(true) {
            return;
        }
        LEASES.with(|l| {
            if let Some((page, held)) = &mut *l.borrow_mut() {
                for key in held.drain(..) {
                    if local.get_item(&key).ok().flatten().as_deref() == Some(page.as_str()) {
                        let _ = local.remove_item(&key);
                    }
                }
            }
        });
    });
    let _ = window.add_event_listener_with_callback("pagehide", cb.as_ref().unchecked_ref());
    cb.forget();
}
