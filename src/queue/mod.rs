//! The durable queue (wasm): an event is kept until committed — stored before it is sent
//! (`delivery: "queued"`), or with committed delivery only when its commit is not known in time
//! (a failure, no answer within [`STORE_AFTER_MS`], `pagehide`; see [`Durable::log`]) — and removed
//! once it was committed; a logger created later (the next page load) re-sends what is still stored, with the
//! events' original UIDs and timestamps, so a re-send can never duplicate (MERGE on UID).
//! The removal is issued just after the commit is known (a zero-delay timer later, gathered with
//! the other removals due) and not awaited by the call (`flush()` and `close()` wait for it); a record left behind (reload, storage error) is re-sent by the next
//! logger — a no-op in the graph — and removed then. IndexedDB writes of concurrent calls share
//! one transaction (see [`idb`]).
//!
//! **Identity.** Each record is filed under the logger's target *and identity*
//! ([`crate::identity`]: the token's subject in client mode, the Neo4j user in direct mode). A
//! logger only ever loads and sends its own identity's events, so an event logged by alice is
//! never delivered with bob's token; alice's events wait for a logger of alice's. Nothing waits
//! forever: any record older than `queue.maxAgeMs` (default 7 days), whoever owns it, is removed
//! when a logger opens the store, and counted in `stats().expired`. `clearQueue()` removes this
//! identity's waiting events and dead letters (for sign-out).
//!
//! **Dead letters.** An event the endpoint rejects for good (400/403 `forbidden`/413/422, e.g.
//! a Worker with tighter limits than the client; see [`AuditError::is_rejection`]) leaves the
//! queue into a dead-letter record with its reason (`stats().deadLettered`, `deadLetters()`).
//! The logger isolates such an event before giving up on it, so it never fails or holds back the
//! other events of its batch. Stored events that no longer pass the rule table are dead-lettered
//! when loaded, without being sent.
//!
//! **Background drain.** After a failure a retry may cure (network, timeout, 5xx, 429), the
//! queue re-sends in the background: after the server's `Retry-After` (or an exponential backoff
//! of 1 s up to 5 min, jittered), on the browser's `online` event, and on the next logging call
//! once that time has passed. One drain at a time; in Node its timer does not keep the process
//! alive.
//!
//! Storage: IndexedDB where the host has it (browsers); elsewhere (Workers, Node) memory only,
//! so events survive failed deliveries but not the process. Bounds (`queue.maxEvents`,
//! `queue.maxBytes`) apply per logger; an event that does not fit is dropped, its call resolves
//! `false` and `stats().dropped` counts it. On `pagehide` (browsers, direct mode) what is pending
//! goes out once more with `fetch(..., {keepalive: true})`, as much as fits in the 64 KiB
//! keepalive budget; it stays stored until a confirmed commit, so a lost keepalive costs nothing.

pub mod idb;
mod spool;

pub use spool::Spool;

use crate::error::cat;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::batch::SharedEvent;
use crate::config::Delivery;
use crate::error::AuditError;
use crate::event::{now_millis, AuditEvent};
use crate::AuditLogger;

/// The browser's `window`, or `None` (Workers, Node, Web Workers): what `web_sys::window()`
/// answers, decided in JS (src/queue/keepalive.js), which looks the `window` property up before
/// `instanceof Window` (that throws, and is caught, where there is no `Window` class: tens of
/// microseconds per call, several calls per new logger in a Worker). Not `web_sys::window()`
/// itself: its `js_sys::global()` lookup cost a Worker's first logger about 0.8 KB more of wasm
/// to compile (bench/coldstart-v8.mjs), and the write entry (bench/size fetch-writeonly) carried
/// it and its four glue functions.
/// With the cargo feature `memory-queue` (the Workers build) always `None`, known when compiling:
/// the `pagehide`/`online` listeners and the keepalive re-send are then left out of the build.
pub(crate) fn window() -> Option<web_sys::Window> {
    if cfg!(feature = "memory-queue") {
        return None;
    }
    js_page_window()
}

pub use crate::machine::{keepalive_fit, DeadLetter, KEEPALIVE_BUDGET, MAX_DEAD_LETTERS, STORE_AFTER_MS};
use crate::machine::{Sorted, DEAD, DRAIN_MAX_MS, DRAIN_MIN_MS};

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/queue/keepalive.js")]
extern "C" {
    /// A fire-and-forget POST with `keepalive: true` (src/queue/keepalive.js); never throws.
    #[wasm_bindgen(js_name = keepalive)]
    fn js_keepalive(url: &str, headers: &str, body: &str);
    /// The global object if it is a `Window`, else `None` (src/queue/keepalive.js).
    #[wasm_bindgen(js_name = pageWindow)]
    fn js_page_window() -> Option<web_sys::Window>;
}

/// A DOM event listener kept alive by its owner.
type EventHandler = Closure<dyn FnMut(web_sys::Event)>;

/// The waiting events by UID, each with whether a send of it is in flight (the map's flag). An
/// event's size in `pending_bytes` is its [`AuditEvent::json_len`], not stored: a slot is then
/// 8 bytes on wasm32 (see [`crate::uidmap`] and bench/memory.mjs).
type PendingMap = crate::uidmap::UidMap;

/// A logger with its durable queue.
pub struct Durable {
    logger: Rc<AuditLogger>,
    store: Option<idb::IdbStore>,
    /// Key prefix of this logger's records: target and identity (see the module docs). Empty
    /// without a store (Workers, Node): no record is filed then, and a Worker's first logger
    /// compiles neither the scope nor the identity it is made of (bench/coldstart-v8.mjs).
    scope: String,
    pending: RefCell<PendingMap>,
    /// Committed-delivery events whose request is out but that are not stored yet (see
    /// [`Durable::log`]); their flag is unused.
    unstored: RefCell<PendingMap>,
    /// A task is due to store the events of `unstored` that outstay [`STORE_AFTER_MS`].
    sweeping: Cell<bool>,
    /// Sum of the pending events' `json_len`, kept as events come and go.
    pending_bytes: Cell<usize>,
    /// Keys of committed (or dead-lettered) events whose delete is not issued yet (see
    /// [`Durable::forget`]) or could not be.
    undeleted: RefCell<Vec<String>>,
    /// A task is due to issue the deletes in `undeleted`.
    deleting: Cell<bool>,
    dead: RefCell<Vec<DeadLetter>>,
    /// Bumped by `clear`, so a recovery that read the store before it adds nothing back.
    generation: Cell<u64>,
    listeners: RefCell<Vec<(&'static str, EventHandler)>>,
    draining: Cell<bool>,
    /// Ends the drain's current wait early (the browser went `online`).
    drain_wake: RefCell<Option<crate::lite::oneshot::Sender<()>>>,
    /// Set when an event may be waiting idle (a send failed, or recovery loaded events), so a
    /// logging call looks for idle events only then (the scan is not free with a long queue).
    maybe_idle: Cell<bool>,
    drain_backoff_ms: Cell<u64>,
    /// No background re-send before this time (ms since the epoch): the server's `Retry-After`.
    not_before: Cell<i64>,
    /// With a store: set once recovery has loaded what an earlier logger left stored, so that
    /// `flush()` (and `close()`) right after a reload see those events instead of an empty queue.
    loaded: Option<idb::Outcome<()>>,
    /// `delivery: "queued"` calls whose event is admitted but whose send has not started yet
    /// (they store it first): `flush()` waits for them ([`Durable::until_sends_started`]).
    storing: Cell<usize>,
}

/// Counts one call in [`Durable::storing`] for as long as it lives.
struct Storing<'a>(&'a Cell<usize>);

impl<'a> Storing<'a> {
    fn new(c: &'a Cell<usize>) -> Self {
        c.set(c.get() + 1);
        Storing(c)
    }
}

impl Drop for Storing<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl Durable {
    /// Wraps `logger`; sweeps expired records, starts re-sending what an earlier logger of the
    /// same identity left stored, and (in a window) listens for `pagehide` and `online`.
    pub fn open(logger: Rc<AuditLogger>) -> Rc<Durable> {
        let store = idb::IdbStore::available(&logger.config().queue.name);
        let scope = match store {
            Some(_) => crate::machine::queue_scope(&logger),
            None => String::new(),
        };
        let loaded = store.as_ref().map(|_| idb::Outcome::new());
        let d = Rc::new(Durable {
            logger,
            store,
            scope,
            pending: RefCell::new(PendingMap::default()),
            unstored: RefCell::new(PendingMap::default()),
            sweeping: Cell::new(false),
            pending_bytes: Cell::new(0),
            undeleted: RefCell::new(Vec::new()),
            deleting: Cell::new(false),
            dead: RefCell::new(Vec::new()),
            generation: Cell::new(0),
            listeners: RefCell::new(Vec::new()),
            draining: Cell::new(false),
            drain_wake: RefCell::new(None),
            maybe_idle: Cell::new(false),
            drain_backoff_ms: Cell::new(DRAIN_MIN_MS),
            not_before: Cell::new(0),
            storing: Cell::new(0),
            loaded,
        });
        d.listen("pagehide", |d| {
            // The page may be gone before any timer fires: what is in flight unstored is stored
            // now (its transaction committed at once) and goes out once more with keepalive.
            d.store_unstored(i64::MAX);
            if let Some(store) = &d.store {
                store.commit();
            }
            d.send_keepalive();
        });
        d.listen("online", |d| d.network_back());
        // Without IndexedDB (Workers, Node) there is nothing stored to recover: no task, and a
        // Worker's cold start never compiles the recovery code.
        if d.store.is_some() {
            let d2 = d.clone();
            crate::lite::spawn(Box::pin(async move {
                d2.recover().await;
            }));
        }
        d
    }

    /// Whether events survive a reload here (IndexedDB present).
    pub fn is_persistent(&self) -> bool {
        self.store.is_some()
    }

    /// The scope an earlier version filed this logger's records under (its parts joined with
    /// `|`), when that scope can only be this logger's: none of its parts contains `|` (an
    /// identity with a control character was already hashed; a trail has none). Else `None`:
    /// such records are left to expire rather than risk sending another identity's events.
    fn legacy_scope(&self) -> Option<String> {
        crate::machine::legacy_scope(&self.logger)
    }

    fn key(&self, uid: &str) -> String {
        cat(&[&self.scope, uid])
    }

    fn dead_key(&self, uid: &str) -> String {
        cat(&[DEAD, &self.scope, uid])
    }

    fn update_gauge(&self) {
        self.logger.counters().set_queued(self.pending.borrow().len() as u64);
    }

    fn max_age_ms(&self) -> i64 {
        self.logger.config().queue.max_age_ms.min(i64::MAX as u64) as i64
    }

    /// Removes expired records of every scope and identity, then loads this scope's events and
    /// dead letters and delivers the events.
    async fn recover(self: &Rc<Self>) {
        let loaded = self.load().await;
        if let Some(o) = &self.loaded {
            o.set(());
        }
        if loaded {
            let res = self.resend_idle().await;
            self.drain_after(res);
        }
    }

    /// [`Durable::recover`]'s first part: sweeps and loads; `false` when nothing was loaded.
    ///
    /// Only the store's I/O is here: reading the records ([`Durable::sort_records`]) and taking
    /// them in ([`Durable::take_loaded`]) are plain functions, so that this task's state machine
    /// (resumed at each of these awaits) holds one value across them and no copy of their code.
    /// bench/size fetch-writeonly (bare+wasm-opt), 2026-11-29: wasm 163,291 -> 163,112 B raw,
    /// 71,747 -> 71,698 B gzip -9. Tried, not kept: the dead-letter awaits boxed (+36 B raw, +27 B
    /// gz), the legacy moves awaiting `put_issue` (-9 B raw, +110 B gz).
    async fn load(self: &Rc<Self>) -> bool {
        let Some(store) = &self.store else { return false };
        let generation = self.generation.get();
        let Ok(entries) = store.entries_with_prefix("").await else { return false };
        let sorted = self.sort_records(entries);
        if !sorted.expired.is_empty() {
            self.logger.counters().add_expired(sorted.expired.len() as u64);
            let _ = store.delete(&sorted.expired).await;
        }
        let mut old_keys = Vec::new();
        for m in sorted.moved.chunks(3) {
            // [new key, old key, record]
            if store.put(&m[0], &m[2]).await.is_ok() {
                old_keys.push(m[1].clone());
            }
        }
        if !old_keys.is_empty() {
            let _ = store.delete(&old_keys).await;
        }
        if self.generation.get() != generation {
            return false; // cleared meanwhile
        }
        let (invalid, stale) = self.take_loaded(sorted);
        let _ = store.delete(&stale).await;
        for (ev, e) in invalid {
            self.dead_letter(ev, &e).await;
        }
        self.update_gauge();
        true
    }

    /// The store's records sorted for [`Durable::load`]: expired or unreadable keys (of any scope
    /// and identity), this scope's events and dead letters, and the records to move from the
    /// legacy scope (`[new key, old key, record]` each).
    #[inline(never)]
    fn sort_records(&self, entries: Vec<(String, String)>) -> Sorted {
        let cutoff = now_millis() - self.max_age_ms();
        crate::machine::sort_records(entries, &self.scope, self.legacy_scope().as_deref(), cutoff)
    }

    /// Takes the loaded dead letters and events into the queue ([`Durable::load`], once nothing
    /// cleared it meanwhile); the events that break the limits now, to dead-letter, and the keys
    /// of the events dead-lettered already (their pending record's delete failed), to delete.
    #[inline(never)]
    fn take_loaded(&self, sorted: Sorted) -> (Vec<(AuditEvent, AuditError)>, Vec<String>) {
        let Sorted { mut dead, mine, .. } = sorted;
        crate::lite::sort_by_time(&mut dead, |d| d.at);
        self.dead.borrow_mut().append(&mut dead);
        let limits = self.logger.limits();
        let (mut invalid, mut stale) = (Vec::new(), Vec::new());
        let mut p = self.pending.borrow_mut();
        let dead = self.dead.borrow();
        for ev in mine {
            if dead.iter().any(|d| d.event.uid == ev.uid) {
                stale.push(self.key(&ev.uid));
            } else if let Err(v) = ev.check(&limits) {
                invalid.push((ev, AuditError::from(v)));
            } else if !p.contains_key(ev.uid.as_str()) {
                self.pending_bytes.set(self.pending_bytes.get() + ev.json_len());
                p.insert(SharedEvent::new(ev), false);
            }
        }
        (invalid, stale)
    }

    /// Plans a background drain after a re-send that failed in a way a retry may cure.
    fn drain_after(self: &Rc<Self>, res: Result<(), AuditError>) {
        if let Err(e) = res {
            if e.is_retryable() {
                self.schedule_drain(e.retry_after_ms().unwrap_or_else(|| self.drain_backoff_ms.get()));
            }
        }
    }

    /// Logs one built event, admitted at the call ([`Durable::admit`]): store it and deliver it. With [`Delivery::Committed`] the result
    /// is the commit's, and storing runs at the same time as the request (the store only guards
    /// the event while it is in flight): a commit resolves the call at once (the stored copy's
    /// delete is issued, ordered after the put by IndexedDB, and not awaited: see
    /// [`Durable::forget`]); a failure resolves it once the event is stored. With [`Delivery::Queued`] it is `Ok` once stored and delivery
    /// continues in the background (after any `Retry-After` in force).
    ///
    /// Thousands of these futures may wait at once (see bench/memory.mjs), so it is an `async`
    /// block owning `self` and `event` rather than an `async fn`: an `async fn` keeps its
    /// arguments twice for its whole life (as passed, and moved into its body's locals).
    pub fn log(self: Rc<Self>, event: SharedEvent) -> impl std::future::Future<Output = Result<(), AuditError>> {
        async move {
            if self.logger.is_closed() {
                // Never stored: a closed logger must not leave work for the next one.
                let res = self.logger.deliver_shared(event.clone()).await;
                self.forget(event.uid.as_str(), false);
                return res;
            }
            // Earlier events still waiting (a failure a retry may cure): drain them now, unless the
            // server asked for a pause.
            if self.maybe_idle.get() {
                self.schedule_drain(0);
            }
            if self.logger.config().delivery == Delivery::Committed {
                // The request goes out at once and the event is stored only when it must be: when
                // its send failed (before the call resolves false), when the answer takes longer
                // than STORE_AFTER_MS (a timer shared by all calls), or when the page goes away
                // first (`pagehide`, which also re-sends it with keepalive). An event committed
                // within that time (the common case) never touches IndexedDB: a put while its
                // request was in flight, and the delete after it, cost a lone call about a tenth of
                // its latency in Chromium on a 2-core machine (bench/latency_chromium_ab.mjs). What
                // is given up: a tab that crashes (no `pagehide`) within STORE_AFTER_MS of a call
                // whose request is lost too loses that event.
                // Thousands of calls may wait here at once (see bench/memory.mjs): the wait holds
                // the delivery only; the step after it is boxed and takes the outcome by value, so
                // no room is kept for it (an `AuditError`) during the wait.
                if self.store.is_some() {
                    self.unstored.borrow_mut().insert(event.clone(), false);
                    self.schedule_sweep();
                }
                let res = self.logger.deliver_shared(event.clone()).await;
                return Box::pin(self.settle(event, true, res)).await;
            }
            // Boxed: every call's future (queue on or off, either delivery) keeps room for the
            // largest of its states, so this less common path must not add to it.
            Box::pin(self.log_queued(event)).await
        }
    }

    /// [`Durable::log`] with [`Delivery::Queued`]: `Ok` once stored, delivered in the background.
    async fn log_queued(self: &Rc<Self>, event: SharedEvent) -> Result<(), AuditError> {
        // Until its send is started (spawned below, or awaited in the last line): a flush() meanwhile
        // must wait for it, as the send is in no batch yet.
        let storing = Storing::new(&self.storing);
        let durable = match self.store_put(&event) {
            Some(w) => w.await.is_ok(),
            None => false,
        };
        if durable {
            if now_millis() < self.not_before.get() {
                // Left for the drain, which honours the server's Retry-After.
                self.pending.borrow_mut().set_flag(event.uid.as_str(), false);
                self.maybe_idle.set(true);
                self.schedule_drain(0);
                return Ok(());
            }
            let me = self.clone();
            crate::lite::spawn(Box::pin(async move {
                let _ = me.send(event).await;
            }));
            return Ok(());
        }
        drop(storing);
        self.send(event).await
    }

    /// Waits until every `delivery: "queued"` call admitted so far has started its send (stored
    /// its event first), and one timer tick more so the sends it spawned reach the logger's
    /// batches; at most `timeoutMs`. Without it a flush right after such calls found their events
    /// in flight but no batch to wait for, resolved `false`, and `close()` then refused their sends.
    async fn until_sends_started(&self) {
        if self.storing.get() == 0 {
            return;
        }
        let deadline = now_millis() + self.logger.config().timeout_ms.min(i64::MAX as u64) as i64;
        while self.storing.get() > 0 && now_millis() < deadline {
            crate::transport::sleep_ms(1).await;
        }
        crate::transport::sleep_ms(0).await;
    }

    /// Takes `event` into the queue (in memory, marked in flight) if it fits the queue's bounds.
    /// Called in the call that built the event, before anything awaits ([`Spool::admit`]): a
    /// refused event is then still the stream's head, and its seal is taken back, so it takes no
    /// `seq` (checked when the call's future first ran, a burst of calls in one task had all
    /// their events chained before the first was refused: holes that verify as `deleted`).
    pub(crate) fn admit(&self, event: &SharedEvent) -> Result<(), AuditError> {
        // Counted as estimated (the same with a store or without, and when it leaves): the JSON
        // is written only to store the event, when the put is issued (see `store_put`).
        let size = event.json_len();
        {
            let q = &self.logger.config().queue;
            let p = self.pending.borrow();
            let bytes = self.pending_bytes.get();
            if p.len() >= q.max_events || bytes + size > q.max_bytes {
                self.logger.counters().add_dropped(1);
                // A call that ends false: `failed` counts it too (README, Counters).
                self.logger.counters().add_failed(1);
                return Err(crate::machine::queue_full(p.len(), bytes, q));
            }
        }
        // `put`, not `insert`: an equal key is replaced too (`insert` would keep the old event).
        let replaced = self.pending.borrow_mut().put(event.clone(), true);
        self.pending_bytes.set(self.pending_bytes.get() + size - replaced.map_or(0, |r| r.json_len()));
        self.update_gauge();
        Ok(())
    }

    /// Writes an admitted event's JSON to the store: the write's outcome (`Ok`: the event is in
    /// IndexedDB), or `None` when the event is only in memory. A storage failure (quota, private
    /// mode) does not stop delivery; the event is then only as durable as this page. Issued at
    /// once, the text handed over as a JavaScript string and the wasm copy dropped: thousands of
    /// calls may wait for the commit at once, and wasm memory, once grown, never shrinks.
    /// The JSON is written here, not kept from `admit`: a waiting call's future then holds no
    /// text (and no room for one) until its put is issued.
    fn store_put(&self, event: &SharedEvent) -> Option<idb::Written> {
        let store = self.store.as_ref()?;
        let mut json = String::with_capacity(event.json_len());
        event.write_json(&mut json);
        Some(store.put_issue(&self.key(&event.uid), &json))
    }

    /// Delivers one stored event: removed on commit, moved to the dead letters when rejected
    /// for good, left stored (and a background drain planned) otherwise.
    async fn send(self: &Rc<Self>, event: SharedEvent) -> Result<(), AuditError> {
        self.pending.borrow_mut().set_flag(event.uid.as_str(), true);
        // This future waits as long as the call (and thousands may wait): it holds only the
        // event and that wait. The outcome goes by value into the boxed step after it, so no
        // room is kept for it (or for that step) during the wait.
        let res = self.logger.deliver_shared(event.clone()).await;
        Box::pin(self.settle(event, false, res)).await
    }

    /// After a send: [`Durable::committed`] (synchronous) or [`Durable::settle_failed`] (boxed).
    /// Taken by value after the wait, in a boxed step, like the failure step before: matching on
    /// the outcome in the waiting future itself made every waiting call hold 52 bytes more wasm
    /// memory (bench/memory.mjs, 100 000 waiting: 825 -> 877 B per event), and a committed send
    /// still compiles and runs no failure state (a Worker's first event, bench/coldstart-v8.mjs).
    async fn settle(
        self: &Rc<Self>,
        event: SharedEvent,
        call: bool,
        res: Result<(), AuditError>,
    ) -> Result<(), AuditError> {
        match res {
            Ok(()) => {
                self.committed(&event, call);
                Ok(())
            }
            Err(e) => Box::pin(self.settle_failed(event, call, e)).await,
        }
    }

    /// After a send that committed: the event leaves the queue (and storage). Synchronous, apart
    /// from [`Durable::settle_failed`]: a committed send (the usual outcome) runs no async step,
    /// and V8 compiles a wasm function whole on its first call (a Worker's first event,
    /// bench/coldstart-v8.mjs), so the failure paths' state machine was compiled for nothing.
    /// `call`: a committed-delivery call's own send (see [`Durable::log`]), whose event may not
    /// be stored.
    fn committed(self: &Rc<Self>, event: &SharedEvent, call: bool) {
        let stored = self.was_stored(event, call);
        self.forget(event.uid.as_str(), stored);
        self.drain_backoff_ms.set(DRAIN_MIN_MS);
        self.update_gauge();
    }

    /// Whether `event` may be in storage: not when it is a call's own send whose event was never
    /// stored (and now never is to be, but for a failure); it leaves `unstored` here.
    fn was_stored(&self, event: &SharedEvent, call: bool) -> bool {
        !(call && self.unstored.borrow_mut().remove(event.uid.as_str()).is_some())
    }

    /// After a send that failed: the event moves to the dead letters when rejected for good, and
    /// otherwise stays (a background drain planned). Gives `e` back. `call`: as in
    /// [`Durable::committed`]; a call's event is stored, or its put waited for, before the call
    /// resolves.
    async fn settle_failed(self: &Rc<Self>, event: SharedEvent, call: bool, e: AuditError) -> Result<(), AuditError> {
        let stored = self.was_stored(&event, call);
        if call {
            match (stored, &self.store) {
                (false, Some(_)) => {
                    if let Some(w) = self.store_put(&event) {
                        let _ = w.await;
                    }
                }
                (true, Some(store)) => store.settled().await,
                _ => {}
            }
        }
        if e.is_rejection() {
            // Out of memory here; its record (if any) is deleted once the dead letter is stored.
            self.forget(event.uid.as_str(), false);
            self.dead_letter(SharedEvent::unwrap_or_clone(event), &e).await;
        } else {
            self.pending.borrow_mut().set_flag(event.uid.as_str(), false);
            self.maybe_idle.set(true);
            if e.is_retryable() {
                if let Some(ra) = e.retry_after_ms() {
                    self.not_before.set(self.not_before.get().max(now_millis() + ra as i64));
                }
                let delay = e.retry_after_ms().unwrap_or_else(|| self.drain_backoff_ms.get());
                self.schedule_drain(delay);
            }
        }
        self.update_gauge();
        Err(e)
    }

    /// Removes a delivered (or dead-lettered) event from memory and storage. The delete is
    /// neither awaited nor issued by the call: the key joins `undeleted`, and one task issues
    /// every key gathered so far after a zero-delay timer, i.e. after the callers resolved and
    /// their code ran on (a read-write transaction's cost in the browser is then no part of any
    /// call's time, and concurrent calls' deletes share one transaction). `flush()`/`close()`
    /// issue what still waits and wait for it. A record left behind (a reload before the delete
    /// committed, or a delete that failed) is safe: the next logger re-sends it, a no-op in the
    /// graph (MERGE on UID), and then removes it; a delete that could not be issued is tried
    /// again with the next batch of deletes, and by `flush()`.
    /// `stored`: whether the event may be in storage (`false`: it never was, no delete).
    fn forget(self: &Rc<Self>, uid: &str, stored: bool) {
        if let Some(gone) = self.pending.borrow_mut().remove(uid) {
            self.pending_bytes.set(self.pending_bytes.get().saturating_sub(gone.json_len()));
        }
        if self.store.is_none() || !stored {
            return;
        }
        self.undeleted.borrow_mut().push(self.key(uid));
        if self.deleting.replace(true) {
            return; // a task is already due to issue it
        }
        let me = self.clone();
        crate::lite::spawn(Box::pin(async move {
            crate::transport::sleep_ms(0).await;
            me.deleting.set(false);
            me.issue_deletes();
        }));
    }

    /// Stores (issues the puts of) the events of `unstored` born at or before `born_by` (ms since
    /// the epoch; `i64::MAX`: all) and takes them out of it; the oldest birth time left, if any.
    fn store_unstored(&self, born_by: i64) -> Option<i64> {
        // Loops with `push` here and below rather than `collect()`: one `Vec` building instance
        // per iterator chain type otherwise.
        let mut due: Vec<SharedEvent> = Vec::new();
        for e in self.unstored.borrow().keys() {
            if e.ts <= born_by {
                due.push(e.clone());
            }
        }
        for ev in &due {
            self.unstored.borrow_mut().remove(ev.uid.as_str());
            let _ = self.store_put(ev);
        }
        self.unstored.borrow().keys().map(|e| e.ts).min()
    }

    /// Plans the task that stores the events of `unstored` once they outstay [`STORE_AFTER_MS`]
    /// (one task for all calls, sleeping until the oldest is due), unless one is planned.
    fn schedule_sweep(self: &Rc<Self>) {
        if self.sweeping.replace(true) {
            return;
        }
        let weak = Rc::downgrade(self);
        crate::lite::spawn(Box::pin(async move {
            let mut delay = STORE_AFTER_MS;
            loop {
                crate::transport::sleep_ms_background(delay.max(1) as u64).await;
                let Some(me) = weak.upgrade() else { return };
                let now = now_millis();
                match me.store_unstored(now - STORE_AFTER_MS) {
                    Some(oldest) => delay = oldest + STORE_AFTER_MS - now,
                    None => {
                        me.sweeping.set(false);
                        return;
                    }
                }
            }
        }));
    }

    /// Issues the deletes of every key in `undeleted`; the keys whose delete could not be issued
    /// go back.
    fn issue_deletes(&self) {
        let Some(store) = &self.store else { return };
        let mut keys = std::mem::take(&mut *self.undeleted.borrow_mut());
        if store.delete_issue(&keys).is_err() {
            self.undeleted.borrow_mut().append(&mut keys);
        }
    }

    /// Issues the deletes not issued yet (or that could not be), then waits until every write
    /// issued so far (the deletes of committed events among them) finished.
    async fn settle_store(&self) {
        let Some(store) = &self.store else { return };
        let mut keys = std::mem::take(&mut *self.undeleted.borrow_mut());
        if !keys.is_empty() && store.delete(&keys).await.is_err() {
            self.undeleted.borrow_mut().append(&mut keys);
        }
        store.settled().await;
    }

    /// Moves `event` (out of the pending map already) to the dead letters: counted, listed, its
    /// dead-letter record stored, and then its pending record, if any, deleted. The one place an
    /// event's record leaves for the dead letters (a rejection, or on load an event that breaks
    /// the rules now): had the pending record stayed, every later load would dead-letter it again.
    /// A dead letter that could not be stored keeps its pending record (the next logger meets the
    /// event again); a pending record whose delete failed is deleted by a later load (see
    /// [`Durable::take_loaded`]).
    async fn dead_letter(&self, event: AuditEvent, e: &AuditError) {
        let dl = DeadLetter { reason: self.logger.reason(e), at: now_millis(), event };
        self.logger.counters().add_dead_lettered(1);
        // Its record first, so the list takes the letter itself (no clone of it).
        let (key, pending, mut json) = (self.dead_key(&dl.event.uid), self.key(&dl.event.uid), String::new());
        dl.write_json(&mut json);
        let mut evicted = {
            let mut dead = self.dead.borrow_mut();
            dead.push(dl);
            // The oldest beyond the bound (one, but for a load that brought more).
            let mut evicted = Vec::new();
            while dead.len() > MAX_DEAD_LETTERS {
                evicted.push(self.dead_key(&dead.remove(0).event.uid));
            }
            evicted
        };
        if let Some(store) = &self.store {
            if store.put(&key, &json).await.is_ok() {
                evicted.push(pending);
            }
            let _ = store.delete(&evicted).await;
        }
    }

    /// The dead letters of this target and identity, oldest first, as a JSON array (each as
    /// [`DeadLetter::write_json`] writes it): written from the list in place, not from a copy.
    pub async fn dead_letters_json(&self) -> String {
        self.until_loaded().await;
        let mut text = String::from("[");
        for (i, d) in self.dead.borrow().iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            d.write_json(&mut text);
        }
        text.push(']');
        text
    }

    /// Right after a reload the stored events and dead letters may not be loaded yet: waits
    /// for them (flush, clear and deadLetters must see what an earlier logger left).
    async fn until_loaded(&self) {
        if let Some(o) = &self.loaded {
            let _ = o.clone().await;
        }
    }

    /// Plans one background re-send of the waiting events after `delay_ms` (at the earliest
    /// when the server's `Retry-After` ends), unless one is planned already or nothing waits.
    fn schedule_drain(self: &Rc<Self>, delay_ms: u64) {
        if self.draining.get() || self.logger.is_closed() {
            return;
        }
        if !self.has_idle() {
            self.maybe_idle.set(false);
            return;
        }
        self.draining.set(true);
        let weak = Rc::downgrade(self);
        crate::lite::spawn(Box::pin(async move {
            let mut delay = delay_ms;
            loop {
                // Jitter, so that many tabs or isolates do not come back at the same instant.
                let jitter = crate::retry::random_below(delay / 4 + 250);
                // The wait ends early when the network comes back (`online`).
                let (tx, rx) = crate::lite::oneshot::channel::<()>();
                if let Some(me) = weak.upgrade() {
                    *me.drain_wake.borrow_mut() = Some(tx);
                }
                let sleep = crate::transport::sleep_ms_background(delay + jitter);
                let _ = crate::lite::select(Box::pin(sleep), rx).await;
                let Some(me) = weak.upgrade() else { return };
                let wait = me.not_before.get() - now_millis();
                if wait > 0 && !me.logger.is_closed() {
                    delay = wait as u64;
                    continue;
                }
                if me.logger.is_closed() || !me.has_idle() {
                    me.draining.set(false);
                    return;
                }
                // Sends through the logger's batches, one drain at a time.
                let failure = me.resend_idle().await.err();
                match failure {
                    Some(e) if e.is_retryable() && !me.logger.is_closed() => {
                        let backoff = me.drain_backoff_ms.get();
                        me.drain_backoff_ms.set((backoff * 2).min(DRAIN_MAX_MS));
                        delay = e.retry_after_ms().unwrap_or(backoff);
                    }
                    _ => {
                        me.draining.set(false);
                        return;
                    }
                }
            }
        }));
    }

    /// The browser's `online` event: a drain waiting out a backoff goes now (a server's
    /// `Retry-After` is still honoured), or one starts if none is planned.
    fn network_back(self: &Rc<Self>) {
        self.drain_backoff_ms.set(DRAIN_MIN_MS);
        let waiting = self.drain_wake.borrow_mut().take();
        match waiting {
            Some(wake) => {
                let _ = wake.send(());
            }
            None => self.schedule_drain(0),
        }
    }

    fn has_idle(&self) -> bool {
        self.pending.borrow().flags().any(|in_flight| !in_flight)
    }

    /// Sends again every stored event not in flight now; the last retryable failure, if any.
    async fn resend_idle(self: &Rc<Self>) -> Result<(), AuditError> {
        let mut idle: Vec<SharedEvent> = Vec::new();
        for (k, mut in_flight) in self.pending.borrow_mut().iter_mut() {
            if !in_flight.get() {
                in_flight.set(true);
                idle.push(k.clone());
            }
        }
        // All at once, outcomes taken as they finish (only the last failure matters, not which
        // event's): no join in input order, whose bookkeeping was its own code in the write entry.
        let mut running = crate::running::Running::new();
        for ev in idle {
            running.push(self.send_quiet(ev));
        }
        let mut last = Ok(());
        while let Some(r) = running.next().await {
            if let Err(e) = r {
                if last.is_ok() || e.is_retryable() {
                    last = Err(e);
                }
            }
        }
        last
    }

    /// [`Durable::send`] without planning another drain (the drain loop plans its own).
    async fn send_quiet(self: &Rc<Self>, event: SharedEvent) -> Result<(), AuditError> {
        let was = self.draining.replace(true);
        let r = self.send(event).await;
        self.draining.set(was);
        r
    }

    /// Re-sends what failed earlier, waits for everything in flight and for the removal of the
    /// committed events' records; `true` when the queue is empty afterwards.
    ///
    /// One attempt per event and flush: an event that fails during the flush (sent again here,
    /// or in flight when it began) waits for the background drain, not for a second attempt at
    /// once. Against a server refusing the credentials every attempt is a failed login, and
    /// Neo4j locks the user out after three.
    pub async fn flush(self: &Rc<Self>) -> bool {
        self.until_loaded().await;
        self.until_sends_started().await;
        let res = self.resend_idle().await;
        self.logger.flush().await;
        if !self.pending.borrow().is_empty() {
            // The logger's own flush saw no backlog (the queue holds these events) and took that
            // for a success: lastError must say why this flush resolves false.
            self.logger.flush_left_events(res.as_ref().err().map(|e| self.logger.reason(e)));
            self.drain_after(res);
        }
        self.settle_store().await;
        self.update_gauge();
        self.pending.borrow().is_empty()
    }

    /// Removes this identity's waiting events and dead letters, in memory and in storage (for
    /// sign-out). The removed events are counted in `stats().dropped`; returns how many.
    pub async fn clear(&self) -> usize {
        // Counts what an earlier logger left stored too (it answered 0 right after a reload).
        self.until_loaded().await;
        self.generation.set(self.generation.get() + 1);
        let n = {
            let mut p = self.pending.borrow_mut();
            let n = p.len();
            p.clear();
            n
        };
        self.pending_bytes.set(0);
        self.unstored.borrow_mut().clear();
        self.undeleted.borrow_mut().clear();
        self.dead.borrow_mut().clear();
        if let Some(store) = &self.store {
            let _ = store.delete_prefix(&self.scope).await;
            let _ = store.delete_prefix(&cat(&[DEAD, &self.scope])).await;
        }
        self.logger.counters().add_dropped(n as u64);
        self.update_gauge();
        n
    }

    /// Flushes, stops listening for `pagehide`/`online`, and closes the logger.
    pub async fn close(self: &Rc<Self>) -> bool {
        let ok = self.flush().await;
        let why = (!ok).then(|| self.logger.last_error()).flatten();
        if let Some(w) = window() {
            for (name, cb) in std::mem::take(&mut *self.listeners.borrow_mut()) {
                let _ = w.remove_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
            }
        }
        // The logger's close flushes its (empty) batch buffer, a "success" that clears lastError.
        let closed = self.logger.close().await;
        if !ok {
            self.logger.flush_left_events(why);
        }
        closed && ok
    }

    fn listen(self: &Rc<Self>, name: &'static str, f: fn(&Rc<Durable>)) {
        let Some(window) = window() else { return };
        let weak: Weak<Durable> = Rc::downgrade(self);
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            if let Some(d) = weak.upgrade() {
                f(&d);
            }
        });
        if window.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref()).is_ok() {
            self.listeners.borrow_mut().push((name, cb));
        }
    }

    /// Sends the oldest pending events that fit the keepalive budget, fire-and-forget. They stay
    /// stored: only a confirmed commit removes an event.
    pub fn send_keepalive(&self) -> usize {
        let mut events: Vec<SharedEvent> = Vec::new();
        for e in self.pending.borrow().keys() {
            events.push(e.clone());
        }
        crate::lite::sort_by_time(&mut events, |e| e.ts);
        let mut n = events.len();
        let req = loop {
            if n == 0 {
                return 0;
            }
            match self.logger.write_request(&events[..n]) {
                Some(r) if r.body.len() <= KEEPALIVE_BUDGET - 1024 => break r,
                Some(r) => n = keepalive_fit(n, r.body.len()),
                None => return 0,
            }
        };
        js_keepalive(&req.url, &crate::transport::header_lines(&req), &req.body);
        n
    }
}
