// Probe (not a figure): the library's own time on P1's critical path with fetch stubbed — the N
// synchronous calls, the first turn until each of the first requests is handed to fetch, and
// for each later answer the time from the stubbed response resolving to the next fetch call.
//   node bench/p1_gap_probe.mjs [N] [K] [dir of a bench pkg]
import { readFileSync } from "node:fs";
import { bytes, uidCount } from "./body.mjs";
import { event } from "./events.mjs";
import { median } from "./stats.mjs";
const N = Number(process.argv[2] ?? 20000), K = Number(process.argv[3] ?? 5);
const dir = process.argv[4] ?? new URL("../.cache/bench/pkg/", import.meta.url).pathname;
const mod = await import(`${dir}/neo4j_audit.js`);
await mod.default({ module_or_path: readFileSync(`${dir}/neo4j_audit_bg.wasm`) });
let calls = [];
globalThis.fetch = async (url, init) => {
  const body = await bytes(init.body);
  const n = body.includes("SHOW INDEXES") ? 9 : uidCount(body);
  let resolve;
  const p = new Promise((r) => (resolve = r));
  calls.push({ at: performance.now(), n, answer: () => resolve(new Response(`{"results":[{"columns":["n"],"data":[{"row":[${n}],"meta":[null]}]}],"errors":[]}`, { status: 200 })) });
  return p;
};
const tick = () => new Promise(setImmediate);
const out = [];
for (let k = 0; k < K; k++) {
  const l = new mod.AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x", trail: "bench", queue: { maxEvents: N, maxBytes: 1 << 30 } });
  const es = l.ensureSchema();
  while (calls.length) { calls.shift().answer(); await tick(); }
  if (!(await es)) throw new Error(l.lastError);
  const inputs = Array.from({ length: N }, (_, i) => event(i));
  calls = [];
  const t0 = performance.now();
  const ps = [];
  for (let i = 0; i < N; i++) { const e = inputs[i]; ps.push(l.logUserAction(e.user, e.actionType, e.category, e.details)); }
  const sync = performance.now() - t0;
  // The first requests (up to maxInFlight 4), however many tasks they take to leave.
  for (let j = 0; j < 20 && calls.length < 4; j++) await tick();
  const first = calls.map((c) => +(c.at - t0 - sync).toFixed(2));
  // Answer the oldest, time until the next fetch call.
  const gaps = [];
  let done = 0;
  while (calls.length) {
    const c = calls.shift();
    const before = calls.length;
    const ta = performance.now();
    c.answer();
    done += c.n;
    // Wait for the next fetch call (or the end).
    for (let j = 0; j < 50 && calls.length === before && done < N; j++) await tick();
    if (calls.length > before) gaps.push(calls[calls.length - 1].at - ta);
  }
  const oks = await Promise.all(ps);
  if (oks.some((x) => x !== true)) throw new Error(l.lastError);
  out.push({ syncMs: +sync.toFixed(1), firstRequestsAfterLoopMs: first, medianAnswerToNextSendMs: +median(gaps).toFixed(2) });
  l.free();
}
for (const o of out) console.log(JSON.stringify(o));
