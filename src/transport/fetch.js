// One POST of src/transport/fetch.rs in one promise: the request, its timeout (which aborts it)
// and the reading of the body, with no call back into wasm until the whole answer is there.
// Doing this from Rust took three awaited promises (fetch, text, the timer), a Headers object
// and a RequestInit built member by member: per request a dozen crossings and closures, which
// an unbatched call pays on top of the network's time (bench/latency.mjs).

/**
 * POSTs `body` (UTF-8 bytes: a view of wasm memory, copied here, before anything can run in
 * wasm again) to `url` with `headers` ("name\nvalue\n..."). Resolves `[status, retryAfter,
 * text, movedTo]` (`movedTo`: the origin that answered when a redirect led to another origin than
 * `url`'s, to which fetch sent no Authorization header; else undefined); rejects with why it failed (a string, see `reason`), or with `null` when `ms` passed
 * first (the request is then aborted). The delivery machine's requests go through here too
 * (src/wasm/driver.js), each with its own `abort`, with which the driver cancels those that
 * `close()` gave up on.
 *
 * The answer is read up to `max` bytes (its UTF-8 as received, after any Content-Encoding is
 * undone), by default 4 MiB, what a write's, the schema's or the ingest Worker's answer never
 * comes near (a few KB); the read side passes its own bound (src/sink/neo4j.rs), the ingest
 * Worker's build one for every answer of its Neo4j (src/transport/fetch.rs). A larger answer
 * (a wrong URL, a proxy's page, a hostile server) is a failure ("answer larger than N bytes"): a
 * Content-Length over `max` before any of the body is read, otherwise once the chunks read pass
 * it; the request is aborted then (the rest of the body is never read), so what is held stays
 * under `max` however large the answer. A failure like a connection cut: retried (an answer to a
 * write that committed is harmless to repeat: events are MERGEd by their UID).
 */
const UTF8 = new TextDecoder();

export function post(url, headers, body, ms, abort = new AbortController(), max = 4194304) {
  let late;
  const timer = setTimeout(() => {
    late = true;
    abort.abort();
  }, ms);
  // Aborted by its owner (the driver's stop() after close()): the timer goes at once, not when
  // fetch's rejection comes back, so nothing of the request is left once close() resolved.
  abort.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  const lines = headers.split("\n");
  const h = {};
  for (let i = 0; i + 1 < lines.length; i += 2) h[lines[i]] = lines[i + 1];
  // The text (a copy of the bytes), not a Uint8Array: Node 20's fetch (undici) detaches a typed
  // array's buffer as it sends it and then cannot send it again after a 307/308 redirect ("Cannot
  // perform ArrayBuffer.prototype.slice on a detached ArrayBuffer", a network error retried until
  // the budget was spent); text is encoded anew for each hop. Not a Blob, which did the same but
  // cost an unbatched event ~20 % more time than a plain fetch of the same text in Chromium (P2,
  // run 2026-12-06T02:50:49Z: 1.28x against 1.06x with the bytes), a Blob body going through the
  // browser's blob registry.
  // Inside a promise: a global fetch that throws at once or answers no promise (a test's mock,
  // `jest.fn()`, or a patch) fails this request like a network error, and never throws out of
  // the driver's task, where it ended the Node process.
  return new Promise((ok) => ok(fetch(url, { method: "POST", headers: h, body: UTF8.decode(body), signal: abort.signal })))
    .then(async (r) => {
      // Decoded as `text()` does (UTF-8, a BOM dropped, invalid sequences replaced), chunk by
      // chunk: as fast as `text()` for a small answer (a Blob of the chunks cost ~10 % more per
      // request in Node).
      const utf8 = new TextDecoder();
      const chunks = r.body?.getReader();
      let n = r.headers.get("content-length") > max ? 1 / 0 : 0;
      let text = "";
      for (let c; n <= max && chunks && !(c = await chunks.read()).done; text += utf8.decode(c.value, { stream: true })) {
        n += c.value.length;
      }
      // The request aborted, so that the rest stops arriving.
      if (n > max) throw (abort.abort(), `the server's answer is larger than ${max} bytes, left unread`);
      clearTimeout(timer);
      let moved;
      if (r.redirected) {
        try {
          const at = new URL(r.url).origin;
          if (at !== new URL(url).origin) moved = at;
        } catch {}
      }
      return [r.status, r.headers.get("retry-after"), text + utf8.decode(), moved];
    })
    .catch((e) => {
      clearTimeout(timer);
      throw late ? null : reason(e, url);
    });
}

/**
 * A network failure as one line naming where it went: the error's message and its causes' (Node
 * puts "connect ECONNREFUSED ..." there), at most four, joined by ": ", each cut at its first line
 * break, a cause's `code` added when its message does not name it (Node: ENOTFOUND, a certificate's
 * DEPTH_ZERO_SELF_SIGNED_CERT, or an empty AggregateError's ECONNREFUSED); then the URL's origin
 * in parentheses (scheme://host:port: never its path, query or user:password@), so that with
 * several loggers the reader knows which server failed ("Failed to fetch (http://127.0.0.1:7475)");
 * a message quoting the whole URL (Node: "Request cannot be constructed from a URL that includes
 * credentials: <url>") quotes the origin instead.
 * OpenSSL's error string (Node's TLS failures: "<id>:error:<code>:<library>:<function>:<reason>:
 * <source file>:<line>:" and a newline) becomes "TLS error (<library>: <reason>)".
 *
 * workerd (the Worker, `wrangler dev`, the Workers Vitest pool) words a refused connection
 * (nothing listening: ECONNREFUSED) as "Network connection lost." and prints it itself, as
 * "uncaught exception; source = Uncaught (in promise); stack = Error: Network connection lost."
 * with a kj "connect(): Connection refused" line, although the rejection is handled here: a plain
 * `try { await fetch("http://127.0.0.1:9/") } catch {}` in a Worker prints the same lines, while
 * a request aborted by its timeout, a body left unread and a body cancelled print nothing (checked
 * in tests/worker with workerd 1.20260426.1). So those lines in a test run (tests/worker's
 * "Neo4j is unreachable" / "down" cases, which point NEO4J_URL at port 9) are workerd's report of
 * that connection, not a promise of ours left unhandled; the answer is the 503 they expect. (In
 * the e2e and fault suites the same words are to be expected where a connection is cut on
 * purpose: the fault proxy's drops, a page closed with requests in flight; not traced there.)
 */
function reason(e, url) {
  const parts = [];
  let at = "";
  try {
    at = new URL(url).origin;
  } catch {}
  for (let c = e, i = 0; c != null && i < 4; c = c.cause, i++) {
    const error = c instanceof Error;
    let m = (error ? String(c.message) : typeof c === "string" ? c : "fetch failed").split(/[\r\n]/)[0];
    const p = m.split(":");
    const code = error && typeof c.code === "string" ? c.code : "";
    if (p.length > 7 && p[1] === "error") m = `TLS error (${p[3]}: ${p[5]})`;
    else if (!m.includes(code)) m = m ? `${m} [${code}]` : code;
    if (m) parts.push(m.split(url).join(at));
    if (!error) break;
  }
  return `${parts.join(": ") || "fetch failed"}${at && ` (${at})`}`;
}
