// The queue's pagehide send (src/wasm/store.js, for the machine's Keepalive action) and the browser window
// (queue::window). A file of its own, not part of src/transport/fetch.js: the
// Worker entry has no queue, and its glue carries every function of each snippet it imports
// (fetch.js), used or not.

/**
 * The global object when it is a browser window, else undefined (Workers, Node, Web Workers).
 * The `window` property is looked up first: where it is missing there is no `Window` class
 * either, and `instanceof` would throw (and be caught) for nothing, tens of microseconds a call.
 */
export function pageWindow() {
  try {
    return "window" in globalThis && globalThis instanceof Window ? globalThis : undefined;
  } catch {
    return undefined;
  }
}

/**
 * POSTs `body` to `url` with `headers` ("name\nvalue\n...", as src/transport/fetch.js's `post`
 * takes them) and `keepalive: true`, fire-and-forget: the outcome is ignored, and neither a throw
 * nor a rejection reaches the caller (an unhandled rejection must not surface on unload).
 */
export function keepalive(url, headers, body) {
  const lines = headers.split("\n");
  const h = {};
  for (let i = 0; i + 1 < lines.length; i += 2) h[lines[i]] = lines[i + 1];
  try {
    fetch(url, { method: "POST", keepalive: true, headers: h, body }).catch(() => {});
  } catch {}
}
