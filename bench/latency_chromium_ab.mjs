// P2 in headless Chromium, builds side by side (A/B of a change to the durable queue): one
// unbatched event with the queue on (IndexedDB), as in bench/latency_chromium.mjs, for several
// bench builds loaded into one page, plus the first build with the queue off and a plain fetch of
// the same statement and body. Machine load moves every contender's figure from run to run, the
// per-round ratio between contenders in one page much less. Contenders in a random order per
// iteration (seeded), 30 warm-up iterations dropped; per round p50 of each. Each DIR is a bench build
// (bench/setup's wasm-pack --features js,fetch,read,bench + wasm-opt) under .cache/bench/pkg/, each
// logger with a queue (IndexedDB database) of its own.
//   node bench/latency_chromium_ab.mjs K M DIR [DIR ...]     (DIR relative to .cache/bench/pkg/)
// Prints one JSON line per round and contender, then per contender the median of the per-round
// p50 ratios to plain fetch and to the first build's queue on, with 95 % bootstrap intervals; and
// the library's own time on the call's critical path ("over": call -> fetch() called, plus body
// read -> call resolved; the page's fetch and Response text/json wrapped to stamp, the same
// wrapper for every contender): per round its p50, and its difference to the first build in µs.
// A change of 10 µs is 0.2 % of a round trip, below what the totals resolve, but not of "over".
// With AB_OFF=1 every build's queue-off logger is a contender too (else only the first build's).
// Run both orders (A B, then B A): measured 2026-11-30, the build loaded second showed ~15 µs more
// "over" either way (a load-order bias of the page, not of the build).
import { benchPage } from "./page.mjs";
import { HTTP, PASSWORD, USER, emit, fresh, loadWasm } from "./common.mjs";
import { diffCI, quantile, ratioCI } from "./stats.mjs";

const K = Number(process.argv[2] ?? 5);
const M = Number(process.argv[3] ?? 200);
const dirs = process.argv.slice(4);
if (!dirs.length) throw new Error("usage: node bench/latency_chromium_ab.mjs K M DIR [DIR ...]");
await loadWasm();
await fresh();
const { page, close } = await benchPage();
let samples;
try {
  samples = await page.evaluate(async ({ url, user, password, k, m, dirs, raw, off }) => {
    const { event } = await import("/bench/events.mjs");
    const auth = "Basic " + btoa(`${user}:${password}`);
    const cfg = { url, username: user, password, trail: "bench", timeoutMs: 60000 };
    let n = 0;
    const contenders = {};
    let builder;
    const run = (l) => async () => {
      const e = event(n++);
      if (!(await l.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(l.lastError);
    };
    for (const [i, d] of dirs.entries()) {
      const pkg = await import(`/.cache/bench/pkg/${d}/neo4j_audit.js`);
      await pkg.default({ module_or_path: `/.cache/bench/pkg/${d}/neo4j_audit_bg.wasm` });
      const queued = new pkg.AuditLogger({ ...cfg, queue: { name: `bench-ab-${i}-${Date.now()}` } });
      if (!(await queued.ensureSchema())) throw new Error(queued.lastError);
      contenders[`${d} (queue on)`] = run(queued);
      if (i === 0 || off) {
        const direct = new pkg.AuditLogger({ ...cfg, queue: { enabled: false } });
        contenders[`${d} (queue off)`] = run(direct);
      }
      if (i === 0) builder = { pkg, l: new pkg.AuditLogger({ ...cfg, queue: { enabled: false } }) };
    }
    // With AB_RAW=1: the plain fetch plus the queue's IndexedDB work done by hand (the put issued
    // once the request is out, not awaited; the delete after the answer, in a transaction of its
    // own a zero-delay timer later, or with the next put): the floor any queue build can reach.
    if (raw) {
      const db = await new Promise((ok, bad) => {
        const r = indexedDB.open(`bench-ab-raw-${Date.now()}`, 1);
        r.onupgradeneeded = () => r.result.createObjectStore("events");
        r.onsuccess = () => ok(r.result);
        r.onerror = () => bad(r.error);
      });
      let uid = 0;
      const dels = [];
      const rawFetch = (later, nextTask) => async (body) => {
        const key = `k${uid++}`;
        const p = fetch(`${url}/db/neo4j/tx/commit`, { method: "POST", body,
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-Ajax-Browser-Auth": "true", Authorization: auth } });
        const store = () => {
          const s = db.transaction("events", "readwrite").objectStore("events");
          if (later) for (const k of dels.splice(0)) s.delete(k);
          s.put(body, key);
        };
        if (nextTask) setTimeout(store, 0);
        else store();
        const j = await (await p).json();
        if (j.errors.length) throw new Error(JSON.stringify(j.errors));
        if (later) dels.push(key);
        else setTimeout(() => db.transaction("events", "readwrite").objectStore("events").delete(key), 0);
      };
      contenders["fetch + idb (2 tx)"] = rawFetch(false);
      contenders["fetch + idb (1 tx)"] = rawFetch(true);
      contenders["fetch + idb (next task)"] = rawFetch(false, true);
    }
    contenders["plain fetch"] = async (body) => {
      const r = await fetch(`${url}/db/neo4j/tx/commit`, { method: "POST", body,
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-Ajax-Browser-Auth": "true", Authorization: auth } });
      const j = await r.json();
      if (j.errors.length) throw new Error(JSON.stringify(j.errors));
    };
    // The stamps of the call under way (see the header).
    let st = {};
    const realFetch = globalThis.fetch;
    globalThis.fetch = function (...a) {
      st.fetch ??= performance.now();
      return realFetch.apply(this, a);
    };
    for (const how of ["text", "json"]) {
      const real = Response.prototype[how];
      Response.prototype[how] = function () {
        const p = real.call(this);
        p.then(() => (st.body ??= performance.now()), () => {});
        return p;
      };
    }
    const names = Object.keys(contenders);
    let seed = 12345;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const out = [];
    const iteration = async (i, rec) => {
      const f = event(1e6 + i);
      const body = builder.pkg.benchmarkRequestBodyOne(builder.l, f.user, f.actionType, f.category, f.details);
      // A fresh random order per iteration, not a rotation: a queue-on contender's IndexedDB
      // work (its put's commit, the deletes after it) overlaps the next contender's request, so
      // with a fixed cycle each contender would always follow the same one.
      const order = [...names];
      for (let j = order.length - 1; j > 0; j--) {
        const r = Math.floor(rand() * (j + 1));
        [order[j], order[r]] = [order[r], order[j]];
      }
      for (const name of order) {
        st = {};
        const t = performance.now();
        await contenders[name](body);
        const end = performance.now();
        rec?.[name].push(end - t);
        rec?.[`${name} over`].push(st.fetch - t + (end - st.body));
      }
    };
    for (let i = 0; i < 30; i++) await iteration(i);
    for (let round = 1; round <= k; round++) {
      const rec = Object.fromEntries(names.flatMap((x) => [[x, []], [`${x} over`, []]]));
      for (let i = 0; i < m; i++) await iteration(round * m + i, rec);
      out.push({ round, rec });
    }
    return out;
  }, { url: HTTP, user: USER, password: PASSWORD, k: K, m: M, dirs, raw: process.env.AB_RAW === "1", off: process.env.AB_OFF === "1" });
} finally {
  await close();
}
// The interquartile mean as well: Chromium coarsens performance.now() to 0.1 ms, which a p50 of a
// few ms shows as steps of a few per cent.
const iqm = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.slice(Math.floor(s.length / 4), Math.ceil((s.length * 3) / 4));
  return mid.reduce((t, x) => t + x, 0) / mid.length;
};
const p50 = {};
const mid = {};
const over = {};
for (const { round, rec } of samples) {
  for (const [contender, ms] of Object.entries(rec)) {
    if (contender.endsWith(" over")) {
      (over[contender.slice(0, -5)] ??= []).push(quantile(ms, 0.5));
      continue;
    }
    const v = quantile(ms, 0.5);
    (p50[contender] ??= []).push(v);
    (mid[contender] ??= []).push(iqm(ms));
    emit({ figure: "P2-ab", round, contender, n: ms.length, p50: v, iqm: iqm(ms), p99: quantile(ms, 0.99), browser: "chromium" });
  }
}
const first = `${dirs[0]} (queue on)`;
const f3 = (x) => x?.toFixed(3);
for (const [stat, by] of [["p50", p50], ["iqm", mid]]) {
  for (const [c, xs] of Object.entries(by)) {
    const toFetch = ratioCI(xs.map((a, i) => ({ a, b: by["plain fetch"][i] })));
    const toFirst = ratioCI(xs.map((a, i) => ({ a, b: by[first][i] })));
    console.error(`${stat} ${c.padEnd(28)} med ${f3(quantile(xs, 0.5))} ms  to fetch ${f3(toFetch.point)} [${f3(toFetch.lo)}, ${f3(toFetch.hi)}]` +
      `  to ${first} ${f3(toFirst.point)} [${f3(toFirst.lo)}, ${f3(toFirst.hi)}]  k=${xs.length}`);
  }
}
for (const [c, xs] of Object.entries(over)) {
  const d = diffCI(xs.map((a, i) => ({ a, b: over[first][i] })));
  const us = (x) => (x * 1000).toFixed(1);
  console.error(`over ${c.padEnd(27)} p50 ${us(quantile(xs, 0.5))} µs  minus ${first}'s: ${us(d.point)} µs [${us(d.lo)}, ${us(d.hi)}]  k=${xs.length}`);
}
