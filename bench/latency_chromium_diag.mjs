// Diagnostic for P2 in Chromium (not a figure of BENCHMARKS.md): where a lone call's time goes,
// queue on / queue off / plain fetch, in the page of bench/latency_chromium.mjs. The page's
// `fetch` and `Response.prototype.text`/`json` are wrapped (the same wrapper for every contender)
// to stamp: the call's start, logUserAction's return ("sync": the call's own work, up to its
// promise), `fetch()` called ("pre": the library's work before the request, sync included),
// `fetch()` resolved (headers), the body read, the call resolved ("post": after the body). Means
// over M iterations per round (the page is cross-origin isolated: performance.now() to 5 µs), and
// the request each contender sent (headers, body size, init keys) once.
//   node bench/latency_chromium_diag.mjs [K] [M] [DIR]   (DIR under .cache/bench/pkg/, default: the bench build)
import { diagnosticPage } from "./diag.mjs";
import { HTTP, PASSWORD, USER } from "./common.mjs";
import { quantile } from "./stats.mjs";

const { K, M, DIR, page, close } = await diagnosticPage();
let out;
try {
  out = await page.evaluate(async ({ url, user, password, k, m, dir }) => {
    const pkg = await import(`${dir}/neo4j_audit.js`);
    await pkg.default({ module_or_path: `${dir}/neo4j_audit_bg.wasm` });
    const { contenders, rounds } = await import("/bench/p2_page.mjs");
    const cfg = { url, username: user, password, trail: "bench", timeoutMs: 60000 };
    const queued = new pkg.AuditLogger({ ...cfg, queue: { name: `diag-${Date.now()}` } });
    const direct = new pkg.AuditLogger({ ...cfg, queue: { enabled: false } });
    const builder = new pkg.AuditLogger({ ...cfg, queue: { enabled: false } });
    for (const l of [queued, direct]) if (!(await l.ensureSchema())) throw new Error(l.lastError);
    // Stamps of the current call.
    let st = {};
    const seen = {};
    let current = "";
    const realFetch = globalThis.fetch;
    globalThis.fetch = function (u, init) {
      st.fetch ??= performance.now();
      if (!seen[current]) {
        const h = init?.headers ?? {};
        seen[current] = { url: String(u), initKeys: Object.keys(init ?? {}), headers: Object.keys(h).map((x) => `${x}: ${x === "Authorization" ? "(set)" : h[x]}`),
          bodyType: typeof init?.body, bodyLen: init?.body?.length, signal: !!init?.signal, keepalive: !!init?.keepalive };
      }
      const p = realFetch.call(this, u, init);
      p.then(() => (st.headers ??= performance.now()), () => {});
      return p;
    };
    const realLog = pkg.AuditLogger.prototype.logUserAction;
    pkg.AuditLogger.prototype.logUserAction = function (...a) {
      const p = realLog.apply(this, a);
      st.sync ??= performance.now();
      return p;
    };
    for (const how of ["text", "json", "arrayBuffer"]) {
      const real = Response.prototype[how];
      Response.prototype[how] = function () {
        st.readCalled ??= performance.now();
        if (seen[current]) seen[current].read = how;
        const p = real.call(this);
        p.then(() => (st.body ??= performance.now()), () => {});
        return p;
      };
    }
    const measure = async (name, run) => {
      current = name;
      st = {};
      const t = performance.now();
      await run();
      const end = performance.now();
      return { total: end - t, sync: st.sync - t, pre: st.fetch - t, net: st.headers - st.fetch, read: st.body - st.headers,
        post: end - st.body, hop: st.readCalled - st.headers };
    };
    const recs = await rounds({ pkg, builder, contenders: contenders({ url, user, password, queued, direct }), k, m, measure });
    return { rounds: recs, seen };
  }, { url: HTTP, user: USER, password: PASSWORD, k: K, m: M, dir: DIR });
} finally {
  await close();
}
console.log(JSON.stringify(out.seen, null, 1));
const parts = ["total", "sync", "pre", "net", "hop", "read", "post"];
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log(`per contender: median over ${K} rounds of each round's mean (ms); p50 of total too`);
console.log("contender".padEnd(20) + parts.map((p) => p.padStart(8)).join("") + "  p50".padStart(8));
for (const name of Object.keys(out.rounds[0])) {
  const row = parts.map((p) => quantile(out.rounds.map((r) => mean(r[name].map((s) => s[p] ?? 0))), 0.5));
  const p50 = quantile(out.rounds.map((r) => quantile(r[name].map((s) => s.total), 0.5)), 0.5);
  console.log(name.padEnd(20) + row.map((x) => x.toFixed(3).padStart(8)).join("") + p50.toFixed(3).padStart(8));
}
