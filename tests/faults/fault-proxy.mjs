// A fault-injecting HTTP proxy for the client-mode fault tests (the Node counterpart of
// tests/common/proxy.rs): it sits between a client-mode AuditLogger (Node or a browser page) and
// `wrangler dev`, and for a chosen share (per mille) of `POST /v1/events` requests it
//   - drop:  closes the connection without forwarding or answering;
//   - delay: waits `delayMs` (past the client's timeout), then forwards anyway (the Worker writes,
//            nobody hears the answer);
//   - 503:   answers 503 + Retry-After itself, without forwarding;
//   - 429:   answers 429 + Retry-After itself, without forwarding;
//   - cut:   forwards, waits for the Worker's whole answer (it committed) and closes the client
//            connection instead of relaying it.
// Answers the proxy makes itself carry the Worker's CORS headers for the request's Origin
// (Access-Control-Allow-Origin, Access-Control-Expose-Headers: Retry-After) so a browser can read
// them; OPTIONS preflights and everything else are forwarded untouched. The choice of fault is
// deterministic for a seed (request k always gets the same decision), and every decision is
// counted.
import { createServer, request as httpRequest } from "node:http";

export const FAULTS = ["drop", "delay", "503", "429", "cut"];

/** mulberry32: a small seeded PRNG, deterministic across runs. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Starts the proxy in front of `target` (e.g. "http://127.0.0.1:8787").
 * Options: perMille (share of POST /v1/events faulted, default 100), seed (default 1),
 * delayMs (default 3500), retryAfterS (default 1), faults (kinds to draw from, default all five).
 * Returns {url, counts, plan, close()}; `plan` may be changed while it runs (e.g. perMille = 0).
 */
export async function startFaultProxy(target, options = {}) {
  const plan = {
    perMille: options.perMille ?? 100,
    delayMs: options.delayMs ?? 3500,
    retryAfterS: options.retryAfterS ?? 1,
    faults: options.faults ?? FAULTS,
  };
  const rand = prng(options.seed ?? 1);
  const upstream = new URL(target);
  const counts = {
    requests: 0, writes: 0, preflights: 0, forwarded: 0, upstreamErrors: 0,
    drop: 0, delay: 0, "503": 0, "429": 0, cut: 0,
  };
  const sockets = new Set();

  /** The fault for the next write (or null), drawn in arrival order from the seeded stream. */
  function decide() {
    const hit = rand() * 1000 < plan.perMille;
    const kind = plan.faults[Math.floor(rand() * plan.faults.length)];
    return hit ? kind : null;
  }

  function corsHeaders(req) {
    const origin = req.headers.origin;
    return origin
      ? { "Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "Retry-After", Vary: "Origin" }
      : {};
  }

  function readBody(req) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  }

  /** Forwards a request with `body`; resolves {status, headers, body} or null (upstream failed). */
  function forward(req, body) {
    return new Promise((resolve) => {
      const headers = { ...req.headers, host: upstream.host };
      delete headers.connection;
      delete headers["keep-alive"];
      delete headers["transfer-encoding"];
      if (body) headers["content-length"] = String(body.length);
      const up = httpRequest({
        host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers,
      }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => { counts.forwarded++; resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }); });
        res.on("error", () => { counts.upstreamErrors++; resolve(null); });
      });
      up.on("error", () => { counts.upstreamErrors++; resolve(null); });
      up.end(body ?? undefined);
    });
  }

  function relay(res, answer) {
    if (res.destroyed || res.socket?.destroyed) return;
    if (!answer) { res.socket?.destroy(); return; }
    const headers = { ...answer.headers };
    delete headers.connection;
    delete headers["keep-alive"];
    delete headers["transfer-encoding"];
    headers["content-length"] = String(answer.body.length);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  }

  function answer(req, res, status, error) {
    const body = JSON.stringify({ error, message: `fault proxy: ${status}` });
    res.writeHead(status, {
      "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body),
      "Retry-After": String(plan.retryAfterS), ...corsHeaders(req),
    });
    res.end(body);
  }

  const server = createServer(async (req, res) => {
    counts.requests++;
    const path = new URL(req.url, "http://x").pathname;
    let body;
    try { body = await readBody(req); } catch { res.socket?.destroy(); return; }
    if (req.method === "OPTIONS") counts.preflights++;
    if (req.method !== "POST" || path !== "/v1/events") {
      relay(res, await forward(req, req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS" ? null : body));
      return;
    }
    counts.writes++;
    const fault = decide();
    if (fault) counts[fault]++;
    switch (fault) {
      case "drop":
        req.socket.destroy();
        return;
      case "delay":
        await new Promise((r) => setTimeout(r, plan.delayMs));
        relay(res, await forward(req, body)); // the client has usually given up by now
        return;
      case "503":
        return answer(req, res, 503, "unavailable");
      case "429":
        return answer(req, res, 429, "rate_limited");
      case "cut": {
        await forward(req, body);
        req.socket.destroy();
        return;
      }
      default:
        relay(res, await forward(req, body));
    }
  });
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  server.keepAliveTimeout = 30_000;
  await new Promise((r) => server.listen(options.port ?? 0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    counts,
    plan,
    faults: () => FAULTS.reduce((n, k) => n + counts[k], 0),
    summary: () => `requests=${counts.requests} writes=${counts.writes} preflights=${counts.preflights} ` +
      `forwarded=${counts.forwarded} upstreamErrors=${counts.upstreamErrors} faults=${FAULTS.reduce((n, k) => n + counts[k], 0)} ` +
      `(drop=${counts.drop} delay=${counts.delay} 503=${counts["503"]} 429=${counts["429"]} cut=${counts.cut})`,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
