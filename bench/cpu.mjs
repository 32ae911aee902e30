// P3 CPU per event inside the core, no network, in Node: the library's wasm build
// (benchmarkRequestBodyOne: JS conversion, validation, redaction, UID, time, hash chain,
// statement, serialised body) against the hand-written JS equivalent (bench/js_equivalent.mjs).
// K rounds; in each both run N events, in alternating order.
//   node bench/cpu.mjs [N] [K]     prints one JSON line per round and implementation
import { createHash } from "node:crypto";
import { AuditLogger, benchmarkRequestBodyOne } from "../.cache/bench/pkg/neo4j_audit.js";
import { config, emit, event, loadWasm } from "./common.mjs";
import { makeBuilder } from "./js_equivalent.mjs";

const N = Number(process.argv[2] ?? 20000);
const K = Number(process.argv[3] ?? 5);
await loadWasm();
const logger = new AuditLogger(config());
const e0 = event(0);
const statement = JSON.parse(benchmarkRequestBodyOne(logger, e0.user, e0.actionType, e0.category, e0.details))
  .statements[0].statement;
const js = makeBuilder({ statement, sha256hex: (s) => createHash("sha256").update(s).digest("hex") });
const events = Array.from({ length: N }, (_, i) => event(i));
const impls = {
  "wasm-node": (e) => benchmarkRequestBodyOne(logger, e.user, e.actionType, e.category, e.details),
  "js-node": (e) => js(e.user, e.actionType, e.category, e.details),
};
for (const fn of Object.values(impls)) for (let i = 0; i < Math.min(2000, N); i++) fn(events[i]); // warm-up (JIT / tier-up)
for (let round = 1; round <= K; round++) {
  const names = Object.keys(impls);
  if (round % 2 === 0) names.reverse();
  names.forEach((contender, place) => {
    const fn = impls[contender];
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let bytes = 0;
    for (const e of events) bytes += fn(e).length;
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    emit({ round, place, contender, n: N, usPerEvent: (wall * 1000) / N, cpuUsPerEvent: (cpu.user + cpu.system) / N, avgBodyBytes: bytes / N });
  });
}
