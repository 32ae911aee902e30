// Diagnostic for P2 in Chromium (not a figure of BENCHMARKS.md): what 1 ms of main-thread work
// (a busy loop) costs a plain fetch of the P2 request, by when it runs: in the same task right
// after fetch(), 2 or 4 ms later (a timer), or before fetch(); and 0.2 ms in the same task. Shows
// whether the library's work after the request went out (the IndexedDB put, the sessionStorage
// write) is off the call's time or not. Per round p50 and mean of each, ratio to the plain fetch
// with a 95 % bootstrap interval over rounds; order rotated per iteration.
//   node bench/latency_chromium_busy.mjs [K] [M]
import { benchPage } from "./page.mjs";
import { HTTP, PASSWORD, USER, loadWasm } from "./common.mjs";
import { quantile, ratioCI } from "./stats.mjs";
const K = Number(process.argv[2] ?? 7), M = Number(process.argv[3] ?? 60);
await loadWasm();
const { page, close } = await benchPage();
let out;
try {
  out = await page.evaluate(async ({ url, user, password, k, m }) => {
    const pkg = await import("/.cache/bench/pkg/neo4j_audit.js");
    await pkg.default();
    const { event } = await import("/bench/events.mjs");
    const b = new pkg.AuditLogger({ url, username: user, password, trail: "bench", queue: { enabled: false } });
    const auth = "Basic " + btoa(`${user}:${password}`);
    const send = (body, extra = {}) => fetch(`${url}/db/neo4j/tx/commit`, { method: "POST", body, ...extra,
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-Ajax-Browser-Auth": "true", Authorization: auth } });
    const busy = (ms) => { const t = performance.now(); while (performance.now() - t < ms); };
    const c = {
      plain: async (body) => { const j = await (await send(body)).json(); if (j.errors.length) throw 1; },
      "busy 1ms same task": async (body) => { const p = send(body); busy(1); const j = await (await p).json(); if (j.errors.length) throw 1; },
      "busy 1ms at +2ms": async (body) => { const p = send(body); setTimeout(() => busy(1), 2); const j = await (await p).json(); if (j.errors.length) throw 1; },
      "busy 1ms at +4ms": async (body) => { const p = send(body); setTimeout(() => busy(1), 4); const j = await (await p).json(); if (j.errors.length) throw 1; },
      "busy 1ms before fetch": async (body) => { busy(1); const j = await (await send(body)).json(); if (j.errors.length) throw 1; },
      "busy 0.2ms same task": async (body) => { const p = send(body); busy(0.2); const j = await (await p).json(); if (j.errors.length) throw 1; },
    };
    const names = Object.keys(c);
    const rounds = [];
    const it = async (i, rec) => {
      const f = event(1e6 + i);
      const body = pkg.benchmarkRequestBodyOne(b, f.user, f.actionType, f.category, f.details);
      for (let j = 0; j < names.length; j++) { const n = names[(i + j) % names.length]; const t = performance.now(); await c[n](body); rec?.[n].push(performance.now() - t); }
    };
    for (let i = 0; i < 30; i++) await it(i);
    for (let r = 0; r < k; r++) { const rec = Object.fromEntries(names.map((x) => [x, []])); for (let i = 0; i < m; i++) await it(r * m + i, rec); rounds.push(rec); }
    return rounds;
  }, { url: HTTP, user: USER, password: PASSWORD, k: K, m: M });
} finally { await close(); }
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
for (const n of Object.keys(out[0])) {
  const p50 = out.map((r) => quantile(r[n], 0.5)), mn = out.map((r) => mean(r[n]));
  const base50 = out.map((r) => quantile(r.plain, 0.5)), basem = out.map((r) => mean(r.plain));
  const a = ratioCI(p50.map((x, i) => ({ a: x, b: base50[i] }))), b = ratioCI(mn.map((x, i) => ({ a: x, b: basem[i] })));
  console.log(n.padEnd(28), "p50", quantile(p50, .5).toFixed(2), "ratio", a.point.toFixed(3), `[${a.lo.toFixed(3)}, ${a.hi.toFixed(3)}]`, " mean ratio", b.point.toFixed(3), `[${b.lo.toFixed(3)}, ${b.hi.toFixed(3)}]`);
}
