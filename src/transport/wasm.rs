//! wasm back end: timers from the host's `setTimeout` (browsers, workerd and Node all have it).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(cb: &js_sys::Function, ms: f64) -> JsValue;
}

/// Resolves after `ms` milliseconds.
pub async fn sleep_ms(ms: u64) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        set_timeout(resolve.unchecked_ref(), ms as f64);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
