//! A tiny IndexedDB key/value store over raw `web-sys` (four operations: open, put, delete,
//! get-range). Chosen over a wrapper crate: the surface needed is this small, and it adds no
//! dependency and few bytes to the `.wasm`.
//!
//! **Writes are grouped.** Every write (put, delete) goes into the store's current read-write
//! transaction while that transaction still accepts requests (IndexedDB keeps it active until
//! control returns to the event loop), else into a new one. Concurrent calls (one task of
//! microtasks) thus share one transaction and one set of listeners instead of one each, with
//! no timer and so no added latency for a lone event. Requests run in issue order: within a
//! transaction by the spec, across transactions because read-write transactions on one store
//! run in creation order. A write is issued at once (its text handed to IndexedDB and dropped
//! from wasm memory); [`Written`] resolves when its transaction committed. [`IdbStore::settled`]
//! waits for every write issued so far.

use crate::error::cat;
use std::cell::RefCell;
use std::rc::Rc;

use crate::lite::oneshot;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{EventTarget, IdbDatabase, IdbFactory, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

use crate::error::AuditError;

const STORE: &str = "events";

/// A DOM event listener kept alive by its owner.
pub type EventHandler = Closure<dyn FnMut(web_sys::Event)>;

#[wasm_bindgen]
extern "C" {
    /// The host's `String(value)`: a `DOMException` reads `QuotaExceededError: …`.
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &JsValue) -> String;
}

/// What failed, for `AuditError::Queue`: the host's own text of the exception, or ours.
trait Why {
    fn why(&self) -> String;
}

impl Why for JsValue {
    fn why(&self) -> String {
        js_string(self)
    }
}

impl Why for String {
    fn why(&self) -> String {
        self.clone()
    }
}

impl Why for &str {
    fn why(&self) -> String {
        (*self).to_owned()
    }
}

/// (Not `{e:?}`: `Debug` would keep core's string escaping and its Unicode tables in the build.)
fn qerr(what: &str, e: impl Why) -> AuditError {
    let mut s = String::from("IndexedDB ");
    s.push_str(what);
    s.push_str(": ");
    s.push_str(&e.why());
    AuditError::Queue(s)
}

/// Resolves when `target` fires `ok`; errs when it fires one of `bad`. The listeners are added
/// now (not on the first poll: a write's transaction may complete before anyone awaits it) and
/// removed once one fired.
fn watch(target: EventTarget, ok: &'static str, bad: &'static [&'static str]) -> impl std::future::Future<Output = Result<(), String>> + 'static {
    let (tx, rx) = oneshot::channel::<Result<(), String>>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let mut handlers: Vec<(&'static str, EventHandler)> = Vec::with_capacity(1 + bad.len());
    for (name, good) in std::iter::once((ok, true)).chain(bad.iter().map(|b| (*b, false))) {
        let tx = tx.clone();
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            if let Some(t) = tx.borrow_mut().take() {
                let _ = t.send(if good { Ok(()) } else { Err(name.to_owned()) });
            }
        });
        let _ = target.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
        handlers.push((name, cb));
    }
    async move {
        let res = rx.await.unwrap_or_else(|_| Err("cancelled".into()));
        for (name, cb) in &handlers {
            let _ = target.remove_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
        }
        res
    }
}

async fn wait_event(target: &EventTarget, ok: &'static str, bad: &'static [&'static str]) -> Result<(), String> {
    watch(target.clone(), ok, bad).await
}

/// The outcome of a read-write transaction, awaited by every write in it.
pub type Written = Outcome<Result<(), String>>;

type Opening = Outcome<Result<IdbDatabase, String>>;

struct Slot<T> {
    value: Option<T>,
    wakers: Vec<Option<Waker>>,
}

/// A value set once, awaited by any number of handles (each clone is one waiter): a
/// single-threaded `futures::future::Shared` without its box, locks and size. Set by a task
/// spawned for it, so it completes whether or not anybody waits.
pub struct Outcome<T> {
    slot: Rc<RefCell<Slot<T>>>,
    /// This handle's place in `wakers`, once it waited.
    key: Option<usize>,
}

impl<T> Clone for Outcome<T> {
    fn clone(&self) -> Self {
        Outcome { slot: self.slot.clone(), key: None }
    }
}

impl<T: Clone + 'static> Outcome<T> {
    pub(super) fn new() -> Self {
        Outcome { slot: Rc::new(RefCell::new(Slot { value: None, wakers: Vec::new() })), key: None }
    }

    /// Spawns `fut` and gives its outcome.
    fn spawn(fut: impl Future<Output = T> + 'static) -> Self {
        let o = Outcome::new();
        let setter = o.clone();
        wasm_bindgen_futures::spawn_local(async move { setter.set(fut.await) });
        o
    }

    pub(super) fn set(&self, value: T) {
        let wakers = {
            let mut s = self.slot.borrow_mut();
            s.value = Some(value);
            std::mem::take(&mut s.wakers)
        };
        for w in wakers.into_iter().flatten() {
            w.wake();
        }
    }

    fn same(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.slot, &other.slot)
    }
}

impl<T: Clone> Future for Outcome<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let me = self.get_mut();
        let mut s = me.slot.borrow_mut();
        if let Some(v) = &s.value {
            return Poll::Ready(v.clone());
        }
        match me.key {
            Some(k) if k < s.wakers.len() => s.wakers[k] = Some(cx.waker().clone()),
            _ => {
                me.key = Some(s.wakers.len());
                s.wakers.push(Some(cx.waker().clone()));
            }
        }
        Poll::Pending
    }
}

/// The read-write transaction writes currently go into.
struct Open {
    store: IdbObjectStore,
    done: Written,
}

/// One write request.
enum Op {
    Put(JsValue, JsValue),
    Delete(JsValue),
}

impl Op {
    fn apply(&self, s: &IdbObjectStore) -> Result<IdbRequest, JsValue> {
        match self {
            Op::Put(k, v) => s.put_with_key(v, k),
            Op::Delete(k) => s.delete(k),
        }
    }
}

#[cfg(feature = "test-hooks")]
thread_local! {
    static FAIL_DELETES: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Tests only (feature `test-hooks`): while on, every record delete fails at once, as a storage
/// error would, so a test can show that such a failure fails no caller and leaves a record a
/// later logger re-sends.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub fn fail_deletes_for_tests(on: bool) {
    FAIL_DELETES.with(|f| f.set(on));
}

#[cfg(feature = "test-hooks")]
thread_local! {
    static TRANSACTIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Tests only (feature `test-hooks`): how many read-write transactions writes opened so far.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub fn write_transactions_for_tests() -> u64 {
    TRANSACTIONS.with(|t| t.get())
}

fn deletes_fail() -> bool {
    #[cfg(feature = "test-hooks")]
    return FAIL_DELETES.with(|f| f.get());
    #[cfg(not(feature = "test-hooks"))]
    false
}

struct Inner {
    name: String,
    db: RefCell<Option<IdbDatabase>>,
    /// The database's opening, while it is under way.
    opening: RefCell<Option<Opening>>,
    /// Writes issued before the database was open, in order, and their common outcome.
    early: RefCell<Option<(Vec<Op>, Written)>>,
    open: RefCell<Option<Open>>,
}

impl Inner {
    /// Issues `op` in the current read-write transaction, or in a new one when that no longer
    /// accepts requests; gives that transaction's outcome.
    fn write(&self, db: &IdbDatabase, op: &Op) -> Result<Written, AuditError> {
        let what = if matches!(op, Op::Put(..)) { "put" } else { "delete" };
        let mut open = self.open.borrow_mut();
        if let Some(o) = open.as_ref() {
            // Throws (TransactionInactiveError) once the transaction stopped taking requests.
            if op.apply(&o.store).is_ok() {
                return Ok(o.done.clone());
            }
        }
        let tx: IdbTransaction = db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite).map_err(|e| qerr(what, e))?;
        let store = tx.object_store(STORE).map_err(|e| qerr(what, e))?;
        #[cfg(feature = "test-hooks")]
        TRANSACTIONS.with(|t| t.set(t.get() + 1));
        let done: Written = Outcome::spawn(watch(tx.into(), "complete", &["error", "abort"]));
        op.apply(&store).map_err(|e| qerr(what, e))?;
        *open = Some(Open { store, done: done.clone() });
        Ok(done)
    }
}

/// One IndexedDB database with one object store of string values under string keys.
pub struct IdbStore(Rc<Inner>);

impl IdbStore {
    /// `None` where the host has no IndexedDB (Workers, Node).
    pub fn available(name: &str) -> Option<IdbStore> {
        factory().ok()?;
        Some(IdbStore(Rc::new(Inner {
            name: name.to_owned(),
            db: RefCell::new(None),
            opening: RefCell::new(None),
            early: RefCell::new(None),
            open: RefCell::new(None),
        })))
    }

    /// The database's opening (started by the first caller; a failed one is retried by the next).
    fn opening(&self) -> Opening {
        let mut slot = self.0.opening.borrow_mut();
        if let Some(o) = slot.as_ref() {
            return o.clone();
        }
        let inner = self.0.clone();
        let o: Opening = Outcome::spawn(async move {
            let r = open_db(&inner.name).await.map_err(|e| match e {
                AuditError::Queue(m) => m,
                e => e.message(),
            });
            if let Ok(db) = &r {
                *inner.db.borrow_mut() = Some(db.clone());
            }
            *inner.opening.borrow_mut() = None;
            r
        });
        *slot = Some(o.clone());
        o
    }

    async fn db(&self) -> Result<IdbDatabase, AuditError> {
        if let Some(db) = self.0.db.borrow().as_ref() {
            return Ok(db.clone());
        }
        self.opening().await.map_err(AuditError::Queue)
    }

    /// Issues `op` now (its text handed to IndexedDB, no wasm copy kept); its transaction's
    /// outcome to await. Before the database is open, writes wait in order in one list and go
    /// out together once it is.
    fn issue(&self, op: Op) -> Result<Written, AuditError> {
        let db = self.0.db.borrow().clone();
        if let (Some(db), true) = (db, self.0.early.borrow().is_none()) {
            return self.0.write(&db, &op);
        }
        let mut early = self.0.early.borrow_mut();
        if let Some((ops, w)) = early.as_mut() {
            ops.push(op);
            return Ok(w.clone());
        }
        let inner = self.0.clone();
        let opening = self.opening();
        let w: Written = Outcome::spawn(async move {
            let db = match opening.await {
                Ok(db) => db,
                Err(e) => {
                    inner.early.borrow_mut().take();
                    return Err(e);
                }
            };
            let ops = inner.early.borrow_mut().take().map(|(ops, _)| ops).unwrap_or_default();
            let mut last = None;
            for op in &ops {
                last = Some(inner.write(&db, op).map_err(|e| e.message())?);
            }
            // IndexedDB holds its own copies now: the texts are not kept alive for the wait.
            drop(ops);
            match last {
                Some(w) => w.await,
                None => Ok(()),
            }
        });
        *early = Some((vec![op], w.clone()));
        Ok(w)
    }

    /// Stores `value` under `key` and waits until the write is durable.
    pub async fn put(&self, key: &str, value: &str) -> Result<(), AuditError> {
        let written = self.put_issue(JsValue::from_str(key), JsValue::from_str(value))?;
        written.await.map_err(|e| qerr("put", e))
    }

    /// Issues the put of `value` under `key` (JavaScript strings) at once; its transaction's
    /// outcome to await.
    pub fn put_issue(&self, key: JsValue, value: JsValue) -> Result<Written, AuditError> {
        self.issue(Op::Put(key, value))
    }

    /// Deletes `keys` and waits until done.
    pub async fn delete(&self, keys: &[String]) -> Result<(), AuditError> {
        match self.delete_issue(keys)? {
            Some(written) => written.await.map_err(|e| qerr("delete", e)),
            None => Ok(()),
        }
    }

    /// Issues the deletes of `keys` at once; the outcome of the (last) transaction they went
    /// into, if any was issued.
    pub fn delete_issue(&self, keys: &[String]) -> Result<Option<Written>, AuditError> {
        if keys.is_empty() {
            return Ok(None);
        }
        if deletes_fail() {
            return Err(qerr("delete", "failing (test)"));
        }
        let mut last = None;
        for k in keys {
            last = Some(self.issue(Op::Delete(JsValue::from_str(k)))?);
        }
        Ok(last)
    }

    /// Waits until every write issued so far finished (committed or failed).
    pub async fn settled(&self) {
        loop {
            let early = self.0.early.borrow().as_ref().map(|(_, w)| w.clone());
            if let Some(w) = early {
                let _ = w.await;
                continue;
            }
            let Some(done) = self.0.open.borrow().as_ref().map(|o| o.done.clone()) else { return };
            let _ = done.clone().await;
            let same = self.0.open.borrow().as_ref().is_some_and(|o| o.done.same(&done));
            if same && self.0.early.borrow().is_none() {
                return;
            }
        }
    }

    /// Every value whose key starts with `prefix` (keys ordered).
    pub async fn values_with_prefix(&self, prefix: &str) -> Result<Vec<String>, AuditError> {
        Ok(self.entries_with_prefix(prefix).await?.into_iter().map(|(_, v)| v).collect())
    }

    /// Every `(key, value)` whose key starts with `prefix` (`""`: all), keys ordered; read in one
    /// transaction, so keys and values match.
    pub async fn entries_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>, AuditError> {
        let db = self.db().await?;
        let tx = db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readonly).map_err(|e| qerr("read", e))?;
        let store = tx.object_store(STORE).map_err(|e| qerr("read", e))?;
        let range = prefix_range(prefix)?;
        let keys: IdbRequest = store.get_all_keys_with_key(&range).map_err(|e| qerr("read", e))?;
        let values: IdbRequest = store.get_all_with_key(&range).map_err(|e| qerr("read", e))?;
        wait_event(&tx, "complete", &["error", "abort"]).await.map_err(|e| qerr("read", e))?;
        let keys: js_sys::Array = keys.result().map_err(|e| qerr("read", e))?.unchecked_into();
        let values: js_sys::Array = values.result().map_err(|e| qerr("read", e))?.unchecked_into();
        Ok(keys
            .iter()
            .zip(values.iter())
            .filter_map(|(k, v)| Some((k.as_string()?, v.as_string()?)))
            .collect())
    }

    /// Deletes every record whose key starts with `prefix` and waits until done.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), AuditError> {
        let written = self.issue(Op::Delete(prefix_range(prefix)?.into()))?;
        written.await.map_err(|e| qerr("delete", e))
    }
}

/// Opens (creating when new) the database `name` with its one object store.
async fn open_db(name: &str) -> Result<IdbDatabase, AuditError> {
    let req = factory()?.open_with_u32(name, 1).map_err(|e| qerr("open", e))?;
    let req2 = req.clone();
    let upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
        if let Ok(db) = req2.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
            if !db.object_store_names().contains(STORE) {
                let _ = db.create_object_store(STORE);
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let waited = wait_event(&req, "success", &["error", "blocked"]).await;
    req.set_onupgradeneeded(None);
    drop(upgrade);
    waited.map_err(|e| qerr("open", e))?;
    Ok(req.result().map_err(|e| qerr("open", e))?.unchecked_into())
}

/// Keys from `prefix` up to `prefix` followed by the highest UTF-16 code unit.
fn prefix_range(prefix: &str) -> Result<IdbKeyRange, AuditError> {
    IdbKeyRange::bound(&JsValue::from_str(prefix), &JsValue::from_str(&cat(&[prefix, "\u{ffff}"])))
        .map_err(|e| qerr("range", e))
}

fn factory() -> Result<IdbFactory, AuditError> {
    let f = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB")).map_err(|e| qerr("lookup", e))?;
    if f.is_undefined() || f.is_null() {
        return Err(AuditError::Queue("no IndexedDB in this runtime".into()));
    }
    Ok(f.unchecked_into())
}
