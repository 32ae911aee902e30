//! The durable queue's storage: one IndexedDB database per queue name with one object store of
//! string values under string keys. The I/O is a small JavaScript module,
//! src/queue/idb.js (open with upgrade, put, delete, delete by prefix, read by prefix), bound
//! here with typed imports; what is stored, when, and what a failure means stays in Rust
//! ([`super::Durable`]). In JavaScript, where IndexedDB's requests, events and transactions live,
//! a write costs no wasm closures, listeners or tasks: the web-sys version of this module was
//! about 12.5 KB of wasm.
//!
//! **Writes are grouped.** Every write (put, delete) goes into the store's current read-write
//! transaction while that transaction still accepts requests (IndexedDB keeps it active until
//! control returns to the event loop), else into a new one. Concurrent calls (one task of
//! microtasks) thus share one transaction instead of one each, with no timer and so no added
//! latency for a lone event. Requests run in issue order: within a transaction by the spec,
//! across transactions because read-write transactions on one store run in creation order. A
//! write is issued at once (its text handed to IndexedDB, no copy kept in wasm or by the module);
//! [`Written`] resolves when its transaction committed. [`IdbStore::settled`] waits for every
//! write issued so far.
//!
//! **A write's handle is a few bytes.** Thousands of calls may hold theirs while they wait (see
//! `Durable::log`), and a large transaction takes seconds to commit. Every write of a transaction
//! gets the same promise object from the module (one slot of the externref table per handle, no
//! JavaScript object of its own), and no `JsFuture` is made unless the handle is awaited. A
//! promise chain per write, whose closures kept the write's key and text alive until the commit,
//! cost about 900 bytes of JS heap per waiting event (bench/memory_chromium.mjs, 100 000 events;
//! bench/memory_chromium_heap.mjs shows what the heap holds).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use js_sys::Promise;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::error::AuditError;

#[wasm_bindgen(module = "/src/queue/idb.js")]
extern "C" {
    /// A queue handle (the database opens on first use), or `null` without IndexedDB.
    #[cfg(not(feature = "memory-queue"))]
    fn handle(name: &str) -> JsValue;
    /// The writes answer with the promise of their batch: the transaction they went into, or the
    /// writes waiting for the opening; one object for every write of it.
    fn put(h: &JsValue, key: &str, value: &str) -> Promise;
    /// Deletes the keys of `keys` (an array).
    fn del(h: &JsValue, keys: &js_sys::Array) -> Promise;
    #[wasm_bindgen(js_name = delPrefix)]
    fn del_prefix(h: &JsValue, prefix: &str) -> Promise;
    fn settled(h: &JsValue) -> Promise;
    fn commit(h: &JsValue);
    /// `[keys, values]` of the records under `prefix`.
    fn entries(h: &JsValue, prefix: &str) -> Promise;
    #[cfg(feature = "test-hooks")]
    fn transactions() -> f64;
    #[cfg(feature = "test-hooks")]
    #[wasm_bindgen(js_name = failDeletes)]
    fn js_fail_deletes(on: bool);
}

/// (Not `{e:?}`: `Debug` would keep core's string escaping and its Unicode tables in the build.)
fn qerr(what: &str, why: &str) -> AuditError {
    AuditError::Queue(crate::error::cat(&["IndexedDB ", what, ": ", why]))
}

/// A promise's outcome, its rejection (the host's text of the failure) as a `String`.
async fn settle(p: Promise) -> Result<JsValue, String> {
    JsFuture::from(p).await.map_err(|e| e.as_string().unwrap_or_default())
}

/// The outcome of a write's read-write transaction: `Ok` once it committed. Holds the
/// transaction's promise (shared by every write of it); nothing in wasm runs for it, and no
/// JavaScript callback is made, unless it is awaited.
pub struct Written {
    promise: Promise,
    wait: Option<JsFuture>,
}

impl Written {
    fn new(promise: Promise) -> Written {
        Written { promise, wait: None }
    }
}

impl Future for Written {
    type Output = Result<(), String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        let wait = me.wait.get_or_insert_with(|| JsFuture::from(me.promise.clone()));
        Pin::new(wait).poll(cx).map(|r| r.map(|_| ()).map_err(|e| e.as_string().unwrap_or_default()))
    }
}

struct Slot<T> {
    value: Option<T>,
    wakers: Vec<Option<Waker>>,
}

/// A value set once, awaited by any number of handles (each clone is one waiter): a
/// single-threaded `futures::future::Shared` without its box, locks and size.
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
    js_fail_deletes(on);
}

/// Tests only (feature `test-hooks`): how many read-write transactions writes opened so far.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub fn write_transactions_for_tests() -> u64 {
    transactions() as u64
}

fn deletes_fail() -> bool {
    #[cfg(feature = "test-hooks")]
    return FAIL_DELETES.with(|f| f.get());
    #[cfg(not(feature = "test-hooks"))]
    false
}

/// One IndexedDB database with one object store of string values under string keys.
pub struct IdbStore(Handle);

/// The JavaScript handle of a store (src/queue/idb.js), or, with the cargo feature `memory-queue`
/// (the Workers build), a type with no values: no store can exist, `Option<IdbStore>` has no
/// `Some` (a zero-sized type with nothing in it), and every storage, recovery and keepalive path
/// of [`super::Durable`] is left out of the build instead of being compiled, and in a Worker
/// partly run, for a host that has no IndexedDB.
#[cfg(not(feature = "memory-queue"))]
type Handle = JsValue;
#[cfg(feature = "memory-queue")]
enum Handle {}

/// A new store's handle, or `None` without IndexedDB.
#[cfg(not(feature = "memory-queue"))]
fn open(name: &str) -> Option<Handle> {
    let h = handle(name);
    (!h.is_null()).then_some(h)
}
#[cfg(feature = "memory-queue")]
fn open(_name: &str) -> Option<Handle> {
    None
}

impl IdbStore {
    /// `None` where the host has no IndexedDB (Workers, Node), and always with `memory-queue`.
    pub fn available(name: &str) -> Option<IdbStore> {
        open(name).map(IdbStore)
    }

    fn h(&self) -> &JsValue {
        #[cfg(not(feature = "memory-queue"))]
        return &self.0;
        #[cfg(feature = "memory-queue")]
        match self.0 {}
    }

    /// Stores `value` under `key` and waits until the write is durable.
    pub async fn put(&self, key: &str, value: &str) -> Result<(), AuditError> {
        self.put_issue(key, value).await.map_err(|e| qerr("put", &e))
    }

    /// Issues the put of `value` under `key` at once (the texts handed to IndexedDB); its
    /// transaction's outcome to await.
    pub fn put_issue(&self, key: &str, value: &str) -> Written {
        Written::new(put(self.h(), key, value))
    }

    /// Deletes `keys` and waits until done.
    pub async fn delete(&self, keys: &[String]) -> Result<(), AuditError> {
        match self.delete_issue(keys)? {
            Some(written) => written.await.map_err(|e| qerr("delete", &e)),
            None => Ok(()),
        }
    }

    /// Issues the deletes of `keys` at once; the outcome of the transaction they went into, if
    /// any was issued.
    pub fn delete_issue(&self, keys: &[String]) -> Result<Option<Written>, AuditError> {
        if keys.is_empty() {
            return Ok(None);
        }
        if deletes_fail() {
            return Err(qerr("delete", "failing (test)"));
        }
        let list = js_sys::Array::new();
        for k in keys {
            list.push(&JsValue::from_str(k));
        }
        Ok(Some(Written::new(del(self.h(), &list))))
    }

    /// Asks IndexedDB to commit the current write transaction now instead of when the task ends
    /// (`pagehide`: the page may not see the end of its task).
    pub fn commit(&self) {
        commit(self.h());
    }

    /// Waits until every write issued so far finished (committed or failed).
    pub async fn settled(&self) {
        let _ = settle(settled(self.h())).await;
    }

    /// Every `(key, value)` whose key starts with `prefix` (`""`: all), keys ordered; read in one
    /// transaction, so keys and values match.
    pub async fn entries_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>, AuditError> {
        let both: js_sys::Array = settle(entries(self.h(), prefix)).await.map_err(|e| qerr("read", &e))?.into();
        let (keys, values): (js_sys::Array, js_sys::Array) = (both.get(0).into(), both.get(1).into());
        let mut out = Vec::new();
        for i in 0..keys.length().min(values.length()) {
            if let (Some(k), Some(v)) = (keys.get(i).as_string(), values.get(i).as_string()) {
                out.push((k, v));
            }
        }
        Ok(out)
    }

    /// Deletes every record whose key starts with `prefix` and waits until done.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), AuditError> {
        settle(del_prefix(self.h(), prefix)).await.map(|_| ()).map_err(|e| qerr("delete", &e))
    }
}
