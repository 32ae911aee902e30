// P3 core, builds side by side: process CPU per event of benchmarkRequestBodyOne (bench/cpu.mjs's
// loop: JS conversion, validation, redaction, UID, time, hash chain, statement, serialised body)
// for several builds loaded into one process, and the hand-written JS equivalent
// (bench/js_equivalent.mjs), interleaved per round (order rotated by one place per round). For A/B of
// a change to the core: machine load moves every contender's figure from run to run, the per-round
// ratio between builds much less. Each DIR is a write entry built with the `bench` feature and a
// node.js beside it (see bench/cpu_full_ab.mjs).
//   node bench/cpu_ab.mjs N K DIR [DIR ...]
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { event } from "./events.mjs";
import { makeBuilder } from "./js_equivalent.mjs";
import { ratioCI } from "./stats.mjs";
const N = Number(process.argv[2]), K = Number(process.argv[3]);
const dirs = process.argv.slice(4);
const events = Array.from({ length: N }, (_, i) => event(i));
const contenders = {};
let statement;
for (const d of dirs) {
  const m = await import(pathToFileURL(resolve(d, "node.js")).href);
  const l = new m.AuditLogger({ url: "http://127.0.0.1:2", username: "neo4j", password: "x", trail: "bench" });
  const e0 = events[0];
  statement ??= JSON.parse(m.benchmarkRequestBodyOne(l, e0.user, e0.actionType, e0.category, e0.details)).statements[0].statement;
  contenders[d] = (e) => m.benchmarkRequestBodyOne(l, e.user, e.actionType, e.category, e.details);
}
const js = makeBuilder({ statement, sha256hex: (s) => createHash("sha256").update(s).digest("hex") });
contenders.js = (e) => js(e.user, e.actionType, e.category, e.details);
const names = Object.keys(contenders);
function sample(name) {
  const fn = contenders[name];
  const c0 = process.cpuUsage();
  let bytes = 0;
  for (const e of events) bytes += fn(e).length;
  const cpu = process.cpuUsage(c0);
  if (bytes < N * 100) throw new Error(name);
  return (cpu.user + cpu.system) / N;
}
for (const n of names) for (let w = 0; w < 2; w++) sample(n); // warm-up (JIT / tier-up)
const res = Object.fromEntries(names.map((n) => [n, []]));
// Rotated by one place per round, as bench/cpu_full_ab.mjs (reversal lets the first DIR and the JS
// equivalent follow themselves in half the rounds).
for (let k = 0; k < K; k++) { const ord = names.map((_, i) => names[(i + k) % names.length]); for (const n of ord) res[n].push(sample(n)); }
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
for (const n of names) {
  const ratios = res[n].map((v, i) => v / res.js[i]);
  const r0 = res[n].map((v, i) => v / res[names[0]][i]);
  const ci = ratioCI(res[n].map((a, i) => ({ a, b: res[names[0]][i] })));
  const cj = ratioCI(res[n].map((a, i) => ({ a, b: res.js[i] })));
  console.log(`${n.padEnd(24)} med ${med(res[n]).toFixed(2)} us  to-js ${med(ratios).toFixed(3)} (95 % CI ${cj.lo?.toFixed(3)}-${cj.hi?.toFixed(3)})  to-first ${med(r0).toFixed(3)} [${Math.min(...r0).toFixed(3)}, ${Math.max(...r0).toFixed(3)}] (95 % CI ${ci.lo?.toFixed(3)}-${ci.hi?.toFixed(3)})`);
}
