// Where an awaited logUserAction's time goes in a one-caller loop (P1seed "lib c1"), against a
// plain fetch of the same kind of body awaited one at a time, interleaved in blocks in one process:
//   node bench/c1_probe.mjs [K blocks per contender] [B calls per block]
// Contenders: "lib" (one logger, defaults, each call awaited before the next, event(i) as in
// bench/throughput.mjs lib), "plain" (fetch of a body the library built beforehand for the same
// kind of event, awaited). For "lib", globalThis.fetch is wrapped to split each call into
// call -> fetch called (`before`), fetch called -> body read (`wire`), body read -> the call's
// promise resolved (`after`). Prints one JSON line per contender with the medians per block.
import * as pkg from "../.cache/bench/pkg/neo4j_audit.js";
import { HTTP, PASSWORD, USER, config, emit, event, fresh, loadWasm } from "./common.mjs";
import { median, medianCI } from "./stats.mjs";

const K = Number(process.argv[2] ?? 10);
const B = Number(process.argv[3] ?? 50);
await loadWasm();
if (process.env.PROBE_FRESH !== "0") await fresh();
const auth = "Basic " + btoa(`${USER}:${PASSWORD}`);

const realFetch = globalThis.fetch;
let mark = null; // the current library call's timestamps
globalThis.fetch = (url, init) => {
  const m = mark;
  if (m) m.fetch = performance.now();
  return realFetch(url, init).then((r) => {
    if (!m) return r;
    const text = r.text.bind(r);
    r.text = () => text().then((t) => ((m.read = performance.now()), t));
    return r;
  });
};

const logger = new pkg.AuditLogger(config());
if (!(await logger.ensureSchema())) throw new Error(logger.lastError);
const builder = new pkg.AuditLogger(config({ trail: process.env.PROBE_PLAIN_TRAIL ?? "bench" }));
let n = 0;
const lib = async () => {
  const e = event(n++);
  const m = (mark = { t0: performance.now() });
  if (!(await logger.logUserAction(e.user, e.actionType, e.category, e.details))) throw new Error(logger.lastError);
  m.t1 = performance.now();
  mark = null;
  return m;
};
const plain = async (body) => {
  const t0 = performance.now();
  const r = await realFetch(`${HTTP}/db/neo4j/tx/commit`, { method: "POST", body,
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-Ajax-Browser-Auth": "true", Authorization: auth } });
  const j = await r.json();
  if (j.errors.length || j.results[0].data[0].row[0] !== 1) throw new Error(JSON.stringify(j.errors));
  return { t0, t1: performance.now() };
};

const out = { lib: [], plain: [] };
const parts = { before: [], wire: [], after: [] };
for (let k = 0; k < K + 1; k++) {
  for (const which of k % 2 ? ["lib", "plain"] : ["plain", "lib"]) {
    const ms = [];
    if (which === "lib") {
      for (let i = 0; i < B; i++) {
        const m = await lib();
        ms.push(m.t1 - m.t0);
        if (k > 0) {
          parts.before.push(m.fetch - m.t0);
          parts.wire.push(m.read - m.fetch);
          parts.after.push(m.t1 - m.read);
        }
      }
    } else {
      const bodies = [];
      for (let i = 0; i < B; i++) {
        const e = event(n++);
        bodies.push(pkg.benchmarkRequestBodyOne(builder, e.user, e.actionType, e.category, e.details));
      }
      for (const body of bodies) {
        const m = await plain(body);
        ms.push(m.t1 - m.t0);
      }
    }
    if (k > 0) out[which].push({ median: median(ms), mean: ms.reduce((s, x) => s + x, 0) / ms.length });
  }
}
for (const [c, blocks] of Object.entries(out)) {
  emit({ contender: c, k: K, b: B, median: medianCI(blocks.map((x) => x.median)), mean: medianCI(blocks.map((x) => x.mean)) });
}
emit({ libParts: Object.fromEntries(Object.entries(parts).map(([p, xs]) => [p, { p50: median(xs), mean: xs.reduce((s, x) => s + x, 0) / xs.length }])) });
