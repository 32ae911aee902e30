//! For benchmarks only (cargo feature `bench`; never in the npm package): the request body the
//! logger would POST, built exactly as `logUserAction` builds it, without sending anything. Used by
//! bench/ to measure the core's CPU per event (P3) and to make the single-request baseline (P1 e).
//!
//! ```js
//! // .cache/bench/pkg, built by bench/setup with --features js,fetch,read,bench
//! const body = benchmarkRequestBody(logger, [{ user: { uid: "u1" }, actionType: "LOGIN" }]);
//! ```

use wasm_bindgen::prelude::*;

use super::{event_from_js, JsAuditLogger};
use crate::event::AuditEvent;

/// The JSON body `logUserAction` would send for one event: JS conversion, validation, redaction,
/// UID, timestamp and hash chain, then the write statement and its serialised request. Throws on
/// invalid input (unlike the shipped API, which never throws): benchmarks want to know.
#[wasm_bindgen(js_name = benchmarkRequestBodyOne)]
pub fn benchmark_request_body_one(
    logger: &JsAuditLogger,
    user: JsValue,
    action_type: JsValue,
    category: JsValue,
    details: JsValue,
) -> Result<String, JsError> {
    let ev = event_from_js(&logger.inner, &user, &action_type, &category, &details, &JsValue::UNDEFINED)
        .map_err(|e| JsError::new(&e.to_string()))?;
    Ok(body(logger, &[ev]))
}

/// The same for many events in one request: `events` is an array of
/// `{user, actionType, category, details, options?}`.
#[wasm_bindgen(js_name = benchmarkRequestBody)]
pub fn benchmark_request_body(logger: &JsAuditLogger, events: js_sys::Array) -> Result<String, JsError> {
    let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    let mut built = Vec::with_capacity(events.length() as usize);
    for o in events.iter() {
        let ev = event_from_js(
            &logger.inner,
            &get(&o, "user"),
            &get(&o, "actionType"),
            &get(&o, "category"),
            &get(&o, "details"),
            &get(&o, "options"),
        )
        .map_err(|e| JsError::new(&e.to_string()))?;
        built.push(ev);
    }
    Ok(body(logger, &built))
}

/// The body the logger would send for `events` (the same code path as a real write), without
/// the request's URL and headers: bench/js_equivalent.mjs, which the core is compared with,
/// forms none per event either (a real write forms them once per request, not per event).
fn body(logger: &JsAuditLogger, events: &[AuditEvent]) -> String {
    logger.inner.write_body(events).unwrap_or_default()
}

/// Live heap allocations of the wasm module: `[bytes requested, allocations]` (cargo feature
/// `bench-alloc`, which wraps the allocator to count them; for bench/memory.mjs). The rest of
/// the linear memory's growth is the allocator's headers, alignment and free space.
#[cfg(feature = "bench-alloc")]
#[wasm_bindgen(js_name = benchmarkHeap)]
pub fn benchmark_heap() -> Vec<f64> {
    use std::sync::atomic::Ordering::Relaxed;
    vec![counting::BYTES.load(Relaxed) as f64, counting::COUNT.load(Relaxed) as f64]
}

/// Sizes in bytes (feature `bench-alloc`): `[AuditEvent, Result<(), AuditError>]`, for
/// bench/memory.mjs's breakdown. (A call holds no future since the delivery machine: its
/// `callFuture`, `spoolLogFuture` and `deliverFuture` entries are gone.)
#[cfg(feature = "bench-alloc")]
#[wasm_bindgen(js_name = benchmarkSizes)]
pub fn benchmark_sizes() -> Vec<f64> {
    vec![std::mem::size_of::<AuditEvent>() as f64, std::mem::size_of::<Result<(), crate::error::AuditError>>() as f64]
}

#[cfg(feature = "bench-alloc")]
mod counting {
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    // The allocator the build has (talc's in the Workers builds, else rlsf's), counted.
    use crate::HEAP as Inner;

    pub static BYTES: AtomicUsize = AtomicUsize::new(0);
    pub static COUNT: AtomicUsize = AtomicUsize::new(0);

    struct Counting;

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            let p = unsafe { Inner.alloc(l) };
            if !p.is_null() {
                BYTES.fetch_add(l.size(), Relaxed);
                COUNT.fetch_add(1, Relaxed);
            }
            p
        }
        unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
            let p = unsafe { Inner.alloc_zeroed(l) };
            if !p.is_null() {
                BYTES.fetch_add(l.size(), Relaxed);
                COUNT.fetch_add(1, Relaxed);
            }
            p
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            unsafe { Inner.dealloc(p, l) };
            BYTES.fetch_sub(l.size(), Relaxed);
            COUNT.fetch_sub(1, Relaxed);
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
            let q = unsafe { Inner.realloc(p, l, new) };
            if !q.is_null() {
                BYTES.fetch_add(new, Relaxed);
                BYTES.fetch_sub(l.size(), Relaxed);
            }
            q
        }
    }

    #[global_allocator]
    static ALLOC: Counting = Counting;
}
