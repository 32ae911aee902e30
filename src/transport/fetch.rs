//! wasm back end without reqwest (cargo feature `fetch`): calls the host's global `fetch`
//! (browsers, workerd and Node 18+ all have one) through src/transport/fetch.js, with an
//! `AbortController` so that a timeout also cancels the request. Same API as the reqwest back end
//! (its example, run natively: the module's docs, src/transport/mod.rs); far smaller code.

use std::future::Future;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::{HttpRequest, HttpResponse};
use crate::error::AuditError;

#[wasm_bindgen(module = "/src/transport/fetch.js")]
extern "C" {
    /// The whole exchange in one promise (src/transport/fetch.js): `[status, retryAfter, text]`,
    /// or a rejection: the host's error, `null` on timeout. The body crosses as its UTF-8 bytes
    /// (a view of wasm memory, copied there before `fetch`), not as a JS string: a string was
    /// decoded from UTF-8 in the glue and encoded back to UTF-8 by `fetch`, about 0.6 MB each way
    /// per full batch.
    /// The answer read up to `max` bytes (a larger one rejects, see fetch.js).
    #[wasm_bindgen(js_name = post)]
    fn js_post(url: &str, headers: &str, body: &[u8], timeout_ms: f64, abort: &JsValue, max: f64) -> js_sys::Promise;
}

/// Aborts its request when dropped before [`Armed::disarm`]: a [`Transport::post`] future given up
/// on (the driver's cancellation at `close_within`'s bound or the builder's deadline) cancels the
/// host's `fetch` too, instead of leaving it running to its own timeout. (Dropping the awaited
/// promise alone stops nothing in JavaScript.)
struct Armed(Option<web_sys::AbortController>);

impl Armed {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.abort();
        }
    }
}

/// Sends requests through the global `fetch`; stateless, so clones are free.
#[derive(Debug, Clone, Default)]
pub struct Transport;

impl Transport {
    /// The transport (it holds nothing).
    pub fn new() -> Self {
        Transport
    }

    /// [`Transport::new`]: the host's `fetch` chooses any proxy itself.
    pub(crate) fn for_url(_: &str) -> Self {
        Transport
    }

    /// POSTs `req`, giving up after `timeout_ms` for the whole exchange (headers and body); on
    /// timeout the request is aborted. The answer is read up to [`super::MAX_ANSWER_BYTES`]
    /// (see [`Transport::post_within`]).
    #[cfg(not(feature = "worker"))]
    pub fn post<'a>(
        &'a self,
        req: &'a HttpRequest,
        timeout_ms: u64,
    ) -> impl Future<Output = Result<HttpResponse, AuditError>> + 'a {
        self.exchange(req, timeout_ms, super::MAX_ANSWER_BYTES)
    }

    /// The Worker's build (feature `worker`): [`Transport::post`] reads every answer of the
    /// Worker's own Neo4j up to [`super::WORKER_MAX_ANSWER_BYTES`], whatever it asked (the
    /// sinks pass no bound along there: that grew its `.wasm` by 200 B gzipped).
    /// (`exchange`'s future itself, not one around it: a layer of future cost the Worker's
    /// `.wasm` 50 B gzipped.)
    #[cfg(feature = "worker")]
    pub fn post<'a>(
        &'a self,
        req: &'a HttpRequest,
        timeout_ms: u64,
    ) -> impl Future<Output = Result<HttpResponse, AuditError>> + 'a {
        self.exchange(req, timeout_ms, super::WORKER_MAX_ANSWER_BYTES)
    }

    /// [`Transport::post`], the answer read up to `max_bytes`: a larger one is a retryable
    /// [`AuditError::Network`] ("the server's answer is larger than N bytes, left unread") and the
    /// request is aborted, before any of the body is read when its Content-Length says so.
    #[cfg(not(feature = "worker"))]
    pub fn post_within<'a>(
        &'a self,
        req: &'a HttpRequest,
        timeout_ms: u64,
        max_bytes: usize,
    ) -> impl Future<Output = Result<HttpResponse, AuditError>> + 'a {
        self.exchange(req, timeout_ms, max_bytes)
    }

    /// The exchange, in JavaScript (src/transport/fetch.js): one promise awaited here instead of
    /// three, and the headers cross as one string (names and values never hold a line break:
    /// HTTP forbids it).
    async fn exchange(&self, req: &HttpRequest, timeout_ms: u64, max_bytes: usize) -> Result<HttpResponse, AuditError> {
        let headers = super::header_lines(req);
        let abort = web_sys::AbortController::new().ok();
        // (Every host with `fetch` has AbortController; without one, fetch.js makes its own.)
        let none = JsValue::UNDEFINED;
        let signal: &JsValue = abort.as_ref().map_or(&none, |a| a.as_ref());
        let promise = js_post(&req.url, &headers, req.body.as_bytes(), timeout_ms as f64, signal, max_bytes as f64);
        let armed = Armed(abort);
        let answer = JsFuture::from(promise).await;
        armed.disarm();
        drop(headers);
        let answer: js_sys::Array = answer
            .map_err(|e| {
                if e.is_null() {
                    AuditError::Timeout(std::time::Duration::from_millis(timeout_ms))
                } else {
                    net_error(&e)
                }
            })?
            .unchecked_into();
        Ok(HttpResponse {
            status: answer.get(0).as_f64().unwrap_or(0.0) as u16,
            retry_after: answer.get(1).as_string(),
            body: answer.get(2).as_string().unwrap_or_default(),
            moved_to: answer.get(3).as_string(),
        })
    }
}

/// The rejection's text (src/transport/fetch.js builds it: the error and its causes, one line
/// each, OpenSSL's internals reduced to their library and reason, then the URL's origin).
fn net_error(e: &JsValue) -> AuditError {
    AuditError::network(e.as_string().unwrap_or_else(|| "fetch failed".into()))
}
