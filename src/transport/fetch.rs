//! wasm back end without reqwest (cargo feature `fetch`): calls the host's global `fetch`
//! directly (browsers, workerd and Node 18+ all have one), with an `AbortController` so that a
//! timeout also cancels the request. Same API as the reqwest back end; far smaller code.
//!
//! ```ignore
//! // wasm32 with `--features fetch` only:
//! let t = Transport::new();
//! let resp = t.post(&HttpRequest { url, headers, body }, 10_000).await?;
//! ```

use crate::lite::{select, Either};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::{sleep_ms, HttpRequest, HttpResponse};
use crate::error::AuditError;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, whatever the host (no `window` needed, so it works in Workers).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &web_sys::RequestInit) -> js_sys::Promise;
}

/// Sends requests through the global `fetch`; stateless, so clones are free.
#[derive(Debug, Clone, Default)]
pub struct Transport;

impl Transport {
    /// The transport (it holds nothing).
    pub fn new() -> Self {
        Transport
    }

    /// POSTs `req`, giving up after `timeout_ms` for the whole exchange (headers and body); on
    /// timeout the request is aborted.
    pub async fn post(&self, req: &HttpRequest, timeout_ms: u64) -> Result<HttpResponse, AuditError> {
        let controller = web_sys::AbortController::new().map_err(|e| net_error(&e))?;
        let signal = controller.signal();
        let work = Box::pin(exchange(req, signal));
        let timer = Box::pin(sleep_ms(timeout_ms));
        #[allow(clippy::let_and_return)] // the temporary must not outlive `signal`
        let outcome = match select(work, timer).await {
            Either::Left((res, _)) => res,
            Either::Right(((), _)) => {
                controller.abort();
                Err(AuditError::Timeout(std::time::Duration::from_millis(timeout_ms)))
            }
        };
        outcome
    }
}

async fn exchange(req: &HttpRequest, signal: web_sys::AbortSignal) -> Result<HttpResponse, AuditError> {
    let headers = web_sys::Headers::new().map_err(|e| net_error(&e))?;
    for (k, v) in &req.headers {
        headers.set(k, v).map_err(|e| net_error(&e))?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&req.body));
    init.set_signal(Some(&signal));
    let resp: web_sys::Response =
        JsFuture::from(global_fetch(&req.url, &init)).await.map_err(|e| net_error(&e))?.unchecked_into();
    let status = resp.status();
    let retry_after = resp.headers().get("retry-after").ok().flatten();
    let text = resp.text().map_err(|e| net_error(&e))?;
    let body = JsFuture::from(text).await.map_err(|e| net_error(&e))?.as_string().unwrap_or_default();
    Ok(HttpResponse { status, retry_after, body })
}

/// The JS error's message and its `cause` chain (Node puts "connect ECONNREFUSED ..." there).
/// The URL never carries credentials (config validation refuses them), so this is safe to show.
fn net_error(e: &JsValue) -> AuditError {
    let mut msg = String::new();
    let mut cur = e.clone();
    for _ in 0..4 {
        if cur.is_undefined() || cur.is_null() {
            break;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        match cur.dyn_ref::<js_sys::Error>() {
            Some(err) => {
                msg.push_str(&String::from(err.message()));
                cur = err.cause();
            }
            None => {
                msg.push_str(&cur.as_string().unwrap_or_else(|| "fetch failed".into()));
                break;
            }
        }
    }
    AuditError::Network(if msg.is_empty() { "fetch failed".into() } else { msg })
}
