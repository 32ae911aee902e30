// Diagnostic (P2 Chromium): does the shape of the library's fetch() cost round-trip time? Plain
// fetches of one body (a new event each), interleaved in a shuffled order per iteration, varying one
// thing at a time against "string": body as a Uint8Array copy ("bytes"), an AbortSignal plus a
// cleared timer ("signal"), text() + JSON.parse instead of json() ("text"), all three as the library
// does ("library shape"), and the library's own queue-off call. K rounds of M; per round p50, then
// the median of per-round p50 ratios to "string" with a 95 % bootstrap interval.
//   node bench/p2_fetch_shapes.mjs [K] [M] [DIR]
import { diagnosticPage } from "./diag.mjs";
import { HTTP, PASSWORD, USER } from "./common.mjs";
import { quantile, ratioCI } from "./stats.mjs";

const { K, M, DIR, page, close } = await diagnosticPage();
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
    // The rounds of bench/p2_page.mjs (a shuffled order per iteration, a new body for each, 30
    // warm-up iterations dropped), as the P2 figure runs them.
    const { rounds, elapsed } = await import("/bench/p2_page.mjs");
    return rounds({ pkg, builder, contenders, k, m, measure: elapsed });
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
