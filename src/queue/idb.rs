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

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{EventTarget, IdbDatabase, IdbFactory, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

use crate::error::AuditError;

const STORE: &str = "events";

/// A DOM event listener kept alive by its owner.
pub type EventHandler = Closure<dyn FnMut(web_sys::Event)>;

fn qerr(what: &str, e: impl std::fmt::Debug) -> AuditError {
    AuditError::Queue(format!("IndexedDB {what}: {e:?}"))
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
pub type Written = Shared<LocalBoxFuture<'static, Result<(), String>>>;

/// The read-write transaction writes currently go into.
struct Open {
    store: IdbObjectStore,
    done: Written,
}

#[cfg(feature = "test-hooks")]
thread_local! {
    static FAIL_DELETES: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Tests only (feature `test-hooks`): while on, every record delete fails at once, as a storage error would, so a test
/// can show that such a failure fails no caller and leaves a record a later logger re-sends.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub fn fail_deletes_for_tests(on: bool) {
    FAIL_DELETES.with(|f| f.set(on));
}

fn deletes_fail() -> bool {
    #[cfg(feature = "test-hooks")]
    return FAIL_DELETES.with(|f| f.get());
    #[cfg(not(feature = "test-hooks"))]
    false
}

/// One IndexedDB database with one object store of string values under string keys.
pub struct IdbStore {
    name: String,
    db: futures::lock::Mutex<Option<IdbDatabase>>,
    open: RefCell<Option<Open>>,
}

impl IdbStore {
    /// `None` where the host has no IndexedDB (Workers, Node).
    pub fn available(name: &str) -> Option<IdbStore> {
        factory().ok()?;
        Some(IdbStore { name: name.to_owned(), db: futures::lock::Mutex::new(None), open: RefCell::new(None) })
    }

    async fn db(&self) -> Result<IdbDatabase, AuditError> {
        let mut slot = self.db.lock().await;
        if let Some(db) = slot.as_ref() {
            return Ok(db.clone());
        }
        let req = factory()?.open_with_u32(&self.name, 1).map_err(|e| qerr("open", e))?;
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
        let db: IdbDatabase = req.result().map_err(|e| qerr("open", e))?.unchecked_into();
        *slot = Some(db.clone());
        Ok(db)
    }

    /// Issues one write (`op` on the object store) in the current read-write transaction, or in
    /// a new one when that no longer accepts requests; gives that transaction's outcome.
    fn write(&self, db: &IdbDatabase, what: &str, op: &dyn Fn(&IdbObjectStore) -> Result<IdbRequest, JsValue>) -> Result<Written, AuditError> {
        let mut open = self.open.borrow_mut();
        if let Some(o) = open.as_ref() {
            // Throws (TransactionInactiveError) once the transaction stopped taking requests.
            if op(&o.store).is_ok() {
                return Ok(o.done.clone());
            }
        }
        let tx: IdbTransaction = db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite).map_err(|e| qerr(what, e))?;
        let store = tx.object_store(STORE).map_err(|e| qerr(what, e))?;
        let done: Written = watch(tx.into(), "complete", &["error", "abort"]).boxed_local().shared();
        op(&store).map_err(|e| qerr(what, e))?;
        *open = Some(Open { store, done: done.clone() });
        Ok(done)
    }

    /// Stores `value` under `key` and waits until the write is durable.
    pub async fn put(&self, key: &str, value: &str) -> Result<(), AuditError> {
        let written = self.put_issue(JsValue::from_str(key), JsValue::from_str(value)).await?;
        written.await.map_err(|e| qerr("put", e))
    }

    /// Issues the put of `value` under `key` (JavaScript strings: no wasm copy waits, even while
    /// the database is still opening); its transaction's outcome to await.
    pub async fn put_issue(&self, key: JsValue, value: JsValue) -> Result<Written, AuditError> {
        let db = self.db().await?;
        self.write(&db, "put", &|s| s.put_with_key(&value, &key))
    }

    /// Deletes `keys` and waits until done.
    pub async fn delete(&self, keys: &[String]) -> Result<(), AuditError> {
        match self.delete_issue(keys).await? {
            Some(written) => written.await.map_err(|e| qerr("delete", e)),
            None => Ok(()),
        }
    }

    /// Issues the deletes of `keys` (in one transaction); its outcome to await, if any was issued.
    pub async fn delete_issue(&self, keys: &[String]) -> Result<Option<Written>, AuditError> {
        if keys.is_empty() {
            return Ok(None);
        }
        let db = self.db().await?;
        if deletes_fail() {
            return Err(qerr("delete", "failing (test)"));
        }
        let mut last = None;
        for k in keys {
            let k = JsValue::from_str(k);
            last = Some(self.write(&db, "delete", &|s| s.delete(&k))?);
        }
        Ok(last)
    }

    /// Waits until every write issued so far finished (committed or failed).
    pub async fn settled(&self) {
        loop {
            let Some(done) = self.open.borrow().as_ref().map(|o| o.done.clone()) else { return };
            let _ = done.clone().await;
            let same = self.open.borrow().as_ref().is_some_and(|o| Shared::ptr_eq(&o.done, &done));
            if same {
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
        let db = self.db().await?;
        let range: JsValue = prefix_range(prefix)?.into();
        let written = self.write(&db, "delete", &|s| s.delete(&range))?;
        written.await.map_err(|e| qerr("delete", e))
    }
}

/// Keys from `prefix` up to `prefix` followed by the highest UTF-16 code unit.
fn prefix_range(prefix: &str) -> Result<IdbKeyRange, AuditError> {
    IdbKeyRange::bound(&JsValue::from_str(prefix), &JsValue::from_str(&format!("{prefix}\u{ffff}")))
        .map_err(|e| qerr("range", e))
}

fn factory() -> Result<IdbFactory, AuditError> {
    let f = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB")).map_err(|e| qerr("lookup", e))?;
    if f.is_undefined() || f.is_null() {
        return Err(AuditError::Queue("no IndexedDB in this runtime".into()));
    }
    Ok(f.unchecked_into())
}
