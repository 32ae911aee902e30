//! wasm back end: timers from the host's `setTimeout` (browsers, workerd and Node all have it).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(cb: &js_sys::Function, ms: f64) -> JsValue;
    /// `catch`: workerd throws ("Disallowed operation called within global scope") when a timer
    /// is cleared after its request ended (a closed logger's background drain waking then); a
    /// throw must not unwind through wasm as an uncaught error, and there is nothing to clear.
    #[wasm_bindgen(js_name = clearTimeout, catch)]
    fn clear_timeout(id: &JsValue) -> Result<(), JsValue>;
    /// Node's `Timeout` object (a number elsewhere).
    type TimerHandle;
    /// Node: the timer no longer keeps the process alive. Elsewhere there is no such method (the
    /// handle is a number, so it is not called there; were it, `catch` would turn the throw into
    /// an ignored `Err`).
    #[wasm_bindgen(method, catch)]
    fn unref(this: &TimerHandle) -> Result<JsValue, JsValue>;
}

/// A `setTimeout` as a future; dropping it clears the timer, so an abandoned timeout never keeps
/// Node's event loop (or a Worker's request) alive.
pub struct Sleep {
    fut: JsFuture,
    id: JsValue,
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.fut).poll(cx).map(|_| ())
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        let _ = clear_timeout(&self.id);
    }
}

/// Resolves after `ms` milliseconds.
pub fn sleep_ms(ms: u64) -> Sleep {
    let mut id = JsValue::UNDEFINED;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        id = set_timeout(resolve.unchecked_ref(), ms as f64);
    });
    Sleep { fut: JsFuture::from(promise), id }
}

/// Like [`sleep_ms`], for background work nobody awaits (the queue's drain): in Node the timer
/// does not keep the process alive, so a script that is done can exit while events still wait.
pub fn sleep_ms_background(ms: u64) -> Sleep {
    let s = sleep_ms(ms);
    // Only Node's handle is an object; elsewhere (a number) the call would only throw.
    if s.id.is_object() {
        let _ = s.id.unchecked_ref::<TimerHandle>().unref();
    }
    s
}
