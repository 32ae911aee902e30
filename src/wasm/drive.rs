//! The wasm side of the delivery machine (docs/sansio.md step 3): a logger's [`Machine`] and its
//! JS driver (src/wasm/driver.js). Every input — a call, a flush, or what the driver reports (an
//! answer, a timer, the first turn, a stored record, the store's records, `online`, `pagehide`) —
//! goes into the machine, and its actions come out to the driver at once, one method call each,
//! in order. The machine holds the policy; the driver does the I/O; nothing here decides.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::error::AuditError;
use crate::event::{millis_until, steady_millis, AuditEvent};
use crate::machine::{Action, Input, Machine, QueuePolicy};
use crate::transport::{header_lines, HttpResponse};
use crate::AuditLogger;

// The driver's class: with the browser's durable queue (src/wasm/store.js: IndexedDB, keepalive,
// listeners), or, in the Workers build (`memory-queue`), the memory-only base class with each
// waiting call's tick (src/wasm/workerd.js), so that the Workers glue carries none of that code.
#[cfg(not(feature = "memory-queue"))]
#[wasm_bindgen(module = "/src/wasm/store.js")]
extern "C" {
    #[wasm_bindgen(js_name = Driver)]
    type Made;
    #[wasm_bindgen(constructor, js_class = Driver)]
    fn new(input: JsValue, store: Option<String>, timeout_ms: f64, listen: bool) -> Made;
    /// Whether IndexedDB exists here.
    #[wasm_bindgen(js_name = hasStore)]
    fn has_store() -> bool;
}
// The Workers build's: the memory driver with each waiting call's own tick (src/wasm/workerd.js).
#[cfg(feature = "memory-queue")]
#[wasm_bindgen(module = "/src/wasm/workerd.js")]
extern "C" {
    #[wasm_bindgen(js_name = Driver)]
    type Made;
    #[wasm_bindgen(constructor, js_class = Driver)]
    fn new(input: JsValue, store: Option<String>, timeout_ms: f64, listen: bool) -> Made;
}
// src/wasm/store.js and src/wasm/workerd.js extend src/wasm/driver.js's class: named here too so
// that wasm-bindgen ships that file beside them.
#[wasm_bindgen(module = "/src/wasm/driver.js")]
extern "C" {
    #[allow(dead_code)]
    #[wasm_bindgen(js_name = Driver)]
    type Base;
}
#[cfg(feature = "memory-queue")]
fn has_store() -> bool {
    false
}

// Its methods (called on the instance: no module needed).
#[wasm_bindgen]
extern "C" {
    /// One logger's I/O (src/wasm/driver.js, src/wasm/store.js).
    #[derive(Clone)]
    pub(super) type Driver;
    /// A promise for call `id` (`how`: 1 close()'s, after which the listeners go; 2 none, for a
    /// flush nothing waits for).
    #[wasm_bindgen(method)]
    fn wait(this: &Driver, id: u32, how: u32) -> js_sys::Promise;
    #[wasm_bindgen(method)]
    fn settle(this: &Driver, id: u32, value: &JsValue);
    /// Settles each of `ids` with `ok` (a batch's calls: one crossing, not one per call).
    #[wasm_bindgen(method, js_name = settleAll)]
    fn settle_all(this: &Driver, ids: &[u32], ok: bool);
    /// The body crosses as its UTF-8 bytes (a view of wasm memory, copied there before `fetch`),
    /// not as a JS string decoded in the glue and encoded again by `fetch`.
    #[wasm_bindgen(method)]
    fn send(this: &Driver, req: u32, url: &str, headers: &str, body: &[u8]);
    #[cfg(not(feature = "memory-queue"))]
    #[wasm_bindgen(method)]
    fn keepalive(this: &Driver, url: &str, headers: &str, body: &str);
    #[cfg(not(feature = "memory-queue"))]
    #[wasm_bindgen(method)]
    fn put(this: &Driver, key: &str, record: &str, ack: bool);
    #[cfg(not(feature = "memory-queue"))]
    #[wasm_bindgen(method)]
    fn del(this: &Driver, keys: &js_sys::Array);
    #[cfg(not(feature = "memory-queue"))]
    #[wasm_bindgen(method, js_name = delPrefix)]
    fn del_prefix(this: &Driver, prefix: &str);
    #[cfg(not(feature = "memory-queue"))]
    #[wasm_bindgen(method)]
    fn load(this: &Driver, scan: u32, prefix: &str, after: Option<String>, count: u32);
    /// `deadLetters()`'s promise: once the store's records are read, the dead letters (asked of
    /// the shell by input kind 9, handed over by `letters`), parsed. Never rejects.
    #[wasm_bindgen(method, js_name = deadLetters)]
    fn dead_letters(this: &Driver) -> js_sys::Promise;
    #[wasm_bindgen(method)]
    fn letters(this: &Driver, json: &str);
    #[wasm_bindgen(method)]
    fn timeout(this: &Driver, ms: f64);
    #[wasm_bindgen(method)]
    fn turn(this: &Driver);
}

// src/wasm/driver.js sends through src/transport/fetch.js's `post`: named here so that
// wasm-bindgen ships that file in every build that has the driver (the `fetch` transport's builds
// name it anyway; reqwest's would not).
#[cfg(not(feature = "fetch"))]
#[wasm_bindgen(module = "/src/transport/fetch.js")]
extern "C" {
    #[allow(dead_code)]
    fn post(url: &str, headers: &str, body: &[u8], timeout_ms: f64) -> js_sys::Promise;
}

/// A logger's machine and driver.
#[derive(Clone)]
pub(super) struct Shell {
    m: Rc<RefCell<Machine>>,
    d: Driver,
}

impl Shell {
    /// The machine of `logger`, with the durable queue when `queue` (IndexedDB where there is
    /// one, memory elsewhere and in the Workers build), and its driver.
    pub(super) fn new(logger: AuditLogger, queue: bool) -> Shell {
        let cfg = logger.config();
        let persistent = queue && !cfg!(feature = "memory-queue") && has_store();
        let policy = queue.then(|| QueuePolicy { cfg: cfg.queue.clone(), delivery: cfg.delivery, persistent });
        let store = persistent.then(|| cfg.queue.name.clone());
        let timeout_ms = cfg.timeout_ms as f64;
        #[allow(unused_mut)]
        let mut machine = Machine::new(logger, policy);
        #[cfg(feature = "memory-queue")]
        machine.send_each_call_at_once();
        let m = Rc::new(RefCell::new(machine));
        let m2 = m.clone();
        // Owned by the driver (the JS garbage collector frees it with the driver), so a request
        // still out when the logger is freed finishes; it holds the machine, not the driver.
        let input = Closure::<dyn FnMut(Driver, u32, u32, u32, JsValue, JsValue)>::new(
            move |d: Driver, kind, req, status, text, extra| {
                // 9: the dead letters, asked for by the driver's deadLetters(): a read, not an input.
                if kind == 9 {
                    d.letters(&m2.borrow().dead_letters_json().unwrap_or_else(|| "[]".into()));
                    return;
                }
                let input = input_of(&m2, kind, req, status, text, extra);
                m2.borrow_mut().input(steady_millis(), input);
                perform(&m2, &d);
            },
        );
        let d: Driver = JsValue::from(Made::new(input.into_js_value(), store, timeout_ms, queue)).unchecked_into();
        perform(&m, &d);
        Shell { m, d }
    }

    /// Delivers one built event: the promise of its outcome, or the refusal now.
    pub(super) fn log(&self, ev: AuditEvent) -> Result<js_sys::Promise, AuditError> {
        let id = self.m.borrow_mut().log(steady_millis(), ev)?;
        Ok(self.run(id, 0))
    }

    /// `ensureSchema()`: the promise of its outcome, or the refusal now (closed, client mode).
    pub(super) fn ensure_schema(&self) -> Result<js_sys::Promise, AuditError> {
        let id = self.m.borrow_mut().ensure_schema(steady_millis())?;
        Ok(self.run(id, 0))
    }

    /// A refused call's answer (a promise of `false`), its reason in `lastError`
    /// ([`Machine::refused`]); made here once for every call that refuses.
    pub(super) fn refused(&self, e: AuditError) -> js_sys::Promise {
        let answer = JsValue::from_bool(self.m.borrow_mut().refused(e));
        // A refusal by `log` (the queue full) may have asked for the drain's timer: performed
        // now, as no accepted call follows to do it.
        perform(&self.m, &self.d);
        js_sys::Promise::resolve(&answer)
    }

    /// A refused `setCredentials()`: `false`, its reason in `lastError` ([`Machine::refused`]).
    pub(super) fn refused_now(&self, e: AuditError) -> bool {
        self.m.borrow_mut().refused(e)
    }

    /// `flush()` (or with `close`, `close(within)`): resolves `ok`. `unawaited`: the flush of a
    /// logger freed with events queued, which nothing waits for (no promise: in Node its
    /// retries' timer then keeps no process alive, src/wasm/driver.js `refs`).
    pub(super) fn flush(&self, close: Option<Option<u64>>, unawaited: bool) -> js_sys::Promise {
        let now = steady_millis();
        let id = match close {
            Some(within) => self.m.borrow_mut().close(now, within),
            None => self.m.borrow_mut().flush(now),
        };
        self.run(id, if unawaited { 2 } else { close.is_some() as u32 })
    }

    /// `setCredentials()` took new credentials: what a refused login held back goes again.
    pub(super) fn credentials_changed(&self) {
        self.m.borrow_mut().credentials_changed(steady_millis());
        perform(&self.m, &self.d);
    }

    /// `clearQueue()`: resolves with the number of events removed.
    pub(super) fn clear(&self) -> js_sys::Promise {
        let id = self.m.borrow_mut().clear(steady_millis());
        self.run(id, 0)
    }

    /// `deadLetters()`: the dead letters, once the store's records are read (the driver's
    /// promise: no Rust future).
    pub(super) fn dead_letters(&self) -> js_sys::Promise {
        self.d.dead_letters()
    }

    fn run(&self, id: u32, how: u32) -> js_sys::Promise {
        let p = self.d.wait(id, how);
        perform(&self.m, &self.d);
        p
    }
}

/// The driver's report as the machine's input.
fn input_of(m: &RefCell<Machine>, kind: u32, req: u32, status: u32, text: JsValue, extra: JsValue) -> Input {
    match kind {
        1 => Input::Answer {
            req,
            // `extra`: fetch.js `post`'s answer, [status, Retry-After, body, origin redirected to].
            resp: {
                let answer: &js_sys::Array = extra.unchecked_ref();
                HttpResponse {
                    status: status as u16,
                    retry_after: answer.get(1).as_string(),
                    body: text.as_string().unwrap_or_default(),
                    moved_to: answer.get(3).as_string(),
                }
            },
        },
        2 => Input::Failed {
            req,
            error: match status {
                1 => {
                    let ms = m.borrow().logger().config().timeout_ms;
                    AuditError::Timeout(std::time::Duration::from_millis(ms))
                }
                // The host said it was offline: the machine queues the events at once.
                2 => AuditError::Network(crate::machine::OFFLINE.into()),
                _ => AuditError::network(text.as_string().unwrap_or_else(|| "fetch failed".into())),
            },
        },
        3 => Input::Timer,
        4 => Input::Turn,
        5 => Input::Stored { key: text.as_string().unwrap_or_default(), ok: status == 1 },
        6 => Input::Loaded { scan: req, records: records_of(&text, &extra), more: status == 1 },
        7 => Input::Online,
        // Only a durable queue's driver (src/wasm/store.js) reports it: not in the Workers build.
        #[cfg(not(feature = "memory-queue"))]
        10 => Input::Cleared(text.as_string().unwrap_or_default()),
        // A waiting call's tick from its own Worker request (src/wasm/workerd.js).
        #[cfg(feature = "memory-queue")]
        11 => Input::Tick(req),
        _ => Input::PageHide,
    }
}

/// The store's records (keys and values side by side). Out of line in the Workers build, which
/// has no store: V8 compiles a wasm function whole on its first call, and the closure that takes
/// every report is compiled by a Worker's first event.
#[cfg_attr(feature = "memory-queue", inline(never))]
fn records_of(keys: &JsValue, values: &JsValue) -> Vec<(String, String)> {
    let (keys, values) = (js_sys::Array::from(keys), js_sys::Array::from(values));
    let mut records = Vec::with_capacity(keys.length() as usize);
    for i in 0..keys.length() {
        if let (Some(k), Some(v)) = (keys.get(i).as_string(), values.get(i).as_string()) {
            records.push((k, v));
        }
    }
    records
}

/// Hands the machine's actions to the driver, in order. A run of calls answered alike (a
/// batch's) goes over in one `settleAll`, resolved in the same order.
fn perform(m: &RefCell<Machine>, d: &Driver) {
    let actions = m.borrow_mut().actions();
    let mut run: (Vec<u32>, bool) = (Vec::new(), true);
    let flush = |run: &mut (Vec<u32>, bool)| {
        if !run.0.is_empty() {
            d.settle_all(&run.0, run.1);
            run.0.clear();
        }
    };
    for a in actions {
        if let Action::Done { call, result } = &a {
            // lastError was set by the machine (Machine::done).
            if run.1 != result.is_ok() {
                flush(&mut run);
                run.1 = result.is_ok();
            }
            run.0.push(*call);
            continue;
        }
        flush(&mut run);
        match a {
            Action::Done { .. } => {}
            Action::Send { req, request: r } => d.send(req, &r.url, &header_lines(&r), r.body.as_bytes()),
            // As a delay from now on the machine's steady clock (the driver's setTimeout takes a delay).
            Action::Timer(at) => d.timeout(at.map_or(-1.0, |t| millis_until(t, steady_millis()) as f64)),
            Action::Turn => d.turn(),
            Action::Flushed { id, ok } => d.settle(id, &JsValue::from_bool(ok)),
            Action::Cleared { id, n } => d.settle(id, &JsValue::from_f64(n as f64)),
            // The store's and the page's: none in the Workers build (no store, no page).
            #[cfg(feature = "memory-queue")]
            _ => {}
            #[cfg(not(feature = "memory-queue"))]
            Action::Keepalive(r) => d.keepalive(&r.url, &header_lines(&r), &r.body),
            #[cfg(not(feature = "memory-queue"))]
            Action::Put { key, record, ack } => d.put(&key, &record.text(), ack),
            #[cfg(not(feature = "memory-queue"))]
            Action::Delete(keys) => d.del(&keys.iter().map(|k| JsValue::from_str(k)).collect()),
            #[cfg(not(feature = "memory-queue"))]
            Action::DeletePrefix(p) => d.del_prefix(&p),
            #[cfg(not(feature = "memory-queue"))]
            Action::Load { scan, prefix, after, count } => d.load(scan, &prefix, after, count),
        }
    }
    flush(&mut run);
    let g = m.borrow();
    g.logger().counters().set_queued(g.stats().queued);
}
