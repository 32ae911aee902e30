// Diagnostic (P2 Chromium): does the shape of the library's fetch() cost round-trip time? Plain
// fetches of one body (a new event each), interleaved in a shuffled order per iteration, varying one
// thing at a time against "string": body as a Uint8Array copy ("bytes"), an AbortSignal plus a
// cleared timer ("signal"), text() + JSON.parse instead of json() ("text"), all three as the library
// does ("library shape"), and the library's own queue-off call. K rounds of M; per round p50, then
// the median of per-round p50 ratios to "string" with a 95 % bootstrap interval.
//   node bench/p2_fetch_shapes.mjs [K] [M] [DIR]
import { benchPage } from "./page.mjs";
import { HTTP, PASSWORD, USER, fresh, loadWasm } from "./common.mjs";
import { quantile, ratioCI, rng } from "./stats.mjs";

const K = Number(process.argv[2] ?? 5);
const M = Number(process.argv[3] ?? 100);
const DIR = process.argv[4] ? `/.cache/bench/pkg/${process.argv[4]}` : "/.cache/bench/pkg";
await loadWasm();
await fresh();
const { page, close } = await benchPage();
let rounds;
try {
  rounds = await page.evaluate(async ({ url, user, password, k, m, dir }) => {
    const pkg = await import(`${dir}/neo4j_audit.js`);
    await pkg.default({ module_or_path: `${dir}/neo4j_audit_bg.wasm` });
    const { event } = await import("/bench/events.mjs");
    const cfg = { url, username: user, password, trail: "bench", timeoutMs: 60000 };
    const builder = new pkg.AuditLogger({ ...cfg, queue: { enabled: false } });
    const direct = new pkg.AuditLogger({ ...cfg, queue: { enabled: false } });
    if (!(await direct.ensureSchema())) throw new Error(direct.lastError);
    const auth = "Basic " + btoa(`${user}:${password}`);
    const headers = { "Content-Type": "application/json", Accept: "application/json", "X-Ajax-Browser-Auth": "true", Authorization: auth };
    const enc = new TextEncoder();
    const check = (j) => { if (j.errors.length) throw new Error(JSON.stringify(j.errors)); };
    const go = async (body, { bytes, signal, text }) => {
      let abort, timer;
      if (signal) { abort = new AbortController(); timer = setTimeout(() => abort.abort(), 60000); }
      const r = await fetch(`${url}/db/neo4j/tx/commit`, { method: "POST", headers, body: bytes ? enc.encode(body) : body, signal: abort?.signal });
      const j = text ? JSON.parse(await r.text()) : await r.json();
      if (signal) clearTimeout(timer);
      check(j);
    };
    let n = 0;
    const contenders = {
      string: (b) => go(b, {}),
      bytes: (b) => go(b, { bytes: true }),
      signal: (b) => go(b, { signal: true }),
      text: (b) => go(b, { text: true }),
      "library shape": (b) => go(b, { bytes: true, signal: true, text: true }),
      "library (queue off)": async () => {
        const e = event(n++);
        if (!(await direct.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(direct.lastError);
      },
    };
    const names = Object.keys(contenders);
    let seed = 7;
    const rand = () => { seed = (seed + 0x6d2b79f5) >>> 0; let t = seed; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
    const it = async (i, rec) => {
      const f = event(1e6 + i);
      const order = [...names];
      for (let j = order.length - 1; j > 0; j--) { const r = Math.floor(rand() * (j + 1)); [order[j], order[r]] = [order[r], order[j]]; }
      const bodies = order.map(() => pkg.benchmarkRequestBodyOne(builder, f.user, f.actionType, f.category, f.details));
      for (const [j, name] of order.entries()) {
        const t = performance.now();
        await contenders[name](bodies[j]);
        rec?.[name].push(performance.now() - t);
      }
    };
    for (let i = 0; i < 30; i++) await it(i);
    const out = [];
    for (let r = 1; r <= k; r++) {
      const rec = Object.fromEntries(names.map((x) => [x, []]));
      for (let i = 0; i < m; i++) await it(r * m + i, rec);
      out.push(rec);
    }
    return out;
  }, { url: HTTP, user: USER, password: PASSWORD, k: K, m: M, dir: DIR });
} finally {
  await close();
}
const f3 = (x) => x.toFixed(3);
for (const name of Object.keys(rounds[0])) {
  const p50 = rounds.map((r) => quantile(r[name], 0.5));
  const base = rounds.map((r) => quantile(r.string, 0.5));
  const c = ratioCI(p50.map((a, i) => ({ a, b: base[i] })));
  console.log(`${name.padEnd(20)} p50 ${f3(quantile(p50, 0.5))} ms  to string ${f3(c.point)} [${f3(c.lo)}, ${f3(c.hi)}]  k=${K}`);
}
