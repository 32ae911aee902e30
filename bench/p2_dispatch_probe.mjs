// Diagnostic (P2 Chromium): does work done on the page's main thread right after fetch(), in the
// same task, hold the request back? A TCP relay (port $P2_RELAY_PORT, default 8964) in front of
// Neo4j stamps when each request's first bytes arrive; the page stamps when fetch() is called
// (performance.timeOrigin + now(), the relay likewise: one clock, a constant offset between the
// two processes that cancels between contenders). Per contender the median of arrival - fetch()
// in µs and of the total, over M iterations in a shuffled order: plain fetch; plain fetch then
// sessionStorage.setItem of a stream-state-sized value (same task, next task, a 1 ms timer); plain
// fetch then 0.3 ms busy; the same
// busy in a zero-delay timer; the library (queue off).
//   node bench/p2_dispatch_probe.mjs [M] [DIR]
import { createServer, connect } from "node:net";
import { benchPage } from "./page.mjs";
import { HTTP, PASSWORD, USER, fresh, loadWasm } from "./common.mjs";

const M = Number(process.argv[2] ?? 200);
const DIR = process.argv[3] ? `/.cache/bench/pkg/${process.argv[3]}` : "/.cache/bench/pkg";
const PORT = Number(process.env.P2_RELAY_PORT ?? 8964);
const target = new URL(HTTP);
const arrivals = [];
const relay = createServer((c) => {
  const s = connect(Number(target.port), target.hostname);
  c.on("data", (d) => {
    const head = d.subarray(0, 8).toString("latin1");
    if (head.startsWith("POST ")) arrivals.push(performance.timeOrigin + performance.now());
    s.write(d);
  });
  s.pipe(c);
  c.on("error", () => s.destroy());
  s.on("error", () => c.destroy());
  c.on("close", () => s.destroy());
});
await new Promise((r) => relay.listen(PORT, "127.0.0.1", r));
await loadWasm();
await fresh();
const { page, close } = await benchPage();
let out;
try {
  out = await page.evaluate(async ({ url, user, password, m, dir }) => {
    const pkg = await import(`${dir}/neo4j_audit.js`);
    await pkg.default({ module_or_path: `${dir}/neo4j_audit_bg.wasm` });
    const { event } = await import("/bench/events.mjs");
    const cfg = { url, username: user, password, trail: "bench", timeoutMs: 60000 };
    const direct = new pkg.AuditLogger({ ...cfg, queue: { enabled: false } });
    const builder = new pkg.AuditLogger({ ...cfg, queue: { enabled: false } });
    if (!(await direct.ensureSchema())) throw new Error(direct.lastError);
    const auth = "Basic " + btoa(`${user}:${password}`);
    const headers = { "Content-Type": "application/json", Accept: "application/json", "X-Ajax-Browser-Auth": "true", Authorization: auth };
    const realFetch = globalThis.fetch;
    let calledAt = 0;
    globalThis.fetch = function (...a) {
      calledAt ||= performance.timeOrigin + performance.now();
      return realFetch.apply(this, a);
    };
    const busy = (ms) => { const t = performance.now(); while (performance.now() - t < ms); };
    const state = JSON.stringify({ streamId: crypto.randomUUID(), seq: 1, head: "f".repeat(64) });
    const plain = (after) => async (body) => {
      const p = fetch(`${url}/db/neo4j/tx/commit`, { method: "POST", headers, body });
      after?.();
      const j = await (await p).json();
      if (j.errors.length) throw new Error(JSON.stringify(j.errors));
    };
    let n = 0;
    const c = {
      plain: plain(),
      "plain + setItem same task": plain(() => sessionStorage.setItem("p2-probe", state + n++)),
      "plain + setItem next task": plain(() => setTimeout(() => sessionStorage.setItem("p2-probe", state + n++), 0)),
      "plain + setItem at +1ms": plain(() => setTimeout(() => sessionStorage.setItem("p2-probe", state + n++), 1)),
      "plain + busy 0.3ms same task": plain(() => busy(0.3)),
      "plain + busy 0.3ms next task": plain(() => setTimeout(() => busy(0.3), 0)),
      "library (queue off)": async () => {
        const e = event(n++);
        if (!(await direct.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(direct.lastError);
      },
    };
    const names = Object.keys(c);
    const rec = [];
    let seed = 3;
    const rand = () => { seed = (seed + 0x6d2b79f5) >>> 0; let t = seed; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
    for (let i = 0; i < m + 20; i++) {
      const f = event(1e6 + i);
      const order = [...names];
      for (let j = order.length - 1; j > 0; j--) { const r = Math.floor(rand() * (j + 1)); [order[j], order[r]] = [order[r], order[j]]; }
      for (const name of order) {
        const body = pkg.benchmarkRequestBodyOne(builder, f.user, f.actionType, f.category, f.details);
        await new Promise((r) => setTimeout(r, 0));
        calledAt = 0;
        const t = performance.now();
        await c[name](body);
        if (i >= 20) rec.push({ name, calledAt, total: performance.now() - t });
      }
    }
    return rec;
  }, { url: `http://127.0.0.1:${PORT}`, user: USER, password: PASSWORD, m: M, dir: DIR });
} finally {
  await close();
  relay.close();
}
// The last arrivals belong to the recorded calls, one each, in order (ensureSchema and warm-up first).
const tail = arrivals.slice(arrivals.length - out.length);
const by = {};
out.forEach((r, i) => (by[r.name] ??= []).push({ gap: (tail[i] - r.calledAt) * 1000, total: r.total }));
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
for (const [name, xs] of Object.entries(by)) {
  console.log(`${name.padEnd(30)} fetch() -> at relay p50 ${med(xs.map((x) => x.gap)).toFixed(0).padStart(6)} µs   total p50 ${med(xs.map((x) => x.total)).toFixed(3)} ms  n=${xs.length}`);
}
