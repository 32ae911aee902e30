// P3 full call, builds side by side: process CPU per logUserAction call (bench/cpu_full.mjs's
// loop: N calls submitted at once against the same success stub) for several builds of the write
// entry loaded into one process, and the hand-written JS logger, interleaved per round (order
// rotated by one place per round). For A/B of a change to the hot path: machine load moves every
// contender's figure from run to run, the per-round ratio between builds much less. Each DIR is
// a built write entry with a node.js (pkg/ after scripts/build, or a copy of it).
//   node bench/cpu_full_ab.mjs N K DIR [DIR ...]
// Prints per contender: median µs/call, per-round ratio to the JS logger and to the first DIR
// (median [min, max]) and the 95 % bootstrap interval of the ratio to the first DIR; and the same
// for the synchronous part of the calls alone (before any is awaited).
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { bytes, uidCount } from "./body.mjs";
import { event } from "./events.mjs";
import { makeJsLogger } from "./js_equivalent.mjs";
import { ratioCI } from "./stats.mjs";
const N = Number(process.argv[2]), K = Number(process.argv[3]);
const dirs = process.argv.slice(4);
const stub = async (_url, init) => {
  const body = await bytes(init.body);
  const n = body.includes("SHOW INDEXES") ? 9 : uidCount(body);
  return new Response(`{"results":[{"columns":["n"],"data":[{"row":[${n}],"meta":[null]}]}],"errors":[]}`, { status: 200, headers: { "Content-Type": "application/json" } });
};
let statement;
globalThis.fetch = async (u, init) => { const st = JSON.parse((await bytes(init.body)).toString()).statements?.[0]?.statement; if (st && !st.includes("SHOW INDEXES")) statement ??= st; return stub(u, init); };
const mods = {};
for (const d of dirs) mods[d] = await import(pathToFileURL(resolve(d, "node.js")).href);
{ const l = new mods[dirs[0]].AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x", trail: "bench" });
  if (!(await l.logUserAction(event(0).user, "X", "Y", { a: 1 }))) throw new Error("warm"); await l.close(); }
globalThis.fetch = stub;
const auth = "Basic " + Buffer.from("neo4j:x").toString("base64");
const events = Array.from({ length: N }, (_, i) => event(i));
const contenders = {};
for (const d of dirs) contenders[d] = () => { const l = new mods[d].AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x", trail: "bench", queue: { maxEvents: Math.max(10000, N), maxBytes: Math.max(8 << 20, N * 1024) } }); return { call: (e) => l.logUserAction(e.user, e.actionType, e.category, e.details), end: () => l.close() }; };
contenders.js = () => { const log = makeJsLogger({ url: "http://127.0.0.1:2/db/neo4j/tx/commit", statement, authorization: auth, fetch: stub, sha256hex: (s) => createHash("sha256").update(s).digest("hex") }); return { call: (e) => log(e.user, e.actionType, e.category, e.details), end: () => {} }; };
async function sample(name) {
  const c = contenders[name](); const c0 = process.cpuUsage();
  const calls = events.map(c.call); const s = process.cpuUsage(c0);
  const r = await Promise.all(calls); const cpu = process.cpuUsage(c0);
  if (r.some((x) => x !== true)) throw new Error(name + " failed"); await c.end();
  sync[name].push((s.user + s.system) / N);
  return (cpu.user + cpu.system) / N;
}
// Also the synchronous part alone (the N calls made, before any of them is awaited): what a
// producer's loop costs before its first request can leave (bench/throughput.mjs "a").
const sync = Object.fromEntries(Object.keys(contenders).map((n) => [n, []]));
const names = Object.keys(contenders);
for (const n of names) await sample(n);
for (const n of names) sync[n].length = 0;
const res = Object.fromEntries(names.map((n) => [n, []]));
// Rotated by one place per round (as bench/rounds.mjs does), not reversed every other round: with
// reversal the first DIR and the JS logger follow themselves in half the rounds (A B js | js B A |
// A B js ...), which favoured the first DIR by about 5 % in the synchronous part (seen by listing
// the same builds in either order).
for (let k = 0; k < K; k++) { const ord = names.map((_, i) => names[(i + k) % names.length]); for (const n of ord) res[n].push(await sample(n)); }
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
for (const n of names) {
  const ratios = res[n].map((v, i) => v / res.js[i]);
  const r0 = res[n].map((v, i) => v / res[names[0]][i]);
  const ci = ratioCI(res[n].map((a, i) => ({ a, b: res[names[0]][i] })));
  const s0 = sync[n].map((v, i) => v / sync[names[0]][i]);
  const sci = ratioCI(sync[n].map((a, i) => ({ a, b: sync[names[0]][i] })));
  console.log(`${n.padEnd(24)} sync part med ${med(sync[n]).toFixed(2)} us  to-first ${med(s0).toFixed(3)} (95 % CI ${sci.lo?.toFixed(3)}-${sci.hi?.toFixed(3)})`);
  console.log(`${n.padEnd(24)} med ${med(res[n]).toFixed(2)} us  ratio-to-js med ${med(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(3)}, ${Math.max(...ratios).toFixed(3)}]  to-first ${med(r0).toFixed(3)} [${Math.min(...r0).toFixed(3)}, ${Math.max(...r0).toFixed(3)}] (95 % CI ${ci.lo?.toFixed(3)}-${ci.hi?.toFixed(3)})`);
}
