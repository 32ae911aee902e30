//! The durable queue's storage: one IndexedDB database per queue name with one object store of
//! string values under string keys, written by src/queue/idb.js (open with upgrade, grouped
//! writes, delete by prefix, read all), which the JS driver (src/wasm/store.js) calls for the
//! delivery machine's `Put`/`Delete`/`DeletePrefix`/`Load` actions. What is stored, when, and what
//! a failure means is the machine's (src/machine.rs). Here: the tests' hooks into that module.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(module = "/src/queue/idb.js")]
extern "C" {
    // Named so that wasm-bindgen ships src/queue/idb.js (src/wasm/store.js imports it).
    #[allow(dead_code)]
    fn handle(name: &str) -> wasm_bindgen::JsValue;
    #[cfg(feature = "test-hooks")]
    fn transactions() -> f64;
    #[cfg(feature = "test-hooks")]
    #[wasm_bindgen(js_name = failDeletes)]
    fn js_fail_deletes(on: bool);
}

/// Tests only (feature `test-hooks`): while on, every record delete fails at once, as a storage
/// error would, so a test can show that such a failure fails no caller and leaves a record a
/// later logger re-sends.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub fn fail_deletes_for_tests(on: bool) {
    js_fail_deletes(on);
}

/// Tests only (feature `test-hooks`): how many read-write transactions writes opened so far.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub fn write_transactions_for_tests() -> u64 {
    transactions() as u64
}
