// P3 in Chromium, diagnosis (not part of bench/run): bench/cpu_chromium.mjs's loop with more
// contenders in one page, to see where the wasm/JS gap in a browser comes from:
//   wasm-chromium  the library as in cpu_chromium.mjs (in a page its stream state is read from and
//                  written to sessionStorage per event: src/wasm/stream.rs)
//   wasm-nostore   the same with sessionStorage hidden while the logger is made (no per-event store)
//   js-chromium    cpu_chromium.mjs's JS equivalent: SHA-256 through crypto.subtle, awaited per
//                  event (wall time then includes a hop to the digest thread and back)
//   js-store       js-chromium plus a sessionStorage read + write per event, as the library does
//   js-sync        the JS equivalent with a synchronous SHA-256 in JS (bench/sha256.mjs)
// Wall time (a page has no process CPU); K rounds, order reversed every other round.
//   node bench/cpu_chromium_diag.mjs [N] [K]   env CHROMIUM_ARGS (e.g. --js-flags=--no-liftoff), WARM (warm-up events)
import { benchPage } from "./page.mjs";
import { emit } from "./common.mjs";

const N = Number(process.argv[2] ?? 20000);
const K = Number(process.argv[3] ?? 5);
const { page, close } = await benchPage({ args: process.env.CHROMIUM_ARGS ? process.env.CHROMIUM_ARGS.split(" ") : [] });
try {
  const results = await page.evaluate(async ({ n, k, warm }) => {
    const pkg = await import("/.cache/bench/pkg/neo4j_audit.js");
    await pkg.default();
    const { event } = await import("/bench/events.mjs");
    const { makeBuilder } = await import("/bench/js_equivalent.mjs");
    const logger = new pkg.AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x", trail: "bench" });
    const e0 = event(0);
    const statement = JSON.parse(pkg.benchmarkRequestBodyOne(logger, e0.user, e0.actionType, e0.category, e0.details)).statements[0].statement;
    const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
    const enc = new TextEncoder();
    const js = makeBuilder({ statement, sha256hex: async (s) => hex(await crypto.subtle.digest("SHA-256", enc.encode(s))) });
    const events = Array.from({ length: n }, (_, i) => event(i));
    const out = [];
    const desc = Object.getOwnPropertyDescriptor(window, "sessionStorage"); // [Global]: an own property
    Object.defineProperty(window, "sessionStorage", { get: () => null, configurable: true });
    const bare = new pkg.AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x", trail: "bench" });
    Object.defineProperty(window, "sessionStorage", desc);
    // The JS equivalent plus what the library does per event in a browser: the stream state
    // read from and written to sessionStorage.
    const key = "js-bench:stream";
    const jsStore = makeBuilder({ statement, sha256hex: async (s) => hex(await crypto.subtle.digest("SHA-256", enc.encode(s))) });
    let seq = 0;
    const { sha256hex } = await import("/bench/sha256.mjs");
    const jsSync = makeBuilder({ statement, sha256hex });
    const impls = {
      "wasm-chromium": (e) => pkg.benchmarkRequestBodyOne(logger, e.user, e.actionType, e.category, e.details),
      "wasm-nostore": (e) => pkg.benchmarkRequestBodyOne(bare, e.user, e.actionType, e.category, e.details),
      "js-chromium": (e) => js(e.user, e.actionType, e.category, e.details),
      "js-sync": (e) => jsSync(e.user, e.actionType, e.category, e.details),
      "js-store": async (e) => { const st = JSON.parse(sessionStorage.getItem(key) ?? "null"); const b = await jsStore(e.user, e.actionType, e.category, e.details); sessionStorage.setItem(key, JSON.stringify({ streamId: "x", nextSeq: ++seq, head: b.slice(-80, -16) })); return b; },
    };
    for (const fn of Object.values(impls)) for (let i = 0; i < warm; i++) await fn(events[i]); // warm-up
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
  }, { n: N, k: K, warm: Number(process.env.WARM ?? Math.min(2000, N)) });
  for (const r of results) emit({ n: N, diag: true, ...r });
} finally {
  await close();
}
