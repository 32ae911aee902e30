//! What is left of the wasm durable queue's Rust side since the delivery machine holds its
//! policy (src/machine.rs: admission bounds, records per identity, dead letters, recovery, the
//! drain, keepalive; docs/sansio.md) and the JS driver does its I/O (src/wasm/store.js, through
//! src/queue/idb.js and src/queue/keepalive.js): the browser window ([`window`], also the chain's
//! sessionStorage), the policy's constants (re-exported for the tests), and the IndexedDB test
//! hooks ([`idb`]).

pub mod idb;

pub use crate::machine::{keepalive_fit, DeadLetter, KEEPALIVE_BUDGET, MAX_DEAD_LETTERS, STORE_AFTER_MS};

/// The browser's `window`, or `None` (Workers, Node, Web Workers): what `web_sys::window()`
/// answers, decided in JS (src/queue/keepalive.js), which looks the `window` property up before
/// `instanceof Window` (that throws, and is caught, where there is no `Window` class: tens of
/// microseconds per call, several calls per new logger in a Worker). Not `web_sys::window()`
/// itself: its `js_sys::global()` lookup cost a Worker's first logger about 0.8 KB more of wasm
/// to compile (bench/coldstart-v8.mjs), and the write entry (bench/size fetch-writeonly) carried
/// it and its four glue functions.
/// With the cargo feature `memory-queue` (the Workers build) always `None`, known when compiling.
pub(crate) fn window() -> Option<web_sys::Window> {
    if cfg!(feature = "memory-queue") {
        return None;
    }
    js_page_window()
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/queue/keepalive.js")]
extern "C" {
    /// The global object if it is a `Window`, else `None` (src/queue/keepalive.js).
    #[wasm_bindgen(js_name = pageWindow)]
    fn js_page_window() -> Option<web_sys::Window>;
}
