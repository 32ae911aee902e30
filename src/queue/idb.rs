//! A tiny IndexedDB key/value store over raw `web-sys` (four operations: open, put, delete,
//! get-range). Chosen over a wrapper crate: the surface needed is this small, and it adds no
//! dependency and few bytes to the `.wasm`. Every operation waits for its transaction's
//! `complete`, so a put has reached the browser's storage before the event is sent.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{EventTarget, IdbDatabase, IdbFactory, IdbKeyRange, IdbRequest, IdbTransactionMode};

use crate::error::AuditError;

const STORE: &str = "events";

/// A DOM event listener kept alive by its owner.
pub type EventHandler = Closure<dyn FnMut(web_sys::Event)>;

fn qerr(what: &str, e: impl std::fmt::Debug) -> AuditError {
    AuditError::Queue(format!("IndexedDB {what}: {e:?}"))
}

/// Resolves when `target` fires `ok`; errs when it fires one of `bad`. The listeners live until
/// then and are removed afterwards.
async fn wait_event(target: &EventTarget, ok: &str, bad: &[&str]) -> Result<(), String> {
    let (tx, rx) = oneshot::channel::<Result<(), String>>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let mut handlers: Vec<(String, EventHandler)> = Vec::new();
    for (name, good) in std::iter::once((ok, true)).chain(bad.iter().map(|b| (*b, false))) {
        let tx = tx.clone();
        let label = name.to_owned();
        let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            if let Some(t) = tx.borrow_mut().take() {
                let _ = t.send(if good { Ok(()) } else { Err(label.clone()) });
            }
        });
        let _ = target.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
        handlers.push((name.to_owned(), cb));
    }
    let res = rx.await.unwrap_or_else(|_| Err("cancelled".into()));
    for (name, cb) in &handlers {
        let _ = target.remove_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
    }
    res
}

/// One IndexedDB database with one object store of string values under string keys.
pub struct IdbStore {
    name: String,
    db: futures::lock::Mutex<Option<IdbDatabase>>,
}

impl IdbStore {
    /// `None` where the host has no IndexedDB (Workers, Node).
    pub fn available(name: &str) -> Option<IdbStore> {
        factory().ok()?;
        Some(IdbStore { name: name.to_owned(), db: futures::lock::Mutex::new(None) })
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

    /// Stores `value` under `key` and waits until the write is durable.
    pub async fn put(&self, key: &str, value: &str) -> Result<(), AuditError> {
        let db = self.db().await?;
        let tx = db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite).map_err(|e| qerr("put", e))?;
        let store = tx.object_store(STORE).map_err(|e| qerr("put", e))?;
        store.put_with_key(&JsValue::from_str(value), &JsValue::from_str(key)).map_err(|e| qerr("put", e))?;
        wait_event(&tx, "complete", &["error", "abort"]).await.map_err(|e| qerr("put", e))
    }

    /// Deletes `keys` in one transaction.
    pub async fn delete(&self, keys: &[String]) -> Result<(), AuditError> {
        if keys.is_empty() {
            return Ok(());
        }
        let db = self.db().await?;
        let tx = db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite).map_err(|e| qerr("delete", e))?;
        let store = tx.object_store(STORE).map_err(|e| qerr("delete", e))?;
        for k in keys {
            store.delete(&JsValue::from_str(k)).map_err(|e| qerr("delete", e))?;
        }
        wait_event(&tx, "complete", &["error", "abort"]).await.map_err(|e| qerr("delete", e))
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

    /// Deletes every record whose key starts with `prefix`, in one transaction.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), AuditError> {
        let db = self.db().await?;
        let tx = db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite).map_err(|e| qerr("delete", e))?;
        let store = tx.object_store(STORE).map_err(|e| qerr("delete", e))?;
        let range: JsValue = prefix_range(prefix)?.into();
        store.delete(&range).map_err(|e| qerr("delete", e))?;
        wait_event(&tx, "complete", &["error", "abort"]).await.map_err(|e| qerr("delete", e))
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
