// Diagnostic (P2 Chromium): the order and time, from the call's start, of what a lone
// logUserAction does on the page's main thread: its return, sessionStorage.setItem, IndexedDB
// put, queueMicrotask/setTimeout scheduled, fetch() called. Means/medians over M calls per logger.
//   node bench/p2_order_probe.mjs [M] [DIR]   (DIR under .cache/bench/pkg/, default: the bench build)
import { benchPage } from "./page.mjs";
import { HTTP, PASSWORD, USER, fresh, loadWasm } from "./common.mjs";

const M = Number(process.argv[2] ?? 100);
const DIR = process.argv[3] ? `/.cache/bench/pkg/${process.argv[3]}` : "/.cache/bench/pkg";
await loadWasm();
await fresh();
const { page, close } = await benchPage();
try {
  const out = await page.evaluate(async ({ url, user, password, m, dir }) => {
    const pkg = await import(`${dir}/neo4j_audit.js`);
    await pkg.default({ module_or_path: `${dir}/neo4j_audit_bg.wasm` });
    const { event } = await import("/bench/events.mjs");
    const cfg = { url, username: user, password, trail: "bench", timeoutMs: 60000 };
    const loggers = {
      "queue on": new pkg.AuditLogger({ ...cfg, queue: { name: `probe-${Date.now()}` } }),
      "queue off": new pkg.AuditLogger({ ...cfg, queue: { enabled: false } }),
    };
    for (const l of Object.values(loggers)) if (!(await l.ensureSchema())) throw new Error(l.lastError);
    let log = null;
    let t0 = 0;
    const mark = (what) => log?.push([what, performance.now() - t0]);
    const wrap = (obj, name, label) => {
      const real = obj[name];
      obj[name] = function (...a) {
        mark(label);
        return real.apply(this, a);
      };
    };
    wrap(globalThis, "fetch", "fetch");
    wrap(Storage.prototype, "setItem", "setItem");
    wrap(IDBObjectStore.prototype, "put", "idb put");
    wrap(IDBDatabase.prototype, "transaction", "idb tx");
    wrap(globalThis, "queueMicrotask", "queueMicrotask");
    wrap(globalThis, "setTimeout", "setTimeout");
    wrap(Response.prototype, "text", "text()");
    let n = 0;
    const res = {};
    for (const [name, l] of Object.entries(loggers)) {
      const seqs = [];
      for (let i = 0; i < m; i++) {
        const e = event(n++);
        log = [];
        t0 = performance.now();
        const p = l.logUserAction(e.user, e.actionType, e.category, e.details);
        mark("returned");
        if (!(await p)) throw new Error(l.lastError);
        mark("resolved");
        seqs.push(log);
        log = null;
        await new Promise((r) => setTimeout(r, 5));
      }
      res[name] = seqs;
    }
    return res;
  }, { url: HTTP, user: USER, password: PASSWORD, m: M, dir: DIR });
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  for (const [name, seqs] of Object.entries(out)) {
    // The sequence of labels of the last call, with each label's median time over calls with the same shape.
    const shape = seqs[seqs.length - 1].map((x) => x[0]).join(" > ");
    const same = seqs.filter((s) => s.map((x) => x[0]).join(" > ") === shape);
    console.log(`${name}: ${same.length}/${seqs.length} calls in this order`);
    for (const [j, [label]] of seqs[seqs.length - 1].entries()) console.log(`  ${label.padEnd(16)} ${(med(same.map((s) => s[j][1])) * 1000).toFixed(0).padStart(7)} µs`);
  }
} finally {
  await close();
}
