// P3 in headless Chromium (Debian's, driven by playwright-core): the library's wasm build against
// the hand-written JS equivalent, same events, no network (Neo4j is never contacted: the logger
// only builds bodies; its sessionStorage stream store is off, see below). Files are served from the
// repository by a throwaway local HTTP server.
//   node bench/cpu_chromium.mjs [N] [K]     K rounds, the two in alternating order; one JSON line per round each
import { benchPage } from "./page.mjs";
import { emit } from "./common.mjs";

const N = Number(process.argv[2] ?? 20000);
const K = Number(process.argv[3] ?? 5);
const { page, close } = await benchPage();
try {
  const results = await page.evaluate(async ({ n, k }) => {
    const pkg = await import("/.cache/bench/pkg/neo4j_audit.js");
    await pkg.default();
    const { event } = await import("/bench/events.mjs");
    const { makeBuilder } = await import("/bench/js_equivalent.mjs");
    // The core's work, as bench/cpu.mjs measures it in Node: in a page the library also keeps its
    // hash chain's stream state in sessionStorage (a read and a write per event, src/wasm/stream.rs),
    // which the JS equivalent does not do and which Node has not; the logger is made with
    // sessionStorage hidden, so it keeps the state in memory as in Node. What the store costs:
    // bench/cpu_chromium_diag.mjs (wasm-chromium vs wasm-nostore).
    const storage = Object.getOwnPropertyDescriptor(window, "sessionStorage"); // [Global]: an own property
    Object.defineProperty(window, "sessionStorage", { get: () => null, configurable: true });
    const logger = new pkg.AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x", trail: "bench" });
    Object.defineProperty(window, "sessionStorage", storage);
    if (!(window.sessionStorage instanceof Storage)) throw new Error("sessionStorage not restored");
    // ... and, as users get it in a page, a logger that keeps its stream state in sessionStorage
    // (contender "wasm-store", reported apart: what the per-event persistence costs).
    const stored = new pkg.AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x", trail: "bench-store" });
    const e0 = event(0);
    const statement = JSON.parse(pkg.benchmarkRequestBodyOne(logger, e0.user, e0.actionType, e0.category, e0.details)).statements[0].statement;
    if (Object.keys(sessionStorage).some((k) => k.startsWith("neo4j-audit:stream:") && !k.includes("bench-store"))) throw new Error("stream store on");
    const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
    const enc = new TextEncoder();
    const js = makeBuilder({ statement, sha256hex: async (s) => hex(await crypto.subtle.digest("SHA-256", enc.encode(s))) });
    const events = Array.from({ length: n }, (_, i) => event(i));
    const out = [];
    const impls = {
      "wasm-chromium": (e) => pkg.benchmarkRequestBodyOne(logger, e.user, e.actionType, e.category, e.details),
      "js-chromium": (e) => js(e.user, e.actionType, e.category, e.details),
      "wasm-store": (e) => pkg.benchmarkRequestBodyOne(stored, e.user, e.actionType, e.category, e.details),
    };
    for (const fn of Object.values(impls)) for (let i = 0; i < Math.min(2000, n); i++) await fn(events[i]); // warm-up
    for (let round = 1; round <= k; round++) {
      const names = Object.keys(impls);
      if (round % 2 === 0) names.reverse();
      for (const [place, contender] of names.entries()) {
        const fn = impls[contender];
        const t0 = performance.now();
        let bytes = 0;
        for (const e of events) bytes += (await fn(e)).length;
        out.push({ round, place, contender, usPerEvent: ((performance.now() - t0) * 1000) / n, avgBodyBytes: bytes / n });
      }
    }
    return out;
  }, { n: N, k: K });
  for (const r of results) emit({ n: N, note: r.contender === "wasm-store" ? "the library as in a page: stream state in sessionStorage" : "JS SHA-256 via async crypto.subtle; library's sessionStorage stream store off", ...r });
} finally {
  await close();
}
