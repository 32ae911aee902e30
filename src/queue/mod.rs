//! The durable queue (wasm): an event is stored before it is sent and removed once Neo4j
//! committed it; a logger created later (the next page load) re-sends what is still stored, with
//! the events' original UIDs and timestamps, so a re-send can never duplicate (MERGE on UID).
//!
//! Storage: IndexedDB where the host has it (browsers); elsewhere (Workers, Node) the queue is
//! kept in memory only, so it survives failed deliveries but not the process. Bounds
//! (`queue.maxEvents`, `queue.maxBytes`) apply per logger; an event that does not fit is dropped,
//! its call resolves `false` and `stats().dropped` counts it. On `pagehide` (browsers) what is
//! pending goes out once more with `fetch(..., {keepalive: true})`, as much as fits in the 64 KiB
//! keepalive budget; it stays stored until a confirmed commit, so a lost keepalive costs nothing.

pub mod idb;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::config::Delivery;
use crate::error::AuditError;
use crate::event::AuditEvent;
use crate::AuditLogger;

/// The keepalive body budget browsers enforce (shared by all in-flight keepalive requests).
pub const KEEPALIVE_BUDGET: usize = 64 * 1024;

struct Pending {
    event: AuditEvent,
    size: usize,
    in_flight: bool,
}

/// A logger with its durable queue.
pub struct Durable {
    logger: Rc<AuditLogger>,
    store: Option<idb::IdbStore>,
    /// Key prefix of this logger's records: one IndexedDB database serves every logger of the
    /// origin, and a logger re-sends only events meant for its own target.
    scope: String,
    pending: RefCell<BTreeMap<String, Pending>>,
    /// Sum of `Pending::size` over `pending`, kept as events come and go (summing on every new
    /// event made logging N events O(N²)).
    pending_bytes: Cell<usize>,
    pagehide: RefCell<Option<idb::EventHandler>>,
}

impl Durable {
    /// Wraps `logger`; starts re-sending what an earlier logger left stored, and (in a window)
    /// listens for `pagehide`.
    pub fn open(logger: Rc<AuditLogger>) -> Rc<Durable> {
        let c = logger.config();
        let scope = format!(
            "{}|{}|{}|{}|{}\u{1}",
            c.endpoint.as_deref().unwrap_or(""),
            c.base_url(),
            c.database,
            c.labels.event,
            c.trail
        );
        let store = idb::IdbStore::available(&c.queue.name);
        let d = Rc::new(Durable { logger, store, scope, pending: RefCell::new(BTreeMap::new()), pending_bytes: Cell::new(0), pagehide: RefCell::new(None) });
        d.listen_pagehide();
        let d2 = d.clone();
        wasm_bindgen_futures::spawn_local(async move {
            d2.recover().await;
        });
        d
    }

    /// Whether events survive a reload here (IndexedDB present).
    pub fn is_persistent(&self) -> bool {
        self.store.is_some()
    }

    fn key(&self, uid: &str) -> String {
        format!("{}{uid}", self.scope)
    }

    fn update_gauge(&self) {
        self.logger.counters().set_queued(self.pending.borrow().len() as u64);
    }

    /// Loads this scope's stored events and delivers them.
    async fn recover(self: &Rc<Self>) {
        let Some(store) = &self.store else { return };
        let values = match store.values_with_prefix(&self.scope).await {
            Ok(v) => v,
            Err(_) => return,
        };
        {
            let mut p = self.pending.borrow_mut();
            for v in values {
                if let Ok(ev) = serde_json::from_str::<AuditEvent>(&v) {
                    if !p.contains_key(&ev.uid) {
                        self.pending_bytes.set(self.pending_bytes.get() + v.len());
                        p.insert(ev.uid.clone(), Pending { size: v.len(), event: ev, in_flight: false });
                    }
                }
            }
        }
        self.update_gauge();
        self.resend_idle().await;
    }

    /// Logs one built event: store it, then deliver it. With [`Delivery::Committed`] the result
    /// is the commit's; with [`Delivery::Queued`] it is `Ok` once stored and delivery continues
    /// in the background.
    pub async fn log(self: &Rc<Self>, event: AuditEvent) -> Result<(), AuditError> {
        if self.logger.is_closed() {
            // Never stored: a closed logger must not leave work for the next one.
            return self.logger.deliver(event).await;
        }
        let durable = self.persist(&event).await?;
        if durable && self.logger.config().delivery == Delivery::Queued {
            let me = self.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = me.send(event).await;
            });
            return Ok(());
        }
        self.send(event).await
    }

    /// Stores `event`; `Ok(true)` when it is in IndexedDB, `Ok(false)` when only in memory.
    async fn persist(&self, event: &AuditEvent) -> Result<bool, AuditError> {
        let json = serde_json::to_string(event).map_err(|e| AuditError::Queue(e.to_string()))?;
        {
            let q = &self.logger.config().queue;
            let p = self.pending.borrow();
            let bytes = self.pending_bytes.get();
            if p.len() >= q.max_events || bytes + json.len() > q.max_bytes {
                self.logger.counters().add_dropped(1);
                return Err(AuditError::QueueFull(format!(
                    "{} events / {} bytes pending (queue.maxEvents {}, queue.maxBytes {})",
                    p.len(),
                    bytes,
                    q.max_events,
                    q.max_bytes
                )));
            }
        }
        let replaced = self
            .pending
            .borrow_mut()
            .insert(event.uid.clone(), Pending { event: event.clone(), size: json.len(), in_flight: true });
        self.pending_bytes.set(self.pending_bytes.get() + json.len() - replaced.map_or(0, |r| r.size));
        self.update_gauge();
        match &self.store {
            // A storage failure (quota, private mode) does not stop delivery; the event is then
            // only as durable as this page.
            Some(store) => Ok(store.put(&self.key(&event.uid), &json).await.is_ok()),
            None => Ok(false),
        }
    }

    /// Delivers one stored event; removes it on commit, leaves it stored otherwise.
    async fn send(&self, event: AuditEvent) -> Result<(), AuditError> {
        if let Some(p) = self.pending.borrow_mut().get_mut(&event.uid) {
            p.in_flight = true;
        }
        let uid = event.uid.clone();
        let res = self.logger.deliver(event).await;
        if res.is_ok() {
            if let Some(gone) = self.pending.borrow_mut().remove(&uid) {
                self.pending_bytes.set(self.pending_bytes.get().saturating_sub(gone.size));
            }
            if let Some(store) = &self.store {
                let _ = store.delete(&[self.key(&uid)]).await;
            }
        } else if let Some(p) = self.pending.borrow_mut().get_mut(&uid) {
            p.in_flight = false;
        }
        self.update_gauge();
        res
    }

    /// Sends again every stored event not in flight now.
    async fn resend_idle(&self) -> bool {
        let idle: Vec<AuditEvent> = {
            let mut p = self.pending.borrow_mut();
            p.values_mut()
                .filter(|x| !x.in_flight)
                .map(|x| {
                    x.in_flight = true;
                    x.event.clone()
                })
                .collect()
        };
        let results = futures::future::join_all(idle.into_iter().map(|ev| self.send(ev))).await;
        results.iter().all(Result::is_ok)
    }

    /// Re-sends what failed earlier, waits for everything in flight; `true` when the queue is
    /// empty afterwards.
    pub async fn flush(&self) -> bool {
        self.resend_idle().await;
        self.logger.flush().await;
        // Events whose background send was still settling.
        if !self.pending.borrow().is_empty() {
            self.resend_idle().await;
        }
        self.update_gauge();
        self.pending.borrow().is_empty()
    }

    /// Flushes, stops listening for `pagehide`, and closes the logger.
    pub async fn close(&self) -> bool {
        let ok = self.flush().await;
        if let Some(cb) = self.pagehide.borrow_mut().take() {
            if let Some(w) = web_sys::window() {
                let _ = w.remove_event_listener_with_callback("pagehide", cb.as_ref().unchecked_ref());
            }
        }
        self.logger.close().await && ok
    }

    fn listen_pagehide(self: &Rc<Self>) {
        let Some(window) = web_sys::window() else { return };
        let weak: Weak<Durable> = Rc::downgrade(self);
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            if let Some(d) = weak.upgrade() {
                d.send_keepalive();
            }
        });
        if window.add_event_listener_with_callback("pagehide", cb.as_ref().unchecked_ref()).is_ok() {
            *self.pagehide.borrow_mut() = Some(cb);
        }
    }

    /// Sends the oldest pending events that fit the keepalive budget, fire-and-forget. They stay
    /// stored: only a confirmed commit removes an event.
    pub fn send_keepalive(&self) -> usize {
        let mut events: Vec<AuditEvent> = self.pending.borrow().values().map(|p| p.event.clone()).collect();
        events.sort_by_key(|e| e.ts);
        let mut n = events.len();
        let req = loop {
            if n == 0 {
                return 0;
            }
            match self.logger.write_request(&events[..n]) {
                Some(r) if r.body.len() <= KEEPALIVE_BUDGET - 1024 => break r,
                Some(r) => n = (n * (KEEPALIVE_BUDGET - 1024) / r.body.len()).min(n - 1),
                None => return 0,
            }
        };
        let init = js_sys::Object::new();
        let headers = js_sys::Object::new();
        for (k, v) in &req.headers {
            let _ = js_sys::Reflect::set(&headers, &JsValue::from_str(k), &JsValue::from_str(v));
        }
        let set = |k: &str, v: &JsValue| {
            let _ = js_sys::Reflect::set(&init, &JsValue::from_str(k), v);
        };
        set("method", &JsValue::from_str("POST"));
        set("keepalive", &JsValue::TRUE);
        set("headers", &headers);
        set("body", &JsValue::from_str(&req.body));
        if let Ok(f) = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("fetch")) {
            if let Some(f) = f.dyn_ref::<js_sys::Function>() {
                if let Ok(p) = f.call2(&JsValue::UNDEFINED, &JsValue::from_str(&req.url), &init) {
                    // Swallow the outcome: an unhandled rejection must not surface on unload.
                    if let Ok(p) = p.dyn_into::<js_sys::Promise>() {
                        let noop = Closure::<dyn FnMut(JsValue)>::new(|_| {});
                        let _ = p.catch(&noop);
                        noop.forget();
                    }
                }
            }
        }
        n
    }
}
